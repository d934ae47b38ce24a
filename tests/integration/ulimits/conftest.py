# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throwaway containers for playbook runs of the ulimits role: one from the plain test image, and one that runs its
own Docker engine (debian12-docker) for the restart guard that keeps Vault unsealed.

Each is booted once per test worker and put back before every test into the state it had after its set-up (what the
role writes removed; for the engine container also the engine restarted with its first configuration), which the
hand-over reads back."""
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
# What the role writes besides the Docker daemon configuration: removed before every test.
ROLE_FILES = "/etc/security/limits.d/nofile.conf /etc/systemd/system.conf.d /etc/systemd/user.conf.d"


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
        self.sh("rm -rf %s /etc/docker" % ROLE_FILES)

    def write(self, path, content):
        subprocess.run(
            ["docker", "exec", "-i", self.name, "sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"", "sh", path],
            input=content, text=True, check=True, capture_output=True, timeout=60,
        )

    def read(self, path):
        return self.sh("cat '%s'" % path).stdout


@pytest.fixture(scope="session")
def target_container(tmp_path_factory):
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        pytest.fail("no Docker engine answers: these tests need one (make host starts it)")
    image = _test_image()
    if not image:
        pytest.fail("PTFE_TEST_IMAGE is not set and .tmp/images.env is missing: run `make images`")
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


# What a nested dockerd needs short of `privileged` (which needs CAP_SYS_RESOURCE, withheld here): every
# capability but SYS_RESOURCE, unconfined seccomp/apparmor/systempaths and the host's cgroup tree.
NESTED_DOCKER_CAPS = (
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH",
    "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE",
    "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
    "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
    "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
)
NESTED_IMAGE = "ptfe-fw/busybox:latest"
VAULT_CONTAINER = "vault"
# The engine is started by Debian's own init script, the one Ansible's service module calls to restart it. The
# script raises its open-file limit to 1048576 first, which root cannot do without CAP_SYS_RESOURCE; that line
# must not stop it here. The stand-in for Vault's container stops at once on SIGTERM and comes back with the
# engine (restart policy), as PTFE's containers do.
ENGINE_CONFIG = '{"storage-driver": "vfs"}'
WAIT_FOR_ENGINE = "i=0; until docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done"
ENGINE_SETUP = r"""
set -e
sed -i 's/^\(\s*ulimit .*\)$/\1 || true/' /etc/init.d/docker
mkdir -p /etc/docker /data
echo '%(config)s' > /etc/docker/daemon.json
/etc/init.d/docker start >/dev/null 2>&1
%(wait)s
docker import /opt/ptfe-fw/rootfs.tar %(image)s >/dev/null
docker run -d --name %(vault)s --restart always %(image)s sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null
""" % {"image": NESTED_IMAGE, "vault": VAULT_CONTAINER, "config": ENGINE_CONFIG,
       "wait": WAIT_FOR_ENGINE}
# Back to the state after ENGINE_SETUP: nothing the role writes, no unseal key file, the first daemon.json, and an
# engine started with it. The engine the set-up started (its pid is $1) is kept while it runs; any other one (the role
# restarted it) or none is restarted, which brings the Vault stand-in back too (restart policy). Stopped (by a test)
# it is started again.
ENGINE_RESET = r"""
set -e
rm -rf %(role_files)s /data/vault-unseal-key
echo '%(config)s' > /etc/docker/daemon.json
pid=$(cat /var/run/docker-ssd.pid 2>/dev/null || true)
if [ "$pid" != "$1" ] || ! kill -0 "$pid" 2>/dev/null; then /etc/init.d/docker restart >/dev/null 2>&1; fi
%(wait)s
docker start %(vault)s >/dev/null
""" % {"vault": VAULT_CONTAINER, "config": ENGINE_CONFIG, "wait": WAIT_FOR_ENGINE, "role_files": ROLE_FILES}


class DockerTarget(Target):
    """A container running its own Docker engine, with a stand-in for PTFE's Vault container."""

    clean_engine = clean_nofile = None  # the engine's pid and a new container's limits after the set-up (settle)

    def engine(self):
        """The pid of the running dockerd (from the init script's pid file), checked to be alive."""
        return self.sh('pid=$(cat /var/run/docker-ssd.pid) && kill -0 "$pid" && echo "$pid"').stdout.strip()

    def wait_for_engine(self):
        self.sh(WAIT_FOR_ENGINE)

    def vault_started(self):
        """When the Vault stand-in started, and whether it runs."""
        return self.sh("docker inspect -f '{{.State.StartedAt}} {{.State.Running}}' %s" % VAULT_CONTAINER).stdout.strip()

    def new_container_nofile(self):
        """Soft and hard open-file limit of a container created now."""
        return self.sh("docker run --rm %s sh -c 'echo $(ulimit -Sn) $(ulimit -Hn)'" % NESTED_IMAGE).stdout.strip()

    def settle(self):
        """Take the state right after ENGINE_SETUP as the one every test starts from."""
        self.clean_engine = self.engine()
        self.clean_nofile = self.new_container_nofile()

    def reset(self):
        """Put the container back into the settled state (its engine needs /etc/docker), and prove it is there."""
        docker("exec", self.name, "sh", "-c", ENGINE_RESET, "sh", self.clean_engine)
        self.clean_engine = self.engine()  # a new pid when the engine had to be restarted
        assert self.read("/etc/docker/daemon.json") == ENGINE_CONFIG + "\n"
        assert self.sh("test -e /data/vault-unseal-key", check=False).returncode != 0
        assert self.vault_started().endswith(" true")
        # New containers get the limits of the first configuration again, not those a test's run put in force.
        assert self.new_container_nofile() == self.clean_nofile


@pytest.fixture(scope="session")
def docker_engine_image():
    """The debian12-docker test image (built once and cached by tests/images/build.sh)."""
    out = subprocess.run([str(ROOT / "tests" / "images" / "build.sh"), "debian12-docker"], capture_output=True,
                         text=True, check=True, timeout=1800).stdout
    return out.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def docker_engine_container(docker_engine_image, tmp_path_factory):
    """A container whose own Docker engine runs the Vault stand-in, booted once per test worker (the scheduler in
    tests/integration/conftest.py hands test_ulimits_vault_seal.py to one worker whole: one boot)."""
    name = "ptfe-ulimits-engine-it-%s" % uuid.uuid4().hex[:8]
    args = ["run", "-d", "--init", "--name", name]
    for cap in NESTED_DOCKER_CAPS:
        args += ["--cap-add", cap]
    args += ["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
             "--security-opt", "systempaths=unconfined", "--cgroupns", "host",
             "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", docker_engine_image, "sleep", "infinity"]
    docker(*args)
    try:
        inventory = tmp_path_factory.mktemp("ulimits-engine") / "inventory.ini"
        inventory.write_text(
            "%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n" % name
        )
        target = DockerTarget(name, str(inventory))
        target.sh(ENGINE_SETUP)
        target.settle()
        yield target
    finally:
        docker("rm", "-f", "-v", name, check=False)


@pytest.fixture
def docker_target(docker_engine_container):
    """The engine container as right after its set-up: its engine started with the first daemon.json, the Vault
    stand-in running, no unseal key file in /data."""
    docker_engine_container.reset()
    return docker_engine_container
