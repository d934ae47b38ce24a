"""The Terraform Enterprise FDO stand-in image (tests/images/tfe-fdo): its start-up checks name a missing or invalid
TFE_* setting and never become ready; with good settings it serves the health endpoints, the System API on the
admin port and tfectl, hardened as HVD runs it (read-only root, IPC_LOCK, tmpfs), and ptfe_platform_info and
ptfe_health see an FDO 1.2.1 installation in it."""
from __future__ import annotations

import json
import secrets
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.emulators.tls import make_ca_and_cert
from tests.integration.conftest import ROOT, run_playbook
from tests.integration.ptfe_emulator_fixture import printed_result

PLATFORM = ROOT / "tests" / "integration" / "ptfe_health" / "playbooks" / "platform.yml"
HEALTH = ROOT / "tests" / "integration" / "ptfe_health" / "playbooks" / "health.yml"
PASSWORD = "enc-" + secrets.token_hex(16)
LICENSE = "lic" + secrets.token_hex(24)
IACT = "iact" + secrets.token_hex(16)
SYSTEM_TOKEN = "sys" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def image():
    out = subprocess.run([str(ROOT / "tests" / "images" / "tfe-fdo" / "build.sh")], capture_output=True, text=True,
                         check=True, timeout=900)
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tfe-tls")
    ca_path, cert, key = make_ca_and_cert(str(directory))
    for path in (cert, key, ca_path):
        Path(path).chmod(0o644)  # read by the container's user through the bind mount
    return {"dir": str(directory), "ca": ca_path, "cert": "/etc/tfe-tls/" + Path(cert).name,
            "key": "/etc/tfe-tls/" + Path(key).name, "bundle": "/etc/tfe-tls/" + Path(ca_path).name}


def settings(tls, **overrides):
    env = {
        "TFE_HOSTNAME": "tfe.example.com",
        "TFE_TLS_CERT_FILE": tls["cert"],
        "TFE_TLS_KEY_FILE": tls["key"],
        "TFE_TLS_CA_BUNDLE_FILE": tls["bundle"],
        "TFE_ENCRYPTION_PASSWORD": PASSWORD,
        "TFE_LICENSE": LICENSE,
        "TFE_OPERATIONAL_MODE": "disk",
        "TFE_IACT_SUBNETS": "10.0.0.0/24",
        "TFE_IACT_TIME_LIMIT": "30",
        "TFE_IACT_TOKEN": IACT,
        "TFE_STANDIN_SYSTEM_API_TOKEN": SYSTEM_TOKEN,
        "TFE_STANDIN_BOOT_SECONDS": "1",
    }
    env.update(overrides)
    return [arg for key, value in env.items() if value is not None for arg in ("-e", "%s=%s" % (key, value))]


