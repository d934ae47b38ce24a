# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the testinfra tests of the Molecule scenarios.

A scenario's molecule/<scenario>/tests/conftest.py puts this directory on sys.path; tests then import
what they need from this module.
"""
from __future__ import annotations

import json
import shlex

# What molecule/shared/tasks/seed_docker_daemon_json.yml writes to /etc/docker/daemon.json.
SEEDED_DOCKER_DAEMON_JSON = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"},
    "storage-driver": "overlay2",
    "default-ulimits": {"nproc": {"Name": "nproc", "Soft": 2048, "Hard": 4096}},
}


def inventory_vars(host):
    """The inventory variables Molecule gave the host (host_vars and group_vars of molecule.yml)."""
    return host.ansible.get_variables()


def login_shell(host, user, script):
    """Run ``script`` in a login shell of ``user`` (``su -``, so PAM session modules such as pam_limits run)."""
    cmd = host.run("su - %s -c %s" % (shlex.quote(user), shlex.quote(script)))
    assert cmd.rc == 0, "login shell of %s failed (rc %s): %s" % (user, cmd.rc, cmd.stderr)
    return cmd.stdout


def login_nofile_limits(host, user):
    """The (soft, hard) open-file limits a login shell of ``user`` reports, as integers."""
    out = login_shell(host, user, "ulimit -Sn; ulimit -Hn").split()
    assert len(out) == 2, "unexpected ulimit output: %r" % out
    return int(out[0]), int(out[1])


def read_json(host, path):
    """Parse a JSON file on the host."""
    f = host.file(path)
    assert f.exists, "%s does not exist" % path
    return json.loads(f.content_string)


def config_lines(text):
    """The lines of a configuration file that are neither blank nor comments, with white space normalised."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
