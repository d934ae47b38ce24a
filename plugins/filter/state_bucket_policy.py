# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: state_bucket_policy
short_description: The bucket policy of the install state bucket
version_added: 0.2.0
description:
  - Takes the name of an S3 bucket and returns its bucket policy as the state_bucket role sets it, a statement
    C(DenyInsecureTransport) that denies every request to the bucket and its objects made without TLS
    (C(aws:SecureTransport) false), followed by O(extra_statements).
  - The ARNs are in the partition of O(region) (C(aws-cn) for C(cn-*), C(aws-us-gov) for C(us-gov-*), else C(aws)).
positional: _input, region, extra_statements
options:
  _input:
    description: Name of the bucket.
    type: str
    required: true
  region:
    description: AWS region of the bucket.
    type: str
    required: true
  extra_statements:
    description: Policy statements added after the one that denies requests without TLS.
    type: list
    elements: dict
    default: []
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Set the bucket policy
  amazon.aws.s3_bucket:
    name: "{{ state_bucket_name }}"
    policy: "{{ state_bucket_name | ptfe.ops.state_bucket_policy(state_bucket_region) | to_json }}"
"""

RETURN = r"""
_value:
  description: The policy document, C({Version, Statement}).
  type: dict
"""

from ansible.errors import AnsibleFilterError

PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))


def partition(region):
    """The AWS partition of a region: aws-cn, aws-us-gov or aws."""
    return next((name for prefix, name in PARTITIONS if region.startswith(prefix)), "aws")


def state_bucket_policy(name, region, extra_statements=None):
    if not isinstance(name, str) or not isinstance(region, str):
        raise AnsibleFilterError("state_bucket_policy expects the bucket name and its region as strings")
    extra = list(extra_statements or [])
    if not all(isinstance(statement, dict) for statement in extra):
        raise AnsibleFilterError("state_bucket_policy: extra_statements must be a list of policy statements")
    arn = "arn:%s:s3:::%s" % (partition(region), name)
    deny_without_tls = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, arn + "/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return {"Version": "2012-10-17", "Statement": [deny_without_tls] + extra}


class FilterModule:
    """The policy of the state bucket."""

    def filters(self):
        return {"state_bucket_policy": state_bucket_policy}
