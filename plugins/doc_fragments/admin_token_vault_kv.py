# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The first admin's API token kept in a Vault KV engine (ptfe_initial_admin, ptfe_initial_admin_info): the
    options of O(custody=vault_kv); O(custody) itself is documented by ptfe.ops.admin_token."""

    DOCUMENTATION = r"""
options:
  vault_url:
    description:
      - With O(custody=vault_kv), the https URL of the Vault (or OpenBao) API that keeps the token, without a path,
        for example V(https://vault.example.com:8200).
      - If not set, the value of the E(VAULT_ADDR) environment variable is used.
    type: str
  vault_token:
    description:
      - With O(custody=vault_kv), the Vault token that reads and writes the secret. Its policy needs C(read),
        C(create) and C(update) on the secret's API path (C(<mount>/data/<path>) on KV version 2). Never logged.
      - If not set, the value of the E(VAULT_TOKEN) environment variable is used.
    type: str
  vault_namespace:
    description:
      - With O(custody=vault_kv), the Vault Enterprise namespace of the KV engine, if any.
      - If not set, the value of the E(VAULT_NAMESPACE) environment variable is used.
    type: str
  vault_ca_path:
    description:
      - With O(custody=vault_kv), a PEM file of the CA that verifies the Vault's certificate, in place of the system
        store.
      - If not set, the value of the E(VAULT_CACERT) environment variable is used.
    type: path
  vault_kv_mount:
    description:
      - With O(custody=vault_kv), the path where the KV secrets engine is mounted, without slashes around it.
    type: str
    default: secret
  vault_kv_path:
    description:
      - With O(custody=vault_kv), the path of the secret inside the engine, for example
        V(ptfe-ops/admin-token/tfe1.example.com). Give every installation its own path. Required with
        O(custody=vault_kv).
      - Parts of letters, digits, C(_), C(-), C(.), C(@), C(+) and C(=), separated by C(/); no C(.) or C(..) part.
    type: str
  vault_kv_version:
    description:
      - With O(custody=vault_kv), the version of the KV secrets engine at O(vault_kv_mount).
    type: int
    choices: [1, 2]
    default: 2
requirements:
  - hvac (only with O(custody=vault_kv), on the host that runs the module)
"""
