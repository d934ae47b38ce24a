# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: ptfe.ops maintainers
"""Validate the firewall role's input and turn it into a flat list of allow rules.

Reads one JSON document (the role's variables and what the role read on the host) from the first argument and
prints one JSON document:
``{"errors": [...], "rules": [{"proto", "port", "cidr", "family", "comment"}, ...], "stale": [...],
"ssh": {...}, "ipv6": {...}}``. ``rules`` are the allow rules to apply, ``stale`` the rules applied last time
that left the configuration (to delete only after ``rules`` are in place). It changes nothing on the host.
Every error names the variable it is about.
"""
from __future__ import annotations

import ipaddress
import json
import re
import sys

PROTOS = ("tcp", "udp")
POLICIES = ("drop", "reject", "accept")
IFACE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}\+?$")
COMMENT_RE = re.compile(r"^[A-Za-z0-9 _.,:/()-]{0,60}$")


def parse_port(name, value, errors):
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        errors.append("%s: %r is not a port number (1-65535)" % (name, value))
        return None
    port = int(value)
    if not 1 <= port <= 65535:
        errors.append("%s: %d is outside the port range 1-65535" % (name, port))
        return None
    return port


def parse_cidr(name, value, errors):
    text = str(value).strip()
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        hint = ""
        try:
            hint = "; did you mean %s?" % ipaddress.ip_network(text, strict=False)
        except ValueError:
            pass
        errors.append("%s: %r is not a valid CIDR (%s)%s" % (name, value, exc, hint))
        return None


def parse_cidrs(name, values, errors, allow_empty=True):
    if not isinstance(values, list):
        errors.append("%s must be a list of CIDRs, got %r" % (name, values))
        return []
    if not values and not allow_empty:
        errors.append("%s must not be empty" % name)
    nets = []
    for index, value in enumerate(values):
        net = parse_cidr("%s[%d]" % (name, index), value, errors)
        if net is not None:
            nets.append(net)
    return nets


def parse_ports(name, values, errors):
    if not isinstance(values, list):
        errors.append("%s must be a list of ports, got %r" % (name, values))
        return []
    ports = []
    for index, value in enumerate(values):
        port = parse_port("%s[%d]" % (name, index), value, errors)
        if port is not None:
            ports.append(port)
    return ports


