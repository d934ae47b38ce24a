# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stand-ins playbooks/install.yml runs against, as `make demo` starts them (hack/demo.py): the PTFE emulator,
a releases mirror, OpenBao with one self-managed key, moto's S3 and KMS and a Debian container as the PTFE host.

Used by the ansible-runner test and by the re-run benchmark (tests/benchmarks/install_rerun.py). Here both the
unseal keys and the admin token are kept in S3, as an AWX job needs them; everything else is the demo's inventory.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
AWS_ACCESS_KEY = "AKIARUNNERSTANDIN01"
#: The admin token's object, beside the unseal keys' in the demo's keys bucket.
TOKEN_OBJECT = "ptfe-ops/admin-token/ptfe.json"


def load_demo(name):
    """hack/demo.py as a module, its work directory, host and objects named after ``name``."""
    os.environ["PTFE_DEMO_NAME"] = name
    spec = importlib.util.spec_from_file_location("ptfe_demo_%s" % name.replace("-", "_"), ROOT / "hack" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def host_image():
    """The Debian 12 test image (built when missing, cached otherwise)."""
    image = os.environ.get("PTFE_TEST_IMAGE")
    if image:
        return image
    out = subprocess.run([str(ROOT / "tests" / "images" / "build.sh"), "debian12"], capture_output=True, text=True,
                         check=True, timeout=900).stdout
    return out.strip().splitlines()[-1]


class StandIns:
    """A context manager: the servers and the host started, ``inventory`` (the demo's, keys and token in S3),
    ``env`` (what a job's credentials inject), ``secrets`` (canaries known before a run), ``s3()``; all stopped at
    exit."""

    def __init__(self, name, image, token_file):
        self.demo = load_demo(name)
        self.image = image
        self.token_file = Path(token_file)
        self.aws_secret = "runnerAwsSecretCanary-%s" % os.urandom(6).hex()
        self.admin_password = "runner-admin-password-%s" % os.urandom(6).hex()
        self.servers = []
        self.ptfe = self.mirror = self.bao = self.moto = None
        self.inventory = self.env = None

    def s3(self):
        return self.moto.client("s3", self.demo.REGION, AWS_ACCESS_KEY, self.aws_secret)

    def __enter__(self):
        demo = self.demo
        try:
            for sub in ("secrets", "install", "servers"):
                (demo.WORK / sub).mkdir(parents=True, mode=0o700, exist_ok=True)
            self.ptfe = demo.start_emulator({"iact_subnet_list": "127.0.0.0/8", "iact_subnet_time_limit": "60"},
                                            str(demo.WORK / "servers" / "ptfe"))
            self.servers.append(self.ptfe)
            self.mirror = demo.ReleasesMirror(demo.WORK / "servers" / "releases").start()
            self.servers.append(self.mirror)
            for version in demo.VERSIONS:
                self.mirror.add_version(version, size=64 * 1024)
            self.bao = demo.start_openbao(demo.WORK / "servers" / "openbao", shares=1, threshold=1)
            self.servers.append(self.bao)
            self.moto = demo.start_moto(demo.WORK / "servers" / "moto")
            self.servers.append(self.moto)
            kms_arn = self.moto.client("kms", demo.REGION, AWS_ACCESS_KEY, self.aws_secret).create_key(
                Description="ptfe install state and secrets")["KeyMetadata"]["Arn"]
            self.s3().create_bucket(Bucket=demo.KEYS_BUCKET,
                                    CreateBucketConfiguration={"LocationConstraint": demo.REGION})
            self.s3().put_bucket_versioning(Bucket=demo.KEYS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
            demo.start_host(self.image)
            subprocess.run(["docker", "exec", "-i", demo.HOST, "sh", "-c",
                            "mkdir -p /data && umask 077 && cat > /data/vault-unseal-key"],
                           input=self.bao.unseal_keys[0], text=True, check=True, capture_output=True)
            self.inventory = demo.inventory(self.ptfe, self.mirror, self.bao, self.moto, kms_arn)
            group = self.inventory["all"]["children"]["ptfe"]["vars"]
            group.update({
                "ptfe_admin_token_file": str(self.token_file),
                "initial_admin_token_custody": "s3",
                "initial_admin_token_s3_bucket": demo.KEYS_BUCKET,
                "initial_admin_token_s3_object": TOKEN_OBJECT,
                "initial_admin_token_s3_kms_key_id": kms_arn,
                "initial_admin_token_s3_region": demo.REGION,
                "initial_admin_token_s3_endpoint_url": self.moto.url,
                "initial_admin_token_s3_ca_bundle": str(self.moto.ca),
            })
            self.env = {
                "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".tmp" / "collections"),
                "ANSIBLE_FORCE_COLOR": "false",
                "ANSIBLE_HOST_KEY_CHECKING": "false",
                "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
                "ANSIBLE_PIPELINING": "true",
                "PATH": "%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", "")),
                "DEMO_ADMIN_PASSWORD": self.admin_password,
                "DEMO_VAULT_TOKEN": self.bao.root_token,
                "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": self.aws_secret,
            }
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @property
    def secrets(self):
        """Every secret known before the first run: the admin password, the Vault root token, the instance's own
        unseal key and the AWS secret key."""
        return [self.admin_password, self.bao.root_token, self.bao.unseal_keys[0], self.aws_secret]

    def __exit__(self, *exc):
        self.demo.docker("rm", "-f", self.demo.HOST, check=False)
        for server in reversed(self.servers):
            server.stop()
        self.servers = []
