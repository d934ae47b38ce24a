# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the modules that talk to Vault or OpenBao (``vault_*``).

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.
"""

from __future__ import annotations

import os

from ansible_collections.ptfe.ops.plugins.module_utils._custody import (
    check_custody,
    custody_argument_spec,
    custody_from_params,
)
from ansible_collections.ptfe.ops.plugins.module_utils._module import OpsModule
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import (
    VaultClient,
    check_connection,
    vault_argument_spec,
)


class VaultModule(OpsModule):
    """An :class:`~_module.OpsModule` whose connection options are Vault's (doc fragment ``ptfe.ops.vault``),
    whose client is a :class:`~_vault_client.VaultClient` (it needs hvac) and which, with ``custody=True``,
    also takes the options of the keys destination (doc fragment ``ptfe.ops.custody``) and builds it (boto3
    with ``custody=s3``).

    Like every module of the collection, it redacts every message it fails or exits with, and every warning."""

    client_library = "hvac"

    @classmethod
    def connection_argument_spec(cls):
        return vault_argument_spec()

    def __init__(self, argument_spec=None, custody=False, **kwargs):
        spec = custody_argument_spec() if custody else {}
        spec.update(argument_spec or {})
        super(VaultModule, self).__init__(argument_spec=spec, **kwargs)

    def connection_problems(self, check):
        """The connection options and, with ``custody=True``, the custody options' values (which of them go
        together is each module's own check); the CA bundles must exist where the module runs."""
        super(VaultModule, self).connection_problems(check)
        insecure = bool(self.params.get("allow_insecure_http"))
        check_connection(check, allow_insecure=insecure)
        bundles = ["ca_cert"]
        if "keys_file" in self.argument_spec:
            check_custody(check, allow_insecure=insecure)
            bundles.append("s3_ca_bundle")
        for option in bundles:
            path = self.params.get(option)
            refused = any(problem.startswith(option + " ") for problem in check.problems)
            if isinstance(path, str) and path.startswith("/") and not refused and not os.path.isfile(path):
                check.add("%s must be a PEM file on the machine that runs the module; there is no file %s"
                          % (option, path))

    def new_client(self):
        return VaultClient.from_params(self.params, redactor=self.redactor)

    def custody(self):
        """The keys destination the custody options describe (a new object on every call)."""
        if self.params.get("custody") == "s3":
            self.require("boto3")
        return custody_from_params(self.params, redactor=self.redactor)
