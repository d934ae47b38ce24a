"""Packet tests for the firewall role: real TCP connections from other containers on fw-net, over IPv4 and IPv6.

fw-target (192.168.231.2 and fd00:231::2) runs ufw and a nested Docker engine that publishes over both
families (ip6tables on). Its services (see prepare.yml):
  80    busybox httpd on the target itself            open to everyone       (ufw INPUT)
  443   nested container published with -p            open to everyone       (DOCKER-USER)
  8080  nested container published with -p            load balancer only     (DOCKER-USER)
  8800  busybox httpd on the target itself            load balancer only     (ufw INPUT)
  22    busybox httpd standing in for sshd            operators only         (ufw INPUT)
  9999  busybox httpd on the target itself            nobody                 (ufw INPUT)
  9090  nested container published with -p            nobody                 (DOCKER-USER)
Probes come from fw-lb (.10 / ::10), fw-operator (.11 / ::11) and fw-outsider (.12 / ::12); the rules allow the
same sources over both families, so every port must answer or be dropped the same over IPv6 as over IPv4. A probe
"connects" when an HTTP answer comes back; a filtered port gives curl's timeout (exit 28) since ufw and the
managed chain drop. The target started with IPV6=no in /etc/default/ufw (prepare.yml); the role turned it on.
"""
from __future__ import annotations

import os

import pytest
import testinfra

testinfra_hosts = ["fw-target"]

TARGET_IP = "192.168.231.2"
TARGET_IP6 = "fd00:231::2"
FAMILIES = {4: TARGET_IP, 6: "[%s]" % TARGET_IP6}
PROBES = {"lb": "fw-lb", "operator": "fw-operator", "outsider": "fw-outsider"}
# port -> the probe names that must get through; everyone else must be filtered.
EXPECTED = {
    80: {"lb", "operator", "outsider"},
    443: {"lb", "operator", "outsider"},
    8080: {"lb"},
    8800: {"lb"},
    22: {"operator"},
    9999: set(),
    9090: set(),
}
CONTAINER_PORTS = (443, 8080, 9090)
# What every probe tried and saw, for the record (the repository's .tmp is git-ignored).
LOG = os.path.join(os.environ.get("PTFE_OPS_ROOT", os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")),
                   ".tmp" if os.environ.get("PTFE_OPS_ROOT") else "", "fw-probes.log")
if os.path.exists(LOG):
    os.remove(LOG)


def other(name):
    return testinfra.get_host("docker://" + PROBES[name])


def probe_all(host, targets, timeout=3):
    """Every (address, port) at once from one container (the timeouts of dropped probes overlap); returns
    {(address, port): (reached, curl exit code, body)}."""
    script = "for t in %s; do (a=${t%%,*}; p=${t#*,}; body=$(curl -gsS -m %d \"http://$a:$p/\" 2>/dev/null);" \
        " echo \"$? $a $p $body\") & done; wait" % (" ".join("%s,%d" % t for t in targets), timeout)
    results = {}
    for line in host.check_output(script).splitlines():
        rc, address, port, body = (line.split(" ", 3) + [""])[:4]
        results[(address, int(port))] = (rc == "0", int(rc), body.strip())
    assert set(results) == set(targets), results
    return results


@pytest.fixture(scope="module")
def converged():
    """Every source's probes of every port over both families, taken once."""
    targets = [(address, port) for address in FAMILIES.values() for port in EXPECTED]
    return {source: probe_all(other(source), targets) for source in PROBES}


def record(phase, source, port, rc, body, address=TARGET_IP):
    with open(LOG, "a", encoding="utf-8") as log:
        log.write("%-9s %-18s -> %s:%d rc=%d body=%r\n" % (phase, source, address, port, rc, body))


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("port", sorted(EXPECTED))
@pytest.mark.parametrize("source", sorted(PROBES))
def test_probe_after_two_runs(converged, source, port, family):
    address = FAMILIES[family]
    reached, rc, body = converged[source][(address, port)]
    record("converged", source, port, rc, body, address=address)
    want = source in EXPECTED[port]
    assert reached == want, "%s -> %s:%d: reached=%s (curl rc %d, body %r), expected %s" % (
        source, address, port, reached, rc, body, want)
    if want:
        assert body == ("nested-docker-ok" if port in CONTAINER_PORTS else "target-host-ok")
    else:
        assert rc == 28, "filtered ports are dropped (timeout), got curl rc %d" % rc


@pytest.mark.parametrize("address", ["127.0.0.1", "[::1]"])
def test_every_service_is_up_behind_the_firewall(host, address):
    """A filtered probe means the firewall, not a dead service: each port answers on the target itself."""
    for (_address, port), (reached, rc, body) in sorted(probe_all(host, [(address, p) for p in EXPECTED]).items()):
        record("local", "fw-target", port, rc, body, address=address)
        assert reached, "service on %s:%d does not answer locally (curl rc %d)" % (address, port, rc)


@pytest.mark.parametrize("iptables, container_net", [("iptables", "172.17."), ("ip6tables", "fd00:b0b::")])
def test_docker_chains_kept_and_linked(host, iptables, container_net):
    rules = host.check_output("%s -S" % iptables)
    # Docker's chains and its rule for each published container are still there.
    for chain in ("DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-USER"):
        assert "-N %s" % chain in rules
    assert rules.count("-A DOCKER -d %s" % container_net) >= 3
    docker_user = host.check_output("%s -S DOCKER-USER" % iptables).splitlines()
    assert docker_user[1] == "-A DOCKER-USER -j ptfe-docker-user", docker_user
    assert docker_user.count("-A DOCKER-USER -j ptfe-docker-user") == 1
    nat = host.check_output("%s -t nat -S DOCKER" % iptables)
    assert "--dport 8080" in nat and "--dport 443" in nat


def test_ip_forward_stays_on(host):
    assert host.check_output("cat /proc/sys/net/ipv4/ip_forward") == "1"
    assert "net.ipv4.ip_forward=1" in host.file("/etc/sysctl.d/99-ptfe-firewall.conf").content_string
    assert "\nnet/ipv4/ip_forward=1" in host.file("/etc/ufw/sysctl.conf").content_string


def test_ufw_defaults(host):
    status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing), deny (routed)" in status
    assert "9100/tcp" in status and "192.168.231.0/24" in status and "fd00:231::/64" in status
    assert host.check_output("grep '^IPV6=' /etc/default/ufw") == "IPV6=yes"


