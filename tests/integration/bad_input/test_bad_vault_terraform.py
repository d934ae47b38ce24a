"""vault_terraform_secrets_engine, vault_terraform_role and vault_terraform_rotate, given malformed input: refused by
name before any request (the Vault address is a port that counts every connection), with no secret printed at
-vvvv (harness.py)."""
from __future__ import annotations

import pytest

from tests.integration.bad_input.conftest import assert_left_alone, batch_against
from tests.integration.bad_input.harness import Case, assert_refused

TOKEN = "s.canary-bad-input-terraform-vault-token-71c2"
TFE_TOKEN = "bitfetoken0001.atlasv1.canary-bad-input-terraform-tfe-token-3b8e"
CANARIES = (TOKEN, TFE_TOKEN)


def engine(**values):
    return dict(values, terraform_module="engine")


def role(**values):
    values.setdefault("organization", "acme")
    return dict(values, terraform_module="role")


def rotate(**values):
    return dict(values, terraform_module="rotate")


CASES = [
    # the four the issue names
    Case("role_user_and_organization", role(user_id="user-V3R563qtJNcExAkN"),
         "user_id must not be given together with organization or team_id"),
    Case("role_ttl_above_max_ttl", role(ttl="2h", max_ttl=3600), "ttl must not be greater than max_ttl"),
    Case("role_unknown_credential_type", role(credential_type="robot"),
         "value of credential_type must be one of: organization, team, team_legacy, user, got: robot"),
    Case("engine_path_dotdot", engine(path="terraform/../sys"), "path must be a mount path"),
    Case("role_mount_path_dotdot", role(mount_path="../terraform"), "mount_path must be a mount path"),
    Case("rotate_mount_path_dotdot", rotate(role_name="acme", mount_path="terraform/.."),
         "mount_path must be a mount path"),
    # the engine
    Case("engine_path_sys", engine(path="sys"), "path must not be a path Vault keeps for itself"),
    Case("engine_path_slash", engine(path="/terraform/"), "path must be a mount path"),
    Case("engine_address_http", engine(address="http://tfe.example.com"), "address must be a URL such as https://"),
    Case("engine_address_path", engine(address="https://tfe.example.com/app"),
         "address must be the address of the server only"),
    Case("engine_address_unset", engine(address=""), "address must be set"),
    Case("engine_base_path_dotdot", engine(base_path="/api/../v2/"), "base_path must be an absolute URL path"),
    Case("engine_tfe_token_newline", engine(tfe_token=TFE_TOKEN + "\n"), "tfe_token must not contain"),
    Case("engine_update_token_choice", engine(update_token="sometimes"),
         "value of update_token must be one of: on_create, always, got: sometimes"),
    Case("engine_token_newline", engine(token=TOKEN + "\n"), "token must not contain"),
    # roles
    Case("role_nothing", {"terraform_module": "role"}, "organization, team_id or user_id must be set"),
    Case("role_team_legacy_ttl", role(organization="", team_id="team-6p5jTwJQXwqZBncC", ttl=60),
         "ttl cannot be set with credential_type team_legacy"),
    Case("role_team_legacy_description", role(organization="", team_id="team-6p5jTwJQXwqZBncC", description="ci"),
         "description cannot be set with credential_type team_legacy"),
    Case("role_ttl_text", role(ttl="soon"), "ttl must be a duration"),
    Case("role_ttl_fraction", role(ttl="1.5h"), "ttl must be a duration"),
    Case("role_max_ttl_negative", role(max_ttl=-1), "max_ttl must be a duration"),
    Case("role_name_slash", role(role_name="a/b"), "name must be 1 to 128 letters"),
    Case("role_name_dotdot", role(role_name=".."), "name must be 1 to 128 letters"),
    Case("role_organization_space", role(organization="ac me"), "organization must be an organization name"),
    Case("role_team_id_shape", role(organization="", team_id="owners", credential_type="team"),
         "team_id must be a team id"),
    Case("role_user_id_shape", role(organization="", user_id="admin"), "user_id must be a user id"),
    Case("role_type_organization_with_team", role(credential_type="organization", team_id="team-6p5jTwJQXwqZBncC"),
         "credential_type organization needs organization and no team_id"),
    Case("role_type_user_without_user", role(credential_type="user"), "credential_type user needs user_id"),
    Case("role_type_team_without_team", role(credential_type="team"), "credential_type team needs team_id"),
    # rotation
    Case("rotate_without_name", rotate(), "name must be set"),
    Case("rotate_root_with_name", rotate(target="root", role_name="acme"), "name must not be set with target=root"),
    Case("rotate_old_token_choice", rotate(target="root", old_token="shred"),
         "value of old_token must be one of: keep, delete, got: shred"),
    Case("rotate_target_choice", rotate(target="everything", role_name="acme"),
         "value of target must be one of: role, root, got: everything"),
]


@pytest.fixture(scope="module")
def batch(listener, tmp_path_factory):
    return batch_against(listener, "bad_input/playbooks/vault_terraform.yml", CASES, tmp_path_factory,
                         {"vault_token": TOKEN, "default_tfe_token": TFE_TOKEN})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_request(batch, case):
    assert_refused(batch, case, canaries=CANARIES)
    assert_left_alone(batch, case)
