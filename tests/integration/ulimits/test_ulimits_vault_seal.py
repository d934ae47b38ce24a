# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ulimits role against a real Docker engine running in the target container: after a rekey the Vault unseal
key file is gone, and restarting the engine would leave PTFE's Vault sealed. The restart is withheld then, and
done where Vault can unseal itself (key file present), where no container runs, or where the operator accepts it.

Every claim is read back from the engine itself (its pid, the Vault stand-in's start time, the limits a new
container gets), not through Ansible.
"""
from __future__ import annotations

import json

from tests.integration.ulimits.conftest import VAULT_CONTAINER

PLAYBOOK = "ulimits/playbooks/ulimits.yml"
KEY = "/data/vault-unseal-key"
# The systemd drop-ins have nothing to do with the engine restart: left out to keep the runs short.
LIMITS = {"ulimits_nofile_soft": 4096, "ulimits_nofile_hard": 8192, "ulimits_systemd_enabled": False}
DAEMON_TASK = "TASK [ptfe.ops.ulimits : Write default-ulimits into the Docker daemon configuration]"
WITHHELD = "the Docker engine is not restarted: there is no unseal key file at %s (ulimits_vault_unseal_key_path)" % KEY


def run(playbook, target, extra_vars=None, **kwargs):
    return playbook(PLAYBOOK, extra_vars={**LIMITS, **(extra_vars or {})}, inventory=target.inventory, **kwargs)


def task_status(result, task):
    """The first status line (ok/changed/skipping) printed for ``task``."""
    lines = result.stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(task + " "))
    return next(line.split(":")[0] for line in lines[start + 1:] if line.split(":")[0] in ("ok", "changed", "skipping"))


def daemon_json(target):
    return json.loads(target.read("/etc/docker/daemon.json"))


def assert_restarted(target, engine, vault):
    target.wait_for_engine()
    assert target.engine() != engine
    target.sh("i=0; until docker inspect -f '{{.State.Running}}' %s | grep -qx true; do i=$((i+1));"
              " [ $i -lt 100 ] || exit 1; sleep 0.1; done" % VAULT_CONTAINER)
    assert target.vault_started() != vault
    # default-ulimits is read at the engine's start: a new container gets the new limits.
    assert target.new_container_nofile() == "4096 8192"


def test_restart_withheld_while_vault_cannot_unseal_itself(playbook, docker_target):
    target = docker_target
    engine, vault, nofile = target.engine(), target.vault_started(), target.new_container_nofile()
    assert vault.endswith(" true") and nofile != "4096 8192"

    first = run(playbook, target)
    assert first.rc == 0, first.output
    # Neither the engine nor Vault's container was restarted; new containers keep the old limits for now.
    assert target.engine() == engine
    assert target.vault_started() == vault
    assert target.new_container_nofile() == nofile
    # The write is reported as a change, and the play says why the restart was withheld and what to do.
    assert task_status(first, DAEMON_TASK) == "changed"
    assert daemon_json(target) == {"storage-driver": "vfs",
                                   "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 4096, "Hard": 8192}}}
    assert "/etc/docker/daemon.json was updated, but %s and 1 container(s) are running" % WITHHELD in first.stdout
    assert "set ulimits_docker_restart_accept_vault_seal to true" in first.stdout
    assert "apply only to containers created after the engine's next restart" in first.stdout

    second = run(playbook, target)
    assert second.rc == 0, second.output
    assert second.host(target.name)["changed"] == 0
    assert WITHHELD not in second.stdout
    assert target.engine() == engine and target.vault_started() == vault

    # Check mode says the same before anything is written.
    target.write("/etc/docker/daemon.json", '{"storage-driver": "vfs"}\n')
    checked = run(playbook, target, check=True)
    assert checked.rc == 0, checked.output
    assert task_status(checked, DAEMON_TASK) == "changed"
    assert "/etc/docker/daemon.json would be updated, but %s" % WITHHELD in checked.stdout
    assert daemon_json(target) == {"storage-driver": "vfs"}
    assert target.engine() == engine and target.vault_started() == vault


def test_restart_when_the_key_file_lets_vault_unseal_itself(playbook, docker_target):
    target = docker_target
    target.sh("umask 077 && echo stand-in-unseal-key > %s" % KEY)
    engine, vault = target.engine(), target.vault_started()
    result = run(playbook, target)
    assert result.rc == 0, result.output
    assert task_status(result, DAEMON_TASK) == "changed"
    assert WITHHELD not in result.stdout
    assert_restarted(target, engine, vault)

    engine, vault = target.engine(), target.vault_started()
    again = run(playbook, target)
    assert again.rc == 0, again.output
    assert again.host(target.name)["changed"] == 0
    assert target.engine() == engine and target.vault_started() == vault


def test_restart_when_the_operator_accepts_a_sealed_vault(playbook, docker_target):
    target = docker_target
    engine, vault = target.engine(), target.vault_started()
    result = run(playbook, target, {"ulimits_docker_restart_accept_vault_seal": True})
    assert result.rc == 0, result.output
    assert WITHHELD not in result.stdout
    assert_restarted(target, engine, vault)


def test_restart_when_no_container_runs(playbook, docker_target):
    target = docker_target
    target.sh("docker stop %s >/dev/null" % VAULT_CONTAINER)
    engine = target.engine()
    result = run(playbook, target)
    assert result.rc == 0, result.output
    assert WITHHELD not in result.stdout
    target.wait_for_engine()
    assert target.engine() != engine
    assert target.new_container_nofile() == "4096 8192"
