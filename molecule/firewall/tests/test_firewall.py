"""Packet tests for the firewall role: real TCP connections from other containers on fw-net.

fw-target (192.168.231.2) runs ufw and a nested Docker engine. Its services (see prepare.yml):
  80    busybox httpd on the target itself            open to everyone       (ufw INPUT)
  443   nested container published with -p            open to everyone       (DOCKER-USER)
  8080  nested container published with -p            load balancer only     (DOCKER-USER)
  8800  busybox httpd on the target itself            load balancer only     (ufw INPUT)
  22    busybox httpd standing in for sshd            operators only         (ufw INPUT)
  9999  busybox httpd on the target itself            nobody                 (ufw INPUT)
  9090  nested container published with -p            nobody                 (DOCKER-USER)
Probes come from fw-lb (.10), fw-operator (.11) and fw-outsider (.12). A probe "connects" when an HTTP
answer comes back; a filtered port gives curl's timeout (exit 28) since ufw and the managed chain drop.
"""
from __future__ import annotations

import os

import pytest
import testinfra

testinfra_hosts = ["fw-target"]

TARGET_IP = "192.168.231.2"
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


def probe(host, port, address=TARGET_IP, timeout=3):
    """One TCP+HTTP attempt; returns (reached, curl exit code, body)."""
    cmd = host.run("curl -sS -m %s http://%s:%s/", str(timeout), address, str(port))
    return cmd.rc == 0, cmd.rc, cmd.stdout.strip()


def record(phase, source, port, rc, body, address=TARGET_IP):
    with open(LOG, "a", encoding="utf-8") as log:
        log.write("%-9s %-18s -> %s:%d rc=%d body=%r\n" % (phase, source, address, port, rc, body))


@pytest.mark.parametrize("port", sorted(EXPECTED))
@pytest.mark.parametrize("source", sorted(PROBES))
def test_probe_after_two_runs(source, port):
    reached, rc, body = probe(other(source), port)
    record("converged", source, port, rc, body)
    want = source in EXPECTED[port]
    assert reached == want, "%s -> %d: reached=%s (curl rc %d, body %r), expected %s" % (
        source, port, reached, rc, body, want)
    if want:
        assert body == ("nested-docker-ok" if port in CONTAINER_PORTS else "target-host-ok")
    else:
        assert rc == 28, "filtered ports are dropped (timeout), got curl rc %d" % rc


@pytest.mark.parametrize("port", sorted(EXPECTED))
def test_every_service_is_up_behind_the_firewall(host, port):
    """A filtered probe means the firewall, not a dead service: each port answers on the target itself."""
    address = "127.0.0.1"
    reached, rc, body = probe(host, port, address=address)
    record("local", "fw-target", port, rc, body, address=address)
    assert reached, "service on %d does not answer locally (curl rc %d)" % (port, rc)


def test_docker_chains_kept_and_linked(host):
    rules = host.check_output("iptables -S")
    # Docker's chains and its rule for each published container are still there.
    for chain in ("DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-USER"):
        assert "-N %s" % chain in rules
    assert rules.count("-A DOCKER -d 172.17.") >= 3
    docker_user = host.check_output("iptables -S DOCKER-USER").splitlines()
    assert docker_user[1] == "-A DOCKER-USER -j ptfe-docker-user", docker_user
    assert docker_user.count("-A DOCKER-USER -j ptfe-docker-user") == 1
    nat = host.check_output("iptables -t nat -S DOCKER")
    assert "--dport 8080" in nat and "--dport 443" in nat


def test_ip_forward_stays_on(host):
    assert host.check_output("cat /proc/sys/net/ipv4/ip_forward") == "1"
    assert "net.ipv4.ip_forward=1" in host.file("/etc/sysctl.d/99-ptfe-firewall.conf").content_string
    assert "\nnet/ipv4/ip_forward=1" in host.file("/etc/ufw/sysctl.conf").content_string


def test_ufw_defaults(host):
    status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing), deny (routed)" in status
    assert "9100/tcp" in status and "192.168.231.0/24" in status


def test_container_egress_still_works(host):
    """A nested container still reaches the outside (forwarded, NATed) through the firewall."""
    out = host.check_output(
        "docker run --rm fw-busybox:local /bin/sh -c "
        "'printf \"GET / HTTP/1.0\\r\\n\\r\\n\" | nc -w 5 192.168.231.10 8000'")
    record("egress", "nested container", 8000, 0, out.splitlines()[-1] if out else "", address="192.168.231.10")
    assert out.splitlines()[0].startswith("HTTP/1.1 200")
    assert out.splitlines()[-1] == "lb-ok"


def test_rules_survive_ufw_reload_and_docker_restart(host):
    """ufw reload rebuilds the managed chain and relinks it once; a restart of dockerd keeps the link."""
    host.check_output("ufw reload")
    host.check_output("ufw reload")
    chain = host.check_output("iptables -S DOCKER-USER").splitlines()
    assert chain.count("-A DOCKER-USER -j ptfe-docker-user") == 1, chain
    # Restart the nested engine (its containers come back: restart policy unless-stopped).
    host.run("pkill -x dockerd")
    host.run("for i in $(seq 1 30); do pgrep -x dockerd >/dev/null || break; sleep 1; done")
    host.run("nohup dockerd --storage-driver vfs >>/var/log/dockerd.log 2>&1 </dev/null &")
    host.run("for i in $(seq 1 60); do [ \"$(docker ps -q | wc -l)\" -ge 3 ] && break; sleep 1; done")
    chain = host.check_output("iptables -S DOCKER-USER").splitlines()
    assert chain.count("-A DOCKER-USER -j ptfe-docker-user") == 1, chain
    for source, port in (("lb", 8080), ("outsider", 8080), ("outsider", 443), ("operator", 22)):
        reached, rc, body = probe(other(source), port)
        record("reloaded", source, port, rc, body)
        assert reached == (source in EXPECTED[port]), "%s -> %d after reload: rc %d" % (source, port, rc)
