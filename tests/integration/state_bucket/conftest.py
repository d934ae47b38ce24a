# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the state_bucket tests: moto's S3/KMS server on 127.0.0.1 over HTTPS with a throwaway CA."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from tests.emulators.tls import make_ca_and_cert

REGION = "eu-west-1"
# moto accepts any credentials; these are canaries that must never be printed.
ACCESS_KEY = "AKIASTATEBUCKETTEST1"
SECRET_KEY = "sbSecretCanary-7f3a9c1e5d2b8a6f4e0c"
SESSION_TOKEN = "sbTokenCanary-1c2d3e4f5a6b7c8d9e0f"


class Moto:
    def __init__(self, url: str, ca: Path):
        self.url = url
        self.ca = ca

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, verify=str(self.ca),
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    """moto_server on 127.0.0.1, a free port, HTTPS; always stopped."""
    tmp = tmp_path_factory.mktemp("moto")
    ca, cert, key = (Path(p) for p in make_ca_and_cert(str(tmp)))
    log = (tmp / "moto.log").open("w+")
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", "0", "-c", str(cert), "-k", str(key)],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            log.seek(0)
            m = re.search(r"Running on (https://127\.0\.0\.1:\d+)", log.read())
            url = m.group(1) if m else None
        if url is None:
            log.seek(0)
            pytest.fail(f"moto_server did not start: {log.read()[-2000:]}")
        yield Moto(url, ca)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def kms_key(moto):
    """A KMS key in moto (its ARN) plus an alias for it."""
    kms = moto.client("kms")
    meta = kms.create_key(Description="ptfe install state")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ptfe-state", TargetKeyId=meta["KeyId"])
    return meta["Arn"]


# The secret parts of the credentials travel in the environment (see playbooks/state_bucket.yml), so that
# they are not on the ansible-playbook command line, which -vvvv prints.
SECRET_ENV = {"STATE_BUCKET_TEST_SECRET_KEY": SECRET_KEY, "STATE_BUCKET_TEST_SESSION_TOKEN": SESSION_TOKEN}


@pytest.fixture
def role_vars(moto, tmp_path):
    """Variables for one run of the role against moto; the test picks the bucket name."""
    def make(bucket: str, **overrides):
        data = {
            "state_bucket_name": bucket,
            "state_bucket_region": REGION,
            "state_bucket_endpoint_url": moto.url,
            "state_bucket_ca_bundle": str(moto.ca),
            "state_bucket_access_key": ACCESS_KEY,
            "state_bucket_backend_path": str(tmp_path / "install" / "backend.tf"),
        }
        (tmp_path / "install").mkdir(exist_ok=True)
        data.update(overrides)
        return data
    return make
