# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall_ufw_missing filter: the allow rules ufw does not hold yet, read from its user.rules."""
from __future__ import annotations

import binascii

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.firewall_ufw_missing import FilterModule, firewall_ufw_missing

PREFIX = "ptfe.ops firewall"


def rule(port, cidr, comment, proto="tcp"):
    return {"proto": proto, "port": port, "cidr": cidr, "family": 6 if ":" in cidr else 4, "comment": comment}


def tuple_line(proto, port, src, comment=None, dst=None, sport="any", direction="in"):
    dst = dst or ("::/0" if ":" in src else "0.0.0.0/0")
    line = "### tuple ### allow %s %s %s %s %s %s" % (proto, port, dst, sport, src, direction)
    if comment is not None:
        line += " comment=" + binascii.hexlify(comment.encode()).decode()
    return line


# As ufw 0.36 writes them (user.rules, then user6.rules), iptables lines between the tuples.
USER_RULES = "\n".join([
    "*filter",
    ":ufw-user-input - [0:0]",
    "### RULES ###",
    tuple_line("tcp", 443, "0.0.0.0/0", PREFIX + ": web"),
    "-A ufw-user-input -p tcp --dport 443 -j ACCEPT",
    tuple_line("tcp", 22, "10.0.9.0/24", PREFIX + ": ssh"),
    "-A ufw-user-input -p tcp --dport 22 -s 10.0.9.0/24 -j ACCEPT",
    tuple_line("tcp", 8443, "192.168.233.1", PREFIX + ": admin"),      # ufw drops /32
    tuple_line("tcp", 8080, "172.16.0.0/12", "someone else's comment"),
    tuple_line("tcp", 9100, "10.0.0.0/8", PREFIX + ": metrics", sport="1024"),
    tuple_line("tcp", 9200, "10.0.0.0/8", PREFIX + ": search", dst="10.0.0.1"),
    tuple_line("tcp", 9300, "10.0.0.0/8", PREFIX + ": cluster", direction="in_eth0"),
    tuple_line("udp", 53, "10.0.0.0/8"),
    "### END RULES ###",
    "COMMIT",
    tuple_line("tcp", 443, "::/0", PREFIX + ": web"),
    tuple_line("tcp", 22, "fd00:231::11", PREFIX + ": ssh"),           # /128 dropped
])


def test_the_filter_is_exposed():
    assert FilterModule().filters() == {"firewall_ufw_missing": firewall_ufw_missing}


@pytest.mark.parametrize("wanted", [
    rule(443, "0.0.0.0/0", "web"),
    rule(443, "::/0", "web"),
    rule(22, "10.0.9.0/24", "ssh"),
    rule(8443, "192.168.233.1/32", "admin"),
    rule(22, "fd00:231::11/128", "ssh"),
], ids=["web-v4", "web-v6", "ssh-network", "host-v4-without-prefix", "host-v6-without-prefix"])
def test_a_rule_ufw_holds_is_left_out(wanted):
    assert firewall_ufw_missing([wanted], USER_RULES, PREFIX) == []


@pytest.mark.parametrize("wanted", [
    rule(80, "0.0.0.0/0", "web"),                       # not there
    rule(443, "0.0.0.0/0", "web", proto="udp"),          # other protocol
    rule(22, "10.0.8.0/24", "ssh"),                      # other network
    rule(8080, "172.16.0.0/12", "load balancer"),        # other comment: ufw updates it
    rule(9100, "10.0.0.0/8", "metrics"),                 # held with a source port
    rule(9200, "10.0.0.0/8", "search"),                  # held for one destination address
    rule(9300, "10.0.0.0/8", "cluster"),                 # held on one interface
    rule(53, "10.0.0.0/8", "dns", proto="udp"),          # held without a comment
    rule(22, "fd00:231::/64", "ssh"),                    # the host, not its network
], ids=["absent", "protocol", "network", "comment", "source-port", "destination", "interface", "no-comment",
        "v6-network"])
def test_a_rule_ufw_holds_otherwise_is_missing(wanted):
    assert firewall_ufw_missing([wanted], USER_RULES, PREFIX) == [wanted]


def test_order_is_kept_and_nothing_is_held_on_a_fresh_host():
    rules = [rule(443, "0.0.0.0/0", "web"), rule(80, "0.0.0.0/0", "web"), rule(22, "10.0.9.0/24", "ssh")]
    assert firewall_ufw_missing(rules, "", PREFIX) == rules
    assert firewall_ufw_missing(rules, USER_RULES, PREFIX) == [rules[1]]


def test_a_damaged_tuple_line_holds_nothing():
    damaged = "### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in comment=zz\n" \
              "### tuple ### allow tcp 443 0.0.0.0/0 any not-a-network in\n"
    assert firewall_ufw_missing([rule(443, "0.0.0.0/0", "web")], damaged, PREFIX) == [rule(443, "0.0.0.0/0", "web")]


@pytest.mark.parametrize("args", [
    ("not a list", "", PREFIX),
    ([{"proto": "tcp"}], "", PREFIX),
    ([rule(443, "0.0.0.0/0", "web")], None, PREFIX),
    ([rule(443, "0.0.0.0/0", "web")], "", None),
], ids=["rules-not-a-list", "rule-without-keys", "user-rules-not-text", "prefix-not-text"])
def test_wrong_input_is_refused(args):
    with pytest.raises(AnsibleFilterError):
        firewall_ufw_missing(*args)
