# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: state_bucket_public_statements
short_description: Which bucket policy statements would make the state bucket public
version_added: 0.2.0
description:
  - Takes a list of bucket policy statements and returns the positions of those that would make the bucket
    public. The P(ptfe.ops.state_bucket#role) role refuses them unless C(state_bucket_allow_public_statements) is
    true.
  - A statement is public when it has C(Effect) C(Allow) and either a C(NotPrincipal), or a C(Principal) of
    everyone (C(*), or C(*) under C(AWS) or another principal type) without a condition that restricts who can use
    it.
  - A condition restricts when one of its keys names the caller's or the source's account, organization, network
    or ARN (C(aws:PrincipalOrgID), C(aws:PrincipalAccount), C(aws:PrincipalArn), C(aws:SourceVpce),
    C(aws:SourceVpc), C(aws:SourceIp), C(aws:SourceArn), C(aws:SourceAccount), and the like) with fixed values,
    through a positive operator (C(StringEquals), C(StringLike), C(ArnEquals), C(ArnLike), C(IpAddress), also
    under C(ForAnyValue:)). A value with C(*), an C(IfExists) or negated operator, or an address range of length 0
    does not restrict.
options:
  _input:
    description: The extra statements of the bucket policy.
    type: list
    elements: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Say which statements would make the bucket public
  ansible.builtin.debug:
    msg: "{{ state_bucket_policy_extra_statements | ptfe.ops.state_bucket_public_statements }}"
# [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]
#   | ptfe.ops.state_bucket_public_statements
# => [0]
"""

RETURN = r"""
_value:
  description: The positions (from 0) of the public statements in the list, in order.
  type: list
  elements: int
"""

from ansible.errors import AnsibleFilterError

#: Condition keys that, with fixed values, limit a statement to known callers or sources.
RESTRICTING_KEYS = frozenset(key.lower() for key in (
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid",
    "aws:SourceVpce", "aws:SourceVpc", "aws:SourceIp", "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "s3:DataAccessPointAccount", "s3:DataAccessPointArn"))
#: Operators that restrict to the values they list (StringNotEquals and the like admit everyone else).
POSITIVE_OPERATORS = frozenset(("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike",
                                "ipaddress"))


def _values(value):
    return value if isinstance(value, list) else [value]


def everyone(principal):
    """Whether a statement's ``Principal`` includes everyone: ``*``, or ``*`` under any principal type."""
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any("*" in _values(value) for value in principal.values())
    return False


def _fixed(operator, value):
    if not isinstance(value, str) or not value or "*" in value:
        return False
    return not (operator == "ipaddress" and value.endswith("/0"))


def restricts(condition):
    """Whether a statement's ``Condition`` limits it to known callers or sources (see the documentation)."""
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        name = str(operator).lower()
        if name.startswith("foranyvalue:"):
            name = name[len("foranyvalue:"):]
        if name not in POSITIVE_OPERATORS or not isinstance(tests, dict):
            continue
        for key, value in tests.items():
            values = _values(value)
            if str(key).lower() in RESTRICTING_KEYS and values and all(_fixed(name, v) for v in values):
                return True
    return False


def is_public(statement):
    """Whether one policy statement would make the bucket public."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    if "NotPrincipal" in statement:
        return True
    return everyone(statement.get("Principal")) and not restricts(statement.get("Condition"))


def state_bucket_public_statements(statements):
    if statements is None:
        return []
    if not isinstance(statements, list):
        raise AnsibleFilterError("state_bucket_public_statements expects a list of policy statements, got %s"
                                 % type(statements).__name__)
    return [index for index, statement in enumerate(statements) if is_public(statement)]


class FilterModule:
    """The public statements of a bucket policy."""

    def filters(self):
        return {"state_bucket_public_statements": state_bucket_public_statements}
