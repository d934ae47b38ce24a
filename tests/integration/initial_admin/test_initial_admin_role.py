"""Acceptance tests of the first-admin bootstrap: real ansible-playbook runs against the PTFE emulator."""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest
import requests
import yaml

from tests.integration.conftest import ROOT, assert_no_secret, run_playbook
from tests.integration.initial_admin.conftest import ADMIN_PASSWORD, role_vars
from tests.integration.ptfe_emulator_fixture import read_back, writes

HERE = Path(__file__).resolve().parent
ROLE = HERE / "playbooks" / "role.yml"
ROLE_DIR = ROOT / "roles" / "initial_admin"


def posts(emulator, path):
    return [e for e in emulator.requests_log() if e["method"] == "POST" and e["path"].startswith(path)]


def gets(emulator, path):
    return [e for e in emulator.requests_log() if e["method"] == "GET" and e["path"].startswith(path)]


def assert_one_failure(result, message):
    """The run failed in exactly one task, whose message starts with ``message``."""
    fatal = [line for line in result.stdout.splitlines() if line.startswith("fatal:")]
    assert len(fatal) == 1, result.stdout
    assert message in fatal[0], fatal[0]
    assert result.failed == 1


def account(emulator, token):
    return requests.get(emulator.url + "/api/v2/account/details", verify=emulator.ca_path, timeout=10,
                        headers={"Authorization": "Bearer " + token})


def role_tasks():
    """Every task of the role, blocks opened."""
    def walk(tasks):
        for task in tasks:
            yield task
            yield from walk(task.get("block") or [])
    return list(walk(yaml.safe_load((ROLE_DIR / "tasks" / "main.yml").read_text())))


def test_the_role_calls_modules_only():
    """The API is reached through the collection's modules alone; the rest only stops the run or reports."""
    actions = []
    for task in role_tasks():
        if "block" in task:
            continue
        action = [key for key in task if "." in key]
        assert len(action) == 1, task
        actions.append(action[0])
    assert sorted(set(actions)) == ["ansible.builtin.debug", "ansible.builtin.fail", "ansible.builtin.set_fact",
                                    "ptfe.ops.ptfe_health", "ptfe.ops.ptfe_iact", "ptfe.ops.ptfe_initial_admin",
                                    "ptfe.ops.ptfe_initial_admin_info", "ptfe.ops.ptfe_organization",
                                    "ptfe.ops.ptfe_platform_info"]
    assert all(" is match(" not in str(task) and "| length >= " not in str(task) for task in role_tasks())


def test_the_required_variables_have_no_default():
    spec = yaml.safe_load((ROLE_DIR / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    required = sorted(name for name, option in spec["options"].items() if option.get("required"))
    assert required == ["initial_admin_address", "initial_admin_email", "initial_admin_password",
                        "initial_admin_token_file"]
    defaults = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text())
    assert not set(required) & set(defaults)


@pytest.mark.parametrize("name", ["initial_admin_address", "initial_admin_email", "initial_admin_password",
                                  "initial_admin_token_file"])
def test_a_missing_required_variable_fails_at_the_argument_spec(ptfe, secrets_dir, name):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    extra = role_vars(emu, token_file, initial_admin_organization="acme")
    del extra[name]
    result = run_playbook(ROLE, extra)
    assert result.rc != 0
    assert_one_failure(result, "missing required arguments: %s" % name)
    assert "Validating arguments against arg spec" in result.stdout
    assert result.changed == 0
    assert emu.requests_log() == []
    assert emu.state()["users"] == [] and emu.state()["organizations"] == []
    assert list(secrets_dir.iterdir()) == []


def test_first_run_creates_admin_second_run_is_unchanged(ptfe, secrets_dir):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    extra = role_vars(emu, token_file, initial_admin_organization="acme")

    first = run_playbook(ROLE, extra)
    assert first.rc == 0, first.output
    assert first.changed >= 1
    state = emu.state()
    assert [(u["username"], u["site_admin"]) for u in state["users"]] == [("admin", True)]
    assert [o["name"] for o in state["organizations"]] == ["acme"]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    resp = account(emu, token)
    assert resp.status_code == 200
    assert resp.json()["data"]["attributes"]["username"] == "admin"
    assert resp.json()["data"]["attributes"]["is-site-admin"] is True
    assert len(posts(emu, "/admin/initial-admin-user")) == 1

    emu.control("DELETE", "requests")
    second = run_playbook(ROLE, extra)
    assert second.rc == 0, second.output
    assert second.changed == 0, second.output
    assert "already has its admin" in second.stdout
    assert posts(emu, "/admin/") == [] and posts(emu, "/api/") == []
    assert gets(emu, "/admin/retrieve-iact") == []
    assert len(emu.state()["users"]) == 1

    checked = run_playbook(ROLE, extra, check=True)
    assert checked.rc == 0 and checked.changed == 0, checked.output


def test_check_mode_on_fresh_installation_creates_nothing(ptfe, secrets_dir):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_organization="acme"), check=True)
    assert result.rc == 0, result.output
    assert result.changed >= 1
    state = emu.state()
    assert state["users"] == [] and state["organizations"] == [] and state["iact_used"] is False
    assert [e for e in emu.requests_log() if e["method"] != "GET"] == []
    assert not token_file.exists()
    assert list(secrets_dir.iterdir()) == []


