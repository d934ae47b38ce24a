# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input to the preflight role fails before any check runs, naming the variable.

The checks themselves are tested on a real host in molecule/preflight; these runs stop at validation, so
they run against localhost.
"""
from __future__ import annotations

import pytest

from tests.integration.conftest import run_playbook

PLAYBOOK = "preflight/playbooks/preflight.yml"

BAD_INPUT = [
    ("port-0", {"preflight_ports": [{"port": 0, "state": "free"}]},
     "preflight_ports[0].port must be between 1 and 65535, got 0."),
    ("port-65536", {"preflight_ports": [{"port": 65536, "state": "free"}]},
     "preflight_ports[0].port must be between 1 and 65535, got 65536."),
    ("port-state", {"preflight_ports": [{"port": 443, "state": "open"}]}, "preflight_ports"),
    ("port-not-int", {"preflight_ports": [{"port": "https", "state": "free"}]}, "preflight_ports"),
    ("endpoint-port", {"preflight_endpoints": [{"name": "smtp", "host": "127.0.0.1", "port": 70000}]},
     "preflight_endpoints[0].port must be between 1 and 65535, got 70000."),
    ("endpoint-nothing", {"preflight_endpoints": [{"name": "vcs"}]},
     "preflight_endpoints[0] needs either a url, or a host and a port."),
    ("endpoint-both", {"preflight_endpoints": [{"name": "s3", "host": "s3.amazonaws.com", "port": 443,
                                                "url": "https://s3.amazonaws.com/"}]},
     "preflight_endpoints[0] has a url, so it takes no host or port"),
    ("endpoint-scheme", {"preflight_endpoints": [{"name": "mirror", "url": "ftp://mirror.example/"}]},
     "preflight_endpoints[0].url must be a URL such as https://host[:port]"),
    ("endpoint-no-name", {"preflight_endpoints": [{"host": "github.com", "port": 443}]}, "preflight_endpoints"),
    ("endpoint-timeout", {"preflight_endpoints": [{"name": "smtp", "host": "127.0.0.1", "port": 25, "timeout": -1}]},
     "preflight_endpoints[0].timeout must be between 0 and 3600, got -1."),
    ("timeout", {"preflight_connect_timeout": 0}, "preflight_connect_timeout must be between 1 and 3600, got 0."),
    ("hard-below-soft", {"preflight_nofile_soft_min": 4096, "preflight_nofile_hard_min": 1024},
     "preflight_nofile_hard_min (1024) must be at least preflight_nofile_soft_min (4096)"),
    ("disk-relative", {"preflight_disk": [{"path": "var/lib/docker", "min_free_gib": 1}]},
     "preflight_disk[0].path must be an absolute path without '.' or '..' parts"),
    ("disk-dotdot", {"preflight_disk": [{"path": "/var/../etc", "min_free_gib": 1}]},
     "preflight_disk[0].path must be an absolute path without '.' or '..' parts"),
    ("disk-negative", {"preflight_disk": [{"path": "/", "min_free_gib": -1}]},
     "preflight_disk[0].min_free_gib must be at least 0, got -1."),
    ("user", {"preflight_nofile_users": ["root; reboot"]},
     "preflight_nofile_users[0] must be a user name (lowercase letters, digits, '_', '-' and '.'), got 'root; reboot'."),
]


@pytest.mark.parametrize("override,message", [b[1:] for b in BAD_INPUT], ids=[b[0] for b in BAD_INPUT])
def test_bad_input_fails_before_any_check(override, message):
    result = run_playbook(PLAYBOOK, override)
    assert result.rc != 0
    assert message in " ".join(result.output.split()), result.output
    assert "Read the listening TCP ports" not in result.output
    assert "Connect to the TCP endpoints" not in result.output


# Every required key of the argument spec, left out of an entry that has the others.
MISSING = [
    ("preflight_ports", {"state": "free", "name": "HTTPS for users"}, "port"),
    ("preflight_ports", {"port": 443, "name": "HTTPS for users"}, "state"),
    ("preflight_endpoints", {"host": "github.com", "port": 443}, "name"),
    ("preflight_disk", {"min_free_gib": 40}, "path"),
    ("preflight_disk", {"path": "/var/lib/docker"}, "min_free_gib"),
]


@pytest.mark.parametrize("variable,entry,key", MISSING, ids=["%s-%s" % (m[0], m[2]) for m in MISSING])
def test_missing_required_key_fails_at_the_argument_spec(variable, entry, key):
    """The role's defaults cannot stand in for a required key of an entry the user gives, so the argument spec,
    the role's first task, catches it and names it; nothing runs after it."""
    result = run_playbook(PLAYBOOK, {variable: [entry]})
    assert result.rc != 0
    assert "TASK [ptfe.ops.preflight : Validating arguments against arg spec 'main'" in result.output
    assert "missing required arguments: %s found in %s" % (key, variable) in result.output, result.output
    assert result.host() == {"ok": 0, "changed": 0, "unreachable": 0, "failed": 1, "skipped": 0, "rescued": 0,
                             "ignored": 0}, result.output


def test_every_problem_is_named_at_once():
    result = run_playbook(PLAYBOOK, {"preflight_ports": [{"port": 0, "state": "free"}], "preflight_connect_timeout": 0,
                                     "preflight_disk": [{"path": "data", "min_free_gib": -1}]})
    assert result.rc != 0
    out = " ".join(result.output.split())
    for message in ("preflight_ports[0].port must be between 1 and 65535, got 0.",
                    "preflight_connect_timeout must be between 1 and 3600, got 0.",
                    "preflight_disk[0].path must be an absolute path", "preflight_disk[0].min_free_gib must be at least 0"):
        assert message in out, result.output
    assert result.host()["ok"] == 1  # the argument spec passed; the check of ranges and shapes failed
