"""The PTFE emulator's admin Terraform versions routes against api-contracts.md §2 (in-process server)."""
from __future__ import annotations

import pytest
import requests

from tests.emulators.ptfe.server import start_in_thread

ADMIN = "emuadmin0000001.atlasv1.admin"
USER = "emuuser00000001.atlasv1.user"
BASE = "/api/v2/admin/terraform-versions"
SHA_A, SHA_B = "a" * 64, "b" * 64


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = {"users": [{"username": "admin", "site_admin": True, "token": ADMIN}, {"username": "user", "token": USER}],
              "rate_limit_enabled": False}
    srv, ca_path = start_in_thread(config, tls_dir=str(tmp_path_factory.mktemp("tls")))
    yield srv, ca_path
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def api(server):
    srv, ca_path = server
    srv.state.collections.pop("terraform-versions", None)
    srv.state.collections.pop("workspaces", None)
    srv.state.config.update(terraform_versions_filter=True, terraform_versions_archs=True)
    session = requests.Session()

    def call(method, path, body=None, token=ADMIN, params=None):
        headers = {"Content-Type": "application/vnd.api+json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        return session.request(method, srv.url + path, json=body, headers=headers, params=params, verify=ca_path)

    call.server = srv
    return call


def doc(**attrs):
    return {"data": {"type": "terraform-versions", "attributes": attrs}}


def create(api, version, **attrs):
    attrs.setdefault("url", "https://m/%s.zip" % version)
    attrs.setdefault("sha", SHA_A)
    resp = api("POST", BASE, doc(version=version, **attrs))
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]


def test_auth(api):
    assert api("GET", BASE, token=None).status_code == 401
    resp = api("GET", BASE, token=USER)
    assert resp.status_code == 404 and resp.json() == {"errors": [{"status": "404", "title": "not found"}]}
    assert api("POST", BASE, doc(version="1.0.0", url="https://m/x.zip", sha=SHA_A), token=USER).status_code == 404


def test_create_shape_and_validation(api):
    data = create(api, "1.5.7")
    assert data["type"] == "terraform-versions" and data["id"].startswith("tool-")
    attrs = data["attributes"]
    assert attrs["archs"] == [{"url": "https://m/1.5.7.zip", "sha": SHA_A, "os": "linux", "arch": "amd64"}]
    assert (attrs["enabled"], attrs["official"], attrs["beta"], attrs["deprecated"]) == (True, False, False, False)
    assert attrs["deprecated-reason"] is None and attrs["usage"] == 0 and attrs["created-at"].endswith("Z")
    dup = api("POST", BASE, doc(version="1.5.7", url="https://m/x.zip", sha=SHA_A))
    assert dup.status_code == 422
    assert dup.json()["errors"][0]["source"]["pointer"] == "/data/attributes/version"
    for bad in (doc(version="1.5", url="u", sha="s"), doc(version="2.0.0", sha=SHA_A), doc(version="2.0.0", url="u"),
                {"data": {"type": "workspaces", "attributes": {"version": "2.0.0"}}},
                doc(version="2.0.0", archs=[{"url": "u", "sha": "s", "os": "darwin", "arch": "amd64"}])):
        assert api("POST", BASE, bad).status_code == 422, bad


