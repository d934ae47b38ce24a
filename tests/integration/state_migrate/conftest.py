"""Fixtures for the ptfe_state_migrate tests: a target PTFE and a source "SaaS", each an emulator process, and
helpers that put states into the source and read the target back past the module."""
from __future__ import annotations

import base64
import hashlib
import json
import uuid

import pytest

from tests.integration.ptfe_emulator_fixture import ptfe, read_back

__all__ = ["ptfe"]

TARGET_TOKEN = "migtarget000001.atlasv1.canary-migration-target-token-4f8e2a"
SOURCE_TOKEN = "migsource000001.atlasv1.canary-migration-source-token-7b1d9c"
OTHER_TOKEN = "migother0000001.atlasv1.canary-migration-other-token-2c6e5d"
ORG = "acme"
SOURCE_ORG = "legacy"


def make_state(lineage, serial, marker="x"):
    """The raw bytes of a Terraform 1.x state with one output."""
    doc = {"version": 4, "terraform_version": "1.5.7", "serial": serial, "lineage": lineage,
           "outputs": {"marker": {"value": marker, "type": "string"}}, "resources": [], "check_results": None}
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def new_lineage():
    return str(uuid.uuid4())


class Site:
    """One emulator seen with one token, in one organization."""

    def __init__(self, emulator, token, org):
        self.emulator = emulator
        self.token = token
        self.org = org

    def call(self, method, path, expect=(200, 201, 204), **kwargs):
        resp = read_back(self.emulator, method, path, self.token, **kwargs)
        assert resp.status_code in expect, (method, path, resp.status_code, resp.text)
        return resp

    def workspace(self, name):
        """The workspace document's data, or None."""
        resp = self.call("GET", "/api/v2/organizations/%s/workspaces/%s" % (self.org, name), expect=(200, 404))
        return resp.json()["data"] if resp.status_code == 200 else None

    def ensure_workspace(self, name):
        ws = self.workspace(name)
        if ws is None:
            ws = self.call("POST", "/api/v2/organizations/%s/workspaces" % self.org,
                           json={"data": {"type": "workspaces", "attributes": {"name": name}}}).json()["data"]
        return ws

    def push(self, name, raw, force=False):
        """Upload ``raw`` as a new state version of workspace ``name`` (made when missing), under a lock."""
        ws = self.ensure_workspace(name)
        parsed = json.loads(raw)
        self.call("POST", "/api/v2/workspaces/%s/actions/lock" % ws["id"], json={"reason": "test setup"})
        try:
            attrs = {"serial": parsed["serial"], "md5": hashlib.md5(raw).hexdigest(), "lineage": parsed["lineage"],
                     "state": base64.b64encode(raw).decode()}
            if force:
                attrs["force"] = True
            self.call("POST", "/api/v2/workspaces/%s/state-versions" % ws["id"],
                      json={"data": {"type": "state-versions", "attributes": attrs}}, expect=(201,))
        finally:
            self.call("POST", "/api/v2/workspaces/%s/actions/unlock" % ws["id"])
        return ws

    def current(self, name):
        """(raw state, current state version data) of workspace ``name``; (None, None) without state."""
        ws = self.workspace(name)
        resp = self.call("GET", "/api/v2/workspaces/%s/current-state-version" % ws["id"], expect=(200, 404))
        if resp.status_code == 404:
            return None, None
        data = resp.json()["data"]
        raw = read_back(self.emulator, "GET", data["attributes"]["hosted-state-download-url"]
                        .replace(self.emulator.url, "")).content
        return raw, data

    def control_workspace(self, name):
        """The workspace as the emulator's control API shows it (lock holder, every state version)."""
        for ws in self.emulator.control("GET", "/_emulator/workspaces"):
            if ws["organization"] == self.org and ws["name"] == name:
                return ws
        return None


class Migration:
    """The target (PTFE) and the source (another TFE), with the extra vars a playbook needs."""

    def __init__(self, target, source, secrets_file):
        self.target = target
        self.source = source
        self.secrets_file = secrets_file

    def vars(self, workspaces, **values):
        extra = {"address": self.target.emulator.url, "ca_path": self.target.emulator.ca_path,
                 "organization": ORG, "workspaces": workspaces, "secret_vars_file": str(self.secrets_file),
                 "source_address": self.source.emulator.url, "source_ca_path": self.source.emulator.ca_path,
                 "source_organization": SOURCE_ORG}
        extra.update(values)
        return extra


@pytest.fixture
def migration(ptfe, tmp_path):
    target = ptfe(users=[{"username": "migrator", "site_admin": True, "token": TARGET_TOKEN},
                         {"username": "bob", "site_admin": False, "token": OTHER_TOKEN}],
                  organizations=[{"name": ORG, "owner": "migrator"}])
    source = ptfe(users=[{"username": "saas-user", "site_admin": False, "token": SOURCE_TOKEN}],
                  organizations=[{"name": SOURCE_ORG, "owner": "saas-user"}])
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("target_token: %s\nsource_token: %s\n" % (TARGET_TOKEN, SOURCE_TOKEN))
    return Migration(Site(target, TARGET_TOKEN, ORG), Site(source, SOURCE_TOKEN, SOURCE_ORG), secrets)
