"""Servers the bad-input tables run against: the PTFE emulator, with one site admin whose token is a canary."""
from __future__ import annotations

import pytest

from tests.emulators.ptfe.process import start_emulator

ADMIN_TOKEN = "biadmin00000001.atlasv1.canary-bad-input-admin-4e1f"


@pytest.fixture(scope="module")
def ptfe(tmp_path_factory):
    handle = start_emulator({"users": [{"username": "biadmin", "site_admin": True, "token": ADMIN_TOKEN}]},
                            tmp_path_factory.mktemp("ptfe"))
    try:
        yield handle
    finally:
        handle.stop()


def writes(log):
    """The requests of an emulator log that change something."""
    return [entry for entry in log if entry.get("method") not in ("GET", "HEAD")]


# -- the Vault side: an address that records every connection, and real OpenBao servers ---------------------------


class Listener:
    """A TCP port on 127.0.0.1 that accepts every connection, counts it and closes it: the address of a Vault to
    which no request may be sent (any attempt, TLS handshake included, is counted)."""

    def __init__(self):
        import socket  # pylint: disable=import-outside-toplevel
        import threading  # pylint: disable=import-outside-toplevel

        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = "https://127.0.0.1:%d" % self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn = self._sock.accept()[0]
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self._sock.close()


@pytest.fixture(scope="module")
def listener():
    handle = Listener()
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture(scope="module")
def openbao_servers(tmp_path_factory):
    """``start(shares, threshold)``: a started, initialised and unsealed OpenBao (raft, TLS with its own CA),
    stopped when the module's tests end."""
    from tests.emulators.openbao import start_openbao  # pylint: disable=import-outside-toplevel

    servers = []

    def start(shares=1, threshold=1):
        server = start_openbao(tmp_path_factory.mktemp("bao"), shares, threshold)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def tree(directory):
    """Every file (its bytes) and directory (None) below ``directory``, by relative path."""
    found = {}
    for path in sorted(directory.rglob("*")):
        found[str(path.relative_to(directory))] = path.read_bytes() if path.is_file() else None
    return found


def batch_against(listener, playbook, cases, tmp_path_factory, common, prepare=None):
    """Run the table ``cases`` (one ansible-playbook run, see harness.run_batch) against ``listener``, the Vault
    to which no request may go. Every case has a directory of its own (host variable ``case_dir``), which
    ``prepare(directory, case)`` fills as the case needs; ``vault_url`` is the listener and ``vault_ca`` a CA bundle
    that exists but is never used. The batch carries what each directory held before (``before``), its ``root``
    and the listener's ``connections`` after the run; :func:`assert_left_alone` compares."""
    from tests.integration.bad_input.harness import run_batch  # pylint: disable=import-outside-toplevel

    root = tmp_path_factory.mktemp("cases")
    ca = root / "vault-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nnot used: no request is ever sent\n-----END CERTIFICATE-----\n")
    before = {}
    for case in cases:
        (root / case.host).mkdir()
        if prepare is not None:
            prepare(root / case.host, case)
        before[case.host] = tree(root / case.host)
    values = {"case_dir": str(root) + "/{{ inventory_hostname }}", "vault_url": listener.url, "vault_ca": str(ca)}
    values.update(common)
    result = run_batch(playbook, cases, tmp_path_factory.mktemp("inventory"), values)
    result.root, result.before, result.connections = root, before, listener.connections
    return result


def assert_left_alone(batch, case):
    """Nothing in the case's directory was written, changed or removed, no file appeared beside the directories
    of the cases, and no request reached the listener."""
    assert tree(batch.root / case.host) == batch.before[case.host], "%s: a file was written, changed or removed" \
        % case.id
    assert sorted(path.name for path in batch.root.iterdir()) == sorted(list(batch.before) + ["vault-ca.pem"]), \
        "%s: a file appeared beside the cases' directories" % case.id
    assert batch.connections == 0, "a refused input still connected to Vault %d time(s)" % batch.connections
