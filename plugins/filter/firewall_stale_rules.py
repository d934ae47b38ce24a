# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_stale_rules
short_description: The rules the firewall role applied last time that left the configuration
version_added: 0.2.0
description:
  - The P(ptfe.ops.firewall#role) role records the allow rules it applied in a state file on the host
    (C(/etc/ufw/ptfe-ops-firewall.json)). This filter takes that record and the rules to apply now (the C(rules) of
    P(ptfe.ops.firewall_rules#filter)) and returns the recorded rules whose protocol, port and network are no longer
    configured. The role deletes them after the new rules are in place.
  - A rule that stays and only changes its comment is not stale; adding it again updates its comment, and deleting
    the old one afterwards would remove the rule. A rule recorded twice is returned once. Entries that are not rules
    this role wrote (without C(proto), C(port), C(cidr) or C(comment)) are left alone.
positional: _input
options:
  _input:
    description:
      - What the role recorded last time. The text of the state file, a JSON object whose C(rules) lists the rules;
        empty when there is none. That object parsed, or its list of rules, is taken as well.
    type: raw
    required: true
  rules:
    description: The rules to apply now, each C({proto, port, cidr, family, comment}).
    type: list
    elements: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Read the rules this role applied last time
  ansible.builtin.slurp:
    src: /etc/ufw/ptfe-ops-firewall.json
  register: _firewall_state_previous
  failed_when: false

- name: Work out the rules that left the configuration
  ansible.builtin.set_fact:
    _firewall_rules_stale: >-
      {{ _firewall_state_previous.content | default('') | b64decode
         | ptfe.ops.firewall_stale_rules(_firewall_plan.rules) }}
"""

RETURN = r"""
_value:
  description:
    - The stale rules, in the order they were recorded, each C({proto, port, cidr, family, comment}). C(family) is
      taken from the network where the record has none.
  type: list
  elements: dict
"""

import json

from ansible.errors import AnsibleFilterError

RULE_KEYS = {"proto", "port", "cidr", "comment"}


def recorded_rules(previous):
    """The list of rules in what the role recorded (text, the parsed document, or the list itself)."""
    if isinstance(previous, str):
        if not previous.strip():
            return []
        try:
            previous = json.loads(previous)
        except ValueError as exc:
            raise AnsibleFilterError("firewall_stale_rules: the record of the rules applied last time is not JSON "
                                     "(%s); remove the state file to start a new record" % exc) from None
    if isinstance(previous, dict):
        previous = previous.get("rules")
    return previous if isinstance(previous, list) else []


def firewall_stale_rules(previous, rules):
    if not isinstance(rules, list) or not all(isinstance(rule, dict) and RULE_KEYS <= set(rule) for rule in rules):
        raise AnsibleFilterError("firewall_stale_rules expects rules to be the list of rules to apply, each with "
                                 "proto, port, cidr and comment")
    wanted = {(rule["proto"], rule["port"], rule["cidr"]) for rule in rules}
    stale, seen = [], set()
    for rule in recorded_rules(previous):
        if not isinstance(rule, dict) or not RULE_KEYS <= set(rule):
            continue
        key = (rule["proto"], rule["port"], rule["cidr"])
        if key in wanted or key in seen:
            continue
        seen.add(key)
        family = rule.get("family") or (6 if ":" in str(rule["cidr"]) else 4)
        stale.append({"proto": rule["proto"], "port": rule["port"], "cidr": rule["cidr"], "family": family,
                      "comment": rule["comment"]})
    return stale


class FilterModule:
    """The rules the firewall role deletes."""

    def filters(self):
        return {"firewall_stale_rules": firewall_stale_rules}
