# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_ufw_missing
short_description: The firewall role's allow rules that ufw does not hold yet
version_added: 0.2.0
description:
  - Takes the rules the P(ptfe.ops.firewall#role) role applies (the C(rules) of P(ptfe.ops.firewall_rules#filter))
    and the text of ufw's C(user.rules) and C(user6.rules), and returns the rules ufw does not hold yet with the same
    protocol, port, source network and comment. The role hands only those to M(community.general.ufw); a rule ufw
    already holds would be a call that changes nothing, one per rule and run.
  - >-
    ufw records every rule it was given, active or not, as a C(### tuple ###) line (C(allow <proto> <port> <dst>
    <sport> <src> in comment=<hex>)); that is what is read. Networks compare as networks (C(10.0.9.1/32) is ufw's
    C(10.0.9.1)). A rule with another comment, a source port, a destination address or an interface counts as
    missing, so that M(community.general.ufw) sets it as configured.
positional: _input
options:
  _input:
    description: The rules to apply, each C({proto, port, cidr, family, comment}).
    type: list
    elements: dict
    required: true
  user_rules:
    description: The text of ufw's C(user.rules) and C(user6.rules) (empty where ufw has none yet).
    type: str
    required: true
  comment_prefix:
    description: What the role puts before a rule's own comment, followed by a colon and a space.
    type: str
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Work out the rules ufw does not hold yet
  ansible.builtin.set_fact:
    _firewall_rules_missing: >-
      {{ _firewall_rules | ptfe.ops.firewall_ufw_missing(_firewall_ufw_user_rules_text, 'ptfe.ops firewall') }}
"""

RETURN = r"""
_value:
  description: The rules of the input that ufw does not hold, in their order, unchanged.
  type: list
  elements: dict
"""

import binascii
import ipaddress
import re

from ansible.errors import AnsibleFilterError

TUPLE_RE = re.compile(r"^### tuple ### allow (?P<proto>\S+) (?P<port>\S+) (?P<dst>\S+) (?P<sport>\S+) (?P<src>\S+) "
                      r"(?P<direction>\S+)(?: comment=(?P<comment>[0-9a-fA-F]*))?[ \t]*$", re.M)
ANYWHERE = ("0.0.0.0/0", "::/0")
RULE_KEYS = {"proto", "port", "cidr", "comment"}


def held_rules(text):
    """(proto, port, source network, comment) of every plain allow rule ufw records."""
    held = set()
    for match in TUPLE_RE.finditer(text or ""):
        if match.group("direction") != "in" or match.group("sport") != "any" or match.group("dst") not in ANYWHERE:
            continue
        try:
            source = ipaddress.ip_network(match.group("src"), strict=False)
            comment = binascii.unhexlify(match.group("comment") or "").decode("utf-8")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            continue
        held.add((match.group("proto"), match.group("port"), source, comment))
    return held


def firewall_ufw_missing(rules, user_rules, comment_prefix):
    if not isinstance(rules, list) or not all(isinstance(rule, dict) and RULE_KEYS <= set(rule) for rule in rules):
        raise AnsibleFilterError("firewall_ufw_missing expects the list of rules to apply, each with proto, port, "
                                 "cidr and comment")
    if not isinstance(user_rules, str) or not isinstance(comment_prefix, str):
        raise AnsibleFilterError("firewall_ufw_missing expects user_rules and comment_prefix as text")
    held = held_rules(user_rules)
    missing = []
    for rule in rules:
        try:
            source = ipaddress.ip_network(str(rule["cidr"]), strict=False)
        except ValueError:
            missing.append(rule)
            continue
        key = (str(rule["proto"]), str(rule["port"]), source, "%s: %s" % (comment_prefix, rule["comment"]))
        if key not in held:
            missing.append(rule)
    return missing


class FilterModule:
    """The allow rules ufw does not hold yet."""

    def filters(self):
        return {"firewall_ufw_missing": firewall_ufw_missing}
