"""The PTFE emulator in the test process, for unit tests of the modules' logic.

A test module takes the fixtures by name::

    from tests.emulators.ptfe import fixtures

    server = fixtures.server
    emu = fixtures.emu

``emu`` is the server as it started, with one site admin whose API token is :data:`ADMIN_TOKEN`; ``server.log``
lists the requests that reached it. :class:`ModuleStub` stands for the module object a module's ``run`` takes.
"""
from __future__ import annotations

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeClient

from .server import start_in_thread

ADMIN_TOKEN = "unitadmin000001.atlasv1.unit-site-admin-token-4c1d"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One emulator for the test module, in a daemon thread, on HTTPS (its CA bundle is ``server.ca_path``)."""
    srv, ca_path = start_in_thread({}, tls_dir=str(tmp_path_factory.mktemp("tls")))
    srv.ca_path = ca_path
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def emu(server):
    """The emulator as it started, with one site admin (``admin``) whose token is ADMIN_TOKEN."""
    server.reset()
    server.state.add_user("admin", "admin@example.com", "password-long", site_admin=True, token=ADMIN_TOKEN)
    return server


class ModuleStub:
    """What a module's ``run`` uses of its module: ``params``, ``check_mode`` and ``client()``, a client of
    ``server`` built from ``params["token"]``."""

    def __init__(self, server, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self._client = PtfeClient(server.url, token=params.get("token"), ca_path=server.ca_path)

    def client(self):
        return self._client
