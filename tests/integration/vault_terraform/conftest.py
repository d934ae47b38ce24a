"""The terraform secrets engine's tests: the PTFE emulator (own process, HTTPS) with a site admin who owns the
organization ``acme``, a second team in it and a plain user; the engine's front (tests/emulators/vault_terraform.py)
before a dev OpenBao. Tests read both servers back past the collection: the PTFE emulator's control API and request
log, the front's request log and raw Vault requests."""
from __future__ import annotations

import os

import pytest
import requests

from tests.emulators.vault_terraform import start_engine
from tests.integration.ptfe_emulator_fixture import ptfe

__all__ = ["ptfe"]

ADMIN_TOKEN = "tfengadmin0001.atlasv1.canary-engine-admin-token-4f9a1c"
PLAIN_TOKEN = "tfengplain0001.atlasv1.canary-engine-plain-token-77be20"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Rig:
    """The PTFE emulator, the engine in front of OpenBao, and the secrets file playbooks read."""

    def __init__(self, emulator, front, bao, directory):
        self.ptfe = emulator
        self.front = front
        self.bao = bao
        self.dir = directory
        state = emulator.state()
        self.admin_id = next(u["id"] for u in state["users"] if u["username"] == "admin")
        self.plain_id = next(u["id"] for u in state["users"] if u["username"] == "plain")
        teams = emulator.control("GET", "teams")
        self.owners_team = next(t["id"] for t in teams if t["organization"] == "acme" and t["name"] == "owners")
        self.ci_team = emulator.control("POST", "teams", {"organization": "acme", "name": "ci",
                                                          "members": ["plain"]})["id"]
        self.secrets = directory / "secrets.yml"
        self.write_secrets(ADMIN_TOKEN)

    def write_secrets(self, tfe_token):
        """The vars file with the Vault token and the TFE token the engine gets (mode 0600)."""
        self.secrets.write_text("vault_token: %s\ntfe_token: %s\n" % (self.bao.root_token, tfe_token))
        os.chmod(self.secrets, 0o600)

    def vars(self, **values):
        extra = {"vault_url": self.front.url, "vault_ca": self.front.ca_path, "tfe_address": self.ptfe.url,
                 "secret_vars_file": str(self.secrets)}
        extra.update(values)
        return extra

    def vault(self, method, path, body=None, ok=(200, 204)):
        """A raw Vault request through the front, with the root token: the truth past the collection."""
        resp = requests.request(method, self.front.url + "/v1/" + path, json=body, verify=self.front.ca_path,
                                headers={"X-Vault-Token": self.bao.root_token}, timeout=30)
        assert resp.status_code in ok, (method, path, resp.status_code, resp.text)
        return resp.json() if resp.content else {}

    def whoami(self, token):
        """Status of GET /api/v2/account/details with ``token`` on the PTFE emulator."""
        return requests.get(self.ptfe.url + "/api/v2/account/details", headers={"Authorization": "Bearer " + token},
                            verify=self.ptfe.ca_path, timeout=30).status_code

    def clear_logs(self):
        self.ptfe.requests_log(clear=True)
        self.front.clear_log()

    def writes(self):
        """The requests that could change something, on either server, since the last clear."""
        tfe = [(e["method"], e["path"]) for e in self.ptfe.requests_log() if e["method"] in WRITES]
        vault = [(e["method"], e["path"]) for e in self.front.requests_log() if e["method"] in WRITES]
        return tfe + vault

    def requests(self):
        """Every request either server saw since the last clear."""
        return ([("ptfe", e["method"], e["path"]) for e in self.ptfe.requests_log()]
                + [("vault", e["method"], e["path"]) for e in self.front.requests_log()])

    def tokens(self):
        """The PTFE emulator's tokens (ids, kinds, owners; never values)."""
        return sorted((t["id"], t["kind"], t["owner_id"]) for t in self.ptfe.state()["tokens"])


@pytest.fixture
def rig(ptfe, tmp_path):  # pylint: disable=redefined-outer-name
    emulator = ptfe(users=[{"username": "admin", "site_admin": True, "token": ADMIN_TOKEN},
                           {"username": "plain", "site_admin": False, "token": PLAIN_TOKEN}],
                    organizations=[{"name": "acme", "owner": "admin"}])
    try:
        front, bao = start_engine(tmp_path / "engine", tfe_ca=emulator.ca_path)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield Rig(emulator, front, bao, tmp_path)
    finally:
        front.stop()
        bao.stop()
