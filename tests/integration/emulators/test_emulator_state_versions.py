"""The PTFE emulator's workspaces, locks and state versions against api-contracts.md §3.4, §3.5 and §7.3, driven by
a client nobody here wrote (terrasnek) where it has the call, and by plain requests for the wire shapes it has not
(go-tfe's lock body, the unauthenticated upload and download URLs)."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
import requests
from terrasnek.api import TFC
from terrasnek.exceptions import TFCHTTPConflict, TFCHTTPNotFound, TFCHTTPUnclassified, TFCHTTPUnprocessableEntity

ADMIN = "svadmin00000001.atlasv1.canary-sv-admin"
ALICE = "svalice00000001.atlasv1.canary-sv-alice"
BOB = "svbob0000000001.atlasv1.canary-sv-bob"


@pytest.fixture
def emu(ptfe):
    return ptfe(users=[{"username": "admin", "site_admin": True, "token": ADMIN},
                       {"username": "alice", "token": ALICE}, {"username": "bob", "token": BOB}],
                organizations=[{"name": "acme", "owner": "alice"}])


def client(emu, token):
    api = TFC(token, url=emu.url, verify=emu.ca_path, skip_version_check=True)
    api.set_org("acme")
    return api


def raw_state(serial, lineage="lin-1", marker="x"):
    outputs = {"m": {"value": marker, "type": "string"}}
    return json.dumps({"version": 4, "serial": serial, "lineage": lineage, "outputs": outputs, "resources": []}).encode()


def sv_payload(raw, inline=True, **extra):
    parsed = json.loads(raw)
    attrs = {"serial": parsed["serial"], "md5": hashlib.md5(raw).hexdigest(), "lineage": parsed["lineage"]}
    if inline:
        attrs["state"] = base64.b64encode(raw).decode()
    attrs.update(extra)
    return {"data": {"type": "state-versions", "attributes": attrs}}


def post(emu, path, token, body=None):
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/vnd.api+json"}
    return requests.post(emu.url + path, data=None if body is None else json.dumps(body), headers=headers,
                         verify=emu.ca_path, timeout=10)


def detail(exc):
    return exc.value.args[0]["errors"][0]["detail"]


def test_workspaces_and_every_lock_body(emu):
    alice = client(emu, ALICE)
    ws = alice.workspaces.create({"data": {"type": "workspaces", "attributes": {"name": "network"}}})["data"]
    assert ws["type"] == "workspaces" and ws["attributes"]["locked"] is False
    assert ws["relationships"]["organization"]["data"] == {"id": "acme", "type": "organizations"}
    assert alice.workspaces.show(workspace_name="network")["data"]["id"] == ws["id"]
    assert alice.workspaces.show(workspace_id=ws["id"])["data"]["attributes"]["name"] == "network"
    with pytest.raises(TFCHTTPUnprocessableEntity):
        alice.workspaces.create({"data": {"type": "workspaces", "attributes": {"name": "network"}}})
    with pytest.raises(TFCHTTPNotFound):
        client(emu, BOB).workspaces.show(workspace_name="network")

    # plain {"reason"} (the docs, terrasnek), go-tfe's JSON:API-ish body, and no body at all
    for body in ({"reason": "docs"}, {"data": {"type": "", "attributes": {"reason": "Locked by Terraform"}}}, None):
        resp = post(emu, "/api/v2/workspaces/%s/actions/lock" % ws["id"], ALICE, body)
        assert resp.status_code == 200, resp.text
        locked = resp.json()["data"]
        assert locked["attributes"]["locked"] is True
        assert locked["attributes"]["locked-reason"] == (body or {}).get("reason", (
            (body or {}).get("data", {}).get("attributes", {}).get("reason", "")))
        assert locked["relationships"]["locked-by"]["data"]["type"] == "users"
        with pytest.raises(TFCHTTPConflict):
            alice.workspaces.lock(ws["id"], {"reason": "again"})
        assert alice.workspaces.unlock(ws["id"])["data"]["attributes"]["locked"] is False
    with pytest.raises(TFCHTTPConflict) as exc:
        alice.workspaces.unlock(ws["id"])
    assert "already unlocked" in detail(exc)


def test_someone_elses_lock_and_force_unlock(emu):
    alice, admin = client(emu, ALICE), client(emu, ADMIN)
    ws = alice.workspaces.create({"data": {"type": "workspaces", "attributes": {"name": "dns"}}})["data"]
    admin.workspaces.lock(ws["id"], {"reason": "admin works"})
    with pytest.raises(TFCHTTPConflict) as exc:
        alice.workspaces.unlock(ws["id"])
    assert "is locked by User admin" in detail(exc)
    with pytest.raises(TFCHTTPConflict) as exc:
        alice.state_versions.create(ws["id"], sv_payload(raw_state(1)))
    assert alice.workspaces.force_unlock(ws["id"])["data"]["attributes"]["locked"] is False
    with pytest.raises(TFCHTTPConflict):
        alice.workspaces.force_unlock(ws["id"])


def test_inline_state_versions_conflicts_and_reads(emu):
    alice = client(emu, ALICE)
    ws = alice.workspaces.create({"data": {"type": "workspaces", "attributes": {"name": "app"}}})["data"]
    with pytest.raises(TFCHTTPNotFound):
        alice.state_versions.get_current(ws["id"])
    with pytest.raises(TFCHTTPConflict) as exc:
        alice.state_versions.create(ws["id"], sv_payload(raw_state(1)))
    assert detail(exc) == "This workspace is not locked and will only accept state uploads when locked"
    alice.workspaces.lock(ws["id"], {"reason": "upload"})
    first = raw_state(1)
    created = alice.state_versions.create(ws["id"], sv_payload(first))["data"]
    assert created["type"] == "state-versions" and created["attributes"]["status"] == "finalized"
    assert created["attributes"]["serial"] == 1 and created["attributes"]["hosted-state-upload-url"] is None
    with pytest.raises(TFCHTTPUnprocessableEntity):
        alice.state_versions.create(ws["id"], sv_payload(first, serial=2))
    with pytest.raises(TFCHTTPConflict) as exc:
        alice.state_versions.create(ws["id"], sv_payload(raw_state(2, lineage="lin-2")))
    assert detail(exc).startswith("The lineage provided in the state file does not match")
    with pytest.raises(TFCHTTPConflict) as exc:
        alice.state_versions.create(ws["id"], sv_payload(raw_state(1, marker="other")))
    assert detail(exc) == ("The MD5 hash of the state provided does not match what is currently known for the same "
                           "serial number")
    forced = alice.state_versions.create(ws["id"], sv_payload(raw_state(2, lineage="lin-2"), force=True))["data"]
    alice.workspaces.unlock(ws["id"])

    current = alice.state_versions.get_current(ws["id"])["data"]
    assert current["id"] == forced["id"]
    url = current["attributes"]["hosted-state-download-url"]
    assert requests.get(url, verify=emu.ca_path, timeout=10).content == raw_state(2, lineage="lin-2")
    listed = alice.state_versions.list(filters=[{"keys": ["workspace", "name"], "value": "app"},
                                                {"keys": ["organization", "name"], "value": "acme"}])
    assert [item["attributes"]["serial"] for item in listed["data"]] == [2, 1]
    assert alice.state_versions.show(created["id"])["data"]["attributes"]["serial"] == 1


def test_pending_state_version_and_one_shot_upload_url(emu):
    alice = client(emu, ALICE)
    ws = alice.workspaces.create({"data": {"type": "workspaces", "attributes": {"name": "pending"}}})["data"]
    alice.workspaces.lock(ws["id"], {"reason": "upload"})
    raw = raw_state(3)
    pending = alice.state_versions.create(ws["id"], sv_payload(raw, inline=False))["data"]
    assert pending["attributes"]["status"] == "pending"
    upload_url = pending["attributes"]["hosted-state-upload-url"]
    assert upload_url and pending["attributes"]["hosted-json-state-upload-url"]
    with pytest.raises(TFCHTTPUnclassified) as exc:
        alice.workspaces.unlock(ws["id"])
    assert "latest state version is still pending" in str(exc.value.args[0])
    put = requests.put(upload_url, data=raw, headers={"Content-Type": "application/octet-stream"},
                       verify=emu.ca_path, timeout=10)
    assert put.status_code == 200
    assert requests.put(upload_url, data=raw, verify=emu.ca_path, timeout=10).status_code == 404
    shown = alice.state_versions.show(pending["id"])["data"]["attributes"]
    assert shown["status"] == "finalized" and shown["hosted-state-upload-url"] is None
    alice.workspaces.unlock(ws["id"])

    emu.configure(state_version_upload_urls=False)
    alice.workspaces.lock(ws["id"], {"reason": "upload"})
    with pytest.raises(TFCHTTPUnprocessableEntity) as exc:
        alice.state_versions.create(ws["id"], sv_payload(raw_state(4), inline=False))
    assert "param is missing or the value is empty: state" in detail(exc)


def test_state_storage_entitlement_gates_state_versions(emu):
    alice = client(emu, ALICE)
    ws = alice.workspaces.create({"data": {"type": "workspaces", "attributes": {"name": "gated"}}})["data"]
    emu.configure(entitlements={"state-storage": False})
    assert client(emu, ALICE).orgs.entitlements("acme")["data"]["attributes"]["state-storage"] is False
    with pytest.raises(TFCHTTPNotFound):
        alice.state_versions.get_current(ws["id"])
    alice.workspaces.lock(ws["id"], {"reason": "upload"})
    with pytest.raises(TFCHTTPNotFound):
        alice.state_versions.create(ws["id"], sv_payload(raw_state(1)))
