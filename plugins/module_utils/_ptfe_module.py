# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the modules that talk to the PTFE / Terraform Enterprise API (``ptfe_*``).

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.
"""

from __future__ import annotations

from ansible_collections.ptfe.ops.plugins.module_utils._module import OpsModule
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeClient, ptfe_argument_spec


class PtfeModule(OpsModule):
    """An :class:`~_module.OpsModule` whose connection options are PTFE's (doc fragment ``ptfe.ops.ptfe``) and
    whose client is a :class:`~_ptfe_client.PtfeClient` (it needs the Python library requests)."""

    client_library = "requests"

    @classmethod
    def connection_argument_spec(cls):
        return ptfe_argument_spec()

    def connection_problems(self, check):
        super(PtfeModule, self).connection_problems(check)
        check.url("address", allow_insecure=bool(self.params.get("allow_insecure_http")))
        check.path("ca_path")

    def new_client(self):
        return PtfeClient.from_module(self)
