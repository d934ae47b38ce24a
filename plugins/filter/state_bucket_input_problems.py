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
    cannot express, each naming the variable and the rule it breaks. Empty when there is none.
  - The argument spec checks types, required variables and choices first; this filter checks the S3 bucket
    naming rules, the shape of the region, the KMS key (required with C(aws:kms), refused with C(AES256), and
    refused from another region than the bucket's unless C(state_bucket_kms_key_other_region_ok)), the lifecycle
    settings, the state object key, the DynamoDB table with C(dynamodb) locking, the endpoint URL, the path of
    C(backend.tf), the CA bundle, the credentials (no white space or control characters, never quoted), the tags
    and the extra bucket policy statements (their shape, resources of this bucket only, and no statement that
    would make the bucket public unless C(state_bucket_allow_public_statements), see
    P(ptfe.ops.state_bucket_public_statements#filter)).
  - Names, keys and paths must not hold a newline or another control character, so that nothing the operator
    writes can add a line to C(backend.tf) or a header to a request.
options:
  _input:
    description:
      - Mapping of variable name to value, with the keys C(state_bucket_name), C(state_bucket_region),
        C(state_bucket_encryption), C(state_bucket_kms_key), C(state_bucket_noncurrent_version_expiration_days),
        C(state_bucket_lifecycle_rule_id), C(state_bucket_state_key), C(state_bucket_lock),
        C(state_bucket_dynamodb_table), C(state_bucket_endpoint_url) and C(state_bucket_backend_path).
      - These keys may be left out and are then not checked (or take their role default)
        C(state_bucket_kms_key_other_region_ok), C(state_bucket_policy_extra_statements),
        C(state_bucket_allow_public_statements), C(state_bucket_tags), C(state_bucket_ca_bundle),
        C(state_bucket_profile), C(state_bucket_access_key), C(state_bucket_secret_key) and
        C(state_bucket_session_token).
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
# => ["state_bucket_name 'Ptfe_State' is not a valid S3 bucket name: it holds characters other than lowercase
#      letters, digits, dots and hyphens.",
#     "state_bucket_region 'Ireland' is not an AWS region name such as eu-west-1."]
"""

RETURN = r"""
_value:
  description: One sentence per problem, in the order of the variables above.
  type: list
  elements: str
"""

import os
import re

from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.state_bucket_policy import partition
from ansible_collections.ptfe.ops.plugins.filter.state_bucket_public_statements import is_public
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, has_control, whole

VARIABLES = ("state_bucket_name", "state_bucket_region", "state_bucket_encryption", "state_bucket_kms_key",
             "state_bucket_noncurrent_version_expiration_days", "state_bucket_lifecycle_rule_id",
             "state_bucket_state_key", "state_bucket_lock", "state_bucket_dynamodb_table", "state_bucket_endpoint_url",
             "state_bucket_backend_path")
#: Variables that may be left out, with the value the role gives them by default.
OPTIONAL = {
    "state_bucket_kms_key_other_region_ok": False,
    "state_bucket_policy_extra_statements": [],
    "state_bucket_allow_public_statements": False,
    "state_bucket_tags": {},
    "state_bucket_ca_bundle": "",
    "state_bucket_profile": "",
    "state_bucket_access_key": "",
    "state_bucket_secret_key": "",
    "state_bucket_session_token": "",
}
#: Variables whose values no message quotes.
SECRET = ("state_bucket_access_key", "state_bucket_secret_key", "state_bucket_session_token")

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose buckets)
BUCKET_CHARACTERS = re.compile(r"[a-z0-9.-]+")
IP_ADDRESS = re.compile(r"[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+")
RESERVED_PREFIX = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIX = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_ARN = r"arn:aws[a-z-]*:kms:([a-z0-9-]+):[0-9]{12}:"
_ALIAS = r"alias/[A-Za-z0-9/_-]+"
KMS_KEY = re.compile(r"%s|%skey/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|%s%s"
                     % (_ALIAS, _ARN, _ARN, _ALIAS))
KMS_REGION = re.compile(_ARN)
HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")
DYNAMODB_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
BACKEND_PATH = re.compile(r"/.+[.]tf")
ACCESS_KEY = r"[A-Z0-9]{16,128}"
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-managing.html (the rules of AWS tags)
TAG_TEXT = re.compile(r"[\w .:/=+@-]*")
MAX_TAGS = 50
MAX_STATE_KEY_BYTES = 1024
STATEMENT_KEYS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
                  "Condition")
OWN_SID = "DenyInsecureTransport"
STATEMENTS = "state_bucket_policy_extra_statements"


def _q(value):
    """A value as a message quotes it: its repr (newlines shown as \\n), at most 120 characters."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _bucket_name_problem(name):
    """Why ``name`` is not an S3 bucket name, or None."""
    if not name:
        return "it is empty"
    if not 3 <= len(name) <= 63:
        return "it has %d characters, S3 takes 3 to 63" % len(name)
    if not BUCKET_CHARACTERS.fullmatch(name):
        return "it holds characters other than lowercase letters, digits, dots and hyphens"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must begin and end with a lowercase letter or a digit"
    if ".." in name:
        return "it holds '..'"
    if IP_ADDRESS.fullmatch(name):
        return "it has the form of an IP address"
    for prefix in RESERVED_PREFIX:
        if name.startswith(prefix):
            return "it begins with the reserved prefix %s" % prefix
    for suffix in RESERVED_SUFFIX:
        if name.endswith(suffix):
            return "it ends with the reserved suffix %s" % suffix
    return None


def _bucket_errors(settings):
    errors = []
    name = settings["state_bucket_name"]
    name = name if isinstance(name, str) else str(name or "")
    problem = _bucket_name_problem(name)
    if problem:
        errors.append("state_bucket_name %s is not a valid S3 bucket name: %s." % (_q(name), problem))
    region = str(settings["state_bucket_region"] or "")
    if not REGION.fullmatch(region):
        errors.append("state_bucket_region %s is not an AWS region name such as eu-west-1." % _q(region))
    return errors


def _encryption_errors(settings):
    key = str(settings["state_bucket_kms_key"] or "")
    region = str(settings["state_bucket_region"] or "")
    if settings["state_bucket_encryption"] == "aws:kms":
        if not KMS_KEY.fullmatch(key):
            return ["state_bucket_kms_key %s is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), an alias ARN "
                    "(arn:aws:kms:REGION:ACCOUNT:alias/NAME) or an alias (alias/NAME); it is required when "
                    "state_bucket_encryption is aws:kms." % _q(key)]
        key_region = kms_key_region(key)
        if key_region and REGION.fullmatch(region) and key_region != region \
                and not _true(settings["state_bucket_kms_key_other_region_ok"]):
            return ["state_bucket_kms_key is a key of region %s, but the bucket is in %s (state_bucket_region): S3 "
                    "encrypts a bucket only with a key of the bucket's own region. Use a key (or a replica of a "
                    "multi-Region key) in %s, or set state_bucket_kms_key_other_region_ok to true if the endpoint "
                    "takes a key of another region." % (key_region, region, region)]
    elif key:
        return ["state_bucket_kms_key is set but state_bucket_encryption is %s; set state_bucket_encryption to aws:kms "
                "or unset the key." % settings["state_bucket_encryption"]]
    return []


def kms_key_region(key):
    """The region in a KMS key or alias ARN; None for an alias (alias/NAME), which names no region."""
    match = KMS_REGION.match(key or "")
    return match.group(1) if match else None


def _true(value):
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"))


def _lifecycle_errors(settings):
    errors = []
    days = whole(settings["state_bucket_noncurrent_version_expiration_days"])
    if days is None or days < 1:
        errors.append("state_bucket_noncurrent_version_expiration_days must be 1 or more (got %s)."
                      % _q(settings["state_bucket_noncurrent_version_expiration_days"]))
    rule_id = str(settings["state_bucket_lifecycle_rule_id"] or "")
    if not 1 <= len(rule_id) <= 255:
        errors.append("state_bucket_lifecycle_rule_id must be 1 to 255 characters (got %d)." % len(rule_id))
    elif has_control(rule_id):
        errors.append("state_bucket_lifecycle_rule_id must not contain a newline or another control character.")
    return errors


def _backend_errors(settings):
    errors = []
    key = str(settings["state_bucket_state_key"] or "")
    if not key or key.startswith("/") or key.endswith("/") or "//" in key or has_control(key):
        errors.append("state_bucket_state_key %s must be an object key that neither starts nor ends with '/', "
                      "has no '//' and no newline or other control character." % _q(key))
    elif len(key.encode("utf-8")) > MAX_STATE_KEY_BYTES:
        errors.append("state_bucket_state_key must be at most %d bytes long, got %d."
                      % (MAX_STATE_KEY_BYTES, len(key.encode("utf-8"))))
    table = str(settings["state_bucket_dynamodb_table"] or "")
    if settings["state_bucket_lock"] == "dynamodb" and not DYNAMODB_TABLE.fullmatch(table):
        errors.append("state_bucket_dynamodb_table %s must name a DynamoDB table (3 to 255 letters, digits, '_', '-' "
                      "and '.') when state_bucket_lock is dynamodb." % _q(table))
    check = Checker({"state_bucket_endpoint_url": settings["state_bucket_endpoint_url"]})
    url = check.url("state_bucket_endpoint_url", schemes=("https", "http"))
    if url and not HOST.fullmatch(urlsplit(url).hostname or ""):
        check.add("state_bucket_endpoint_url must name its host with letters, digits, dots and hyphens (or an IP "
                  "address), got %s" % _q(url))
    errors.extend(problem + ". Leave it empty for AWS." for problem in check.problems)
    path = str(settings["state_bucket_backend_path"] or "")
    parts = path.split("/")
    if not BACKEND_PATH.fullmatch(path) or has_control(path) or "." in parts or ".." in parts:
        errors.append("state_bucket_backend_path must be an absolute path ending in .tf, without '.' or '..' parts "
                      "and without a newline or another control character (got %s)." % _q(path))
    return errors


def _connection_errors(settings):
    check = Checker(settings, secret=SECRET)
    bundle = check.path("state_bucket_ca_bundle")
    if bundle and not os.path.isfile(bundle):
        check.add("state_bucket_ca_bundle must name a PEM file on the controller; there is no file %s" % _q(bundle))
    profile = check.token("state_bucket_profile")
    access_key = check.token("state_bucket_access_key", pattern=ACCESS_KEY,
                             rule="an AWS access key ID (16 to 128 uppercase letters and digits)")
    secret_key = check.token("state_bucket_secret_key")
    check.token("state_bucket_session_token")
    if profile and check.value("state_bucket_access_key"):
        check.add("state_bucket_profile and state_bucket_access_key are mutually exclusive: give a profile, or keys")
    if access_key and not secret_key and not check.value("state_bucket_secret_key"):
        check.add("state_bucket_access_key needs state_bucket_secret_key")
    if check.value("state_bucket_secret_key") and not check.value("state_bucket_access_key"):
        check.add("state_bucket_secret_key needs state_bucket_access_key")
    if check.value("state_bucket_session_token") and not check.value("state_bucket_access_key"):
        check.add("state_bucket_session_token needs state_bucket_access_key and state_bucket_secret_key")
    return [problem.rstrip(".") + "." for problem in check.problems]


def _tag_errors(tags):
    if not tags:
        return []
    if not isinstance(tags, dict):
        return ["state_bucket_tags must be a mapping of tag name to value."]
    errors = []
    if len(tags) > MAX_TAGS:
        errors.append("state_bucket_tags holds %d tags; S3 takes at most %d." % (len(tags), MAX_TAGS))
    for key, value in tags.items():
        key, value = str(key), "" if value is None else str(value)
        if not 1 <= len(key) <= 128 or not TAG_TEXT.fullmatch(key):
            errors.append("state_bucket_tags: the tag name %s must be 1 to 128 letters, digits, spaces and _ . : / = "
                          "+ - @." % _q(key))
        elif key.lower().startswith("aws:"):
            errors.append("state_bucket_tags: the tag name %s begins with aws:, which AWS keeps for itself." % _q(key))
        if len(value) > 256 or not TAG_TEXT.fullmatch(value):
            errors.append("state_bucket_tags: the value of %s must be at most 256 letters, digits, spaces and _ . : / "
                          "= + - @." % _q(key))
    return errors


def _listed(statement, key):
    """The values of a statement's key as a list (a single value, or none when the key is absent)."""
    if key not in statement:
        return []
    return statement[key] if isinstance(statement[key], list) else [statement[key]]


def _statement_errors(index, statement, bucket_arn, sids):
    """The shape of one extra statement: known keys, an effect, one principal, one action and one resource
    entry, resources of this bucket only, and a Sid of its own."""
    name = "%s[%d]" % (STATEMENTS, index)
    if not isinstance(statement, dict):
        return ["%s must be a policy statement (a mapping)." % name]
    errors = []
    unknown = [key for key in statement if key not in STATEMENT_KEYS]
    if unknown:
        errors.append("%s has the unknown key %s; a statement takes %s."
                      % (name, _q(unknown[0]), ", ".join(STATEMENT_KEYS)))
    if statement.get("Effect") not in ("Allow", "Deny"):
        errors.append("%s.Effect must be Allow or Deny, got %s." % (name, _q(statement.get("Effect"))))
    for one, other in (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource")):
        if (one in statement) == (other in statement):
            errors.append("%s needs either %s or %s." % (name, one, other))
    for key in ("Action", "NotAction"):
        for action in _listed(statement, key):
            if not isinstance(action, str) or not (action == "*" or action.startswith("s3:")) or has_control(action):
                errors.append("%s.%s must list S3 actions (s3:...), got %s." % (name, key, _q(action)))
    for key in ("Resource", "NotResource"):
        for resource in _listed(statement, key):
            if not (resource == bucket_arn or (isinstance(resource, str) and resource.startswith(bucket_arn + "/"))):
                errors.append("%s.%s must name this bucket (%s) or its objects (%s/...), got %s."
                              % (name, key, bucket_arn, bucket_arn, _q(resource)))
    if "Condition" in statement and not (isinstance(statement["Condition"], dict)
                                         and all(isinstance(t, dict) for t in statement["Condition"].values())):
        errors.append("%s.Condition must map each operator to its keys and values." % name)
    sid = statement.get("Sid")
    if sid is not None:
        if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9]+", sid):
            errors.append("%s.Sid must be letters and digits, got %s." % (name, _q(sid)))
        elif sid == OWN_SID:
            errors.append("%s.Sid %s is the role's own statement's." % (name, sid))
        elif sid in sids:
            errors.append("%s.Sid %s is already used by another statement." % (name, sid))
        sids.add(sid)
    return errors


def _policy_errors(settings):
    statements = settings["state_bucket_policy_extra_statements"] or []
    if not isinstance(statements, list):
        return ["%s must be a list of policy statements." % STATEMENTS]
    name = str(settings["state_bucket_name"] or "")
    bucket_arn = "arn:%s:s3:::%s" % (partition(str(settings["state_bucket_region"] or "")), name)
    errors, sids = [], set()
    for index, statement in enumerate(statements):
        errors.extend(_statement_errors(index, statement, bucket_arn, sids))
    if not _true(settings["state_bucket_allow_public_statements"]):
        for index, statement in enumerate(statements):
            if is_public(statement):
                errors.append(
                    "%s[%d] allows everyone (Principal \"*\" or NotPrincipal) with no condition that restricts who can "
                    "use it: the state bucket, and every secret in the state, would be public. Name the principals, "
                    "restrict it with a condition (aws:PrincipalOrgID, aws:SourceVpce, ...), or set "
                    "state_bucket_allow_public_statements to true if that is meant." % (STATEMENTS, index))
    return errors


def state_bucket_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("state_bucket_input_problems expects a mapping of variable name to value, got %s"
                                 % type(settings).__name__)
    missing = [name for name in VARIABLES if name not in settings]
    if missing:
        raise AnsibleFilterError("state_bucket_input_problems: missing %s" % ", ".join(missing))
    settings = dict(OPTIONAL, **settings)
    return (_bucket_errors(settings) + _encryption_errors(settings) + _lifecycle_errors(settings)
            + _backend_errors(settings) + _connection_errors(settings) + _tag_errors(settings["state_bucket_tags"])
            + _policy_errors(settings))


class FilterModule:
    """Check the state_bucket role's variables."""

    def filters(self):
        return {"state_bucket_input_problems": state_bucket_input_problems}
