# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: state_bucket_input_warnings
short_description: The dangerous choices the state_bucket role's variables opt into
version_added: 0.2.0
description:
  - Takes the state_bucket role's variables and returns one sentence per dangerous but legal choice that an
    opt-in variable allowed, each naming that variable. Empty when there is none.
  - A KMS key of another region than the bucket's, taken with C(state_bucket_kms_key_other_region_ok).
  - Extra bucket policy statements that make the bucket public (see
    P(ptfe.ops.state_bucket_public_statements#filter)), taken with C(state_bucket_allow_public_statements); the
    role then turns off the public access blocks C(BlockPublicPolicy) and C(RestrictPublicBuckets), without which
    S3 would refuse or ignore them.
  - With O(show=true) each sentence is also shown as an Ansible warning on the controller.
  - P(ptfe.ops.state_bucket_input_problems#filter) refuses the same choices when their opt-in is not set.
options:
  _input:
    description:
      - Mapping of variable name to value, with the keys C(state_bucket_region), C(state_bucket_encryption),
        C(state_bucket_kms_key), C(state_bucket_kms_key_other_region_ok), C(state_bucket_policy_extra_statements)
        and C(state_bucket_allow_public_statements). A missing key is taken as its role default.
    type: dict
    required: true
  show:
    description: Also show each sentence as an Ansible warning.
    type: bool
    default: false
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Warn about the dangerous choices the variables opt into
  ansible.builtin.debug:
    msg: "{{ state_bucket_settings | ptfe.ops.state_bucket_input_warnings(show=true) }}"
  vars:
    state_bucket_settings:
      state_bucket_region: "{{ state_bucket_region }}"
      state_bucket_encryption: "{{ state_bucket_encryption }}"
      state_bucket_kms_key: "{{ state_bucket_kms_key }}"
      state_bucket_kms_key_other_region_ok: "{{ state_bucket_kms_key_other_region_ok }}"
      state_bucket_policy_extra_statements: "{{ state_bucket_policy_extra_statements }}"
      state_bucket_allow_public_statements: "{{ state_bucket_allow_public_statements }}"
"""

RETURN = r"""
_value:
  description: One sentence per dangerous choice taken.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.display import Display

from ansible_collections.ptfe.ops.plugins.filter.state_bucket_input_problems import kms_key_region
from ansible_collections.ptfe.ops.plugins.filter.state_bucket_public_statements import state_bucket_public_statements


def _opted_in(settings, name):
    try:
        return boolean(settings.get(name, False), strict=True)
    except TypeError as exc:
        raise AnsibleFilterError("state_bucket_input_warnings: %s: %s" % (name, exc)) from None


def state_bucket_input_warnings(settings, show=False):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("state_bucket_input_warnings expects a mapping of variable name to value, got %s"
                                 % type(settings).__name__)
    warnings = []
    region = str(settings.get("state_bucket_region") or "")
    key_region = kms_key_region(str(settings.get("state_bucket_kms_key") or ""))
    if (settings.get("state_bucket_encryption", "aws:kms") == "aws:kms" and key_region and key_region != region
            and _opted_in(settings, "state_bucket_kms_key_other_region_ok")):
        warnings.append("state_bucket_kms_key_other_region_ok is true: the bucket in %s is encrypted with a KMS key of "
                        "%s. AWS S3 refuses such a key; every read and write of the state depends on that other "
                        "region." % (region, key_region))
    public = state_bucket_public_statements(settings.get("state_bucket_policy_extra_statements") or [])
    if public and _opted_in(settings, "state_bucket_allow_public_statements"):
        warnings.append("state_bucket_allow_public_statements is true: state_bucket_policy_extra_statements %s "
                        "allow%s everyone, so the public access blocks BlockPublicPolicy and RestrictPublicBuckets "
                        "are turned off and the state bucket, with every secret in the state, is public."
                        % (", ".join("[%d]" % index for index in public), "s" if len(public) == 1 else ""))
    if show:
        for warning in warnings:
            Display().warning(warning)
    return warnings


class FilterModule:
    """The dangerous choices the state_bucket role's variables opt into."""

    def filters(self):
        return {"state_bucket_input_warnings": state_bucket_input_warnings}
