"""The vault_rekey role on a Terraform Enterprise FDO host: it asks ptfe_platform_info first and refuses, with
the guidance (the internal Vault key lives encrypted in the database; tfectl app rotate-encryption-password), before
it reads the unseal key or sends anything to Vault.

Vault here is a TCP listener that counts connections: a rekey would have to connect to it. On a calendar version
(the AMI, Replicated) the same role goes past the platform check and does connect.
"""
from __future__ import annotations

import socket
import threading

import pytest

from tests.integration.conftest import run_playbook
from tests.integration.ptfe_emulator_fixture import fatal, writes

PLAYBOOK = "vault_rekey/playbooks/rekey_role.yml"


class CountingListener:
    """A port that accepts and closes connections, counting them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.connections = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.sock.getsockname()[1]

    def serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def vault():
    listener = CountingListener()
    yield listener
    listener.close()


def role_vars(emu, vault, tmp_path):
    key_file = tmp_path / "vault-unseal-key"
    key_file.write_text("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n")
    (tmp_path / "keys").mkdir()
    return {
        "vault_rekey_url": vault.url,
        "vault_rekey_unseal_key_path": str(key_file),
        "vault_rekey_keys_file": str(tmp_path / "keys" / "vault-unseal-keys.json"),
        "vault_rekey_timeout": 5,
        "vault_rekey_ptfe_address": emu.url,
        "vault_rekey_ptfe_ca_path": emu.ca_path,
    }


@pytest.mark.parametrize("version", ["1.2.1", "1.1.2"])
def test_fdo_refuses_with_the_guidance_and_changes_nothing(ptfe, vault, tmp_path, version):
    emu = ptfe(product_version=version)
    evars = role_vars(emu, vault, tmp_path)
    key_before = (tmp_path / "vault-unseal-key").read_text()
    for check in (True, False):
        run = run_playbook(PLAYBOOK, evars, check=check)
        assert run.rc == 2, run.output
        line = fatal(run)
        assert "Refusing to rekey: localhost runs Terraform Enterprise FDO (%s;" % version in line
        assert "internal Vault key lives encrypted in the database" in line
        assert "tfectl app rotate-encryption-password" in line
        assert "Nothing was changed." in line
        assert run.host()["changed"] == 0
    assert vault.connections == 0
    assert (tmp_path / "vault-unseal-key").read_text() == key_before
    assert list((tmp_path / "keys").iterdir()) == []
    assert writes(emu) == [] and not any(e["authenticated"] for e in emu.requests_log())


def test_a_calendar_version_goes_on_to_vault(ptfe, vault, tmp_path):
    emu = ptfe(product_version="v201712-3")
    run = run_playbook(PLAYBOOK, role_vars(emu, vault, tmp_path))
    assert run.rc == 2, run.output
    assert "Refusing to rekey" not in run.output
    assert "ptfe.ops.vault_rekey failed" in run.stdout and "Failed to read seal status" in run.stdout
    assert run.host()["rescued"] == 1
    assert vault.connections >= 1
