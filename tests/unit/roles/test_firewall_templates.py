# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall role's templates for DOCKER-USER, rendered as Ansible renders them (trim_blocks on).

Packets through these rules are tested by the Molecule scenario; here, that each address family gets its own
rules and that after.init links both iptables and ip6tables."""
from __future__ import annotations

import subprocess
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parents[3] / "roles" / "firewall" / "templates"
RULES = [
    {"proto": "tcp", "port": 443, "cidr": "0.0.0.0/0", "family": 4, "comment": "web"},
    {"proto": "tcp", "port": 443, "cidr": "::/0", "family": 6, "comment": "web"},
    {"proto": "tcp", "port": 8080, "cidr": "10.0.1.0/24", "family": 4, "comment": "load balancer"},
    {"proto": "tcp", "port": 8080, "cidr": "fd00:1::/64", "family": 6, "comment": "load balancer"},
]
VARS = {"_firewall_docker_chain": "ptfe-docker-user", "_firewall_rule_comment": "ptfe.ops firewall",
        "firewall_docker_trusted_interfaces": ["docker0", "br-+"], "_firewall_rules": RULES,
        "firewall_docker_user_enabled": True}


def render(name, **extra):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["bool"] = bool
    return env.get_template(name).render(**VARS, **extra)


def allowed(text):
    return [line for line in text.splitlines() if "--ctorigdstport" in line]


def test_each_family_gets_its_own_allow_rules_and_the_same_drop():
    v4 = render("docker-user.rules.j2", _firewall_docker_family=4)
    v6 = render("docker-user.rules.j2", _firewall_docker_family=6)
    assert [line.split()[5] for line in allowed(v4)] == ["0.0.0.0/0", "10.0.1.0/24"]
    assert [line.split()[5] for line in allowed(v6)] == ["::/0", "fd00:1::/64"]
    for text in (v4, v6):
        lines = text.splitlines()
        assert lines[lines.index("*filter") + 1] == ":ptfe-docker-user - [0:0]"
        assert lines[-2:] == ["-A ptfe-docker-user -m conntrack --ctstate NEW -j DROP", "COMMIT"]
    # Without a family the template stays what it was: IPv4.
    assert allowed(render("docker-user.rules.j2")) == allowed(v4)


def stub_iptables(tmp_path, forward_first):
    """Stand-ins for iptables and ip6tables that record their calls: the managed chain exists, no rule is found
    by -C or -D, and -S FORWARD lists forward_first[cmd] as the chain's first rule."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for cmd in ("iptables", "ip6tables"):
        stub = bindir / cmd
        stub.write_text('#!/bin/sh\necho "%s $*" >> "%s"\ncase "$*" in\n'
                        '  *" -S FORWARD") printf -- "-P FORWARD DROP\\n%s\\n";;\n'
                        '  *" -C "*|*" -D "*) exit 1;;\nesac\nexit 0\n'
                        % (cmd, tmp_path / "calls", forward_first.get(cmd, "")))
        stub.chmod(0o755)
    return {"PATH": "%s:/usr/bin:/bin" % bindir}


def run_after_init(tmp_path, action, env):
    script = tmp_path / "after.init"
    script.write_text(render("after.init.j2"))
    calls = tmp_path / "calls"
    if calls.exists():
        calls.unlink()
    subprocess.run(["sh", str(script), action], check=True, env=env, timeout=30)
    return calls.read_text().splitlines()


def test_after_init_links_both_families_and_puts_docker_user_first(tmp_path):
    # iptables: Docker's jump is already first; ip6tables: Docker 20.10 put its own rules first.
    env = stub_iptables(tmp_path, {"iptables": "-A FORWARD -j DOCKER-USER",
                                   "ip6tables": "-A FORWARD -j DOCKER-ISOLATION-STAGE-1"})
    calls = run_after_init(tmp_path, "start", env)
    for cmd in ("iptables", "ip6tables"):
        assert "%s -w -I DOCKER-USER 1 -j ptfe-docker-user" % cmd in calls, calls
    assert "ip6tables -w -I FORWARD 1 -j DOCKER-USER" in calls
    assert "iptables -w -I FORWARD 1 -j DOCKER-USER" not in calls
    assert "iptables -w -D FORWARD -j DOCKER-USER" not in calls


def test_after_init_stop_unlinks_both_families(tmp_path):
    calls = run_after_init(tmp_path, "stop", stub_iptables(tmp_path, {}))
    assert calls == ["iptables -w -D DOCKER-USER -j ptfe-docker-user", "ip6tables -w -D DOCKER-USER -j ptfe-docker-user"]
