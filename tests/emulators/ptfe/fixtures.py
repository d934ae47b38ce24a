"""What the unit tests of the PTFE modules share besides the fixtures of tests/unit/conftest.py (``server``,
``emu``, ``admin_token``): the site admin's token, and :class:`ModuleStub`, which stands for the module object a
module's ``run`` takes."""
from __future__ import annotations

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeClient

ADMIN_TOKEN = "unitadmin000001.atlasv1.unit-site-admin-token-4c1d"


class ModuleStub:
    """What a module's ``run`` uses of its module: ``params``, ``check_mode`` and ``client()``, a client of
    ``server`` built from ``params["token"]``."""

    def __init__(self, server, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self._client = PtfeClient(server.url, token=params.get("token"), ca_path=server.ca_path)

    def client(self):
        return self._client
