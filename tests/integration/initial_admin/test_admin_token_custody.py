# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The admin token kept in S3 (initial_admin_token_custody=s3), as an AWX job needs it: the first run stores it,
a later run in a fresh container (no token file) reads it from there and changes nothing, and a token document
of another installation is neither used nor written over. Real ansible-playbook runs against the PTFE emulator
and moto's S3 and KMS; everything is read back from the servers."""
from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import MotoAccount, assert_no_secret, run_playbook
from tests.integration.initial_admin.conftest import ADMIN_PASSWORD, role_vars
from tests.integration.ptfe_emulator_fixture import read_back, writes

HERE = Path(__file__).resolve().parent
ROLE = HERE / "playbooks" / "role.yml"
REGION = "eu-west-1"
# moto accepts any credentials; these are canaries that must never be printed.
ACCESS_KEY = "AKIAADMINTOKENTEST01"
SECRET_KEY = "adminTokenSecretCanary-9c41d2e7"
OBJECT = "ptfe-ops/admin-token/ptfe.json"


@pytest.fixture
def s3(moto_server):
    """A versioned bucket of its own and a KMS key, in the worker's moto server."""
    account = MotoAccount(moto_server, REGION, ACCESS_KEY, SECRET_KEY)
    account.bucket = "admin-token-%s" % uuid.uuid4().hex[:12]
    client = account.client("s3")
    client.create_bucket(Bucket=account.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=account.bucket, VersioningConfiguration={"Status": "Enabled"})
    account.kms_arn = account.client("kms").create_key(Description="admin token")["KeyMetadata"]["Arn"]
    return account


def custody_vars(emulator, token_file, s3, **overrides):
    values = role_vars(emulator, token_file, initial_admin_organization="acme",
                       initial_admin_token_custody="s3",
                       initial_admin_token_s3_bucket=s3.bucket,
                       initial_admin_token_s3_object=OBJECT,
                       initial_admin_token_s3_kms_key_id=s3.kms_arn,
                       initial_admin_token_s3_region=REGION,
                       initial_admin_token_s3_endpoint_url=s3.url,
                       initial_admin_token_s3_ca_bundle=s3.ca)
    values.update(overrides)
    return values


def versions(s3):
    listing = s3.client("s3").list_object_versions(Bucket=s3.bucket, Prefix=OBJECT)
    return [v["VersionId"] for v in listing.get("Versions", [])]


def stored(s3):
    """The token document and the object's encryption, read past the modules."""
    obj = s3.client("s3").get_object(Bucket=s3.bucket, Key=OBJECT)
    return json.loads(obj["Body"].read()), obj.get("ServerSideEncryption"), obj.get("SSEKMSKeyId")


def test_a_fresh_container_reads_the_token_from_s3_and_changes_nothing(ptfe, secrets_dir, s3):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    extra = custody_vars(emu, token_file, s3)

    first = run_playbook(ROLE, extra, env=s3.env)
    assert first.rc == 0, first.output
    assert first.changed >= 1
    token = token_file.read_text().strip()
    document, encryption, kms_key = stored(s3)
    assert document["kind"] == "ptfe-admin-token" and document["token"] == token
    assert document["installation"] == emu.url.lower().rstrip("/") and document["username"] == "admin"
    assert encryption == "aws:kms" and kms_key == s3.kms_arn
    assert versions(s3) and len(versions(s3)) == 1
    assert read_back(emu, "GET", "/api/v2/account/details", token=token).json()["data"]["attributes"][
        "is-site-admin"] is True
    assert "Stored the API token in s3://%s/%s (SSE-KMS, read back)" % (s3.bucket, OBJECT) in first.stdout

    # The next job runs in a fresh container: no token file.
    token_file.unlink()
    emu.control("DELETE", "requests")
    checked = run_playbook(ROLE, extra, env=s3.env, check=True)
    assert checked.rc == 0 and checked.changed == 0, checked.output
    assert not token_file.exists()
    assert writes(emu) == []

    second = run_playbook(ROLE, extra, env=s3.env)
    assert second.rc == 0, second.output
    assert second.changed == 0, second.output
    assert "already has its admin" in second.stdout
    assert writes(emu) == []
    assert not [e for e in emu.requests_log() if e["path"].startswith("/admin/")]
    assert len(versions(s3)) == 1, "the re-run wrote the token object again"
    assert token_file.read_text().strip() == token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [o["name"] for o in emu.state()["organizations"]] == ["acme"] and len(emu.state()["users"]) == 1
    for run in (first, checked, second):
        assert_no_secret(run, token, ADMIN_PASSWORD, SECRET_KEY)


def test_the_token_of_another_installation_is_neither_used_nor_overwritten(ptfe, secrets_dir, s3):
    first_install, other_install = ptfe(), ptfe()
    first = run_playbook(ROLE, custody_vars(first_install, secrets_dir / "first.token", s3), env=s3.env)
    assert first.rc == 0, first.output
    before = stored(s3)[0]

    other = run_playbook(ROLE, custody_vars(other_install, secrets_dir / "other.token", s3), env=s3.env)
    assert other.rc != 0
    assert "Refusing to use s3://%s/%s: it holds the admin token of the installation at %s, not of %s" % (
        s3.bucket, OBJECT, first_install.url.lower(), other_install.url.lower()) in other.stdout
    assert other_install.state()["users"] == [] and writes(other_install) == []
    assert stored(s3)[0] == before and len(versions(s3)) == 1
    assert not (secrets_dir / "other.token").exists()
    assert_no_secret(other, before["token"], ADMIN_PASSWORD, SECRET_KEY)


def test_a_bucket_without_versioning_is_refused_before_the_admin_is_created(ptfe, secrets_dir, s3):
    emu = ptfe()
    s3.client("s3").put_bucket_versioning(Bucket=s3.bucket, VersioningConfiguration={"Status": "Suspended"})
    token_file = secrets_dir / "admin.token"
    result = run_playbook(ROLE, custody_vars(emu, token_file, s3), env=s3.env)
    assert result.rc != 0
    assert "its token could not be stored in s3://%s/%s: s3_bucket: bucket %s does not have versioning enabled" % (
        s3.bucket, OBJECT, s3.bucket) in result.stdout
    assert "Nothing was created" in result.stdout
    assert emu.state()["users"] == [] and emu.state()["iact_used"] is False
    assert not token_file.exists() and versions(s3) == []


def test_s3_options_without_custody_s3_are_refused_before_any_request(ptfe, secrets_dir, s3):
    emu = ptfe()
    result = run_playbook(ROLE, custody_vars(emu, secrets_dir / "admin.token", s3,
                                             initial_admin_token_custody="file"), env=s3.env)
    assert result.rc != 0
    assert "s3_bucket is only used with custody=s3" in result.stdout
    assert writes(emu) == [] and emu.state()["users"] == []
