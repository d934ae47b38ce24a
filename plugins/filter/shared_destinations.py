# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: shared_destinations
short_description: Keys destinations that more than one host of the play would use
version_added: 0.2.0
description:
  - Takes a mapping of inventory host name to the keys destination it would use (as the vault_rekey role
    records it in C(_vault_rekey_destination)) and returns one sentence per destination that two or more hosts
    share, naming them. Empty when every host has its own.
  - Hosts without a destination (empty or missing) are ignored.
  - Two spellings of one file are one destination. The path of C(<machine>:<path>) is compared normalised
    (C(/k/./a.json), C(/k//a.json) and C(/k/x/../a.json) are C(/k/a.json)), and so is the object key of an
    C(s3://<bucket>/<key>) URL (leading and doubled C(/) removed, as S3 custody does).
options:
  _input:
    description: Mapping of host name to destination.
    type: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Refuse a keys file that two hosts share
  ansible.builtin.assert:
    that: _shared | length == 0
    fail_msg: "{{ _shared | join('; ') }}"
  vars:
    _shared: >-
      {{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars)
                                       | map(attribute='_vault_rekey_destination', default='')))
         | ptfe.ops.shared_destinations }}
  run_once: true
"""

RETURN = r"""
_value:
  description: One sentence per shared destination, sorted by destination.
  type: list
  elements: str
"""

import posixpath
import re

from ansible.errors import AnsibleFilterError


def _normal(destination):
    """One spelling of a destination: the machine and the normalised path, or the bucket and the object key."""
    if destination.startswith("s3://"):
        bucket, key = (destination[len("s3://"):].split("/", 1) + [""])[:2]
        return "s3://%s/%s" % (bucket, re.sub("/+", "/", key.lstrip("/")))
    machine, colon, path = destination.partition(":")
    return machine + colon + (posixpath.normpath(path) if path else path)


def shared_destinations(mapping):
    if not isinstance(mapping, dict):
        raise AnsibleFilterError("shared_destinations expects a mapping of host to destination, got %s"
                                 % type(mapping).__name__)
    users = {}
    for host, destination in mapping.items():
        if not destination or not isinstance(destination, str):
            continue
        users.setdefault(_normal(destination), []).append(str(host))
    return ["%s is the keys destination of %s" % (destination, ", ".join(sorted(hosts)))
            for destination, hosts in sorted(users.items()) if len(hosts) > 1]


class FilterModule:
    """Filters for the custody of Vault's keys."""

    def filters(self):
        return {"shared_destinations": shared_destinations}
