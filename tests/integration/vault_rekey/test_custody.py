"""Custody of the keys, bound to its cluster, through ansible-playbook against real OpenBao servers and moto.

Two OpenBao servers stand for two PTFE hosts in one inventory. Every assertion reads the servers back with
``requests`` (tests/emulators/openbao.py) or S3 with boto3, never through the collection's code.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.vault_rekey.conftest import S3_SECRET_KEY

pytestmark = pytest.mark.slow
REKEY = "vault_rekey/playbooks/rekey_role.yml"
REKEY_AND_BACKUP = "vault_rekey/playbooks/rekey_and_backup.yml"


def inventory(tmp_path, servers, **common):
    """An inventory of one host per server (local connection), each with its own Vault URL, token and key file."""
    hosts = {}
    for index, server in enumerate(servers):
        name = "ptfe%d" % (index + 1)
        data = tmp_path / name
        data.mkdir(exist_ok=True)
        key = data / "vault-unseal-key"
        if not key.exists():
            key.write_text(server.init_keys[0] + "\n")
        hosts[name] = {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "vault_rekey_url": server.url, "vault_rekey_ca_cert": server.tls["ca"],
            "vault_rekey_token": server.root_token, "vault_rekey_unseal_key_path": str(key),
            "post_rekey_backup_unseal_key_path": str(key),
            "post_rekey_backup_marker_path": str(data / "marker" / "post-rekey-backup.json"),
        }
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": hosts, "vars": common}}))
    return str(path), {name: hosts[name]["vault_rekey_unseal_key_path"] for name in hosts}


def unseals_with(server, keys):
    """Seal the server and unseal it with ``keys``; True when it ends unsealed."""
    server.seal()
    status = server.unseal(keys)
    return status is not None and status["sealed"] is False


def backup_command(tmp_path):
    records = tmp_path / "backups"
    records.mkdir(exist_ok=True)
    script = tmp_path / "atlas-backup"
    script.write_text("#!/bin/sh\nset -eu\nf=%s/backup-$(date +%%s%%N)-$$\ntouch \"$f\"\necho \"backup complete\"\n"
                      % records)
    script.chmod(0o755)
    return str(script), records


def test_two_hosts_sharing_one_keys_file_are_refused_before_any_rekey(openbao_factory, tmp_path):
    servers = [openbao_factory(), openbao_factory()]
    (tmp_path / "keys").mkdir()
    shared = str(tmp_path / "keys" / "vault-keys.json")
    inv = inventory(tmp_path, servers, vault_rekey_keys_file=shared)[0]

    result = run_playbook(REKEY, inventory=inv)
    assert result.rc != 0
    assert "localhost:%s is the keys destination of ptfe1, ptfe2" % shared in result.stdout, result.stdout[-3000:]
    assert result.changed == 0
    assert os.listdir(tmp_path / "keys") == []
    for server in servers:
        assert server.seal_status()["n"] == 1 and server.rekey_status()["started"] is False
        assert unseals_with(server, server.init_keys)


def test_a_keys_file_of_another_cluster_is_refused_and_both_clusters_keep_their_keys(openbao_factory, tmp_path):
    """The same path given to two hosts in two separate runs (serial, another playbook): the file-level check."""
    first, second = openbao_factory(), openbao_factory()
    (tmp_path / "keys").mkdir()
    shared = tmp_path / "keys" / "vault-keys.json"
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    inv_a = inventory(tmp_path / "a", [first], vault_rekey_keys_file=str(shared))[0]
    inv_b = inventory(tmp_path / "b", [second], vault_rekey_keys_file=str(shared))[0]

    one = run_playbook(REKEY, inventory=inv_a)
    assert one.rc == 0, one.output
    first_keys = json.loads(shared.read_text())
    assert first_keys["cluster_id"] == first.seal_status()["cluster_id"]

    two = run_playbook(REKEY, inventory=inv_b)
    assert two.rc != 0
    assert "Refusing to rekey Vault at %s" % second.url in two.stdout, two.stdout[-3000:]
    assert "holds the keys of cluster %s" % first_keys["cluster_id"] in two.stdout
    assert second.seal_status()["n"] == 1 and second.rekey_status()["started"] is False
    assert json.loads(shared.read_text()) == first_keys
    assert unseals_with(first, first_keys["keys_base64"][:2])
    assert unseals_with(second, second.init_keys)


def test_per_host_keys_files_rekey_in_parallel_and_each_unseals_its_own_vault(openbao_factory, tmp_path):
    servers = [openbao_factory(), openbao_factory()]
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    inv, key_files = inventory(tmp_path, servers, vault_rekey_keys_dir=str(keys_dir))
    backup, records = backup_command(tmp_path)
    evars = {"post_rekey_backup_key_shares": 5, "post_rekey_backup_command": backup,
             # A file does not outlive the controller: the operator names it to accept it.
             "post_rekey_backup_accept_destination": "{{ vault_rekey_result.keys_destination }}"}

    result = run_playbook(REKEY_AND_BACKUP, inventory=inv, extra_vars=evars, env={"ANSIBLE_FORKS": "2"})
    assert result.rc == 0, result.output
    docs = {}
    for index, server in enumerate(servers):
        name = "ptfe%d" % (index + 1)
        doc = json.loads((keys_dir / (name + ".vault-keys.json")).read_text())
        docs[name] = doc
        assert doc["cluster_id"] == server.seal_status()["cluster_id"] and doc["url"] == server.url
        assert server.seal_status()["n"] == 5 and server.seal_status()["t"] == 2
        # The pre-rekey key is archived next to the keys, then removed from the host.
        previous = json.loads((keys_dir / ("%s.vault-keys.json.pre-%s" % (name, doc["nonce"]))).read_text())
        assert previous["keys"] == [server.init_keys[0]]
        assert stat.S_IMODE(os.stat(keys_dir / ("%s.vault-keys.json.pre-%s" % (name, doc["nonce"]))).st_mode) == 0o600
        assert not os.path.exists(key_files[name])
        assert unseals_with(server, doc["keys_base64"][:2])
        assert not unseals_with(server, doc["keys_base64"][:1])
    assert docs["ptfe1"]["cluster_id"] != docs["ptfe2"]["cluster_id"]
    assert len(list(records.iterdir())) == 2
    assert_no_secret(result, *(s.root_token for s in servers), *(s.init_keys[0] for s in servers),
                     *docs["ptfe1"]["keys_base64"], *docs["ptfe2"]["keys_base64"])

    again = run_playbook(REKEY_AND_BACKUP, inventory=inv, extra_vars=evars)
    assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]


def refusal_setup(openbao_factory, tmp_path):
    server = openbao_factory()
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    inv, key_files = inventory(tmp_path, [server], vault_rekey_keys_dir=str(keys_dir))
    backup, records = backup_command(tmp_path)
    evars = {"post_rekey_backup_key_shares": 5, "post_rekey_backup_command": backup,
             "post_rekey_backup_accept_destination": "{{ vault_rekey_result.keys_destination }}"}
    return server, keys_dir / "ptfe1.vault-keys.json", inv, key_files["ptfe1"], evars, records


def test_backup_refuses_a_keys_file_of_another_cluster(openbao_factory, tmp_path):
    server, keys_file, inv, unseal_key, evars, records = refusal_setup(openbao_factory, tmp_path)
    other = openbao_factory()
    # Rekey the other cluster into this host's keys file (a stale file from another installation).
    (tmp_path / "other").mkdir()
    other_inv = inventory(tmp_path / "other", [other], vault_rekey_keys_file=str(keys_file))[0]
    assert run_playbook(REKEY, inventory=other_inv).rc == 0
    stale = json.loads(keys_file.read_text())
    custody = {"url": server.url, "ca_cert": server.tls["ca"], "keys_file": str(keys_file)}
    result = run_playbook(REKEY_AND_BACKUP, inventory=inv,
                          extra_vars=dict(evars, backup_only=True, post_rekey_backup_custody=custody,
                                          post_rekey_backup_expected_nonce=stale["nonce"],
                                          post_rekey_backup_accept_destination=str(keys_file)))
    assert result.rc != 0
    assert "belongs to cluster %s, but the Vault at %s is cluster %s" % (
        stale["cluster_id"], server.url, server.seal_status()["cluster_id"]) in result.stdout, result.stdout[-3000:]
    assert os.path.exists(unseal_key) and list(records.iterdir()) == []


def test_backup_refuses_a_pending_pgp_verification(openbao_factory, tmp_path):
    from tests.integration.vault_rekey.test_vault_rekey_pgp import make_pgp_keys

    server, keys_file, inv, unseal_key, evars, records = refusal_setup(openbao_factory, tmp_path)
    (tmp_path / "pgp").mkdir()
    gpg_env, pgp_keys = make_pgp_keys(tmp_path / "pgp", 2)
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=gpg_env, check=False, timeout=30)
    result = run_playbook(REKEY_AND_BACKUP, inventory=inv,
                          extra_vars=dict(evars, vault_rekey_pgp_keys=pgp_keys, vault_rekey_backup=True,
                                          vault_rekey_key_shares=2, post_rekey_backup_key_shares=2))
    assert result.rc != 0
    assert "new keys are waiting for verification" in result.stdout, result.stdout[-3000:]
    assert server.rekey_status()["started"] is True
    assert os.path.exists(unseal_key) and list(records.iterdir()) == []


def test_backup_refuses_a_seal_shape_that_does_not_match(openbao_factory, tmp_path):
    server, keys_file, inv, unseal_key, evars, records = refusal_setup(openbao_factory, tmp_path)
    assert run_playbook(REKEY, inventory=inv).rc == 0
    doc = json.loads(keys_file.read_text())
    # Someone rekeys the Vault to 3/2 behind our back; the keys document still says 5/2.
    api = server.rekey_api()
    init = server.api("POST", api + "/init", {"secret_shares": 3, "secret_threshold": 2})
    out = {}
    for key in doc["keys_base64"][:2]:
        out = server.api("POST", api + "/update", {"key": key, "nonce": init["nonce"]})
    assert out.get("complete") and server.seal_status()["n"] == 3
    custody = {"url": server.url, "ca_cert": server.tls["ca"], "keys_file": str(keys_file)}
    result = run_playbook(REKEY_AND_BACKUP, inventory=inv,
                          extra_vars=dict(evars, backup_only=True, post_rekey_backup_custody=custody,
                                          post_rekey_backup_expected_nonce=doc["nonce"],
                                          post_rekey_backup_accept_destination=str(keys_file)))
    assert result.rc != 0
    assert "the live seal has 3 shares and threshold 2, the keys document 5 and 2" in result.stdout, \
        result.stdout[-3000:]
    assert os.path.exists(unseal_key) and list(records.iterdir()) == []


def test_s3_custody_outlives_the_controller_and_the_archived_key_unseals_an_old_snapshot(openbao_factory, tmp_path,
                                                                                         moto_s3):
    server = openbao_factory()
    s3 = moto_s3.client("s3")
    bucket = "ptfe-custody-" + tmp_path.name[-12:].lower().replace("_", "-")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    kms_key = moto_s3.client("kms").create_key(Description="vault keys")["KeyMetadata"]["Arn"]

    # A snapshot of Vault's storage before the rekey (what atlas-backup would have taken earlier).
    server.stop()
    snapshot = tmp_path / "raft-before-rekey"
    shutil.copytree(server.dir / "raft", snapshot)
    server.start()
    server.unseal(server.init_keys)

    # The controller: everything it has lives in one directory that is thrown away after the job.
    controller = tmp_path / "controller"
    controller.mkdir()
    inv, key_files = inventory(controller, [server], vault_rekey_custody="s3", vault_rekey_s3_bucket=bucket,
                               vault_rekey_s3_kms_key_id=kms_key, vault_rekey_s3_endpoint_url=moto_s3.url,
                               vault_rekey_s3_ca_bundle=moto_s3.ca)
    backup, records = backup_command(controller)
    evars = {"post_rekey_backup_key_shares": 5, "post_rekey_backup_command": backup}

    # Versioning off: refused before any rekey.
    refused = run_playbook(REKEY, inventory=inv, env=moto_s3.env)
    assert refused.rc != 0 and "does not have versioning enabled" in refused.stdout, refused.stdout[-3000:]
    assert server.seal_status()["n"] == 1 and server.rekey_status()["started"] is False

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    result = run_playbook(REKEY_AND_BACKUP, inventory=inv, extra_vars=evars, env=moto_s3.env, verbosity=3)
    assert result.rc == 0, result.output
    assert not os.path.exists(key_files["ptfe1"]) and len(list(records.iterdir())) == 1
    assert_no_secret(result, server.root_token, server.init_keys[0], S3_SECRET_KEY)
    shutil.rmtree(controller)  # the AWX job ends

    obj = "ptfe-ops/vault-keys/ptfe1.json"
    head = s3.head_object(Bucket=bucket, Key=obj)
    assert head["ServerSideEncryption"] == "aws:kms"
    doc = json.loads(s3.get_object(Bucket=bucket, Key=obj)["Body"].read())
    assert_no_secret(result, *doc["keys_base64"])
    assert doc["cluster_id"] == server.seal_status()["cluster_id"] and doc["verified"] is True
    assert unseals_with(server, doc["keys_base64"][:2])
    previous = json.loads(s3.get_object(Bucket=bucket, Key="%s.pre-%s" % (obj, doc["nonce"]))["Body"].read())
    assert previous["keys"] == [server.init_keys[0]]
    names = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert names == {obj, "%s.pre-%s" % (obj, doc["nonce"])}, names  # state and pending cleaned up

    # Restore the pre-rekey snapshot: only the archived old key unseals it.
    server.stop()
    shutil.rmtree(server.dir / "raft")
    shutil.copytree(snapshot, server.dir / "raft")
    server.start()
    assert server.seal_status()["sealed"] is True and server.seal_status()["n"] == 1
    status = server.unseal(previous["keys"])
    assert status["sealed"] is False
