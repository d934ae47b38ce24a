"""The state_bucket_public_statements filter: which extra statements would make the state bucket public."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.state_bucket_public_statements import (
    FilterModule, state_bucket_public_statements)

OBJECTS = "arn:aws:s3:::ptfe/*"


def allow(principal="*", **extra):
    return dict({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": OBJECTS}, **extra)


def test_positions_of_the_public_statements():
    statements = [allow({"AWS": "arn:aws:iam::111122223333:root"}), allow(), allow({"AWS": ["*"]}),
                  dict(allow(), Effect="Deny"), allow({"CanonicalUser": "*"})]
    assert state_bucket_public_statements(statements) == [1, 2, 4]


@pytest.mark.parametrize("condition,public", [
    ({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, False),
    ({"StringEquals": {"AWS:SOURCEVPCE": "vpce-1"}}, False),
    ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a/r-b/ou-c/"]}}, False),
    ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7/32"]}}, False),
    ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "::/0"]}}, True),
    ({"StringLike": {"aws:SourceArn": "arn:aws:*"}}, True),
    ({"StringEquals": {"aws:SourceVpce": []}}, True),
    ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, True),
    ({"ForAllValues:StringEquals": {"aws:SourceVpce": "vpce-1"}}, True),
    ({"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ({"StringEquals": {"s3:prefix": "state/"}}, True),
    ("not a mapping", True),
])
def test_only_a_condition_on_who_or_where_restricts(condition, public):
    assert state_bucket_public_statements([allow(Condition=condition)]) == ([0] if public else [])


def test_not_principal_with_allow_is_public():
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*",
                 "Resource": OBJECTS}
    assert state_bucket_public_statements([statement]) == [0]


def test_nothing_and_not_a_list():
    assert state_bucket_public_statements(None) == []
    assert state_bucket_public_statements([]) == []
    with pytest.raises(AnsibleFilterError, match="expects a list of policy statements, got dict"):
        state_bucket_public_statements({"Effect": "Allow"})


def test_registered_under_its_name():
    assert FilterModule().filters()["state_bucket_public_statements"] is state_bucket_public_statements
