# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall_rules filter: the firewall role's rules, input checks, SSH guard and IPv6 decision."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.firewall_rules import FilterModule, firewall_rules

BASE = {
    "firewall_web_ports": [443, 80], "firewall_web_cidrs": ["0.0.0.0/0", "::/0"],
    "firewall_lb_ports": [8080], "firewall_lb_cidrs": ["10.0.1.0/24"],
    "firewall_ssh_port": 22, "firewall_operator_cidrs": ["10.0.9.0/24"],
    "firewall_extra_rules": [], "firewall_docker_trusted_interfaces": ["docker0", "br-+"],
    "firewall_ufw_forward_policy": "drop", "firewall_ssh_guard": True, "firewall_ssh_client_address": "",
}


def validate(host=None, connection="local", **settings):
    """The filter as the role calls it, on BASE with ``settings`` over it; ``connection`` local: not over SSH."""
    return firewall_rules({**BASE, **settings}, host=host or {}, connection=connection)


def over_ssh(ssh_client="", **settings):
    """The filter for a play over SSH, where SSH_CLIENT on the host read ``ssh_client``."""
    return validate(host={"ssh_client": ssh_client}, connection="ssh", **settings)


def test_the_filter_is_exposed():
    assert FilterModule().filters() == {"firewall_rules": firewall_rules}


def test_defaults_give_one_rule_per_port_and_network():
    result = validate()
    assert result["problems"] == []
    got = {(r["proto"], r["port"], r["cidr"]) for r in result["rules"]}
    assert got == {("tcp", 443, "0.0.0.0/0"), ("tcp", 443, "::/0"), ("tcp", 80, "0.0.0.0/0"), ("tcp", 80, "::/0"),
                   ("tcp", 8080, "10.0.1.0/24"), ("tcp", 22, "10.0.9.0/24")}


def test_rules_come_in_order_with_family_and_comment():
    result = validate(firewall_web_ports=[443], firewall_extra_rules=[{"port": 53, "proto": "udp",
                                                                      "cidrs": ["10.0.0.0/8"], "comment": "dns"}])
    assert result["rules"] == [
        {"proto": "tcp", "port": 443, "cidr": "0.0.0.0/0", "family": 4, "comment": "web"},
        {"proto": "tcp", "port": 443, "cidr": "::/0", "family": 6, "comment": "web"},
        {"proto": "tcp", "port": 8080, "cidr": "10.0.1.0/24", "family": 4, "comment": "load balancer"},
        {"proto": "tcp", "port": 22, "cidr": "10.0.9.0/24", "family": 4, "comment": "ssh"},
        {"proto": "udp", "port": 53, "cidr": "10.0.0.0/8", "family": 4, "comment": "dns"},
    ]


def test_an_extra_rule_without_networks_is_open_to_anywhere_over_tcp():
    result = validate(firewall_extra_rules=[{"port": 9100}])
    assert [(r["proto"], r["cidr"], r["comment"]) for r in result["rules"] if r["port"] == 9100] == [
        ("tcp", "0.0.0.0/0", "extra"), ("tcp", "::/0", "extra")]


def test_ports_given_as_text_are_numbers():
    # The argument spec checks that a value converts to int, but leaves the variable as it was given.
    result = validate(firewall_web_ports=["443"], firewall_ssh_port="22")
    assert result["problems"] == []
    assert {r["port"] for r in result["rules"]} == {443, 8080, 22}


def test_bare_address_becomes_a_host_network_and_duplicates_collapse():
    result = validate(firewall_extra_rules=[{"port": 22, "cidrs": ["10.0.9.0/24"]},
                                            {"port": 9100, "cidrs": ["10.0.0.7"]}])
    assert result["problems"] == []
    assert [r["cidr"] for r in result["rules"] if r["port"] == 22] == ["10.0.9.0/24"]
    assert [r["cidr"] for r in result["rules"] if r["port"] == 9100] == ["10.0.0.7/32"]


