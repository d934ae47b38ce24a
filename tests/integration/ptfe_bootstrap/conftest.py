"""Fixtures for the PTFE bootstrap tests: a PTFE emulator per test (own process, HTTPS, throwaway CA)."""
from __future__ import annotations

import pytest

from tests.emulators.ptfe.process import start_emulator

ADMIN_PASSWORD = "correct-horse-battery"


@pytest.fixture
def ptfe(tmp_path):
    """Factory: ``ptfe(**config)`` starts an emulator (controller allowed by iact_subnet_list by default)."""
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
