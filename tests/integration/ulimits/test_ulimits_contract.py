# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/argument_specs.yml is the input contract of the ulimits role.

The role requires no variable (each has the documented default), so the contract shows when a value is taken away
(null) or is of the wrong type: the argument spec fails, naming the variable, before the role's first task, and
nothing on the host changes. Then the role's one decision (the filter ptfe.ops.ulimits_problems) on what it read
from the host: a hard limit the container cannot grant is refused before anything is written, and every reason
comes at once.
"""
from __future__ import annotations

import pytest

PLAYBOOK = "ulimits/playbooks/ulimits.yml"
GOOD = {"ulimits_nofile_soft": 4096, "ulimits_nofile_hard": 8192, "ulimits_docker_daemon_manage": True}


def run(playbook, target, extra_vars, **kwargs):
    return playbook(PLAYBOOK, extra_vars=extra_vars, inventory=target.inventory, **kwargs)


def failed_task(result):
    lines = result.stdout.splitlines()
    fatal = [i for i, line in enumerate(lines) if line.startswith("fatal:")]
    assert len(fatal) == 1, result.stdout[-3000:]
    return [line for line in lines[:fatal[0]] if line.startswith("TASK [")][-1]


@pytest.mark.parametrize("bad, message", [
    ({"ulimits_nofile_soft": None},
     "argument 'ulimits_nofile_soft' is of type NoneType and we were unable to convert to int"),
    ({"ulimits_nofile_hard": None},
     "argument 'ulimits_nofile_hard' is of type NoneType and we were unable to convert to int"),
    ({"ulimits_domains": None}, "argument 'ulimits_domains' is of type NoneType and we were unable to convert to list"),
    ({"ulimits_docker_enabled": "sometimes"},
     "argument 'ulimits_docker_enabled' is of type str and we were unable to convert to bool"),
    ({"ulimits_domains": {"*": "root"}}, "argument 'ulimits_domains' is of type dict and we were unable to convert "
                                         "to list"),
], ids=["soft-removed", "hard-removed", "domains-removed", "docker-enabled-type", "domains-type"])
def test_a_removed_or_mistyped_value_fails_at_the_argument_spec(playbook, target, bad, message):
    before = target.fingerprint()
    for check in (False, True):
        result = run(playbook, target, {**GOOD, **bad}, check=check)
        assert result.rc != 0
        assert "ptfe.ops.ulimits : Validating arguments against arg spec 'main'" in failed_task(result)
        assert "Validation of arguments failed" in result.stdout and message in result.stdout, result.stdout[-3000:]
        # The argument spec runs before the first task: not even the host was read.
        assert "TASK [ptfe.ops.ulimits : Gather" not in result.stdout
        assert result.host(target.name)["changed"] == 0
    assert target.fingerprint() == before


def test_every_reason_is_reported_at_once_in_one_decision(playbook, target):
    inherited = int(target.sh("ulimit -Hn").stdout)
    target.write("/etc/docker/daemon.json", "[]")
    before = target.fingerprint()
    result = run(playbook, target, {**GOOD, "ulimits_nofile_soft": 512, "ulimits_nofile_hard": inherited + 1,
                                    "ulimits_systemd_dropin_name": "nofile"})
    assert result.rc != 0
    assert "ptfe.ops.ulimits : Stop before anything is written when the limits cannot be applied" in failed_task(result)
    fatal = [line for line in result.stdout.splitlines() if line.startswith("fatal:")][0]
    for reason in ("ulimits_nofile_soft (512) is below the minimum of 1024 (ulimits_nofile_minimum)",
                   "ulimits_nofile_hard (%d) is above the open-file hard limit this host was started with (%d)"
                   % (inherited + 1, inherited),
                   "ulimits_systemd_dropin_name must be a file name ending in .conf, got 'nofile'",
                   "/etc/docker/daemon.json (ulimits_docker_daemon_path) must hold a JSON object, got list",
                   "Nothing was changed."):
        assert reason in fatal, fatal
    assert result.host(target.name)["changed"] == 0
    assert target.fingerprint() == before


def test_the_limit_the_container_grants_is_accepted_in_check_mode(playbook, target):
    # The reads are data gathering that check mode runs too: the same decision, and nothing written.
    inherited = int(target.sh("ulimit -Hn").stdout)
    before = target.fingerprint()
    result = run(playbook, target, {**GOOD, "ulimits_nofile_hard": inherited}, check=True)
    assert result.rc == 0, result.output
    assert result.host(target.name)["changed"] > 0
    assert target.fingerprint() == before
    refused = run(playbook, target, {**GOOD, "ulimits_nofile_hard": inherited + 1}, check=True)
    assert refused.rc != 0
    assert "is above the open-file hard limit this host was started with (%d)" % inherited in refused.stdout
    assert target.fingerprint() == before