def test_list_filter_search_pagination(api):
    for i in range(25):
        create(api, "1.0.%d" % i)
    page = api("GET", BASE).json()
    assert len(page["data"]) == 20 and page["meta"]["pagination"]["total-count"] == 25
    assert page["meta"]["pagination"]["next-page"] == 2
    page2 = api("GET", BASE, params={"page[number]": 2, "page[size]": 20}).json()
    assert len(page2["data"]) == 5 and page2["links"]["next"] is None
    past = api("GET", BASE, params={"page[number]": 999}).json()
    assert past["data"] == [] and past["meta"]["pagination"]["current-page"] == 999
    exact = api("GET", BASE, params={"filter[version]": "1.0.1", "search[version]": "1.0.2"}).json()
    assert [d["attributes"]["version"] for d in exact["data"]] == ["1.0.1"]
    search = api("GET", BASE, params={"search[version]": "1.0.2", "page[size]": 100}).json()
    assert sorted(d["attributes"]["version"] for d in search["data"]) == ["1.0.2", "1.0.20", "1.0.21", "1.0.22",
                                                                          "1.0.23", "1.0.24"]
    assert api("GET", BASE, params={"filter[version]": "9.9.9"}).json()["data"] == []
    api.server.state.config["terraform_versions_filter"] = False
    ignored = api("GET", BASE, params={"filter[version]": "1.0.1"}).json()
    assert len(ignored["data"]) == 20


def test_patch_archs_rules(api):
    tool = create(api, "1.6.0", archs=[{"url": "https://m/amd.zip", "sha": SHA_A, "os": "linux", "arch": "amd64"},
                                       {"url": "https://m/arm.zip", "sha": SHA_B, "os": "linux", "arch": "arm64"}])
    assert tool["attributes"]["url"] == "https://m/amd.zip" and len(tool["attributes"]["archs"]) == 2
    path = "%s/%s" % (BASE, tool["id"])
    attrs = api("PATCH", path, doc(url="https://m/new.zip", sha=SHA_B)).json()["data"]["attributes"]
    assert attrs["archs"] == [{"url": "https://m/new.zip", "sha": SHA_B, "os": "linux", "arch": "amd64"}]
    attrs = api("PATCH", path, doc(archs=[{"url": "https://m/arm.zip", "sha": SHA_B, "os": "linux",
                                           "arch": "arm64"}])).json()["data"]["attributes"]
    assert attrs["url"] == "" and attrs["sha"] == "" and len(attrs["archs"]) == 1
    attrs = api("PATCH", path, doc(beta=True)).json()["data"]["attributes"]
    assert attrs["beta"] is True and attrs["url"] == "" and len(attrs["archs"]) == 1
    attrs = api("PATCH", path, doc(deprecated=True, **{"deprecated-reason": "old"})).json()["data"]["attributes"]
    assert attrs["deprecated-reason"] == "old"
    attrs = api("PATCH", path, doc(deprecated=False)).json()["data"]["attributes"]
    assert attrs["deprecated-reason"] is None
    other = create(api, "1.7.0")
    assert api("PATCH", "%s/%s" % (BASE, other["id"]), doc(version="1.6.0")).status_code == 422
    assert api("PATCH", "%s/tool-nope" % BASE, doc(beta=True)).status_code == 404


def test_delete_official_in_use_and_workspace_usage(api):
    official = create(api, "0.11.15", official=True)
    plain = create(api, "1.2.0")
    resp = api("DELETE", "%s/%s" % (BASE, official["id"]))
    assert resp.status_code == 422 and "official or is in use" in resp.json()["errors"][0]["detail"]
    api.server.state.collections["workspaces"] = {"ws-1": {"attributes": {"terraform-version": "1.2.0"}}}
    shown = api("GET", "%s/%s" % (BASE, plain["id"])).json()["data"]["attributes"]
    assert shown["usage"] == 1
    assert api("DELETE", "%s/%s" % (BASE, plain["id"])).status_code == 422
    api.server.state.collections["workspaces"] = {}
    resp = api("DELETE", "%s/%s" % (BASE, plain["id"]))
    assert resp.status_code == 204 and resp.content == b""
    assert api("GET", "%s/%s" % (BASE, plain["id"])).status_code == 404


def test_older_server_shapes(api):
    api.server.state.config["terraform_versions_archs"] = False
    data = create(api, "1.3.0")
    assert "archs" not in data["attributes"]
    bad = api("POST", BASE, doc(version="1.3.1", archs=[{"url": "u", "sha": "s", "os": "linux", "arch": "amd64"}]))
    assert bad.status_code == 422
