"""The state_bucket role, given malformed variables: refused by name before the first call to S3, no bucket
created, no backend.tf written, no credential printed (harness.py).

Every case runs against its own moto server (S3 and KMS over HTTPS) with its own bucket name and backend.tf path,
so that "nothing changed" is read per case: the bucket list is the same as before the batch, and the case's
backend.tf does not exist. The dangerous but legal choices the table refuses are then taken with their opt-in
variables, and warned about.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from tests.emulators.moto import start_moto
from tests.integration.bad_input.harness import Case, assert_refused, run_batch
from tests.integration.conftest import run_playbook
from tests.integration.state_bucket.conftest import ACCESS_KEY, REGION, SECRET_ENV, SECRET_KEY, SESSION_TOKEN

PLAYBOOK = "bad_input/playbooks/state_bucket.yml"
URL_PASSWORD = "canary-endpoint-password-2b7d"
OTHER_REGION = "us-east-1"
KEY_ARN = "arn:aws:kms:%s:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PUBLIC = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
NOT_A_BUCKET = "is not a valid S3 bucket name"


def statement(**overrides):
    """An extra policy statement; its resource, the case's bucket, is filled in per case (``_with_defaults``)."""
    body = dict(PUBLIC, Principal={"AWS": "arn:aws:iam::111122223333:role/ci"}, Sid="ReadState")
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


