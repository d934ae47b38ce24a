"""The module base (plugins/module_utils/_module.py, _ptfe_module.py, _vault_module.py), the redactor (_redact.py)
and the private-file helpers (_files.py)."""
from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ptfe.ops.plugins.module_utils import _custody as custody_mod
from ansible_collections.ptfe.ops.plugins.module_utils import _module
from ansible_collections.ptfe.ops.plugins.module_utils._custody import CustodyError, FileCustody, S3Custody
from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._files import (
    DocumentError,
    atomic_write,
    atomic_write_json,
    read_json,
    read_text,
)
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeClient, PtfeError
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule
from ansible_collections.ptfe.ops.plugins.module_utils._redact import REDACTED, Redactor, redact
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultClient
from ansible_collections.ptfe.ops.plugins.module_utils._vault_module import VaultModule

PTFE = {"address": "https://ptfe.example", "token": "canary-token-do-not-print"}
VAULT = {"url": "https://vault.example:8200", "token": "s.canary-vault-token", "keys_file": "/tmp/k.json"}
VAULT_CONNECTION = {"url": "https://vault.example:8200", "token": "s.canary-vault-token"}


def run(module_class, args, body, capsys, **kwargs):
    """Build the module with ``args``, run ``body(module)`` (which ends with exit or fail), return the result."""
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            body(module_class(**kwargs))
    return json.loads(capsys.readouterr().out)


# -- the redactor ----------------------------------------------------------------------------------------------


def test_redactor_removes_known_secrets_longest_first_and_secret_query_values():
    redactor = Redactor(["abcd", "abcdefgh"])
    redactor.add(None, "", True, "xy")
    text = redactor("token abcdefgh, then abcd, xy stays; GET /x?token=QUERYSECRET&page=2 password=hunter22")
    assert "abcd" not in text and "QUERYSECRET" not in text and "hunter22" not in text
    assert text.startswith("token %s, then %s, xy stays" % (REDACTED, REDACTED))
    assert "page=2" in text
    assert redact("s3 said X-Amz-Signature=abc123", ()) == "s3 said X-Amz-Signature=%s" % REDACTED
    assert redactor(None) is None
    # A message that already shows a redacted value keeps its punctuation.
    assert redact("POST /admin/initial-admin-user?token=%s: Failed" % REDACTED) == \
        "POST /admin/initial-admin-user?token=%s: Failed" % REDACTED


def test_clients_share_the_module_redactor():
    redactor = Redactor()
    client = PtfeClient("https://ptfe.example", token="first-token-1234", redactor=redactor)
    client.token = "second-token-5678"
    vault = VaultClient("https://vault.example:8200", token="s.vault-token-9", redactor=redactor)
    vault.add_secret("key-share-abcdef")
    text = redactor("first-token-1234 second-token-5678 s.vault-token-9 key-share-abcdef")
    assert text == " ".join([REDACTED] * 4)


def test_s3_custody_errors_are_redacted(monkeypatch):
    class Failing:
        def get_bucket_versioning(self, **kwargs):
            raise RuntimeError("denied for session-token-SECRET99")

        def delete_object(self, **kwargs):
            raise RuntimeError("denied for session-token-SECRET99")

    custody = S3Custody("bucket", "keys.json", client=Failing(), redactor=Redactor(["session-token-SECRET99"]))
    monkeypatch.setattr(custody_mod, "BotoCoreError", RuntimeError)  # what the fake raises stands for botocore's
    assert "SECRET99" not in custody.check()[0]
    with pytest.raises(CustodyError) as err:
        custody.delete("keys")
    assert "SECRET99" not in str(err.value) and REDACTED in str(err.value)


# -- private files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, expected", [(b"bytes\n", "bytes\n"), ("text ä\n", "text ä\n")])
def test_atomic_write_bytes_and_text_private(tmp_path, data, expected):
    target = tmp_path / "secret"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write(str(target), data)
    assert target.read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_atomic_write_json_and_read_back(tmp_path):
    target = tmp_path / "doc.json"
    atomic_write_json(str(target), {"b": 1, "a": [1, 2]})
    assert target.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    assert read_json(str(target)) == {"a": [1, 2], "b": 1}
    assert read_json(str(tmp_path / "missing.json")) is None
    with pytest.raises(DocumentError, match="not a regular file"):
        read_json(str(tmp_path))


def test_read_text(tmp_path):
    target = tmp_path / "token"
    assert read_text(str(target)) is None
    target.write_text("  \n")
    assert read_text(str(target)) is None
    target.write_text(" tok.atlasv1.en \n")
    assert read_text(str(target)) == "tok.atlasv1.en"


