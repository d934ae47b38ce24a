# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The admin token kept in a Vault KV engine (initial_admin_token_custody=vault_kv), as an AWX job needs it: the
first run stores it, a check run writes nothing, a later run in a fresh container (no token file) reads it from
there and changes nothing, KV version 1 works as well, and a Vault token without the policy to write fails before
the admin is created, naming the secret. Real ansible-playbook runs of the role against the PTFE emulator and a
real OpenBao server; KV is read back with hvac, past the modules."""
from __future__ import annotations

import stat
import uuid
from pathlib import Path

import hvac
import pytest

from tests.emulators.openbao import start_openbao
from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.initial_admin.conftest import ADMIN_PASSWORD, role_vars
from tests.integration.ptfe_emulator_fixture import read_back, writes

HERE = Path(__file__).resolve().parent
ROLE = HERE / "playbooks" / "role.yml"
V1_MOUNT = "kv1"
#: The paths the tests' Vault tokens are given capabilities on.
POLICY_PATHS = ("secret/data/ptfe-ops/*", "secret/metadata/ptfe-ops/*", V1_MOUNT + "/ptfe-ops/*")


@pytest.fixture(scope="module")
def bao(tmp_path_factory):
    """One OpenBao server for the file (initialising one costs seconds): KV version 2 at secret/, version 1 at kv1/.
    Tests keep apart by their secret paths."""
    try:
        server = start_openbao(tmp_path_factory.mktemp("bao-admin-token"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        root = hvac.Client(url=server.url, token=server.root_token, verify=server.ca_path)
        root.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
        root.sys.enable_secrets_engine("kv", path=V1_MOUNT, options={"version": "1"})
        server.root = root
        yield server
    finally:
        server.stop()


def vault_token(bao, *capabilities, paths=POLICY_PATHS):
    """A token of its own (the canary of the run) whose policy allows ``capabilities`` on the admin-token paths."""
    name = "admin-token-%s" % uuid.uuid4().hex[:8]
    rules = "".join('path "%s" { capabilities = [%s] }\n' % (path, ", ".join('"%s"' % c for c in capabilities))
                    for path in paths)
    bao.root.sys.create_or_update_policy(name=name, policy=rules)
    return bao.root.auth.token.create(policies=[name], ttl="1h")["auth"]["client_token"]


def secret_path():
    return "ptfe-ops/admin-token/%s" % uuid.uuid4().hex[:10]


def kv2(bao, path):
    """The stored document and its version, read past the modules; (None, None) when there is none."""
    try:
        answer = bao.root.secrets.kv.v2.read_secret_version(path=path, mount_point="secret",
                                                            raise_on_deleted_version=True)
    except hvac.exceptions.InvalidPath:
        return None, None
    return answer["data"]["data"], answer["data"]["metadata"]["version"]


def kv_vars(emulator, token_file, path, **overrides):
    """The role's variables; the admin's password comes from the environment (awx_env), as a job's credential gives
    it, so that ansible-playbook's own echo of its command line at -vvvv shows no secret."""
    values = role_vars(emulator, token_file, initial_admin_organization="acme",
                       initial_admin_password="{{ lookup('ansible.builtin.env', 'TEST_ADMIN_PASSWORD') }}",
                       initial_admin_token_custody="vault_kv",
                       initial_admin_token_vault_kv_path=path)
    values.update(overrides)
    return values


def awx_env(bao, token):
    """What the collection's Vault credential type injects into an AWX job, and the admin's password."""
    return {"VAULT_ADDR": bao.url, "VAULT_TOKEN": token, "VAULT_CACERT": bao.ca_path,
            "TEST_ADMIN_PASSWORD": ADMIN_PASSWORD}


def test_kv2_first_run_stores_the_token_and_a_fresh_controller_reads_it(ptfe, secrets_dir, bao):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    path = secret_path()
    writer = vault_token(bao, "read", "create", "update")
    extra, env = kv_vars(emu, token_file, path), awx_env(bao, writer)

    # A check run on the fresh installation predicts the admin and writes nothing, to PTFE or to Vault.
    checked_fresh = run_playbook(ROLE, extra, env=env, check=True)
    assert checked_fresh.rc == 0, checked_fresh.output
    assert kv2(bao, path) == (None, None)
    assert not token_file.exists() and emu.state()["users"] == [] and writes(emu) == []

    first = run_playbook(ROLE, extra, env=env, verbosity=4)
    assert first.rc == 0, first.output
    assert first.changed >= 1
    token = token_file.read_text().strip()
    document, version = kv2(bao, path)
    assert version == 1
    assert document["kind"] == "ptfe-admin-token" and document["token"] == token
    assert document["installation"] == emu.url.lower().rstrip("/") and document["username"] == "admin"
    assert read_back(emu, "GET", "/api/v2/account/details", token=token).json()["data"]["attributes"][
        "is-site-admin"] is True
    assert "Stored the API token in vault-kv://secret/%s (KV version 2, check-and-set, read back)" % path \
        in first.stdout

    # The next job runs in a fresh container: no token file.
    token_file.unlink()
    emu.control("DELETE", "requests")
    second = run_playbook(ROLE, extra, env=env, verbosity=4)
    assert second.rc == 0, second.output
    assert second.changed == 0, second.output
    assert "already has its admin" in second.stdout
    assert writes(emu) == []
    assert not [e for e in emu.requests_log() if e["path"].startswith("/admin/")]
    assert kv2(bao, path) == (document, 1), "the re-run wrote the secret again"
    assert token_file.read_text().strip() == token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [o["name"] for o in emu.state()["organizations"]] == ["acme"] and len(emu.state()["users"]) == 1
    for run in (checked_fresh, first, second):
        assert_no_secret(run, token, ADMIN_PASSWORD, writer)


