"""Fixtures for the tool_versions integration tests: the PTFE emulator (own process) and the releases mirror."""
from __future__ import annotations

import json

import pytest
import requests

from tests.emulators.ptfe.process import start_emulator
from tests.emulators.ptfe.server import start_in_thread
from tests.emulators.releases import ReleasesMirror

ADMIN_TOKEN = "tvadmin00000001.atlasv1.canary-admin-token-7f3a9c"
USER_TOKEN = "tvuser000000001.atlasv1.canary-user-token-1b2c3d"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """HTTPS releases mirror serving any version (zips + SHA256SUMS)."""
    with ReleasesMirror(tmp_path_factory.mktemp("releases"), auto=True) as m:
        yield m


USERS = [
    {"username": "tvadmin", "site_admin": True, "token": ADMIN_TOKEN},
    {"username": "tvuser", "site_admin": False, "token": USER_TOKEN},
]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """PTFE emulator with a site admin and an ordinary user."""
    handle = start_emulator({"users": USERS}, tmp_path_factory.mktemp("ptfe"))
    try:
        yield handle
    finally:
        handle.stop()


class Rig:
    """One test's view: emulator + mirror + a helper to run a playbook and read back its saved result."""

    def __init__(self, emulator, mirror, tmp_path, run_playbook):
        self.emulator = emulator
        self.mirror = mirror
        self.tmp_path = tmp_path
        self._run = run_playbook
        emulator.control("DELETE", "terraform-versions")
        emulator.control("PATCH", "config", {"terraform_versions_filter": True})
        emulator.requests_log(clear=True)
        mirror.reset_log()

    def base_vars(self, token=ADMIN_TOKEN):
        return {"tv_address": self.emulator.url, "tv_token": token, "tv_ca_path": self.emulator.ca_path,
                "tv_checksum_ca_path": str(self.mirror.ca_path)}

    def run(self, playbook, extra_vars=None, token=ADMIN_TOKEN, token_in_env=False, **kwargs):
        """Run a playbook from playbooks/; returns (PlaybookResult, saved results dict).

        ``token_in_env`` passes the token as TFE_TOKEN instead of an extra var (ansible-playbook itself echoes
        its extra vars at -vvvv).
        """
        result_path = self.tmp_path / ("result-%s.json" % playbook.replace("/", "_"))
        if result_path.exists():
            result_path.unlink()
        evars = self.base_vars(token)
        if token_in_env:
            del evars["tv_token"]
            kwargs["env"] = dict(kwargs.get("env") or {}, TFE_TOKEN=token)
        evars["tv_result_path"] = str(result_path)
        evars.update(extra_vars or {})
        res = self._run("tool_versions/playbooks/%s" % playbook, extra_vars=evars, **kwargs)
        saved = json.loads(result_path.read_text()) if result_path.exists() else None
        return res, saved

    def version_entry(self, version, **extra):
        entry = {"version": version, "url": self.mirror.zip_url(version), "sha256": self.mirror.sha256(version)}
        entry.update(extra)
        return entry

    def seed(self, *entries):
        """Seed versions straight into the emulator (control API): dicts of API attributes."""
        return self.emulator.control("POST", "terraform-versions", {"versions": list(entries)})

    def server_versions(self):
        """Read back from the emulator, not through our modules: version -> record."""
        return {r["version"]: r for r in self.emulator.control("GET", "terraform-versions")}

    def api_requests(self):
        return [r for r in self.emulator.requests_log() if r["path"].startswith("/api/")]

    def writes(self):
        return [r for r in self.api_requests() if r["method"] in ("POST", "PATCH", "DELETE")]


@pytest.fixture
def rig(emulator, mirror, tmp_path, playbook):
    return Rig(emulator, mirror, tmp_path, playbook)


class PlainHttpEmulator:
    """The PTFE emulator served over plain http from this process, with the control API of EmulatorHandle."""

    ca_path = ""

    def __init__(self, config):
        self.server, _ca_path = start_in_thread(config)
        assert self.server.url.startswith("http://")
        self.url = self.server.url
        self._session = requests.Session()

    def control(self, method, path, json=None):  # pylint: disable=redefined-outer-name
        resp = self._session.request(method, self.url + "/_emulator/" + path.lstrip("/"), json=json, timeout=30)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def requests_log(self, clear=False):
        log = self.control("GET", "requests")
        if clear:
            self.control("DELETE", "requests")
        return log

    def stop(self):
        self._session.close()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def plain_http_emulator():
    """The same users as ``emulator``, on http://: an installation reached without TLS."""
    emu = PlainHttpEmulator({"users": USERS})
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def plain_http_rig(plain_http_emulator, mirror, tmp_path, playbook):
    return Rig(plain_http_emulator, mirror, tmp_path, playbook)