def test_file_custody_reports_a_broken_document_as_a_custody_error(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text("[1]")
    with pytest.raises(CustodyError, match="not a JSON object"):
        FileCustody(str(keys)).read("keys")


# -- the module base -------------------------------------------------------------------------------------------


def test_connection_options_merge_and_module_options_win():
    assert {"address", "token", "validate_certs", "timeout", "max_retries"} <= set(PtfeModule.connection_argument_spec())
    assert {"url", "token", "ca_cert", "validate_certs", "timeout"} <= set(VaultModule.connection_argument_spec())


def test_typed_error_fails_once_with_a_redacted_message(capsys):
    def body(module):
        with module.errors("do the thing", result={"changed": False, "attempts": 2, "msg": "dropped"}):
            raise PtfeError("HTTP 500 from GET /x?token=QSECRET: the token %s was refused" % PTFE["token"],
                            action="read thing")

    out = run(PtfeModule, PTFE, body, capsys)
    assert out["failed"] is True and out["attempts"] == 2 and out["changed"] is False
    assert out["msg"].startswith("Failed to read thing: HTTP 500 from GET /x?token=%s" % REDACTED)
    assert PTFE["token"] not in json.dumps(out) and "QSECRET" not in json.dumps(out)


def test_os_error_names_what_was_being_written(capsys):
    def body(module):
        with module.errors("rekey Vault", writing="write rekey files"):
            raise PermissionError(13, "Permission denied", "/srv/keys.json")

    out = run(VaultModule, VAULT, body, capsys, custody=True)
    assert out["msg"] == "Failed to write rekey files: [Errno 13] Permission denied: '/srv/keys.json'"


def test_unexpected_error_names_the_action(capsys):
    def body(module):
        with module.errors("collect the custody evidence"):
            raise KeyError("n")

    out = run(VaultModule, VAULT, body, capsys, custody=True)
    assert out["msg"] == "Failed to collect the custody evidence: unexpected KeyError: 'n'"


def test_an_os_error_is_unexpected_when_the_module_writes_nothing(capsys):
    def body(module):
        with module.errors("collect the custody evidence"):
            raise FileNotFoundError(2, "No such file or directory", "/nope")

    out = run(VaultModule, VAULT, body, capsys, custody=True)
    assert out["msg"].startswith("Failed to collect the custody evidence: unexpected FileNotFoundError:")


def test_exit_and_success_pass_through_the_boundary(capsys):
    def body(module):
        with module.errors("do the thing"):
            value = 1
        module.exit_json(changed=False, value=value)

    out = run(PtfeModule, PTFE, body, capsys)
    assert out == {"changed": False, "value": 1, "invocation": out["invocation"]}


def test_invalid_input_fails_before_any_client(capsys):
    def body(module):
        module.fail_on_invalid(["a must be set", "b must not be negative"], "ptfe_thing")
        raise AssertionError("not reached")

    out = run(PtfeModule, PTFE, body, capsys)
    assert out["msg"] == "Invalid parameters for ptfe_thing: a must be set; b must not be negative"


def test_missing_library_is_reported_with_missing_required_lib(capsys, monkeypatch):
    monkeypatch.setattr(_module, "optional_import", lambda name: (None, ImportError("No module named %r" % name)))

    def body(module):
        with module.errors("do the thing"):
            module.client()

    out = run(PtfeModule, PTFE, body, capsys)
    assert "Failed to import the required Python library (requests)" in out["msg"]


def test_client_is_built_once_and_shares_the_redactor(capsys):
    seen = {}

    def body(module):
        with module.errors("do the thing"):
            client = module.client()
            seen["same"] = client is module.client()
            client.token = "a-new-admin-token-777"
            module.warn("the new token is a-new-admin-token-777")
            raise OpsError("Failed to do the thing with a-new-admin-token-777")

    out = run(PtfeModule, PTFE, body, capsys)
    assert seen["same"]
    assert "a-new-admin-token-777" not in json.dumps(out)
    assert "the new token is %s" % REDACTED in json.dumps(out["warnings"])


def test_vault_module_builds_its_client_and_custody(capsys):
    seen = {}

    def body(module):
        with module.errors("do the thing"):
            seen["client"] = module.client()
            seen["custody"] = module.custody()
        module.exit_json(changed=False)

    run(VaultModule, VAULT, body, capsys, custody=True)
    assert isinstance(seen["client"], VaultClient) and seen["client"].redactor is not None
    assert isinstance(seen["custody"], FileCustody) and seen["custody"].keys_file == "/tmp/k.json"


# -- the connection options, checked when the module starts ------------------------------------------------------


@pytest.mark.parametrize("module_class,base,option,value,expected", [
    (PtfeModule, PTFE, "token", "canary-token-do-not-print\n", "token must not contain a newline"),
    (PtfeModule, PTFE, "token", "canary token-do-not-print", "token must not contain white space"),
    (PtfeModule, PTFE, "timeout", 0, "timeout must be between 1 and 3600, got 0"),
    (PtfeModule, PTFE, "timeout", -1, "timeout must be between 1 and 3600, got -1"),
    (PtfeModule, PTFE, "max_retries", 99, "max_retries must be between 0 and 20, got 99"),
    (PtfeModule, PTFE, "address", "https://ptfe.example/app", "address must be the address of the server only"),
    (PtfeModule, PTFE, "address", "javascript:alert(1)", "address must be a URL such as https://host[:port]"),
    (PtfeModule, PTFE, "address", "file:///etc/passwd", "address must be a URL such as https://host[:port]"),
    (PtfeModule, PTFE, "address", "https://admin:canary-pass@ptfe.example", "address must not hold a user name"),
    (PtfeModule, PTFE, "address", "http://ptfe.example", "needs its allow_insecure_http option"),
    (VaultModule, VAULT_CONNECTION, "token", "s.canary-vault-token\n", "token must not contain a newline"),
    (VaultModule, VAULT_CONNECTION, "url", "https://vault.example:8200/v1/sys", "url must be the address of the server only"),
    (VaultModule, VAULT_CONNECTION, "namespace", "team a", "namespace must be a namespace path"),
    (VaultModule, VAULT_CONNECTION, "timeout", 0, "timeout must be between 1 and 3600, got 0"),
])
def test_bad_connection_options_fail_by_name_before_any_request(
        module_class, base, option, value, expected, capsys, monkeypatch):
    def no_request(*args, **kwargs):
        raise AssertionError("a request was made")
    monkeypatch.setattr("requests.Session.request", no_request)
    result = run(module_class, dict(base, **{option: value}), lambda module: module.exit_json(changed=False), capsys)
    assert result["failed"] and expected in result["msg"], result["msg"]
    assert "canary" not in json.dumps(result)


@pytest.mark.parametrize("module_class,base,option", [
    (PtfeModule, PTFE, "address"),
    (VaultModule, VAULT_CONNECTION, "url"),
])
@pytest.mark.parametrize("value", [
    "https://ptfe.example/?token=canary-query-secret-99",
    "https://ptfe.example/app?X-Amz-Signature=canary-query-secret-99",
    "https://admin:canary-query-secret-99@ptfe.example",
    "https://canary-query-secret-99@ptfe.example",
])
def test_a_secret_in_a_url_option_is_masked_in_the_refusal_and_its_echo(module_class, base, option, value, capsys):
    """The refusal names the option, and neither its message nor the arguments Ansible echoes back carry the
    secret: PTFE modules mask it exactly as Vault modules do."""
    result = run(module_class, dict(base, **{option: value}), lambda module: module.exit_json(changed=False), capsys)
    assert result["failed"] and option in result["msg"], result["msg"]
    assert "canary-query-secret-99" not in json.dumps(result)


@pytest.mark.parametrize("module_class,base", [(PtfeModule, PTFE), (VaultModule, VAULT_CONNECTION)])
def test_every_module_redacts_what_it_exits_and_fails_with(module_class, base, capsys):
    token = base["token"]
    out = run(module_class, base, lambda module: module.exit_json(changed=True, msg="stored %s" % token), capsys)
    assert out["msg"] == "stored %s" % REDACTED
    out = run(module_class, base, lambda module: module.fail_json(msg="refused %s" % token, exception="at %s" % token),
              capsys)
    assert token not in json.dumps(out) and out["msg"] == "refused %s" % REDACTED


def test_good_connection_options_pass():
    with patch_module_args(dict(PTFE, timeout="30", address="https://ptfe.example:8443/")):
        module = PtfeModule()
    assert module.params["timeout"] == 30


@pytest.mark.parametrize("state_file,expected", [
    ("/srv/keys.json", "keys_file and state_file must name different files"),
    ("/srv/./keys.json", "keys_file and state_file must name different files"),
    ("/srv/keys.json.pending", "state_file (/srv/keys.json.pending) must not be one of the files kept beside"),
    ("/srv/keys.json.lock", "must not be one of the files kept beside keys_file"),
    ("/srv/keys.json.pre-6a1cd39c-1b7a-4e1e-9c5e-0f4b7c3f2a11", "must not be one of the files kept beside"),
    ("/srv/keys.json.6a1cd39c-1b7a-4e1e-9c5e-0f4b7c3f2a11", "must not be one of the files kept beside"),
    ("/srv/keys.json.state", None),
    ("/srv/rekey-state.json", None),
])
def test_the_state_file_never_shares_a_name_with_the_keys(tmp_path, state_file, expected):
    problems = FileCustody("/srv/keys.json", state_file)._collisions()
    assert (problems[0] if problems else None) is None if expected is None else expected in problems[0]