CASES = [
    # the bucket's name and region
    Case("name_uppercase", {"state_bucket_name": "Ptfe_State"}, "state_bucket_name 'Ptfe_State' " + NOT_A_BUCKET),
    Case("name_newline", {"state_bucket_name": "ptfe-state\n"}, "state_bucket_name 'ptfe-state\\n' " + NOT_A_BUCKET),
    Case("name_short", {"state_bucket_name": "ab"}, NOT_A_BUCKET + ": it has 2 characters"),
    Case("name_ip_address", {"state_bucket_name": "192.168.10.20"}, NOT_A_BUCKET + ": it has the form of an IP"),
    Case("name_reserved_prefix", {"state_bucket_name": "xn--ptfe-state"}, NOT_A_BUCKET + ": it begins with the"),
    Case("name_dotdot", {"state_bucket_name": "ptfe..state"}, NOT_A_BUCKET + ": it holds '..'"),
    Case("name_arabic_digit", {"state_bucket_name": "ptfe-state-\u0661"}, NOT_A_BUCKET + ": it holds characters"),
    Case("region_words", {"state_bucket_region": "Ireland"}, "state_bucket_region 'Ireland' is not an AWS region"),
    Case("region_newline", {"state_bucket_region": "eu-west-1\n"}, "state_bucket_region 'eu-west-1\\n' is not an AWS"),
    Case("region_upper", {"state_bucket_region": "EU-WEST-1"}, "state_bucket_region 'EU-WEST-1' is not an AWS region"),
    # the KMS key (issue item 9: a key of another region)
    Case("kms_bare_id", {"state_bucket_kms_key": "2feb8806-1e58-4707-a2b4-de9137ab4b86"},
         "state_bucket_kms_key '2feb8806-1e58-4707-a2b4-de9137ab4b86' is not a KMS key ARN"),
    Case("kms_newline", {"state_bucket_kms_key": "alias/ptfe-state\n"},
         "state_bucket_kms_key 'alias/ptfe-state\\n' is not a KMS key ARN"),
    Case("kms_other_region", {"state_bucket_kms_key": KEY_ARN % OTHER_REGION},
         "state_bucket_kms_key is a key of region us-east-1, but the bucket is in eu-west-1"),
    Case("kms_other_region_alias_arn",
         {"state_bucket_kms_key": "arn:aws:kms:eu-central-1:111122223333:alias/ptfe-state"},
         "state_bucket_kms_key is a key of region eu-central-1"),
    Case("kms_with_aes256", {"state_bucket_encryption": "AES256"},
         "state_bucket_kms_key is set but state_bucket_encryption is AES256"),
    Case("encryption_unknown", {"state_bucket_encryption": "aws:kms:dsse"}, "state_bucket_encryption"),
    # the lifecycle rule
    Case("days_zero", {"state_bucket_noncurrent_version_expiration_days": 0},
         "state_bucket_noncurrent_version_expiration_days must be 1 or more"),
    Case("days_arabic_digit", {"state_bucket_noncurrent_version_expiration_days": "\u0665"},
         "state_bucket_noncurrent_version_expiration_days must be 1 or more"),
    Case("days_words", {"state_bucket_noncurrent_version_expiration_days": "ninety"},
         "state_bucket_noncurrent_version_expiration_days"),
    Case("rule_id_newline", {"state_bucket_lifecycle_rule_id": "expire\nnoncurrent"},
         "state_bucket_lifecycle_rule_id must not contain a newline"),
    Case("rule_id_long", {"state_bucket_lifecycle_rule_id": "r" * 256},
         "state_bucket_lifecycle_rule_id must be 1 to 255 characters (got 256)"),
    # the state key, written to backend.tf (issue item 4)
    Case("state_key_injection", {"state_bucket_state_key": 'env/" \n  bucket = "attacker-bucket'},
         "state_bucket_state_key 'env/\" \\n  bucket = \"attacker-bucket' must be an object key"),
    Case("state_key_carriage_return", {"state_bucket_state_key": "env/state\r"},
         "state_bucket_state_key 'env/state\\r'"),
    Case("state_key_leading_slash", {"state_bucket_state_key": "/state.tfstate"},
         "state_bucket_state_key '/state.tfstate' must be an object key"),
    Case("state_key_too_long", {"state_bucket_state_key": "k" * 1025},
         "state_bucket_state_key must be at most 1024 bytes long, got 1025"),
    # state locking
    Case("dynamodb_without_table", {"state_bucket_lock": "dynamodb"},
         "state_bucket_dynamodb_table '' must name a DynamoDB table"),
    Case("dynamodb_table_newline", {"state_bucket_lock": "dynamodb", "state_bucket_dynamodb_table": "locks\n"},
         "state_bucket_dynamodb_table 'locks\\n' must name a DynamoDB table"),
    Case("lock_unknown", {"state_bucket_lock": "consul"}, "state_bucket_lock"),
    # the endpoint
    Case("endpoint_ftp", {"state_bucket_endpoint_url": "ftp://127.0.0.1"},
         "state_bucket_endpoint_url must be a URL such as https://host[:port] (allowed schemes: https, http)"),
    Case("endpoint_password", {"state_bucket_endpoint_url": "https://ops:%s@127.0.0.1:1" % URL_PASSWORD},
         "state_bucket_endpoint_url must not hold a user name or password"),
    Case("endpoint_path", {"state_bucket_endpoint_url": "https://127.0.0.1:1/s3"},
         "state_bucket_endpoint_url must be the address of the server only"),
    Case("endpoint_newline", {"state_bucket_endpoint_url": "https://127.0.0.1:1\n"},
         "state_bucket_endpoint_url must not contain a newline"),
    Case("endpoint_backslash", {"state_bucket_endpoint_url": "https://moto\\x:1"},
         "state_bucket_endpoint_url must name its host with letters"),
    # backend.tf
    Case("backend_relative", {"state_bucket_backend_path": "backend.tf"},
         "state_bucket_backend_path must be an absolute path ending in .tf"),
    Case("backend_dotdot", {"state_bucket_backend_path": "CASE_DIR/../case_backend_dotdot/backend.tf"},
         "state_bucket_backend_path must be an absolute path ending in .tf, without '.' or '..' parts"),
    Case("backend_newline", {"state_bucket_backend_path": "CASE_DIR/backend\n.tf"},
         "state_bucket_backend_path must be an absolute path ending in .tf"),
    Case("backend_no_directory", {"state_bucket_backend_path": "/nonexistent-dir/backend.tf"},
         "state_bucket_backend_path: directory /nonexistent-dir does not exist"),
    Case("backend_mode_loose", {"state_bucket_backend_mode": "0644"}, "state_bucket_backend_mode must be one of"),
    # the connection and the credentials (never quoted)
    Case("ca_bundle_missing", {"state_bucket_ca_bundle": "/nonexistent/moto-ca.pem"},
         "state_bucket_ca_bundle must name a PEM file on the controller"),
    Case("ca_bundle_relative", {"state_bucket_ca_bundle": "moto-ca.pem"}, "state_bucket_ca_bundle must be an absolute"),
    Case("profile_space", {"state_bucket_profile": "ptfe prod", "state_bucket_access_key": ""},
         "state_bucket_profile must not contain white space"),
    Case("profile_and_keys", {"state_bucket_profile": "ptfe"},
         "state_bucket_profile and state_bucket_access_key are mutually exclusive"),
    Case("access_key_newline", {"state_bucket_access_key": ACCESS_KEY + "\n"},
         "state_bucket_access_key must not contain a newline"),
    Case("access_key_shape", {"state_bucket_access_key": "akia-state"},
         "state_bucket_access_key must be an AWS access"),
    Case("secret_key_newline", {"secret_key": SECRET_KEY + "\n"}, "state_bucket_secret_key must not contain a newline"),
    Case("secret_key_space", {"secret_key": SECRET_KEY + " "}, "state_bucket_secret_key must not contain white space"),
    Case("session_token_newline", {"session_token": SESSION_TOKEN + "\n"},
         "state_bucket_session_token must not contain a newline"),
    # tags
    Case("tag_aws_prefix", {"state_bucket_tags": {"aws:owner": "ops"}}, "the tag name 'aws:owner' begins with aws:"),
    Case("tag_value_newline", {"state_bucket_tags": {"team": "ops\nx"}}, "the value of 'team' must be at most 256"),
    Case("tags_not_a_mapping", {"state_bucket_tags": "team"}, "state_bucket_tags"),
    # extra policy statements (issue item 9: a public statement)
    Case("statement_principal_star", {"state_bucket_policy_extra_statements": [statement(Principal="*")]},
         "state_bucket_policy_extra_statements[0] allows everyone"),
    Case("statement_aws_star", {"state_bucket_policy_extra_statements": [statement(Principal={"AWS": ["*"]})]},
         "state_bucket_policy_extra_statements[0] allows everyone"),
    Case("statement_not_principal", {"state_bucket_policy_extra_statements": [
        statement(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"})]},
        "state_bucket_policy_extra_statements[0] allows everyone"),
    Case("statement_condition_on_tls_only", {"state_bucket_policy_extra_statements": [
        statement(Principal="*", Condition={"Bool": {"aws:SecureTransport": "true"}})]},
        "state_bucket_policy_extra_statements[0] allows everyone"),
    Case("statement_second_public", {"state_bucket_policy_extra_statements": [
        statement(), statement(Sid="Public", Principal="*")]},
        "state_bucket_policy_extra_statements[1] allows everyone"),
    Case("statement_other_bucket", {"state_bucket_policy_extra_statements": [
        statement(Resource="arn:aws:s3:::someone-elses-bucket/*")]},
        "state_bucket_policy_extra_statements[0].Resource must name this bucket"),
    Case("statement_unknown_key", {"state_bucket_policy_extra_statements": [statement(Efect="Allow")]},
         "state_bucket_policy_extra_statements[0] has the unknown key 'Efect'"),
    Case("statement_own_sid", {"state_bucket_policy_extra_statements": [statement(Sid="DenyInsecureTransport")]},
         "state_bucket_policy_extra_statements[0].Sid DenyInsecureTransport is the role's own"),
    Case("statement_iam_action", {"state_bucket_policy_extra_statements": [statement(Action="iam:PassRole")]},
         "state_bucket_policy_extra_statements[0].Action must list S3 actions"),
    Case("statements_not_mappings", {"state_bucket_policy_extra_statements": ["Allow everyone"]},
         "state_bucket_policy_extra_statements"),
]


def _bucket_of(case):
    """The case's own bucket name: a valid one unless the case is about the name."""
    return "bi-" + re.sub(r"[^a-z0-9]+", "-", case.id.lower()).strip("-")


def _with_defaults(case, base):
    """The case with its own bucket and backend.tf path (CASE_DIR stands for its directory, so that a path that got
    through is written there and nowhere else), and the statements' resources on its bucket."""
    data = {"state_bucket_name": _bucket_of(case),
            "state_bucket_backend_path": str(base / case.host / "backend.tf")}
    (base / case.host).mkdir(parents=True, exist_ok=True)
    data.update({name: value.replace("CASE_DIR", str(base / case.host)) if isinstance(value, str) else value
                 for name, value in case.vars.items()})
    bucket = str(data["state_bucket_name"])
    statements = data.get("state_bucket_policy_extra_statements")
    if isinstance(statements, list):
        data["state_bucket_policy_extra_statements"] = [
            dict({"Resource": "arn:aws:s3:::%s/*" % bucket}, **item) if isinstance(item, dict) else item
            for item in statements]
    return dataclasses.replace(case, vars=data)


class Moto:
    """This table's moto server (S3 and KMS over HTTPS), seen with the state_bucket tests' canary credentials."""

    def __init__(self, server):
        self.server, self.url, self.ca = server, server.url, str(server.ca)

    def client(self, service, region=REGION):
        return self.server.client(service, region, ACCESS_KEY, SECRET_KEY)


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto_server on 127.0.0.1, a free port, HTTPS, with the KMS alias the role's default key names."""
    try:
        server = start_moto(tmp_path_factory.mktemp("moto"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        account = Moto(server)
        kms = account.client("kms")
        key = kms.create_key(Description="ptfe install state")["KeyMetadata"]
        kms.create_alias(AliasName="alias/ptfe-state", TargetKeyId=key["KeyId"])
        yield account
    finally:
        server.stop()


def common_vars(moto):
    return {"state_bucket_region": REGION, "state_bucket_endpoint_url": moto.url,
            "state_bucket_ca_bundle": moto.ca, "state_bucket_access_key": ACCESS_KEY,
            "state_bucket_kms_key": "alias/ptfe-state"}


def bucket_names(moto):
    return {bucket["Name"] for bucket in moto.client("s3").list_buckets().get("Buckets", [])}


@pytest.fixture(scope="module")
def batch(moto, tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    cases = [_with_defaults(case, base) for case in CASES]
    before = bucket_names(moto)
    result = run_batch(PLAYBOOK, cases, tmp_path_factory.mktemp("cases"), common_vars(moto), env=SECRET_ENV)
    result.before, result.after = before, bucket_names(moto)
    result.cases = {case.id: case for case in cases}
    return result


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_change(batch, case):
    case = batch.cases[case.id]
    backend = Path(str(case.vars["state_bucket_backend_path"]))
    assert_refused(batch, case, canaries=(SECRET_KEY, SESSION_TOKEN, URL_PASSWORD), files=(backend,))
    assert "Read the current bucket settings" not in batch[case].task, "S3 was called before the refusal"
    assert batch.after == batch.before, "a bucket was created: %s" % sorted(batch.after - batch.before)
    assert not backend.exists(), "backend.tf was written"


# -- the opt-ins: taken, and warned about --------------------------------------------------------------------------


def _run_role(moto, tmp_path, bucket, **variables):
    (tmp_path / "install").mkdir(exist_ok=True)
    extra = dict(common_vars(moto), state_bucket_name=bucket,
                 state_bucket_backend_path=str(tmp_path / "install" / "backend.tf"), **variables)
    return run_playbook(PLAYBOOK, extra, env=SECRET_ENV, verbosity=4)


def test_a_kms_key_of_another_region_is_taken_with_its_opt_in_and_warned_about(moto, tmp_path):
    kms = moto.client("kms", OTHER_REGION)
    key = kms.create_key(Description="ptfe install state, other region")["KeyMetadata"]["Arn"]
    assert ":%s:" % OTHER_REGION in key
    result = _run_role(moto, tmp_path, "bi-optin-kms-other-region", state_bucket_kms_key=key,
                       state_bucket_kms_key_other_region_ok=True)
    assert result.rc == 0, result.output
    assert "[WARNING]: state_bucket_kms_key_other_region_ok is true: the bucket in eu-west-1 is encrypted with a " \
           "KMS key of us-east-1" in " ".join(result.output.split())
    rules = moto.client("s3").get_bucket_encryption(Bucket="bi-optin-kms-other-region")
    assert rules["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    for canary in (SECRET_KEY, SESSION_TOKEN):
        assert canary not in result.output


def test_a_public_statement_is_taken_with_its_opt_in_and_warned_about(moto, tmp_path):
    bucket = "bi-optin-public-statement"
    public = dict(PUBLIC, Resource="arn:aws:s3:::%s/public/*" % bucket)
    result = _run_role(moto, tmp_path, bucket, state_bucket_policy_extra_statements=[public],
                       state_bucket_allow_public_statements=True)
    assert result.rc == 0, result.output
    assert "[WARNING]: state_bucket_allow_public_statements is true: state_bucket_policy_extra_statements [0] " \
           "allows everyone" in " ".join(result.output.split())
    s3 = moto.client("s3")
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport", "Everyone"]
    again = _run_role(moto, tmp_path, bucket, state_bucket_policy_extra_statements=[public],
                      state_bucket_allow_public_statements=True)
    assert again.rc == 0 and again.changed == 0, again.output