def _assert_refused_before_anything(emu, result, token_file):
    assert result.rc != 0
    assert emu.state()["users"] == []
    assert posts(emu, "/admin/initial-admin-user") == []
    assert not token_file.exists()


def test_client_outside_subnet_fails_naming_the_setting(ptfe, secrets_dir):
    emu = ptfe(iact_subnet_list="10.0.0.0/8")
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file))
    _assert_refused_before_anything(emu, result, token_file)
    assert "Failed to retrieve the IACT: HTTP 401 from GET /admin/retrieve-iact" in result.stdout
    assert "iact_subnet_list" in result.stdout and "127.0.0.1/32" in result.stdout
    assert any("not in iact_subnet_list" in (e.get("note") or "") for e in emu.requests_log())


def test_time_limit_passed_fails_naming_the_setting(ptfe, secrets_dir):
    emu = ptfe(iact_subnet_time_limit="60", install_started_seconds_ago=2 * 3600)
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file))
    _assert_refused_before_anything(emu, result, token_file)
    assert "iact_subnet_time_limit" in result.stdout and "unlimited" in result.stdout
    assert any("iact_subnet_time_limit" in (e.get("note") or "") for e in emu.requests_log())


def test_waits_for_the_health_check_while_booting(ptfe, secrets_dir):
    emu = ptfe(boot_seconds=4, boot_from_first_request=True)
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file))
    assert result.rc == 0, result.output
    booting = [e for e in emu.requests_log() if e.get("note") == "booting"]
    # ptfe_health asks the readiness endpoint, which answers 503 while the installation boots.
    assert len(booting) >= 2 and all(e["path"] == "/api/v1/health/readiness" for e in booting)
    assert len(emu.state()["users"]) == 1


def test_survives_429_storm_and_transient_503(ptfe, secrets_dir):
    emu = ptfe(faults=[
        {"path": "^/admin/retrieve-iact$", "status": 503, "count": 2},
        {"path": "^/api/v1/health/readiness$", "status": 429, "count": 3, "reset": 0.2},
        {"path": "^/api/v2/", "method": "GET", "status": 429, "count": 4, "reset": 0.3},
        {"path": "^/api/v2/organizations$", "method": "POST", "status": 429, "count": 2, "reset": 0.2},
    ])
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_organization="acme"))
    assert result.rc == 0, result.output
    log = emu.requests_log()
    assert sum(1 for e in log if e["status"] == 429) == 9
    assert sum(1 for e in log if e["status"] == 503 and e["path"] == "/admin/retrieve-iact") == 2
    assert len(posts(emu, "/admin/initial-admin-user")) == 1
    assert len(posts(emu, "/api/v2/organizations")) == 3
    state = emu.state()
    assert len(state["users"]) == 1 and [o["name"] for o in state["organizations"]] == ["acme"]


