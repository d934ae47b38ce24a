"""The PTFE emulator against its contract, and against a client nobody here wrote (terrasnek)."""
from __future__ import annotations

import concurrent.futures
import subprocess

import pytest
import requests
from terrasnek.api import TFC
from terrasnek.exceptions import TFCHTTPNotFound, TFCHTTPUnauthorized


@pytest.fixture
def emu(ptfe):
    return ptfe()


@pytest.fixture
def admin(emu):
    return emu.control("POST", "users", {"username": "admin", "site_admin": True})["token"]


def call(emu, method, path, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = "Bearer " + token
    return requests.request(method, emu.url + path, headers=headers, verify=emu.ca_path, timeout=10, **kwargs)


def test_terrasnek_organizations_and_entitlements(emu, admin):
    api = TFC(admin, url=emu.url, verify=emu.ca_path, skip_version_check=True)
    created = api.orgs.create({"data": {"type": "organizations",
                                        "attributes": {"name": "snek", "email": "snek@example.com"}}})
    assert created["data"]["id"] == "snek"
    assert created["included"][0]["type"] == "entitlement-sets"
    shown = api.orgs.show("snek")
    external_id = shown["data"]["attributes"]["external-id"]
    assert external_id.startswith("org-")
    assert shown["data"]["relationships"]["entitlement-set"]["data"]["id"] == external_id
    ent = api.orgs.entitlements("snek")
    assert ent["data"]["type"] == "entitlement-sets" and ent["data"]["id"] == external_id
    assert ent["data"]["attributes"]["state-storage"] is True
    assert [o["id"] for o in api.orgs.list()["data"]] == ["snek"]
    assert [o["id"] for o in api.orgs.list_all()["data"]] == ["snek"]
    api.orgs.destroy("snek")
    assert emu.state()["organizations"] == []


def test_terrasnek_account_details_and_organization_update(emu, admin):
    """What ptfe_initial_admin_info and ptfe_organization ask, asked by terrasnek."""
    api = TFC(admin, url=emu.url, verify=emu.ca_path, skip_version_check=True)
    with pytest.raises(TFCHTTPNotFound):
        api.orgs.show("acme")
    api.orgs.create({"data": {"type": "organizations", "attributes": {"name": "acme", "email": "a@example.com"}}})
    updated = api.orgs.update("acme", {"data": {"type": "organizations",
                                                "attributes": {"email": "billing@example.com"}}})
    assert updated["data"]["id"] == "acme" and updated["data"]["attributes"]["email"] == "billing@example.com"
    assert api.orgs.show("acme")["data"]["attributes"]["email"] == "billing@example.com"

    # terrasnek builds its account endpoint only once an organization is chosen.
    def account(token):
        client = TFC(token, url=emu.url, verify=emu.ca_path, skip_version_check=True)
        client.set_org("acme")
        return client.account.show()["data"]

    me = account(admin)
    assert me["type"] == "users" and me["id"].startswith("user-")
    assert me["attributes"]["username"] == "admin" and me["attributes"]["is-site-admin"] is True
    plain = emu.control("POST", "users", {"username": "plain"})["token"]
    assert account(plain)["attributes"]["is-site-admin"] is False
    with pytest.raises(TFCHTTPUnauthorized):
        account("not-a-token.atlasv1.x")

    api.orgs.destroy("acme")
    with pytest.raises(TFCHTTPNotFound):
        api.orgs.show("acme")


def test_health_check_as_installers_poll_it_with_curl(emu):
    """``curl -ksfS https://host/_health_check`` until it succeeds, as HashiCorp's install tests do (§0.5)."""
    def curl():
        return subprocess.run(["curl", "-sfS", "--cacert", emu.ca_path, emu.url + "/_health_check"],
                              capture_output=True, text=True, timeout=30, check=False)

    emu.configure(boot_seconds=30)
    booting = curl()
    assert booting.returncode == 22 and "503" in booting.stderr
    emu.configure(boot_seconds=0)
    up = curl()
    assert up.returncode == 0, up.stderr
    assert [e["path"] for e in emu.requests_log() if e["method"] == "GET"] == ["/_health_check"] * 2


def test_organization_errors(emu, admin):
    doc = {"data": {"type": "organizations", "attributes": {"name": "acme", "email": "a@example.com"}}}
    assert call(emu, "POST", "/api/v2/organizations", admin, json=doc).status_code == 201
    dup = call(emu, "POST", "/api/v2/organizations", admin, json=doc)
    assert dup.status_code == 422
    assert dup.json()["errors"][0]["source"]["pointer"] == "/data/attributes/name"
    user = emu.control("POST", "users", {"username": "plain"})["token"]
    assert call(emu, "POST", "/api/v2/organizations", user, json=doc).status_code == 404
    assert call(emu, "GET", "/api/v2/organizations/acme", user).json() == {
        "errors": [{"status": "404", "title": "not found"}]}
    assert call(emu, "GET", "/api/v2/organizations/acme").json() == {
        "errors": [{"status": "401", "title": "unauthorized"}]}


def test_pagination_shape(emu, admin):
    emu.configure(rate_limit_enabled=False)
    for i in range(45):
        doc = {"data": {"type": "organizations", "attributes": {"name": "o%02d" % i, "email": "a@example.com"}}}
        assert call(emu, "POST", "/api/v2/organizations", admin, json=doc).status_code == 201
    first = call(emu, "GET", "/api/v2/organizations", admin).json()
    assert len(first["data"]) == 20
    assert first["meta"]["pagination"] == {"current-page": 1, "page-size": 20, "prev-page": None, "next-page": 2,
                                           "total-pages": 3, "total-count": 45}
    assert first["links"]["next"] == emu.url + "/api/v2/organizations?page%5Bnumber%5D=2&page%5Bsize%5D=20"
    assert first["links"]["prev"] is None
    big = call(emu, "GET", "/api/v2/organizations", admin, params={"page[size]": 500}).json()
    assert len(big["data"]) == 45 and big["meta"]["pagination"]["page-size"] == 100
    past = call(emu, "GET", "/api/v2/organizations", admin, params={"page[number]": 999}).json()
    assert past["data"] == [] and past["meta"]["pagination"]["current-page"] == 999


def test_iact_trusted_proxies_and_unlimited(ptfe):
    emu = ptfe(iact_subnet_list="10.0.0.0/8", iact_trusted_proxies=[])
    relayed = {"X-Forwarded-For": "10.1.2.3"}
    refused = call(emu, "GET", "/admin/retrieve-iact", headers=dict(relayed))
    assert refused.status_code == 401 and refused.headers["Content-Type"].startswith("text/html")
    emu.configure(iact_trusted_proxies=["127.0.0.1"])
    assert call(emu, "GET", "/admin/retrieve-iact", headers=dict(relayed)).status_code == 200
    assert call(emu, "GET", "/admin/retrieve-iact").status_code == 401  # the proxy itself is not in the list
    emu.configure(iact_subnet_list="127.0.0.0/8", install_started_seconds_ago=36000)
    assert call(emu, "GET", "/admin/retrieve-iact").status_code == 401
    emu.configure(iact_subnet_time_limit="unlimited")
    ok = call(emu, "GET", "/admin/retrieve-iact")
    assert ok.status_code == 200 and ok.text == emu.control("GET", "iact")["iact"]


def test_initial_admin_user_contract(emu):
    iact = emu.control("GET", "iact")["iact"]
    body = {"username": "admin", "email": "a@example.com", "password": "0123456789"}
    assert call(emu, "POST", "/admin/initial-admin-user", params={"token": "wrong"}, json=body).status_code == 404
    short = call(emu, "POST", "/admin/initial-admin-user", params={"token": iact}, json=dict(body, password="123"))
    assert short.status_code == 422 and short.json()["status"] == "error"
    missing = call(emu, "POST", "/admin/initial-admin-user", params={"token": iact}, json={"username": "admin"})
    assert missing.status_code == 422
    created = call(emu, "POST", "/admin/initial-admin-user", params={"token": iact}, json=body)
    assert created.status_code == 200 and created.json()["status"] == "created"
    token = created.json()["token"]
    assert call(emu, "GET", "/api/v2/account/details", token).json()["data"]["attributes"]["is-site-admin"] is True
    again = call(emu, "POST", "/admin/initial-admin-user", params={"token": iact}, json=body)
    assert again.status_code == 404 and again.json() == {"status": "error", "error": "Unauthorized to perform action"}
    assert all(iact not in entry["path"] for entry in emu.requests_log())
    assert any("token=REDACTED" in entry["path"] for entry in emu.requests_log())


def test_ping_well_known_and_health(emu):
    ping = call(emu, "GET", "/api/v2/ping")
    assert ping.status_code == 204 and ping.headers["X-RateLimit-Limit"] == "30"
    assert ping.headers["TFP-AppName"] == "Terraform Enterprise"
    assert call(emu, "GET", "/.well-known/terraform.json").json()["tfe.v2"] == "/api/v2/"
    emu.configure(boot_seconds=30)
    assert call(emu, "GET", "/_health_check").status_code == 503
    emu.configure(boot_seconds=0)
    assert call(emu, "GET", "/_health_check").status_code == 200


def test_rate_limiter_body_and_headers(emu, admin):
    session = requests.Session()

    def one(_index):
        return session.get(emu.url + "/api/v2/account/details", headers={"Authorization": "Bearer " + admin},
                           verify=emu.ca_path, timeout=10)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(90)))
    limited = [a for a in answers if a.status_code == 429]
    assert limited, "90 requests from 8 threads should exceed 30 per second"
    assert limited[0].json() == {"errors": [{"detail": "You have exceeded the API's rate limit.", "status": 429,
                                             "title": "Too many requests"}]}
    assert limited[0].headers["X-RateLimit-Limit"] == "30"
    assert 0 <= float(limited[0].headers["X-RateLimit-Reset"]) <= 1.0
    assert sum(1 for a in answers if a.status_code == 200) >= 30


def test_faults_drop_and_delay(emu):
    emu.control("POST", "faults", {"path": "^/api/v2/ping$", "drop": True, "count": 1})
    with pytest.raises(requests.ConnectionError):
        call(emu, "GET", "/api/v2/ping")
    assert call(emu, "GET", "/api/v2/ping").status_code == 204
    emu.control("DELETE", "faults")
    emu.control("POST", "faults", {"path": "^/api/v2/ping$", "status": 429, "seconds": 60, "reset": 0.5})
    storm = call(emu, "GET", "/api/v2/ping")
    assert storm.status_code == 429 and storm.headers["X-RateLimit-Reset"] == "0.500"
