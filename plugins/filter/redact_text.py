# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: redact_text
short_description: Remove tokens, passwords, keys and credential URLs from the text of a file or a command's output
version_added: 0.3.0
description:
  - The redactor every file of a support bundle passes through before it leaves the host (the
    P(ptfe.ops.support_bundle#role) role's collector applies the same rules on the host), offered as a filter for
    any text a play is about to show or store.
  - Removes the values given in O(secrets), in every form they may take in a text (escaped as JSON or C(repr),
    percent-encoded).
  - >-
    Removes what is secret by its place. The value assigned to a secret-looking name (one that contains
    C(password), C(secret), C(token), C(license), C(credential), C(unseal), C(private_key), C(api_key),
    C(access_key), C(signature), C(cookie), C(dsn), C(database_url), ...), in C(NAME=value), C(NAME: value),
    C("name": "value") or C(--name value) form, so every C(TFE_*) secret of an environment. The user-info and
    every query value of every URL (database URLs with credentials, presigned download URLs), and the object key
    of a C(/_archivist/) URL. The body of a PEM private key. Credential headers, C(Bearer) values and
    C(Unseal Key N:) lines.
  - Removes what is secret by its shape. Vault tokens, Terraform Enterprise C(.atlasv1.) tokens, AWS access key
    IDs, and 32-byte keys in base64 or hex (an unseal key; a C(sha256:) digest is kept).
  - Each secret is replaced by C(********); the rest of the text is kept as it was.
options:
  _input:
    description: The text.
    type: str
    required: true
  secrets:
    description:
      - Known secret values to remove as well, for example the operator's own passwords. Empty ones are ignored.
    type: list
    elements: str
    default: []
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Show a log without its secrets
  ansible.builtin.debug:
    msg: "{{ _log.content | b64decode | ptfe.ops.redact_text(secrets=[tfe_admin_password]) }}"
"""

RETURN = r"""
_value:
  description: The text without its secrets.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._redact import redact_file_text


def redact_text(text, secrets=None):
    if text is None:
        return None
    if secrets is None:
        secrets = []
    if not isinstance(secrets, (list, tuple)):
        raise AnsibleFilterError("redact_text: secrets must be a list of strings, not %s" % type(secrets).__name__)
    return redact_file_text(text, [str(secret) for secret in secrets if secret is not None])


class FilterModule:
    """Keep secrets out of text."""

    def filters(self):
        return {"redact_text": redact_text}
