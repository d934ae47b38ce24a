"""The vault_terraform_creds lookup through ansible-playbook: shared tokens flagged, leased tokens cached per play
and revoked at the end (the PTFE emulator then answers 401), nothing secret in the output or in loose files."""
from __future__ import annotations

import stat
from pathlib import Path

from tests.integration.conftest import assert_no_secret
from tests.integration.ptfe_emulator_fixture import printed_result

ENGINE = "vault_terraform/playbooks/engine.yml"
CREDS = "vault_terraform/playbooks/creds.yml"
CACHE = Path.home() / ".ansible" / "tmp" / "ptfe_ops_terraform_creds"


def creds_vars(rig, role, **values):
    return rig.vars(role_name=role, tfe_ca=rig.ptfe.ca_path, **values)


def test_organization_credentials_are_flagged_shared(rig, playbook):
    role = {"name": "acme", "credential_type": "organization", "organization": "acme"}
    assert playbook(ENGINE, rig.vars(terraform_roles=[role])).rc == 0
    run = playbook(CREDS, creds_vars(rig, "acme"), verbosity=4)
    assert run.rc == 0, run.output
    result = printed_result(run)
    assert result["shared"] is True and result["lease_id"] == "" and result["same"] is True
    assert result["credential_type"] == "organization"
    assert_no_secret(run, rig.vault("GET", "terraform/creds/acme")["data"]["token"], rig.bao.root_token)


def test_user_credentials_are_cached_per_play_and_revoked_at_the_end(rig, playbook):
    role = {"name": "me", "credential_type": "user", "user_id": rig.admin_id, "ttl": "10m"}
    assert playbook(ENGINE, rig.vars(terraform_roles=[role])).rc == 0
    before = {t[0] for t in rig.tokens()}
    run = playbook(CREDS, creds_vars(rig, "me", revoke_at_end=True), verbosity=4)
    assert run.rc == 0, run.output
    result = printed_result(run)
    assert result["same"] is True and result["shared"] is False and result["lease_duration"] == 600
    assert result["lease_id"].startswith("terraform/creds/me/")
    assert result["revoked"] == {"role": "me", "revoked": result["lease_id"]}
    # One token was minted for the whole play, and it is gone from TFE.
    assert {t[0] for t in rig.tokens()} == before
    minted = [e for e in rig.ptfe.requests_log() if e["method"] == "POST" and e["path"].endswith("/authentication-tokens")]
    assert len(minted) == 1
    assert not rig.vault("GET", "terraform/creds/me")["lease_id"] == result["lease_id"]
    leftovers = [p for p in CACHE.glob("*") if p.is_file()] if CACHE.is_dir() else []
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in leftovers)
    assert stat.S_IMODE(CACHE.stat().st_mode) == 0o700
    assert "canary" not in run.output and rig.bao.root_token not in run.output


def test_user_credentials_without_cache_are_fresh_per_read(rig, playbook):
    role = {"name": "me", "credential_type": "user", "user_id": rig.admin_id}
    assert playbook(ENGINE, rig.vars(terraform_roles=[role])).rc == 0
    run = playbook(CREDS, creds_vars(rig, "me", cache=False))
    assert run.rc == 0, run.output
    result = printed_result(run)
    assert result["same"] is False and result["token_id"] != result["second_token_id"]


def test_lookup_refuses_bad_input_before_any_request(rig, playbook):
    for values, says in (({"mount_path": "terraform/.."}, "mount_path must be a mount path"),
                         ({"role_name": "../acme"}, "each term must be a role name")):
        run = playbook(CREDS, dict(creds_vars(rig, "acme"), **values))
        assert run.rc != 0 and says in run.output, run.output
    assert rig.front.requests_log() == []
