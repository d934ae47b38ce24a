"""Servers the bad-input tables run against: the PTFE emulator, with one site admin whose token is a canary."""
from __future__ import annotations

import pytest

from tests.emulators.ptfe.process import start_emulator

ADMIN_TOKEN = "biadmin00000001.atlasv1.canary-bad-input-admin-4e1f"


@pytest.fixture(scope="module")
def ptfe(tmp_path_factory):
    handle = start_emulator({"users": [{"username": "biadmin", "site_admin": True, "token": ADMIN_TOKEN}]},
                            tmp_path_factory.mktemp("ptfe"))
    try:
        yield handle
    finally:
        handle.stop()


def writes(log):
    """The requests of an emulator log that change something."""
    return [entry for entry in log if entry.get("method") not in ("GET", "HEAD")]
