"""The vault_terraform_secrets role through playbooks/vault_terraform_secrets.yml (opt-in, as install.yml imports
it): engine and roles configured, the organization token works against the PTFE emulator, a re-run changes and
writes nothing, and without the opt-in nothing is sent."""
from __future__ import annotations

from tests.integration.conftest import ROOT
from tests.integration.vault_terraform.conftest import ADMIN_TOKEN

PLAYBOOK = ROOT / "playbooks" / "vault_terraform_secrets.yml"


def role_vars(rig, **values):
    extra = {"ptfe_hosts": "all", "vault_terraform_secrets_vault_url": rig.front.url,
             "vault_terraform_secrets_vault_ca_cert": rig.front.ca_path,
             "vault_terraform_secrets_address": rig.ptfe.url, "vault_terraform_secrets_tfe_token": ADMIN_TOKEN,
             "vault_terraform_secrets_roles": [
                 {"name": "acme", "credential_type": "organization", "organization": "acme", "ttl": "1h"},
                 {"name": "ci", "credential_type": "team", "team_id": rig.ci_team, "ttl": 600, "max_ttl": "1h",
                  "description": "CI"},
                 {"name": "admin", "credential_type": "user", "user_id": rig.admin_id}]}
    extra.update(values)
    return extra


def test_role_configures_the_engine_once_and_then_changes_nothing(rig, playbook):
    env = {"VAULT_TOKEN": rig.bao.root_token}
    off = playbook(PLAYBOOK, role_vars(rig), env=env)
    assert off.rc == 0 and off.changed == 0, off.output
    assert rig.front.requests_log() == [], "without the opt-in nothing reaches Vault"

    run = playbook(PLAYBOOK, role_vars(rig, ptfe_vault_terraform_secrets_enabled=True), env=env)
    assert run.rc == 0 and run.changed == 2, run.output
    assert sorted(rig.vault("LIST", "terraform/role")["data"]["keys"]) == ["acme", "admin", "ci"]
    token = rig.vault("GET", "terraform/creds/acme")["data"]["token"]
    assert rig.whoami(token) == 200
    team = rig.vault("GET", "terraform/creds/ci")
    assert team["lease_duration"] == 600 and team["data"]["expired_at"] and rig.whoami(team["data"]["token"]) == 200

    rig.clear_logs()
    again = playbook(PLAYBOOK, role_vars(rig, ptfe_vault_terraform_secrets_enabled=True), env=env)
    assert again.rc == 0 and again.changed == 0, again.output
    assert rig.writes() == [] and rig.whoami(token) == 200
