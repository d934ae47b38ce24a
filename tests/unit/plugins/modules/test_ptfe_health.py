"""ptfe_health's logic: which path a version selects, the input rules, and the wait against the PTFE emulator in
this process."""
from __future__ import annotations

import time

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    HEALTH_PATH,
    READINESS_PATH,
    PtfeClient,
    PtfeError,
    health_paths,
    release,
)
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker
from ansible_collections.ptfe.ops.plugins.modules import ptfe_health
from tests.emulators.ptfe.fixtures import ModuleStub


@pytest.mark.parametrize("version, paths", [
    ("v202309-1", [HEALTH_PATH]),
    ("202205-1", [HEALTH_PATH]),
    ("v201712-3", [HEALTH_PATH]),
    ("1.0.0", [HEALTH_PATH]),
    ("1.1.2", [HEALTH_PATH]),
    ("1.2.0", [HEALTH_PATH]),
    ("1.2.1", [READINESS_PATH]),
    ("v1.2.1", [READINESS_PATH]),
    ("1.10.0", [READINESS_PATH]),
    ("2.0.0", [READINESS_PATH]),
    ("auto", [READINESS_PATH, HEALTH_PATH]),
    (None, [READINESS_PATH, HEALTH_PATH]),
])
def test_the_version_selects_the_paths(version, paths):
    assert health_paths(version) == paths


@pytest.mark.parametrize("version, expected", [
    ("v202309-1", ("calendar", (2023, 9, 1))),
    ("1.2.1", ("semantic", (1, 2, 1))),
    ("v202313-1", None),   # no thirteenth month
    ("1.2", None),
    ("1.2.1-rc1", None),
    ("latest", None),
    ("١.٢.١", None),        # other scripts' digits
    ("1.2.1\n", None),
])
def test_release_names(version, expected):
    assert release(version) == expected


@pytest.mark.parametrize("version, answered, hint", [
    ("v202309-1", None, "calendar"),
    ("1.1.2", None, "before-1.2.1"),
    ("1.2.1", None, "1.2.1-or-later"),
    ("auto", None, "unknown"),
    ("auto", READINESS_PATH, "1.2.1-or-later"),
    ("auto", HEALTH_PATH, "calendar-or-before-1.2.1"),
])
def test_version_hint(version, answered, hint):
    assert ptfe_health.version_hint(version, answered) == hint


def problems(**params):
    values = {"timeout_total": 600, "interval": 5, "version": "auto", "system_token": None, "system_address": None,
              "allow_insecure_http": False}
    values.update(params)
    check = Checker(values, secret=["system_token"])
    ptfe_health.validate(check)
    return check.problems


def test_the_defaults_are_valid():
    assert problems() == []


@pytest.mark.parametrize("params, message", [
    # The playbook tests refuse the rest through ansible-playbook; these are the bounds they leave out.
    ({"timeout_total": 7201}, "timeout_total must be between 1 and 7200, got 7201"),
    ({"interval": 301}, "interval must be between 1 and 300, got 301"),
    ({"system_token": "two words"}, "system_token must not contain white space"),
    ({"system_address": "http://tfe:8443"}, "system_address must be a URL such as https://host[:port]"),
])
def test_bad_input(params, message):
    found = problems(**params)
    assert len(found) == 1 and found[0].startswith(message), found
    assert "two words" not in found[0]


def stub(emu, **params):
    values = {"token": None, "version": "auto", "timeout_total": 5, "interval": 1, "system_token": None,
              "system_address": None}
    values.update(params)
    return ModuleStub(emu, values)


def test_auto_against_a_calendar_version_falls_back_once(emu):
    emu.state.apply_config({"product_version": "v202309-1"})
    result = {}
    ptfe_health.run(stub(emu), result)
    assert result["ready"] is True and result["path"] == HEALTH_PATH and result["attempts"] == 1
    assert result["version_hint"] == "calendar-or-before-1.2.1"
    assert [e["path"] for e in emu.log] == [READINESS_PATH, HEALTH_PATH]


def test_a_failing_check_is_named_when_the_bound_is_reached(emu):
    emu.state.apply_config({"product_version": "1.2.1", "readiness_failing_checks": ["archivist"]})
    result = {}
    started = time.monotonic()
    with pytest.raises(PtfeError) as raised:
        ptfe_health.run(stub(emu, version="1.2.1", timeout_total=2), result)
    assert time.monotonic() - started < 3
    assert "not ready within 2 seconds (2 attempts); last failing: check archivist is ERROR" in str(raised.value)
    assert result["ready"] is False and result["attempts"] == 2 and result["status"] == "ERROR"


def test_wait_until_bounds_each_request_by_the_time_left(emu):
    client = PtfeClient(emu.url, ca_path=emu.ca_path, timeout=30)
    seen = []

    def probe():
        seen.append(client.timeout)
        return None

    with pytest.raises(PtfeError, match="gave up"):
        client.wait_until(probe, 2, 1, "wait", lambda calls: "gave up after %d" % calls)
    assert all(1 <= value <= 2 for value in seen) and client.timeout == 30
