"""The post_rekey_backup role on a PTFE instance stand-in (after prepare, check, converge, idempotence)."""
from __future__ import annotations

import json


def _records(host):
    listing = host.run("ls -1 /var/lib/atlas-backup/ 2>/dev/null")
    return [name for name in listing.stdout.split() if name.startswith("backup-")]


def test_refused_without_evidence_and_kept_the_key(host):
    data = json.loads(host.file("/root/post-rekey-refusals.json").content_string)
    cases = {r["case"]: r["msg"] for r in data["refusals"]}
    assert set(cases) == {"no-keys-file", "not-durable"}
    assert "Refusing to remove /data/vault-unseal-key" in cases["no-keys-file"]
    assert "there is no keys document at" in cases["no-keys-file"]
    assert "which does not outlive this machine" in cases["not-durable"]
    assert "accept_destination" in cases["not-durable"]
    assert data["key_present_after"] is True  # the key file was kept
    assert data["backup_records_after"] == 0  # and no backup ran


def test_unseal_key_removed(host):
    assert not host.file("/data/vault-unseal-key").exists


def test_backup_ran_exactly_once_after_the_key_was_gone(host):
    records = _records(host)
    assert len(records) == 1  # not in check mode, not in the idempotence run
    record = json.loads(host.file("/var/lib/atlas-backup/" + records[0]).content_string)
    assert record["vault_unseal_key_present"] is False


def test_backup_recorded_for_this_rekey(host):
    marker = host.file("/var/lib/ptfe-ops/post-rekey-backup.json")
    assert marker.exists and marker.mode == 0o600 and marker.user == "root"
    data = json.loads(marker.content_string)
    refusals = json.loads(host.file("/root/post-rekey-refusals.json").content_string)
    assert data["nonce"] == refusals["rekey_nonce"] and len(data["nonce"]) > 8
    assert len(data["cluster_id"]) > 8
    assert "backup complete" in data["output"]
    assert int(data["rc"]) == 0
