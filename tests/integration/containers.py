# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throwaway test containers for integration tests of host roles: the docker CLI and a target to inspect."""
from __future__ import annotations

import subprocess


class DockerError(subprocess.CalledProcessError):
    """A docker command that failed, with what the engine said in the message (pytest shows only the message)."""

    def __str__(self):
        return "%s\nstderr: %s" % (super().__str__(), (self.stderr or "").strip() or "(empty)")


def docker(*args, check=True, timeout=120):
    """Run the docker CLI and return the completed process (text output captured).

    With check, a failure raises DockerError, whose message carries the engine's own error text."""
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode:
        raise DockerError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


class ContainerTarget:
    """A running container the tests read back with ``docker exec``, independently of Ansible."""

    def __init__(self, name, inventory):
        self.name = name
        self.inventory = inventory

    def sh(self, script, check=True):
        """Run a shell script in the container."""
        return docker("exec", self.name, "sh", "-c", script, check=check)
