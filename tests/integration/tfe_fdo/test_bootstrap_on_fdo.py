"""The initial_admin role on Terraform Enterprise FDO (the emulator playing 1.2.1): it waits with ptfe_health on the
readiness endpoint, and takes the IACT from the preset TFE_IACT_TOKEN or from `docker exec <container> tfectl admin
token` on the host, never from the API."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from tests.integration.conftest import ROOT, assert_no_secret, run_playbook
from tests.integration.initial_admin.conftest import ADMIN_PASSWORD as PASSWORD
from tests.integration.initial_admin.conftest import role_vars
from tests.integration.ptfe_emulator_fixture import writes

HERE = Path(__file__).resolve().parent
ROLE = ROOT / "tests" / "integration" / "initial_admin" / "playbooks" / "role.yml"


def paths(emu, method="GET"):
    return [e["path"] for e in emu.requests_log() if e["method"] == method]


def test_iact_from_tfectl_in_the_container_without_a_tty(ptfe, tmp_path):
    iact = "fdoiact" + secrets.token_hex(12)
    emu = ptfe(product_version="1.2.1", iact_token=iact, iact_subnet_list="")  # the API refuses everyone
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker").symlink_to(HERE / "files" / "fake-docker")
    args = tmp_path / "docker-args"
    env = {"PATH": "%s:%s" % (bindir, os.environ["PATH"]), "FAKE_DOCKER_ARGS": str(args), "FAKE_IACT": iact,
           "FAKE_CONTAINER": "tfe-app"}
    token_file = tmp_path / "admin.token"
    extra = role_vars(emu, token_file, initial_admin_iact_method="host", initial_admin_fdo_container="tfe-app",
                      initial_admin_iact_delay=0)
    result = run_playbook(ROLE, extra, env=env)
    assert result.rc == 0, result.output
    assert args.read_text().splitlines() == ["exec tfe-app tfectl admin token"]
    assert "/admin/retrieve-iact" not in paths(emu)
    assert "/api/v1/health/readiness" in paths(emu) and "/_health_check" not in paths(emu)
    assert emu.state()["iact_used"] is True
    assert [(u["username"], u["site_admin"]) for u in emu.state()["users"]] == [("admin", True)]
    assert_no_secret(result, iact, PASSWORD, token_file.read_text().strip())

    # A second run: the stored token proves the admin; nothing is run in the container, nothing is written.
    emu.requests_log(clear=True)
    result = run_playbook(ROLE, extra, env=env)
    assert result.rc == 0 and result.changed == 0, result.output
    assert args.read_text().splitlines() == ["exec tfe-app tfectl admin token"]
    assert writes(emu) == []


def test_iact_from_the_preset_tfe_iact_token(ptfe, tmp_path):
    preset = "presetiact" + secrets.token_hex(12)
    emu = ptfe(product_version="1.2.1", iact_token=preset, iact_subnet_list="")
    token_file = tmp_path / "admin.token"
    extra = role_vars(emu, token_file, initial_admin_preset_iact=preset)
    check = run_playbook(ROLE, extra, check=True)
    assert check.rc == 0, check.output
    assert writes(emu) == [] and emu.state()["users"] == []
    result = run_playbook(ROLE, extra)
    assert result.rc == 0, result.output
    assert "/admin/retrieve-iact" not in paths(emu)
    assert [(u["username"], u["site_admin"]) for u in emu.state()["users"]] == [("admin", True)]
    assert_no_secret(result, preset, PASSWORD)


def test_gives_up_after_its_bound_naming_the_failing_check(ptfe, tmp_path):
    emu = ptfe(product_version="1.2.1", readiness_failing_checks=["postgres"])
    token_file = tmp_path / "admin.token"
    result = run_playbook(ROLE, role_vars(emu, token_file, initial_admin_health_timeout=3))
    assert result.rc == 2, result.output
    fatal = [line for line in result.stdout.splitlines() if line.startswith("fatal:")]
    assert len(fatal) == 1 and "postgres" in fatal[0], result.stdout
    assert writes(emu) == [] and emu.state()["users"] == []
