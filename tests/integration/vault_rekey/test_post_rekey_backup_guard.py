"""post_rekey_backup's guards that need no Vault: what it refuses to remove, proven on the controller's disk."""
from __future__ import annotations

import json
import os

from tests.integration.conftest import run_playbook


def evidence(tmp_path, shares=5):
    """A keys file as vault_rekey leaves it after a verified rekey (stand-in keys), mode 0600."""
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"nonce": "guard-test", "key_shares": shares, "key_threshold": 2,
                                     "verified": True, "pgp": False,
                                     "keys_base64": ["k%d" % i for i in range(shares)]}))
    os.chmod(keys_file, 0o600)
    return keys_file


def test_unseal_key_path_that_is_a_directory_is_never_removed(tmp_path):
    keys_file = evidence(tmp_path)
    data = tmp_path / "data"
    (data / "vault-unseal-key").mkdir(parents=True)
    (data / "vault-unseal-key" / "keep-me").write_text("not a key\n")
    backup = tmp_path / "atlas-backup"
    ran = tmp_path / "backup-ran"
    backup.write_text("#!/bin/sh\ntouch %s\n" % ran)
    backup.chmod(0o755)
    result = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", {
        "backup_only": True,
        # No Vault answers here: the guard must stop the run before anything is read from one.
        "post_rekey_backup_custody": {"url": "https://127.0.0.1:9", "keys_file": str(keys_file)},
        "post_rekey_backup_key_shares": 5,
        "post_rekey_backup_unseal_key_path": str(data / "vault-unseal-key"),
        "post_rekey_backup_command": str(backup),
        "post_rekey_backup_marker_path": str(tmp_path / "marker" / "post-rekey-backup.json"),
    })
    assert result.rc != 0
    assert "is not a regular file" in result.stdout, result.stdout[-2000:]
    assert (data / "vault-unseal-key" / "keep-me").is_file()
    assert not ran.exists()
    assert result.changed == 0
