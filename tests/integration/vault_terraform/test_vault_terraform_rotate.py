"""vault_terraform_rotate through ansible-playbook: the old token gets 401 from the PTFE emulator, the new one works;
check mode rotates nothing; roles without a stored token are refused."""
from __future__ import annotations

from tests.integration.ptfe_emulator_fixture import fatal, printed_result

ENGINE = "vault_terraform/playbooks/engine.yml"
ROTATE = "vault_terraform/playbooks/rotate.yml"


def test_rotate_role_old_token_401_new_token_works(rig, playbook):
    role = {"name": "acme", "credential_type": "organization", "organization": "acme"}
    assert playbook(ENGINE, rig.vars(terraform_roles=[role])).rc == 0
    old = rig.vault("GET", "terraform/creds/acme")["data"]
    rig.clear_logs()
    checked = playbook(ROTATE, rig.vars(role_name="acme"), check=True)
    assert checked.rc == 0 and checked.changed == 1, checked.output
    assert rig.writes() == [] and rig.whoami(old["token"]) == 200
    run = playbook(ROTATE, rig.vars(role_name="acme"))
    assert run.rc == 0 and run.changed == 1, run.output
    assert printed_result(run)["credential_type"] == "organization"
    new = rig.vault("GET", "terraform/creds/acme")["data"]
    assert new["token"] != old["token"]
    assert rig.whoami(old["token"]) == 401 and rig.whoami(new["token"]) == 200
    assert old["token"] not in run.output and new["token"] not in run.output


def test_rotate_refuses_user_roles_and_missing_roles(rig, playbook):
    role = {"name": "me", "credential_type": "user", "user_id": rig.admin_id}
    assert playbook(ENGINE, rig.vars(terraform_roles=[role])).rc == 0
    rig.clear_logs()
    run = playbook(ROTATE, rig.vars(role_name="me"))
    assert run.rc != 0 and "it is a user role, which stores no token" in fatal(run), run.output
    missing = playbook(ROTATE, rig.vars(role_name="nope"))
    assert missing.rc != 0 and "no such role" in fatal(missing), missing.output
    assert rig.writes() == []


def test_rotate_root_with_an_organization_token(rig, playbook):
    role = {"name": "acme", "credential_type": "organization", "organization": "acme"}
    assert playbook(ENGINE, rig.vars(terraform_roles=[role])).rc == 0
    org_token = rig.vault("GET", "terraform/creds/acme")["data"]["token"]
    # The engine's own token becomes the organization token; rotating it replaces that token in TFE.
    rig.write_secrets(org_token)
    assert playbook(ENGINE, rig.vars(update_token="always")).changed == 1
    run = playbook(ROTATE, rig.vars(target="root", old_token="delete"))
    assert run.rc == 0 and run.changed == 1, run.output
    assert rig.whoami(org_token) == 401
    # The engine works with its new token: a role write mints through it.
    again = playbook(ENGINE, rig.vars(manage_engine=False, terraform_roles=[dict(role, ttl=60)]))
    assert again.rc == 0 and again.changed == 1, again.output
    assert rig.whoami(rig.vault("GET", "terraform/creds/acme")["data"]["token"]) == 200
