"""The state_bucket_location filter: the region of an existing bucket, from s3_bucket_info."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.state_bucket_location import FilterModule, state_bucket_location


def info(*buckets):
    return {"changed": False, "buckets": [{"name": name, "bucket_location": location} for name, location in buckets]}


def test_the_region_of_the_named_bucket():
    current = info(("other", {"LocationConstraint": "us-west-2"}), ("ptfe", {"LocationConstraint": "eu-central-1"}))
    assert state_bucket_location(current, "ptfe") == "eu-central-1"


@pytest.mark.parametrize("location", [{"LocationConstraint": None}, {"LocationConstraint": ""}, {}, None])
def test_no_location_constraint_is_us_east_1(location):
    assert state_bucket_location(info(("ptfe", location)), "ptfe") == "us-east-1"


def test_the_legacy_eu_is_eu_west_1():
    assert state_bucket_location(info(("ptfe", {"LocationConstraint": "EU"})), "ptfe") == "eu-west-1"


@pytest.mark.parametrize("current", [info(("ptfe-other", {"LocationConstraint": "eu-west-1"})), {"buckets": []}, {}])
def test_a_bucket_that_does_not_exist_has_no_region(current):
    assert state_bucket_location(current, "ptfe") == ""


def test_not_a_registered_result_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects the registered result of s3_bucket_info, got list"):
        state_bucket_location([], "ptfe")


def test_registered_under_its_name():
    assert FilterModule().filters()["state_bucket_location"] is state_bucket_location
