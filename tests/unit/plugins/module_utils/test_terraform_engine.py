"""The decisions of the Terraform secrets engine modules (plugins/module_utils/_terraform_engine.py)."""
from __future__ import annotations

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._terraform_engine import (
    check_mount_path,
    check_role,
    config_body,
    config_plan,
    creds_view,
    implied_type,
    parse_duration,
    role_body,
    role_plan,
)
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker


@pytest.mark.parametrize("raw, seconds", [
    (None, 0), ("", 0), (0, 0), (3600, 3600), ("3600", 3600), ("1h", 3600), ("60m", 3600), ("3600s", 3600),
    ("1h30m", 5400), ("2d", 172800), ("1d1h1m1s", 90061),
])
def test_durations_are_normalised_to_seconds(raw, seconds):
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["1.5h", "-1", -5, "1w", "h", "1h1h", True, "1 h", "٣"])
def test_bad_durations_are_refused(raw):
    with pytest.raises(ValueError):
        parse_duration(raw)


def role(**params):
    base = {"name": "r", "state": "present", "credential_type": None, "organization": None, "team_id": None,
            "user_id": None, "description": "", "ttl": None, "max_ttl": None}
    base.update(params)
    check = Checker(base)
    return check_role(check), check.problems


def test_a_valid_organization_role():
    desired, problems = role(organization="acme", ttl="1h")
    assert problems == []
    assert desired == {"credential_type": "organization", "organization": "acme", "team_id": "", "user_id": "",
                       "description": "", "ttl": 3600, "max_ttl": 0}


@pytest.mark.parametrize("params, option", [
    ({"user_id": "user-abc", "organization": "acme"}, "user_id"),
    ({"user_id": "user-abc", "team_id": "team-abc"}, "user_id"),
    ({}, "organization, team_id or user_id"),
    ({"organization": "acme", "ttl": "2h", "max_ttl": "1h"}, "ttl must not be greater than max_ttl"),
    ({"organization": "acme", "credential_type": "robot"}, "credential_type"),
    ({"team_id": "team-abc", "credential_type": "team_legacy", "ttl": 60}, "ttl cannot be set"),
    ({"team_id": "team-abc", "description": "x"}, "description cannot be set"),
    ({"credential_type": "user", "organization": "acme"}, "credential_type user needs user_id"),
    ({"organization": "acme", "ttl": "soon"}, "ttl must be a duration"),
    ({"organization": "ac me"}, "organization"),
    ({"team_id": "abc"}, "team_id"),
    ({"name": "a/b", "organization": "acme"}, "name"),
])
def test_bad_roles_are_refused_naming_the_option(params, option):
    desired, problems = role(**params)
    assert desired is None
    assert any(option in problem for problem in problems), problems


@pytest.mark.parametrize("path", ["terraform/../sys", "..", "a/./b", "/terraform", "terraform/", "sys", "a b", "sys/x"])
def test_bad_mount_paths(path):
    check = Checker({"mount_path": path})
    assert check_mount_path(check, "mount_path") is None
    assert check.problems and check.problems[0].startswith("mount_path ")


def test_implied_types_follow_the_plugin():
    assert implied_type({"team_id": "team-a", "organization": "acme"}) == "team_legacy"
    assert implied_type({"user_id": "user-a"}) == "user"
    assert implied_type({"organization": "acme"}) == "organization"
    assert implied_type({"credential_type": "team", "team_id": "team-a"}) == "team"


ORG = {"name": "acme", "ttl": 3600, "max_ttl": 0, "organization": "acme"}


def test_unchanged_role_with_equivalent_durations_is_not_written():
    desired = role(organization="acme", ttl="60m")[0]
    assert role_plan(ORG, desired)["action"] == "unchanged"


def test_changed_ttl_on_organization_role_mints():
    plan = role_plan(ORG, role(organization="acme", ttl="2h")[0])
    assert plan == {"action": "updated", "changes": ["ttl"], "mints_token": True, "untyped": False}


def test_user_role_change_does_not_mint():
    current = {"name": "me", "ttl": 60, "max_ttl": 0, "user_id": "user-a", "credential_type": "user"}
    plan = role_plan(current, role(user_id="user-a", ttl=120)[0])
    assert plan["action"] == "updated" and plan["mints_token"] is False


def test_untyped_role_is_rewritten_only_when_asked():
    current = {"name": "old", "ttl": 0, "max_ttl": 0, "team_id": "team-a"}
    desired = role(team_id="team-a", credential_type="team_legacy")[0]
    assert role_plan(current, desired)["action"] == "unchanged"
    assert role_plan(current, desired)["untyped"] is True
    asked = role_plan(current, desired, upgrade_credential_type=True)
    assert asked["action"] == "updated" and asked["mints_token"] is True


def test_creation_and_removal():
    assert role_plan(None, role(organization="acme")[0])["action"] == "created"
    assert role_plan(ORG, None, state="absent")["action"] == "removed"
    assert role_plan(None, None, state="absent")["action"] == "unchanged"


def test_team_legacy_body_has_no_ttls():
    body = role_body(role(team_id="team-a")[0])
    assert "ttl" not in body and "description" not in body and body["credential_type"] == "team_legacy"


def test_config_always_sends_the_address_and_writes_the_token_only_when_asked():
    current = {"address": "https://tfe.example.com", "base_path": "/api/v2/"}
    assert config_plan(current, "https://TFE.example.com/", "/api/v2", "t", "on_create") == ([], False)
    assert config_plan(current, "https://tfe.example.com", "/api/v2/", "t", "always") == (["token"], True)
    assert config_plan(None, "https://x", "/api/v2/", "t", "on_create") == (["address", "base_path", "token"], True)
    assert config_body("https://x", "/api/v2/") == {"address": "https://x", "base_path": "/api/v2/"}


def test_creds_flag_shared_tokens():
    shared = creds_view("acme", "organization", {"lease_id": "", "data": {"token": "t", "token_id": "at-1"}})
    assert shared["shared"] is True and shared["lease_id"] == ""
    leased = creds_view("me", "user", {"lease_id": "terraform/creds/me/x", "lease_duration": 60, "renewable": True,
                                       "data": {"token": "t", "token_id": "at-2"}})
    assert leased["shared"] is False and leased["lease_duration"] == 60
