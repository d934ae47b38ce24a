# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the modules that talk to Vault or OpenBao (``vault_*``).

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.
"""

from __future__ import annotations

from ansible_collections.ptfe.ops.plugins.module_utils._custody import custody_argument_spec, custody_from_params
from ansible_collections.ptfe.ops.plugins.module_utils._module import OpsModule
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultClient, vault_argument_spec


class VaultModule(OpsModule):
    """An :class:`~_module.OpsModule` whose connection options are Vault's (doc fragment ``ptfe.ops.vault``),
    whose client is a :class:`~_vault_client.VaultClient` (it needs hvac) and which, with ``custody=True``,
    also takes the options of the keys destination (doc fragment ``ptfe.ops.custody``) and builds it (boto3
    with ``custody=s3``)."""

    client_library = "hvac"

    @classmethod
    def connection_argument_spec(cls):
        return vault_argument_spec()

    def __init__(self, argument_spec=None, custody=False, **kwargs):
        spec = custody_argument_spec() if custody else {}
        spec.update(argument_spec or {})
        super(VaultModule, self).__init__(argument_spec=spec, **kwargs)

    def connection_problems(self, check):
        super(VaultModule, self).connection_problems(check)
        check.url("url", allow_insecure=bool(self.params.get("allow_insecure_http")))
        check.path("ca_cert")
        check.text("namespace", pattern=r"[A-Za-z0-9_./-]+", rule="a namespace path (letters, digits, '_', '-', "
                   "'.' and '/')")

    def new_client(self):
        return VaultClient.from_params(self.params, redactor=self.redactor)

    def custody(self):
        """The keys destination the custody options describe (a new object on every call)."""
        if self.params.get("custody") == "s3":
            self.require("boto3")
        return custody_from_params(self.params, redactor=self.redactor)