def build(data):
    errors = []
    groups = []  # (proto, port, networks, comment)

    web_ports = parse_ports("firewall_web_ports", data.get("web_ports"), errors)
    web_nets = parse_cidrs("firewall_web_cidrs", data.get("web_cidrs"), errors)
    groups += [("tcp", port, web_nets, "web") for port in web_ports]

    lb_ports = parse_ports("firewall_lb_ports", data.get("lb_ports"), errors)
    lb_nets = parse_cidrs("firewall_lb_cidrs", data.get("lb_cidrs"), errors)
    groups += [("tcp", port, lb_nets, "load balancer") for port in lb_ports]

    ssh_port = parse_port("firewall_ssh_port", data.get("ssh_port"), errors)
    operator_nets = parse_cidrs("firewall_operator_cidrs", data.get("operator_cidrs"), errors)
    if ssh_port is not None:
        groups.append(("tcp", ssh_port, operator_nets, "ssh"))

    extra = data.get("extra_rules")
    if not isinstance(extra, list):
        errors.append("firewall_extra_rules must be a list of rules, got %r" % (extra,))
        extra = []
    for index, rule in enumerate(extra):
        name = "firewall_extra_rules[%d]" % index
        if not isinstance(rule, dict):
            errors.append("%s must be a dictionary with port, proto, cidrs and comment, got %r" % (name, rule))
            continue
        unknown = sorted(set(rule) - {"port", "proto", "cidrs", "comment"})
        if unknown:
            errors.append("%s: unknown keys %s (allowed: port, proto, cidrs, comment)" % (name, ", ".join(unknown)))
        port = parse_port(name + ".port", rule.get("port"), errors)
        proto = rule.get("proto") or "tcp"
        if proto not in PROTOS:
            errors.append("%s.proto: %r is not one of %s" % (name, proto, ", ".join(PROTOS)))
        cidrs = rule.get("cidrs")
        if cidrs is None:
            cidrs = ["0.0.0.0/0", "::/0"]
        nets = parse_cidrs(name + ".cidrs", cidrs, errors, allow_empty=False)
        comment = rule.get("comment") or "extra"
        if not isinstance(comment, str) or not COMMENT_RE.match(comment):
            errors.append("%s.comment: %r must be at most 60 letters, digits, spaces or _.,:/()-" % (name, comment))
            comment = "extra"
        if port is not None and proto in PROTOS:
            groups.append((proto, port, nets, comment))

    interfaces = data.get("docker_trusted_interfaces")
    if not isinstance(interfaces, list):
        errors.append("firewall_docker_trusted_interfaces must be a list of interface names, got %r" % (interfaces,))
    else:
        for index, iface in enumerate(interfaces):
            if not isinstance(iface, str) or not IFACE_RE.match(iface):
                errors.append("firewall_docker_trusted_interfaces[%d]: %r is not an interface name "
                              "(up to 15 characters, optional trailing +)" % (index, iface))

    policy = data.get("forward_policy")
    if policy not in POLICIES:
        errors.append("firewall_ufw_forward_policy: %r is not one of %s" % (policy, ", ".join(POLICIES)))

    ipv6 = ipv6_check(data, errors)

    rules = []
    seen = set()
    for proto, port, nets, comment in groups:
        for net in nets:
            key = (proto, port, str(net))
            if key in seen or (net.version == 6 and not ipv6["rules"]):
                continue
            seen.add(key)
            rules.append({"proto": proto, "port": port, "cidr": str(net), "family": net.version,
                          "comment": comment})

    ssh = ssh_check(data, ssh_port, operator_nets, [g for g in groups if g[0] == "tcp"], ipv6["rules"], errors)
    return {"errors": errors, "rules": rules, "stale": stale_rules(data.get("previous_rules"), rules),
            "ssh": ssh, "ipv6": ipv6}


def ipv6_check(data, errors):
    """IPv6 is filtered (ufw's IPV6=yes) unless the operator turned it off on a host that has no IPv6.

    ``if_inet6`` is the content of /proc/net/if_inet6 on the host; its sixth column names the interface of each
    IPv6 address. Any interface but the loopback counts, a link-local address too: it is reachable from the
    local network. ``kernel_ipv6`` is false where that file is missing: the kernel has no IPv6 (ipv6.disable=1),
    there is nothing to filter, and ufw takes no IPv6 rule whatever /etc/default/ufw says.
    """
    wanted = data.get("ipv6", True)
    if not isinstance(wanted, bool):
        errors.append("firewall_ipv6: %r is not a boolean" % (wanted,))
        wanted = True
    kernel = data.get("kernel_ipv6", True) is not False
    interfaces = sorted({fields[5] for fields in (line.split() for line in str(data.get("if_inet6") or "").splitlines())
                         if len(fields) == 6 and fields[5] != "lo"})
    if not wanted and interfaces:
        errors.append("firewall_ipv6 is false, but this host has IPv6 enabled (on %s). With IPV6=no ufw applies "
                      "none of the IPv6 rules: it drops all IPv6, or filters none where ip6tables cannot be loaded. "
                      "Keep firewall_ipv6: true (the default: ufw filters IPv6 with IPV6=yes in /etc/default/ufw), "
                      "or disable IPv6 on the host first (ipv6.disable=1 on the kernel command line)."
                      % ", ".join(interfaces))
    return {"enabled": wanted, "rules": wanted and kernel, "host_interfaces": interfaces}


def stale_rules(previous, rules):
    """Rules applied last time whose (proto, port, cidr) is no longer configured.

    A rule that stays and only changes its comment is not stale: adding it again updates its comment, and
    deleting the old one afterwards would remove the rule.
    """
    if not isinstance(previous, list):
        return []
    wanted = {(r["proto"], r["port"], r["cidr"]) for r in rules}
    stale, seen = [], set()
    for rule in previous:
        if not isinstance(rule, dict) or not {"proto", "port", "cidr", "comment"} <= set(rule):
            continue
        key = (rule["proto"], rule["port"], rule["cidr"])
        if key in wanted or key in seen:
            continue
        seen.add(key)
        family = rule.get("family") or (6 if ":" in str(rule["cidr"]) else 4)
        stale.append({"proto": rule["proto"], "port": rule["port"], "cidr": rule["cidr"], "family": family,
                      "comment": rule["comment"]})
    return stale


