# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_rules
short_description: The allow rules of the firewall role, and why they cannot be applied
version_added: 0.2.0
description:
  - The decision of the P(ptfe.ops.firewall#role) role, taken before anything is changed. Takes the role's variables
    and what the role read from the host, and returns the flat list of allow rules to apply (one per protocol, port
    and network) with one sentence per reason they cannot be applied, each naming the variable at fault.
  - In the role the argument spec has already checked the types and choices; they are checked again here only so
    that a value that slipped past is named rather than raised. This filter checks what a type cannot. Ports must
    be 1-65535, networks valid CIDRs without host bits (a bare address is one host), interface names and rule
    comments safe to write into C(after.rules).
  - The SSH guard refuses a rule set that closes SSH for everyone
    (O(ptfe.ops.firewall#role:main:firewall_operator_cidrs) empty), or for the session the play runs over. That
    session's address and the port it reached the host on come from V(ssh_client) in O(host), unless
    O(ptfe.ops.firewall#role:main:firewall_ssh_client_address) or
    O(ptfe.ops.firewall#role:main:firewall_ssh_session_port) say otherwise.
  - IPv6 rules are left out where O(ptfe.ops.firewall#role:main:firewall_ipv6) is false, or the kernel has no IPv6
    at all. O(ptfe.ops.firewall#role:main:firewall_ipv6) false is refused on a host that has IPv6 on any interface
    but the loopback.
positional: _input
options:
  _input:
    description:
      - The role's variables, keyed by their names. V(firewall_web_ports), V(firewall_web_cidrs),
        V(firewall_lb_ports), V(firewall_lb_cidrs), V(firewall_ssh_port), V(firewall_operator_cidrs),
        V(firewall_extra_rules), V(firewall_docker_trusted_interfaces) and V(firewall_ufw_forward_policy) are
        read, as are V(firewall_ssh_guard), V(firewall_ssh_client_address), V(firewall_ssh_session_port) and
        V(firewall_ipv6).
    type: dict
    required: true
  host:
    description:
      - What the role read from the host.
      - V(ssh_client) is the value of C(SSH_CLIENT) in the remote user's environment,
        C(<client address> <client port> <server port>); empty when it was not set.
      - V(if_inet6) is the content of C(/proc/net/if_inet6), one line per IPv6 address with the interface in its
        sixth column.
      - V(kernel_ipv6) is false where C(/proc/net/if_inet6) is missing (the kernel has no IPv6); true by default.
    type: dict
    default: {}
  connection:
    description:
      - The connection plugin the play reaches the host with (C(ansible_connection)). Over C(ssh) or C(paramiko)
        an unknown client address is refused while the guard is on.
    type: str
    default: ssh
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Validate the rules and the SSH guard
  ansible.builtin.set_fact:
    _firewall_plan: >-
      {{ {'firewall_web_ports': firewall_web_ports, 'firewall_web_cidrs': firewall_web_cidrs,
          'firewall_ssh_port': firewall_ssh_port, 'firewall_operator_cidrs': firewall_operator_cidrs}
         | ptfe.ops.firewall_rules(host={'ssh_client': _ssh_client.stdout}, connection=ansible_connection) }}
# {'problems': [], 'rules': [{'proto': 'tcp', 'port': 22, 'cidr': '10.0.9.0/24', 'family': 4, 'comment': 'ssh'},
#  ...], 'ssh': {...}, 'ipv6': {...}}
"""

RETURN = r"""
_value:
  description: The rules to apply and the problems found.
  type: dict
  contains:
    problems:
      description: One sentence per problem, each naming the variable at fault; empty when the rules can be applied.
      type: list
      elements: str
    warnings:
      description: Dangerous choices the variables opted into (SSH open to every address); empty otherwise.
      type: list
      elements: str
    rules:
      description: The allow rules, without duplicates, in the order web, load balancer, SSH, extra rules.
      type: list
      elements: dict
      contains:
        proto:
          description: C(tcp) or C(udp).
          type: str
        port:
          description: Destination port.
          type: int
        cidr:
          description: Source network.
          type: str
        family:
          description: 4 or 6.
          type: int
        comment:
          description: What the rule is for (C(web), C(load balancer), C(ssh), or the extra rule's comment).
          type: str
    ssh:
      description:
        - What the SSH guard found. V(guard) whether it is on; V(client) and V(port) the session's address and the
          port it reached the host on (V(null) when unknown); V(client_allowed) whether a rule lets it in.
      type: dict
    ipv6:
      description:
        - V(enabled) is O(ptfe.ops.firewall#role:main:firewall_ipv6); V(rules) whether IPv6 rules are applied;
          V(host_interfaces) the interfaces with an IPv6 address, loopback left out.
      type: dict
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._validation import whole

PROTOS = ("tcp", "udp")
POLICIES = ("drop", "reject", "accept")
# Whole-value patterns (re.fullmatch): a trailing newline would end the line written into after.rules.
IFACE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,15}\+?")
COMMENT_RE = re.compile(r"[A-Za-z0-9 _.,:/()-]{0,60}")
SSH_CONNECTION_RE = re.compile(r"(.*\.)?(ssh|paramiko|paramiko_ssh)")
EXTRA_RULE_KEYS = {"port", "proto", "cidrs", "comment"}
# Where an extra rule gives no networks: anywhere, over both families.
ANYWHERE = ["0.0.0.0/0", "::/0"]


def parse_port(name, value, problems):
    """``value`` as a port number, or None after adding a sentence naming ``name`` to ``problems``."""
    port = whole(value) if isinstance(value, (int, str)) else None
    if port is None:
        problems.append("%s: %r is not a port number (1-65535)" % (name, value))
        return None
    if not 1 <= port <= 65535:
        problems.append("%s: %d is outside the port range 1-65535" % (name, port))
        return None
    return port


def parse_cidr(name, value, problems):
    """``value`` as a network (host bits must be zero; a bare address is one host), or None."""
    text = str(value).strip()
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        hint = ""
        try:
            hint = "; did you mean %s?" % ipaddress.ip_network(text, strict=False)
        except ValueError:
            pass
        problems.append("%s: %r is not a valid CIDR (%s)%s" % (name, value, exc, hint))
        return None


def _parse_list(name, values, what, parse, problems):
    if not isinstance(values, list):
        problems.append("%s must be a list of %s, got %r" % (name, what, values))
        return []
    parsed = (parse("%s[%d]" % (name, index), value, problems) for index, value in enumerate(values))
    return [value for value in parsed if value is not None]


def parse_cidrs(name, values, problems, allow_empty=True):
    if isinstance(values, list) and not values and not allow_empty:
        problems.append("%s must not be empty" % name)
    return _parse_list(name, values, "CIDRs", parse_cidr, problems)


def parse_ports(name, values, problems):
    return _parse_list(name, values, "ports", parse_port, problems)


def _extra_groups(extra, problems):
    """The (proto, port, networks, comment) of each of firewall_extra_rules."""
    if not isinstance(extra, list):
        problems.append("firewall_extra_rules must be a list of rules, got %r" % (extra,))
        return []
    groups = []
    for index, rule in enumerate(extra):
        name = "firewall_extra_rules[%d]" % index
        if not isinstance(rule, dict):
            problems.append("%s must be a dictionary with port, proto, cidrs and comment, got %r" % (name, rule))
            continue
        unknown = sorted(set(rule) - EXTRA_RULE_KEYS)
        if unknown:
            problems.append("%s: unknown keys %s (allowed: port, proto, cidrs, comment)" % (name, ", ".join(unknown)))
        port = parse_port(name + ".port", rule.get("port"), problems)
        proto = rule.get("proto") or "tcp"
        if proto not in PROTOS:
            problems.append("%s.proto: %r is not one of %s" % (name, proto, ", ".join(PROTOS)))
        cidrs = ANYWHERE if rule.get("cidrs") is None else rule["cidrs"]
        nets = parse_cidrs(name + ".cidrs", cidrs, problems, allow_empty=False)
        comment = rule.get("comment") or "extra"
        if not isinstance(comment, str) or not COMMENT_RE.fullmatch(comment):
            problems.append("%s.comment: %r must be at most 60 letters, digits, spaces or _.,:/()-" % (name, comment))
            comment = "extra"
        if port is not None and proto in PROTOS:
            groups.append((proto, port, nets, comment))
    return groups


def _docker_problems(settings, problems):
    interfaces = settings.get("firewall_docker_trusted_interfaces")
    if not isinstance(interfaces, list):
        problems.append("firewall_docker_trusted_interfaces must be a list of interface names, got %r" % (interfaces,))
    else:
        for index, iface in enumerate(interfaces):
            if not isinstance(iface, str) or not IFACE_RE.fullmatch(iface):
                problems.append("firewall_docker_trusted_interfaces[%d]: %r is not an interface name "
                                "(up to 15 characters, optional trailing +)" % (index, iface))
    policy = settings.get("firewall_ufw_forward_policy")
    if policy not in POLICIES:
        problems.append("firewall_ufw_forward_policy: %r is not one of %s" % (policy, ", ".join(POLICIES)))


def ipv6_state(wanted, host, problems):
    """IPv6 is filtered (ufw's IPV6=yes) unless the operator turned it off on a host that has no IPv6.

    ``host["if_inet6"]`` is the content of /proc/net/if_inet6; its sixth column names the interface of each IPv6
    address. Any interface but the loopback counts, a link-local address too: it is reachable from the local
    network. ``host["kernel_ipv6"]`` is false where that file is missing: the kernel has no IPv6
    (ipv6.disable=1), there is nothing to filter, and ufw takes no IPv6 rule whatever /etc/default/ufw says.
    """
    if not isinstance(wanted, bool):
        problems.append("firewall_ipv6: %r is not a boolean" % (wanted,))
        wanted = True
    kernel = host.get("kernel_ipv6", True) is not False
    lines = str(host.get("if_inet6") or "").splitlines()
    interfaces = sorted({fields[5] for fields in (line.split() for line in lines)
                         if len(fields) == 6 and fields[5] != "lo"})
    if not wanted and interfaces:
        problems.append("firewall_ipv6 is false, but this host has IPv6 enabled (on %s). With IPV6=no ufw applies "
                        "none of the IPv6 rules: it drops all IPv6, or filters none where ip6tables cannot be loaded. "
                        "Keep firewall_ipv6: true (the default: ufw filters IPv6 with IPV6=yes in /etc/default/ufw), "
                        "or disable IPv6 on the host first (ipv6.disable=1 on the kernel command line)."
                        % ", ".join(interfaces))
    return {"enabled": wanted, "rules": wanted and kernel, "host_interfaces": interfaces}


def session(settings, ssh_client, ssh_port, problems):
    """The SSH session the play runs over: (address text, port, where the port came from).

    SSH_CLIENT on the host reads "<client address> <client port> <server port>"; the server port is the port the
    session reached this host on, which is what a rule has to allow. firewall_ssh_client_address and
    firewall_ssh_session_port, when set, take precedence. Without either, the port is taken to be
    firewall_ssh_port.
    """
    fields = str(ssh_client or "").split()
    address = str(settings.get("firewall_ssh_client_address") or "").strip() or (fields[0] if fields else "")
    override = settings.get("firewall_ssh_session_port")
    if override not in (None, "", 0, "0"):
        return (address, parse_port("firewall_ssh_session_port", override, problems),
                "as firewall_ssh_session_port says")
    if len(fields) >= 3:
        return address, parse_port("SSH_CLIENT (server port)", fields[2], problems), "as SSH_CLIENT on the host says"
    return address, ssh_port, "assumed: firewall_ssh_port"


def _lockout_problem(client, port, port_source, ssh_port, operator_nets):
    if port != ssh_port:
        return ("firewall_ssh_port: the SSH session this play runs over reached this host on port %d (%s), but "
                "firewall_ssh_port is %d and no rule allows port %d from %s. Applying would cut it off. Set "
                "firewall_ssh_port: %d (where sshd listens), or add a rule for port %d."
                % (port, port_source, ssh_port, port, client, port, port))
    return ("firewall_operator_cidrs: the SSH session this play runs over comes from %s, which no rule for port %d "
            "allows (firewall_operator_cidrs: %s). Applying would cut it off."
            % (client, port, ", ".join(str(n) for n in operator_nets) or "empty"))


def ssh_check(settings, context, ssh_port, operator_nets, tcp_groups, problems):
    """Refuse rule sets that close SSH for everyone or for the session the play runs over.

    ``context`` holds ``ssh_client`` (SSH_CLIENT on the host), ``over_ssh`` and ``ipv6`` (whether IPv6 rules apply).
    """
    result = {"guard": bool(settings.get("firewall_ssh_guard")), "client": None, "port": None,
              "client_allowed": None}
    if not result["guard"] or ssh_port is None:
        return result
    if not settings.get("firewall_operator_cidrs"):
        problems.append("firewall_operator_cidrs is empty: port %d would close for everyone and cut off SSH access to "
                        "this host. List the operators' networks, or set firewall_ssh_guard: false if SSH is meant "
                        "to be closed." % ssh_port)
    client_text, port, port_source = session(settings, context["ssh_client"], ssh_port, problems)
    if not client_text:
        if context["over_ssh"]:
            problems.append("firewall_ssh_client_address: this play runs over SSH but the client address could not "
                            "be read from SSH_CLIENT on the host; set firewall_ssh_client_address to the address the "
                            "host sees the connection come from.")
        return result
    try:
        client = ipaddress.ip_address(client_text.split("%", maxsplit=1)[0])
    except ValueError:
        problems.append("firewall_ssh_client_address: %r is not an IP address" % client_text)
        return result
    if port is None:
        return result
    if client.version == 6 and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    if client.version == 6 and not context["ipv6"]:
        problems.append("firewall_ipv6 is false, but the SSH session this play runs over comes from %s over IPv6; "
                        "without IPv6 rules applying would cut it off." % client)
        return result
    result["client"], result["port"] = str(client), port
    result["client_allowed"] = any(
        rule_port == port and any(client.version == net.version and client in net for net in nets)
        for _proto, rule_port, nets, _comment in tcp_groups
    )
    if not result["client_allowed"]:
        problems.append(_lockout_problem(client, port, port_source, ssh_port, operator_nets))
    return result


# Ports that are dangerous to open to every address, each with the variable that accepts that.
OPT_INS = {
    "ssh": ("firewall_operator_cidrs", "firewall_allow_ssh_from_anywhere", "SSH"),
    "admin": ("firewall_admin_cidrs", "firewall_allow_admin_from_anywhere", "the admin port"),
}


def _anywhere(settings, kind, ports, nets, problems):
    """SSH or the admin ports open to every address (0.0.0.0/0 or ::/0) is legal but dangerous: it needs the
    kind's opt-in variable, and is warned about when taken. Returns the warnings."""
    cidrs_var, opt_in, what = OPT_INS[kind]
    anywhere = [str(net) for net in nets if net.prefixlen == 0]
    if not anywhere or not ports:
        return []
    listed = ", ".join(str(port) for port in ports)
    if not settings.get(opt_in):
        problems.append("%s: %s would open %s (port %s) to every address on the Internet. List the networks that "
                        "need it, or set %s: true to accept that" % (cidrs_var, " and ".join(anywhere), what, listed, opt_in))
        return []
    return ["%s%s (port %s) is open to every address (%s), as %s allows"
            % (what[0].upper(), what[1:], listed, " and ".join(anywhere), opt_in)]


def firewall_rules(settings, host=None, connection="ssh"):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("firewall_rules expects a mapping of the role's variables, got %s"
                                 % type(settings).__name__)
    host = {} if host is None else host
    if not isinstance(host, dict):
        raise AnsibleFilterError("firewall_rules expects host to be a mapping of what was read, got %s"
                                 % type(host).__name__)
    problems = []
    groups = []  # (proto, port, networks, comment)
    warnings = []
    for kind, comment in (("web", "web"), ("lb", "load balancer"), ("admin", "admin")):
        ports = parse_ports("firewall_%s_ports" % kind, settings.get("firewall_%s_ports" % kind, []), problems)
        nets = parse_cidrs("firewall_%s_cidrs" % kind, settings.get("firewall_%s_cidrs" % kind, []), problems)
        if kind in OPT_INS:
            warnings += _anywhere(settings, kind, ports, nets, problems)
        groups += [("tcp", port, nets, comment) for port in ports]
    ssh_port = parse_port("firewall_ssh_port", settings.get("firewall_ssh_port"), problems)
    operator_nets = parse_cidrs("firewall_operator_cidrs", settings.get("firewall_operator_cidrs"), problems)
    warnings += _anywhere(settings, "ssh", [] if ssh_port is None else [ssh_port], operator_nets, problems)
    if ssh_port is not None:
        groups.append(("tcp", ssh_port, operator_nets, "ssh"))
    groups += _extra_groups(settings.get("firewall_extra_rules"), problems)
    _docker_problems(settings, problems)
    ipv6 = ipv6_state(settings.get("firewall_ipv6", True), host, problems)

    rules, seen = [], set()
    for proto, port, nets, comment in groups:
        for net in nets:
            key = (proto, port, str(net))
            if key in seen or (net.version == 6 and not ipv6["rules"]):
                continue
            seen.add(key)
            rules.append({"proto": proto, "port": port, "cidr": str(net), "family": net.version, "comment": comment})

    context = {"ssh_client": host.get("ssh_client"), "ipv6": ipv6["rules"],
               "over_ssh": bool(SSH_CONNECTION_RE.fullmatch(str(connection or "")))}
    ssh = ssh_check(settings, context, ssh_port, operator_nets, [g for g in groups if g[0] == "tcp"], problems)
    return {"problems": problems, "rules": rules, "ssh": ssh, "ipv6": ipv6, "warnings": warnings}


class FilterModule:
    """The decision of the firewall role."""

    def filters(self):
        return {"firewall_rules": firewall_rules}
