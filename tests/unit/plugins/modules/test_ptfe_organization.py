"""ptfe_organization's logic, run against the PTFE emulator in this process: what it reads, decides and writes."""
from __future__ import annotations

import os

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeError
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker
from ansible_collections.ptfe.ops.plugins.modules import ptfe_organization
from tests.emulators.ptfe.fixtures import ADMIN_TOKEN, ModuleStub


def stub(emu, check_mode=False, **params):
    """ptfe_organization's module object with its defaults and ``params``."""
    values = {"name": "acme", "email": "ops@example.com", "state": "present", "token": ADMIN_TOKEN,
              "token_file": None}
    values.update(params)
    return ModuleStub(emu, values, check_mode=check_mode)


def writes(emu):
    return [(e["method"], e["path"]) for e in emu.log if e["method"] != "GET"]


def test_check_mode_predicts_the_creation_and_writes_nothing(emu):
    result = ptfe_organization.run(stub(emu, check_mode=True))
    assert result["changed"] is True and result["action"] == "created"
    assert result["diff"] == {"before": {}, "after": {"name": "acme", "email": "ops@example.com"}}
    assert writes(emu) == [] and emu.state.organizations == {}


def test_create_then_unchanged(emu):
    created = ptfe_organization.run(stub(emu))
    assert created["changed"] is True and created["msg"] == "Created organization acme."
    org = emu.state.organizations["acme"]
    assert created["organization"] == {"name": "acme", "email": "ops@example.com", "external_id": org.external_id,
                                       "created_at": created["organization"]["created_at"]}
    assert created["organization"]["created_at"].endswith("Z")
    for check_mode in (False, True):
        again = ptfe_organization.run(stub(emu, check_mode=check_mode))
        assert again["changed"] is False and again["action"] == "unchanged"
        assert again["diff"]["before"] == again["diff"]["after"] == {"name": "acme", "email": "ops@example.com"}
    assert writes(emu) == [("POST", "/api/v2/organizations")]


def test_email_update_and_removal(emu):
    emu.state.add_organization("acme", "ops@example.com")
    checked = ptfe_organization.run(stub(emu, check_mode=True, email="billing@example.com"))
    assert checked["action"] == "updated" and checked["organization"]["email"] == "billing@example.com"
    assert emu.state.organizations["acme"].email == "ops@example.com" and writes(emu) == []
    updated = ptfe_organization.run(stub(emu, email="billing@example.com"))
    assert updated["diff"] == {"before": {"name": "acme", "email": "ops@example.com"},
                               "after": {"name": "acme", "email": "billing@example.com"}}
    assert emu.state.organizations["acme"].email == "billing@example.com"
    removed_check = ptfe_organization.run(stub(emu, check_mode=True, state="absent", email=None))
    assert removed_check["action"] == "removed" and "acme" in emu.state.organizations
    removed = ptfe_organization.run(stub(emu, state="absent", email=None))
    assert removed["changed"] is True and removed["organization"] == {} and removed["diff"]["after"] == {}
    assert emu.state.organizations == {}
    gone = ptfe_organization.run(stub(emu, state="absent", email=None))
    assert gone["changed"] is False
    assert writes(emu) == [("PATCH", "/api/v2/organizations/acme"), ("DELETE", "/api/v2/organizations/acme")]


def test_the_token_file_wins_over_the_token(emu, tmp_path):
    path = tmp_path / "admin.token"
    path.write_text(ADMIN_TOKEN + "\n")
    result = ptfe_organization.run(stub(emu, token="ignored0000000.atlasv1.not-used", token_file=str(path)))
    assert result["action"] == "created"
    path.write_text("\n")
    with pytest.raises(PtfeError, match="token_file %s holds no token" % path):
        ptfe_organization.run(stub(emu, token_file=str(path)))


def test_a_taken_name_the_token_may_not_see_is_explained(emu):
    emu.state.config["limit_user_organization_creation"] = False
    emu.state.add_organization("taken", "someone@example.com")
    _user, plain = emu.state.add_user("plain", "plain@example.com", "password-long")
    with pytest.raises(PtfeError) as err:
        ptfe_organization.run(stub(emu, name="taken", token=plain))
    assert str(err.value).startswith("Failed to create organization taken: HTTP 422 from POST /api/v2/organizations")
    assert "The name is taken, but this token may not see that organization" in str(err.value)


def problems(**params):
    values = {"name": "acme", "email": "ops@example.com", "token": ADMIN_TOKEN, "token_file": None}
    values.update(params)
    check = Checker(values, secret=["token"])
    ptfe_organization.validate(check)
    return check.problems


def test_validate(tmp_path):
    path = tmp_path / "admin.token"
    path.write_text("x\n")
    os.chmod(path, 0o600)
    assert problems() == [] and problems(token=None, token_file=str(path)) == []
    assert problems(name="acme\n") == ["name must not contain a newline or another control character"]
    assert problems(name="") == ["name must be set"]
    assert problems(name="a.b", email="a@b") == [
        "name must be 1 to 100 letters, digits, '-' or '_', got 'a.b'",
        "email must be an e-mail address (name@domain), got 'a@b'"]
    assert problems(token=None) == ["token_file or token (or TFE_TOKEN) must give the API token"]
    assert problems(token_file=str(tmp_path / "none")) == [
        "token_file must be a file that holds the API token, got %r (no such file)" % str(tmp_path / "none")]


def test_plan_and_predict():
    present = {"state": "present", "name": "acme", "email": "new@example.com"}
    current = {"name": "acme", "email": "old@example.com", "external_id": "org-x", "created_at": "t"}
    assert ptfe_organization.plan(None, present) == "created"
    assert ptfe_organization.plan(current, present) == "updated"
    assert ptfe_organization.plan(dict(current, email="new@example.com"), present) == "unchanged"
    assert ptfe_organization.plan(current, dict(present, state="absent")) == "removed"
    assert ptfe_organization.plan(None, dict(present, state="absent")) == "unchanged"
    assert ptfe_organization.predict("updated", current, present) == dict(current, email="new@example.com")
    assert ptfe_organization.predict("removed", current, present) is None
    assert ptfe_organization.predict("unchanged", current, present) is current
