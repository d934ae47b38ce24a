"""ptfe.ops.ptfe_health end to end: ansible-playbook against the PTFE emulator playing each generation."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.ptfe_emulator_fixture import fatal, printed_result, writes

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "health.yml"
SYSTEM_TOKEN = "systemapi000001.canary-system-api-token-5c1e9a"
ALL_OK = [{"check": name, "status": "OK"}
          for name in ("postgres", "redis", "vault", "object-storage", "archivist", "task-worker")]


def connection(emulator, **values):
    extra = {"address": emulator.url, "ca_path": emulator.ca_path}
    extra.update(values)
    return extra


def asked(emulator):
    return [(e["path"], e["status"]) for e in emulator.requests_log()]


def failure_result(run):
    """The module's result in the one ``fatal:`` line of a failed run."""
    line = fatal(run)
    return json.loads(line[line.index("{"):])


def test_ready_at_once_reads_only_and_runs_the_same_in_check_mode(ptfe):
    emu = ptfe(product_version="1.2.1")
    for check in (False, True):
        run = run_playbook(PLAYBOOK, connection(emu, interval=1), check=check)
        assert run.rc == 0 and run.changed == 0, run.output
        found = printed_result(run)
        assert found["ready"] is True and found["attempts"] == 1 and found["path"] == "/api/v1/health/readiness"
        assert found["checks"] == ALL_OK and found["status"] == "OK" and found["node"] == "tfe-node-0"
        assert found["version_hint"] == "1.2.1-or-later"
        assert found["msg"] == "Ready after 1 attempt, by GET /api/v1/health/readiness."
    assert asked(emu) == [("/api/v1/health/readiness", 200)] * 2
    assert writes(emu) == []
    assert not any(e["authenticated"] for e in emu.requests_log())


def test_waits_while_booting_then_ready(ptfe):
    emu = ptfe(product_version="1.3.0", boot_seconds=3, boot_from_first_request=True)
    run = run_playbook(PLAYBOOK, connection(emu, version="1.3.0", timeout_total=30, interval=1))
    assert run.rc == 0, run.output
    found = printed_result(run)
    assert found["ready"] is True and found["attempts"] >= 3 and found["checks"] == ALL_OK
    log = asked(emu)
    assert log[0] == ("/api/v1/health/readiness", 503) and log[-1] == ("/api/v1/health/readiness", 200)
    assert len(log) == found["attempts"]


def test_never_ready_gives_up_after_the_bound_naming_the_last_failing_check(ptfe):
    emu = ptfe(product_version="1.2.1", readiness_failing_checks=["vault", "redis"])
    started = time.monotonic()
    run = run_playbook(PLAYBOOK, connection(emu, version="1.2.1", timeout_total=4, interval=1))
    elapsed = time.monotonic() - started
    assert run.rc != 0
    message = fatal(run)
    assert ("Failed to wait for %s to become ready: not ready within 4 seconds" % emu.url) in message
    assert ("last failing: check vault is ERROR (GET /api/v1/health/readiness answered HTTP 503)" in message
            or "last failing: check redis is ERROR (GET /api/v1/health/readiness answered HTTP 503)" in message)
    assert "raise timeout_total" in message
    found = failure_result(run)
    assert found["ready"] is False and 3 <= found["attempts"] <= 5
    assert {"check": "redis", "status": "ERROR"} in found["checks"]
    log = emu.requests_log()
    assert len(log) == found["attempts"]
    # The attempts themselves span no more than the bound; ansible-playbook's own start (a few seconds on a
    # busy machine) comes on top of it in the wall time.
    assert log[-1]["time"] - log[0]["time"] <= 4, log
    assert elapsed < 4 + 30, elapsed


def test_a_server_that_never_answers_is_bounded_too(ptfe):
    emu = ptfe(product_version="1.2.1", delay=30)
    started = time.monotonic()
    run = run_playbook(PLAYBOOK, connection(emu, version="1.2.1", timeout_total=3, interval=1, timeout=30))
    elapsed = time.monotonic() - started
    assert run.rc != 0
    assert "not ready within 3 seconds" in fatal(run) and "Read timed out" in fatal(run)
    assert elapsed < 3 + 30, elapsed


@pytest.mark.parametrize("product, version, paths, hint", [
    ("v202309-1", "v202309-1", ["/_health_check"], "calendar"),
    ("1.1.2", "1.1.2", ["/_health_check"], "before-1.2.1"),
    ("1.2.1", "v1.2.1", ["/api/v1/health/readiness"], "1.2.1-or-later"),
    ("v202309-1", "auto", ["/api/v1/health/readiness", "/_health_check"], "calendar-or-before-1.2.1"),
    ("1.0.3", "auto", ["/api/v1/health/readiness", "/_health_check"], "calendar-or-before-1.2.1"),
    ("1.2.1", "auto", ["/api/v1/health/readiness"], "1.2.1-or-later"),
], ids=["calendar", "fdo-1.1", "fdo-1.2.1", "auto-calendar", "auto-fdo-1.0", "auto-fdo-1.2.1"])
def test_the_version_selects_the_path(ptfe, product, version, paths, hint):
    emu = ptfe(product_version=product)
    run = run_playbook(PLAYBOOK, connection(emu, version=version, interval=1))
    assert run.rc == 0, run.output
    found = printed_result(run)
    assert [path for path, _status in asked(emu)] == paths
    assert found["path"] == paths[-1] and found["version_hint"] == hint and found["attempts"] == 1
    if paths[-1] == "/_health_check":
        assert found["checks"] == [{"check": "health_check", "status": "OK"}] and "node" not in found


