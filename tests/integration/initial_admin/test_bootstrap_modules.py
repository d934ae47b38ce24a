"""ptfe_iact and ptfe_initial_admin used directly (outside the role)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tests.integration.conftest import run_playbook

HERE = Path(__file__).resolve().parent
IACT = HERE / "playbooks" / "iact_module.yml"
ADMIN = HERE / "playbooks" / "initial_admin_module.yml"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_iact_over_api_in_check_mode(ptfe):
    emu = ptfe()
    iact = emu.control("GET", "iact")["iact"]
    result = run_playbook(IACT, {"address": emu.url, "ca_path": emu.ca_path}, check=True)
    assert result.rc == 0, result.output
    assert "RESULT iact_sha256=%s attempts=1" % sha256(iact) in result.stdout
    assert iact not in result.output


def test_iact_on_host_gives_up_after_bounded_retries(ptfe, tmp_path):
    state_file = tmp_path / "fake-state"
    env = {"FAKE_STATE_FILE": str(state_file), "FAKE_EMPTY_RUNS": "10", "FAKE_IACT": "unused"}
    command = [str(HERE / "files" / "fake-replicated"), "admin", "--tty=0", "retrieve-iact"]
    result = run_playbook(IACT, {"method": "host", "command": command, "retries": 2, "delay": 0}, env=env)
    assert result.rc != 0
    assert "gave no token after 3 attempts" in result.stdout
    assert "it printed nothing" in result.stdout
    assert state_file.read_text().strip() == "3"


def test_iact_on_host_with_tfectl(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tfectl = bindir / "tfectl"
    tfectl.write_text("#!/bin/sh\n[ \"$*\" = \"admin token\" ] && printf 'TFECTLIACT123'\n")
    tfectl.chmod(0o755)
    env = {"PATH": "%s:%s" % (bindir, os.environ["PATH"])}
    result = run_playbook(IACT, {"method": "host", "retries": 0}, env=env)
    assert result.rc == 0, result.output
    assert "iact_sha256=%s" % sha256("TFECTLIACT123") in result.stdout
    assert "command=tfectl admin token" in result.stdout


def test_initial_admin_validates_before_any_call(ptfe, tmp_path):
    emu = ptfe()
    result = run_playbook(ADMIN, {"address": emu.url, "ca_path": emu.ca_path, "iact": "x", "password": "short",
                                  "username": "bad name", "email": "nope",
                                  "token_file": str(tmp_path / "missing" / "admin.token")})
    assert result.rc != 0
    for words in ("username must be", "email must be", "password must be at least 10 characters",
                  "token_file: directory"):
        assert words in result.stdout, words
    assert emu.requests_log() == []


def test_initial_admin_without_iact_or_token_says_what_to_do(ptfe, tmp_path):
    emu = ptfe()
    result = run_playbook(ADMIN, {"address": emu.url, "ca_path": emu.ca_path, "password": "long-enough-1",
                                  "token_file": str(tmp_path / "admin.token")})
    assert result.rc != 0
    assert "no working admin token is known (token, token_file) and no iact was given" in result.stdout
    assert emu.state()["users"] == []


def test_initial_admin_module_creates_then_reports_unchanged(ptfe, tmp_path):
    emu = ptfe()
    iact = emu.control("GET", "iact")["iact"]
    extra = {"address": emu.url, "ca_path": emu.ca_path, "iact": iact, "password": "long-enough-1",
             "token_file": str(tmp_path / "admin.token")}
    first = run_playbook(ADMIN, extra)
    assert first.rc == 0 and "RESULT changed=True created=True" in first.stdout, first.output
    second = run_playbook(ADMIN, extra)
    assert second.rc == 0 and "RESULT changed=False created=False" in second.stdout, second.output
    assert "already has its admin" in second.stdout
    assert iact not in first.output + second.output
    # The first organization is ptfe_organization's business now: the admin module creates none.
    assert emu.state()["organizations"] == []


def test_initial_admin_refuses_a_relative_token_file(ptfe):
    emu = ptfe()
    result = run_playbook(ADMIN, {"address": emu.url, "ca_path": emu.ca_path, "iact": "x",
                                  "password": "long-enough-1", "token_file": "secrets/admin.token"})
    assert result.rc != 0
    assert "token_file must be an absolute path, got 'secrets/admin.token'" in result.stdout
    assert emu.requests_log() == []