def test_permanent_500_on_creation_fails_once_with_one_message(ptfe, secrets_dir):
    emu = ptfe(initial_admin_fail=True)
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file))
    assert result.rc != 0
    assert_one_failure(result, "Failed to create the initial admin user admin: HTTP 500 from POST "
                               "/admin/initial-admin-user?token=********: Failed to create user. The request was not "
                               "retried")
    assert "token=********" in result.stdout
    assert len(posts(emu, "/admin/initial-admin-user")) == 1
    assert emu.state()["users"] == [] and not token_file.exists()
    assert ADMIN_PASSWORD not in result.output
    assert emu.control("GET", "iact")["iact"] not in result.output


def test_permanent_500_on_retrieval_is_not_retried(ptfe, secrets_dir):
    emu = ptfe(faults=[{"path": "^/admin/retrieve-iact$", "status": 500}])
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file))
    assert result.rc != 0
    assert_one_failure(result, "Failed to retrieve the IACT: HTTP 500 from GET /admin/retrieve-iact")
    assert len(gets(emu, "/admin/retrieve-iact")) == 1


def test_permanent_503_fails_after_bounded_retries(ptfe, secrets_dir):
    emu = ptfe(faults=[{"path": "^/admin/retrieve-iact$", "status": 503}])
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_max_retries=2))
    assert result.rc != 0
    assert_one_failure(result, "Failed to retrieve the IACT: HTTP 503 from GET /admin/retrieve-iact: service "
                               "unavailable (after 3 attempts)")
    assert len(gets(emu, "/admin/retrieve-iact")) == 3
    assert emu.state()["users"] == []


def test_secret_canary_at_vvvv(ptfe, secrets_dir, tmp_path):
    iact = "IACTCANARY" + secrets.token_hex(12)
    password = "PWCANARY-" + secrets.token_hex(12)
    emu = ptfe(iact_token=iact)
    token_file = secrets_dir / "admin.token"
    (secrets_dir / "neighbour.txt").write_text("unrelated\n")
    vars_file = tmp_path / "vault.yml"  # the operator's vault; the password is not on the command line
    vars_file.write_text('initial_admin_password: "%s"\n' % password)
    extra = role_vars(emu, token_file, initial_admin_organization="acme", secret_vars_file=str(vars_file))
    del extra["initial_admin_password"]
    playbook = HERE / "playbooks" / "role_vault_vars.yml"

    first = run_playbook(playbook, extra, verbosity=4)
    assert first.rc == 0, first.output[-3000:]
    token = token_file.read_text().strip()
    assert token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    second = run_playbook(playbook, extra, verbosity=4)
    assert second.rc == 0 and second.changed == 0
    neighbours = [p for p in secrets_dir.iterdir() if p != token_file]
    assert [p.name for p in neighbours] == ["neighbour.txt"]
    for result in (first, second):
        assert_no_secret(result, iact, password, token, paths=neighbours)
    # the emulator saw the secrets; its own log redacts the IACT it was sent
    assert all(iact not in e["path"] for e in emu.requests_log())


def test_refused_iact_without_a_token_fails_naming_the_iact(ptfe, secrets_dir):
    """A refusal alone proves nothing: a wrong IACT is refused exactly like any IACT once users exist."""
    emu = ptfe(users=[{"username": "someone", "site_admin": True}])
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file))
    assert result.rc != 0
    assert_one_failure(result, "the installation refused the IACT")
    assert "Most likely the IACT is wrong" in result.stdout and "assume_initialized" in result.stdout
    assert result.changed == 0
    assert [u["username"] for u in emu.state()["users"]] == ["someone"]
    assert not token_file.exists()


