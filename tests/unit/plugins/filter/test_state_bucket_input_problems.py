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


@pytest.mark.parametrize("name,reason", [
    ("ab", "it has 2 characters, S3 takes 3 to 63"), ("a" * 64, "it has 64 characters, S3 takes 3 to 63"),
    ("Ptfe_State", "it holds characters other than lowercase letters, digits, dots and hyphens"),
    ("-ptfe", "it must begin and end with a lowercase letter or a digit"),
    ("ptfe-", "it must begin and end with a lowercase letter or a digit"),
    ("ptfe..state", "it holds '..'"), ("192.168.10.20", "it has the form of an IP address"),
    ("xn--ptfe-state", "it begins with the reserved prefix xn--"),
    ("sthree-ptfe", "it begins with the reserved prefix sthree-"),
    ("amzn-s3-demo-ptfe", "it begins with the reserved prefix amzn-s3-demo-"),
    ("ptfe-s3alias", "it ends with the reserved suffix -s3alias"), ("ptfe--ol-s3", "it ends with the reserved suffix --ol-s3"),
    ("ptfe.mrap", "it ends with the reserved suffix .mrap"), ("ptfe--x-s3", "it ends with the reserved suffix --x-s3"),
    ("ptfe--table-s3", "it ends with the reserved suffix --table-s3"),
    ("ptfe-state\n", "it holds characters other than lowercase letters, digits, dots and hyphens"),
    ("\u0661ptfe", "it holds characters other than lowercase letters, digits, dots and hyphens"),
    ("", "it is empty"),
])
def test_invalid_bucket_names_say_which_rule_they_break(name, reason):
    assert errors(state_bucket_name=name) == ["state_bucket_name %r is not a valid S3 bucket name: %s." % (name, reason)]


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-4"])
def test_valid_regions(region):
    assert errors(state_bucket_region=region) == []


@pytest.mark.parametrize("region", ["Ireland", "eu-west", "EU-WEST-1", "euwest1", "", None])
def test_invalid_regions_are_named(region):
    assert errors(state_bucket_region=region) == [
        "state_bucket_region %r is not an AWS region name such as eu-west-1." % (region or "")]


