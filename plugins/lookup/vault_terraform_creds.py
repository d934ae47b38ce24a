# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: vault_terraform_creds
short_description: TFE credentials from Vault's Terraform Cloud secrets engine, cached per play, leases revocable
version_added: 0.3.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Reads C(<mount_path>/creds/<role>) for every role named and returns the credentials, one dictionary per role.
  - Organization and V(team_legacy) roles hand out one stored token, the same for every reader until it is
    rotated; their credentials are flagged C(shared=true) and have no lease.
  - User and V(team) roles mint a new leased token on every read. With O(cache=true) the lookup keeps the
    credentials for the rest of the play (keyed by the C(ansible-playbook) process, the play, Vault, the mount and
    the role, in a C(0600) file under a C(0700) directory of the controller) so that every task of the play gets
    the same token instead of minting one each; the entry ends with the lease.
  - With O(revoke=true) it revokes the cached leases of the roles named (their tokens stop working in TFE at once)
    and forgets them; run it as the play's last task.
  - The returned dictionaries hold secrets. Consume them only in tasks with C(no_log=true) (a lookup cannot hide
    its own result); the lookup itself never logs or shows a token, and an error never contains one.
options:
  _terms:
    description: Names of the roles.
    required: true
    type: list
    elements: str
  url:
    description: Address of Vault.
    type: str
    required: true
    env:
      - name: VAULT_ADDR
  token:
    description: Vault token.
    type: str
    env:
      - name: VAULT_TOKEN
  ca_cert:
    description: PEM file of the CA that signed Vault's certificate.
    type: path
    env:
      - name: VAULT_CACERT
  namespace:
    description: Vault Enterprise namespace.
    type: str
    env:
      - name: VAULT_NAMESPACE
  validate_certs:
    description: Verify Vault's TLS certificate.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for Vault per request.
    type: int
    default: 30
  mount_path:
    description: Mount path of the engine.
    type: str
    default: terraform
  cache:
    description: Keep leased credentials for the rest of the play (see the description).
    type: bool
    default: true
  revoke:
    description: Revoke the cached leases of the roles named and forget them, instead of reading credentials.
    type: bool
    default: false
seealso:
  - module: ptfe.ops.vault_terraform_role
"""

EXAMPLES = r"""
- name: Credentials for the CI team, the same token for every task of this play
  ansible.builtin.set_fact:
    tfe_ci: "{{ lookup('ptfe.ops.vault_terraform_creds', 'ci', url='https://vault.example.com:8200') }}"
  no_log: true

- name: Use them
  ansible.builtin.uri:
    url: https://tfe.example.com/api/v2/account/details
    headers:
      Authorization: "Bearer {{ tfe_ci.token }}"
  no_log: true

- name: End of the play - revoke the lease, the token stops working
  ansible.builtin.debug:
    msg: "{{ lookup('ptfe.ops.vault_terraform_creds', 'ci', url='https://vault.example.com:8200', revoke=true) }}"
"""

RETURN = r"""
_raw:
  description:
    - One dictionary per role. With O(revoke=true), C(role) and C(revoked) (the lease id revoked, or null).
  type: list
  elements: dict
  contains:
    role:
      description: The role.
    credential_type:
      description: The role's credential type (null when the token may not read the role).
    token:
      description: The TFE token. Secret.
    token_id:
      description: The token's id (for organization and V(team_legacy) roles the id before the last rotation).
    lease_id:
      description: The lease of a user or V(team) token; empty for shared tokens.
    lease_duration:
      description: Seconds the lease lasts.
    shared:
      description: True for the one stored token of an organization or V(team_legacy) role.
    expired_at:
      description: When a V(team) token expires in TFE.
