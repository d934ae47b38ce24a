# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ulimits role against a real container: bad input fails before anything is written, check mode on a
bare host writes nothing, and daemon.json is compared by content, not by formatting."""
from __future__ import annotations

import json

import pytest

PLAYBOOK = "ulimits/playbooks/ulimits.yml"
GOOD = {"ulimits_nofile_soft": 4096, "ulimits_nofile_hard": 8192, "ulimits_docker_daemon_manage": True}


def run(playbook, target, extra_vars, **kwargs):
    # Pipelining saves a file transfer per task over the docker connection.
    return playbook(PLAYBOOK, extra_vars=extra_vars, inventory=target.inventory, env={"ANSIBLE_PIPELINING": "true"}, **kwargs)


@pytest.mark.parametrize(
    "bad, variable, detail",
    [
        ({"ulimits_nofile_soft": 9000, "ulimits_nofile_hard": 4096}, "ulimits_nofile_soft", "must not be above ulimits_nofile_hard"),
        ({"ulimits_nofile_soft": "lots"}, "ulimits_nofile_soft", "unable to convert to int"),
        ({"ulimits_nofile_hard": "8192.5"}, "ulimits_nofile_hard", "unable to convert to int"),
        ({"ulimits_nofile_soft": 512}, "ulimits_nofile_soft", "below the minimum of 1024"),
        ({"ulimits_nofile_hard": 2 ** 31}, "ulimits_nofile_hard", "above the kernel's fs.nr_open"),
        ({"ulimits_domains": ["bad domain"]}, "ulimits_domains", "without white space"),
        ({"ulimits_systemd_dropin_name": "../evil.conf"}, "ulimits_systemd_dropin_name", "file name ending in .conf"),
    ],
    ids=["soft-above-hard", "soft-not-integer", "hard-not-integer", "soft-below-minimum", "hard-above-nr-open",
         "domain-with-space", "dropin-name-with-slash"],
)
def test_bad_value_fails_before_writing(playbook, target, bad, variable, detail):
    before = target.fingerprint()
    result = run(playbook, target, {**GOOD, **bad})
    assert result.rc != 0
    assert result.host(target.name)["changed"] == 0
    assert variable in result.output
    assert detail in result.output
    assert target.fingerprint() == before
    assert target.sh("test -e /etc/security/limits.d/nofile.conf", check=False).returncode != 0
    assert target.sh("test -e /etc/docker/daemon.json", check=False).returncode != 0


def test_hard_limit_the_container_cannot_grant_fails_before_writing(playbook, target):
    # Root in the container lacks CAP_SYS_RESOURCE: a hard limit above the inherited one would make pam_limits
    # apply nothing at all, so the role must refuse it.
    inherited = int(target.sh("ulimit -Hn").stdout)
    before = target.fingerprint()
    result = run(playbook, target, {**GOOD, "ulimits_nofile_hard": inherited + 1})
    assert result.rc != 0
    assert "ulimits_nofile_hard (%d) is above the open-file hard limit this host was started with (%d)" % (
        inherited + 1, inherited) in result.output
    assert target.fingerprint() == before


@pytest.mark.parametrize("content, detail", [("{not json", "is not valid JSON"), ("[1, 2]", "must hold a JSON object")])
def test_unreadable_daemon_json_fails_before_writing(playbook, target, content, detail):
    target.write("/etc/docker/daemon.json", content)
    before = target.fingerprint()
    result = run(playbook, target, GOOD)
    assert result.rc != 0
    assert "ulimits_docker_daemon_path" in result.output
    assert detail in result.output
    assert target.fingerprint() == before
    assert target.read("/etc/docker/daemon.json") == content


def test_check_mode_on_a_bare_host_writes_nothing(playbook, target):
    before = target.fingerprint()
    result = run(playbook, target, GOOD, check=True, diff=True)
    assert result.rc == 0, result.output
    assert result.host(target.name)["changed"] > 0
    # Diff mode shows what would be written.
    assert "DefaultLimitNOFILE=4096:8192" in result.stdout
    assert '"Soft": 4096' in result.stdout
    assert target.fingerprint() == before


def test_daemon_json_created_when_managed_then_stable(playbook, target):
    first = run(playbook, target, GOOD)
    assert first.rc == 0, first.output
    assert json.loads(target.read("/etc/docker/daemon.json")) == {
        "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 4096, "Hard": 8192}},
    }
    assert target.sh("stat -c %a /etc/docker/daemon.json").stdout.strip() == "644"
    second = run(playbook, target, GOOD)
    assert second.rc == 0, second.output
    assert second.host(target.name)["changed"] == 0


def test_daemon_json_formatting_alone_is_no_change(playbook, target):
    # Same content as the role would write, other key order and no indentation: nothing to do for daemon.json.
    compact = json.dumps({
        "default-ulimits": {"nofile": {"Hard": 8192, "Soft": 4096, "Name": "nofile"}},
        "log-driver": "journald",
    }, separators=(",", ":"))
    target.write("/etc/docker/daemon.json", compact)
    result = run(playbook, target, {**GOOD, "ulimits_systemd_enabled": False})
    assert result.rc == 0, result.output
    # Only the PAM limits file is new.
    assert result.host(target.name)["changed"] == 1
    assert target.read("/etc/docker/daemon.json") == compact


def test_absent_daemon_json_is_left_alone_by_default(playbook, target):
    result = run(playbook, target, {"ulimits_nofile_soft": 4096, "ulimits_nofile_hard": 8192})
    assert result.rc == 0, result.output
    assert target.sh("test -e /etc/docker", check=False).returncode != 0
    assert "soft\tnofile\t4096" in target.read("/etc/security/limits.d/nofile.conf")


FAKE_INIT_SCRIPT = """#!/bin/sh
# Stand-in for the Docker engine's init script: records what it was asked to do.
echo "$1" >> /var/tmp/docker-init.log
case "$1" in
  status) pgrep -x dockerd >/dev/null ;;
  *) exit 0 ;;
