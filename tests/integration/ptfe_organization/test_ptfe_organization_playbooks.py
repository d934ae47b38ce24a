"""ptfe.ops.ptfe_organization end to end: ansible-playbook against the PTFE emulator, read back past the module."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.ptfe_emulator_fixture import fatal, printed_result, read_back, writes
from tests.integration.ptfe_organization.conftest import ADMIN_TOKEN, USER_TOKEN

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "organization.yml"


def organization(installation, name):
    """The organization as the emulator serves it to the site admin (None: 404)."""
    resp = read_back(installation.emulator, "GET", "/api/v2/organizations/" + name, ADMIN_TOKEN)
    assert resp.status_code in (200, 404), resp.text
    return resp.json()["data"] if resp.status_code == 200 else None


def test_check_mode_then_create_then_nothing_to_do(installation):
    emu = installation.emulator
    extra = installation.vars(name="acme", email="ops@example.com")

    checked = run_playbook(PLAYBOOK, extra, check=True)
    assert checked.rc == 0, checked.output
    assert checked.changed == 1
    predicted = printed_result(checked)
    assert predicted["action"] == "created" and predicted["msg"] == "Would create organization acme (check mode)."
    assert predicted["organization"] == {"name": "acme", "email": "ops@example.com", "external_id": None,
                                         "created_at": None}
    assert writes(emu) == [] and organization(installation, "acme") is None

    created = run_playbook(PLAYBOOK, extra)
    assert created.rc == 0 and created.changed == 1, created.output
    done = printed_result(created)
    assert done["action"] == "created" and done["msg"] == "Created organization acme."
    served = organization(installation, "acme")
    assert served["attributes"]["email"] == "ops@example.com"
    assert done["organization"]["external_id"] == served["attributes"]["external-id"]
    assert done["organization"]["external_id"].startswith("org-")
    assert writes(emu) == [("POST", "/api/v2/organizations")]

    emu.requests_log(clear=True)
    for check in (False, True):
        again = run_playbook(PLAYBOOK, extra, check=check)
        assert again.rc == 0 and again.changed == 0, again.output
        assert printed_result(again)["action"] == "unchanged"
    assert writes(emu) == []
    assert [o["name"] for o in emu.state()["organizations"]] == ["acme"]


def test_diff_shows_the_organization_before_and_after(installation):
    extra = installation.vars(name="acme", email="ops@example.com")
    created = run_playbook(PLAYBOOK, extra, diff=True)
    assert created.rc == 0, created.output
    assert '+    "email": "ops@example.com",\n+    "name": "acme"\n' in created.stdout, created.stdout
    moved = run_playbook(PLAYBOOK, installation.vars(name="acme", email="billing@example.com"), diff=True,
                         check=True)
    assert moved.rc == 0 and moved.changed == 1, moved.output
    assert '-    "email": "ops@example.com",\n+    "email": "billing@example.com",\n' in moved.stdout, moved.stdout
    removed = run_playbook(PLAYBOOK, installation.vars(name="acme", state="absent"), diff=True, check=True)
    assert removed.rc == 0 and removed.changed == 1, removed.output
    assert '-    "email": "ops@example.com",\n-    "name": "acme"\n' in removed.stdout, removed.stdout
    assert organization(installation, "acme")["attributes"]["email"] == "ops@example.com"


def test_email_update_then_removal(installation):
    emu = installation.emulator
    assert run_playbook(PLAYBOOK, installation.vars(name="acme", email="ops@example.com")).rc == 0
    emu.requests_log(clear=True)

    moved = run_playbook(PLAYBOOK, installation.vars(name="acme", email="billing@example.com"))
    assert moved.rc == 0 and moved.changed == 1, moved.output
    assert printed_result(moved)["action"] == "updated"
    assert printed_result(moved)["organization"]["email"] == "billing@example.com"
    assert writes(emu) == [("PATCH", "/api/v2/organizations/acme")]
    assert organization(installation, "acme")["attributes"]["email"] == "billing@example.com"

    emu.requests_log(clear=True)
    checked = run_playbook(PLAYBOOK, installation.vars(name="acme", state="absent"), check=True)
    assert checked.rc == 0 and checked.changed == 1, checked.output
    assert printed_result(checked)["msg"] == "Would remove organization acme (check mode)."
    assert writes(emu) == [] and organization(installation, "acme") is not None

    removed = run_playbook(PLAYBOOK, installation.vars(name="acme", state="absent"))
    assert removed.rc == 0 and removed.changed == 1, removed.output
    assert printed_result(removed)["action"] == "removed" and printed_result(removed)["organization"] == {}
    assert writes(emu) == [("DELETE", "/api/v2/organizations/acme")]
    assert organization(installation, "acme") is None and emu.state()["organizations"] == []

    again = run_playbook(PLAYBOOK, installation.vars(name="acme", state="absent"))
    assert again.rc == 0 and again.changed == 0, again.output
    assert printed_result(again)["msg"] == "Organization acme does not exist, or this token may not see it."


@pytest.mark.parametrize("values, message", [
    ({"name": "not a name", "email": "ops@example.com"},
     "name must be 1 to 100 letters, digits, '-' or '_', got 'not a name'"),
    ({"name": "x" * 101, "email": "ops@example.com"}, "name must be 1 to 100 letters"),
    ({"name": "acme", "email": "nope"}, "email must be an e-mail address (name@domain), got 'nope'"),
    ({"name": "acme"}, "state is present but all of the following are missing: email"),
    ({"name": "acme", "email": "ops@example.com", "token_file": "secrets/admin.token"},
     "token_file must be an absolute path, got 'secrets/admin.token'"),
    ({"name": "acme", "email": "ops@example.com", "token_file": "/nonexistent/admin.token"},
     "token_file must be a file that holds the API token, got '/nonexistent/admin.token' (no such file)"),
    ({"name": "acme", "email": "ops@example.com", "token_file": None},
     "token_file or token (or TFE_TOKEN) must give the API token"),
    ({"name": "acme", "email": "ops@example.com", "state": "gone"},
     "value of state must be one of: present, absent, got: gone"),
    ({"name": "acme", "email": "ops@example.com", "timeout": 0}, "timeout must be between 1 and 3600, got 0"),
], ids=["name", "long-name", "email", "no-email", "relative-token-file", "missing-token-file", "no-token",
        "state", "timeout"])
def test_bad_input_fails_before_any_request_naming_the_option(installation, values, message):
    extra = installation.vars(**values)
    extra = {key: value for key, value in extra.items() if value is not None}
    run = run_playbook(PLAYBOOK, extra)
    assert run.rc != 0
    assert message in fatal(run)
    assert installation.emulator.requests_log() == []


def test_http_address_is_refused_before_any_request(installation):
    address = installation.emulator.url.replace("https://", "http://")
    run = run_playbook(PLAYBOOK, installation.vars(name="acme", email="ops@example.com", address=address))
    assert run.rc != 0
    assert ("Invalid parameters for ptfe.ops.ptfe_organization: address must be a URL such as https://host[:port] "
            "(allowed schemes: https); plain http sends every secret in clear text") in fatal(run)
    assert installation.emulator.requests_log() == []


def test_an_empty_token_file_fails_before_any_request(installation):
    installation.admin_token_file.write_text("\n")
    run = run_playbook(PLAYBOOK, installation.vars(name="acme", email="ops@example.com"))
    assert run.rc != 0
    assert "Failed to manage organization acme: token_file %s holds no token" % installation.admin_token_file \
        in fatal(run)
    assert installation.emulator.requests_log() == []


def test_a_token_the_installation_refuses(installation):
    installation.admin_token_file.write_text("revoked00000001.atlasv1.not-a-token-any-more\n")
    run = run_playbook(PLAYBOOK, installation.vars(name="acme", email="ops@example.com"))
    assert run.rc != 0
    assert ("Failed to read organization acme: HTTP 401 from GET /api/v2/organizations/acme: unauthorized (the "
            "token is missing, invalid or expired)") in fatal(run)
    assert writes(installation.emulator) == []


def test_a_plain_user_may_not_create_organizations(installation):
    run = run_playbook(PLAYBOOK, installation.vars(name="acme", email="ops@example.com",
                                                   token_file=str(installation.user_token_file)))
    assert run.rc != 0
    assert ("Failed to create organization acme: HTTP 404 from POST /api/v2/organizations: not found, or this "
            "token may not see it") in fatal(run)
    assert installation.emulator.state()["organizations"] == []


def test_a_name_taken_by_an_organization_the_token_may_not_see(installation):
    emu = installation.emulator
    emu.configure(limit_user_organization_creation=False)
    assert run_playbook(PLAYBOOK, installation.vars(name="taken", email="ops@example.com")).rc == 0
    run = run_playbook(PLAYBOOK, installation.vars(name="taken", email="me@example.com",
                                                   token_file=str(installation.user_token_file)))
    assert run.rc != 0
    assert "Failed to create organization taken: HTTP 422 from POST /api/v2/organizations" in fatal(run)
    assert "The name is taken, but this token may not see that organization" in fatal(run)
    assert organization(installation, "taken")["attributes"]["email"] == "ops@example.com"
    # A plain user may create an organization of their own here, and owns it afterwards.
    mine = run_playbook(PLAYBOOK, installation.vars(name="mine", email="me@example.com",
                                                    token_file=str(installation.user_token_file)))
    assert mine.rc == 0 and mine.changed == 1, mine.output


@pytest.mark.parametrize("how", ["token_file", "token", "TFE_TOKEN"])
def test_no_token_in_the_output_at_vvvv(installation, how, tmp_path):
    extra = installation.vars(name="acme", email="ops@example.com")
    env = None
    if how != "token_file":
        del extra["token_file"]
    if how == "token":
        vars_file = tmp_path / "vault.yml"
        vars_file.write_text('token: "%s"\n' % ADMIN_TOKEN)
        extra["secret_vars_file"] = str(vars_file)
    elif how == "TFE_TOKEN":
        env = {"TFE_TOKEN": ADMIN_TOKEN}
    runs = [run_playbook(PLAYBOOK, extra, verbosity=4, env=env, diff=True),
            run_playbook(PLAYBOOK, dict(extra, email="billing@example.com"), verbosity=4, env=env, diff=True)]
    for run in runs:
        assert run.rc == 0 and run.changed == 1, run.output[-3000:]
        assert_no_secret(run, ADMIN_TOKEN, USER_TOKEN)
    assert organization(installation, "acme")["attributes"]["email"] == "billing@example.com"
