"""The tfe_fdo role end to end against this machine's Docker engine, installing the TFE FDO stand-in image: check
mode on a fresh host, the install (secrets only in the 0600 env file; a canary scan of the rest), an idempotent
second run that does not restart the container, a changed setting that restarts it once after `tfectl node drain`,
and bad settings refused by name while the installation keeps running."""
from __future__ import annotations

import json
import secrets
import socket
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.emulators.tls import make_ca_and_cert
from tests.integration.conftest import ROOT, assert_no_secret, run_playbook

PLAYBOOK = "tfe_fdo/playbooks/tfe_fdo.yml"
PASSWORD = "encpw" + secrets.token_hex(12)
LICENSE = "license" + secrets.token_hex(20)
IACT = "iact" + secrets.token_hex(12)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=False)


def started_at(name):
    return json.loads(docker("inspect", name).stdout)[0]["State"]["StartedAt"]


@pytest.fixture(scope="module")
def image():
    out = subprocess.run([str(ROOT / "tests" / "images" / "tfe-fdo" / "build.sh")], capture_output=True, text=True,
                         check=True, timeout=900)
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture
def install(image, tmp_path):
    tls = make_ca_and_cert(str(tmp_path / "tls"))
    name = "tfe-fdo-role-%s" % uuid.uuid4().hex[:8]
    values = {
        "tfe_fdo_image": image,
        "tfe_fdo_hostname": "tfe.example.com",
        "tfe_fdo_license": LICENSE,
        "tfe_fdo_encryption_password": PASSWORD,
        "tfe_fdo_iact_token": IACT,
        "tfe_fdo_tls_cert_file": tls[1],
        "tfe_fdo_tls_key_file": tls[2],
        "tfe_fdo_tls_ca_bundle_file": tls[0],
        "tfe_fdo_config_dir": str(tmp_path / "etc" / "terraform-enterprise"),
        "tfe_fdo_data_dir": str(tmp_path / "data"),
        "tfe_fdo_container_name": name,
        "tfe_fdo_http_port": free_port(),
        "tfe_fdo_https_port": free_port(),
        "tfe_fdo_admin_https_port": free_port(),
        "tfe_fdo_publish_address": "127.0.0.1",
        "tfe_fdo_iact_subnets": ["10.20.0.0/24"],
        "tfe_fdo_extra_settings": {"TFE_STANDIN_BOOT_SECONDS": "1"},
        # This machine's own engine, started by hack/ensure-host.sh.
        "tfe_fdo_docker_packages": [],
        "tfe_fdo_docker_service": "",
    }
    (tmp_path / "etc").mkdir()
    yield values, tls[0]
    docker("rm", "-f", name)


def wait_ready(values, ca_path):
    url = "https://127.0.0.1:%d/api/v1/health/readiness" % values["tfe_fdo_https_port"]
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = requests.get(url, verify=ca_path, timeout=2)
            if answer.status_code == 200:
                return answer.json()
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, docker("logs", values["tfe_fdo_container_name"]).stderr
        time.sleep(0.5)


def canary_scan(config_dir):
    """Every file under the configuration directory but the env file, searched for the secrets."""
    found = []
    for path in Path(config_dir).rglob("*"):
        if path.is_file() and path.name != "tfe.env":
            text = path.read_text(errors="replace")
            found += [str(path) for secret in (PASSWORD, LICENSE, IACT) if secret in text]
    return found


