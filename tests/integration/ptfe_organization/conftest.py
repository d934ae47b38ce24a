"""Fixtures for the ptfe_organization tests: the PTFE emulator with a site admin and a plain user, whose tokens are
kept in files as ptfe_initial_admin keeps the admin's."""
from __future__ import annotations

import os

import pytest

from tests.integration.ptfe_emulator_fixture import ptfe

__all__ = ["ptfe"]

ADMIN_TOKEN = "orgadmin0000001.atlasv1.canary-org-admin-token-5e1d7a"
USER_TOKEN = "orguser00000001.atlasv1.canary-org-user-token-9c4b2f"


class Installation:
    """An emulator with its site admin (``admin``) and plain user (``plain``), and their token files."""

    def __init__(self, emulator, directory):
        self.emulator = emulator
        self.admin_token_file = directory / "admin.token"
        self.user_token_file = directory / "user.token"
        for path, token in ((self.admin_token_file, ADMIN_TOKEN), (self.user_token_file, USER_TOKEN)):
            path.write_text(token + "\n")
            os.chmod(path, 0o600)

    def vars(self, **values):
        """Extra vars for playbooks/organization.yml: the connection and the admin's token file, then ``values``."""
        extra = {"address": self.emulator.url, "ca_path": self.emulator.ca_path,
                 "token_file": str(self.admin_token_file)}
        extra.update(values)
        return extra


@pytest.fixture
def installation(ptfe, tmp_path):
    emulator = ptfe(users=[{"username": "admin", "site_admin": True, "token": ADMIN_TOKEN},
                           {"username": "plain", "site_admin": False, "token": USER_TOKEN}])
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    return Installation(emulator, secrets)
