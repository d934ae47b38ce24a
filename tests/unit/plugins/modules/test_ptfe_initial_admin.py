"""Unit tests of the helpers of ptfe_iact and ptfe_initial_admin."""
from __future__ import annotations

import os
import stat

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeClient
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker
from ansible_collections.ptfe.ops.plugins.modules import ptfe_iact, ptfe_initial_admin


def problems(**over):
    params = {"username": "admin", "email": "ops@example.com", "password": "0123456789", "iact": None,
              "token_file": None}
    params.update(over)
    check = Checker(params, secret=["password", "iact"])
    ptfe_initial_admin.validate(check)
    return check.problems


def test_validate_accepts_good_input(tmp_path):
    assert problems(token_file=str(tmp_path / "t")) == []
    assert problems(iact="preset-iact-with-its-newline\n") == []


def test_validate_names_every_bad_option(tmp_path):
    found = problems(username="-bad name", email="x", password="123456789", iact="two words",
                     token_file=str(tmp_path / "nope" / "t"))
    text = " ".join(found)
    for option in ("username must be", "email must be", "password must be at least 10", "iact must be one word",
                   "token_file: directory"):
        assert option in text
    assert "123456789" not in text and "two words" not in text


def test_validate_matches_whole_values(tmp_path):
    """A trailing newline is no part of a user name or an e-mail address."""
    found = problems(username="admin\n", email="ops@example.com\n", token_file="admin.token")
    assert found == ["username must not contain a newline or another control character",
                     "email must not contain a newline or another control character",
                     "token_file must be an absolute path, got 'admin.token'"]


def test_write_token_file_is_atomic_and_private(tmp_path):
    path = tmp_path / "admin.token"
    path.write_text("old\n")
    os.chmod(path, 0o644)
    ptfe_initial_admin.write_token_file(str(path), "new.atlasv1.token")
    assert path.read_text() == "new.atlasv1.token\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["admin.token"]
    assert ptfe_initial_admin.token_file_state(str(path), "new.atlasv1.token")
    os.chmod(path, 0o640)
    assert not ptfe_initial_admin.token_file_state(str(path), "new.atlasv1.token")


def test_iact_shape_check():
    assert ptfe_iact.looks_like_token("aB3_-x.y")
    assert not ptfe_iact.looks_like_token("")
    assert not ptfe_iact.looks_like_token("<html>401</html>")
    assert not ptfe_iact.looks_like_token("two words")


def test_refusal_message_names_settings_and_fix():
    client = PtfeClient("https://ptfe.example.com")
    text = ptfe_iact.refusal_message(client, 401, "10.0.4.7")
    assert text.startswith("Failed to retrieve the IACT: HTTP 401 from GET /admin/retrieve-iact")
    for words in ("iact_subnet_list", "add 10.0.4.7/32", "iact_subnet_time_limit", "unlimited",
                  "TFE_IACT_TRUSTED_PROXIES", "method=host"):
        assert words in text


def test_source_address_of_loopback():
    assert ptfe_iact.source_address("https://127.0.0.1:8443") == "127.0.0.1"