@pytest.mark.parametrize("key,region", [
    ("alias/ptfe-state", "eu-west-1"),
    ("alias/team/ptfe_state", "eu-west-1"),
    ("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-1"),
    ("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", "eu-west-1"),
    ("arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/ptfe-state", "us-gov-west-1"),
    ("arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "cn-north-1"),
])
def test_kms_keys_that_s3_takes(key, region):
    assert errors(state_bucket_kms_key=key, state_bucket_region=region) == []


KEY_US_EAST_1 = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize("key", [KEY_US_EAST_1, "arn:aws:kms:us-east-1:111122223333:alias/ptfe-state"])
def test_a_kms_key_of_another_region_needs_its_opt_in(key):
    assert errors(state_bucket_kms_key=key) == [
        "state_bucket_kms_key is a key of region us-east-1, but the bucket is in eu-west-1 (state_bucket_region): S3 "
        "encrypts a bucket only with a key of the bucket's own region. Use a key (or a replica of a multi-Region key) "
        "in eu-west-1, or set state_bucket_kms_key_other_region_ok to true if the endpoint takes a key of another "
        "region."]
    assert errors(state_bucket_kms_key=key, state_bucket_kms_key_other_region_ok=True) == []
    assert errors(state_bucket_kms_key=key, state_bucket_kms_key_other_region_ok="True") == []


@pytest.mark.parametrize("key", [
    "", "2feb8806-1e58-4707-a2b4-de9137ab4b86", "arn:aws:s3:::some-bucket", "alias/", "ptfe-state",
    "arn:aws:kms:eu-west-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab/extra",
    "alias/ptfe-state\n",
])
def test_kms_keys_that_are_refused_with_aws_kms(key):
    assert errors(state_bucket_kms_key=key) == [
        "state_bucket_kms_key %r is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), an alias ARN "
        "(arn:aws:kms:REGION:ACCOUNT:alias/NAME) or an alias (alias/NAME); it is required when "
        "state_bucket_encryption is aws:kms." % key]


def test_aes256_wants_no_key():
    assert errors(state_bucket_encryption="AES256", state_bucket_kms_key="") == []
    assert errors(state_bucket_encryption="AES256", state_bucket_kms_key="alias/ptfe-state") == [
        "state_bucket_kms_key is set but state_bucket_encryption is AES256; set state_bucket_encryption to aws:kms "
        "or unset the key."]


@pytest.mark.parametrize("days", [0, -3, "0", "5\n", "\u0665", True])
def test_expiration_days_below_one(days):
    assert errors(state_bucket_noncurrent_version_expiration_days=days) == [
        "state_bucket_noncurrent_version_expiration_days must be 1 or more (got %r)." % (days,)]


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


@pytest.mark.parametrize("url,rule", [
    ('http://moto:5000"\n  bucket = "x', "must not contain a newline or another control character"),
    ("http://moto:5000/\n", "must not contain a newline or another control character"),
    ("http://a b", "must not contain white space"),
    ("ftp://moto", "must be a URL such as https://host[:port] (allowed schemes: https, http), got 'ftp://moto'"),
    ("http://moto\\x", "must name its host with letters, digits, dots and hyphens"),
    ("https://minio.example/bucket", "must be the address of the server only"),
    ("https://ops:canary-pass@minio.example", "must not hold a user name or password"),
])
def test_endpoint_urls_that_would_break_out_of_their_string_are_refused(url, rule):
    (message,) = errors(state_bucket_endpoint_url=url)
    assert message.startswith("state_bucket_endpoint_url " + rule) and message.endswith(". Leave it empty for AWS.")
    assert "canary-pass" not in message


def test_state_keys_longer_than_s3_takes():
    assert errors(state_bucket_state_key="k" * 1024) == []
    assert errors(state_bucket_state_key="\u00e9" * 513) == [
        "state_bucket_state_key must be at most 1024 bytes long, got 1026."]


def test_a_state_key_with_folders_is_fine():
    assert errors(state_bucket_state_key="ptfe/prod/terraform.tfstate") == []


def test_dynamodb_locking_needs_a_table():
    assert errors(state_bucket_lock="dynamodb", state_bucket_dynamodb_table="ptfe-state.locks_1") == []
    assert errors(state_bucket_lock="dynamodb", state_bucket_dynamodb_table="ab") == [
        "state_bucket_dynamodb_table 'ab' must name a DynamoDB table (3 to 255 letters, digits, '_', '-' and '.') when "
        "state_bucket_lock is dynamodb."]
    assert errors(state_bucket_lock="lockfile", state_bucket_dynamodb_table="") == []


@pytest.mark.parametrize("url,ok", [("", True), ("https://127.0.0.1:9000", True), ("http://minio.internal/", True),
                                    ("ftp://127.0.0.1", False), ("https://", False), ("s3.amazonaws.com", False)])
def test_endpoint_url(url, ok):
    got = errors(state_bucket_endpoint_url=url)
    assert (got == []) is ok, got
    assert all(message.startswith("state_bucket_endpoint_url must be a URL such as") for message in got)


@pytest.mark.parametrize("path", ["backend.tf", "/srv/backend.tfvars", "/.tf", "/srv/backend", "", "/srv/../backend.tf",
                                  "/srv/./backend.tf", "/srv/backend\n.tf", "/srv/back\x00end.tf"])
def test_backend_path_must_be_absolute_and_end_in_tf(path):
    assert errors(state_bucket_backend_path=path) == [
        "state_bucket_backend_path must be an absolute path ending in .tf, without '.' or '..' parts and without a "
        "newline or another control character (got %r)." % path]


@pytest.mark.parametrize("variable,value,message", [
    ("state_bucket_ca_bundle", "ca.pem", "state_bucket_ca_bundle must be an absolute path, got 'ca.pem'."),
    ("state_bucket_ca_bundle", "/nonexistent/ca.pem",
     "state_bucket_ca_bundle must name a PEM file on the controller; there is no file '/nonexistent/ca.pem'."),
    ("state_bucket_profile", "ptfe prod", "state_bucket_profile must not contain white space."),
    ("state_bucket_access_key", "akia-lower", "state_bucket_access_key must be an AWS access key ID (16 to 128 "
                                              "uppercase letters and digits), got (value hidden)."),
    ("state_bucket_secret_key", "canary-secret\n", "state_bucket_secret_key must not contain a newline or another "
                                                   "control character."),
    ("state_bucket_session_token", "canary token", "state_bucket_session_token must not contain white space."),
])
def test_connection_variables(variable, value, message):
    settings = {"state_bucket_access_key": "AKIASTATEBUCKETTEST1", "state_bucket_secret_key": "s3cr3t"}
    settings[variable] = value
    assert errors(**settings) == [message]


@pytest.mark.parametrize("settings,message", [
    ({"state_bucket_profile": "ptfe", "state_bucket_access_key": "AKIASTATEBUCKETTEST1",
      "state_bucket_secret_key": "s3cr3t"},
     "state_bucket_profile and state_bucket_access_key are mutually exclusive: give a profile, or keys."),
    ({"state_bucket_access_key": "AKIASTATEBUCKETTEST1"}, "state_bucket_access_key needs state_bucket_secret_key."),
    ({"state_bucket_secret_key": "s3cr3t"}, "state_bucket_secret_key needs state_bucket_access_key."),
    ({"state_bucket_session_token": "t0ken"},
     "state_bucket_session_token needs state_bucket_access_key and state_bucket_secret_key."),
])
def test_credentials_that_do_not_go_together(settings, message):
    assert message in errors(**settings)


@pytest.mark.parametrize("tags,message", [
    ({"aws:owner": "ops"}, "state_bucket_tags: the tag name 'aws:owner' begins with aws:, which AWS keeps for itself."),
    ({"": "x"}, "state_bucket_tags: the tag name '' must be 1 to 128 letters, digits, spaces and _ . : / = + - @."),
    ({"team\n": "x"}, "state_bucket_tags: the tag name 'team\\n' must be 1 to 128 letters"),
    ({"team": "ops\nx"}, "state_bucket_tags: the value of 'team' must be at most 256 letters"),
    ({"team": "x" * 257}, "state_bucket_tags: the value of 'team' must be at most 256 letters"),
    ({"t%d" % n: "x" for n in range(51)}, "state_bucket_tags holds 51 tags; S3 takes at most 50."),
])
def test_tags(tags, message):
    got = errors(state_bucket_tags=tags)
    assert any(problem.startswith(message) for problem in got), got


def test_good_tags_are_fine():
    assert errors(state_bucket_tags={"service": "ptfe", "cost center": 4711, "owner": "ops@example.com"}) == []


ARN = "arn:aws:s3:::acme-ptfe-install-state"
READER = {"Sid": "ReadState", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/ci"},
          "Action": ["s3:GetObject"], "Resource": ARN + "/*"}


def statement(**overrides):
    return {k: v for k, v in dict(READER, **overrides).items() if v is not None}


def test_a_statement_for_named_principals_is_fine():
    assert errors(state_bucket_policy_extra_statements=[READER, statement(Sid="List", Action="s3:ListBucket",
                                                                          Resource=ARN)]) == []


@pytest.mark.parametrize("bad,message", [
    (statement(Efect="Allow"), "state_bucket_policy_extra_statements[0] has the unknown key 'Efect'"),
    (statement(Effect="Permit"), "state_bucket_policy_extra_statements[0].Effect must be Allow or Deny, got 'Permit'."),
    (statement(Principal=None), "state_bucket_policy_extra_statements[0] needs either Principal or NotPrincipal."),
    (statement(Action=None), "state_bucket_policy_extra_statements[0] needs either Action or NotAction."),
    (statement(NotResource=ARN), "state_bucket_policy_extra_statements[0] needs either Resource or NotResource."),
    (statement(Action="iam:PassRole"), "state_bucket_policy_extra_statements[0].Action must list S3 actions (s3:...), "
                                       "got 'iam:PassRole'."),
    (statement(Resource="arn:aws:s3:::other-bucket/*"),
     "state_bucket_policy_extra_statements[0].Resource must name this bucket (arn:aws:s3:::acme-ptfe-install-state) "
     "or its objects (arn:aws:s3:::acme-ptfe-install-state/...), got 'arn:aws:s3:::other-bucket/*'."),
    (statement(Resource=ARN + "-evil/*"), "state_bucket_policy_extra_statements[0].Resource must name this bucket"),
    (statement(Sid="DenyInsecureTransport"),
     "state_bucket_policy_extra_statements[0].Sid DenyInsecureTransport is the role's own statement's."),
    (statement(Sid="read state"), "state_bucket_policy_extra_statements[0].Sid must be letters and digits"),
    (statement(Condition={"StringEquals": "x"}),
     "state_bucket_policy_extra_statements[0].Condition must map each operator to its keys and values."),
])
def test_statements_of_the_wrong_shape(bad, message):
    got = errors(state_bucket_policy_extra_statements=[bad])
    assert any(problem.startswith(message) for problem in got), got


def test_two_statements_with_one_sid():
    assert errors(state_bucket_policy_extra_statements=[READER, READER]) == [
        "state_bucket_policy_extra_statements[1].Sid ReadState is already used by another statement."]


PUBLIC = "state_bucket_policy_extra_statements[%d] allows everyone (Principal \"*\" or NotPrincipal) with no condition"


@pytest.mark.parametrize("public", [
    statement(Principal="*"),
    statement(Principal={"AWS": "*"}),
    statement(Principal={"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
    statement(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}),
    statement(Principal="*", Condition={"Bool": {"aws:SecureTransport": "true"}}),
    statement(Principal="*", Condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
    statement(Principal="*", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    statement(Principal="*", Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    statement(Principal="*", Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
])
def test_public_statements_need_their_opt_in(public):
    public = dict(public, Sid="Public")
    got = errors(state_bucket_policy_extra_statements=[READER, public])
    assert len(got) == 1 and got[0].startswith(PUBLIC % 1), got
    assert got[0].endswith("or set state_bucket_allow_public_statements to true if that is meant.")
    assert errors(state_bucket_policy_extra_statements=[READER, public], state_bucket_allow_public_statements=True) == []


@pytest.mark.parametrize("restricted", [
    statement(Effect="Deny", Principal="*"),
    statement(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
    statement(Principal="*", Condition={"ForAnyValue:StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}),
    statement(Principal="*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
    statement(Principal="*", Condition={"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci"}}),
])
def test_statements_restricted_by_a_condition_are_not_public(restricted):
    assert errors(state_bucket_policy_extra_statements=[restricted]) == []


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
