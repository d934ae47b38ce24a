"""The post_rekey_backup role with a backup command that cannot run (misspelt, not executable, a directory), against
a real OpenBao that was just rekeyed, so that every proof the role collects is there and nothing but the check of
the command stands between the run and the removal of the unseal key (harness.py).

Before the fix the role removed the key and then failed to run the command ("Error executing command."), leaving
the host with neither its key nor a backup. Now it refuses first: the key file is still there, byte for byte, and
the command never ran. The same variables with a command that runs do remove the key (the last test), which shows
that the proofs were indeed complete.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.integration.bad_input.harness import Case, assert_refused, run_batch
from tests.integration.bad_input.test_bad_post_rekey_backup import COMMAND_CASES, COMMON, prepare

CASES = COMMAND_CASES
#: The same variables with a command that runs.
CONTROL = Case("command_that_runs", {}, "")


@pytest.fixture(scope="module")
def rekeyed(openbao_servers, tmp_path_factory):
    """An OpenBao rekeyed from 1 share to 5 shares, threshold 2, by vault_rekey, the keys in a file."""
    server = openbao_servers()
    keys = tmp_path_factory.mktemp("keys") / "tfe.vault-keys.json"
    setup = Case("rekey", {"unseal_keys": [server.init_keys[0]], "keys_file": str(keys)}, "")
    common = {"vault_url": server.url, "vault_token": server.root_token, "vault_ca": server.ca_path,
              "case_dir": str(keys.parent)}
    result = run_batch("bad_input/playbooks/vault_rekey.yml", [setup], tmp_path_factory.mktemp("rekey"), common)
    assert result.rc == 0 and not result[setup].failed, result.output[-3000:]
    document = json.loads(keys.read_text())
    assert document["verified"] is True and server.seal_status()["n"] == 5
    return server, keys, document


def run(cases, rekeyed, tmp_path_factory):
    server, keys, document = rekeyed
    root = tmp_path_factory.mktemp("post-rekey-backup-openbao-cases")
    for case in cases:
        (root / case.host).mkdir()
        prepare(root / case.host, case, key=server.init_keys[0])
    common = dict(COMMON, case_dir=str(root) + "/{{ inventory_hostname }}",
                  post_rekey_backup_custody={"url": server.url, "ca_cert": server.ca_path, "keys_file": str(keys)},
                  post_rekey_backup_expected_nonce=document["nonce"], post_rekey_backup_accept_destination=str(keys),
                  post_rekey_backup_vault_token=server.root_token)
    result = run_batch("bad_input/playbooks/post_rekey_backup_role.yml", cases, tmp_path_factory.mktemp("inventory"),
                       common)
    result.root = root
    result.canaries = [server.root_token, server.init_keys[0]] + list(document["keys_base64"]) + list(document["keys"])
    return result


@pytest.fixture(scope="module")
def batch(rekeyed, tmp_path_factory):
    return run(CASES, rekeyed, tmp_path_factory)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_before_the_unseal_key_is_touched(batch, rekeyed, case):
    assert_refused(batch, case, canaries=batch.canaries)
    here = batch.root / case.host
    server = rekeyed[0]
    assert (here / "vault-unseal-key").read_bytes() == (server.init_keys[0] + "\n").encode()
    assert sorted(os.listdir(here)) == ["atlas-backup", "atlas-backup.txt", "keys", "vault-unseal-key"], \
        "%s: the backup ran, or its record was written" % case.id


def test_with_a_command_that_runs_the_same_proofs_let_the_key_go(rekeyed, tmp_path_factory):
    result = run([CONTROL], rekeyed, tmp_path_factory)
    host = result[CONTROL]
    assert result.rc == 0 and not host.failed, result.output[-3000:]
    here = result.root / CONTROL.host
    assert not (here / "vault-unseal-key").exists() and (here / "backup-ran").exists()
    assert json.loads((here / "marker" / "post-rekey-backup.json").read_text())["nonce"] == rekeyed[2]["nonce"]
    for canary in result.canaries:
        assert canary not in result.output