def test_auto_stops_asking_the_readiness_path_an_older_version_does_not_know(ptfe):
    emu = ptfe(product_version="v202309-1", boot_seconds=2, boot_from_first_request=True)
    run = run_playbook(PLAYBOOK, connection(emu, timeout_total=20, interval=1))
    assert run.rc == 0, run.output
    paths = [path for path, _status in asked(emu)]
    assert paths[0] == "/api/v1/health/readiness" and paths.count("/api/v1/health/readiness") == 1
    assert set(paths[1:]) == {"/_health_check"} and printed_result(run)["attempts"] == len(paths) - 1


def test_system_api_nodes_readiness_with_the_system_token(ptfe, tmp_path):
    emu = ptfe(product_version="1.2.1", system_api_tokens=[SYSTEM_TOKEN])
    vars_file = tmp_path / "vault.yml"
    vars_file.write_text('system_token: "%s"\n' % SYSTEM_TOKEN)
    extra = connection(emu, version="1.2.1", interval=1, timeout_total=3, secret_vars_file=str(vars_file))
    run = run_playbook(PLAYBOOK, extra, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    found = printed_result(run)
    assert found["nodes"] == [{"node": "tfe-node-0", "status": "OK", "checks": ALL_OK}]
    assert asked(emu) == [("/api/v1/health/readiness", 200), ("/api/v1/nodes/readiness", 200)]
    assert_no_secret(run, SYSTEM_TOKEN)

    emu.requests_log(clear=True)
    emu.configure(system_api_tokens=[])
    run = run_playbook(PLAYBOOK, extra, verbosity=4)
    assert run.rc != 0
    # At -vvvv the failure is printed over several lines.
    assert "HTTP 403 from GET /api/v1/nodes/readiness" in run.stdout
    assert_no_secret(run, SYSTEM_TOKEN)


def test_no_token_in_the_output_at_vvvv_when_giving_up(ptfe, tmp_path):
    emu = ptfe(product_version="1.2.1", system_api_tokens=[SYSTEM_TOKEN], readiness_failing_checks=["vault"])
    vars_file = tmp_path / "vault.yml"
    vars_file.write_text('system_token: "%s"\ntoken: "%s"\n' % (SYSTEM_TOKEN, SYSTEM_TOKEN + "-api"))
    run = run_playbook(PLAYBOOK, connection(emu, interval=1, timeout_total=2, secret_vars_file=str(vars_file)),
                       verbosity=4)
    assert run.rc != 0 and "last failing: check vault is ERROR" in run.stdout
    assert_no_secret(run, SYSTEM_TOKEN, SYSTEM_TOKEN + "-api")


@pytest.mark.parametrize("values, message", [
    ({"timeout_total": -5}, "timeout_total must be between 1 and 7200, got -5"),
    ({"timeout_total": 0}, "timeout_total must be between 1 and 7200, got 0"),
    ({"timeout_total": 100000}, "timeout_total must be between 1 and 7200, got 100000"),
    ({"interval": 0}, "interval must be between 1 and 300, got 0"),
    ({"timeout_total": 5, "interval": 10}, "interval must be at most timeout_total (5), got 10"),
    ({"version": "latest"}, "version must be auto, a calendar version such as v202309-1, or a version such as "
                            "1.2.1, got 'latest'"),
    ({"version": "1.2"}, "version must be auto"),
    ({"address_path": "/api/v1/health/readiness"}, "address must be the address of the server only, without a "
                                                   "path, query or fragment"),
    ({"system_address": "https://127.0.0.1:8443/admin"}, "system_address must be the address of the server only"),
], ids=["negative-timeout", "zero-timeout", "huge-timeout", "zero-interval", "interval-above-timeout",
        "unknown-version", "two-part-version", "path-in-address", "path-in-system-address"])
def test_bad_input_is_refused_before_any_request(ptfe, values, message):
    emu = ptfe(product_version="1.2.1")
    values = dict(values)
    extra = connection(emu)
    if "address_path" in values:
        extra["address"] = emu.url + values.pop("address_path")
    extra.update(values)
    run = run_playbook(PLAYBOOK, extra)
    assert run.rc != 0
    assert "Invalid parameters for ptfe" in fatal(run) and "ptfe_health" in fatal(run) and message in fatal(run)
    assert emu.requests_log() == []
