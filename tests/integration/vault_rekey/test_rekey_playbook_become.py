"""playbooks/rekey.yml end to end as shipped (play-wide become), with the PTFE host escalating through su.

The controller-side tasks must not escalate (AWX/AAP controllers have no sudo, and a keys file written through
sudo would belong to root); tests/unit/roles/test_controller_tasks.py checks that every such task says so.
"""
from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import run_playbook

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


def test_rekey_playbook_never_escalates_on_the_controller(openbao_factory, tmp_path):
    server = openbao_factory()
    data = tmp_path / "data"
    data.mkdir()
    (data / "vault-unseal-key").write_text(server.init_keys[0] + "\n")
    (tmp_path / "keys").mkdir()
    backup = tmp_path / "atlas-backup"
    backup.write_text("#!/bin/sh\necho backup complete\n")
    backup.chmod(0o755)
    host = {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "ansible_become_method": "su",
        "vault_rekey_url": server.url, "vault_rekey_ca_cert": server.tls["ca"],
        "vault_rekey_token": server.root_token, "vault_rekey_keys_dir": str(tmp_path / "keys"),
        "vault_rekey_unseal_key_path": str(data / "vault-unseal-key"),
        "post_rekey_backup_unseal_key_path": str(data / "vault-unseal-key"),
        "post_rekey_backup_key_shares": 5, "post_rekey_backup_command": str(backup),
        "post_rekey_backup_marker_path": str(tmp_path / "marker" / "post-rekey-backup.json"),
        "post_rekey_backup_accept_destination": "{{ vault_rekey_result.keys_destination }}",
    }
    controller = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                  "ansible_become_method": "sudo", "ansible_become_exe": "/bin/false"}
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"ptfe1": host, "localhost": controller}},
                                     "ptfe": {"hosts": {"ptfe1": {}}}}))

    result = run_playbook(str(ROOT / "playbooks" / "rekey.yml"), inventory=str(inventory))
    assert result.rc == 0, result.output
    keys_file = tmp_path / "keys" / "ptfe1.vault-keys.json"
    assert keys_file.is_file() and stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert keys_file.stat().st_uid == os.getuid()
    assert server.seal_status()["n"] == 5
    assert not (data / "vault-unseal-key").exists()