@pytest.mark.parametrize("settings, message", [
    ({"firewall_web_cidrs": ["1.2.3.256/32"]}, "firewall_web_cidrs[0]: '1.2.3.256/32' is not a valid CIDR"),
    ({"firewall_lb_cidrs": ["10.0.1.5/24"]}, "did you mean 10.0.1.0/24?"),
    ({"firewall_operator_cidrs": ["2001:db8::/129"]}, "firewall_operator_cidrs[0]"),
    ({"firewall_web_ports": [0]}, "firewall_web_ports[0]: 0 is outside the port range 1-65535"),
    ({"firewall_lb_ports": [65536]}, "firewall_lb_ports[0]: 65536 is outside the port range 1-65535"),
    ({"firewall_ssh_port": True}, "firewall_ssh_port: True is not a port number"),
    ({"firewall_extra_rules": [{"port": 53, "proto": "icmp"}]}, "firewall_extra_rules[0].proto: 'icmp'"),
    ({"firewall_extra_rules": [{"port": 53, "cidrs": []}]}, "firewall_extra_rules[0].cidrs must not be empty"),
    ({"firewall_extra_rules": [{"port": 53, "from": "x"}]}, "firewall_extra_rules[0]: unknown keys from"),
    ({"firewall_extra_rules": [{"port": 53, "comment": "a'b"}]}, "firewall_extra_rules[0].comment"),
    ({"firewall_docker_trusted_interfaces": ["eth0; rm"]}, "firewall_docker_trusted_interfaces[0]"),
    ({"firewall_ufw_forward_policy": "allow"}, "firewall_ufw_forward_policy"),
    ({"firewall_web_ports": 443}, "firewall_web_ports must be a list of ports, got 443"),
    ({"firewall_lb_cidrs": "10.0.1.0/24"}, "firewall_lb_cidrs must be a list of CIDRs"),
    ({"firewall_extra_rules": [9100]}, "firewall_extra_rules[0] must be a dictionary"),
    ({"firewall_extra_rules": [{"port": 9100, "cidrs": ["10.0.0.0/8", "10.0.0.1/8"]}]},
     "firewall_extra_rules[0].cidrs[1]: '10.0.0.1/8' is not a valid CIDR"),
    ({"firewall_docker_trusted_interfaces": ["a-name-too-long-for-linux"]}, "firewall_docker_trusted_interfaces[0]"),
    # A trailing newline would end the line written into after.rules.
    ({"firewall_docker_trusted_interfaces": ["eth0\n"]}, "firewall_docker_trusted_interfaces[0]: 'eth0\\n'"),
    ({"firewall_extra_rules": [{"port": 53, "comment": "dns\n"}]}, "firewall_extra_rules[0].comment: 'dns\\n'"),
    ({"firewall_extra_rules": [{"port": 53, "comment": "x" * 61}]}, "firewall_extra_rules[0].comment"),
    # Digits of another script convert with int(), but are no port number.
    ({"firewall_web_ports": ["\u0664\u0664\u0663"]},
     "firewall_web_ports[0]: '\u0664\u0664\u0663' is not a port number"),
    ({"firewall_web_ports": [-443]}, "firewall_web_ports[0]: -443 is outside the port range 1-65535"),
    ({"firewall_web_ports": [443.0]}, "firewall_web_ports[0]: 443.0 is not a port number"),
])
def test_bad_input_names_the_variable(settings, message):
    problems = validate(**settings)["problems"]
    assert any(message in e for e in problems), problems


def test_a_bad_value_leaves_its_rule_out_and_keeps_the_others():
    result = validate(firewall_web_ports=[443, 70000])
    assert len(result["problems"]) == 1
    assert {r["port"] for r in result["rules"]} == {443, 8080, 22}


def test_empty_operator_cidrs_are_refused_while_guarded():
    assert any("firewall_operator_cidrs is empty" in e for e in validate(firewall_operator_cidrs=[])["problems"])
    assert validate(firewall_operator_cidrs=[], firewall_ssh_guard=False)["problems"] == []


@pytest.mark.parametrize("client, allowed", [
    ("10.0.9.44", True), ("10.0.8.44", False), ("::ffff:10.0.9.44", True), ("2001:db8::1", False),
])
def test_ssh_client_must_be_inside_the_rules_for_the_ssh_port(client, allowed):
    result = over_ssh(firewall_ssh_client_address=client)
    assert result["ssh"]["client_allowed"] is allowed
    assert (result["problems"] == []) is allowed
    if not allowed:
        assert "Applying would cut it off" in result["problems"][0]


def test_ssh_client_allowed_by_an_extra_rule_counts():
    result = validate(firewall_ssh_client_address="192.0.2.5",
                      firewall_extra_rules=[{"port": 22, "cidrs": ["192.0.2.0/28"]}])
    assert result["problems"] == []


def test_over_ssh_without_a_known_client_address_is_refused():
    assert any("could not be read from SSH_CLIENT" in e for e in over_ssh()["problems"])


@pytest.mark.parametrize("connection, refused", [
    ("ssh", True), ("ansible.builtin.ssh", True), ("paramiko", True), ("ansible.legacy.paramiko_ssh", True),
    ("local", False), ("community.docker.docker", False), ("", False),
])
def test_only_a_play_over_ssh_needs_the_client_address(connection, refused):
    problems = validate(connection=connection)["problems"]
    assert any("could not be read from SSH_CLIENT" in e for e in problems) is refused, problems


