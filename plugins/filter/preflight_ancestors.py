# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_ancestors
short_description: Each path with its parent directories, deepest first
version_added: 0.2.0
description:
  - Takes a list of absolute paths and returns a mapping of each path to the list of the path and its parent
    directories, deepest first and ending with C(/).
  - The preflight role measures the free space of a path on the first entry of its list that exists, so that
    a directory not created yet (C(/var/lib/docker) before Docker is installed) is measured on the file system
    that will hold it.
  - Empty parts (repeated or trailing slashes) are dropped; the key is the path as given.
options:
  _input:
    description: Absolute paths.
    type: list
    elements: str
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Look for the disk paths and their parents
  ansible.builtin.stat:
    path: "{{ item }}"
  loop: "{{ (preflight_disk | map(attribute='path') | ptfe.ops.preflight_ancestors).values() | flatten | unique }}"
# ['/var/lib/docker', '/'] | ptfe.ops.preflight_ancestors
# => {'/var/lib/docker': ['/var/lib/docker', '/var/lib', '/var', '/'], '/': ['/']}
"""

RETURN = r"""
_value:
  description: Mapping of each path to the path and its parents, deepest first, ending with C(/).
  type: dict
"""

from ansible.errors import AnsibleFilterError


def preflight_ancestors(paths):
    if not isinstance(paths, (list, tuple)):
        raise AnsibleFilterError("preflight_ancestors expects a list of paths, got %s" % type(paths).__name__)
    chains = {}
    for path in paths:
        if not isinstance(path, str):
            raise AnsibleFilterError("preflight_ancestors expects paths as strings, got %s" % type(path).__name__)
        parts = [part for part in path.split("/") if part]
        chains[path] = ["/" + "/".join(parts[:depth]) for depth in range(len(parts), 0, -1)] + ["/"]
    return chains


class FilterModule:
    """The parent directories of the preflight disk paths."""

    def filters(self):
        return {"preflight_ancestors": preflight_ancestors}
