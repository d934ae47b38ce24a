"""vault_terraform_secrets_engine and vault_terraform_role through ansible-playbook, against the engine's front
(OpenBao behind it) and the PTFE emulator, both read back past the collection."""
from __future__ import annotations

import requests

from tests.integration.conftest import assert_no_secret
from tests.integration.ptfe_emulator_fixture import printed_result
from tests.integration.vault_terraform.conftest import ADMIN_TOKEN

PLAYBOOK = "vault_terraform/playbooks/engine.yml"
ORG_ROLE = {"name": "acme", "credential_type": "organization", "organization": "acme", "ttl": "1h"}


def test_engine_and_organization_role_then_rerun_writes_nothing(rig, playbook):
    run = playbook(PLAYBOOK, rig.vars(terraform_roles=[ORG_ROLE]))
    assert run.rc == 0 and run.changed == 2, run.output
    result = printed_result(run)
    assert result["engine"] == "created" and result["token_written"] is True
    assert result["roles"] == ["created"] and result["mints"] == [True]
    config = rig.vault("GET", "terraform/config")["data"]
    assert config == {"address": rig.ptfe.url, "base_path": "/api/v2/"}
    assert rig.vault("GET", "terraform/role/acme")["data"]["ttl"] == 3600
    token = rig.vault("GET", "terraform/creds/acme")["data"]["token"]
    assert rig.whoami(token) == 200

    rig.clear_logs()
    again = playbook(PLAYBOOK, rig.vars(terraform_roles=[dict(ORG_ROLE, ttl=3600)]))
    assert again.rc == 0 and again.changed == 0, again.output
    result = printed_result(again)
    assert result["engine"] == "unchanged" and result["roles"] == ["unchanged"] and result["mints"] == [False]
    assert rig.writes() == []
    assert rig.requests() == [("vault", "GET", "/v1/sys/mounts"), ("vault", "GET", "/v1/terraform/config"),
                              ("vault", "GET", "/v1/terraform/role/acme")], "three reads, and nothing reaches TFE"
    assert rig.vault("GET", "terraform/creds/acme")["data"]["token"] == token
    assert rig.whoami(token) == 200


def test_ttl_change_on_organization_role_is_shown_as_minting_and_check_mode_writes_nothing(rig, playbook):
    assert playbook(PLAYBOOK, rig.vars(terraform_roles=[ORG_ROLE])).rc == 0
    token = rig.vault("GET", "terraform/creds/acme")["data"]["token"]
    tokens = rig.tokens()
    rig.clear_logs()
    run = playbook(PLAYBOOK, rig.vars(terraform_roles=[dict(ORG_ROLE, ttl="2h")]), check=True, diff=True)
    assert run.rc == 0 and run.changed == 1, run.output
    result = printed_result(run)
    assert result["roles"] == ["updated"] and result["changes"] == [["ttl"]] and result["mints"] == [True]
    assert "mints_token" in run.stdout and "would mint a new organization token" in run.output, run.output
    assert '-    "ttl": 3600' in run.stdout and '+    "ttl": 7200' in run.stdout
    assert rig.writes() == []
    assert rig.vault("GET", "terraform/role/acme")["data"]["ttl"] == 3600
    assert rig.tokens() == tokens and rig.whoami(token) == 200

    applied = playbook(PLAYBOOK, rig.vars(terraform_roles=[dict(ORG_ROLE, ttl="2h")]))
    assert applied.rc == 0 and applied.changed == 1, applied.output
    assert "minted a new organization token" in applied.output
    assert rig.whoami(token) == 401
    assert rig.whoami(rig.vault("GET", "terraform/creds/acme")["data"]["token"]) == 200


