# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: state_bucket_input_problems
short_description: What is wrong with the state_bucket role's variables, beyond their types
version_added: 0.2.0
description:
  - Takes the state_bucket role's variables and returns one sentence per problem that the role's argument spec
    cannot express, each naming the variable. Empty when there is none.
  - The argument spec checks types, required variables and choices first; this filter checks the S3 bucket
    naming rules, the shape of the region, the KMS key (required with C(aws:kms), refused with C(AES256)), the
    lifecycle settings, the state object key, the DynamoDB table with C(dynamodb) locking, the endpoint URL and
    the path of C(backend.tf).
options:
  _input:
    description:
      - Mapping of variable name to value, with the keys C(state_bucket_name), C(state_bucket_region),
        C(state_bucket_encryption), C(state_bucket_kms_key), C(state_bucket_noncurrent_version_expiration_days),
        C(state_bucket_lifecycle_rule_id), C(state_bucket_state_key), C(state_bucket_lock),
        C(state_bucket_dynamodb_table), C(state_bucket_endpoint_url) and C(state_bucket_backend_path).
    type: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Check the state bucket variables
  ansible.builtin.assert:
    that: state_bucket_input_problems | length == 0
    fail_msg: "{{ state_bucket_input_problems | join(' ') }}"
  vars:
    state_bucket_input_problems: "{{ state_bucket_settings | ptfe.ops.state_bucket_input_problems }}"
    state_bucket_settings:
      state_bucket_name: "{{ state_bucket_name }}"
      state_bucket_region: "{{ state_bucket_region }}"
      state_bucket_encryption: "{{ state_bucket_encryption }}"
      state_bucket_kms_key: "{{ state_bucket_kms_key }}"
      state_bucket_noncurrent_version_expiration_days: "{{ state_bucket_noncurrent_version_expiration_days }}"
      state_bucket_lifecycle_rule_id: "{{ state_bucket_lifecycle_rule_id }}"
      state_bucket_state_key: "{{ state_bucket_state_key }}"
      state_bucket_lock: "{{ state_bucket_lock }}"
      state_bucket_dynamodb_table: "{{ state_bucket_dynamodb_table }}"
      state_bucket_endpoint_url: "{{ state_bucket_endpoint_url }}"
      state_bucket_backend_path: "{{ state_bucket_backend_path }}"
# {'state_bucket_name': 'Ptfe_State', 'state_bucket_region': 'Ireland', ...} | ptfe.ops.state_bucket_input_problems
# => ["state_bucket_name 'Ptfe_State' is not a valid S3 bucket name: ...",
#     "state_bucket_region 'Ireland' is not an AWS region name such as eu-west-1."]
"""

RETURN = r"""
_value:
  description: One sentence per problem, in the order of the variables above.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_control, whole

VARIABLES = ("state_bucket_name", "state_bucket_region", "state_bucket_encryption", "state_bucket_kms_key",
             "state_bucket_noncurrent_version_expiration_days", "state_bucket_lifecycle_rule_id",
             "state_bucket_state_key", "state_bucket_lock", "state_bucket_dynamodb_table", "state_bucket_endpoint_url",
             "state_bucket_backend_path")

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose buckets)
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
IP_ADDRESS = re.compile(r"[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+")
RESERVED_PREFIX = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIX = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_ARN = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:"
_ALIAS = r"alias/[A-Za-z0-9/_-]+"
KMS_KEY = re.compile(r"%s|%skey/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|%s%s"
                     % (_ALIAS, _ARN, _ARN, _ALIAS))
DYNAMODB_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
URL = re.compile(r'https?://[^/\s"\\]+(/[^\s"\\]*)?')
BACKEND_PATH = re.compile(r"/.+[.]tf")


def _bucket_name_ok(name):
    return (bool(BUCKET_NAME.fullmatch(name)) and ".." not in name and not IP_ADDRESS.fullmatch(name)
            and not name.startswith(RESERVED_PREFIX) and not name.endswith(RESERVED_SUFFIX))


def _bucket_errors(settings):
    errors = []
    name = str(settings["state_bucket_name"] or "")
    if not _bucket_name_ok(name):
        errors.append(
            "state_bucket_name '%s' is not a valid S3 bucket name: use 3 to 63 lowercase letters, digits, dots and "
            "hyphens, beginning and ending with a letter or digit, no '..', not an IP address, and no reserved prefix "
            "(%s) or suffix (%s)." % (name, ", ".join(RESERVED_PREFIX), ", ".join(RESERVED_SUFFIX)))
    region = str(settings["state_bucket_region"] or "")
    if not REGION.fullmatch(region):
        errors.append("state_bucket_region '%s' is not an AWS region name such as eu-west-1." % region)
    return errors


def _encryption_errors(settings):
    key = str(settings["state_bucket_kms_key"] or "")
    if settings["state_bucket_encryption"] == "aws:kms":
        if not KMS_KEY.fullmatch(key):
            return ["state_bucket_kms_key '%s' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), an alias ARN "
                    "(arn:aws:kms:REGION:ACCOUNT:alias/NAME) or an alias (alias/NAME); it is required when "
                    "state_bucket_encryption is aws:kms." % key]
    elif key:
        return ["state_bucket_kms_key is set but state_bucket_encryption is %s; set state_bucket_encryption to aws:kms "
                "or unset the key." % settings["state_bucket_encryption"]]
    return []


def _lifecycle_errors(settings):
    errors = []
    days = whole(settings["state_bucket_noncurrent_version_expiration_days"])
    if days is None or days < 1:
        errors.append("state_bucket_noncurrent_version_expiration_days must be 1 or more (got %s)."
                      % settings["state_bucket_noncurrent_version_expiration_days"])
    rule_id = str(settings["state_bucket_lifecycle_rule_id"] or "")
    if not 1 <= len(rule_id) <= 255:
        errors.append("state_bucket_lifecycle_rule_id must be 1 to 255 characters (got %d)." % len(rule_id))
    return errors


def _backend_errors(settings):
    errors = []
    key = str(settings["state_bucket_state_key"] or "")
    if not key or key.startswith("/") or key.endswith("/") or "//" in key or has_control(key):
        errors.append("state_bucket_state_key %r must be an object key that neither starts nor ends with '/', "
                      "has no '//' and no newline or other control character." % key)
    table = str(settings["state_bucket_dynamodb_table"] or "")
    if settings["state_bucket_lock"] == "dynamodb" and not DYNAMODB_TABLE.fullmatch(table):
        errors.append("state_bucket_dynamodb_table '%s' must name a DynamoDB table when state_bucket_lock is dynamodb."
                      % table)
    url = str(settings["state_bucket_endpoint_url"] or "")
    if url and not URL.fullmatch(url):
        errors.append("state_bucket_endpoint_url '%s' must be an http(s) URL, or empty for AWS." % url)
    path = str(settings["state_bucket_backend_path"] or "")
    if not BACKEND_PATH.fullmatch(path):
        errors.append("state_bucket_backend_path must be an absolute path ending in .tf (got '%s')." % path)
    return errors


def state_bucket_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("state_bucket_input_problems expects a mapping of variable name to value, got %s"
                                 % type(settings).__name__)
    missing = [name for name in VARIABLES if name not in settings]
    if missing:
        raise AnsibleFilterError("state_bucket_input_problems: missing %s" % ", ".join(missing))
    return (_bucket_errors(settings) + _encryption_errors(settings) + _lifecycle_errors(settings)
            + _backend_errors(settings))


class FilterModule:
    """Check the state_bucket role's variables."""

    def filters(self):
        return {"state_bucket_input_problems": state_bucket_input_problems}
