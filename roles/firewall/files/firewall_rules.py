# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: ptfe.ops maintainers
"""Validate the firewall role's input and turn it into a flat list of allow rules.

Reads one JSON document (the role's variables) from the first argument and prints one JSON document:
``{"errors": [...], "rules": [{"proto", "port", "cidr", "family", "comment"}, ...], "ssh": {...}}``.
It changes nothing on the host. Every error names the variable it is about.
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

    rules = []
    seen = set()
    for proto, port, nets, comment in groups:
        for net in nets:
            key = (proto, port, str(net))
            if key in seen:
                continue
            seen.add(key)
            rules.append({"proto": proto, "port": port, "cidr": str(net), "family": net.version,
                          "comment": comment})

    ssh = ssh_check(data, ssh_port, operator_nets, groups, errors)
    return {"errors": errors, "rules": rules, "ssh": ssh}


def ssh_check(data, ssh_port, operator_nets, groups, errors):
    """Refuse rule sets that close SSH for everyone or for the session the play runs over."""
    result = {"guard": bool(data.get("ssh_guard")), "client": None, "client_allowed": None}
    if not result["guard"] or ssh_port is None:
        return result
    if not data.get("operator_cidrs"):
        errors.append("firewall_operator_cidrs is empty: port %d would close for everyone and cut off SSH "
                      "access to this host. List the operators' networks, or set firewall_ssh_guard: false "
                      "if SSH is meant to be closed." % ssh_port)
    client_text = str(data.get("ssh_client") or "").strip()
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
    if client.version == 6 and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    result["client"] = str(client)
    allowed = any(
        proto == "tcp" and port == ssh_port and any(client.version == net.version and client in net for net in nets)
        for proto, port, nets, _comment in groups
    )
    result["client_allowed"] = allowed
    if not allowed:
        errors.append("firewall_operator_cidrs: the SSH session this play runs over comes from %s, which no rule "
                      "for port %d allows (firewall_operator_cidrs: %s). Applying would cut it off."
                      % (client, ssh_port, ", ".join(str(n) for n in operator_nets) or "empty"))
    return result


def main():
    try:
        data = json.loads(sys.argv[1])
    except (IndexError, ValueError) as exc:
        print(json.dumps({"errors": ["internal: cannot read the role's input: %s" % exc], "rules": [], "ssh": {}}))
        return 0
    print(json.dumps(build(data), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
