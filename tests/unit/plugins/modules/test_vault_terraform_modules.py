"""vault_terraform_secrets_engine, vault_terraform_role and vault_terraform_rotate's logic against an in-memory
Vault that records every request: what they read, decide and write."""
from __future__ import annotations

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker
from ansible_collections.ptfe.ops.plugins.module_utils._terraform_engine import check_role
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultError
from ansible_collections.ptfe.ops.plugins.modules import vault_terraform_role as role_module
from ansible_collections.ptfe.ops.plugins.modules import vault_terraform_rotate as rotate_module
from ansible_collections.ptfe.ops.plugins.modules import vault_terraform_secrets_engine as engine_module


class FakeVault:
    """Vault with the terraform engine's paths as the plugin answers them (no TFE behind it)."""

    def __init__(self):
        self.mounts = {"secret/": {"type": "kv"}}
        self.config = None
        self.roles = {}
        self.calls = []

    def writes(self):
        return [(m, p) for m, p, _b in self.calls if m != "GET"]

    def request(self, method, path, action, body=None, ok=(200, 204)):  # pylint: disable=unused-argument
        self.calls.append((method, path, body))
        if method == "GET" and path == "sys/mounts":
            return 200, dict(self.mounts)
        if path == "sys/mounts/terraform":
            if method == "POST":
                self.mounts["terraform/"] = {"type": "terraform", "description": body.get("description")}
            else:
                self.mounts.pop("terraform/", None)
            return 204, {}
        if path == "terraform/config":
            if method == "GET":
                if self.config is None:
                    raise VaultError("nil", status=500)
                return 200, {"address": self.config["address"], "base_path": self.config["base_path"]}
            self.config = dict(self.config or {}, **body)
            return 204, {}
        if path.startswith("terraform/role/"):
            name = path.rsplit("/", 1)[1]
            if method == "GET":
                if name not in self.roles:
                    raise VaultError("missing", status=404)
                return 200, dict(self.roles[name])
            if method == "DELETE":
                self.roles.pop(name, None)
                return 204, {}
            self.roles[name] = dict(body)
            return 204, {}
        if path.startswith(("terraform/rotate-role/", "terraform/config/rotate-root")):
            return 204, {}
        raise AssertionError("unexpected %s %s" % (method, path))


class Stub:
    def __init__(self, vault, check_mode=False, **params):
        self.params = params
        self.check_mode = check_mode
        self.vault = vault
        self.warnings = []

    def client(self):
        return self.vault

    def warn(self, text):
        self.warnings.append(text)


ENGINE = {"path": "terraform", "state": "present", "description": "", "address": "https://tfe.example.com",
          "base_path": "/api/v2/", "tfe_token": "t0k3n", "update_token": "on_create"}


def test_engine_created_then_unchanged_and_the_token_never_shown():
    vault = FakeVault()
    checked = engine_module.run(Stub(vault, check_mode=True, **ENGINE))
    assert checked["action"] == "created" and vault.writes() == []
    created = engine_module.run(Stub(vault, **ENGINE))
    assert created["token_written"] is True
    assert vault.config == {"address": "https://tfe.example.com", "base_path": "/api/v2/", "token": "t0k3n"}
    again = engine_module.run(Stub(vault, **ENGINE))
    assert again["changed"] is False and len(vault.writes()) == 2
    assert "t0k3n" not in repr(created) + repr(again)


def test_engine_address_change_sends_address_without_token():
    vault = FakeVault()
    engine_module.run(Stub(vault, **ENGINE))
    params = dict(ENGINE)
    params["address"] = "https://tfe2.example.com"
    moved = engine_module.run(Stub(vault, **params))
    assert moved["action"] == "updated" and moved["token_written"] is False
    assert vault.calls[-1] == ("POST", "terraform/config", {"address": "https://tfe2.example.com",
                                                            "base_path": "/api/v2/"})


def test_engine_refuses_another_engine_at_the_path():
    vault = FakeVault()
    vault.mounts["terraform/"] = {"type": "kv"}
    with pytest.raises(VaultError, match="a kv secrets engine is mounted there"):
        engine_module.run(Stub(vault, **ENGINE))


def role_params(**params):
    base = {"mount_path": "terraform", "name": "acme", "state": "present", "credential_type": None,
            "organization": "acme", "team_id": None, "user_id": None, "description": "", "ttl": "1h",
            "max_ttl": None, "upgrade_credential_type": False}
    base.update(params)
    return base


def run_role(vault, check_mode=False, **params):
    values = role_params(**params)
    desired = check_role(Checker(values))
    stub = Stub(vault, check_mode=check_mode, **values)
    return role_module.run(stub, desired), stub


def test_role_written_once_and_equivalent_ttl_is_unchanged():
    vault = FakeVault()
    created, stub = run_role(vault)
    assert created["mints_token"] is True and "minted a new organization token" in stub.warnings[0]
    vault.roles["acme"] = {"name": "acme", "organization": "acme", "ttl": 3600, "max_ttl": 0}
    again, stub = run_role(vault, ttl=3600)
    assert again["changed"] is False and stub.warnings == [] and len(vault.writes()) == 1


def test_role_ttl_change_in_check_mode_shows_minting_and_writes_nothing():
    vault = FakeVault()
    vault.roles["acme"] = {"name": "acme", "organization": "acme", "ttl": 3600, "max_ttl": 0}
    result, stub = run_role(vault, check_mode=True, ttl="2h")
    assert result["action"] == "updated" and result["changes"] == ["ttl"] and result["mints_token"] is True
    assert result["diff"]["after"]["mints_token"].startswith("a new organization token")
    assert "would mint" in stub.warnings[0] and vault.writes() == []


def test_rotate_refuses_user_roles_and_rotates_organization_roles():
    vault = FakeVault()
    vault.roles["me"] = {"name": "me", "user_id": "user-abc", "credential_type": "user", "ttl": 0, "max_ttl": 0}
    vault.roles["acme"] = {"name": "acme", "organization": "acme", "ttl": 0, "max_ttl": 0}
    with pytest.raises(VaultError, match="stores no token"):
        rotate_module.rotate_role(Stub(vault), vault, "terraform", "me")
    checked = rotate_module.rotate_role(Stub(vault, check_mode=True), vault, "terraform", "acme")
    assert checked["changed"] is True and vault.writes() == []
    done = rotate_module.rotate_role(Stub(vault), vault, "terraform", "acme")
    assert done["credential_type"] == "organization" and vault.writes() == [("POST", "terraform/rotate-role/acme")]


def test_role_removal_in_check_mode_and_for_real():
    vault = FakeVault()
    vault.roles["acme"] = {"name": "acme", "organization": "acme", "ttl": 0, "max_ttl": 0}
    checked, _stub = run_role(vault, check_mode=True, state="absent", organization=None, ttl=None)
    assert checked["action"] == "removed" and vault.writes() == [] and "acme" in vault.roles
    removed, _stub = run_role(vault, state="absent", organization=None, ttl=None)
    assert removed["changed"] is True and removed["role"] == {} and vault.roles == {}
    again, _stub = run_role(vault, state="absent", organization=None, ttl=None)
    assert again["changed"] is False
