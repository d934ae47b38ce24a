# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: state_bucket_plan
short_description: The changes the install state bucket needs
version_added: 0.2.0
description:
  - Takes the registered result of M(amazon.aws.s3_bucket_info) (read with C(bucket_versioning),
    C(bucket_encryption), C(public_access_block), C(bucket_ownership_controls), C(bucket_policy),
    C(bucket_lifecycle_configuration) and C(bucket_tagging)) and the settings the state_bucket role wants, and
    returns one sentence per change the bucket needs. Empty when the bucket is as configured.
  - The role prints the list under C(--check), where the modules that write the bucket cannot run, and reads the
    bucket again after applying to prove that every setting took effect.
positional: _input
options:
  _input:
    description: The registered result of M(amazon.aws.s3_bucket_info).
    type: dict
    required: true
  name:
    description: Name of the bucket.
    type: str
    required: true
  region:
    description: Region the bucket is created in when it does not exist.
    type: str
    required: true
  encryption:
    description: Default encryption, C(aws:kms) or C(AES256).
    type: str
    required: true
  kms_key:
    description: The KMS key for C(aws:kms), as S3 reports it back (the key ARN, alias ARN or alias given).
    type: str
    default: ""
  bucket_key_enabled:
    description: Whether an S3 Bucket Key is used with C(aws:kms).
    type: bool
    default: true
  policy:
    description: The bucket policy wanted; its first statement denies requests without TLS, the rest are extra
      statements. See P(ptfe.ops.state_bucket_policy#filter).
    type: dict
    required: true
  lifecycle_rule_id:
    description: ID of the lifecycle rule that expires noncurrent versions.
    type: str
    required: true
  noncurrent_days:
    description: Days after which noncurrent versions expire.
    type: int
    required: true
  tags:
    description: Tags of the bucket. Empty leaves the tags unmanaged.
    type: dict
    default: {}
  public_policy:
    description:
      - Whether the policy holds public statements the role was told to allow
        (C(state_bucket_allow_public_statements)). Then C(BlockPublicPolicy) and C(RestrictPublicBuckets) are
        wanted off, the two ACL blocks still on.
      - Otherwise all four public access blocks are wanted on.
    type: bool
    default: false
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Compute the changes the bucket needs
  ansible.builtin.set_fact:
    state_bucket_plan: >-
      {{ state_bucket_current | ptfe.ops.state_bucket_plan(
           name=state_bucket_name, region=state_bucket_region, encryption=state_bucket_encryption,
           kms_key=state_bucket_kms_key, bucket_key_enabled=state_bucket_bucket_key_enabled,
           policy=state_bucket_policy, lifecycle_rule_id=state_bucket_lifecycle_rule_id,
           noncurrent_days=state_bucket_noncurrent_version_expiration_days, tags=state_bucket_tags) }}
# A bucket that does not exist yet, with SSE-KMS:
# ['create bucket acme-state in eu-west-1', 'enable versioning',
#  'set default encryption to aws:kms key alias/ptfe-state with bucket key', ...]
"""

RETURN = r"""
_value:
  description: One sentence per change, in the order versioning, encryption, public access blocks, object
    ownership, policy, lifecycle rule, tags; after C(create bucket NAME in REGION) when the bucket does not exist.
  type: list
  elements: str
"""

import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
#: The blocks a public bucket policy needs off (S3 refuses it with the first, ignores it with the second).
POLICY_BLOCKS = ("BlockPublicPolicy", "RestrictPublicBuckets")


def _dig(data, *keys):
    """data[keys[0]][keys[1]]..., where a missing, null or empty level is an empty mapping."""
    for key in keys:
        data = (data or {}).get(key) or {}
    return data


def _first_rule(data, *keys):
    rules = _dig(data, *keys) or []
    return rules[0] if rules else {}


def _currently(found, value):
    return " (currently %s)" % value if found else ""


def _versioning(bucket, found):
    status = _dig(bucket, "bucket_versioning").get("Status") or "Off"
    return [] if status == "Enabled" else ["enable versioning" + _currently(found, status)]


def _encryption(bucket, found, encryption, kms_key, bucket_key):
    rule = _first_rule(bucket, "bucket_encryption", "ServerSideEncryptionConfiguration", "Rules")
    sse = rule.get("ApplyServerSideEncryptionByDefault") or {}
    algorithm, key_now = sse.get("SSEAlgorithm") or "", sse.get("KMSMasterKeyID") or ""
    bucket_key_now = bool(rule.get("BucketKeyEnabled", False))
    kms = encryption == "aws:kms"
    if algorithm == encryption and (not kms or (key_now == kms_key and bucket_key_now == bucket_key)):
        return []
    now = (algorithm or "none") + (" key " + key_now if key_now else "") + (" with bucket key" if bucket_key_now else "")
    want = encryption + (" key " + kms_key if kms else "") + (" with bucket key" if kms and bucket_key else "")
    return ["set default encryption to " + want + _currently(found, now)]


def _public_access(bucket, public_policy):
    blocks = _dig(bucket, "public_access_block", "PublicAccessBlockConfiguration")
    wanted_off = POLICY_BLOCKS if public_policy else ()
    off = [block for block in PUBLIC_ACCESS_BLOCKS if block not in wanted_off and not blocks.get(block)]
    on = [block for block in wanted_off if blocks.get(block)]
    return ((["turn on public access blocks " + ", ".join(off)] if off else [])
            + (["turn off public access blocks %s for the public policy statements" % ", ".join(on)] if on else []))


def _ownership(bucket, found):
    rule = _first_rule(bucket, "bucket_ownership_controls", "OwnershipControls", "Rules")
    ownership = rule.get("ObjectOwnership") or "none"
    if ownership == "BucketOwnerEnforced":
        return []
    return ["set object ownership to BucketOwnerEnforced" + _currently(found, ownership)]


def _policy(bucket, policy):
    text = _dig(bucket, "bucket_policy").get("Policy") or ""
    now = json.loads(text) if isinstance(text, str) and text else (text or {})
    if policy == now:
        return []
    extra = len(policy.get("Statement") or []) - 1
    return ["%s the bucket policy (deny requests without TLS%s)"
            % ("replace" if text else "set", ", plus %d extra statement(s)" % extra if extra > 0 else "")]


#: The parts of the role's lifecycle rule; community.aws.s3_lifecycle replaces a rule that holds anything else.
LIFECYCLE_RULE_KEYS = ("ID", "Status", "Filter", "Prefix", "NoncurrentVersionExpiration")


def _lifecycle_rule_matches(rule, days):
    """Whether the rule is exactly the one s3_lifecycle writes: enabled, for every object (an empty prefix), and
    expiring noncurrent versions after the days only. A run that finds it so skips the writing modules, so any
    other filter or action in it has to count as drift here."""
    return (rule.get("Status") == "Enabled"
            and rule.get("NoncurrentVersionExpiration") == {"NoncurrentDays": days}
            and rule.get("Filter") in (None, {}, {"Prefix": ""})
            and not rule.get("Prefix")
            and not any(value for key, value in rule.items() if key not in LIFECYCLE_RULE_KEYS))


def _lifecycle(bucket, rule_id, days):
    rules = [rule for rule in _dig(bucket, "bucket_lifecycle_configuration").get("Rules") or []
             if rule.get("ID") == rule_id]
    if rules and _lifecycle_rule_matches(rules[0], days):
        return []
    return ["%s lifecycle rule %s: expire noncurrent versions after %d days" % ("update" if rules else "add", rule_id, days)]


def _tags(bucket, tags):
    wanted = {str(key): str(value) for key, value in (tags or {}).items()}
    if not wanted or (bucket.get("bucket_tagging") or {}) == wanted:
        return []
    return ["set tags " + ", ".join("%s=%s" % item for item in sorted(wanted.items(), key=lambda kv: kv[0].lower()))]


def state_bucket_plan(current, name, region, encryption, policy, lifecycle_rule_id, noncurrent_days, kms_key="",
                      bucket_key_enabled=True, tags=None, public_policy=False):
    if not isinstance(current, dict):
        raise AnsibleFilterError("state_bucket_plan expects the registered result of s3_bucket_info, got %s"
                                 % type(current).__name__)
    if not isinstance(policy, dict):
        raise AnsibleFilterError("state_bucket_plan: policy must be a policy document, got %s" % type(policy).__name__)
    try:
        days = int(noncurrent_days)
        bucket_key = boolean(bucket_key_enabled, strict=True)
        public = boolean(public_policy, strict=True)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("state_bucket_plan: %s" % exc) from None
    found = [bucket for bucket in current.get("buckets") or [] if bucket.get("name") == name]
    bucket = found[0] if found else {}
    return (([] if found else ["create bucket %s in %s" % (name, region)])
            + _versioning(bucket, found)
            + _encryption(bucket, found, encryption, kms_key or "", bucket_key)
            + _public_access(bucket, public)
            + _ownership(bucket, found)
            + _policy(bucket, policy)
            + _lifecycle(bucket, lifecycle_rule_id, days)
            + _tags(bucket, tags))


class FilterModule:
    """The plan of the state bucket."""

    def filters(self):
        return {"state_bucket_plan": state_bucket_plan}
