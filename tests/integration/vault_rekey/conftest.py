"""Real OpenBao servers (raft storage, TLS with a throwaway CA) and a fault-injecting proxy for the
vault_rekey tests.

Every server binds 127.0.0.1 on free ports and lives in the test worker's temporary directory. Initialising one
costs seconds (raft waits out an election timeout), so each worker initialises a server once and hands it to one
test after another, every time restored to the storage it had right after ``init`` (see OpenBaoPool). Nothing here
goes through the collection's code: the tests read Vault back with ``requests``.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.emulators.openbao import OpenBao, make_tls
from tests.integration.conftest import MotoAccount

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------------------------ TLS


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost."""
    return make_tls(tmp_path_factory.mktemp("vault-tls"))


# ------------------------------------------------------------------------------------------------ OpenBao


class OpenBaoPool:
    """The test worker's OpenBao servers, each initialised once (1 share, threshold 1) and then handed to one test at
    a time as if freshly initialised.

    Right after ``init`` a server is stopped and its raft directory copied aside. Every hand-over kills the process,
    puts that copy back in place of whatever the last test left (rekeyed, sealed, a rekey or a key backup pending, a
    snapshot of its own restored), starts the server with the listener the test asks for and unseals it with the keys
    from ``init``: the keys, the root token and the cluster are those of the copy, and nothing the last test did
    survives, in storage or in memory. A test that asks for another seal shape gets the copy rekeyed to it once (kept
    aside as well), with the new keys as ``init_keys``. The hand-over then reads the server back: unsealed and active,
    the asked shape, its own cluster, no rekey in progress. A test that needs two servers gets two clusters.

    ``handovers.log`` in the pool's directory has a line for every ``init`` and every hand-over.
    """

    BASE_SHAPE = (1, 1)

    def __init__(self, workdir: Path, tls):
        self.workdir = workdir
        self.tls = tls
        self.servers = []
        self.copies = []  # per server: {(shares, threshold): (raft copy, keys)}
        self.clusters = []

    def _note(self, line):
        with open(self.workdir / "handovers.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def _create(self):
        index = len(self.servers)
        started = time.monotonic()
        server = OpenBao(self.workdir / ("bao%d" % index), self.tls)
        try:
            server.start()
            server.init(*self.BASE_SHAPE)
            cluster = server.seal_status()["cluster_id"]
        finally:
            server.stop()  # a clean shutdown: the copy is taken from complete files
        self.servers.append(server)
        self.clusters.append(cluster)
        self.copies.append({})
        self._keep(index, self.BASE_SHAPE, server.init_keys)
        self._note("init bao%d in %.1f s" % (index, time.monotonic() - started))

    def _keep(self, index, shape, keys):
        copy = self.workdir / ("bao%d-raft-%d-of-%d" % (index, shape[0], shape[1]))
        shutil.copytree(self.servers[index].dir / "raft", copy)
        self.copies[index][shape] = (copy, list(keys))

    def _restore(self, index, shape, unauthed_rekey):
        server = self.servers[index]
        if server.proc is not None and server.proc.poll() is None:
            os.killpg(server.proc.pid, signal.SIGKILL)  # what it holds is thrown away: no clean shutdown needed
            server.proc.wait(30)
        copy, keys = self.copies[index][shape]
        shutil.rmtree(server.dir / "raft")
        shutil.copytree(copy, server.dir / "raft")
        server.unauthed_rekey = unauthed_rekey
        server.start()
        server.init_keys = list(keys)
        server.unseal(keys[:shape[1]])

    def _reshape(self, index, shape):
        """Rekey the freshly initialised copy to ``shape`` (no verification) and keep that copy aside too."""
        self._restore(index, self.BASE_SHAPE, False)
        server = self.servers[index]
        init = server.api("POST", "sys/rotate/root/init", {"secret_shares": shape[0], "secret_threshold": shape[1]})
        done = server.api("POST", "sys/rotate/root/update", {"key": server.init_keys[0], "nonce": init["nonce"]})
        assert done.get("complete") is True, done
        server.stop()
        self._keep(index, shape, done["keys_base64"])

    def hand_over(self, index, unauthed_rekey=False, shares=1, threshold=1):
        """Server ``index`` of this worker as freshly initialised with ``shares``/``threshold``, unsealed."""
        started = time.monotonic()
        while len(self.servers) <= index:
            self._create()
        shape = (shares, threshold)
        if shape not in self.copies[index]:
            self._reshape(index, shape)
        self._restore(index, shape, unauthed_rekey)
        server = self.servers[index]
        status = server.seal_status()
        assert status["sealed"] is False and (status["n"], status["t"]) == shape, status
        assert status["cluster_id"] == self.clusters[index], status
        assert server.rekey_status()["started"] is False
        self._note("hand-over bao%d %d/%d in %.1f s" % (index, shares, threshold, time.monotonic() - started))
        return server

    def stop(self):
        for server in self.servers:
            server.stop()


@pytest.fixture(scope="session")
def openbao_pool(tmp_path_factory, tls):
    pool = OpenBaoPool(tmp_path_factory.mktemp("openbao"), tls)
    yield pool
    pool.stop()


@pytest.fixture
def openbao_factory(openbao_pool):
    """``make(unauthed_rekey=False, shares=1, threshold=1)``: the next of this worker's servers (the first call in a
    test gets one, the second another cluster), as if freshly initialised with that seal shape."""
    handed = []

    def make(unauthed_rekey=False, shares=1, threshold=1):
        server = openbao_pool.hand_over(len(handed), unauthed_rekey, shares, threshold)
        handed.append(server)
        return server

    return make


# ------------------------------------------------------------------------------------------------ proxy


class FaultProxy:
    """A TLS-terminating HTTP proxy in front of OpenBao that can kill the ansible-playbook run or drop the
    connection when the Nth request matching (method, path) arrives.

    actions: ``kill-before`` (kill the run, request never forwarded), ``drop-after`` (forward, then close the
    connection without answering), ``kill-after`` (forward, then kill the run without answering).
    """

    def __init__(self, upstream, tls):
        self.upstream = upstream
        self.tls = tls
        self.rules = []
        self.seen = []
        self.victim = None  # a Popen started in its own session
        self.fired = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                proxy.seen.append((self.command, path))
                action = proxy._action(self.command, path)
                if action == "kill-before":
                    proxy._kill()
                    self.close_connection = True
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                resp = requests.request(self.command, proxy.upstream + self.path, data=body or None,
                                        headers=headers, verify=proxy.tls["ca"], timeout=30)
                if action == "drop-after":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if action == "kill-after":
                    proxy._kill()
                    self.close_connection = True
                    return
                payload = resp.content
                self.send_response(resp.status_code)
                for key, value in resp.headers.items():
                    if key.lower() in ("content-type", "cache-control"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls["cert"], tls["key"])
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_rule(self, method, path, nth, action):
        self.rules.append({"method": method, "path": path, "nth": nth, "action": action, "count": 0})

    def _action(self, method, path):
        for rule in self.rules:
            if rule["method"] == method and path == rule["path"]:
                rule["count"] += 1
                if rule["count"] == rule["nth"]:
                    self.fired.append((method, path, rule["action"]))
                    return rule["action"]
        return None

    def _kill(self):
        if self.victim is not None and self.victim.poll() is None:
            os.killpg(self.victim.pid, signal.SIGKILL)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fault_proxy(tls):
    proxies = []

    def make(upstream):
        proxy = FaultProxy(upstream, tls)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


def run_killable(playbook, extra_vars, proxy=None, verbosity=0, check=False, timeout=300):
    """Like run_playbook, but in its own session so that ``proxy`` can SIGKILL the whole run."""
    from tests.integration.conftest import RECAP_RE, PlaybookResult, collections_path

    cmd = [str(Path(sys.executable).with_name("ansible-playbook")), str(HERE / "playbooks" / playbook),
           "-i", "localhost,", "-c", "local", "-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    env = dict(os.environ)
    env.update({"ANSIBLE_COLLECTIONS_PATH": collections_path(), "ANSIBLE_NOCOLOR": "true",
                "ANSIBLE_FORCE_COLOR": "false", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
                "ANSIBLE_RETRY_FILES_ENABLED": "false"})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=str(HERE), start_new_session=True)
    if proxy is not None:
        proxy.victim = proc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    recap = {m.group("host"): {k: int(v) for k, v in m.groupdict().items() if k != "host"}
             for m in RECAP_RE.finditer(out)}
    return PlaybookResult(proc.returncode, out, err, recap)


@pytest.fixture
def killable():
    """The run_killable helper as a fixture."""
    return run_killable


# ------------------------------------------------------------------------------------------------ S3 (moto)

S3_REGION = "eu-west-1"
# moto accepts any credentials; these are canaries that must never be printed.
S3_ACCESS_KEY = "AKIAKEYCUSTODYTEST01"
S3_SECRET_KEY = "custodySecretCanary-3b9e1f7a5c2d"


@pytest.fixture(scope="session")
def moto_s3(moto_server):
    """The worker's moto server (S3 and KMS, tests/integration/conftest.py) with the custody canary credentials."""
    return MotoAccount(moto_server, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY)
