"""vault_rekey end to end through ansible-playbook against real OpenBao (raft storage, TLS).

The PTFE case: Vault initialised with 1 share / threshold 1 (the instance's self-managed key in a file),
rekeyed to 5 shares / threshold 2 with verification, then sealed and unsealed with 2 of the NEW keys.
Both API families: Vault's sys/rekey/* (OpenBao listener with disable_unauthed_rekey_endpoints = false)
and OpenBao's default sys/rotate/root/*.
"""
from __future__ import annotations

import json
import os
import stat

import pytest

from tests.integration.conftest import assert_no_secret, run_playbook

pytestmark = pytest.mark.slow
PLAYBOOK = "vault_rekey/playbooks/rekey_role.yml"


def role_vars(server, tmp_path, **extra):
    key_file = tmp_path / "vault-unseal-key"
    if not key_file.exists():
        key_file.write_text(server.init_keys[0] + "\n")
    (tmp_path / "keys").mkdir(exist_ok=True)
    values = {
        "vault_rekey_url": server.url,
        "vault_rekey_ca_cert": server.tls["ca"],
        "vault_rekey_unseal_key_path": str(key_file),
        "vault_rekey_keys_file": str(tmp_path / "keys" / "vault-unseal-keys.json"),
        "vault_rekey_key_shares": 5,
        "vault_rekey_key_threshold": 2,
    }
    values.update(extra)
    return values


def load_keys(path):
    return json.loads(open(path).read())


@pytest.mark.parametrize("unauthed", [True, False], ids=["sys-rekey", "sys-rotate-root"])
def test_rekey_1_1_to_5_2_verified_then_unseal_with_new_keys(openbao_factory, tmp_path, unauthed):
    server = openbao_factory(unauthed_rekey=unauthed)
    evars = role_vars(server, tmp_path)
    # The token comes from VAULT_TOKEN (extra vars are printed at -vvvv). Vault's sys/rekey/* needs none.
    env = {} if unauthed else {"VAULT_TOKEN": server.root_token}
    keys_file = evars["vault_rekey_keys_file"]
    old_key = server.init_keys[0]

    # Check mode: reports a rekey would start, starts nothing (read back directly).
    result = run_playbook(PLAYBOOK, evars, check=True, env=env)
    assert result.rc == 0, result.output
    assert result.host()["changed"] == 1
    assert server.rekey_status()["started"] is False
    assert (server.seal_status()["n"], server.seal_status()["t"]) == (1, 1)
    assert not os.path.exists(keys_file)

    # The real run, at -vvvv, with the secret canaries.
    result = run_playbook(PLAYBOOK, evars, verbosity=4, env=env)
    (tmp_path / "vvvv.log").write_text(result.output)
    assert result.rc == 0, result.output
    assert result.host()["changed"] == 1
    expected_api = "sys/rekey" if unauthed else "sys/rotate/root"
    assert expected_api in result.stdout
    status = server.seal_status()
    assert (status["n"], status["t"], status["sealed"]) == (5, 2, False)
    assert server.rekey_status()["started"] is False
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    doc = load_keys(keys_file)
    assert doc["verified"] is True and doc["key_shares"] == 5 and doc["key_threshold"] == 2
    assert len(doc["keys_base64"]) == 5 and len(doc["keys"]) == 5
    assert not os.path.exists(keys_file + ".pending") and not os.path.exists(keys_file + ".state")
    assert_no_secret(result, old_key, server.root_token, *doc["keys_base64"],
                     *doc["keys"])
    # the self-managed key file is never touched by the rekey role
    assert open(evars["vault_rekey_unseal_key_path"]).read().strip() == old_key

    # The new keys are the real keys: seal, then unseal with 2 of them.
    server.seal()
    after = server.unseal(doc["keys_base64"][3:5])
    assert after["sealed"] is False
    # and the old key no longer unseals
    server.seal()
    resp = server.api("POST", "sys/unseal", {"key": old_key}, token=False, ok=(200, 400))
    assert resp.get("sealed", True) is True  # threshold is 2 now: one old share cannot unseal
    server.api("POST", "sys/unseal", {"reset": True}, token=False)
    server.unseal(doc["keys_base64"][0:2])

    # Second run: nothing to do (the old key is still given, and ignored).
    result = run_playbook(PLAYBOOK, evars, env=env)
    assert result.rc == 0, result.output
    assert result.host()["changed"] == 0, result.stdout
    assert load_keys(keys_file) == doc
    # and check mode agrees
    result = run_playbook(PLAYBOOK, evars, check=True, env=env)
    assert result.rc == 0 and result.host()["changed"] == 0, result.output
    assert server.rekey_status()["started"] is False


def test_foreign_rekey_is_never_joined_and_cancelled_only_when_told(openbao_factory, tmp_path):
    server = openbao_factory()
    evars = role_vars(server, tmp_path)
    env = {"VAULT_TOKEN": server.root_token}
    body = {"secret_shares": 3, "secret_threshold": 2, "require_verification": False}
    foreign = server.api("POST", "sys/rotate/root/init", body)
    nonce = foreign["nonce"]

    result = run_playbook(PLAYBOOK, evars, env=env)
    assert result.rc != 0
    assert "did not start is in progress" in result.stdout and nonce in result.stdout, result.stdout
    assert "cancel_foreign" in result.stdout
    status = server.rekey_status()
    assert status["started"] is True and status["nonce"] == nonce and status["progress"] == 0  # not joined
    assert not os.path.exists(evars["vault_rekey_keys_file"] + ".state")

    # check mode with cancel_foreign: reports, cancels nothing
    evars["vault_rekey_cancel_foreign"] = True
    result = run_playbook(PLAYBOOK, evars, env=env, check=True)
    assert result.rc == 0 and result.host()["changed"] == 1, result.output
    assert server.rekey_status()["nonce"] == nonce

    result = run_playbook(PLAYBOOK, evars, env=env)
    assert result.rc == 0, result.output
    assert "Cancelled a foreign rekey (nonce %s" % nonce in result.stdout
    status = server.seal_status()
    assert (status["n"], status["t"]) == (5, 2)
    doc = load_keys(evars["vault_rekey_keys_file"])
    assert doc["nonce"] != nonce and doc["verified"] is True


