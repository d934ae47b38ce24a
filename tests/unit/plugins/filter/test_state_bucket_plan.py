"""The state_bucket_plan filter: the changes the install state bucket needs, from what s3_bucket_info read."""
from __future__ import annotations

import copy
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.state_bucket_plan import FilterModule, state_bucket_plan
from ansible_collections.ptfe.ops.plugins.filter.state_bucket_policy import state_bucket_policy

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
POLICY = state_bucket_policy("ptfe", "eu-west-1")
WANT = {"name": "ptfe", "region": "eu-west-1", "encryption": "aws:kms", "kms_key": KEY, "bucket_key_enabled": True,
        "policy": POLICY, "lifecycle_rule_id": "expire", "noncurrent_days": 90, "tags": {}}

# A bucket as s3_bucket_info returns it once the role has applied WANT (other rules and buckets beside it).
CONVERGED = {
    "name": "ptfe",
    "bucket_location": {"LocationConstraint": "eu-west-1"},
    "bucket_versioning": {"Status": "Enabled", "MFADelete": "Disabled"},
    "bucket_encryption": {"ServerSideEncryptionConfiguration": {"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY},
        "BucketKeyEnabled": True}]}},
    "public_access_block": {"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}},
    "bucket_ownership_controls": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
    "bucket_policy": {"Policy": json.dumps(POLICY)},
    "bucket_lifecycle_configuration": {"Rules": [
        {"ID": "keep-logs", "Status": "Enabled", "Expiration": {"Days": 30}},
        {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 90}},
    ]},
    "bucket_tagging": {"service": "ptfe"},
}


def plan(bucket=None, **overrides):
    buckets = [{"name": "other-bucket"}] + ([bucket] if bucket else [])
    return state_bucket_plan({"changed": False, "buckets": buckets}, **dict(WANT, **overrides))


def drifted(**changes):
    bucket = copy.deepcopy(CONVERGED)
    bucket.update(changes)
    return bucket


def test_a_converged_bucket_needs_nothing():
    assert plan(CONVERGED) == []


def test_a_missing_bucket_needs_everything_without_currently():
    assert plan() == [
        "create bucket ptfe in eu-west-1",
        "enable versioning",
        "set default encryption to aws:kms key %s with bucket key" % KEY,
        "turn on public access blocks BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls, RestrictPublicBuckets",
        "set object ownership to BucketOwnerEnforced",
        "set the bucket policy (deny requests without TLS)",
        "add lifecycle rule expire: expire noncurrent versions after 90 days",
    ]


@pytest.mark.parametrize("versioning,status", [({"Status": "Suspended"}, "Suspended"), ({}, "Off"), (None, "Off")])
def test_versioning_not_enabled(versioning, status):
    assert plan(drifted(bucket_versioning=versioning)) == ["enable versioning (currently %s)" % status]


def sse(algorithm, key=None, bucket_key=None):
    rule = {"ApplyServerSideEncryptionByDefault": dict({"SSEAlgorithm": algorithm}, **({"KMSMasterKeyID": key} if key else {}))}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    return {"ServerSideEncryptionConfiguration": {"Rules": [rule]}}


@pytest.mark.parametrize("encryption,now", [
    (sse("AES256"), "AES256"),
    (sse("aws:kms", "alias/other", True), "aws:kms key alias/other with bucket key"),
    (sse("aws:kms", KEY, False), "aws:kms key %s" % KEY),
    (sse("aws:kms", KEY), "aws:kms key %s" % KEY),
    ({}, "none"),
])
def test_encryption_that_differs_says_what_it_is(encryption, now):
    assert plan(drifted(bucket_encryption=encryption)) == [
        "set default encryption to aws:kms key %s with bucket key (currently %s)" % (KEY, now)]


def test_kms_without_a_bucket_key():
    assert plan(drifted(bucket_encryption=sse("aws:kms", KEY, False)), bucket_key_enabled="false") == []
    assert plan(CONVERGED, bucket_key_enabled="no") == [
        "set default encryption to aws:kms key %s (currently aws:kms key %s with bucket key)" % (KEY, KEY)]


def test_aes256_ignores_key_and_bucket_key():
    assert plan(drifted(bucket_encryption=sse("AES256", bucket_key=False)), encryption="AES256", kms_key="") == []
    assert plan(CONVERGED, encryption="AES256", kms_key="") == [
        "set default encryption to AES256 (currently aws:kms key %s with bucket key)" % KEY]


def test_public_access_blocks_that_are_off_are_named():
    blocks = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": False,
                                                 "BlockPublicPolicy": True}}
    assert plan(drifted(public_access_block=blocks)) == [
        "turn on public access blocks IgnorePublicAcls, RestrictPublicBuckets"]