def docker(*args, timeout=120):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def tfe(image, tls):
    """A running stand-in with good settings, hardened; yields (name, app URL, admin URL)."""
    name = "tfe-fdo-it-%s" % uuid.uuid4().hex[:8]
    run = docker("run", "-d", "--name", name, "--read-only", "--cap-add", "IPC_LOCK",
                 "--tmpfs", "/run/terraform-enterprise", "--tmpfs", "/tmp", "--tmpfs", "/var/log/terraform-enterprise",
                 "-v", "%s:/etc/tfe-tls:ro" % tls["dir"], "-p", "127.0.0.1::443", "-p", "127.0.0.1::8443",
                 *settings(tls), image)
    assert run.returncode == 0, run.stderr
    try:
        ports = {}
        for port in ("443", "8443"):
            out = docker("port", name, port + "/tcp").stdout.split()[0]
            ports[port] = out.rsplit(":", 1)[1]
        app = "https://127.0.0.1:%s" % ports["443"]
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(app + "/_health_check", verify=tls["ca"], timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, docker("logs", name).stderr
            time.sleep(0.5)
        yield name, app, "https://127.0.0.1:%s" % ports["8443"]
    finally:
        docker("rm", "-f", name)


def tfectl(name, *args):
    return docker("exec", name, "tfectl", *args)


def test_serves_the_health_endpoints_and_the_system_api(tfe, tls):
    _name, app, admin = tfe
    ready = requests.get(app + "/api/v1/health/readiness", verify=tls["ca"], timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "OK"
    assert {c["check"] for c in ready.json()["checks"]} >= {"postgres", "vault"}
    assert requests.get(admin + "/api/v1/ping", verify=tls["ca"], timeout=5).status_code == 403
    pong = requests.get(admin + "/api/v1/ping", verify=tls["ca"], timeout=5,
                        headers={"Authorization": "Bearer " + SYSTEM_TOKEN})
    assert pong.status_code == 200 and pong.json() == "pong"


def test_tfectl(tfe):
    name, _app, _admin = tfe
    token = tfectl(name, "admin", "token")
    assert token.returncode == 0 and token.stdout == IACT + "\n"  # no TTY: no carriage return
    health = tfectl(name, "app", "health", "readiness", "--json")
    assert health.returncode == 0 and json.loads(health.stdout)["status"] == "OK"
    config = tfectl(name, "app", "config")
    assert config.returncode == 0
    shown = json.loads(config.stdout)
    assert shown["TFE_HOSTNAME"] == "tfe.example.com" and shown["TFE_IACT_SUBNETS"] == "10.0.0.0/24"
    for key in ("TFE_ENCRYPTION_PASSWORD", "TFE_LICENSE", "TFE_IACT_TOKEN"):
        assert shown[key] == "(redacted)"
    assert tfectl(name, "app", "config", "--unredacted").returncode == 1
    bundle = tfectl(name, "support", "bundle")
    assert bundle.returncode == 0 and bundle.stdout.startswith("/run/terraform-enterprise/support-bundles/")
    listing = docker("exec", name, "tar", "-xzOf", bundle.stdout.strip())
    assert listing.returncode == 0 and "TFE_HOSTNAME" in listing.stdout
    for output in (config.stdout, health.stdout, listing.stdout, docker("logs", name).stderr):
        assert PASSWORD not in output and LICENSE not in output and IACT not in output


def test_platform_info_and_health_see_fdo_1_2_1(tfe, tls):
    _name, app, _admin = tfe
    run = run_playbook(PLATFORM, {"address": app, "ca_path": tls["ca"]})
    assert run.rc == 0, run.output
    found = printed_result(run)
    assert (found["generation"], found["version"], found["readiness_endpoint"]) == ("fdo", "1.2.1", True)


def test_node_drain_turns_readiness_to_draining(image, tls):
    name = "tfe-fdo-it-%s" % uuid.uuid4().hex[:8]
    assert docker("run", "-d", "--name", name, "-v", "%s:/etc/tfe-tls:ro" % tls["dir"], *settings(tls),
                  image).returncode == 0
    try:
        deadline = time.monotonic() + 30
        while tfectl(name, "app", "health", "readiness", "--json").returncode != 0:
            assert time.monotonic() < deadline, docker("logs", name).stderr
            time.sleep(0.5)
        drain = tfectl(name, "node", "drain")
        assert drain.returncode == 0 and "DRAINING" in drain.stdout
        health = tfectl(name, "app", "health", "readiness", "--json")
        assert health.returncode == 1 and json.loads(health.stdout)["status"] == "DRAINING"
    finally:
        docker("rm", "-f", name)


@pytest.mark.parametrize("overrides, setting", [
    ({"TFE_TLS_CERT_FILE": "/etc/tfe-tls/missing.pem"}, "TFE_TLS_CERT_FILE: file /etc/tfe-tls/missing.pem does not exist"),
    ({"TFE_HOSTNAME": None}, "TFE_HOSTNAME: is required and not set"),
    ({"TFE_IACT_SUBNETS": "0.0.0.0/0"}, "TFE_IACT_SUBNETS: 0.0.0.0/0 lets every address retrieve"),
    ({"TFE_IACT_SUBNETS": "10.0.0.0/33"}, "TFE_IACT_SUBNETS: '10.0.0.0/33' is not a CIDR block"),
    ({"TFE_ENCRYPTION_PASSWORD": "short-secret"}, "TFE_ENCRYPTION_PASSWORD: shorter than 16 characters"),
    ({"TFE_LICENSE": None}, "TFE_LICENSE: is required and not set"),
    ({"TFE_OPERATIONAL_MODE": "cluster"}, "TFE_OPERATIONAL_MODE: 'cluster' is none of disk, external, active-active"),
    ({"TFE_IACT_TIME_LIMIT": "soon"}, "TFE_IACT_TIME_LIMIT: 'soon' is not a number of minutes"),
    ({"TFE_ADMIN_HTTPS_PORT": "70000"}, "TFE_ADMIN_HTTPS_PORT: '70000' is not a port"),
    ({"TFE_OPERATIONAL_MODE": "external"}, "TFE_DATABASE_HOST: is required and not set"),
    ({"TFE_OPERATIONAL_MODE": "external", "TFE_DATABASE_HOST": "127.0.0.1:1", "TFE_DATABASE_NAME": "tfe",
      "TFE_DATABASE_USER": "tfe", "TFE_DATABASE_PASSWORD": "db-" + secrets.token_hex(8),
      "TFE_OBJECT_STORAGE_TYPE": "s3", "TFE_OBJECT_STORAGE_S3_BUCKET": "tfe",
      "TFE_OBJECT_STORAGE_S3_ENDPOINT": "http://127.0.0.1:1", "TFE_OBJECT_STORAGE_S3_ACCESS_KEY_ID": "AKIATFE",
      "TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY": "s3-" + secrets.token_hex(8)},
     "TFE_DATABASE_HOST: cannot connect to 127.0.0.1:1"),
], ids=["cert-missing", "hostname-missing", "iact-everyone", "iact-bad-cidr", "password-short", "license-missing",
        "mode-unknown", "iact-time-limit", "admin-port", "external-no-db", "external-db-unreachable"])
def test_a_bad_setting_is_named_and_the_container_never_becomes_ready(image, tls, overrides, setting):
    run = docker("run", "--rm", "--network", "none", "-v", "%s:/etc/tfe-tls:ro" % tls["dir"],
                 *settings(tls, **overrides), image)
    assert run.returncode == 1, run.stderr
    assert "startup check failed: " + setting in run.stderr
    assert PASSWORD not in run.stderr + run.stdout and LICENSE not in run.stderr and IACT not in run.stderr
