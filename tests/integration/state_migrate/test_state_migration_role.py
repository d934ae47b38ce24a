"""playbooks/migrate.yml (the state_migration role) end to end: the AWX job template's playbook, given a list of
workspaces, against a target and a source emulator."""
from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.ptfe_emulator_fixture import writes
from tests.integration.state_migrate.conftest import ORG, SOURCE_ORG, SOURCE_TOKEN, TARGET_TOKEN, make_state, new_lineage

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "migrate.yml"


def role_vars(migration, workspaces, **values):
    extra = {"state_migration_organization": ORG, "state_migration_workspaces": workspaces,
             "state_migration_ca_path": migration.target.emulator.ca_path,
             "state_migration_source": {"address": migration.source.emulator.url, "token": SOURCE_TOKEN,
                                        "organization": SOURCE_ORG, "ca_path": migration.source.emulator.ca_path}}
    extra.update(values)
    return extra


def env(migration):
    return {"TFE_ADDRESS": migration.target.emulator.url, "TFE_TOKEN": TARGET_TOKEN}


def test_the_job_template_playbook_migrates_reports_and_reruns_without_writes(migration):
    target, source = migration.target, migration.source
    network = make_state(new_lineage(), 3, "network")
    source.push("network", network)
    ws = source.push("app", make_state(new_lineage(), 1, "app"))
    source.call("POST", "/api/v2/workspaces/%s/vars" % ws["id"], json={"data": {"type": "vars", "attributes": {
        "key": "db_password", "value": "canary-role-sensitive-5e2a", "sensitive": True}}})
    target.push("app", make_state(new_lineage(), 6, "theirs"))
    extra = role_vars(migration, [{"name": "network"}, {"name": "app"}], state_migration_create=True)

    target.emulator.requests_log(clear=True)
    checked = run_playbook(PLAYBOOK, extra, check=True, env=env(migration))
    assert checked.rc == 0 and checked.changed == 1, checked.output
    assert writes(target.emulator) == []
    assert target.workspace("network") is None

    done = run_playbook(PLAYBOOK, extra, env=env(migration))
    assert done.rc == 0 and done.changed == 1, done.output
    assert "network: changed: Uploaded serial 3" in done.stdout
    assert "app: refused: the target's state has another lineage" in done.stdout
    assert "app: set db_password (values are never read)" in done.stdout
    assert target.current("network")[0] == network
    assert_no_secret(done, TARGET_TOKEN, SOURCE_TOKEN, "canary-role-sensitive-5e2a")

    target.emulator.requests_log(clear=True)
    again = run_playbook(PLAYBOOK, extra, env=env(migration))
    assert again.rc == 0 and again.changed == 0, again.output
    assert writes(target.emulator) == []

    strict = run_playbook(PLAYBOOK, dict(extra, state_migration_fail_on_refused=True), env=env(migration))
    assert strict.rc != 0 and "1 workspace(s) refused: app" in strict.stdout, strict.output


def test_the_argument_spec_refuses_an_entry_without_a_name_before_any_request(migration):
    target = migration.target
    target.emulator.requests_log(clear=True)
    run = run_playbook(PLAYBOOK, role_vars(migration, [{"source_workspace": "network"}]), env=env(migration))
    assert run.rc != 0 and "name" in run.stdout, run.output
    assert target.emulator.requests_log() == []
