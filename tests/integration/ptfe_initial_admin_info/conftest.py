"""Fixtures for the ptfe_initial_admin_info tests: the PTFE emulator with a site admin and a plain user, and token
files as ptfe_initial_admin keeps them."""
from __future__ import annotations

import os

import pytest

from tests.integration.ptfe_emulator_fixture import ptfe

__all__ = ["ptfe"]

ADMIN_TOKEN = "infoadmin000001.atlasv1.canary-info-admin-token-3a8e6c"
USER_TOKEN = "infouser0000001.atlasv1.canary-info-user-token-7d2f1b"
USERS = [{"username": "admin", "email": "ops@example.com", "site_admin": True, "token": ADMIN_TOKEN},
         {"username": "plain", "site_admin": False, "token": USER_TOKEN}]


@pytest.fixture
def secrets_dir(tmp_path):
    path = tmp_path / "secrets"
    path.mkdir()
    return path


def token_file(directory, token, name="admin.token"):
    """A token file as ptfe_initial_admin writes it: the token, a newline, mode 0600."""
    path = directory / name
    path.write_text(token + "\n")
    os.chmod(path, 0o600)
    return path
