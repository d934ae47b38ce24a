"""The state_bucket_input_problems filter: the rules of S3, KMS and Terraform that no argument spec can check."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.state_bucket_input_problems import (
    FilterModule, state_bucket_input_problems)

GOOD = {
    "state_bucket_name": "acme-ptfe-install-state",
    "state_bucket_region": "eu-west-1",
    "state_bucket_encryption": "aws:kms",
    "state_bucket_kms_key": "alias/ptfe-state",
    "state_bucket_noncurrent_version_expiration_days": 90,
    "state_bucket_lifecycle_rule_id": "ptfe-state-expire-noncurrent-versions",
    "state_bucket_state_key": "terraform-enterprise.tfstate",
    "state_bucket_lock": "lockfile",
    "state_bucket_dynamodb_table": "",
    "state_bucket_endpoint_url": "",
    "state_bucket_backend_path": "/srv/ptfe-install/backend.tf",
}


def errors(**overrides):
    return state_bucket_input_problems(dict(GOOD, **overrides))


def test_good_settings_are_fine():
    assert errors() == []


@pytest.mark.parametrize("name", ["abc", "a" * 63, "ptfe.state-1", "1ptfe", "my.bucket.example.com"])
def test_valid_bucket_names(name):
    assert errors(state_bucket_name=name) == []


@pytest.mark.parametrize("name", [
    "ab", "a" * 64, "Ptfe_State", "-ptfe", "ptfe-", "ptfe..state", "192.168.10.20", "xn--ptfe-state",
    "sthree-ptfe", "amzn-s3-demo-ptfe", "ptfe-s3alias", "ptfe--ol-s3", "ptfe.mrap", "ptfe--x-s3", "ptfe--table-s3",
    "ptfe-state\n", "",
])
def test_invalid_bucket_names_are_named(name):
    (message,) = errors(state_bucket_name=name)
    assert message.startswith("state_bucket_name '%s' is not a valid S3 bucket name: use 3 to 63 lowercase letters" % name)
    assert message.endswith("no reserved prefix (xn--, sthree-, amzn-s3-demo-) or suffix "
                            "(-s3alias, --ol-s3, .mrap, --x-s3, --table-s3).")


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-4"])
def test_valid_regions(region):
    assert errors(state_bucket_region=region) == []


@pytest.mark.parametrize("region", ["Ireland", "eu-west", "EU-WEST-1", "euwest1", "", None])
def test_invalid_regions_are_named(region):
    assert errors(state_bucket_region=region) == [
        "state_bucket_region '%s' is not an AWS region name such as eu-west-1." % (region or "")]


@pytest.mark.parametrize("key", [
    "alias/ptfe-state",
    "alias/team/ptfe_state",
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/ptfe-state",
    "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
])
def test_kms_keys_that_s3_takes(key):
    assert errors(state_bucket_kms_key=key) == []


@pytest.mark.parametrize("key", [
    "", "2feb8806-1e58-4707-a2b4-de9137ab4b86", "arn:aws:s3:::some-bucket", "alias/", "ptfe-state",
    "arn:aws:kms:eu-west-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab/extra",
    "alias/ptfe-state\n",
])
def test_kms_keys_that_are_refused_with_aws_kms(key):
    assert errors(state_bucket_kms_key=key) == [
        "state_bucket_kms_key '%s' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), an alias ARN "
        "(arn:aws:kms:REGION:ACCOUNT:alias/NAME) or an alias (alias/NAME); it is required when "
        "state_bucket_encryption is aws:kms." % key]


def test_aes256_wants_no_key():
    assert errors(state_bucket_encryption="AES256", state_bucket_kms_key="") == []
    assert errors(state_bucket_encryption="AES256", state_bucket_kms_key="alias/ptfe-state") == [
        "state_bucket_kms_key is set but state_bucket_encryption is AES256; set state_bucket_encryption to aws:kms "
        "or unset the key."]


@pytest.mark.parametrize("days", [0, -3, "0"])
def test_expiration_days_below_one(days):
    assert errors(state_bucket_noncurrent_version_expiration_days=days) == [
        "state_bucket_noncurrent_version_expiration_days must be 1 or more (got %s)." % days]


def test_one_expiration_day_is_fine():
    assert errors(state_bucket_noncurrent_version_expiration_days="1") == []


@pytest.mark.parametrize("rule_id,ok", [("r", True), ("r" * 255, True), ("", False), ("r" * 256, False)])
def test_lifecycle_rule_id_length(rule_id, ok):
    expected = [] if ok else ["state_bucket_lifecycle_rule_id must be 1 to 255 characters (got %d)." % len(rule_id)]
    assert errors(state_bucket_lifecycle_rule_id=rule_id) == expected


@pytest.mark.parametrize("key", ["/state.tfstate", "ptfe/", "ptfe//state", ""])
def test_bad_state_keys(key):
    assert errors(state_bucket_state_key=key) == [
        "state_bucket_state_key '%s' must be an object key that neither starts nor ends with '/', has no '//' and no "
        "newline or other control character." % key]


@pytest.mark.parametrize("key", ['env/" \n  bucket = "attacker-bucket', "ptfe/state\r", "ptfe\x00state", "ptfe\u2028state"])
def test_state_keys_with_control_characters_are_refused(key):
    assert errors(state_bucket_state_key=key) == [
        "state_bucket_state_key %r must be an object key that neither starts nor ends with '/', has no '//' and no "
        "newline or other control character." % key]


@pytest.mark.parametrize("url", ['http://moto:5000"\n  bucket = "x', "http://moto:5000/\n", "http://a b", "ftp://moto",
                                 "http://moto\\x"])
def test_endpoint_urls_that_would_break_out_of_their_string_are_refused(url):
    assert errors(state_bucket_endpoint_url=url) == [
        "state_bucket_endpoint_url '%s' must be an http(s) URL, or empty for AWS." % url]


def test_a_state_key_with_folders_is_fine():
    assert errors(state_bucket_state_key="ptfe/prod/terraform.tfstate") == []


def test_dynamodb_locking_needs_a_table():
    assert errors(state_bucket_lock="dynamodb", state_bucket_dynamodb_table="ptfe-state.locks_1") == []
    assert errors(state_bucket_lock="dynamodb", state_bucket_dynamodb_table="ab") == [
        "state_bucket_dynamodb_table 'ab' must name a DynamoDB table when state_bucket_lock is dynamodb."]
    assert errors(state_bucket_lock="lockfile", state_bucket_dynamodb_table="") == []


@pytest.mark.parametrize("url,ok", [("", True), ("https://127.0.0.1:9000", True), ("http://minio.internal/", True),
                                    ("ftp://127.0.0.1", False), ("https://", False), ("s3.amazonaws.com", False)])
def test_endpoint_url(url, ok):
    expected = [] if ok else ["state_bucket_endpoint_url '%s' must be an http(s) URL, or empty for AWS." % url]
    assert errors(state_bucket_endpoint_url=url) == expected


@pytest.mark.parametrize("path", ["backend.tf", "/srv/backend.tfvars", "/.tf", "/srv/backend", ""])
def test_backend_path_must_be_absolute_and_end_in_tf(path):
    assert errors(state_bucket_backend_path=path) == [
        "state_bucket_backend_path must be an absolute path ending in .tf (got '%s')." % path]


def test_every_problem_is_reported():
    got = errors(state_bucket_name="ab", state_bucket_region="Ireland", state_bucket_backend_path="backend.tf")
    assert [message.split(" ")[0] for message in got] == [
        "state_bucket_name", "state_bucket_region", "state_bucket_backend_path"]


def test_a_missing_variable_is_a_clear_error():
    settings = dict(GOOD)
    del settings["state_bucket_lock"]
    with pytest.raises(AnsibleFilterError, match="missing state_bucket_lock"):
        state_bucket_input_problems(settings)


def test_registered_under_its_name():
    assert FilterModule().filters()["state_bucket_input_problems"] is state_bucket_input_problems
