"""After a migration, a real Terraform CLI (1.x through the cloud block and the remote backend, 0.13 through the
remote backend) pulls the migrated state from the emulator byte for byte, and writes the next serial."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import run_playbook
from tests.integration.ptfe_emulator_fixture import printed_result
from tests.integration.state_migrate.conftest import ORG, TARGET_TOKEN
from tests.integration.state_migrate.terraform_cli import Terraform

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "migrate.yml"
BACKENDS = {
    "cloud": 'terraform {\n  cloud {\n    hostname = "%(host)s"\n    organization = "%(org)s"\n'
             '    workspaces {\n      name = "%(ws)s"\n    }\n  }\n}\n',
    "remote": 'terraform {\n  backend "remote" {\n    hostname = "%(host)s"\n    organization = "%(org)s"\n'
              '    workspaces {\n      name = "%(ws)s"\n    }\n  }\n}\n',
}
OUTPUT = 'output "marker" {\n  value = "%s"\n}\n'


CASES = [("1", "cloud", "file"), ("1", "remote", "file"), ("0.13", "remote", "file"), ("1", "cloud", "workspace")]


@pytest.mark.slow
@pytest.mark.parametrize("version,backend,origin", CASES)
def test_terraform_pulls_the_migrated_state_and_writes_the_next_serial(migration, tmp_path, version, backend, origin):
    target = migration.target
    host = "localhost:%d" % urlsplit(target.emulator.url).port
    terraform = Terraform(version, tmp_path / "cli", host, TARGET_TOKEN, target.emulator.ca_path)
    workspace = "tf-%s-%s-%s" % (version.replace(".", ""), backend, origin)

    # A state written by this very Terraform, locally: what an operator has before the migration.
    local = tmp_path / "local"
    local.mkdir()
    (local / "main.tf").write_text(OUTPUT % "one")
    rc, out, err = terraform.run(local, "apply", "-auto-approve", "-input=false", "-no-color")
    assert rc == 0, (out, err)
    state_file = local / "terraform.tfstate"
    migrated = state_file.read_bytes()

    if origin == "workspace":
        # The state lives in a workspace of the source installation (the SaaS), uploaded there as Terraform does.
        migration.source.push("saas-" + workspace, migrated)
        entry = {"name": workspace, "source_workspace": "saas-" + workspace}
    else:
        entry = {"name": workspace, "state_file": str(state_file)}
    run = run_playbook(PLAYBOOK, migration.vars([entry], create=True, no_source=origin == "file"))
    assert run.rc == 0 and run.changed == 1, run.output
    assert printed_result(run)["results"][0]["uploaded_serials"] == [1]
    ws = target.workspace(workspace)
    target.call("PATCH", "/api/v2/workspaces/%s" % ws["id"],
                json={"data": {"type": "workspaces", "attributes": {"execution-mode": "local"}}})

    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "backend.tf").write_text(BACKENDS[backend] % {"host": host, "org": ORG, "ws": workspace})
    (remote / "main.tf").write_text(OUTPUT % "one")
    rc, out, err = terraform.run(remote, "init", "-input=false", "-no-color")
    assert rc == 0, (out, err)
    rc, pulled, err = terraform.run(remote, "state", "pull")
    assert rc == 0, err
    # The CLI prints the state it pulled, then the line end its output always adds.
    assert pulled == migrated + b"\n"
    assert target.current(workspace)[0] == migrated

    (remote / "main.tf").write_text(OUTPUT % "two")
    rc, out, err = terraform.run(remote, "apply", "-auto-approve", "-input=false", "-no-color")
    assert rc == 0, (out, err)
    raw, _data = target.current(workspace)
    after = json.loads(raw)
    before = json.loads(migrated)
    assert after["serial"] == before["serial"] + 1 and after["lineage"] == before["lineage"]
    assert after["outputs"]["marker"]["value"] == "two"
    assert target.control_workspace(workspace)["locked"] is False
