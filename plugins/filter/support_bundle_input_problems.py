# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: support_bundle_input_problems
short_description: Why the support_bundle role cannot run with its variables
version_added: 0.3.0
description:
  - The decision of the P(ptfe.ops.support_bundle#role) role, taken before anything runs. Returns one sentence per
    reason, each naming the variable at fault; empty when nothing stands in the way.
  - The argument spec has checked the types. This filter checks that the directories are absolute paths without
    C(.) or C(..) parts or control characters (and not C(/)), that C(support_bundle_address) is given when the
    generation is to be detected, that the public key is an ASCII-armored OpenPGP public key block, that the
    retention count and the time bound are in range, that the FDO container name is one Docker accepts, and that
    the bundle commands are non-empty lists.
options:
  _input:
    description: The role's variables, keyed by their names; a missing one is not checked.
    type: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Decide whether the input can be used
  ansible.builtin.set_fact:
    _problems: "{{ {'support_bundle_dest': support_bundle_dest} | ptfe.ops.support_bundle_input_problems }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, each naming its variable.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_control, whole

CONTAINER_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")
PGP_RE = re.compile(r"\s*-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(?:(?!-----)[\s\S])+\r?\n-----END PGP PUBLIC KEY BLOCK-----\s*")
DIRECTORIES = ("support_bundle_dest", "support_bundle_host_dir", "support_bundle_fdo_bundle_dir",
               "support_bundle_replicated_dir")
COMMANDS = ("support_bundle_ami_command", "support_bundle_replicated_command")


def _directory_problem(name, value):
    text = "%s" % (value,)
    if has_control(text):
        return "%s must not contain control characters" % name
    if not text.startswith("/") or text.rstrip("/") == "" or any(part in (".", "..") for part in text.split("/")):
        return "%s must be an absolute directory other than / without '.' or '..' parts" % name
    return None


def support_bundle_input_problems(variables):
    if not isinstance(variables, dict):
        raise AnsibleFilterError("support_bundle_input_problems expects a dict of the role's variables")
    problems = []
    for name in DIRECTORIES:
        if variables.get(name) is not None:
            problem = _directory_problem(name, variables[name])
            if problem:
                problems.append(problem)
    if variables.get("support_bundle_platform") == "auto" and not variables.get("support_bundle_address") \
            and "support_bundle_address" in variables:
        problems.append("support_bundle_address is required with support_bundle_platform=auto (or name the "
                        "platform: ami, replicated, fdo or none)")
    key = variables.get("support_bundle_public_key")
    if key not in (None, "") and not PGP_RE.fullmatch("%s" % (key,)):
        problems.append("support_bundle_public_key must be one ASCII-armored OpenPGP public key block "
                        "(-----BEGIN PGP PUBLIC KEY BLOCK----- ...)")
    for name, low, high in (("support_bundle_keep", 1, 100), ("support_bundle_timeout", 1, 86400)):
        if name in variables:
            number = whole(variables[name])
            if number is None or not low <= number <= high:
                problems.append("%s must be a whole number from %d to %d" % (name, low, high))
    container = variables.get("support_bundle_fdo_container")
    if container is not None and not CONTAINER_RE.fullmatch("%s" % (container,)):
        problems.append("support_bundle_fdo_container must be a container name: letters, digits, '_', '.' and '-', "
                        "starting with a letter or digit")
    for name in COMMANDS:
        if name in variables:
            command = variables[name]
            if not isinstance(command, list) or not command or any(not ("%s" % (arg,)) or has_control("%s" % (arg,))
                                                                   for arg in command):
                problems.append("%s must be a non-empty list of arguments without control characters" % name)
    return problems


class FilterModule:
    """Decide whether the support_bundle role can run."""

    def filters(self):
        return {"support_bundle_input_problems": support_bundle_input_problems}