def test_refused_iact_with_the_operators_word_is_ok_unchanged(ptfe, secrets_dir):
    emu = ptfe(users=[{"username": "someone", "site_admin": True}])
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_assume_initialized=True))
    assert result.rc == 0, result.output
    assert result.changed == 0
    assert "assume_initialized is set" in result.stdout
    assert [u["username"] for u in emu.state()["users"]] == ["someone"]
    assert not token_file.exists()


def test_token_of_a_user_who_is_not_site_admin_is_no_evidence(ptfe, secrets_dir):
    token = "plainuser000001.atlasv1." + secrets.token_hex(20)
    emu = ptfe(users=[{"username": "plain", "site_admin": False, "token": token}])
    token_file = secrets_dir / "admin.token"
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    result = run_playbook(ROLE, role_vars(emu, token_file))
    assert result.rc != 0
    assert "is not a site admin" in result.output
    assert_one_failure(result, "the installation refused the IACT")
    assert [u["username"] for u in emu.state()["users"]] == ["plain"]


@pytest.mark.parametrize("ending", ["", "\n"], ids=["as-is", "trailing-newline"])
def test_preset_iact_creates_the_admin_then_changes_nothing(ptfe, secrets_dir, ending):
    """TFE_IACT_TOKEN: the preset reaches the installation unmasked (a module's returned value equal to a no_log
    option comes back as a mask), nothing is retrieved, a re-run is quiet."""
    preset = "presetiact" + secrets.token_hex(12)
    emu = ptfe(iact_token=preset)
    token_file = secrets_dir / "admin.token"
    extra = role_vars(emu, token_file, initial_admin_preset_iact=preset + ending)
    first = run_playbook(ROLE, extra)
    assert first.rc == 0, first.output
    assert first.changed >= 1
    assert [(u["username"], u["site_admin"]) for u in emu.state()["users"]] == [("admin", True)]
    assert gets(emu, "/admin/retrieve-iact") == []
    assert len(posts(emu, "/admin/initial-admin-user")) == 1
    token = token_file.read_text().strip()
    assert account(emu, token).json()["data"]["attributes"]["is-site-admin"] is True
    second = run_playbook(ROLE, extra)
    assert second.rc == 0 and second.changed == 0, second.output
    assert len(posts(emu, "/admin/initial-admin-user")) == 1
    for result in (first, second):
        assert_no_secret(result, preset, token, ADMIN_PASSWORD)


def test_wrong_preset_iact_fails_and_creates_nothing(ptfe, secrets_dir):
    emu = ptfe(iact_token="presetiact" + secrets.token_hex(12))
    token_file = secrets_dir / "admin.token"
    wrong = "presetiact" + secrets.token_hex(12)
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_preset_iact=wrong))
    assert result.rc != 0
    assert_one_failure(result, "the installation refused the IACT")
    assert emu.state()["users"] == []
    assert not token_file.exists()
    assert_no_secret(result, wrong)


def test_stale_token_file_is_replaced_on_a_fresh_installation(ptfe, secrets_dir):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    token_file.write_text("stale.atlasv1.token\n")
    os.chmod(token_file, 0o644)
    result = run_playbook(ROLE, role_vars(emu, token_file))
    assert result.rc == 0, result.output
    token = token_file.read_text().strip()
    assert token != "stale.atlasv1.token" and account(emu, token).status_code == 200
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_invalid_password_fails_before_anything_is_written(ptfe, secrets_dir):
    """The length of the password is ptfe_initial_admin's rule, checked before its request: only the reads before
    it (health, IACT) went out."""
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_password="short"))
    assert result.rc != 0
    assert_one_failure(result, "Invalid parameters for the initial admin: password must be at least 10 characters")
    assert writes(emu) == []
    assert emu.state()["users"] == [] and not token_file.exists()