def test_the_connection_defaults_to_ssh():
    assert any("could not be read from SSH_CLIENT" in e for e in firewall_rules(BASE)["problems"])


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
    result = over_ssh(env, firewall_ssh_port=ssh_port, firewall_extra_rules=extra)
    assert result["ssh"]["port"] == int(env.split()[2])
    assert result["ssh"]["client"] == env.split()[0]
    assert result["ssh"]["client_allowed"] is allowed
    assert (result["problems"] == []) is allowed, result["problems"]


def test_ssh_guard_on_another_port_names_the_port_and_the_variable():
    problems = over_ssh("10.0.9.44 51234 2222")["problems"]
    assert len(problems) == 1
    assert "reached this host on port 2222 (as SSH_CLIENT on the host says)" in problems[0]
    assert "firewall_ssh_port is 22" in problems[0] and "Set firewall_ssh_port: 2222" in problems[0]


def test_ssh_guard_off_checks_nothing_about_the_session():
    result = over_ssh("10.0.8.44 51234 2222", firewall_ssh_guard=False)
    assert result["problems"] == []
    assert result["ssh"] == {"guard": False, "client": None, "port": None, "client_allowed": None}


def test_explicit_address_and_port_take_precedence_over_ssh_client():
    # The address from the variable, the port from SSH_CLIENT.
    result = over_ssh("192.0.2.1 40000 2222", firewall_ssh_client_address="10.0.9.44")
    assert (result["ssh"]["client"], result["ssh"]["port"]) == ("10.0.9.44", 2222)
    assert result["ssh"]["client_allowed"] is False
    # firewall_ssh_session_port over SSH_CLIENT's port.
    result = over_ssh("10.0.9.44 40000 22", firewall_ssh_session_port=2200)
    assert result["ssh"]["port"] == 2200 and result["ssh"]["client_allowed"] is False
    assert "as firewall_ssh_session_port says" in result["problems"][0]
    result = over_ssh("10.0.9.44 40000 2200", firewall_ssh_session_port=22)
    assert result["problems"] == []


def test_without_a_known_session_port_firewall_ssh_port_is_assumed():
    result = validate(firewall_ssh_client_address="10.0.9.44", firewall_ssh_port=2222,
                      firewall_operator_cidrs=["10.0.9.0/24"])
    assert result["ssh"]["port"] == 2222 and result["problems"] == []


@pytest.mark.parametrize("value", [70000, True, "x"])
def test_bad_session_port_names_the_variable(value):
    problems = over_ssh("10.0.9.44 40000 22", firewall_ssh_session_port=value)["problems"]
    assert any(e.startswith("firewall_ssh_session_port:") for e in problems), problems


def test_a_client_address_that_is_no_address_names_the_variable():
    problems = validate(firewall_ssh_client_address="bastion.example")["problems"]
    assert problems == ["firewall_ssh_client_address: 'bastion.example' is not an IP address"]


# /proc/net/if_inet6: address, ifindex, prefix length, scope, flags, interface.
IF_INET6_LO = "00000000000000000000000000000001 01 80 10 80       lo\n"
IF_INET6_ETH0 = IF_INET6_LO + "fd000232000000000000000000000002 2c 40 00 00     eth0\n" \
    "fe800000000000000042c0fffea8e802 2c 40 20 80     eth0\n"


def test_ipv6_on_keeps_the_ipv6_rules():
    result = validate(host={"if_inet6": IF_INET6_ETH0}, firewall_ipv6=True)
    assert result["problems"] == []
    assert {r["cidr"] for r in result["rules"] if r["family"] == 6} == {"::/0"}
    assert result["ipv6"] == {"enabled": True, "rules": True, "host_interfaces": ["eth0"]}


def test_ipv6_off_is_refused_on_a_host_with_ipv6_naming_the_variable():
    problems = validate(host={"if_inet6": IF_INET6_ETH0}, firewall_ipv6=False)["problems"]
    assert len(problems) == 1
    assert problems[0].startswith("firewall_ipv6 is false, but this host has IPv6 enabled (on eth0)")
    assert "firewall_ipv6: true" in problems[0]


@pytest.mark.parametrize("if_inet6", ["", IF_INET6_LO])
def test_ipv6_off_is_accepted_on_a_host_without_ipv6_and_leaves_ipv6_rules_out(if_inet6):
    result = validate(host={"if_inet6": if_inet6}, firewall_ipv6=False)
    assert result["problems"] == []
    assert result["rules"] and all(r["family"] == 4 for r in result["rules"])
    assert result["ipv6"] == {"enabled": False, "rules": False, "host_interfaces": []}


