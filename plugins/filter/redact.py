# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: redact
short_description: A text without the given secrets and without anything secret by its shape or place
version_added: 0.3.0
description:
  - The collection's one redactor, for roles, for example in a C(rescue) task that repeats the message of a failed
    C(no_log) task.
  - Removes each of O(secrets) as it is, without surrounding blanks, escaped as Python's C(repr) and JSON show it
    (a trailing newline as C(\\n)), and percent-encoded; secrets shorter than four characters are ignored.
  - Also removes, whatever it is told, what is secret by its place or shape, as the modules' messages do - secret
    query-string values (C(?token=), C(X-Amz-Signature=)), URL user-info, credential header values, C(Bearer)
    tokens, Vault and Terraform Enterprise tokens, and AWS access key IDs.
  - Every removed value is replaced by C(********).
options:
  _input:
    description: The text. Anything but a string is turned into one first; V(none) stays V(none).
    type: raw
    required: true
  secrets:
    description: Values that must not appear. Anything that is not a string, and empty strings, are ignored.
    type: list
    elements: raw
    default: []
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Repeat the failed module's message without the role's own secrets
  ansible.builtin.fail:
    msg: "ptfe.ops.vault_rekey failed: {{ ansible_failed_result.msg | ptfe.ops.redact([vault_rekey_token]) }}"
"""

RETURN = r"""
_value:
  description: The text with every secret replaced by C(********).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor


def redact(text, secrets=None):
    if secrets is None:
        secrets = []
    if not isinstance(secrets, (list, tuple)):
        raise AnsibleFilterError("redact expects secrets to be a list, got %s" % type(secrets).__name__)
    return Redactor([secret for secret in secrets if isinstance(secret, str)])(text)


class FilterModule:
    """The collection's redactor, for roles."""

    def filters(self):
        return {"redact": redact}