def test_kv1_keeps_the_token_and_the_role_variables_reach_vault(ptfe, secrets_dir, bao):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    path = secret_path()
    writer = vault_token(bao, "read", "create", "update")
    extra = kv_vars(emu, token_file, path, initial_admin_token_vault_url=bao.url,
                    initial_admin_token_vault_token=writer, initial_admin_token_vault_ca_path=bao.ca_path,
                    initial_admin_token_vault_kv_mount=V1_MOUNT, initial_admin_token_vault_kv_version=1)

    first = run_playbook(ROLE, extra, env={"TEST_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert first.rc == 0, first.output
    token = token_file.read_text().strip()
    document = bao.root.secrets.kv.v1.read_secret(path=path, mount_point=V1_MOUNT)["data"]
    assert document["token"] == token and document["installation"] == emu.url.lower().rstrip("/")
    assert "Stored the API token in vault-kv://%s/%s (KV version 1, read back)" % (V1_MOUNT, path) in first.stdout

    token_file.unlink()
    second = run_playbook(ROLE, extra, env={"TEST_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert second.rc == 0 and second.changed == 0, second.output
    assert token_file.read_text().strip() == token and len(emu.state()["users"]) == 1
    assert bao.root.secrets.kv.v1.read_secret(path=path, mount_point=V1_MOUNT)["data"] == document
    for run in (first, second):
        assert_no_secret(run, token, ADMIN_PASSWORD, writer)


def test_a_vault_token_without_write_policy_fails_naming_the_path_and_creates_nothing(ptfe, secrets_dir, bao):
    emu = ptfe()
    token_file = secrets_dir / "admin.token"
    path = secret_path()
    reader = vault_token(bao, "read")
    extra = kv_vars(emu, token_file, path)

    refused = run_playbook(ROLE, extra, env=awx_env(bao, reader))
    assert refused.rc != 0
    assert "its token could not be stored in vault-kv://secret/%s: the Vault token may not create " \
           "vault-kv://secret/%s" % (path, path) in refused.stdout, refused.output
    assert 'give it a policy with \\"create\\" on path \\"secret/data/%s\\"' % path in refused.stdout
    assert "Nothing was created" in refused.stdout
    # The installation still has its unused IACT: nothing was lost, and a token with the policy finishes the job.
    assert emu.state()["users"] == [] and emu.state()["iact_used"] is False
    assert not token_file.exists() and kv2(bao, path) == (None, None)

    writer = vault_token(bao, "read", "create", "update")
    again = run_playbook(ROLE, extra, env=awx_env(bao, writer))
    assert again.rc == 0, again.output
    assert kv2(bao, path)[0]["token"] == token_file.read_text().strip()
    assert_no_secret(refused, ADMIN_PASSWORD, reader)
    assert_no_secret(again, ADMIN_PASSWORD, writer, token_file.read_text().strip())


def test_vault_options_with_custody_s3_are_refused_naming_both(ptfe, secrets_dir, bao):
    emu = ptfe()
    extra = kv_vars(emu, secrets_dir / "admin.token", secret_path(), initial_admin_token_custody="s3",
                    initial_admin_token_s3_bucket="ops-keys", initial_admin_token_s3_object="ptfe/admin.json")
    result = run_playbook(ROLE, extra, env=awx_env(bao, "hvs.not-used-canary-4f1e"))
    assert result.rc != 0
    assert "vault_kv_path is only used with custody=vault_kv, not with custody=s3" in result.stdout, result.output
    assert writes(emu) == [] and emu.state()["users"] == []
    # The Vault credential's VAULT_ADDR and VAULT_TOKEN alone are no mixing: an AWX job may carry it for other roles.
    assert "vault_url is only used" not in result.stdout and "vault_token is only used" not in result.stdout
