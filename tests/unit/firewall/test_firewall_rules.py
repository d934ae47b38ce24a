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
