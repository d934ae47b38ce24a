# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall role over real SSH: lockout guard, bad input, the argument spec, check mode and `--tags firewall`,
each proven by reading the target's rules and files back with docker exec (not through Ansible); IPv6 filtered
like IPv4, proven with real connections over both families."""
from __future__ import annotations

import re

import pytest

from tests.integration.firewall.conftest import PROBE_PORTS, ROOT, SSH_ALT_PORT, SUBNET6, TARGET_IP, TARGET_IP6, connects

# One target on a fixed subnet serves the whole file: its tests run on one pytest-xdist worker, in order
# (ONE_WORKER_FILES in tests/integration/conftest.py).
pytestmark = pytest.mark.slow

# The target's network (see conftest.py): the SSH session comes from the gateway address.
SUBNET = "192.168.232.0/24"
GATEWAY = "192.168.232.1"
PLAYBOOK = "firewall/playbooks/firewall.yml"
OPERATORS = [SUBNET, SUBNET6]  # hold the gateway addresses the SSH session and the probes come from
# Every validation message is covered by tests/unit/plugins/filter/test_firewall_rules.py; here a sample per kind
# of input goes through a real play to show the role stops before any change.
# /proc/sys is read-only in this NET_ADMIN-only container: forwarding is checked by the Molecule scenario.
BASE = {"firewall_operator_cidrs": OPERATORS, "firewall_lb_cidrs": ["192.168.232.10/32"],
        "firewall_ip_forward": False}


def run(playbook, target, check=False, inventory=None, tags=None, **overrides):
    return playbook(PLAYBOOK, inventory=inventory or target.inventory, check=check, extra_vars={**BASE, **overrides},
                    env={"ANSIBLE_PIPELINING": "true"}, tags=tags)


def reachable(ports=PROBE_PORTS):
    """Which (family, port) connect from the machine running the tests (the gateway, an operator)."""
    return {(family, port) for family, address in ((4, TARGET_IP), (6, TARGET_IP6)) for port in ports
            if connects(address, port)}


def test_check_mode_on_a_fresh_host_changes_nothing(playbook, ssh_target):
    # Negative control: before the role, every probe connects over both families.
    assert reachable() == {(4, 80), (4, 9999), (6, 80), (6, 9999)}
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


@pytest.mark.parametrize("removed, message", [
    ({}, "missing required arguments: firewall_operator_cidrs"),
    ({"firewall_operator_cidrs": None}, "argument 'firewall_operator_cidrs' is of type NoneType and we were unable to "
                                        "convert to list"),
], ids=["left-out", "null"])
def test_a_removed_required_variable_fails_at_the_argument_spec(playbook, ssh_target, removed, message):
    """firewall_operator_cidrs has no default: without it the argument spec stops the role before its first task."""
    extra_vars = {**{k: v for k, v in BASE.items() if k != "firewall_operator_cidrs"}, **removed}
    before = ssh_target.snapshot()
    result = playbook(PLAYBOOK, inventory=ssh_target.inventory, extra_vars=extra_vars)
    assert result.rc != 0
    # The argument spec is the only task that ran: not even the host was read.
    tasks = re.findall(r"^TASK \[(.+?)\]", result.stdout, re.M)
    assert len(tasks) == 1 and tasks[0].startswith("ptfe.ops.firewall : Validating arguments against arg spec"), tasks
    assert "Validation of arguments failed" in result.stdout and message in result.stdout, result.stdout[-3000:]
    assert result.changed == 0 and result.failed == 1
    assert ssh_target.snapshot() == before


@pytest.mark.parametrize("overrides, message", [
    ({"firewall_web_cidrs": ["0.0.0.0/0", "10.0.0.300/8"]}, "firewall_web_cidrs[1]: '10.0.0.300/8' is not a valid CIDR"),
    ({"firewall_web_ports": [443, 70000]}, "firewall_web_ports[1]: 70000 is outside the port range 1-65535"),
    ({"firewall_ssh_port": 65536}, "firewall_ssh_port: 65536 is outside the port range 1-65535"),
    ({"firewall_extra_rules": [{"port": 9100, "cidrs": ["192.168.0.0/33"]}]},
     "firewall_extra_rules[0].cidrs[0]: '192.168.0.0/33' is not a valid CIDR"),
    ({"firewall_extra_rules": [{"port": 53, "proto": "icmp"}]}, "firewall_extra_rules"),
    ({"firewall_ufw_forward_policy": "allow"}, "firewall_ufw_forward_policy"),
    ({"firewall_admin_ports": [8800], "firewall_admin_cidrs": ["0.0.0.0/0"]},
     "firewall_admin_cidrs: 0.0.0.0/0 would open the admin port (port 8800) to every address on the Internet"),
])
def test_bad_input_fails_before_any_change(playbook, ssh_target, overrides, message):
    before = ssh_target.snapshot()
    result = run(playbook, ssh_target, **overrides)
    assert result.rc != 0
    assert message in result.output, result.output[-2000:]
    assert result.changed == 0
    assert ssh_target.snapshot() == before


def test_refuses_ipv6_off_on_a_host_with_ipv6(playbook, ssh_target):
    before = ssh_target.snapshot()
    result = run(playbook, ssh_target, firewall_ipv6=False)
    assert result.rc != 0
    assert "firewall_ipv6 is false, but this host has IPv6 enabled (on eth0)" in result.output, result.output[-2000:]
    assert result.changed == 0
    assert ssh_target.snapshot() == before


def test_refuses_when_sshd_listens_on_another_port_than_firewall_ssh_port(playbook, ssh_target):
    """The session comes in on 2222 and firewall_ssh_port stays 22: applying would lock it out."""
    before = ssh_target.snapshot()
    result = run(playbook, ssh_target, inventory=ssh_target.inventory_alt_port)
    assert result.rc != 0
    assert "reached this host on port %d (as SSH_CLIENT on the host says)" % SSH_ALT_PORT in result.output, \
        result.output[-2000:]
    assert "Set firewall_ssh_port: %d" % SSH_ALT_PORT in result.output
    assert result.changed == 0
    assert ssh_target.snapshot() == before


def test_applies_over_ssh_keeps_the_session_and_is_idempotent(playbook, ssh_target):
    first = run(playbook, ssh_target)
    assert first.rc == 0, first.output[-3000:]
    assert "Status: active" in ssh_target.sh("ufw status").stdout
    # IPv6 is filtered like IPv4: ufw got IPV6=yes (the target started with IPV6=no), and real connections over
    # both families get the same answer: the web port connects, the port without a rule is dropped.
    assert "IPV6=yes" in ssh_target.sh("grep '^IPV6=' /etc/default/ufw").stdout.split()
    assert reachable() == {(4, 80), (6, 80)}
    assert "-A ufw6-user-input -p tcp -m tcp --dport 80 -j ACCEPT" in ssh_target.sh("ip6tables -S ufw6-user-input").stdout
    # Docker's ip6tables DOCKER-USER chain jumps to the managed chain, which allows the IPv6 networks.
    assert "-A DOCKER-USER -j ptfe-docker-user" in ssh_target.sh("ip6tables -S DOCKER-USER").stdout.splitlines()
    chain6 = ssh_target.sh("ip6tables -S ptfe-docker-user").stdout
    assert "-s %s -p tcp -m conntrack --ctorigdstport 22" % SUBNET6 in chain6
    assert "-A ptfe-docker-user -m conntrack --ctstate NEW -j DROP" in chain6
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
    # The extra rule opens the second sshd port for the next test.
    result = run(playbook, ssh_target, firewall_lb_cidrs=["192.168.232.20/32", "fd00:232::20/128"],
                 firewall_extra_rules=[{"port": SSH_ALT_PORT, "cidrs": OPERATORS}])
    assert result.rc == 0, result.output[-3000:]
    status = ssh_target.sh("ufw status").stdout
    assert "192.168.232.20" in status and "fd00:232::20" in status
    assert "192.168.232.10" not in status
    chain = ssh_target.sh("iptables -S ptfe-docker-user").stdout
    assert "192.168.232.20/32" in chain and "192.168.232.10/32" not in chain
    assert "fd00:232::20/128" in ssh_target.sh("ip6tables -S ptfe-docker-user").stdout
    # The new rule went in before the stale one came out (never a moment with neither).
    added = changed_item(result, "tcp/8080 from 192.168.232.20/32")
    deleted = changed_item(result, "tcp/8080 from 192.168.232.10/32")
    assert added < deleted, result.stdout[-3000:]


def changed_item(result, label):
    """Where in the play's output the loop item with this label reported a change."""
    match = re.search(r"^changed: \[[^]]+\] => \(item=%s\)$" % re.escape(label), result.stdout, re.M)
    assert match, "no change reported for %s:\n%s" % (label, result.stdout[-3000:])
    return match.start()


