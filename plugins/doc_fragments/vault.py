# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every module that talks to Vault or OpenBao, and the action group they make."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of the Vault (or OpenBao) server, for example V(https://127.0.0.1:8200).
      - If not set, the value of the E(VAULT_ADDR) environment variable is used.
      - Redirects are not followed (they would carry the token and any key share to another address); point it
        at the node that answers itself, such as the active node.
    type: str
    required: true
  token:
    description:
      - Vault token sent as C(X-Vault-Token).
      - Needed for authenticated endpoints, for example OpenBao's C(sys/rotate/root/*).
      - If not set, the value of the E(VAULT_TOKEN) environment variable is used. With neither, no token is
        sent; C(~/.vault-token) of the user running the module is never read.
      - Never logged or shown in messages.
    type: str
  ca_cert:
    description:
      - PEM file of the certificate authority that signed the server's certificate, used instead of the
        system trust store.
      - If not set, the value of the E(VAULT_CACERT) environment variable is used.
    type: path
  namespace:
    description:
      - Vault Enterprise namespace sent as C(X-Vault-Namespace).
      - If not set, the value of the E(VAULT_NAMESPACE) environment variable is used.
    type: str
  validate_certs:
    description:
      - Verify the Vault server's TLS certificate (against O(ca_cert) when it is set).
      - Only set to V(false) against a throwaway test server.
    type: bool
    default: true
  allow_insecure_http:
    description:
      - Accept an O(url) with C(http://). Without it such a URL is refused before anything is sent, because the
        token and every key share would travel in clear text.
      - Only for a Vault reached over a path nobody else can read, such as the host's own loopback with the module
        running on the host.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for Vault to connect and answer, per request.
    type: int
    default: 30
  max_retries:
    description:
      - How many times a safe read (GET) is retried after a connection error, HTTP 502 or 504.
      - Requests that change state (rekey init, key share submissions, verification, cancel) are never
        retried; after a lost answer the module reads the state back on its next run instead.
    type: int
    default: 3
attributes:
  action_group:
    description: Use C(group/ptfe.ops.vault) in C(module_defaults) to set Vault's URL, token and TLS once.
    support: full
    membership:
      - ptfe.ops.vault
requirements:
  - hvac (Python library, on the host that runs the module, usually the controller)
"""