def test_team_legacy_role_moved_to_another_team_mints_in_diff_and_check_mode_writes_nothing(rig, playbook):
    role = {"name": "owners", "credential_type": "team_legacy", "team_id": rig.owners_team}
    assert playbook(PLAYBOOK, rig.vars(terraform_roles=[role])).rc == 0
    token = rig.vault("GET", "terraform/creds/owners")["data"]["token"]
    assert rig.whoami(token) == 200
    tokens = rig.tokens()
    rig.clear_logs()
    run = playbook(PLAYBOOK, rig.vars(terraform_roles=[dict(role, team_id=rig.ci_team)]), check=True, diff=True)
    assert run.rc == 0 and run.changed == 1, run.output
    assert printed_result(run)["mints"] == [True]
    assert "a new team token (the current one stops working)" in run.stdout
    assert rig.writes() == [] and rig.tokens() == tokens
    assert rig.vault("GET", "terraform/role/owners")["data"]["team_id"] == rig.owners_team


def test_user_role_issues_a_fresh_leased_token_per_read_and_revoking_the_lease_revokes_it(rig, playbook):
    role = {"name": "me", "credential_type": "user", "user_id": rig.admin_id, "ttl": "10m", "max_ttl": "1h"}
    run = playbook(PLAYBOOK, rig.vars(terraform_roles=[role]))
    assert run.rc == 0 and printed_result(run)["mints"] == [False], run.output
    first = rig.vault("GET", "terraform/creds/me")
    second = rig.vault("GET", "terraform/creds/me")
    assert first["data"]["token"] != second["data"]["token"]
    assert first["lease_id"].startswith("terraform/creds/me/") and first["lease_duration"] == 600
    assert rig.whoami(first["data"]["token"]) == 200 and rig.whoami(second["data"]["token"]) == 200
    rig.vault("PUT", "sys/leases/revoke", {"lease_id": first["lease_id"]})
    assert rig.whoami(first["data"]["token"]) == 401 and rig.whoami(second["data"]["token"]) == 200


def test_role_without_credential_type_is_left_alone_unless_asked(rig, playbook):
    assert playbook(PLAYBOOK, rig.vars()).rc == 0
    requests.post(rig.front.url + "/_emulator/roles", verify=rig.front.ca_path, timeout=30,
                  json={"mount": "terraform", "name": "old", "role": {"team_id": rig.owners_team}}).raise_for_status()
    role = {"name": "old", "credential_type": "team_legacy", "team_id": rig.owners_team}
    rig.clear_logs()
    run = playbook(PLAYBOOK, rig.vars(terraform_roles=[role]))
    assert run.rc == 0 and run.changed == 0 and rig.writes() == [], run.output
    assert "upgrade_credential_type=true rewrites it" in printed_result(run)["msgs"][0]
    asked = playbook(PLAYBOOK, rig.vars(terraform_roles=[dict(role, upgrade_credential_type=True)]))
    assert asked.rc == 0 and asked.changed == 1, asked.output
    assert rig.vault("GET", "terraform/role/old")["data"]["credential_type"] == "team_legacy"


def test_no_token_at_vvvv_nor_in_loose_files(rig, playbook, tmp_path):
    run = playbook(PLAYBOOK, rig.vars(terraform_roles=[ORG_ROLE]), verbosity=4, diff=True)
    assert run.rc == 0, run.output
    org_token = rig.vault("GET", "terraform/creds/acme")["data"]["token"]
    # Every file of the run's directory but the servers' own (the emulator's seed config, OpenBao's log).
    loose = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_mode & 0o077
             and not p.relative_to(tmp_path).parts[0].startswith(("emulator", "engine"))]
    assert_no_secret(run, ADMIN_TOKEN, org_token, rig.bao.root_token, paths=loose)


def test_engine_update_token_always_rewrites_token_and_address_is_always_sent(rig, playbook):
    assert playbook(PLAYBOOK, rig.vars()).rc == 0
    rig.clear_logs()
    run = playbook(PLAYBOOK, rig.vars(update_token="always"))
    assert run.rc == 0 and run.changed == 1 and printed_result(run)["token_written"] is True, run.output
    assert rig.writes() == [("POST", "/v1/terraform/config")]
    assert rig.vault("GET", "terraform/config")["data"]["address"] == rig.ptfe.url
    removed = playbook(PLAYBOOK, rig.vars(engine_state="absent"))
    assert removed.rc == 0 and removed.changed == 1, removed.output
    assert "terraform/" not in rig.vault("GET", "sys/mounts")["data"]
