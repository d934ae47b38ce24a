# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway target reached over real SSH, for the firewall role's guard, input and check-mode tests.

The container runs sshd (on ports 22 and 2222) on its own dual-stack bridge network (fw-it-net, IPv4 and IPv6);
ansible-playbook connects from the machine running the tests, so the target sees the session come from the
bridge's gateway address, and the role reads that address and the port from SSH_CLIENT exactly as it would on a
real host. busybox httpd answers on ports 80 and 9999 for probes over both address families, sent from the
machine running the tests (the gateway). The target starts with IPV6=no in /etc/default/ufw, as an operator may
have left it.

A user-defined network with --ipv6 needs no IPv6 setting in the Docker daemon's configuration.
"""
from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.containers import ContainerTarget, docker

ROOT = Path(__file__).resolve().parents[3]
RECIPE = "debian12-docker"
SUBNET = "192.168.232.0/24"
GATEWAY = "192.168.232.1"
TARGET_IP = "192.168.232.2"
SUBNET6 = "fd00:232::/64"
GATEWAY6 = "fd00:232::1"
TARGET_IP6 = "fd00:232::2"
SSH_ALT_PORT = 2222
# busybox httpd for the probes: 80 is a web port (open to everyone), 9999 has no rule.
PROBE_PORTS = (80, 9999)


def connects(address, port, timeout=1.5):
    """One TCP connection attempt from the machine running the tests: True when it connects, False when it
    times out (dropped). A refusal (RST: nothing listens, or a REJECT) fails the test, it is neither."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
        except socket.timeout:
            return False
        return True


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


def remove_stale_targets():
    """Remove targets and networks a killed earlier run left behind: their fixed subnets would overlap. The
    tests that use the target run on one xdist worker (xdist_group), so no other fixture instance owns them."""
    names = docker("ps", "-aq", "--filter", "name=^fw-it-target-", check=False).stdout.split()
    if names:
        docker("rm", "-f", *names, check=False)
    for network in docker("network", "ls", "-q", "--filter", "name=^fw-it-net-", check=False).stdout.split():
        docker("network", "rm", network, check=False)


def create_network(network, attempts=4):
    """Create the dual-stack bridge. The engine serialises network set-up with the other suites running beside
    this one (Molecule creates its own IPv6 networks at the same time), so a failure is retried a few times; the
    last one fails with the engine's message and the networks that exist, which name any overlap."""
    remove_stale_targets()
    for attempt in range(attempts):
        proc = docker("network", "create", "--ipv6", "--subnet", SUBNET, "--gateway", GATEWAY, "--subnet", SUBNET6,
                      "--gateway", GATEWAY6, network, check=False)
        if proc.returncode == 0:
            return
        time.sleep(2 + 2 * attempt)
    existing = docker("network", "ls", "--format", "{{.Name}}", check=False).stdout.split()
    subnets = docker("network", "inspect", "--format", "{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}",
                     *existing, check=False).stdout if existing else ""
    pytest.fail("docker network create %s failed %d times: %s\nnetworks now:\n%s"
                % (network, attempts, proc.stderr.strip(), subnets))


@pytest.fixture(scope="module")
def ssh_target(tmp_path_factory):
    image = subprocess.run([str(ROOT / "tests" / "images" / "build.sh"), RECIPE], capture_output=True, text=True,
                           check=True, timeout=900).stdout.strip().splitlines()[-1]
    suffix = uuid.uuid4().hex[:6]
    name, network = "fw-it-target-" + suffix, "fw-it-net-" + suffix
    keydir = tmp_path_factory.mktemp("fw-ssh")
    key = keydir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    create_network(network)
    try:
        # NET_ADMIN is all ufw and iptables need inside the container's own network namespace.
        docker("run", "-d", "--name", name, "--hostname", name, "--cap-add", "NET_ADMIN", "--network", network,
               "--ip", TARGET_IP, "--ip6", TARGET_IP6, image, "sleep", "infinity")
        target = Target(name, "")
        pub = (keydir / "id_ed25519.pub").read_text().strip()
        target.sh("mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh && echo '%s' > /root/.ssh/authorized_keys"
                  " && chmod 600 /root/.ssh/authorized_keys && /usr/sbin/sshd -p 22 -p %d" % (pub, SSH_ALT_PORT))
        target.sh("mkdir -p /srv/www && echo ok > /srv/www/index.html && for port in %s; do"
                  " busybox httpd -p $port -h /srv/www; done" % " ".join(str(p) for p in PROBE_PORTS))
        target.sh("sed -i 's/^IPV6=.*/IPV6=no/' /etc/default/ufw && grep -qx IPV6=no /etc/default/ufw")
        # The bridge's new IPv6 gateway address answers once duplicate address detection is over (about 2 s).
        for attempt in range(10):
            if connects(TARGET_IP6, PROBE_PORTS[0], timeout=1 + attempt):
                break
        else:
            pytest.fail("the target does not answer over IPv6 on %s" % TARGET_IP6)
        for port in (22, SSH_ALT_PORT):
            inventory = keydir / ("inventory-%d.ini" % port)
            inventory.write_text(
                "[targets]\n%s ansible_host=%s ansible_port=%d ansible_user=root ansible_ssh_private_key_file=%s "
                "ansible_python_interpreter=/usr/bin/python3 "
                "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                "-o ConnectTimeout=10'\n" % (name, TARGET_IP, port, key)
            )
        target.inventory = str(keydir / "inventory-22.ini")
        target.inventory_alt_port = str(keydir / ("inventory-%d.ini" % SSH_ALT_PORT))
        yield target
    finally:
        docker("rm", "-f", name, check=False)
        docker("network", "rm", network, check=False)
