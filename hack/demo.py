"""make demo: run playbooks/install.yml end to end against local stand-ins, then say what was done.

Stand-ins, all on this machine:
- the PTFE emulator (HTTPS, throwaway CA) with the IACT open to 127.0.0.0/8 for the first hour;
- a releases mirror serving three Terraform versions and their SHA256SUMS;
- OpenBao as the instance's Vault, initialised like the AMI with one self-managed unseal key;
- moto's S3 and KMS for the install-state bucket;
- a Debian 12 container as the PTFE host, holding /data/vault-unseal-key and a stand-in atlas-backup.

The playbook runs twice: the install, then a reconfiguration run that must report changed=0. Everything is
read back from the servers, not from the playbook's output. Secrets stay in files under .tmp/demo (0600).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# pylint: disable=wrong-import-position
from tests.emulators.moto import start_moto  # noqa: E402
from tests.emulators.openbao import start_openbao  # noqa: E402
from tests.emulators.ptfe.process import start_emulator  # noqa: E402
from tests.emulators.releases import ReleasesMirror  # noqa: E402

# PTFE_DEMO_NAME lets a test run the demo beside a `make demo` without sharing its directory or container.
DEMO_NAME = os.environ.get("PTFE_DEMO_NAME", "demo")
WORK = ROOT / ".tmp" / DEMO_NAME
HOST = "ptfe-%s-host" % DEMO_NAME
REGION = "eu-west-1"
BUCKET = "ptfe-demo-install-state"
# The unseal keys get a bucket of their own here: moto enforces bucket policies without their conditions, so the
# install-state bucket's TLS-only deny statement would deny every object request (on AWS both can be one bucket).
KEYS_BUCKET = "ptfe-demo-vault-keys"
KEYS_OBJECT = "ptfe-ops/vault-keys/%s.json" % HOST
VERSIONS = ("1.9.8", "1.10.5", "1.11.2")
RECAP_RE = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def say(text=""):
    print(text, flush=True)


def docker(*args, check=True, capture=True):
    return subprocess.run(["docker", *args], check=check, capture_output=capture, text=True)


def start_host(image):
    docker("rm", "-f", HOST, check=False)
    docker("run", "-d", "--name", HOST, "--hostname", HOST, "--cap-add", "NET_ADMIN", image, "sleep", "infinity")


def host_sh(script, check=True):
    return docker("exec", HOST, "sh", "-c", script, check=check).stdout.strip()


def inventory(ptfe, mirror, bao, moto, kms_arn):
    tool_versions = [{"version": v, "url": mirror.zip_url(v), "sha256": mirror.sha256(v)} for v in VERSIONS]
    host_vars = {
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    group_vars = {
        "ptfe_admin_token_file": str(WORK / "secrets" / "admin-token"),
        # 1. state bucket (moto); credentials come from the environment, see run_install()
        "state_bucket_name": BUCKET,
        "state_bucket_region": REGION,
        "state_bucket_kms_key": kms_arn,
        "state_bucket_endpoint_url": moto.url,
        "state_bucket_ca_bundle": str(moto.ca),
        "state_bucket_backend_path": str(WORK / "install" / "backend.tf"),
        # 2. hardening; the container's hard limit is what dockerd inherited, so stay below it
        "ulimits_nofile_soft": 16384,
        "ulimits_nofile_hard": 16384,
        "preflight_ports": [
            {"port": 443, "state": "free", "name": "HTTPS for users"},
            {"port": 80, "state": "free", "name": "HTTP redirect for users"},
            {"port": 8080, "state": "free", "name": "application port for the load balancer"},
        ],
        "preflight_endpoints": [],
        "preflight_nofile_soft_min": 16384,
        "preflight_nofile_hard_min": 16384,
        "preflight_nofile_users": ["tester"],
        "preflight_disk": [{"path": "/", "min_free_gib": 1}],
        "firewall_lb_cidrs": ["172.16.0.0/12"],
        "firewall_operator_cidrs": ["10.0.9.0/24"],
        # 3. first admin
        "initial_admin_address": ptfe.url,
        "initial_admin_ca_path": ptfe.ca_path,
        "initial_admin_username": "admin",
        "initial_admin_email": "it@example.com",
        "initial_admin_password": "{{ lookup('ansible.builtin.env', 'DEMO_ADMIN_PASSWORD') }}",
        "initial_admin_token_file": "{{ ptfe_admin_token_file }}",
        "initial_admin_organization": "example",
        "initial_admin_organization_email": "it@example.com",
        # 4. Terraform versions, verified against the mirror
        "tool_versions_address": ptfe.url,
        "tool_versions_ca_path": ptfe.ca_path,
        "tool_versions_checksum_ca_path": str(mirror.ca_path),
        "tool_versions_token": "{{ query('ansible.builtin.file', ptfe_admin_token_file, errors='ignore')"
                               " | first | default('') | trim }}",
        "tool_versions_list": tool_versions,
        # 5. Vault rekey 1/1 -> 5/2, then the guarded backup
        "vault_rekey_url": bao.url,
        "vault_rekey_ca_cert": str(bao.ca_path),
        "vault_rekey_token": "{{ lookup('ansible.builtin.env', 'DEMO_VAULT_TOKEN') }}",
        "vault_rekey_key_shares": 5,
        "vault_rekey_key_threshold": 2,
        # The new keys go to a versioned bucket under SSE-KMS, one object per host: a controller
        # that is thrown away after the job (an AWX execution environment) does not take them along.
        "vault_rekey_custody": "s3",
        "vault_rekey_s3_bucket": KEYS_BUCKET,
        "vault_rekey_s3_kms_key_id": kms_arn,
        "vault_rekey_s3_region": REGION,
        "vault_rekey_s3_endpoint_url": moto.url,
        "vault_rekey_s3_ca_bundle": str(moto.ca),
        "post_rekey_backup_key_shares": 5,
    }
    return {"all": {"children": {"ptfe": {"hosts": {HOST: host_vars}, "vars": group_vars}}}}


def run_install(label, env, extra=()):
    cmd = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(WORK / "inventory.json"),
           str(ROOT / "playbooks" / "install.yml"), *extra]
    say("\n=== %s: %s" % (label, " ".join(Path(c).name if c.startswith(str(ROOT)) else c for c in cmd[1:])))
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    secs = time.monotonic() - started
    (WORK / ("%s.log" % label.replace(" ", "-"))).write_text(proc.stdout + proc.stderr)
    recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "unreachable": int(m.group(4)),
                          "failed": int(m.group(5))} for m in RECAP_RE.finditer(proc.stdout)}
    for host, counts in recap.items():
        say("    %-16s ok=%d changed=%d failed=%d unreachable=%d" % (
            host, counts["ok"], counts["changed"], counts["failed"], counts["unreachable"]))
    say("    %.0f s, log in %s" % (secs, (WORK / ("%s.log" % label.replace(" ", "-"))).relative_to(ROOT)))
    if proc.returncode != 0:
        say(proc.stdout[-6000:])
        say(proc.stderr[-3000:])
        raise SystemExit("%s failed (exit %d)" % (label, proc.returncode))
    return recap


def check_wrote_nothing(ptfe, bao, moto, aws_secret):
    """Read every server back after the --check run: nothing may have been created or changed."""
    state = ptfe.state()
    status = bao.seal_status()
    s3 = moto.client("s3", REGION, "AKIADEMO", aws_secret)
    buckets = [b for b in s3.list_buckets()["Buckets"] if b["Name"] != KEYS_BUCKET]
    buckets += s3.list_object_versions(Bucket=KEYS_BUCKET).get("Versions", [])  # no key document either
    key_file = host_sh("test -e /data/vault-unseal-key && echo present || echo removed")
    limits = host_sh("test -e /etc/security/limits.d/nofile.conf && echo present || echo absent")
    say("    read back: %d PTFE users, %d buckets or key documents, Vault %d/%d, unseal key %s, nofile.conf %s" % (
        len(state["users"]), len(buckets), status["n"], status["t"], key_file, limits))
    if state["users"] or buckets or (status["n"], status["t"]) != (1, 1) or key_file != "present" or limits != "absent":
        raise SystemExit("the check run changed something")


def summary(ptfe, bao, moto, secrets):
    say("\n=== What the installation looks like now (read back from the servers)")
    state = ptfe.state()
    admins = [u["username"] for u in state["users"] if u["site_admin"]]
    say("PTFE        site admins: %s; organizations: %s" % (
        ", ".join(admins) or "none", ", ".join(sorted(o["name"] for o in state["organizations"])) or "none"))
    versions = ptfe.control("GET", "/_emulator/terraform-versions")
    say("            Terraform versions: %s" % ", ".join(sorted(v["version"] for v in versions)))
    token_file = Path(secrets["admin_token_file"])
    say("            admin token file: %s (mode %o)" % (
        token_file.relative_to(ROOT), token_file.stat().st_mode & 0o777))
    status = bao.seal_status()
    say("Vault       seal config: %d shares, threshold %d; sealed: %s" % (status["n"], status["t"], status["sealed"]))
    keys, head = secrets["keys"], secrets["keys_head"]
    say("            new keys: %d in s3://%s/%s (%s, KMS key %s), cluster %s" % (
        len(keys["keys_base64"]), KEYS_BUCKET, KEYS_OBJECT, head["ServerSideEncryption"],
        head.get("SSEKMSKeyId", "").rsplit("/", 1)[-1], keys["cluster_id"]))
    say("            sealed, then unsealed with 2 of the keys read back from S3: sealed %s" % secrets["unsealed"])
    say("PTFE host   /data/vault-unseal-key: %s" % host_sh("test -e /data/vault-unseal-key && echo present || echo removed"))
    say("            atlas-backup runs recorded: %s" % host_sh("ls /var/lib/atlas-backup 2>/dev/null | wc -l"))
    say("            nofile for a login shell of tester: %s" % host_sh("su - tester -c 'echo $(ulimit -Sn)/$(ulimit -Hn)'"))
    say("            firewall: %s" % " ".join(host_sh("ufw status | head -1").split()))
    s3 = moto.client("s3", REGION, "AKIADEMO", secrets["aws_secret"])
    bucket = BUCKET
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    say("S3 bucket   %s: versioning %s, %s with bucket key %s, public access blocks %s" % (
        bucket, versioning, rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], rule.get("BucketKeyEnabled"),
        "all on" if all(block.values()) else block))
    say("            backend.tf: %s" % (WORK / "install" / "backend.tf").relative_to(ROOT))


def main():
    image = os.environ.get("PTFE_TEST_IMAGE")
    if not image:
        raise SystemExit("PTFE_TEST_IMAGE is not set: run this through 'make demo'")
    if WORK.exists():
        shutil.rmtree(WORK)
    for sub in ("secrets", "install", "servers"):
        (WORK / sub).mkdir(parents=True, mode=0o700)
    servers = []
    try:
        say("Starting the stand-ins ...")
        ptfe = start_emulator({"iact_subnet_list": "127.0.0.0/8", "iact_subnet_time_limit": "60"},
                              str(WORK / "servers" / "ptfe"))
        servers.append(ptfe)
        mirror = ReleasesMirror(WORK / "servers" / "releases").start()
        servers.append(mirror)
        for version in VERSIONS:
            mirror.add_version(version, size=64 * 1024)
        bao = start_openbao(WORK / "servers" / "openbao", shares=1, threshold=1)
        servers.append(bao)
        moto = start_moto(WORK / "servers" / "moto")
        servers.append(moto)
        aws_secret = "demo-secret-key"
        kms_arn = moto.client("kms", REGION, "AKIADEMO", aws_secret).create_key(
            Description="ptfe install state")["KeyMetadata"]["Arn"]
        # The operator's bucket for the unseal keys (versioning on: no write may lose what it replaces).
        keys_s3 = moto.client("s3", REGION, "AKIADEMO", aws_secret)
        keys_s3.create_bucket(Bucket=KEYS_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        keys_s3.put_bucket_versioning(Bucket=KEYS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        start_host(image)
        # The AMI keeps its one self-managed unseal key here.
        subprocess.run(["docker", "exec", "-i", HOST, "sh", "-c",
                        "mkdir -p /data && umask 077 && cat > /data/vault-unseal-key"],
                       input=bao.unseal_keys[0], text=True, check=True, capture_output=True)
        say("  PTFE emulator %s, releases mirror %s, OpenBao %s (1 share, threshold 1), moto %s, host %s"
            % (ptfe.url, mirror.url, bao.url, moto.url, HOST))

        (WORK / "inventory.json").write_text(json.dumps(inventory(ptfe, mirror, bao, moto, kms_arn), indent=2))
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".tmp" / "collections"),
            "ANSIBLE_FORCE_COLOR": "false",
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
            # One docker exec per task on the host container instead of four.
            "ANSIBLE_PIPELINING": "true",
            "DEMO_ADMIN_PASSWORD": "demo-admin-password-%d" % os.getpid(),
            "DEMO_VAULT_TOKEN": bao.root_token,
            "AWS_ACCESS_KEY_ID": "AKIADEMO",
            "AWS_SECRET_ACCESS_KEY": aws_secret,
        })
        run_install("check run on the fresh instance", env, ["--check"])
        check_wrote_nothing(ptfe, bao, moto, aws_secret)
        first = run_install("install run", env)
        second = run_install("reconfiguration run", env)
        changed = sum(c["changed"] for c in second.values())
        # The keys as an operator would fetch them after the job: from the bucket, nowhere else.
        s3 = moto.client("s3", REGION, "AKIADEMO", aws_secret)
        new_keys = json.loads(s3.get_object(Bucket=KEYS_BUCKET, Key=KEYS_OBJECT)["Body"].read())
        keys_head = s3.head_object(Bucket=KEYS_BUCKET, Key=KEYS_OBJECT)
        bao.seal()
        unsealed = bao.unseal(new_keys["keys_base64"][:2])["sealed"]
        summary(ptfe, bao, moto, {"admin_token_file": WORK / "secrets" / "admin-token", "keys": new_keys,
                                  "keys_head": keys_head, "unsealed": unsealed, "aws_secret": aws_secret})
        if unsealed is not False:
            raise SystemExit("the keys read back from S3 did not unseal Vault")
        secrets = [env["DEMO_ADMIN_PASSWORD"], bao.root_token, bao.unseal_keys[0], aws_secret,
                   (WORK / "secrets" / "admin-token").read_text().strip()]
        secrets += new_keys.get("keys_base64", []) + new_keys.get("keys", [])
        leaks = [path.name for path in WORK.glob("*.log") for secret in secrets if secret in path.read_text()]
        say("\nsecrets checked in the playbook logs: %d, found: %d%s" % (
            len(secrets), len(leaks), (" in " + ", ".join(sorted(set(leaks)))) if leaks else ""))
        say("install run changed %d, reconfiguration run changed %d" % (
            sum(c["changed"] for c in first.values()), changed))
        if leaks:
            raise SystemExit("a secret appeared in a playbook log")
        if changed:
            raise SystemExit("the reconfiguration run changed something")
    finally:
        docker("rm", "-f", HOST, check=False)
        for server in reversed(servers):
            server.stop()


if __name__ == "__main__":
    main()
