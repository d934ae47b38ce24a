# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall role over real SSH: lockout guard, bad input and check mode, each proven by reading the
target's rules and files back with docker exec (not through Ansible)."""
from __future__ import annotations

import pytest

# One target on a fixed subnet serves the whole file: its tests run on one pytest-xdist worker, in order
# (ONE_WORKER_FILES in tests/integration/conftest.py).
pytestmark = pytest.mark.slow

# The target's network (see conftest.py): the SSH session comes from the gateway address.
SUBNET = "192.168.232.0/24"
GATEWAY = "192.168.232.1"
PLAYBOOK = "firewall/playbooks/firewall.yml"
OPERATORS = [SUBNET]  # holds the gateway address the SSH session comes from
# Every validation message is covered by tests/unit/firewall; here a sample per kind of input goes through a
# real play to show the role stops before any change.
# /proc/sys is read-only in this NET_ADMIN-only container: forwarding is checked by the Molecule scenario.
BASE = {"firewall_operator_cidrs": OPERATORS, "firewall_lb_cidrs": ["192.168.232.10/32"],
        "firewall_ip_forward": False}


def run(playbook, target, check=False, **overrides):
    return playbook(PLAYBOOK, inventory=target.inventory, check=check, extra_vars={**BASE, **overrides},
                    env={"ANSIBLE_PIPELINING": "true"})


def test_check_mode_on_a_fresh_host_changes_nothing(playbook, ssh_target):
    before = ssh_target.snapshot()
    result = run(playbook, ssh_target, check=True)
    assert result.rc == 0, result.output
    assert result.changed > 0, "check mode should report what it would change"
    assert ssh_target.snapshot() == before
    assert "Status: inactive" in ssh_target.sh("ufw status").stdout


def test_refuses_when_the_ssh_session_is_not_in_operator_cidrs(playbook, ssh_target):
    before = ssh_target.snapshot()
    result = run(playbook, ssh_target, firewall_operator_cidrs=["10.99.0.0/16"])
    assert result.rc != 0
    assert "comes from %s" % GATEWAY in result.output
    assert "firewall_operator_cidrs" in result.output
    assert result.changed == 0
    assert ssh_target.snapshot() == before


def test_refuses_empty_operator_cidrs(playbook, ssh_target):
    before = ssh_target.snapshot()
    result = run(playbook, ssh_target, firewall_operator_cidrs=[])
    assert result.rc != 0
    assert "firewall_operator_cidrs is empty" in result.output
    assert ssh_target.snapshot() == before


@pytest.mark.parametrize("overrides, message", [
    ({"firewall_web_cidrs": ["0.0.0.0/0", "10.0.0.300/8"]}, "firewall_web_cidrs[1]: '10.0.0.300/8' is not a valid CIDR"),
    ({"firewall_web_ports": [443, 70000]}, "firewall_web_ports[1]: 70000 is outside the port range 1-65535"),
    ({"firewall_ssh_port": 65536}, "firewall_ssh_port: 65536 is outside the port range 1-65535"),
    ({"firewall_extra_rules": [{"port": 9100, "cidrs": ["192.168.0.0/33"]}]},
     "firewall_extra_rules[0].cidrs[0]: '192.168.0.0/33' is not a valid CIDR"),
    ({"firewall_extra_rules": [{"port": 53, "proto": "icmp"}]}, "firewall_extra_rules"),
    ({"firewall_ufw_forward_policy": "allow"}, "firewall_ufw_forward_policy"),
])
def test_bad_input_fails_before_any_change(playbook, ssh_target, overrides, message):
    before = ssh_target.snapshot()
    result = run(playbook, ssh_target, **overrides)
    assert result.rc != 0
    assert message in result.output, result.output[-2000:]
    assert result.changed == 0
    assert ssh_target.snapshot() == before


def test_applies_over_ssh_keeps_the_session_and_is_idempotent(playbook, ssh_target):
    first = run(playbook, ssh_target)
    assert first.rc == 0, first.output[-3000:]
    assert "Status: active" in ssh_target.sh("ufw status").stdout
    # The second run goes over a new SSH connection through the now active firewall.
    second = run(playbook, ssh_target)
    assert second.rc == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    rules = ssh_target.sh("iptables -S ptfe-docker-user").stdout
    assert "-s %s -p tcp -m conntrack --ctorigdstport 22" % SUBNET in rules
    # Check mode on a configured host changes nothing either.
    before = ssh_target.snapshot()
    third = run(playbook, ssh_target, check=True)
    assert third.rc == 0 and third.changed == 0
    assert ssh_target.snapshot() == before


def test_rules_that_leave_the_configuration_are_deleted(playbook, ssh_target):
    result = run(playbook, ssh_target, firewall_lb_cidrs=["192.168.232.20/32"])
    assert result.rc == 0, result.output[-3000:]
    status = ssh_target.sh("ufw status").stdout
    assert "192.168.232.20" in status
    assert "192.168.232.10" not in status
    chain = ssh_target.sh("iptables -S ptfe-docker-user").stdout
    assert "192.168.232.20/32" in chain and "192.168.232.10/32" not in chain
