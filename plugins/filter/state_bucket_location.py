# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: state_bucket_location
short_description: The region of an existing S3 bucket, from what s3_bucket_info read
version_added: 0.2.0
description:
  - Takes the registered result of M(amazon.aws.s3_bucket_info) (read with C(bucket_location)) and returns the
    region of the bucket named O(name), or an empty string when the account has no such bucket.
  - S3 reports no location constraint for C(us-east-1) and the legacy C(EU) for C(eu-west-1); both are
    returned as region names.
positional: _input, name
options:
  _input:
    description: The registered result of M(amazon.aws.s3_bucket_info).
    type: dict
    required: true
  name:
    description: Name of the bucket.
    type: str
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Refuse a bucket that exists in another region
  ansible.builtin.assert:
    that: (state_bucket_current | ptfe.ops.state_bucket_location(state_bucket_name)) in ['', state_bucket_region]
"""

RETURN = r"""
_value:
  description: Region of the bucket, such as C(eu-west-1); empty when the bucket does not exist.
  type: str
"""

from ansible.errors import AnsibleFilterError

# LocationConstraint values that are not region names.
LEGACY = {"": "us-east-1", "EU": "eu-west-1"}


def state_bucket_location(current, name):
    if not isinstance(current, dict):
        raise AnsibleFilterError("state_bucket_location expects the registered result of s3_bucket_info, got %s"
                                 % type(current).__name__)
    for bucket in current.get("buckets") or []:
        if bucket.get("name") == name:
            constraint = (bucket.get("bucket_location") or {}).get("LocationConstraint") or ""
            return LEGACY.get(constraint, constraint)
    return ""


class FilterModule:
    """Where an S3 bucket lives."""

    def filters(self):
        return {"state_bucket_location": state_bucket_location}
