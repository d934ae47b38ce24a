"""ptfe_initial_admin_info's logic, and the client calls it is built on (the health wait, the account probe, the
token file), against the PTFE emulator in this process."""
from __future__ import annotations

import os
import time

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeClient, PtfeError, token_from_file
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker
from ansible_collections.ptfe.ops.plugins.modules import ptfe_initial_admin_info
from tests.emulators.ptfe.fixtures import ADMIN_TOKEN, ModuleStub


def stub(emu, **params):
    """ptfe_initial_admin_info's module object with its defaults and ``params``."""
    values = {"token": None, "token_file": None, "health_timeout": 0, "health_interval": 1}
    values.update(params)
    return ModuleStub(emu, values)


def token_file(tmp_path, text):
    path = tmp_path / "admin.token"
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def test_a_site_admins_token_file(emu, tmp_path):
    path = token_file(tmp_path, ADMIN_TOKEN + "\n")
    result = ptfe_initial_admin_info.run(stub(emu, token_file=str(path), health_timeout=5))
    assert result == {
        "changed": False, "health_checks": 1, "token_source": "token_file", "token_valid": True, "site_admin": True,
        "token_file": str(path), "msg": "The token from token_file %s belongs to admin, a site admin." % path,
        "user": {"id": result["user"]["id"], "username": "admin", "email": "admin@example.com",
                 "is-site-admin": True}}
    asked = [(e["method"], e["path"]) for e in emu.log]
    assert asked == [("GET", "/_health_check"), ("GET", "/api/v2/account/details")]
    assert "Authorization" not in str(emu.log[0])


def test_the_token_file_is_the_only_source_when_set(emu, tmp_path):
    result = ptfe_initial_admin_info.run(stub(emu, token=ADMIN_TOKEN, token_file=str(tmp_path / "none")))
    assert result["token_source"] is None and result["token_valid"] is False
    assert result["msg"] == "No token is stored in token_file %s." % (tmp_path / "none")
    assert emu.log == []
    by_option = ptfe_initial_admin_info.run(stub(emu, token=ADMIN_TOKEN))
    assert by_option["token_source"] == "token" and by_option["site_admin"] is True
    assert ptfe_initial_admin_info.run(stub(emu))["msg"] == "No token was given (token, TFE_TOKEN)."


def test_a_refused_token_and_a_team_token(emu, tmp_path):
    path = token_file(tmp_path, "nobody000000001.atlasv1.refused\n")
    refused = ptfe_initial_admin_info.run(stub(emu, token_file=str(path)))
    assert (refused["token_valid"], refused["site_admin"]) == (False, False) and "user" not in refused
    team = emu.state.add_token("team", "team-abc").value
    service = ptfe_initial_admin_info.run(stub(emu, token=team))
    assert (service["token_valid"], service["site_admin"]) == (True, False)
    assert service["user"]["username"] == "api-team-team-abc"


def test_wait_until_healthy_counts_and_gives_up(emu):
    client = PtfeClient(emu.url, ca_path=emu.ca_path)
    emu.state.config.update(boot_seconds=0.8, boot_from_first_request=True)
    assert client.wait_until_healthy(10, interval=0.3) >= 2
    emu.state.config.update(boot_seconds=60, boot_from_first_request=False)
    emu.state.started_monotonic = time.monotonic()
    with pytest.raises(PtfeError) as err:
        client.wait_until_healthy(1, interval=0.3)
    assert str(err.value).startswith("Failed to wait for %s to become healthy: GET /_health_check did not answer "
                                     "HTTP 200 within 1 seconds" % emu.url)
    assert "last answer: HTTP 503" in str(err.value)


def test_wait_until_healthy_when_nothing_answers():
    client = PtfeClient("https://127.0.0.1:9", max_retries=0, timeout=1)
    with pytest.raises(PtfeError) as err:
        client.wait_until_healthy(0, interval=1)
    assert "(1 checks; last answer: could not reach https://127.0.0.1:9" in str(err.value)


def test_token_from_file(tmp_path):
    assert token_from_file(None) is None and token_from_file(str(tmp_path / "none")) is None
    assert token_from_file(str(token_file(tmp_path, "  \n"))) is None
    assert token_from_file(str(token_file(tmp_path, "abc.atlasv1.def\n"))) == "abc.atlasv1.def"
    with pytest.raises(PtfeError, match="it holds more than one word"):
        token_from_file(str(token_file(tmp_path, "abc def\n")))
    with pytest.raises(PtfeError, match="not a regular file"):
        token_from_file(str(tmp_path))
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(PtfeError, match="not a regular file"):
        token_from_file(str(tmp_path / "dangling"))


def test_validate():
    check = Checker({"health_timeout": -1, "health_interval": 0, "token_file": "admin.token"})
    ptfe_initial_admin_info.validate(check)
    assert check.problems == ["health_timeout must be at least 0, got -1", "health_interval must be at least 1, got 0",
                              "token_file must be an absolute path, got 'admin.token'"]
