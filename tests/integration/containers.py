# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throwaway test containers for integration tests of host roles: the docker CLI and a target to inspect."""
from __future__ import annotations

import subprocess


def docker(*args, check=True, timeout=120):
    """Run the docker CLI and return the completed process (text output captured)."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


class ContainerTarget:
    """A running container the tests read back with ``docker exec``, independently of Ansible."""

    def __init__(self, name, inventory):
        self.name = name
        self.inventory = inventory

    def sh(self, script, check=True):
        """Run a shell script in the container."""
        return docker("exec", self.name, "sh", "-c", script, check=check)
