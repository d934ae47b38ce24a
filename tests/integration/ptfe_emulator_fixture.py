"""The PTFE emulator as a pytest fixture, for every integration test directory that drives PTFE modules or roles,
and what those tests read back: the emulator past every module, and a module's result from a playbook run.

A directory's conftest.py imports :func:`ptfe` (and lists it in ``__all__``) to make the fixture its own:

    from tests.integration.ptfe_emulator_fixture import ptfe

    __all__ = ["ptfe"]
"""
from __future__ import annotations

import json
import re

import pytest
import requests

from tests.emulators.ptfe.process import start_emulator


@pytest.fixture
def ptfe(tmp_path):
    """Factory: ``ptfe(**config)`` starts an emulator in its own process, on HTTPS with a throwaway CA (the
    controller is allowed to retrieve the IACT, by iact_subnet_list, unless ``config`` says otherwise)."""
    handles = []

    def start(**config):
        cfg = {"iact_subnet_list": "127.0.0.1/32"}
        cfg.update(config)
        handle = start_emulator(cfg, tmp_path / ("emulator%d" % len(handles)))
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop()


def read_back(emulator, method, path, token=None, **kwargs):
    """Ask the emulator directly with requests, past every module: what a test reads back as the truth."""
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = "Bearer " + token
    return requests.request(method, emulator.url + path, headers=headers, verify=emulator.ca_path, timeout=10,
                            **kwargs)


def writes(emulator):
    """The requests that reached the emulator's API with a method that can change something."""
    return [(e["method"], e["path"]) for e in emulator.requests_log() if e["method"] not in ("GET", "HEAD")]


#: The line of a playbook run whose debug task printed ``RESULT <the module's result as JSON>``.
PRINTED_RESULT_RE = re.compile(r'"msg": ("RESULT .*")$', re.M)


def printed_result(run):
    """The module's result a playbook printed with ``msg: "RESULT {{ result ... | to_json }}"``."""
    match = PRINTED_RESULT_RE.search(run.stdout)
    assert match, run.output
    return json.loads(json.loads(match.group(1))[len("RESULT "):])


def fatal(run):
    """The one ``fatal:`` line of a playbook run that failed in exactly one task."""
    lines = [line for line in run.stdout.splitlines() if line.startswith("fatal:")]
    assert len(lines) == 1, run.output
    return lines[0]