esac
"""


def start_fake_engine(target):
    """A process named dockerd and an init script that records its calls stand in for a running engine."""
    target.write("/etc/init.d/docker", FAKE_INIT_SCRIPT)
    target.sh("chmod 0755 /etc/init.d/docker && cp /bin/sleep /usr/local/bin/dockerd && rm -f /var/tmp/docker-init.log")
    return int(target.sh("nohup /usr/local/bin/dockerd 600 >/dev/null 2>&1 & echo $!").stdout.strip())


def test_running_docker_engine_is_restarted_only_on_change(playbook, target):
    pid = start_fake_engine(target)
    target.write("/etc/docker/daemon.json", '{"log-driver": "journald"}\n')
    # Vault can unseal itself from its key file (before a rekey), so nothing stands in the way of a restart.
    target.write("/data/vault-unseal-key", "stand-in-unseal-key\n")
    try:
        first = run(playbook, target, GOOD)
        assert first.rc == 0, first.output
        calls = target.sh("cat /var/tmp/docker-init.log", check=False).stdout.split()
        assert "restart" in calls or calls[-2:] == ["stop", "start"], calls
        second = run(playbook, target, GOOD)
        assert second.rc == 0, second.output
        assert second.host(target.name)["changed"] == 0
        assert target.sh("cat /var/tmp/docker-init.log", check=False).stdout.split() == calls
    finally:
        target.sh("kill %d; rm -f /etc/init.d/docker /usr/local/bin/dockerd /var/tmp/docker-init.log"
                  " /data/vault-unseal-key" % pid, check=False)


def test_restart_withheld_when_the_containers_cannot_be_listed(playbook, target):
    # No unseal key file, and no docker client to tell whether a container (Vault's) runs: no restart.
    pid = start_fake_engine(target)
    target.write("/etc/docker/daemon.json", '{"log-driver": "journald"}\n')
    try:
        assert target.sh("command -v docker", check=False).returncode != 0
        result = run(playbook, target, {**GOOD, "ulimits_systemd_enabled": False})
        assert result.rc == 0, result.output
        calls = target.sh("cat /var/tmp/docker-init.log", check=False).stdout.split()
        assert not {"restart", "stop", "start"} & set(calls), calls
        assert json.loads(target.read("/etc/docker/daemon.json"))["default-ulimits"]["nofile"]["Soft"] == 4096
        assert ("/etc/docker/daemon.json was updated, but the Docker engine is not restarted: there is no unseal key"
                " file at /data/vault-unseal-key (ulimits_vault_unseal_key_path) and the running containers could not"
                " be listed (docker ps: ") in result.stdout
        assert "so Vault cannot unseal itself after a restart" in result.stdout
    finally:
        target.sh("kill %d; rm -f /etc/init.d/docker /usr/local/bin/dockerd /var/tmp/docker-init.log" % pid,
                  check=False)
