# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""install.yml on Terraform Enterprise FDO, read back after the idempotence run.

On the target: the hardened container, the 0600 root-only env file, and no secret anywhere else under
/etc/terraform-enterprise. From the controller, as a client of the application: the first admin exists, the
Terraform versions are registered, and the idempotence run sent no write request (side_effect.yml emptied the
request log after the first converge).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests

from ptfe_testinfra import inventory_vars

ADDRESS = "https://192.168.233.2"
CONFIG_DIR = "/etc/terraform-enterprise"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

testinfra_hosts = ["ptfe-fdo-target"]


@pytest.fixture(scope="module")
def controller():
    return json.loads((Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "fdo" / "fdo.json").read_text())


@pytest.fixture(scope="module")
def canaries(host):
    values = inventory_vars(host)
    found = {name: values[name] for name in ("tfe_fdo_license", "tfe_fdo_encryption_password", "tfe_fdo_iact_token",
                                             "initial_admin_password")}
    token_file = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "fdo" / "admin-token"
    found["System API token"] = values["tfe_fdo_extra_settings"]["TFE_STANDIN_SYSTEM_API_TOKEN"]
    found["admin token"] = token_file.read_text().strip()
    assert all(len(v) >= 16 for v in found.values()), "a canary is too short to be found reliably"
    return found


def inspect(host):
    out = host.run("docker inspect terraform-enterprise")
    assert out.rc == 0, out.stderr
    return json.loads(out.stdout)[0]


def test_the_container_runs_hardened(host):
    info = inspect(host)
    assert info["State"]["Running"] is True
    config = info["HostConfig"]
    assert config["ReadonlyRootfs"] is True
    assert config["CapAdd"] == ["IPC_LOCK"] or config["CapAdd"] == ["CAP_IPC_LOCK"]
    assert set(config["Tmpfs"]) == {"/tmp", "/var/run", "/run/terraform-enterprise", "/var/log/terraform-enterprise"}
    # The admin port (System API) is published: tfe_fdo_admin_port_open is true.
    assert set(config["PortBindings"]) == {"80/tcp", "443/tcp", "8443/tcp"}
    assert config["RestartPolicy"]["Name"] == "unless-stopped"


def test_secrets_live_only_in_the_root_only_env_file(host, canaries):
    env = host.file(CONFIG_DIR + "/tfe.env")
    assert (env.user, env.group, env.mode) == ("root", "root", 0o600)
    assert canaries["tfe_fdo_encryption_password"] in env.content_string
    files = host.run("find %s -type f ! -path %s/tfe.env" % (CONFIG_DIR, CONFIG_DIR)).stdout.split()
    assert CONFIG_DIR + "/container.yml" in files and CONFIG_DIR + "/tls/key.pem" in files
    for path in files:
        text = host.file(path).content_string
        for name, value in canaries.items():
            assert value not in text, "%s appears in %s" % (name, path)
    assert host.file(CONFIG_DIR + "/tls/key.pem").mode == 0o600


def test_the_application_answers_as_installed(controller, canaries):
    ready = requests.get(ADDRESS + "/api/v1/health/readiness", verify=controller["ca"], timeout=10)
    assert ready.status_code == 200, ready.text
    token = canaries["admin token"]
    account = requests.get(ADDRESS + "/api/v2/account/details", verify=controller["ca"], timeout=10,
                           headers={"Authorization": "Bearer " + token})
    assert account.status_code == 200, account.text
    attributes = account.json()["data"]["attributes"]
    assert attributes["username"] == "admin" and attributes["is-site-admin"] is True
    versions = requests.get(ADDRESS + "/api/v2/admin/terraform-versions", verify=controller["ca"], timeout=10,
                            headers={"Authorization": "Bearer " + token}).json()["data"]
    listed = {v["attributes"]["version"]: v["attributes"]["sha"] for v in versions}
    for wanted in controller["tool_versions_list"]:
        assert listed.get(wanted["version"]) == wanted["sha256"]


def test_the_reconfiguration_run_sent_no_write(controller):
    log = requests.get(ADDRESS + "/_emulator/requests", verify=controller["ca"], timeout=10).json()
    entries = log["requests"] if isinstance(log, dict) else log
    assert entries, "the idempotence run asked the application nothing: the log is not what this test reads"
    writes = [e for e in entries if e["method"] in WRITES]
    assert not writes, writes


def test_the_admin_port_is_open_to_the_named_network_only(host, controller, canaries):
    """install.yml gave tfe_fdo_admin_allowed_cidrs to the firewall: ufw allows 8443 from them and nobody else."""
    rules = [line for line in host.run("ufw status").stdout.splitlines() if line.startswith("8443")]
    assert rules and all(line.split()[2] == "192.168.233.1" for line in rules), rules
    # For published container ports the firewall's chain behind DOCKER-USER decides: it lets the admin port
    # through from that source only.
    docker_rules = [line for line in host.run("iptables-save").stdout.splitlines()
                    if line.startswith("-A ptfe-docker-user") and "8443" in line]
    assert docker_rules and all("-s 192.168.233.1/32" in line for line in docker_rules), docker_rules
    pong = requests.get("https://192.168.233.2:8443/api/v1/ping", verify=controller["ca"], timeout=10,
                        headers={"Authorization": "Bearer " + canaries["System API token"]})
    assert pong.status_code == 200 and pong.text.strip() in ('"pong"', "pong"), pong.text