def test_a_public_policy_let_in_wants_the_two_policy_blocks_off():
    assert plan(CONVERGED, public_policy=True) == [
        "turn off public access blocks BlockPublicPolicy, RestrictPublicBuckets for the public policy statements"]
    bucket = copy.deepcopy(CONVERGED)
    bucket["public_access_block"]["PublicAccessBlockConfiguration"].update(
        BlockPublicPolicy=False, RestrictPublicBuckets=False, BlockPublicAcls=False)
    assert plan(bucket, public_policy=True) == ["turn on public access blocks BlockPublicAcls"]


@pytest.mark.parametrize("controls,now", [
    ({"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}, "ObjectWriter"),
    ({}, "none"),
])
def test_object_ownership(controls, now):
    assert plan(drifted(bucket_ownership_controls=controls)) == [
        "set object ownership to BucketOwnerEnforced (currently %s)" % now]


def test_a_foreign_policy_is_replaced():
    foreign = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                       "Resource": "arn:aws:s3:::ptfe/*"}]}
    assert plan(drifted(bucket_policy={"Policy": json.dumps(foreign)})) == [
        "replace the bucket policy (deny requests without TLS)"]


def test_no_policy_is_set_and_extra_statements_are_counted():
    policy = state_bucket_policy("ptfe", "eu-west-1", [{"Sid": "A", "Effect": "Allow"}, {"Sid": "B", "Effect": "Allow"}])
    assert plan(drifted(bucket_policy={}), policy=policy) == [
        "set the bucket policy (deny requests without TLS, plus 2 extra statement(s))"]


def test_the_same_policy_in_another_key_order_is_the_same():
    text = json.dumps(POLICY, sort_keys=True, indent=2)
    assert plan(drifted(bucket_policy={"Policy": text})) == []


@pytest.mark.parametrize("rules,verb", [
    ([{"ID": "keep-logs", "Status": "Enabled"}], "add"),
    ([{"ID": "expire", "Status": "Disabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}], "update"),
    ([{"ID": "expire", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}], "update"),
    ([{"ID": "expire", "Status": "Enabled"}], "update"),
    # Anything s3_lifecycle would replace: a narrower filter, another action, a limit on the versions kept.
    ([{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "env/"},
       "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}], "update"),
    ([{"ID": "expire", "Status": "Enabled", "Prefix": "env/", "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}],
     "update"),
    ([{"ID": "expire", "Status": "Enabled", "Filter": {"Tag": {"Key": "a", "Value": "b"}},
       "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}], "update"),
    ([{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 7},
       "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}], "update"),
    ([{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""},
       "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 3}}], "update"),
])
def test_lifecycle_rule(rules, verb):
    assert plan(drifted(bucket_lifecycle_configuration={"Rules": rules})) == [
        "%s lifecycle rule expire: expire noncurrent versions after 90 days" % verb]


@pytest.mark.parametrize("rule", [
    {"ID": "expire", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 90}},
    {"ID": "expire", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 90}},
    {"ID": "expire", "Status": "Enabled", "Prefix": "", "NoncurrentVersionExpiration": {"NoncurrentDays": 90}},
    {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Transitions": [],
     "NoncurrentVersionExpiration": {"NoncurrentDays": 90}},
])
def test_an_empty_prefix_however_it_reads_back_is_every_object(rule):
    assert plan(drifted(bucket_lifecycle_configuration={"Rules": [rule]})) == []


def test_days_given_as_a_string_are_compared_as_a_number():
    assert plan(CONVERGED, noncurrent_days="90") == []


def test_empty_tags_leave_the_tags_alone():
    assert plan(drifted(bucket_tagging={"owner": "someone"}), tags={}) == []


def test_tags_that_differ_are_set_sorted_by_name():
    assert plan(CONVERGED, tags={"service": "ptfe", "Cost": 42, "env": "prod"}) == ["set tags Cost=42, env=prod, service=ptfe"]
    assert plan(drifted(bucket_tagging={"service": "ptfe", "Cost": "42"}), tags={"service": "ptfe", "Cost": 42}) == []


def test_not_a_registered_result_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects the registered result of s3_bucket_info, got list"):
        state_bucket_plan([], **WANT)


def test_a_bucket_key_setting_that_is_no_boolean_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="state_bucket_plan: "):
        plan(CONVERGED, bucket_key_enabled="sometimes")


def test_registered_under_its_name():
    assert FilterModule().filters()["state_bucket_plan"] is state_bucket_plan
