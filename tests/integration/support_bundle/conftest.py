# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in hosts for the support_bundle role: three containers from the test image, each with the bundle command of
one generation installed as a shell script (standin/) and the same canary secrets seeded in logs, configuration,
a private key and the unseal key (seed/), and a GnuPG key pair on the controller playing HashiCorp support's.

The AMI's stand-in writes a bundle the test encrypted to that key beforehand (the test image has no gpg); the
Replicated and FDO stand-ins write plain tarballs of the seed, as those platforms do."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from tests.integration.containers import ContainerTarget, docker
from tests.integration.ptfe_emulator_fixture import ptfe
from tests.integration.ulimits.conftest import _test_image

__all__ = ["ptfe"]

HERE = Path(__file__).resolve().parent
SEED = HERE / "seed"
STANDIN = HERE / "standin"
UNSEAL_KEY = (SEED / "data" / "vault-unseal-key").read_text()
#: Every secret seeded on the hosts: none may reach the controller in clear, nor the play's output.
CANARIES = ("CANARY", UNSEAL_KEY, "MIIEvQ")
#: The one library gpg needs that the test image lacks.
GPG_LIBRARY = "/lib/x86_64-linux-gnu/libassuan.so.0"
GENERATIONS = ("ami", "replicated", "fdo")
SCRIPTS = {"ami": ["hashicorp-support"], "replicated": ["replicatedctl"], "fdo": ["docker", "tfectl"]}


class Gpg:
    """A throwaway GnuPG home on the controller with one key pair (no passphrase)."""

    def __init__(self, home):
        self.home = str(home)
        os.chmod(self.home, 0o700)
        self.run("--quick-generate-key", "Support Test <support-test@example.com>", "future-default", "default", "never")
        self.public_key = self.run("--armor", "--export", "support-test@example.com").stdout.decode()

    def run(self, *args, data=None):
        return subprocess.run(["gpg", "--batch", "--no-tty", "--homedir", self.home, "--passphrase", "", "--pinentry-mode",
                               "loopback", *args], input=data, capture_output=True, check=True, timeout=120)

    def encrypt(self, data):
        return self.run("--trust-model", "always", "--recipient", "support-test@example.com", "--encrypt", data=data).stdout

    def decrypt(self, path):
        return self.run("--decrypt", str(path)).stdout

    def stop(self):
        """Stop the gpg-agent that gpg started for this home (it outlives the tests otherwise)."""
        if shutil.which("gpgconf"):
            subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "gpg-agent"], capture_output=True, check=False,
                           timeout=30)


def seed_tarball():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(str(SEED), arcname=".")
    return buffer.getvalue()


def members(data):
    """{name: bytes} of the regular files of a tar.gz."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        return {m.name.lstrip("./"): archive.extractfile(m).read() for m in archive if m.isfile()}


class Host(ContainerTarget):
    """A stand-in host of one generation."""

    def __init__(self, name, inventory, generation):
        super().__init__(name, inventory)
        self.generation = generation

    def reset(self):
        self.sh("rm -rf /var/lib/ptfe-support-bundles /opt/standin/hang /opt/standin/hang.pid /opt/standin/bundle-fails"
                " /opt/standin/download-state /var/lib/replicated/support-bundles /run/terraform-enterprise")

    def install_gpg(self):
        """The controller's gpg (the test image has none; both are Debian 12), for encryption on the host."""
        docker("cp", "-L", shutil.which("gpg"), "%s:/usr/local/bin/gpg" % self.name)
        docker("cp", "-L", GPG_LIBRARY, "%s:%s" % (self.name, GPG_LIBRARY))

    def remove_gpg(self):
        self.sh("rm -f /usr/local/bin/gpg %s" % GPG_LIBRARY)

    def listing(self, path):
        return sorted(self.sh("ls -1A %s 2>/dev/null || true" % path).stdout.split())


@pytest.fixture(scope="session")
def gpg(tmp_path_factory):
    if shutil.which("gpg") is None:
        pytest.fail("gpg is not installed on the controller: these tests need it (bindep.txt: gnupg)")
    keys = Gpg(tmp_path_factory.mktemp("gnupg"))
    try:
        yield keys
    finally:
        keys.stop()


@pytest.fixture(scope="session")
def hosts(tmp_path_factory, gpg):
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        pytest.fail("no Docker engine answers: these tests need one (make host starts it)")
    image = _test_image()
    if not image:
        pytest.fail("PTFE_TEST_IMAGE is not set and .tmp/images.env is missing: run `make images`")
    work = tmp_path_factory.mktemp("support_bundle_hosts")
    (work / "ami-bundle.tar.gz.enc").write_bytes(gpg.encrypt(seed_tarball()))
    suffix = uuid.uuid4().hex[:8]
    made = {}
    try:
        for generation in GENERATIONS:
            name = "ptfe-bundle-%s-%s" % (generation, suffix)
            docker("run", "-d", "--name", name, image, "sleep", "infinity")
            made[generation] = name
            docker("cp", str(SEED) + "/.", "%s:/" % name)
            docker("exec", name, "mkdir", "-p", "/opt/standin/seed")
            docker("cp", str(SEED) + "/.", "%s:/opt/standin/seed" % name)
            for script in SCRIPTS[generation]:
                docker("cp", str(STANDIN / script), "%s:/usr/local/bin/%s" % (name, script))
            if generation == "ami":
                docker("cp", str(work / "ami-bundle.tar.gz.enc"), "%s:/opt/standin/ami-bundle.tar.gz.enc" % name)
            else:
                docker("exec", name, "rm", "-f", "/data/vault-unseal-key")
        inventory = work / "inventory.ini"
        inventory.write_text("".join(
            "%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n" % name
            for name in made.values()))
        yield {generation: Host(name, str(inventory), generation) for generation, name in made.items()}
    finally:
        for name in made.values():
            docker("rm", "-f", name, check=False)


@pytest.fixture
def stand_ins(hosts):
    """The three hosts, with what earlier runs left removed."""
    for host in hosts.values():
        host.reset()
    return hosts
