# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: vault_rekey_input_problems
short_description: Every malformed or conflicting variable of the vault_rekey role, named before anything is read
version_added: 0.2.0
description:
  - Takes the variables of the P(ptfe.ops.vault_rekey#role) role, keyed by their names, and returns one sentence
    per problem, naming the variable at fault and never showing a secret (the token, the verification keys, the
    unseal key). Empty when there is none.
  - The argument spec has already checked types, choices and that V(vault_rekey_url) is given. This filter checks
    the values, with the rules M(ptfe.ops.vault_rekey) applies to the options of the same name, so that a bad value
    is refused by its variable's name before the role's first C(no_log) task, instead of inside it.
  - V(vault_rekey_url) is an https URL (http only with V(vault_rekey_allow_insecure_http)) without user-info, path
    or query; V(vault_rekey_token) holds no white space (a trailing newline, as a YAML block or a vaulted string
    leaves it, is refused); V(vault_rekey_timeout) is 1 to 3600.
  - V(vault_rekey_key_shares) is 1 to 255, V(vault_rekey_key_threshold) 1 to the shares and above 1 with several
    shares; each of V(vault_rekey_pgp_keys) is a one-line base64 public key (or C(keybase:<user>)), one per share;
    each of V(vault_rekey_verification_keys) is a key share in hex or base64; V(vault_rekey_backup) needs PGP keys,
    and V(vault_rekey_require_verification=false) PGP keys with backup.
  - Paths (V(vault_rekey_unseal_key_path), V(vault_rekey_keys_dir), V(vault_rekey_keys_file),
    V(vault_rekey_state_file), V(vault_rekey_ca_cert), V(vault_rekey_s3_ca_bundle)) are absolute, without control
    characters or C(.)/C(..) parts; the keys file, the state file, the unseal key and the CA bundles are different
    files, and the state file is none of the files kept beside the keys file.
  - The S3 bucket, object, KMS key, region and profile follow AWS's syntax; V(vault_rekey_s3_endpoint_url) is an
    https URL.
  - Which variables go together. With V(vault_rekey_custody=file) the keys need a file (V(vault_rekey_keys_file),
    or V(vault_rekey_keys_dir) from which the role derives it), unless PGP mode keeps them in Vault
    (V(vault_rekey_pgp_keys) with V(vault_rekey_backup=true)); the record of an interrupted rekey then needs
    V(vault_rekey_state_file). With V(vault_rekey_custody=s3) the bucket and the object must be named.
  - Given V(vault_rekey_unseal_key) (the content of the unseal key file, which the role reads without logging
    it), it must be one unseal key in hex or base64; the problem names V(vault_rekey_unseal_key_path).
options:
  _input:
    description:
      - The role's variables, by name. A missing one is not checked; V(vault_rekey_custody) missing counts as
        V(file).
    type: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Stop when the variables leave open where the keys go
  ansible.builtin.fail:
    msg: "{{ _problems | join('; ') }}"
  vars:
    _problems: >-
      {{ {'vault_rekey_url': vault_rekey_url, 'vault_rekey_custody': vault_rekey_custody,
          'vault_rekey_keys_file': vault_rekey_keys_file} | ptfe.ops.vault_rekey_input_problems }}
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
from ansible_collections.ptfe.ops.plugins.module_utils._module import MAX_TIMEOUT
from ansible_collections.ptfe.ops.plugins.module_utils._rekey import check_rekey_input, key_file_problem
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, is_set
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import check_connection

PREFIX = "vault_rekey_"
#: Variables whose values never appear in a message.
SECRET = ("vault_rekey_token", "vault_rekey_verification_keys", "vault_rekey_unseal_key")
#: The S3 options the role only hands to the module with custody s3 (the others it hands on in both).
S3_ONLY = ("vault_rekey_s3_bucket", "vault_rekey_s3_object", "vault_rekey_s3_kms_key_id")


def _check_directory(check, name):
    """An absolute directory path without control characters and without '.' or '..' parts."""
    value = check.text(name)
    if value is None:
        return
    parts = value.rstrip("/").split("/")
    if not value.startswith(("/", "~")):
        check.add("%s must be an absolute path, got %s" % (name, check.shown(name, value)))
    elif "." in parts or ".." in parts:
        check.add("%s must not have '.' or '..' parts, got %s" % (name, check.shown(name, value)))


def _values(settings):
    """The variables as the module gets them: with custody file the S3-only ones are not handed on, with
    custody s3 the keys and state files are not."""
    values = dict(settings)
    dropped = S3_ONLY if (settings.get("vault_rekey_custody") or "file") == "file" else (
        "vault_rekey_keys_file", "vault_rekey_state_file", "vault_rekey_keys_dir")
    for name in dropped:
        values.pop(name, None)
    return values


def _together(settings):
    """Which variables must be set together to say where the keys go."""
    problems = []
    custody = settings.get("vault_rekey_custody") or "file"
    if custody == "s3":
        for name in ("vault_rekey_s3_bucket", "vault_rekey_s3_object"):
            if name in settings and not is_set(settings.get(name)):
                problems.append("%s must be set with vault_rekey_custody s3" % name)
        return problems
    if "vault_rekey_keys_file" not in settings or is_set(settings.get("vault_rekey_keys_file")):
        return problems
    backup = boolean(settings.get("vault_rekey_backup", False), strict=False)
    pgp_backup = is_set(settings.get("vault_rekey_pgp_keys")) and backup
    if not pgp_backup:
        problems.append("with vault_rekey_custody file, set vault_rekey_keys_dir or vault_rekey_keys_file: the new "
                        "keys need a file (only PGP mode, vault_rekey_pgp_keys with vault_rekey_backup true, keeps "
                        "them in Vault instead)")
    elif not is_set(settings.get("vault_rekey_state_file")):
        problems.append("without vault_rekey_keys_file, set vault_rekey_state_file: the record of an interrupted "
                        "rekey needs a file")
    return problems


def vault_rekey_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("vault_rekey_input_problems expects a mapping of the role's variables, got %s"
                                 % type(settings).__name__)
    problems = []
    if "vault_rekey_url" in settings and not is_set(settings.get("vault_rekey_url")):
        problems.append("vault_rekey_url must not be empty: it is the URL of the Vault API the rekey runs against")
    check = Checker(_values(settings), secret=SECRET)
    insecure = boolean(settings.get("vault_rekey_allow_insecure_http", False), strict=False)
    check_connection(check, PREFIX, allow_insecure=insecure)
    check.token(PREFIX + "token")
    check.whole(PREFIX + "timeout", minimum=1, maximum=MAX_TIMEOUT)
    check_rekey_input(check, PREFIX)
    check.path(PREFIX + "unseal_key_path")
    _check_directory(check, PREFIX + "keys_dir")
    check_custody(check, PREFIX, allow_insecure=insecure)
    for name in ("keys_file", "state_file"):
        check.distinct_paths(PREFIX + "unseal_key_path", PREFIX + name)
    if "vault_rekey_unseal_key" in settings:
        problem = key_file_problem(PREFIX + "unseal_key_path", settings.get("vault_rekey_unseal_key_path"),
                                   settings["vault_rekey_unseal_key"])
        if problem:
            check.add(problem)
    # What is missing first, then what is malformed.
    return problems + _together(settings) + check.problems


class FilterModule:
    """Input rules of the vault_rekey role that its argument spec cannot express."""

    def filters(self):
        return {"vault_rekey_input_problems": vault_rekey_input_problems}
