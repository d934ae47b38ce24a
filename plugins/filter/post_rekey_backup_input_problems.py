# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: post_rekey_backup_input_problems
short_description: What the post_rekey_backup role's variables leave open before any proof is collected
version_added: 0.2.0
description:
  - Takes the variables of the P(ptfe.ops.post_rekey_backup#role) role, keyed by their names, and returns one
    sentence per problem, naming the variables at fault. Empty when there is none.
  - The argument spec has already checked types and choices, and that V(post_rekey_backup_key_shares) and the
    custody's C(url) are given. This filter checks what a spec cannot express.
  - V(post_rekey_backup_key_shares) must be between 1 and 255. The module that collects the proofs takes 0 as
    "do not compare", which would drop a proof.
  - The unseal key path, the backup command and the backup record's path must not be empty, nor the URL of the
    keys' Vault.
  - The keys destination must be named. A keys file (V(post_rekey_backup_keys_file), or C(keys_file) of
    V(post_rekey_backup_custody)) is needed with custody V(file); C(s3_bucket) and C(s3_object) with custody
    V(s3). V(post_rekey_backup_keys_file) makes the custody V(file).
  - The values, with the rules M(ptfe.ops.vault_custody_info) applies to its options, so that a bad one is named
    before the role reads the unseal key. Paths are absolute and name files; the unseal key, the backup command,
    the backup record and the keys file are different files. In V(post_rekey_backup_custody), C(url) is an https
    URL (http only with its C(allow_insecure_http)) without user-info or a path, and the S3 values follow AWS's
    syntax. V(post_rekey_backup_vault_token) holds no white space and is never shown;
    V(post_rekey_backup_expected_nonce) is a nonce; host names and V(post_rekey_backup_accept_destination) hold no
    control characters.
  - Given V(post_rekey_backup_unseal_key) (the content of the unseal key file, which the role reads without logging
    it), it must be one unseal key in hex or base64; the problem names V(post_rekey_backup_unseal_key_path).
options:
  _input:
    description:
      - The role's variables, by name; a missing one is not checked.
    type: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Stop when the variables leave something open
  ansible.builtin.fail:
    msg: "{{ _problems | join('; ') }}"
  vars:
    _problems: >-
      {{ {'post_rekey_backup_key_shares': post_rekey_backup_key_shares,
          'post_rekey_backup_custody': post_rekey_backup_custody} | ptfe.ops.post_rekey_backup_input_problems }}
  when: _problems | length > 0
"""

RETURN = r"""
_value:
  description: One sentence per problem; empty when there is none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.ptfe.ops.plugins.module_utils._custody import check_custody
from ansible_collections.ptfe.ops.plugins.module_utils._rekey import NONCE_RE, key_file_problem
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, is_set, whole
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import check_connection

# The files the role removes, runs and writes: each an absolute path of its own.
PATHS = ("post_rekey_backup_unseal_key_path", "post_rekey_backup_command", "post_rekey_backup_marker_path")
# Variables whose values never appear in a message.
SECRET = ("post_rekey_backup_vault_token", "post_rekey_backup_unseal_key")
# Vault's limit on the number of key shares.
MAX_KEY_SHARES = 255


def _key_shares_problems(settings):
    if "post_rekey_backup_key_shares" not in settings:
        return []
    value = settings["post_rekey_backup_key_shares"]
    shares = whole(value)
    if shares is None or not 1 <= shares <= MAX_KEY_SHARES:
        return ["post_rekey_backup_key_shares must be a whole number between 1 and %d, got %r"
                % (MAX_KEY_SHARES, value)]
    return []


#: An inventory host name: no white space, no control characters.
HOST_RE = r"[A-Za-z0-9_.:@\[\]-]+"


def _custody_values(custody):
    """The problems of the values in post_rekey_backup_custody, each named ``post_rekey_backup_custody.<key>``."""
    check = Checker(custody)
    insecure = boolean(custody.get("allow_insecure_http", False), strict=False)
    check_connection(check, allow_insecure=insecure)
    check_custody(check, allow_insecure=insecure)
    check.token("delegate_to", pattern=HOST_RE, rule="an inventory host name")
    return ["post_rekey_backup_custody." + problem for problem in check.problems]


def _custody_problems(settings):
    if "post_rekey_backup_custody" not in settings:
        return []
    custody = settings["post_rekey_backup_custody"]
    if not isinstance(custody, dict):
        return ["post_rekey_backup_custody must be a mapping (the vault_rekey role records it in "
                "vault_rekey_result.custody), got %s" % type(custody).__name__]
    problems = []
    if not is_set(custody.get("url")):
        problems.append("post_rekey_backup_custody.url must not be empty: it is the URL of the Vault the keys belong "
                        "to")
    # post_rekey_backup_keys_file names the keys file itself, whatever the custody says.
    named = is_set(settings.get("post_rekey_backup_keys_file"))
    if not named and (custody.get("custody") or "file") == "s3":
        for option in ("s3_bucket", "s3_object"):
            if not is_set(custody.get(option)):
                problems.append("post_rekey_backup_custody.%s must be set with custody s3" % option)
    elif not named and not is_set(custody.get("keys_file")):
        problems.append("the keys file is not named: set post_rekey_backup_keys_file, or keys_file in "
                        "post_rekey_backup_custody (the vault_rekey role records it there)")
    # What is missing first, then what is malformed.
    return problems + _custody_values(custody)


def post_rekey_backup_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("post_rekey_backup_input_problems expects a mapping of the role's variables, got %s"
                                 % type(settings).__name__)
    problems = _key_shares_problems(settings)
    check = Checker(settings, secret=SECRET)
    for name in PATHS:
        if name in settings and not is_set(settings[name]):
            problems.append("%s must not be empty" % name)
        check.path(name)
    check.path("post_rekey_backup_keys_file")
    check.distinct_paths(*PATHS)
    for name in ("post_rekey_backup_unseal_key_path", "post_rekey_backup_marker_path"):
        check.distinct_paths("post_rekey_backup_keys_file", name)
    check.token("post_rekey_backup_keys_file_host", pattern=HOST_RE, rule="an inventory host name")
    check.token("post_rekey_backup_vault_token")
    check.text("post_rekey_backup_expected_nonce", pattern=NONCE_RE,
               rule="a rekey nonce as the vault_rekey role reports it (letters, digits, '_' and '-')")
    check.text("post_rekey_backup_accept_destination")
    if "post_rekey_backup_unseal_key" in settings:
        problem = key_file_problem("post_rekey_backup_unseal_key_path",
                                   settings.get("post_rekey_backup_unseal_key_path"),
                                   settings["post_rekey_backup_unseal_key"])
        if problem:
            check.add(problem)
    problems.extend(check.problems)
    problems.extend(_custody_problems(settings))
    return problems


class FilterModule:
    """Input rules of the post_rekey_backup role that its argument spec cannot express."""

    def filters(self):
        return {"post_rekey_backup_input_problems": post_rekey_backup_input_problems}