def session(data, ssh_port, errors):
    """The SSH session the play runs over: (address text, port, where the port came from).

    SSH_CLIENT on the host reads "<client address> <client port> <server port>"; the server port is the port
    the session reached this host on, which is what a rule has to allow. firewall_ssh_client_address and
    firewall_ssh_session_port, when set, take precedence. Without either, the port is taken to be
    firewall_ssh_port.
    """
    fields = str(data.get("ssh_client_env") or "").split()
    address = str(data.get("ssh_client") or "").strip() or (fields[0] if fields else "")
    override = data.get("ssh_session_port")
    if override not in (None, "", 0, "0"):
        return (address, parse_port("firewall_ssh_session_port", override, errors),
                "as firewall_ssh_session_port says")
    if len(fields) >= 3:
        port = parse_port("SSH_CLIENT (server port)", fields[2], errors)
        return address, port, "as SSH_CLIENT on the host says"
    return address, ssh_port, "assumed: firewall_ssh_port"


def ssh_check(data, ssh_port, operator_nets, groups, ipv6, errors):
    """Refuse rule sets that close SSH for everyone or for the session the play runs over."""
    result = {"guard": bool(data.get("ssh_guard")), "client": None, "port": None, "client_allowed": None}
    if not result["guard"] or ssh_port is None:
        return result
    if not data.get("operator_cidrs"):
        errors.append("firewall_operator_cidrs is empty: port %d would close for everyone and cut off SSH "
                      "access to this host. List the operators' networks, or set firewall_ssh_guard: false "
                      "if SSH is meant to be closed." % ssh_port)
    client_text, port, port_source = session(data, ssh_port, errors)
    if not client_text:
        if data.get("over_ssh"):
            errors.append("firewall_ssh_client_address: this play runs over SSH but the client address could "
                          "not be read from SSH_CLIENT on the host; set firewall_ssh_client_address to the "
                          "address the host sees the connection come from.")
        return result
    try:
        client = ipaddress.ip_address(client_text.split("%", maxsplit=1)[0])
    except ValueError:
        errors.append("firewall_ssh_client_address: %r is not an IP address" % client_text)
        return result
    if port is None:
        return result
    if client.version == 6 and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    if client.version == 6 and not ipv6:
        errors.append("firewall_ipv6 is false, but the SSH session this play runs over comes from %s over IPv6; "
                      "without IPv6 rules applying would cut it off." % client)
        return result
    result["client"], result["port"] = str(client), port
    allowed = any(
        rule_port == port and any(client.version == net.version and client in net for net in nets)
        for _proto, rule_port, nets, _comment in groups
    )
    result["client_allowed"] = allowed
    if allowed:
        return result
    if port != ssh_port:
        errors.append("firewall_ssh_port: the SSH session this play runs over reached this host on port %d "
                      "(%s), but firewall_ssh_port is %d and no rule allows port %d from %s. Applying would "
                      "cut it off. Set firewall_ssh_port: %d (where sshd listens), or add a rule for port %d."
                      % (port, port_source, ssh_port, port, client, port, port))
    else:
        errors.append("firewall_operator_cidrs: the SSH session this play runs over comes from %s, which no rule "
                      "for port %d allows (firewall_operator_cidrs: %s). Applying would cut it off."
                      % (client, port, ", ".join(str(n) for n in operator_nets) or "empty"))
    return result


def main():
    try:
        data = json.loads(sys.argv[1])
    except (IndexError, ValueError) as exc:
        print(json.dumps({"errors": ["internal: cannot read the role's input: %s" % exc], "rules": [], "stale": [],
                          "ssh": {}, "ipv6": {}}))
        return 0
    print(json.dumps(build(data), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
