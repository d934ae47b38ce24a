"""Fault injection for vault_rekey against real OpenBao.

A TLS proxy in front of OpenBao kills the whole ansible-playbook run (SIGKILL to its session) or cuts the
connection at a chosen request. After every fault: the self-managed key file is untouched, the keys that
Vault accepts are on disk (the old key, or the stored new keys when Vault already switched), and the next
run either finishes the rekey or stops with a precise instruction. Each fault point is proven twice where
it matters: resuming directly, and after sealing Vault and unsealing it with the keys on disk.
"""
from __future__ import annotations

import json
import os
import re
import stat

import pytest

pytestmark = pytest.mark.slow

API = "/v1/sys/rotate/root"

# (id, request method, path, nth matching request, action, initial shares, initial threshold, Vault switched?)
FAULTS = [
    ("init-killed-before-send", "POST", API + "/init", 1, "kill-before", 1, 1, False),
    ("init-killed-answer-lost", "POST", API + "/init", 1, "kill-after", 1, 1, False),
    ("killed-after-init", "POST", API + "/update", 1, "kill-before", 1, 1, False),
    ("killed-after-partial-update", "POST", API + "/update", 2, "kill-before", 3, 2, False),
    ("connection-cut-during-partial-update", "POST", API + "/update", 1, "drop-after", 3, 2, False),
    ("connection-cut-during-final-update", "POST", API + "/update", 1, "drop-after", 1, 1, False),
    ("killed-after-completion-keys-unsaved", "POST", API + "/update", 1, "kill-after", 1, 1, False),
    ("killed-after-completion-before-verification", "POST", API + "/verify", 1, "kill-before", 1, 1, False),
    ("connection-cut-during-final-verify", "POST", API + "/verify", 2, "drop-after", 1, 1, True),
    ("killed-after-final-verify", "POST", API + "/verify", 2, "kill-after", 1, 1, True),
]
SEAL_FIRST = {"killed-after-init", "killed-after-partial-update", "killed-after-completion-before-verification",
              "connection-cut-during-final-verify"}
CASES = [pytest.param(f, "resume", id=f[0] + "-then-resume") for f in FAULTS] + \
        [pytest.param(f, "seal-first", id=f[0] + "-then-seal-and-unseal") for f in FAULTS if f[0] in SEAL_FIRST]


def result_of(run):
    match = re.search(r'"msg": "RESULT (\{.*\})"', run.stdout)
    if not match:
        return {}
    return json.loads(match.group(1).encode().decode("unicode_escape"))


@pytest.mark.parametrize("fault,then", CASES)
def test_fault_point(openbao_factory, fault_proxy, killable, tmp_path, fault, then):
    name, method, path, nth, action, shares0, threshold0, switched = fault
    server = openbao_factory(shares=shares0, threshold=threshold0)
    old_keys = server.init_keys[:threshold0]
    key_src = tmp_path / "vault-unseal-key"
    key_src.write_text("\n".join(old_keys) + "\n")
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    keys_file = keys_dir / "vault-unseal-keys.json"
    proxy = fault_proxy(server.url)
    proxy.add_rule(method, path, nth, action)
    env_vars = {"vault_url": proxy.url, "vault_ca_cert": server.tls["ca"], "unseal_keys_src": str(key_src),
                "keys_file": str(keys_file), "shares": 5, "threshold": 2, "vault_timeout": 30}
    os.environ["VAULT_TOKEN"] = server.root_token
    try:
        faulted = killable("rekey_module.yml", env_vars, proxy=proxy)
        assert proxy.fired == [(method, path, action)], proxy.seen
        assert faulted.rc != 0, faulted.output
        if action == "drop-after":
            # the module itself stopped, with an instruction, after the lost answer
            assert "run the module again" in faulted.stdout.lower() or "run again" in faulted.stdout.lower(), \
                faulted.stdout

        # Invariants right after the fault.
        assert key_src.read_text().split() == old_keys  # the old key file is in place
        status = server.seal_status()
        pending = keys_dir / "vault-unseal-keys.json.pending"
        if switched:
            assert (status["n"], status["t"]) == (5, 2)
            live = json.loads(pending.read_text())["keys_base64"]  # the new live keys are on disk
            assert stat.S_IMODE(pending.stat().st_mode) == 0o600
        else:
            assert (status["n"], status["t"]) == (shares0, threshold0)  # still on the old keys
            live = old_keys
        assert not keys_file.exists()

        if then == "seal-first":
            server.seal()
            assert server.unseal(live[:2] if switched else live)["sealed"] is False

        # The next run recovers (directly against Vault: the proxy has done its job).
        env_vars["vault_url"] = server.url
        recovered = killable("rekey_module.yml", env_vars)
        assert recovered.rc == 0, recovered.stdout + recovered.stderr
        outcome = result_of(recovered)
        assert outcome.get("changed") is True, recovered.stdout
        status = server.seal_status()
        assert (status["n"], status["t"], status["sealed"]) == (5, 2, False)
        assert server.rekey_status()["started"] is False
        doc = json.loads(keys_file.read_text())
        assert doc["verified"] is True and len(doc["keys_base64"]) == 5
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        assert not pending.exists() and not (keys_dir / "vault-unseal-keys.json.state").exists()
        if switched and then == "resume":
            assert doc["keys_base64"] == live  # the keys Vault switched to are the ones kept
        # The stored keys are the live ones.
        server.seal()
        assert server.unseal(doc["keys_base64"][1:3])["sealed"] is False
        # And a third run changes nothing.
        again = killable("rekey_module.yml", env_vars)
        assert again.rc == 0 and again.host()["changed"] == 0, again.stdout
    finally:
        os.environ.pop("VAULT_TOKEN", None)
