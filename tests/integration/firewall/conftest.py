# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway target reached over real SSH, for the firewall role's guard, input and check-mode tests.

The container runs sshd on its own bridge network (fw-it-net); ansible-playbook connects from the machine
running the tests, so the target sees the session come from the bridge's gateway address, and the role reads
that address from SSH_CLIENT exactly as it would on a real host.
"""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.containers import ContainerTarget, docker

ROOT = Path(__file__).resolve().parents[3]
RECIPE = "debian12-docker"
SUBNET = "192.168.232.0/24"
GATEWAY = "192.168.232.1"
TARGET_IP = "192.168.232.2"


class Target(ContainerTarget):
    """A running container with sshd, and what the firewall role could touch on it."""

    def snapshot(self):
        """Rules in the kernel, ufw's state and every file the role may write (checksums), as one text."""
        return self.sh(
            "iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//';"
            " ip6tables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//';"
            " ufw status verbose;"
            " find /etc/ufw /etc/default/ufw /etc/sysctl.d -type f -exec sha256sum {} + | sort;"
            " cat /proc/sys/net/ipv4/ip_forward"
        ).stdout


@pytest.fixture(scope="module")
def ssh_target(tmp_path_factory):
    image = subprocess.run([str(ROOT / "tests" / "images" / "build.sh"), RECIPE], capture_output=True, text=True,
                           check=True, timeout=900).stdout.strip().splitlines()[-1]
    suffix = uuid.uuid4().hex[:6]
    name, network = "fw-it-target-" + suffix, "fw-it-net-" + suffix
    keydir = tmp_path_factory.mktemp("fw-ssh")
    key = keydir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    docker("network", "create", "--subnet", SUBNET, "--gateway", GATEWAY, network)
    try:
        # NET_ADMIN is all ufw and iptables need inside the container's own network namespace.
        docker("run", "-d", "--name", name, "--hostname", name, "--cap-add", "NET_ADMIN", "--network", network,
               "--ip", TARGET_IP, image, "sleep", "infinity")
        target = Target(name, "")
        pub = (keydir / "id_ed25519.pub").read_text().strip()
        target.sh("mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh && echo '%s' > /root/.ssh/authorized_keys"
                  " && chmod 600 /root/.ssh/authorized_keys && /usr/sbin/sshd" % pub)
        inventory = keydir / "inventory.ini"
        inventory.write_text(
            "[targets]\n%s ansible_host=%s ansible_user=root ansible_ssh_private_key_file=%s "
            "ansible_python_interpreter=/usr/bin/python3 "
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            "-o ConnectTimeout=10'\n" % (name, TARGET_IP, key)
        )
        target.inventory = str(inventory)
        yield target
    finally:
        docker("rm", "-f", name, check=False)
        docker("network", "rm", network, check=False)
