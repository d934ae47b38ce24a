"""The state_bucket_input_warnings filter: the dangerous choices an opt-in variable let through, and only those."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter import state_bucket_input_warnings as module
from ansible_collections.ptfe.ops.plugins.filter.state_bucket_input_warnings import (
    FilterModule, state_bucket_input_warnings)

OTHER_REGION_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::ptfe/*"}
SETTINGS = {"state_bucket_region": "eu-west-1", "state_bucket_encryption": "aws:kms",
            "state_bucket_kms_key": OTHER_REGION_KEY, "state_bucket_kms_key_other_region_ok": False,
            "state_bucket_policy_extra_statements": [PUBLIC], "state_bucket_allow_public_statements": False}


def test_nothing_is_warned_about_without_the_opt_ins():
    assert state_bucket_input_warnings(SETTINGS) == []


def test_each_opt_in_taken_is_warned_about():
    got = state_bucket_input_warnings(dict(SETTINGS, state_bucket_kms_key_other_region_ok=True,
                                           state_bucket_allow_public_statements="true"))
    assert got == [
        "state_bucket_kms_key_other_region_ok is true: the bucket in eu-west-1 is encrypted with a KMS key of "
        "us-east-1. AWS S3 refuses such a key; every read and write of the state depends on that other region.",
        "state_bucket_allow_public_statements is true: state_bucket_policy_extra_statements [0] allows everyone, so "
        "the public access blocks BlockPublicPolicy and RestrictPublicBuckets are turned off and the state bucket, "
        "with every secret in the state, is public."]


@pytest.mark.parametrize("overrides", [
    {"state_bucket_kms_key": "alias/ptfe-state"},
    {"state_bucket_kms_key": OTHER_REGION_KEY.replace("us-east-1", "eu-west-1")},
    {"state_bucket_encryption": "AES256"},
])
def test_an_opt_in_that_changes_nothing_is_not_warned_about(overrides):
    settings = dict(SETTINGS, state_bucket_kms_key_other_region_ok=True, state_bucket_policy_extra_statements=[],
                    state_bucket_allow_public_statements=True, **overrides)
    assert state_bucket_input_warnings(settings) == []


def test_show_gives_ansible_warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(module.Display, "warning", lambda self, message, *args, **kwargs: shown.append(message))
    got = state_bucket_input_warnings(dict(SETTINGS, state_bucket_allow_public_statements=True), show=True)
    assert shown == got and len(got) == 1


def test_bad_arguments_are_clear_errors():
    with pytest.raises(AnsibleFilterError, match="expects a mapping"):
        state_bucket_input_warnings(["eu-west-1"])
    with pytest.raises(AnsibleFilterError, match="state_bucket_allow_public_statements"):
        state_bucket_input_warnings(dict(SETTINGS, state_bucket_allow_public_statements="sometimes"))


def test_registered_under_its_name():
    assert FilterModule().filters()["state_bucket_input_warnings"] is state_bucket_input_warnings
