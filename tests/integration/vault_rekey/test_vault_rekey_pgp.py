"""vault_rekey with PGP-encrypted shares and a backup in Vault, against real OpenBao.

Run 1 stores the encrypted shares and stops with verification pending (Vault keeps the old key). The share
holders decrypt two shares; run 2 verifies with them and Vault switches. The decrypted shares unseal Vault.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess

import pytest

pytestmark = pytest.mark.slow


def make_pgp_keys(tmp_path, count):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    public = []
    for i in range(count):
        uid = "share%d <share%d@ptfe-ops.test>" % (i, i)
        subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "rsa2048", "sign,encrypt",
                        "never"], env=env, check=True, capture_output=True, timeout=120)
        exported = subprocess.run(["gpg", "--export", uid], env=env, check=True, capture_output=True).stdout
        public.append(base64.b64encode(exported).decode())
    return env, public


def decrypt(env, share_b64):
    out = subprocess.run(["gpg", "--batch", "--quiet", "--decrypt"], input=base64.b64decode(share_b64), env=env,
                         check=True, capture_output=True, timeout=60).stdout
    return out.decode().strip()


def test_pgp_backup_then_verification_with_decrypted_shares(openbao_factory, killable, tmp_path):
    server = openbao_factory()
    env, public = make_pgp_keys(tmp_path, 3)
    key_src = tmp_path / "old-key"
    key_src.write_text(server.init_keys[0] + "\n")
    keys_file = tmp_path / "vault-keys.json"
    evars = {"vault_url": server.url, "vault_ca_cert": server.tls["ca"], "unseal_keys_src": str(key_src),
             "keys_file": str(keys_file), "shares": 3, "threshold": 2, "pgp_keys": public, "backup": True}
    os.environ["VAULT_TOKEN"] = server.root_token
    try:
        first = killable("rekey_module.yml", evars)
        assert first.rc == 0, first.stdout + first.stderr
        assert re.search(r'\\"verification_pending\\": true', first.stdout), first.stdout
        assert (server.seal_status()["n"], server.seal_status()["t"]) == (1, 1)  # old key still live
        pending = json.loads((tmp_path / "vault-keys.json.pending").read_text())
        assert pending["pgp"] is True and len(pending["keys_base64"]) == 3 and not keys_file.exists()
        backup = server.api("GET", "sys/rotate/root/backup")
        assert sum(len(v) for v in backup["keys"].values()) == 3

        shares = [decrypt(env, k) for k in pending["keys_base64"][:2]]
        ver_src = tmp_path / "decrypted"
        ver_src.write_text("\n".join(shares) + "\n")
        evars["verification_keys_src"] = str(ver_src)
        second = killable("rekey_module.yml", evars)
        assert second.rc == 0, second.stdout + second.stderr
        assert (server.seal_status()["n"], server.seal_status()["t"]) == (3, 2)
        doc = json.loads(keys_file.read_text())
        assert doc["verified"] is True and doc["pgp"] is True
        for share in shares:
            assert share not in second.stdout and share not in keys_file.read_text()

        server.seal()
        assert server.unseal(shares)["sealed"] is False
        del evars["verification_keys_src"]
        third = killable("rekey_module.yml", evars)
        assert third.rc == 0 and third.host()["changed"] == 0, third.stdout
    finally:
        os.environ.pop("VAULT_TOKEN", None)
        # gpg started an agent for this GNUPGHOME; it would outlive the test.
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True, timeout=30)
