# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight role on a real host (the scenario's container): a passing and a failing configuration."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ROW = re.compile(r"^\s*(?:- )?[\"']?(PASS|FAIL)\s{2,}(.+?)[\"']?,?$", re.M)


def run_role(playbook, extra=None, check=False):
    """Run a playbook of this scenario against the instance with the inventory Molecule wrote."""
    cmd = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           str(SCENARIO / playbook)]
    if extra:
        cmd += ["-e", json.dumps(extra)]
    if check:
        cmd.append("--check")
    # The default (json) result format prints the table one row per line; the yaml format folds long rows.
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)
    out = ANSI.sub("", proc.stdout + proc.stderr)
    recap = re.search(r"changed=(\d+).*failed=(\d+)", out)
    return proc.returncode, out, (int(recap.group(1)), int(recap.group(2))) if recap else None


def rows(output):
    """(result, row text with white space squeezed) for every table row printed."""
    return [(m.group(1), " ".join(m.group(2).split())) for m in ROW.finditer(output)]


def test_stand_ins_are_listening(host):
    for port in (22, 8000, 2525):
        assert host.socket("tcp://%s:%d" % ("0.0.0.0" if port == 22 else "127.0.0.1", port)).is_listening
    for port in (80, 443, 8080):
        assert not host.socket("tcp://0.0.0.0:%d" % port).is_listening


def test_passing_configuration_in_check_mode():
    rc, out, recap = run_role("converge.yml", check=True)
    assert rc == 0, out
    assert recap == (0, 0), out
    got = rows(out)
    assert got and all(result == "PASS" for result, _text in got), out
    assert len(got) == 4 + 4 + 4 + 2  # ports, endpoints, nofile soft/hard x (session, tester), disk paths
    assert "14 passed, 0 failed" in out


@pytest.fixture(name="hard_limit")
def fixture_hard_limit(host):
    """The hard open-file limit of a session on the instance, read, not assumed."""
    line = [x for x in host.file("/proc/self/limits").content_string.splitlines() if x.startswith("Max open files")][0]
    return int(line.split()[4])


def test_failing_configuration_lists_exactly_the_failed_checks(hard_limit):
    extra = {
        "preflight_ports": [
            {"port": 443, "state": "free"},
            {"port": 80, "state": "free"},
            {"port": 8080, "state": "listening", "name": "application port for the load balancer"},
            {"port": 22, "state": "listening", "name": "SSH for operators"},
        ],
        "preflight_endpoints": [
            {"name": "S3 stand-in", "url": "http://127.0.0.1:8000/"},
            {"name": "SMTP stand-in", "host": "127.0.0.1", "port": 2525},
            {"name": "closed port", "host": "127.0.0.1", "port": 1, "timeout": 2},
        ],
        "preflight_nofile_soft_min": 256,
        "preflight_nofile_hard_min": hard_limit + 1,
        "preflight_nofile_users": [],
        "preflight_disk": [{"path": "/", "min_free_gib": 0.01}, {"path": "/var/lib/docker", "min_free_gib": 1000000000}],
    }
    rc, out, recap = run_role("failing.yml", extra)
    assert rc == 2, out
    assert recap == (0, 1), out
    failed = [text for result, text in rows(out) if result == "FAIL"]
    passed = [text for result, text in rows(out) if result == "PASS"]
    assert len(failed) == 4 and len(passed) == 7, out
    assert failed[0].startswith("inbound port 8080/tcp application port for the load balancer listening free")
    assert failed[1].startswith("outbound tcp closed port 127.0.0.1:1 connects Timeout when waiting for 127.0.0.1:1")
    assert failed[2] == "nofile hard this session >= %d %d" % (hard_limit + 1, hard_limit)
    assert re.match(r"disk free /var/lib/docker \(on /\) >= 1000000000 GiB [0-9.]+ GiB$", failed[3]), failed[3]
    assert "7 passed, 4 failed" in out
    message = out[out.index("Preflight failed 4 of 11 checks. To fix:"):]
    fixes = re.findall(r"^\s*- (.+)$", message, re.M)[:4]
    assert [f.split(":")[0] for f in fixes] == [
        "inbound port 8080/tcp application port for the load balancer",
        "outbound tcp closed port 127.0.0.1",
        "nofile hard this session",
        "disk free /var/lib/docker (on /)",
    ], message
    assert "start the service that must answer on port 8080" in message
    assert "raise the hard open-file limit of this session to at least %d" % (hard_limit + 1) in message
