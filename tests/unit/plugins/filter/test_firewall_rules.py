# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall role's validator (roles/firewall/files/firewall_rules.py), called as the role calls it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "firewall" / "files" / "firewall_rules.py"

BASE = {
    "web_ports": [443, 80], "web_cidrs": ["0.0.0.0/0", "::/0"],
    "lb_ports": [8080], "lb_cidrs": ["10.0.1.0/24"],
    "ssh_port": 22, "operator_cidrs": ["10.0.9.0/24"],
    "extra_rules": [], "docker_trusted_interfaces": ["docker0", "br-+"], "forward_policy": "drop",
    "ssh_guard": True, "ssh_client": "", "over_ssh": False,
}


def validate(**overrides):
    out = subprocess.run([sys.executable, "-c", SCRIPT.read_text(), json.dumps({**BASE, **overrides})],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return json.loads(out)


def test_defaults_give_one_rule_per_port_and_network():
    result = validate()
    assert result["errors"] == []
    got = {(r["proto"], r["port"], r["cidr"]) for r in result["rules"]}
    assert got == {("tcp", 443, "0.0.0.0/0"), ("tcp", 443, "::/0"), ("tcp", 80, "0.0.0.0/0"), ("tcp", 80, "::/0"),
                   ("tcp", 8080, "10.0.1.0/24"), ("tcp", 22, "10.0.9.0/24")}


def test_bare_address_becomes_a_host_network_and_duplicates_collapse():
    result = validate(extra_rules=[{"port": 22, "cidrs": ["10.0.9.0/24"]}, {"port": 9100, "cidrs": ["10.0.0.7"]}])
    assert result["errors"] == []
    assert [r["cidr"] for r in result["rules"] if r["port"] == 22] == ["10.0.9.0/24"]
    assert [r["cidr"] for r in result["rules"] if r["port"] == 9100] == ["10.0.0.7/32"]


@pytest.mark.parametrize("overrides, message", [
    ({"web_cidrs": ["1.2.3.256/32"]}, "firewall_web_cidrs[0]: '1.2.3.256/32' is not a valid CIDR"),
    ({"lb_cidrs": ["10.0.1.5/24"]}, "did you mean 10.0.1.0/24?"),
    ({"operator_cidrs": ["2001:db8::/129"]}, "firewall_operator_cidrs[0]"),
    ({"web_ports": [0]}, "firewall_web_ports[0]: 0 is outside the port range 1-65535"),
    ({"lb_ports": [65536]}, "firewall_lb_ports[0]: 65536 is outside the port range 1-65535"),
    ({"ssh_port": True}, "firewall_ssh_port: True is not a port number"),
    ({"extra_rules": [{"port": 53, "proto": "icmp"}]}, "firewall_extra_rules[0].proto: 'icmp'"),
    ({"extra_rules": [{"port": 53, "cidrs": []}]}, "firewall_extra_rules[0].cidrs must not be empty"),
    ({"extra_rules": [{"port": 53, "from": "x"}]}, "firewall_extra_rules[0]: unknown keys from"),
    ({"extra_rules": [{"port": 53, "comment": "a'b"}]}, "firewall_extra_rules[0].comment"),
    ({"docker_trusted_interfaces": ["eth0; rm"]}, "firewall_docker_trusted_interfaces[0]"),
    ({"forward_policy": "allow"}, "firewall_ufw_forward_policy"),
])
def test_bad_input_names_the_variable(overrides, message):
    errors = validate(**overrides)["errors"]
    assert any(message in e for e in errors), errors


def test_empty_operator_cidrs_are_refused_while_guarded():
    assert any("firewall_operator_cidrs is empty" in e for e in validate(operator_cidrs=[])["errors"])
    assert validate(operator_cidrs=[], ssh_guard=False)["errors"] == []


@pytest.mark.parametrize("client, allowed", [
    ("10.0.9.44", True), ("10.0.8.44", False), ("::ffff:10.0.9.44", True), ("2001:db8::1", False),
])
def test_ssh_client_must_be_inside_the_rules_for_the_ssh_port(client, allowed):
    result = validate(ssh_client=client, over_ssh=True)
    assert result["ssh"]["client_allowed"] is allowed
    assert (result["errors"] == []) is allowed
    if not allowed:
        assert "Applying would cut it off" in result["errors"][0]


def test_ssh_client_allowed_by_an_extra_rule_counts():
    result = validate(ssh_client="192.0.2.5", extra_rules=[{"port": 22, "cidrs": ["192.0.2.0/28"]}])
    assert result["errors"] == []


def test_over_ssh_without_a_known_client_address_is_refused():
    assert any("could not be read from SSH_CLIENT" in e for e in validate(over_ssh=True)["errors"])


# SSH_CLIENT as sshd sets it: client address, client port, server port (the port the session came in on).
@pytest.mark.parametrize("ssh_port, env, extra, allowed", [
    (22, "10.0.9.44 51234 22", [], True),
    (22, "10.0.9.44 51234 2222", [], False),  # sshd on 2222, firewall_ssh_port left at 22: would lock out
    (2222, "10.0.9.44 51234 2222", [], True),
    (22, "10.0.9.44 51234 2222", [{"port": 2222, "cidrs": ["10.0.9.0/24"]}], True),
    (22, "10.0.9.44 51234 2222", [{"port": 2222, "proto": "udp", "cidrs": ["10.0.9.0/24"]}], False),
    (2222, "10.0.8.44 51234 2222", [], False),
])
def test_ssh_guard_checks_the_port_the_session_came_in_on(ssh_port, env, extra, allowed):
    result = validate(ssh_port=ssh_port, ssh_client_env=env, extra_rules=extra, over_ssh=True)
    assert result["ssh"]["port"] == int(env.split()[2])
    assert result["ssh"]["client"] == env.split()[0]
    assert result["ssh"]["client_allowed"] is allowed
    assert (result["errors"] == []) is allowed, result["errors"]


def test_ssh_guard_on_another_port_names_the_port_and_the_variable():
    errors = validate(ssh_client_env="10.0.9.44 51234 2222", over_ssh=True)["errors"]
    assert len(errors) == 1
    assert "reached this host on port 2222 (as SSH_CLIENT on the host says)" in errors[0]
    assert "firewall_ssh_port is 22" in errors[0] and "Set firewall_ssh_port: 2222" in errors[0]


def test_explicit_address_and_port_take_precedence_over_ssh_client():
    # The address from the variable, the port from SSH_CLIENT.
    result = validate(ssh_client="10.0.9.44", ssh_client_env="192.0.2.1 40000 2222", over_ssh=True)
    assert (result["ssh"]["client"], result["ssh"]["port"]) == ("10.0.9.44", 2222)
    assert result["ssh"]["client_allowed"] is False
    # firewall_ssh_session_port over SSH_CLIENT's port.
    result = validate(ssh_client_env="10.0.9.44 40000 22", ssh_session_port=2200, over_ssh=True)
    assert result["ssh"]["port"] == 2200 and result["ssh"]["client_allowed"] is False
    assert "as firewall_ssh_session_port says" in result["errors"][0]
    result = validate(ssh_client_env="10.0.9.44 40000 2200", ssh_session_port=22, over_ssh=True)
    assert result["errors"] == []


def test_without_a_known_session_port_firewall_ssh_port_is_assumed():
    result = validate(ssh_client="10.0.9.44", ssh_port=2222, operator_cidrs=["10.0.9.0/24"])
    assert result["ssh"]["port"] == 2222 and result["errors"] == []


@pytest.mark.parametrize("value", [70000, True, "x"])
def test_bad_session_port_names_the_variable(value):
    errors = validate(ssh_client_env="10.0.9.44 40000 22", ssh_session_port=value, over_ssh=True)["errors"]
    assert any(e.startswith("firewall_ssh_session_port:") for e in errors), errors


# /proc/net/if_inet6: address, ifindex, prefix length, scope, flags, interface.
IF_INET6_LO = "00000000000000000000000000000001 01 80 10 80       lo\n"
IF_INET6_ETH0 = IF_INET6_LO + "fd000232000000000000000000000002 2c 40 00 00     eth0\n" \
    "fe800000000000000042c0fffea8e802 2c 40 20 80     eth0\n"


def test_ipv6_on_keeps_the_ipv6_rules():
    result = validate(ipv6=True, if_inet6=IF_INET6_ETH0)
    assert result["errors"] == []
    assert {r["cidr"] for r in result["rules"] if r["family"] == 6} == {"::/0"}
    assert result["ipv6"] == {"enabled": True, "rules": True, "host_interfaces": ["eth0"]}


def test_ipv6_off_is_refused_on_a_host_with_ipv6_naming_the_variable():
    errors = validate(ipv6=False, if_inet6=IF_INET6_ETH0)["errors"]
    assert len(errors) == 1
    assert errors[0].startswith("firewall_ipv6 is false, but this host has IPv6 enabled (on eth0)")
    assert "firewall_ipv6: true" in errors[0]


@pytest.mark.parametrize("if_inet6", ["", IF_INET6_LO])
def test_ipv6_off_is_accepted_on_a_host_without_ipv6_and_leaves_ipv6_rules_out(if_inet6):
    result = validate(ipv6=False, if_inet6=if_inet6)
    assert result["errors"] == []
    assert result["rules"] and all(r["family"] == 4 for r in result["rules"])
    assert result["ipv6"] == {"enabled": False, "rules": False, "host_interfaces": []}


def test_a_kernel_without_ipv6_gets_no_ipv6_rules():
    # ipv6.disable=1: no /proc/net/if_inet6; ufw would refuse IPv6 rules, and there is nothing to filter.
    result = validate(ipv6=True, kernel_ipv6=False, if_inet6="")
    assert result["errors"] == []
    assert result["rules"] and all(r["family"] == 4 for r in result["rules"])
    assert result["ipv6"]["enabled"] is True and result["ipv6"]["rules"] is False


def test_ipv6_off_with_an_ssh_session_over_ipv6_is_refused():
    result = validate(ipv6=False, operator_cidrs=["10.0.9.0/24", "2001:db8::/64"],
                      ssh_client_env="2001:db8::5 40000 22", over_ssh=True)
    assert any("comes from 2001:db8::5 over IPv6" in e for e in result["errors"]), result["errors"]


def test_ipv6_must_be_a_boolean():
    assert any(e.startswith("firewall_ipv6:") for e in validate(ipv6="no")["errors"])


def rule(port, cidr, comment, proto="tcp"):
    return {"proto": proto, "port": port, "cidr": cidr, "family": 6 if ":" in cidr else 4, "comment": comment}


def test_stale_rules_are_the_previous_ones_no_longer_configured():
    previous = [
        rule(8080, "10.0.1.0/24", "load balancer"),   # still configured
        rule(8080, "10.0.2.0/24", "load balancer"),   # left the configuration
        rule(22, "10.0.9.0/24", "old comment"),       # still configured, comment changed: not stale
        rule(9100, "2001:db8::/64", "metrics"),       # left, IPv6
        rule(9100, "2001:db8::/64", "metrics"),       # recorded twice: deleted once
        rule(53, "10.0.0.0/8", "dns", proto="udp"),   # left, other protocol
        {"proto": "tcp", "port": 1},                  # not a rule this role wrote: ignored
    ]
    result = validate(previous_rules=previous)
    assert result["errors"] == []
    assert result["stale"] == [rule(8080, "10.0.2.0/24", "load balancer"), rule(9100, "2001:db8::/64", "metrics"),
                               rule(53, "10.0.0.0/8", "dns", proto="udp")]


@pytest.mark.parametrize("previous", [None, [], {"rules": []}])
def test_no_previous_rules_means_nothing_stale(previous):
    assert validate(previous_rules=previous)["stale"] == []