BAD_INPUT = [
    ({"key_shares": 3, "key_threshold": 4}, "key_threshold (4) must not be greater than key_shares (3)"),
    ({"key_shares": 256, "key_threshold": 2}, "key_shares must be between 1 and 255"),
    ({"key_shares": 5, "key_threshold": 1}, "key_threshold must be greater than 1 when key_shares is greater"),
    ({"key_shares": 3, "key_threshold": 2, "pgp_keys": ["a", "b"]}, "pgp_keys must hold exactly key_shares (3)"),
    ({"key_shares": 3, "key_threshold": 2, "require_verification": False},
     "require_verification=false is only accepted with pgp_keys and backup=true"),
]


def test_plain_http_vault_url_is_refused_before_any_request(tmp_path):
    """An http:// URL would carry the current key share in clear text: refused without allow_insecure_http."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    try:
        key_src = tmp_path / "old-key"
        key_src.write_text("canary-http-old-key-%s\n" % tmp_path.name)
        url = "http://127.0.0.1:%d" % listener.getsockname()[1]
        result = run_playbook("vault_rekey/playbooks/rekey_module.yml", {
            "vault_url": url, "keys_file": str(tmp_path / "keys.json"), "unseal_keys_src": str(key_src),
            "shares": 5, "threshold": 2})
        assert result.rc != 0
        assert ("url must be a URL such as https://host[:port] (allowed schemes: https); plain http sends every "
                "secret in clear text and needs its allow_insecure_http option, got '%s'" % url) in result.stdout, \
            result.stdout[-2000:]
        with pytest.raises(socket.timeout):
            listener.accept()  # nothing ever connected
        assert_no_secret(result, key_src.read_text().strip())
        assert list(tmp_path.iterdir()) == [key_src]
    finally:
        listener.close()


BAD_INPUT_IDS = ["threshold-above-shares", "shares-above-255", "threshold-1-of-several", "pgp-count",
                 "unverified-without-backup"]


@pytest.mark.parametrize("args,message", BAD_INPUT, ids=BAD_INPUT_IDS)
def test_bad_input_fails_before_any_call(fault_proxy, tmp_path, args, message):
    proxy = fault_proxy("https://127.0.0.1:9")  # records every request; none may arrive
    key_src = tmp_path / "old-key"
    key_src.write_text("canary-old-key-%s\n" % tmp_path.name)
    evars = {"vault_url": proxy.url, "keys_file": str(tmp_path / "keys.json"), "unseal_keys_src": str(key_src),
             "shares": args["key_shares"], "threshold": args["key_threshold"]}
    for opt in ("pgp_keys", "require_verification"):
        if opt in args:
            evars[opt] = args[opt]
    result = run_playbook("vault_rekey/playbooks/rekey_module.yml", evars)
    assert result.rc != 0
    assert message in result.stdout, result.stdout
    assert proxy.seen == []
    assert not (tmp_path / "keys.json.state").exists()
    assert_no_secret(result, key_src.read_text().strip())


def test_rekey_then_post_rekey_backup_at_vvvv(openbao_factory, tmp_path):
    """The whole PTFE procedure on one controller: vault_rekey role, then post_rekey_backup (refused before)."""
    server = openbao_factory()
    evars = role_vars(server, tmp_path)
    env = {"VAULT_TOKEN": server.root_token}
    backup = tmp_path / "atlas-backup"
    records = tmp_path / "backups"
    records.mkdir()
    backup.write_text("#!/bin/sh\nset -eu\nf=%s/backup-$(date +%%s%%N)\ntouch \"$f\"\necho \"backup complete $f\"\n"
                      % records)
    backup.chmod(0o755)
    evars.update(post_rekey_backup_accept_destination=evars["vault_rekey_keys_file"], post_rekey_backup_key_shares=5,
                 post_rekey_backup_unseal_key_path=evars["vault_rekey_unseal_key_path"],
                 post_rekey_backup_command=str(backup),
                 post_rekey_backup_marker_path=str(tmp_path / "marker" / "post-rekey-backup.json"))
    old_key = server.init_keys[0]

    custody = {"url": server.url, "ca_cert": server.tls["ca"], "keys_file": evars["vault_rekey_keys_file"]}
    refused = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml",
                           dict(evars, backup_only=True, post_rekey_backup_custody=custody), env=env)
    assert refused.rc != 0 and "Refusing to remove" in refused.stdout, refused.stdout
    assert "there is no keys document at %s" % evars["vault_rekey_keys_file"] in refused.stdout
    assert os.path.exists(evars["vault_rekey_unseal_key_path"]) and list(records.iterdir()) == []

    result = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", evars, env=env, verbosity=4)
    assert result.rc == 0, result.output
    assert "backup complete" in result.stdout
    assert not os.path.exists(evars["vault_rekey_unseal_key_path"])
    assert len(list(records.iterdir())) == 1
    doc = load_keys(evars["vault_rekey_keys_file"])
    assert_no_secret(result, old_key, server.root_token, *doc["keys_base64"], *doc["keys"])

    again = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", evars, env=env)
    assert again.rc == 0 and again.host()["changed"] == 0, again.stdout
    assert len(list(records.iterdir())) == 1
