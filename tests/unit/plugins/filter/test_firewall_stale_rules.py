# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall_stale_rules filter: the rules the firewall role applied last time that left the configuration."""
from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.firewall_stale_rules import FilterModule, firewall_stale_rules


def rule(port, cidr, comment, proto="tcp"):
    return {"proto": proto, "port": port, "cidr": cidr, "family": 6 if ":" in cidr else 4, "comment": comment}


# What the role applies now.
RULES = [rule(8080, "10.0.1.0/24", "load balancer"), rule(22, "10.0.9.0/24", "ssh")]
PREVIOUS = [
    rule(8080, "10.0.1.0/24", "load balancer"),   # still configured
    rule(8080, "10.0.2.0/24", "load balancer"),   # left the configuration
    rule(22, "10.0.9.0/24", "old comment"),       # still configured, comment changed: not stale
    rule(9100, "2001:db8::/64", "metrics"),       # left, IPv6
    rule(9100, "2001:db8::/64", "metrics"),       # recorded twice: deleted once
    rule(53, "10.0.0.0/8", "dns", proto="udp"),   # left, other protocol
    {"proto": "tcp", "port": 1},                  # not a rule this role wrote: ignored
]
STALE = [rule(8080, "10.0.2.0/24", "load balancer"), rule(9100, "2001:db8::/64", "metrics"),
         rule(53, "10.0.0.0/8", "dns", proto="udp")]


def test_the_filter_is_exposed():
    assert FilterModule().filters() == {"firewall_stale_rules": firewall_stale_rules}


def test_stale_rules_are_the_previous_ones_no_longer_configured():
    assert firewall_stale_rules(PREVIOUS, RULES) == STALE


@pytest.mark.parametrize("previous", [
    json.dumps({"rules": PREVIOUS}, indent=2) + "\n",  # the state file as the role writes it (to_nice_json)
    {"rules": PREVIOUS},
], ids=["state-file-text", "state-document"])
def test_the_state_file_is_read_as_the_role_writes_it(previous):
    assert firewall_stale_rules(previous, RULES) == STALE


def test_a_record_without_family_gets_it_from_the_network():
    previous = [{"proto": "tcp", "port": 80, "cidr": "::/0", "comment": "web"},
                {"proto": "tcp", "port": 80, "cidr": "0.0.0.0/0", "comment": "web"}]
    assert [r["family"] for r in firewall_stale_rules(previous, RULES)] == [6, 4]


def test_only_proto_port_and_network_tell_rules_apart():
    previous = [rule(22, "10.0.9.0/24", "ssh", proto="udp"), rule(23, "10.0.9.0/24", "ssh"),
                rule(22, "10.0.8.0/24", "ssh")]
    assert firewall_stale_rules(previous, RULES) == previous


@pytest.mark.parametrize("previous", [None, [], {"rules": []}, "", "  \n", {}, "[]", 42])
def test_no_previous_rules_means_nothing_stale(previous):
    assert firewall_stale_rules(previous, RULES) == []


def test_a_record_that_is_not_json_is_refused():
    with pytest.raises(AnsibleFilterError, match="the record of the rules applied last time is not JSON"):
        firewall_stale_rules('{"rules": [', RULES)


@pytest.mark.parametrize("rules", [None, {"rules": []}, [{"port": 22}]])
def test_the_current_rules_must_be_rules(rules):
    with pytest.raises(AnsibleFilterError, match="firewall_stale_rules expects rules"):
        firewall_stale_rules([], rules)
