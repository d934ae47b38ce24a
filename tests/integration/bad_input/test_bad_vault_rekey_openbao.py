"""vault_rekey against real OpenBao servers, given the inputs that only a real Vault can tell are wrong, or whose
old outcome was a lost or stuck rekey (harness.py):

* a state file that is the keys file (or its pending copy): refused before any request; the old code rekeyed, then
  removed the new keys with the state;
* a malformed unseal key, or one of the wrong length for the seal: refused before a rekey starts;
* a well-formed but wrong unseal key (or key share): Vault refuses it, and the module cancels the rekey it started,
  with its nonce, and says so; the old code left the rekey in progress with Vault's garbled message;
* a token or a key with a trailing newline: refused by name, never printed.

After the run, every server is read back directly over its HTTP API (never through the collection): no rekey in
progress, the seal's shares and threshold as before, and the original keys still unseal it.

Each server takes the cases that cannot disturb each other: a case that starts (and cancels) a rekey has a server
of its own, because a rekey in progress is what every other run on that server would see as a foreign one.
"""
from __future__ import annotations

import base64
import os

import pytest

from tests.integration.bad_input.harness import Case, assert_refused, run_batch

WRONG_KEY = base64.b64encode(b"canary-wrong-unseal-key-00000001").decode()  # 32 bytes, like a 1-of-1 key
WRONG_SHARE = base64.b64encode(b"canary-wrong-unseal-key-share-001").decode()  # 33 bytes, like a share
GARBAGE_KEY = "canary-openbao-garbage-key!"


def on(server, **values):
    """The case's connection to ``server`` (b or c; a is every table default), with its variables."""
    values.update(url="{{ bao_%s_url }}" % server, token="{{ bao_%s_token }}" % server,
                  ca_cert="{{ bao_%s_ca }}" % server)
    return values


CASES = [
    # server a (1 share, threshold 1): refused before any request, or before a rekey starts
    Case("state_file_is_keys_file", {"state_file": "{{ case_dir }}/keys.json"},
         "keys_file and state_file must name different files"),
    Case("state_file_is_pending", {"state_file": "{{ case_dir }}/keys.json.pending"},
         "must not be one of the files kept beside keys_file"),
    Case("unseal_key_garbage", {"unseal_keys": [GARBAGE_KEY]},
         "unseal_keys entry 1 must be an unseal key in hex or base64, as Vault prints it"),
    Case("unseal_key_newline", {"unseal_keys": ["{{ bao_a_key }}\n"]},
         "unseal_keys entry 1 must not contain white space or a control character"),
    Case("unseal_key_share_for_a_whole_key", {"unseal_keys": [WRONG_SHARE]},
         "unseal_keys entry 1 is 33 bytes long, but with threshold 1 its unseal key is the whole key, 16, 24 or 32 "
         "bytes long, so it is not a current unseal key of this Vault. No rekey was started"),
    Case("token_newline", {"token": "{{ bao_a_token }}\n"}, "token must not contain a newline"),
    # server b (1 share, threshold 1): a well-formed key of another Vault
    Case("unseal_key_wrong", on("b", unseal_keys=[WRONG_KEY]),
         "the unseal key was refused by Vault (failed to read root key: failed to decrypt keys from storage: "
         "cipher: message authentication failed); the rekey this run started (nonce "),
    # server c (3 shares, threshold 2): one right share and one wrong
    Case("unseal_share_wrong", on("c", unseal_keys=["{{ bao_c_key }}", WRONG_SHARE]),
         "the unseal key was refused by Vault ("),
]
#: The server each case runs against.
SERVER = {case.id: case.vars.get("url", "{{ bao_a_url }}")[len("{{ bao_"):][0] for case in CASES}
#: Cases that start a rekey, which their server refuses, and cancel it.
CANCELLED = ("unseal_key_wrong", "unseal_share_wrong")
#: Cases that get as far as reading Vault's state, under the keys file's lock (an empty file, which stays).
LOCKED = CANCELLED + ("unseal_key_share_for_a_whole_key",)


def read_back(server):
    """The seal and the rekey in progress, over the server's HTTP API with its root token."""
    seal = server.seal_status()
    status = server.rekey_status()
    return {"shape": (seal["n"], seal["t"]), "sealed": seal["sealed"], "started": status.get("started"),
            "nonce": status.get("nonce") or ""}


@pytest.fixture(scope="module")
def servers(openbao_servers):
    return {"a": openbao_servers(), "b": openbao_servers(), "c": openbao_servers(3, 2)}


@pytest.fixture(scope="module")
def batch(servers, tmp_path_factory):
    root = tmp_path_factory.mktemp("vault-rekey-openbao-cases")
    for case in CASES:
        (root / case.host).mkdir()
    common = {"vault_url": servers["a"].url, "vault_token": servers["a"].root_token,
              "vault_ca": servers["a"].ca_path, "default_unseal_keys": [servers["a"].init_keys[0]],
              "case_dir": str(root) + "/{{ inventory_hostname }}"}
    for name, server in servers.items():
        common.update({"bao_%s_url" % name: server.url, "bao_%s_token" % name: server.root_token,
                       "bao_%s_ca" % name: server.ca_path, "bao_%s_key" % name: server.init_keys[0]})
    before = {name: read_back(server) for name, server in servers.items()}
    result = run_batch("bad_input/playbooks/vault_rekey.yml", CASES, tmp_path_factory.mktemp("inventory"), common)
    result.root = root
    result.before = before
    result.after = {name: read_back(server) for name, server in servers.items()}
    result.canaries = [WRONG_KEY, WRONG_SHARE, GARBAGE_KEY]
    for server in servers.values():
        result.canaries += [server.root_token] + list(server.init_keys)
    return result


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_and_no_rekey_left(batch, case):
    assert_refused(batch, case, canaries=batch.canaries)
    server = SERVER[case.id]
    assert batch.after[server] == batch.before[server] == {
        "shape": batch.before[server]["shape"], "sealed": False, "started": False, "nonce": ""}, \
        "%s: server %s changed: %s" % (case.id, server, batch.after[server])
    left = sorted(os.listdir(batch.root / case.host))
    if case.id in LOCKED:
        # The keys file's lock (empty, held while the module ran) is all that stays: no state, no archive.
        assert left == ["keys.json.lock"] and (batch.root / case.host / "keys.json.lock").stat().st_size == 0
    else:
        assert left == [], "%s: files were written: %s" % (case.id, left)
    if case.id in CANCELLED:
        assert "was cancelled. The current keys stay valid and nothing else was changed" in batch[case].msg
        assert "%!w(" not in batch[case].msg


def test_the_original_keys_still_unseal_every_server(batch, servers):
    for name, server in servers.items():
        shares, threshold = batch.before[name]["shape"]
        server.seal()
        status = server.unseal(server.init_keys[:threshold])
        assert status["sealed"] is False, "server %s: its original keys no longer unseal it" % name
        assert (status["n"], status["t"]) == (shares, threshold)
