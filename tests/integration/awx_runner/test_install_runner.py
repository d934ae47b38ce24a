# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/install.yml run the way AWX runs a job: ansible-runner with a private data directory (env/extravars,
env/envvars, env/passwords, env/cmdline, an inventory), no terminal, the Vault password answered from
env/passwords. A check run, the install, and a reconfiguration run (changed=0); then the private data
directory is deleted, as AWX throws the job's container away, and the admin token and the unseal keys are read
back from where the custody destinations put them, and work. The job artifacts hold no secret."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from tests.integration.awx_runner.standins import ROOT, TOKEN_OBJECT, StandIns, host_image

VAULT_PROMPT = r"^Vault password:\s*?$"


def encrypt(value, password_file):
    """``value`` as ansible-vault encrypts it for a YAML file (the !vault tag)."""
    out = subprocess.run([str(Path(sys.executable).with_name("ansible-vault")), "encrypt_string",
                          "--vault-password-file", str(password_file), "--stdin-name", "initial_admin_password"],
                         input=value, capture_output=True, text=True, check=True).stdout
    assert out.startswith("initial_admin_password: !vault |"), "ansible-vault encrypt_string gave no !vault value"
    return out


def private_data_dir(path, stand, vault_password, cmdline):
    """What AWX writes for a job: env/*, the inventory and the project (the collection's playbooks)."""
    env = path / "env"
    env.mkdir(parents=True, exist_ok=True)
    (path / "inventory").mkdir(exist_ok=True)
    (path / "inventory" / "hosts.json").write_text(json.dumps(stand.inventory))
    if not (path / "project").exists():
        (path / "project").symlink_to(ROOT / "playbooks")
    password_file = path.parent / "vault-password"
    password_file.write_text(vault_password)
    password_file.chmod(0o600)
    # The job template's extra variables; the admin's password is an Ansible Vault value, as in a project.
    (env / "extravars").write_text(encrypt(stand.admin_password, password_file))
    password_file.unlink()
    # What the job's credentials inject into the environment.
    (env / "envvars").write_text(yaml.safe_dump(stand.env))
    # AWX answers the prompts of a Vault credential from here; nobody sits at a terminal.
    (env / "passwords").write_text(yaml.safe_dump({VAULT_PROMPT: vault_password}))
    (env / "cmdline").write_text(cmdline)
    for item in env.iterdir():
        item.chmod(0o600)


def run_job(pdd, ident):
    """``ansible-runner run`` on ``pdd`` with no terminal (no stdin, a new session). Returns (rc, changed per
    host from the job's playbook_on_stats event)."""
    proc = subprocess.run([str(Path(sys.executable).with_name("ansible-runner")), "run", str(pdd), "-p", "install.yml",
                           "--ident", ident], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          start_new_session=True, timeout=1200, check=False,
                          env=dict(os.environ, PATH="%s:%s" % (Path(sys.executable).parent, os.environ["PATH"])))
    artifacts = pdd / "artifacts" / ident
    stats = [json.loads(p.read_text()) for p in (artifacts / "job_events").glob("*.json")]
    stats = [e["event_data"] for e in stats if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert (artifacts / "status").read_text().strip() == "successful", (artifacts / "stdout").read_text()[-8000:]
    return proc.returncode, stats[0]


def artifact_texts(pdd):
    """Every file of every job's artifacts: the job events and stdout AWX keeps and shows, the fact cache, rc,
    status. ``command`` is ansible-runner's record of the command line and of the environment it was given: its
    ``env`` holds what the credentials injected, as AWX's own job_env does (AWX masks it); the rest of it is read."""
    for ident in (pdd / "artifacts").iterdir():
        for path in sorted(p for p in ident.rglob("*") if p.is_file()):
            text = path.read_text(errors="replace")
            if path.relative_to(ident).as_posix() == "command":
                record = json.loads(text)
                assert set(record) <= {"command", "cwd", "env"}, sorted(record)
                text = json.dumps({k: v for k, v in record.items() if k != "env"})
            yield path, text


@pytest.mark.slow
def test_install_through_ansible_runner_keeps_its_secrets_beyond_the_job(tmp_path):
    name = "runner-%s" % uuid.uuid4().hex[:8]
    pdd = tmp_path / "job"
    vault_password = "runnerVaultPassword-%s" % uuid.uuid4().hex[:10]
    stand = StandIns(name, host_image(), pdd / "tmp" / "admin-token")
    try:
        with stand:
            demo, s3 = stand.demo, stand.s3()
            (pdd / "tmp").mkdir(parents=True)

            private_data_dir(pdd, stand, vault_password, "--ask-vault-pass --check")
            rc, stats = run_job(pdd, "check")
            assert rc == 0 and stats["failures"] == {}
            demo.check_wrote_nothing(stand.ptfe, stand.bao, stand.moto, stand.aws_secret)
            assert s3.list_object_versions(Bucket=demo.KEYS_BUCKET).get("Versions", []) == []

            private_data_dir(pdd, stand, vault_password, "--ask-vault-pass")
            rc, stats = run_job(pdd, "install")
            assert rc == 0 and stats["failures"] == {} and sum(stats["changed"].values()) > 0, stats
            stand.ptfe.control("DELETE", "requests")
            rc, stats = run_job(pdd, "reconfigure")
            assert rc == 0 and stats["failures"] == {}, stats
            assert sum(stats["changed"].values()) == 0, stats
            assert [e for e in stand.ptfe.requests_log() if e["method"] not in ("GET", "HEAD")] == []

            token = (pdd / "tmp" / "admin-token").read_text().strip()
            keys = json.loads(s3.get_object(Bucket=demo.KEYS_BUCKET, Key=demo.KEYS_OBJECT)["Body"].read())
            canaries = stand.secrets + [vault_password, token] + keys["keys_base64"] + keys.get("keys", [])
            scanned = 0
            for path, text in artifact_texts(pdd):
                scanned += 1
                for canary in canaries:
                    assert canary not in text, "a secret appears in %s" % path.relative_to(pdd)
            assert scanned > 300

            # AWX throws the job's container away, and the private data directory with it.
            shutil.rmtree(pdd)
            document = json.loads(s3.get_object(Bucket=demo.KEYS_BUCKET, Key=TOKEN_OBJECT)["Body"].read())
            assert document["token"] == token and document["installation"] == stand.ptfe.url.lower()
            head = s3.head_object(Bucket=demo.KEYS_BUCKET, Key=TOKEN_OBJECT)
            assert head["ServerSideEncryption"] == "aws:kms"
            account = requests.get(stand.ptfe.url + "/api/v2/account/details", verify=stand.ptfe.ca_path, timeout=10,
                                   headers={"Authorization": "Bearer " + document["token"]})
            assert account.json()["data"]["attributes"]["is-site-admin"] is True
            assert len(keys["keys_base64"]) == 5
            stand.bao.seal()
            assert stand.bao.unseal(keys["keys_base64"][:2])["sealed"] is False
            assert demo.host_sh("test -e /data/vault-unseal-key && echo present || echo removed") == "removed"
    finally:
        shutil.rmtree(stand.demo.WORK, ignore_errors=True)