def test_install_check_idempotence_and_one_restart_after_a_drain(install):
    values, ca_path = install
    name = values["tfe_fdo_container_name"]
    config_dir = Path(values["tfe_fdo_config_dir"])

    check = run_playbook(PLAYBOOK, values, check=True, diff=True)
    assert check.rc == 0, check.output
    assert check.changed > 0
    assert not config_dir.exists() and docker("inspect", name).returncode != 0
    assert_no_secret(check, PASSWORD, LICENSE, IACT)

    first = run_playbook(PLAYBOOK, values, diff=True)
    assert first.rc == 0, first.output
    assert_no_secret(first, PASSWORD, LICENSE, IACT)
    assert wait_ready(values, ca_path)["status"] == "OK"
    env = config_dir / "tfe.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600 and env.stat().st_uid == 0
    assert "TFE_ENCRYPTION_PASSWORD=%s\n" % PASSWORD in env.read_text()
    assert stat.S_IMODE((config_dir / "tls" / "key.pem").stat().st_mode) == 0o600
    assert canary_scan(config_dir) == []
    inspect = json.loads(docker("inspect", name).stdout)[0]
    assert inspect["HostConfig"]["ReadonlyRootfs"] is True and inspect["HostConfig"]["CapAdd"] == ["IPC_LOCK"]
    assert set(inspect["HostConfig"]["Tmpfs"]) >= {"/tmp", "/run/terraform-enterprise"}
    ports = inspect["HostConfig"]["PortBindings"]
    assert "%d/tcp" % values["tfe_fdo_admin_https_port"] not in ports  # the admin port stays closed
    assert docker("exec", name, "tfectl", "admin", "token").stdout.strip() == IACT
    shown = json.loads(docker("exec", name, "tfectl", "app", "config").stdout)
    assert shown["TFE_IACT_SUBNETS"] == "10.20.0.0/24" and shown["TFE_IACT_TIME_LIMIT"] == "15"
    started = started_at(name)

    again = run_playbook(PLAYBOOK, values, diff=True)
    assert again.rc == 0 and again.changed == 0, again.output
    assert started_at(name) == started

    changed = dict(values, tfe_fdo_iact_time_limit=20)
    result = run_playbook(PLAYBOOK, changed, diff=True)
    assert result.rc == 0, result.output
    assert "restarted after a drain" in result.stdout
    assert_no_secret(result, PASSWORD, LICENSE, IACT)
    assert started_at(name) != started
    wait_ready(values, ca_path)
    assert json.loads(docker("exec", name, "tfectl", "app", "config").stdout)["TFE_IACT_TIME_LIMIT"] == "20"
    restarted = started_at(name)
    final = run_playbook(PLAYBOOK, changed)
    assert final.rc == 0 and final.changed == 0, final.output
    assert started_at(name) == restarted


@pytest.mark.parametrize("overrides, message", [
    ({"tfe_fdo_iact_subnets": ["0.0.0.0/0"]}, "tfe_fdo_iact_subnets must not hold 0.0.0.0/0"),
    ({"tfe_fdo_encryption_password": "tooshort"}, "tfe_fdo_encryption_password must be at least 16 characters, got 8"),
    ({"tfe_fdo_tls_cert_file": "/nonexistent/cert.pem"}, "tfe_fdo_tls_cert_file names /nonexistent/cert.pem, which is not a file"),
    ({"tfe_fdo_admin_port_open": True}, "tfe_fdo_admin_allowed_cidrs must name at least one network"),
    ({"tfe_fdo_operational_mode": "external"}, "tfe_fdo_database_host must be set: tfe_fdo_operational_mode is external"),
    ({"tfe_fdo_operational_mode": "external", "tfe_fdo_database_host": "127.0.0.1:1", "tfe_fdo_database_name": "tfe",
      "tfe_fdo_database_user": "tfe", "tfe_fdo_database_password": "dbpw" + secrets.token_hex(8),
      "tfe_fdo_s3_bucket": "tfe-objects"},
     "tfe_fdo_database_host 127.0.0.1:1 cannot be reached from"),
], ids=["iact-everyone", "password-short", "cert-missing", "admin-open-to-nobody-named", "external-no-database",
        "external-database-unreachable"])
def test_a_bad_setting_is_named_and_the_installation_keeps_running(install, overrides, message):
    values, ca_path = install
    name = values["tfe_fdo_container_name"]
    first = run_playbook(PLAYBOOK, values)
    assert first.rc == 0, first.output
    wait_ready(values, ca_path)
    started = started_at(name)
    env_before = (Path(values["tfe_fdo_config_dir"]) / "tfe.env").read_text()
    result = run_playbook(PLAYBOOK, dict(values, **overrides))
    assert result.rc == 2, result.output
    # A loop's failure is reported as "failed: [host] (item=...)", a task's as "fatal: [host]".
    fatal = [line for line in result.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]
    assert len(fatal) == 1 and message in fatal[0], result.stdout
    assert result.changed == 0 and result.failed == 1
    assert_no_secret(result, PASSWORD, LICENSE, IACT, "tooshort")
    assert started_at(name) == started
    assert (Path(values["tfe_fdo_config_dir"]) / "tfe.env").read_text() == env_before
    assert wait_ready(values, ca_path)["status"] == "OK"
