"""Plain http to the installation is refused before anything is sent, unless the operator opts in.

The emulator here serves http:// on purpose (PlainHttpEmulator): the modules and the initial_admin role must not
send the IACT, the password or a token to it without allow_insecure_http / initial_admin_allow_insecure_http.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.initial_admin.conftest import ADMIN_PASSWORD, role_vars

HERE = Path(__file__).resolve().parent
IACT = HERE / "playbooks" / "iact_module.yml"
ADMIN = HERE / "playbooks" / "initial_admin_module.yml"
ROLE = HERE / "playbooks" / "role.yml"
WARNING = "allow_insecure_http=true: the API token and every other secret travel in clear text to %s"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def refusal(url):
    """The module base refuses the address by name when the module starts, before any request."""
    return ("address must be a URL such as https://host[:port] (allowed schemes: https); plain http sends every "
            "secret in clear text and needs its allow_insecure_http option, got '%s'" % url)


def test_modules_refuse_http_before_any_request(plain_http_ptfe, secrets_dir):
    emu = plain_http_ptfe()
    runs = {
        "iact": run_playbook(IACT, {"address": emu.url}),
        "iact-opt-in-false": run_playbook(IACT, {"address": emu.url, "allow_insecure_http": False}),
        "iact-from-TFE_ADDRESS": run_playbook(IACT, {}, env={"TFE_ADDRESS": emu.url}),
        "initial-admin": run_playbook(ADMIN, {"address": emu.url, "ca_path": "", "iact": "IACTCANARY0123456789",
                                              "password": ADMIN_PASSWORD,
                                              "token_file": str(secrets_dir / "admin.token")}),
    }
    for name, result in runs.items():
        assert result.rc != 0, name
        assert refusal(emu.url) in result.stdout, (name, result.output)
        assert_no_secret(result, ADMIN_PASSWORD, "IACTCANARY0123456789")
    assert emu.requests == []
    assert emu.state()["users"] == [] and emu.state()["iact_used"] is False
    assert not (secrets_dir / "admin.token").exists()


def test_iact_module_over_http_with_the_opt_in(plain_http_ptfe):
    emu = plain_http_ptfe()
    iact = emu.server.state.iact
    result = run_playbook(IACT, {"address": emu.url, "allow_insecure_http": True})
    assert result.rc == 0, result.output
    assert "RESULT iact_sha256=%s attempts=1" % sha256(iact) in result.stdout
    assert WARNING % emu.url in result.output
    assert_no_secret(result, iact)
    assert ("GET", "/admin/retrieve-iact") in emu.requests


def test_role_refuses_http_before_any_request(plain_http_ptfe, secrets_dir):
    emu = plain_http_ptfe()
    token_file = secrets_dir / "admin.token"
    for extra in ({}, {"initial_admin_allow_insecure_http": False}):
        result = run_playbook(ROLE, role_vars(emu, token_file, **extra))
        assert result.rc != 0
        fatal = [line for line in result.stdout.splitlines() if line.startswith("fatal:")]
        assert len(fatal) == 1, result.stdout
        # The first module of the role refuses, naming its option, which initial_admin_allow_insecure_http sets.
        assert "Invalid parameters for ptfe.ops.ptfe_health: " + refusal(emu.url) in fatal[0], fatal[0]
        assert result.host("localhost")["changed"] == 0
        assert_no_secret(result, ADMIN_PASSWORD)
    # Neither the health probe nor anything after it went out.
    assert emu.requests == []
    assert emu.state()["users"] == []
    assert not token_file.exists()


def test_role_over_http_with_the_opt_in_then_unchanged(plain_http_ptfe, secrets_dir):
    emu = plain_http_ptfe()
    token_file = secrets_dir / "admin.token"
    extra = role_vars(emu, token_file, initial_admin_allow_insecure_http=True)
    first = run_playbook(ROLE, extra)
    assert first.rc == 0, first.output
    assert first.changed >= 1
    assert [(u["username"], u["site_admin"]) for u in emu.state()["users"]] == [("admin", True)]
    assert WARNING % emu.url in first.output
    token = token_file.read_text().strip()
    assert_no_secret(first, ADMIN_PASSWORD, token)

    # The stored token is probed over http too (ptfe_initial_admin_info), and proves the admin exists.
    emu.server.log.clear()
    second = run_playbook(ROLE, extra)
    assert second.rc == 0, second.output
    assert second.changed == 0, second.output
    assert "already has its admin" in second.stdout
    assert ("GET", "/api/v2/account/details") in emu.requests
    assert [r for r in emu.requests if r[0] != "GET"] == []
    assert_no_secret(second, ADMIN_PASSWORD, token)
