# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: vault_rekey_input_problems
short_description: What the vault_rekey role's variables leave open about where the keys go
version_added: 0.2.0
description:
  - Takes the variables of the P(ptfe.ops.vault_rekey#role) role, keyed by their names, and returns one sentence
    per problem, naming the variables at fault. Empty when there is none.
  - The argument spec has already checked types, choices and that V(vault_rekey_url) is given. This filter checks
    what a spec cannot express, the variables that must be set together. V(vault_rekey_url) must not be empty.
    With V(vault_rekey_custody=file) the keys need a file (V(vault_rekey_keys_file), or V(vault_rekey_keys_dir)
    from which the role derives it), unless PGP mode keeps them in Vault (V(vault_rekey_pgp_keys) with
    V(vault_rekey_backup=true)); the record of an interrupted rekey then needs V(vault_rekey_state_file). With
    V(vault_rekey_custody=s3) the bucket and the object must be named.
  - The values the role hands to M(ptfe.ops.vault_rekey) unchanged (shares, threshold, the number of PGP keys) are
    checked by that module, before its first request.
options:
  _input:
    description:
      - The role's variables. V(vault_rekey_url), V(vault_rekey_custody), V(vault_rekey_keys_file),
        V(vault_rekey_state_file), V(vault_rekey_pgp_keys), V(vault_rekey_backup), V(vault_rekey_s3_bucket) and
        V(vault_rekey_s3_object) are read; a missing one counts as empty, V(vault_rekey_custody) as V(file).
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

from ansible_collections.ptfe.ops.plugins.module_utils._validation import is_set
from ansible.module_utils.parsing.convert_bool import boolean


def vault_rekey_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("vault_rekey_input_problems expects a mapping of the role's variables, got %s"
                                 % type(settings).__name__)
    problems = []
    if not is_set(settings.get("vault_rekey_url")):
        problems.append("vault_rekey_url must not be empty: it is the URL of the Vault API the rekey runs against")
    custody = settings.get("vault_rekey_custody") or "file"
    if custody == "s3":
        for name in ("vault_rekey_s3_bucket", "vault_rekey_s3_object"):
            if not is_set(settings.get(name)):
                problems.append("%s must be set with vault_rekey_custody s3" % name)
        return problems
    if is_set(settings.get("vault_rekey_keys_file")):
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


class FilterModule:
    """Input rules of the vault_rekey role that its argument spec cannot express."""

    def filters(self):
        return {"vault_rekey_input_problems": vault_rekey_input_problems}
