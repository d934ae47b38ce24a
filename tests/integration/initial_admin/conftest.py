"""Fixtures for the PTFE bootstrap tests: a PTFE emulator per test (own process, HTTPS, throwaway CA)."""
from __future__ import annotations

import pytest

from tests.emulators.ptfe.server import start_in_thread
from tests.integration.ptfe_emulator_fixture import ptfe

__all__ = ["ptfe"]

ADMIN_PASSWORD = "correct-horse-battery"


@pytest.fixture
def secrets_dir(tmp_path):
    """A directory for the token file, apart from everything else."""
    path = tmp_path / "secrets"
    path.mkdir()
    return path


def role_vars(emulator, token_file, **overrides):
    """Extra vars for playbooks/role.yml against ``emulator``."""
    values = {
        "initial_admin_address": emulator.url,
        "initial_admin_ca_path": emulator.ca_path,
        "initial_admin_email": "ops@example.com",
        "initial_admin_password": ADMIN_PASSWORD,
        "initial_admin_token_file": str(token_file),
        "initial_admin_health_interval": 1,
        "initial_admin_health_timeout": 30,
    }
    values.update(overrides)
    return values


class PlainHttpEmulator:
    """The PTFE emulator served over plain http from this process: an installation reached without TLS.

    ``requests`` is what reached the API (the control API is not logged); ``state()`` reads the server back
    without going through the modules.
    """

    def __init__(self, config):
        self.server, _ca_path = start_in_thread(config)
        assert self.server.url.startswith("http://")
        self.url = self.server.url
        self.ca_path = ""

    @property
    def requests(self):
        return [(e["method"], e["path"]) for e in self.server.log]

    def state(self):
        return self.server.state.snapshot()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def plain_http_ptfe():
    """Factory: ``plain_http_ptfe(**config)`` starts an emulator on http:// (controller allowed to get the IACT)."""
    started = []

    def start(**config):
        cfg = {"iact_subnet_list": "127.0.0.1/32"}
        cfg.update(config)
        started.append(PlainHttpEmulator(cfg))
        return started[-1]

    yield start
    for emulator in started:
        emulator.stop()