def test_ssh_on_another_port_is_never_locked_out(playbook, ssh_target):
    """sshd answers on 22 and 2222. Over a session on 22, moving SSH to 2222 is refused; over a session on 2222
    (opened by the extra rule of the test before) it goes through, and the session's port stays open."""
    assert reachable((22, SSH_ALT_PORT)) == {(4, 22), (6, 22), (4, SSH_ALT_PORT), (6, SSH_ALT_PORT)}
    before = ssh_target.snapshot()
    refused = run(playbook, ssh_target, firewall_ssh_port=SSH_ALT_PORT)
    assert refused.rc != 0
    assert "reached this host on port 22 (as SSH_CLIENT on the host says), but firewall_ssh_port is %d" \
        % SSH_ALT_PORT in refused.output, refused.output[-2000:]
    assert ssh_target.snapshot() == before
    first = run(playbook, ssh_target, inventory=ssh_target.inventory_alt_port, firewall_ssh_port=SSH_ALT_PORT)
    assert first.rc == 0, first.output[-3000:]
    # The rule for 2222 now says ssh; the one for 22 left, after that.
    assert changed_item(first, "tcp/%d from 192.168.232.0/24" % SSH_ALT_PORT) \
        < changed_item(first, "tcp/22 from 192.168.232.0/24")
    # A new SSH connection on 2222 through the firewall: the session port stays open, and nothing drifts.
    second = run(playbook, ssh_target, inventory=ssh_target.inventory_alt_port, firewall_ssh_port=SSH_ALT_PORT)
    assert second.rc == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    assert reachable((22, SSH_ALT_PORT)) == {(4, SSH_ALT_PORT), (6, SSH_ALT_PORT)}
    lines = ssh_target.sh("ufw status | grep '^%d/tcp '" % SSH_ALT_PORT).stdout.splitlines()
    assert len(lines) == 2 and all(line.endswith("# ptfe.ops firewall: ssh") for line in lines), lines