"""

import hashlib
import json
import os
import re
import time

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

from ansible_collections.ptfe.ops.plugins.module_utils._files import atomic_write_json
from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor
from ansible_collections.ptfe.ops.plugins.module_utils._terraform_engine import (
    MOUNT_PATH,
    ROLE_NAME,
    creds_view,
    implied_type,
)
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultClient, VaultError

CACHE_DIR = os.path.join(os.path.expanduser("~"), ".ansible", "tmp", "ptfe_ops_terraform_creds")
#: A cached lease is used until this many seconds before it ends.
MARGIN = 30


def cache_path(play, url, mount, role):
    """The cache file of one role in this play of this ``ansible-playbook`` run (the parent of the worker)."""
    key = json.dumps([os.getppid(), play, url, mount, role])
    return os.path.join(CACHE_DIR, "%d-%s.json" % (os.getppid(), hashlib.sha256(key.encode()).hexdigest()[:32]))


def sweep():
    """Forget the cache files of runs that have ended."""
    try:
        names = os.listdir(CACHE_DIR)
    except OSError:
        return
    for name in names:
        pid = name.split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                os.unlink(os.path.join(CACHE_DIR, name))
            except OSError:
                pass
        except OSError:
            pass


def read_cache(path):
    try:
        with open(path) as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        mount = self.get_option("mount_path")
        problems = []
        if not isinstance(mount, str) or set(mount.split("/")) & {".", ".."} or not re.fullmatch(MOUNT_PATH, mount):
            problems.append("mount_path must be a mount path of letters, digits, '_' and '-', parts separated by '/' "
                            "(no '.' or '..' part), got %r" % (mount,))
        for term in terms:
            if not isinstance(term, str) or not re.fullmatch(ROLE_NAME, term):
                problems.append("each term must be a role name of 1 to 128 letters, digits, '_' or '-', got %r" % (term,))
        if problems:
            raise AnsibleError("Invalid parameters for vault_terraform_creds: %s" % "; ".join(problems))
        redactor = Redactor()
        token = self.get_option("token")
        redactor.add(token)
        try:
            client = VaultClient(self.get_option("url"), token=token, ca_cert=self.get_option("ca_cert"),
                                 namespace=self.get_option("namespace"),
                                 validate_certs=self.get_option("validate_certs"), timeout=self.get_option("timeout"),
                                 redactor=redactor)
        except VaultError as exc:
            raise AnsibleError(redactor(str(exc)))
        play = (variables or {}).get("ansible_play_name") or ""
        sweep()
        try:
            if self.get_option("revoke"):
                return [self.revoke(client, play, mount, term.lower()) for term in terms]
            return [self.read(client, play, mount, term.lower()) for term in terms]
        except VaultError as exc:
            raise AnsibleError(redactor(str(exc)))

    def revoke(self, client, play, mount, role):
        path = cache_path(play, client.url, mount, role)
        entry = read_cache(path)
        revoked = None
        if entry and entry.get("lease_id"):
            client.add_secret(entry.get("token"))
            client.request("PUT", "sys/leases/revoke", "revoke the lease of terraform role %s" % role,
                           body={"lease_id": entry["lease_id"]})
            revoked = entry["lease_id"]
        if entry is not None:
            os.unlink(path)
        return {"role": role, "revoked": revoked}

    def read(self, client, play, mount, role):
        cache = self.get_option("cache")
        path = cache_path(play, client.url, mount, role)
        if cache:
            entry = read_cache(path)
            if entry and entry.get("valid_until", 0) > time.time():
                client.add_secret(entry.get("token"))
                return entry["creds"]
        try:
            kind = implied_type(client.request("GET", "%s/role/%s" % (mount, role), "read terraform role %s" % role)[1])
        except VaultError as exc:
            if exc.status not in (403,):
                raise
            kind = None
        response = self.creds(client, mount, role)
        creds = creds_view(role, kind, response)
        client.add_secret(creds["token"])
        if cache and creds["lease_id"]:
            if not os.path.isdir(CACHE_DIR):
                os.makedirs(CACHE_DIR, mode=0o700)
            os.chmod(CACHE_DIR, 0o700)
            atomic_write_json(path, {"creds": creds, "lease_id": creds["lease_id"], "token": creds["token"],
                                     "valid_until": time.time() + creds["lease_duration"] - MARGIN})
        return creds

    @staticmethod
    def creds(client, mount, role):
        """The whole answer of ``creds`` (the lease is outside ``data``)."""
        action = "read credentials of terraform role %s" % role
        url = "/v1/%s/creds/%s" % (mount, role)
        try:
            response = client.client.adapter.request("GET", url, raise_exception=False)
        except Exception as exc:  # requests' connection errors
            raise VaultError(client.redactor("Failed to %s: no answer from GET %s: %s" % (action, url, type(exc).__name__)))
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            errors = "; ".join(str(e) for e in (body.get("errors") or [])) if isinstance(body, dict) else ""
            raise VaultError(client.redactor("Failed to %s: HTTP %s from GET %s: %s"
                                             % (action, response.status_code, url, errors.strip() or "(no detail)")),
                             status=response.status_code)
        return body
