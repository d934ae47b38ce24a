"""The state_bucket_policy filter: the TLS-only policy of the install state bucket."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.state_bucket_policy import FilterModule, state_bucket_policy

EXTRA = {"Sid": "ReadForAudit", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/audit"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::ptfe/*"}


def test_denies_every_request_without_tls_on_the_bucket_and_its_objects():
    assert state_bucket_policy("ptfe-state", "eu-west-1") == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::ptfe-state", "arn:aws:s3:::ptfe-state/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


@pytest.mark.parametrize("region,partition", [("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"),
                                              ("us-gov-west-1", "aws-us-gov"), ("us-east-1", "aws"),
                                              ("ap-east-1", "aws")])
def test_the_arns_are_in_the_partition_of_the_region(region, partition):
    resources = state_bucket_policy("b", region)["Statement"][0]["Resource"]
    assert resources == ["arn:%s:s3:::b" % partition, "arn:%s:s3:::b/*" % partition]


def test_extra_statements_follow_the_tls_statement_in_order():
    second = dict(EXTRA, Sid="Second")
    statements = state_bucket_policy("ptfe", "eu-west-1", [EXTRA, second])["Statement"]
    assert [s["Sid"] for s in statements] == ["DenyInsecureTransport", "ReadForAudit", "Second"]
    assert statements[1] == EXTRA


def test_a_statement_that_is_not_a_mapping_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="extra_statements must be a list of policy statements"):
        state_bucket_policy("ptfe", "eu-west-1", ["Allow everything"])


def test_registered_under_its_name():
    assert FilterModule().filters()["state_bucket_policy"] is state_bucket_policy
