"""Shared fixtures of the unit tests: the module-process view every test runs in, and the PTFE emulator in the
test process (``server``, ``emu``, ``admin_token``) for the unit tests of the PTFE client and modules."""
from __future__ import annotations

import pytest
from ansible.module_utils import _internal

from tests.emulators.ptfe.fixtures import ADMIN_TOKEN
from tests.emulators.ptfe.server import start_in_thread


@pytest.fixture(autouse=True)
def module_process_view(monkeypatch):
    """Run every test as a module process sees the world.

    Importing controller code (a filter plugin imports ansible.errors) marks the whole Python process as the
    controller; from then on AnsibleModule.warn() hands warnings to the controller's display instead of the
    module's result, and a test that reads the result's warnings would depend on which tests ran before it.
    """
    monkeypatch.setattr(_internal, "is_controller", False)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One emulator per test module, in a daemon thread, on HTTPS (its CA bundle is ``server.ca_path``);
    ``server.log`` lists the requests that reached it."""
    srv, ca_path = start_in_thread({}, tls_dir=str(tmp_path_factory.mktemp("tls")))
    srv.ca_path = ca_path
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def emu(server):
    """The emulator as it started, with one site admin (``admin``) whose API token is ADMIN_TOKEN."""
    server.reset()
    server.state.add_user("admin", "admin@example.com", "password-long", site_admin=True, token=ADMIN_TOKEN)
    return server


@pytest.fixture
def admin_token(emu):
    """The site admin's API token."""
    return ADMIN_TOKEN
