# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway container from the test image for playbook runs of the ulimits role."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.containers import ContainerTarget, docker

ROOT = Path(__file__).resolve().parents[3]

# Everything the role may write; reset between tests, and fingerprinted to prove nothing was written.
MANAGED_PATHS = (
    "/etc/security/limits.d",
    "/etc/systemd/system.conf.d",
    "/etc/systemd/user.conf.d",
    "/etc/docker",
)


def _test_image():
    image = os.environ.get("PTFE_TEST_IMAGE")
    env_file = ROOT / ".tmp" / "images.env"
    if not image and env_file.is_file():
        for line in env_file.read_text().splitlines():
            if line.startswith("PTFE_TEST_IMAGE="):
                image = line.split("=", 1)[1].strip()
    return image


class Target(ContainerTarget):
    """A running container reachable through the community.docker.docker connection."""

    def fingerprint(self):
        """Every file (with its checksum and mode) and directory under the paths the role manages."""
        paths = " ".join(MANAGED_PATHS)
        out = self.sh(
            "for p in %s; do [ -e \"$p\" ] || continue; find \"$p\" -type d -printf 'd %%m %%p\\n';"
            " find \"$p\" -type f -printf 'f %%m %%p ' -exec sha256sum {} \\; ; done" % paths
        ).stdout
        return sorted(out.splitlines())

    def reset(self):
        self.sh("rm -rf /etc/security/limits.d/nofile.conf /etc/systemd/system.conf.d /etc/systemd/user.conf.d /etc/docker")

    def write(self, path, content):
        subprocess.run(
            ["docker", "exec", "-i", self.name, "sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"", "sh", path],
            input=content, text=True, check=True, capture_output=True, timeout=60,
        )

    def read(self, path):
        return self.sh("cat '%s'" % path).stdout


@pytest.fixture(scope="module")
def target_container(tmp_path_factory):
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        pytest.skip("no Docker engine answers")
    image = _test_image()
    if not image:
        pytest.skip("PTFE_TEST_IMAGE is not set and .tmp/images.env is missing: run `make images`")
    name = "ptfe-ulimits-it-%s" % uuid.uuid4().hex[:8]
    docker("run", "-d", "--name", name, image, "sleep", "infinity")
    try:
        inventory = tmp_path_factory.mktemp("ulimits") / "inventory.ini"
        inventory.write_text(
            "%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n" % name
        )
        yield Target(name, str(inventory))
    finally:
        docker("rm", "-f", name, check=False)


@pytest.fixture
def target(target_container):
    """The container, with everything the role writes removed."""
    target_container.reset()
    return target_container