def test_host_method_retries_while_empty_and_strips_carriage_return(ptfe, secrets_dir, tmp_path):
    iact = "HOSTIACT" + secrets.token_hex(8)
    # A Replicated installation (calendar version); nobody may use the API: only the host command works.
    emu = ptfe(iact_token=iact, iact_subnet_list="", product_version="v202309-1")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "replicated").symlink_to(HERE / "files" / "fake-replicated")
    state_file = tmp_path / "fake-state"
    env = {"PATH": "%s:%s" % (bindir, os.environ["PATH"]), "FAKE_STATE_FILE": str(state_file),
           "FAKE_EMPTY_RUNS": "2", "FAKE_IACT": iact, "FAKE_OLD_REPLICATED": "1"}
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_iact_method="host",
                                          initial_admin_iact_delay=0), env=env)
    assert result.rc == 0, result.output
    assert state_file.read_text().strip() == "3"
    assert set(Path(str(state_file) + ".args").read_text().split("\n")) >= {"admin --no-tty retrieve-iact"}
    assert gets(emu, "/admin/retrieve-iact") == []
    assert len(emu.state()["users"]) == 1
    assert iact not in result.output


def test_the_organization_follows_its_email_and_check_mode_writes_nothing(ptfe, secrets_dir):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    first = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_organization="acme"))
    assert first.rc == 0, first.output
    token = token_file.read_text().strip()

    def org_email(name):
        resp = read_back(emu, "GET", "/api/v2/organizations/" + name, token)
        return resp.json()["data"]["attributes"]["email"] if resp.status_code == 200 else None

    assert org_email("acme") == "ops@example.com"
    moved = role_vars(emu, token_file, initial_admin_organization="acme",
                      initial_admin_organization_email="billing@example.com")
    emu.requests_log(clear=True)
    checked = run_playbook(ROLE, moved, check=True, diff=True)
    assert checked.rc == 0, checked.output
    assert checked.changed == 1, checked.output
    assert '-    "email": "ops@example.com",' in checked.stdout and '+    "email": "billing@example.com",' \
        in checked.stdout, checked.stdout
    assert writes(emu) == [] and org_email("acme") == "ops@example.com"

    applied = run_playbook(ROLE, moved)
    assert applied.rc == 0 and applied.changed == 1, applied.output
    assert [w for w in writes(emu) if w[1].startswith("/api/")] == [("PATCH", "/api/v2/organizations/acme")]
    assert org_email("acme") == "billing@example.com"
    again = run_playbook(ROLE, moved)
    assert again.rc == 0 and again.changed == 0, again.output

    emu.requests_log(clear=True)
    another = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_organization="second"), check=True)
    assert another.rc == 0 and another.changed == 1, another.output
    assert writes(emu) == [] and org_email("second") is None
    assert_no_secret(checked, token, ADMIN_PASSWORD)


def test_a_bad_organization_name_is_refused_by_the_module_naming_it(ptfe, secrets_dir):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    assert run_playbook(ROLE, role_vars(emu, token_file)).rc == 0
    emu.requests_log(clear=True)
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_organization="not a name"))
    assert result.rc != 0
    assert_one_failure(result, "Invalid parameters for ptfe_organization: name must be 1 to 100 letters")
    assert [e for e in emu.requests_log() if "organizations" in e["path"]] == []
    assert emu.state()["organizations"] == []


@pytest.mark.parametrize("name, message, reads", [
    ("initial_admin_token_file", "Invalid input: initial_admin_token_file must not be empty", False),
    ("initial_admin_address", "no address given for the PTFE installation (option address or TFE_ADDRESS)", False),
    ("initial_admin_email", "Invalid parameters for the initial admin: email must be set", True),
    ("initial_admin_password", "Invalid parameters for the initial admin: password must be at least 10", True),
], ids=["token_file", "address", "email", "password"])
def test_an_empty_required_value_is_refused_by_name_before_anything_is_written(
        ptfe, secrets_dir, name, message, reads):
    """The spec only knows that the variable is there; the module that takes it refuses it empty, before its own
    request. An admin must never be created without the file that keeps its token."""
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_organization="acme", **{name: ""}))
    assert result.rc != 0
    assert_one_failure(result, message)
    assert writes(emu) == []
    assert bool(emu.requests_log()) is reads
    assert emu.state()["users"] == [] and emu.state()["organizations"] == []
    assert list(secrets_dir.iterdir()) == []
