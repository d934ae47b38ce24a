# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the state_bucket tests: the worker's moto server (S3/KMS on 127.0.0.1 over HTTPS, see
tests/integration/conftest.py) with this directory's canary credentials."""
from __future__ import annotations

import pytest

from tests.integration.conftest import MotoAccount

REGION = "eu-west-1"
# moto accepts any credentials; these are canaries that must never be printed.
ACCESS_KEY = "AKIASTATEBUCKETTEST1"
SECRET_KEY = "sbSecretCanary-7f3a9c1e5d2b8a6f4e0c"
SESSION_TOKEN = "sbTokenCanary-1c2d3e4f5a6b7c8d9e0f"


@pytest.fixture(scope="session")
def moto(moto_server):
    """moto with the state_bucket canary credentials."""
    return MotoAccount(moto_server, REGION, ACCESS_KEY, SECRET_KEY)


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