def test_a_kernel_without_ipv6_gets_no_ipv6_rules():
    # ipv6.disable=1: no /proc/net/if_inet6; ufw would refuse IPv6 rules, and there is nothing to filter.
    result = validate(host={"kernel_ipv6": False, "if_inet6": ""}, firewall_ipv6=True)
    assert result["problems"] == []
    assert result["rules"] and all(r["family"] == 4 for r in result["rules"])
    assert result["ipv6"]["enabled"] is True and result["ipv6"]["rules"] is False


def test_ipv6_off_with_an_ssh_session_over_ipv6_is_refused():
    result = over_ssh("2001:db8::5 40000 22", firewall_ipv6=False,
                      firewall_operator_cidrs=["10.0.9.0/24", "2001:db8::/64"])
    assert any("comes from 2001:db8::5 over IPv6" in e for e in result["problems"]), result["problems"]


def test_ipv6_must_be_a_boolean():
    assert any(e.startswith("firewall_ipv6:") for e in validate(firewall_ipv6="no")["problems"])


@pytest.mark.parametrize("settings, host", [(None, {}), ([], {}), (BASE, "eth0"), (BASE, [])])
def test_anything_but_mappings_is_refused(settings, host):
    with pytest.raises(AnsibleFilterError, match="firewall_rules expects"):
        firewall_rules(settings, host=host)


@pytest.mark.parametrize("anywhere", [["0.0.0.0/0"], ["::/0"], ["10.0.9.0/24", "0.0.0.0/0"]])
def test_ssh_from_anywhere_needs_its_opt_in(anywhere):
    refused = validate(firewall_operator_cidrs=anywhere)
    assert len(refused["problems"]) == 1 and refused["warnings"] == []
    assert refused["problems"][0].startswith("firewall_operator_cidrs: ")
    assert "would open SSH (port 22) to every address" in refused["problems"][0]
    assert "firewall_allow_ssh_from_anywhere" in refused["problems"][0]
    taken = validate(firewall_operator_cidrs=anywhere, firewall_allow_ssh_from_anywhere=True)
    assert taken["problems"] == []
    assert len(taken["warnings"]) == 1 and "SSH (port 22) is open to every address" in taken["warnings"][0]
    assert ("tcp", 22, anywhere[-1]) in {(r["proto"], r["port"], r["cidr"]) for r in taken["rules"]}


def test_operator_networks_with_a_prefix_need_no_opt_in():
    assert validate()["warnings"] == [] and validate()["problems"] == []


def test_admin_ports_are_closed_by_default():
    plan = validate()
    assert plan["problems"] == [] and not [r for r in plan["rules"] if r["comment"] == "admin"]


def test_admin_ports_open_to_named_networks_only():
    plan = validate(firewall_admin_ports=[8800, 9443], firewall_admin_cidrs=["10.0.9.0/24"])
    assert plan["problems"] == [] and plan["warnings"] == []
    assert {(r["port"], r["cidr"]) for r in plan["rules"] if r["comment"] == "admin"} == {
        (8800, "10.0.9.0/24"), (9443, "10.0.9.0/24")}


@pytest.mark.parametrize("anywhere", [["0.0.0.0/0"], ["::/0"], ["10.0.9.0/24", "::/0"]])
def test_admin_port_from_anywhere_needs_its_opt_in(anywhere):
    refused = validate(firewall_admin_ports=[8800], firewall_admin_cidrs=anywhere)
    assert len(refused["problems"]) == 1 and refused["warnings"] == []
    assert refused["problems"][0].startswith("firewall_admin_cidrs: ")
    assert "would open the admin port (port 8800) to every address" in refused["problems"][0]
    assert "firewall_allow_admin_from_anywhere" in refused["problems"][0]
    taken = validate(firewall_admin_ports=[8800], firewall_admin_cidrs=anywhere, firewall_allow_admin_from_anywhere=True)
    assert taken["problems"] == []
    assert taken["warnings"] == ["The admin port (port 8800) is open to every address (%s), as "
                                 "firewall_allow_admin_from_anywhere allows" % anywhere[-1]]
    assert (8800, anywhere[-1]) in {(r["port"], r["cidr"]) for r in taken["rules"]}


def test_admin_networks_without_admin_ports_open_nothing():
    plan = validate(firewall_admin_cidrs=["0.0.0.0/0"])
    assert plan["problems"] == [] and plan["warnings"] == [] and not [r for r in plan["rules"] if r["comment"] == "admin"]
