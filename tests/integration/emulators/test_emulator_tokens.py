"""The PTFE emulator's team and token routes (api-contracts.md §3.6, §7.2) driven by terrasnek, a client nobody here
wrote, and checked with plain requests: organization and legacy team tokens created and deleted, owners teams, 404
(never 401) for a valid token without access, and the rate limit charged per user, not per token."""
from __future__ import annotations

import pytest
import requests
from terrasnek.api import TFC
from terrasnek.exceptions import TFCHTTPNotFound, TFCHTTPUnclassified

ADMIN = "tokadmin000001.atlasv1.canary-token-routes-admin"
PLAIN = "tokplain000001.atlasv1.canary-token-routes-plain"


@pytest.fixture
def emu(ptfe):
    return ptfe(users=[{"username": "admin", "site_admin": True, "token": ADMIN},
                       {"username": "plain", "site_admin": False, "token": PLAIN}],
                organizations=[{"name": "acme", "owner": "admin"}])


def client(emu, token):
    api = TFC(token, url=emu.url, verify=emu.ca_path, skip_version_check=True)
    api.set_org("acme")
    return api


def whoami(emu, token):
    return requests.get(emu.url + "/api/v2/account/details", headers={"Authorization": "Bearer " + token},
                        verify=emu.ca_path, timeout=10)


def test_terrasnek_creates_and_deletes_an_organization_token(emu):
    api = client(emu, ADMIN)
    first = api.org_tokens.create()["data"]
    assert first["type"] == "authentication-tokens" and first["id"].startswith("at-")
    token = first["attributes"]["token"]
    assert whoami(emu, token).json()["data"]["relationships"]["authenticated-resource"]["data"] == \
        {"id": "acme", "type": "organizations"}
    second = api.org_tokens.create()["data"]["attributes"]["token"]
    assert whoami(emu, token).status_code == 401, "a new organization token replaces the old one"
    assert whoami(emu, second).status_code == 200
    api.org_tokens.destroy()
    assert whoami(emu, second).status_code == 401
    with pytest.raises(TFCHTTPNotFound):
        api.org_tokens.destroy()


def test_terrasnek_creates_and_deletes_a_team_token(emu):
    api = client(emu, ADMIN)
    teams = api.teams.list()["data"]
    assert [t["attributes"]["name"] for t in teams] == ["owners"], "every organization has an owners team"
    owners = teams[0]["id"]
    assert api.teams.show(owners)["data"]["attributes"]["users-count"] == 1
    created = api.team_tokens.create(owners)["data"]
    token = created["attributes"]["token"]
    assert created["relationships"]["team"]["data"] == {"id": owners, "type": "teams"}
    assert whoami(emu, token).status_code == 200
    # The owners team's token may manage the organization token.
    assert client(emu, token).org_tokens.create()["data"]["attributes"]["token"]
    api.team_tokens.destroy(owners)
    assert whoami(emu, token).status_code == 401


def test_valid_token_without_access_gets_404_and_bad_token_401(emu):
    plain = client(emu, PLAIN)
    with pytest.raises(TFCHTTPNotFound):
        plain.org_tokens.create()
    owners = client(emu, ADMIN).teams.list()["data"][0]["id"]
    with pytest.raises(TFCHTTPNotFound):
        plain.team_tokens.create(owners)
    # terrasnek's POST files a 401 as "unclassified"; the body is TFE's.
    with pytest.raises(TFCHTTPUnclassified) as refused:
        client(emu, "nosuchtoken0001.atlasv1.nope").org_tokens.create()
    assert refused.value.args[0] == {"errors": [{"status": "401", "title": "unauthorized"}]}


def test_user_and_multi_team_tokens_and_tokens_by_id(emu):
    headers = {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/vnd.api+json"}
    state = emu.state()
    admin_id = next(u["id"] for u in state["users"] if u["username"] == "admin")
    plain_id = next(u["id"] for u in state["users"] if u["username"] == "plain")
    url = emu.url + "/api/v2/users/%s/authentication-tokens" % admin_id
    body = {"data": {"type": "authentication-tokens", "attributes": {"description": "ci"}}}
    made = requests.post(url, json=body, headers=headers, verify=emu.ca_path, timeout=10)
    assert made.status_code == 201
    token_id, token = made.json()["data"]["id"], made.json()["data"]["attributes"]["token"]
    other = requests.post(emu.url + "/api/v2/users/%s/authentication-tokens" % plain_id, json=body, headers=headers,
                          verify=emu.ca_path, timeout=10)
    assert other.status_code == 404, "only a user's own token creates that user's tokens"
    shown = requests.get(emu.url + "/api/v2/authentication-tokens/" + token_id, headers=headers, verify=emu.ca_path,
                         timeout=10).json()["data"]
    assert shown["attributes"]["token"] is None and shown["attributes"]["description"] == "ci"
    owners = client(emu, ADMIN).teams.list()["data"][0]["id"]
    team_url = emu.url + "/api/v2/teams/%s/authentication-tokens" % owners
    assert requests.post(team_url, json=body, headers=headers, verify=emu.ca_path, timeout=10).status_code == 201
    dup = requests.post(team_url, json=body, headers=headers, verify=emu.ca_path, timeout=10)
    assert dup.status_code == 422 and dup.json()["errors"][0]["source"]["pointer"] == "/data/attributes/description"
    gone = requests.delete(emu.url + "/api/v2/authentication-tokens/" + token_id, headers=headers,
                           verify=emu.ca_path, timeout=10)
    assert gone.status_code == 204 and whoami(emu, token).status_code == 401


def test_rate_limit_is_charged_per_user_not_per_token(emu):
    emu.configure(rate_limit=30, rate_limit_window=5)
    headers = {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/vnd.api+json"}
    state = emu.state()
    admin_id = next(u["id"] for u in state["users"] if u["username"] == "admin")
    second = requests.post(emu.url + "/api/v2/users/%s/authentication-tokens" % admin_id, headers=headers,
                           json={"data": {"attributes": {"description": "second"}}}, verify=emu.ca_path,
                           timeout=10).json()["data"]["attributes"]["token"]
    statuses = [whoami(emu, ADMIN if i % 2 else second).status_code for i in range(29)]
    assert statuses == [200] * 29
    assert whoami(emu, second).status_code == 429, "both tokens of one user share one budget"
    assert whoami(emu, PLAIN).status_code == 200, "another user has a budget of its own"