def test_tags_firewall_runs_the_whole_role(playbook, ssh_target):
    """`--tags firewall` applies the rules, not only the validation: a rule added to the configuration lands in
    ufw and in the DOCKER-USER chain. Over the session on 2222 with SSH there, as the test before left it (on a
    fresh target too: sshd answers on both ports)."""
    result = run(playbook, ssh_target, inventory=ssh_target.inventory_alt_port, tags="firewall",
                 firewall_ssh_port=SSH_ALT_PORT,
                 firewall_extra_rules=[{"port": 9100, "cidrs": [SUBNET], "comment": "tagged run"}])
    assert result.rc == 0, result.output[-3000:]
    assert "TASK [ptfe.ops.firewall : Allow the configured traffic]" in result.stdout, result.stdout[-3000:]
    assert changed_item(result, "tcp/9100 from %s" % SUBNET)
    assert "Status: active" in ssh_target.sh("ufw status").stdout
    lines = ssh_target.sh("ufw status | grep '^9100/tcp '").stdout.splitlines()
    assert len(lines) == 1 and lines[0].endswith("# ptfe.ops firewall: tagged run"), lines
    chain = ssh_target.sh("iptables -S ptfe-docker-user").stdout
    assert "-s %s -p tcp -m conntrack --ctorigdstport 9100" % SUBNET in chain
    assert '"port": 9100' in ssh_target.sh("cat /etc/ufw/ptfe-ops-firewall.json").stdout


def test_tags_firewall_through_harden_yml_runs_the_role_and_nothing_else(playbook, ssh_target):
    """playbooks/harden.yml includes ulimits, preflight and the firewall: `--tags firewall` runs the firewall
    role whole (its rules land) and neither of the others."""
    harden = str(ROOT / "playbooks" / "harden.yml")
    result = playbook(harden, inventory=ssh_target.inventory_alt_port, tags="firewall",
                      extra_vars={**BASE, "ptfe_hosts": "targets", "firewall_ssh_port": SSH_ALT_PORT,
                                  "firewall_extra_rules": [{"port": 9101, "cidrs": [SUBNET], "comment": "harden"}]},
                      env={"ANSIBLE_PIPELINING": "true"})
    assert result.rc == 0, result.output[-3000:]
    assert "TASK [ptfe.ops.firewall : Allow the configured traffic]" in result.stdout, result.stdout[-3000:]
    assert "ptfe.ops.ulimits :" not in result.stdout and "ptfe.ops.preflight :" not in result.stdout
    assert changed_item(result, "tcp/9101 from %s" % SUBNET)
    lines = ssh_target.sh("ufw status | grep '^9101/tcp '").stdout.splitlines()
    assert len(lines) == 1 and lines[0].endswith("# ptfe.ops firewall: harden"), lines
