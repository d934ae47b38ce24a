"""The PTFE emulator's readiness endpoint and System API (api-contracts.md §8), asked with curl as operators and
HashiCorp's install scripts ask them: no client of ours between the test and the emulator."""
from __future__ import annotations

import json
import subprocess

import pytest

SYSTEM_TOKEN = "system-api-token-canary-0123456789"


def curl(emu, path, *options):
    """(HTTP status, body) of ``curl`` asking ``path`` of the emulator."""
    done = subprocess.run(["curl", "-sS", "--cacert", emu.ca_path, "-o", "-", "-w", "\n%{http_code}"]
                          + list(options) + [emu.url + path],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    body, _newline, status = done.stdout.rpartition("\n")
    return int(status), body


def test_readiness_reports_every_check_and_turns_ready_after_boot(ptfe):
    emu = ptfe(product_version="1.2.1", boot_seconds=30)
    status, body = curl(emu, "/api/v1/health/readiness")
    assert status == 503
    booting = json.loads(body)
    assert booting["status"] == "ERROR" and booting["node"] == "tfe-node-0"
    assert {c["status"] for c in booting["checks"]} == {"ERROR"} and len(booting["checks"]) == 6
    emu.configure(boot_seconds=0)
    status, body = curl(emu, "/api/v1/health/readiness?timeout=5")
    assert status == 200
    assert json.loads(body)["status"] == "OK" and {c["status"] for c in json.loads(body)["checks"]} == {"OK"}
    assert curl(emu, "/api/v1/health/readiness?timeout=31")[0] == 400
    status, text = curl(emu, "/api/v1/health/readiness", "-H", "Accept: text/plain")
    assert status == 200 and text.startswith("tfe-node-0: OK\n") and "  vault: OK" in text


def test_a_failing_check_is_named_and_draining_is_not_ready(ptfe):
    emu = ptfe(product_version="1.3.0", readiness_failing_checks=["redis"])
    status, body = curl(emu, "/api/v1/health/readiness")
    found = json.loads(body)
    assert status == 503 and found["status"] == "ERROR"
    assert [c["check"] for c in found["checks"] if c["status"] != "OK"] == ["redis"]
    emu.configure(readiness_failing_checks=[], readiness_draining=True)
    status, body = curl(emu, "/api/v1/health/readiness")
    assert status == 503 and json.loads(body)["status"] == "DRAINING"


@pytest.mark.parametrize("version, readiness, system_api, headers", [
    ("v202309-1", 404, 404, {"x-tfe-version": "v202309-1"}),
    ("1.0.3", 404, 200, {"x-tfe-current-version": "1.0.3"}),
    ("1.1.2", 404, 200, {"x-tfe-current-version": "1.1.2"}),
    ("1.2.1", 200, 200, {"x-tfe-current-version": "1.2.1"}),
], ids=["replicated", "fdo-1.0", "fdo-1.1", "fdo-1.2.1"])
def test_the_product_version_decides_the_paths(ptfe, version, readiness, system_api, headers):
    emu = ptfe(product_version=version, system_api_tokens=[SYSTEM_TOKEN])
    assert curl(emu, "/_health_check")[0] == 200
    assert curl(emu, "/api/v1/health/readiness")[0] == readiness
    auth = ["-H", "Authorization: Bearer " + SYSTEM_TOKEN]
    assert curl(emu, "/api/v1/ping", *auth)[0] == system_api
    done = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert", emu.ca_path,
                           emu.url + "/api/v2/ping"], capture_output=True, text=True, timeout=30, check=True)
    seen = dict(line.lower().split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    for name, value in headers.items():
        assert seen[name].strip() == value.lower()
    if version.startswith("v"):
        assert "x-tfe-current-version" not in seen


def test_system_api_ping_and_nodes_readiness_need_a_system_token(ptfe):
    emu = ptfe(product_version="1.2.1", system_api_tokens=[SYSTEM_TOKEN], readiness_failing_checks=["vault"])
    auth = ["-H", "Authorization: Bearer " + SYSTEM_TOKEN]
    assert curl(emu, "/api/v1/ping")[0] == 403
    assert curl(emu, "/api/v1/ping", "-H", "Authorization: Bearer wrong")[0] == 403
    assert curl(emu, "/api/v1/ping", *auth) == (200, '"pong"')  # a JSON string, as the content type says
    assert curl(emu, "/api/v1/ping", *auth)[0] == 429
    status, body = curl(emu, "/api/v1/nodes/readiness?timeout=2", *auth)
    assert status == 503
    node = json.loads(body)["nodes"][0]
    assert node["node"] == "tfe-node-0" and {"check": "vault", "status": "ERROR"} in node["checks"]
    assert curl(emu, "/api/v1/nodes/readiness")[0] == 403
    emu.configure(readiness_failing_checks=[])
    assert curl(emu, "/api/v1/nodes/readiness", *auth)[0] == 200
    logged = emu.requests_log()
    assert SYSTEM_TOKEN not in json.dumps(logged)