def test_container_egress_still_works(host):
    """A nested container still reaches the outside (forwarded, NATed) through the firewall."""
    out = host.check_output(
        "docker run --rm fw-busybox:local /bin/sh -c "
        "'printf \"GET / HTTP/1.0\\r\\n\\r\\n\" | nc -w 5 192.168.231.10 8000'")
    record("egress", "nested container", 8000, 0, out.splitlines()[-1] if out else "", address="192.168.231.10")
    assert out.splitlines()[0].startswith("HTTP/1.1 200")
    assert out.splitlines()[-1] == "lb-ok"


def probe_again(phase, families):
    """A sample of allowed and filtered probes, over the given address families."""
    for source, ports in (("lb", (8080,)), ("outsider", (8080, 443, 9090)), ("operator", (22,))):
        results = probe_all(other(source), [(FAMILIES[family], port) for family in families for port in ports])
        for (address, port), (reached, rc, body) in sorted(results.items()):
            record(phase, source, port, rc, body, address=address)
            assert reached == (source in EXPECTED[port]), "%s -> %s:%d %s: rc %d" % (source, address, port, phase, rc)


def assert_linked_once_and_first(host):
    for iptables in ("iptables", "ip6tables"):
        chain = host.check_output("%s -S DOCKER-USER" % iptables).splitlines()
        assert chain.count("-A DOCKER-USER -j ptfe-docker-user") == 1, chain
        forward = host.check_output("%s -S FORWARD" % iptables).splitlines()
        assert forward[1] == "-A FORWARD -j DOCKER-USER" and forward.count(forward[1]) == 1, forward


def test_rules_survive_ufw_reload_and_docker_restart(host):
    """ufw reload rebuilds the managed chain and relinks it once; a restart of dockerd keeps the IPv4 link."""
    host.check_output("ufw reload")
    host.check_output("ufw reload")
    assert_linked_once_and_first(host)
    probe_again("reloaded", (4, 6))
    # Restart the nested engine (its containers come back: restart policy unless-stopped).
    host.run("pkill -x dockerd")
    host.run("for i in $(seq 1 30); do pgrep -x dockerd >/dev/null || break; sleep 1; done")
    host.run("nohup dockerd --storage-driver vfs >>/var/log/dockerd.log 2>&1 </dev/null &")
    host.run("for i in $(seq 1 60); do [ \"$(docker ps -q | wc -l)\" -ge 3 ] && break; sleep 1; done")
    for iptables in ("iptables", "ip6tables"):
        chain = host.check_output("%s -S DOCKER-USER" % iptables).splitlines()
        assert chain.count("-A DOCKER-USER -j ptfe-docker-user") == 1, chain
    # IPv4: Docker puts its jump to DOCKER-USER back at the top of FORWARD itself.
    assert host.check_output("iptables -S FORWARD").splitlines()[1] == "-A FORWARD -j DOCKER-USER"
    probe_again("restarted", (4,))
    # IPv6: Docker 20.10 (this image's engine) has no DOCKER-USER jump for ip6tables and puts its own FORWARD
    # rules on top when it starts; ufw's next start or reload (after.init) puts the jump first again. Current
    # Docker keeps it first itself, as for IPv4 (see the role's README).
    host.check_output("ufw reload")
    assert_linked_once_and_first(host)
    probe_again("restarted+reloaded", (4, 6))
