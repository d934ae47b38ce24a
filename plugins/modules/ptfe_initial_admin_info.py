#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_initial_admin_info
short_description: Tell whether a stored PTFE admin token still works as a site admin's
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Reads, and changes nothing. Optionally waits until the installation answers C(GET /_health_check) with
    HTTP 200 (O(health_timeout)), then asks C(GET /api/v2/account/details) whom the stored API token belongs
    to.
  - Returns whether the installation accepts the token (RV(token_valid)) and whether it belongs to a site
    administrator (RV(site_admin)), which is the evidence that the installation already has its first admin
    (see M(ptfe.ops.ptfe_initial_admin)). The token itself is never returned.
  - The token is the content of O(token_file) when that option is set (a missing or empty file means that no
    token is stored), otherwise O(token).
  - With O(custody=s3) the token stored in the S3 object is checked too, when O(token_file) holds none or one that is
    not a site admin's; with O(custody=vault_kv) the token stored in the Vault KV secret. A run in a fresh container
    (an AWX job) finds the token there.
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.attributes.read_only
  - ptfe.ops.admin_token_vault_kv
  - ptfe.ops.admin_token
options:
  token:
    description:
      - The API token to check, when O(token_file) is not set. Not used when O(token_file) is set.
      - If not set, the value of the E(TFE_TOKEN) environment variable is used.
  token_file:
    description:
      - Absolute path of the file on the host that runs the module (usually the controller) that holds the admin
        API token, as M(ptfe.ops.ptfe_initial_admin) writes it.
      - A missing or empty file is no error; the module then reports that no token is stored.
    type: path
  health_timeout:
    description:
      - How many seconds to wait for C(/_health_check) to answer HTTP 200 before the token is checked. The health
        check sends no token.
      - V(0) does not ask the health check.
    type: int
    default: 0
  health_interval:
    description:
      - Seconds between two health checks, at least V(1).
    type: int
    default: 5
notes:
  - A token of a user who is not a site admin, or a team or organization token, is valid but not a site admin's.
seealso:
  - module: ptfe.ops.ptfe_initial_admin
  - name: Account API
    description: HashiCorp's reference of C(GET /api/v2/account/details).
    link: https://developer.hashicorp.com/terraform/enterprise/api-docs/account
"""

EXAMPLES = r"""
- name: Wait for the installation, then check the stored admin token
  ptfe.ops.ptfe_initial_admin_info:
    address: https://ptfe.example.com
    ca_path: /etc/pki/ptfe-ca.pem
    token_file: "{{ playbook_dir }}/secrets/ptfe-admin.token"
    health_timeout: 600
  delegate_to: localhost
  run_once: true
  register: admin_info

- name: Retrieve the IACT only while no site admin's token is stored
  ptfe.ops.ptfe_iact:
    address: https://ptfe.example.com
  when: not admin_info.site_admin
  delegate_to: localhost
  run_once: true
  no_log: true
  register: iact

- name: Check the admin token kept in Vault's KV engine (a later AWX job, no token file)
  ptfe.ops.ptfe_initial_admin_info:
    address: https://ptfe.example.com
    custody: vault_kv
    vault_url: https://vault.example.com:8200
    vault_kv_path: ptfe-ops/admin-token/ptfe.example.com
  delegate_to: localhost
  run_once: true
  register: admin_info
"""

RETURN = r"""
msg:
  description: What was found.
  returned: always
  type: str
  sample: The token from token_file /srv/secrets/ptfe-admin.token belongs to admin, a site admin.
health_checks:
  description: How many times C(/_health_check) was asked before it answered HTTP 200; V(0) when not asked.
  returned: always
  type: int
  sample: 3
token_source:
  description:
    - Where the checked token came from, V(token_file), V(token), V(s3) or V(vault_kv); V(null) when there is none.
  returned: always
  type: str
  sample: token_file
token_valid:
  description: Whether the installation accepts the token (HTTP 200 rather than 401).
  returned: always
  type: bool
  sample: true
site_admin:
  description: Whether the token is valid and belongs to a site administrator.
  returned: always
  type: bool
  sample: true
user:
  description: The token's user as C(/api/v2/account/details) describes it.
  returned: when RV(token_valid) is true
  type: dict
  sample: {"id": "user-V3R563qtJNcExAkN", "username": "admin", "email": "ops@example.com", "is-site-admin": true}
token_file:
  description: The file the token was read from.
  returned: when O(token_file) is set
  type: str
  sample: /srv/secrets/ptfe-admin.token
"""

from ansible_collections.ptfe.ops.plugins.module_utils._admin_token import (
    TokenCustody,
    check_token_custody,
    token_custody_argument_spec,
)
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import token_from_file
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule


def validate(check):
    """Check the options with ``check`` (a ``_validation.Checker``), before anything is sent."""
    check.whole("health_timeout", minimum=0)
    check.whole("health_interval", minimum=1)
    if check.params.get("token_file") is not None and not check.params["token_file"].strip():
        check.add("token_file must not be empty: give the path of the token file, or leave the option out")
    check.path("token_file")
    check_token_custody(check)


def stored_token(params):
    """(token or None, its source or None, how the source reads in a message)."""
    path = params["token_file"]
    if path is not None:
        token = token_from_file(path)
        return token, "token_file" if token else None, "token_file %s" % path
    token = (params["token"] or "").strip() or None
    return token, "token" if token else None, "token"


def describe(user, where):
    """The message for the token's ``user`` (None: the installation refused the token)."""
    if user is None:
        return "The installation does not accept the token from %s (HTTP 401)." % where
    if user["is-site-admin"]:
        return "The token from %s belongs to %s, a site admin." % (where, user["username"])
    return "The token from %s belongs to %s, who is not a site admin." % (where, user["username"])


def run(module):
    """The module body; returns the result dict or raises."""
    params = module.params
    result = {"changed": False, "health_checks": 0, "token_source": None, "token_valid": False,
              "site_admin": False}
    if params["token_file"] is not None:
        result["token_file"] = params["token_file"]
    client = module.client()
    if params["health_timeout"]:
        result["health_checks"] = client.wait_until_healthy(params["health_timeout"], params["health_interval"])
    token, source, where = stored_token(params)
    custody = TokenCustody(params, getattr(module, "redactor", None))
    document = custody.read()
    if document and getattr(module, "no_log_values", None) is not None:
        # This module never returns a token: the stored one is masked wherever it could show, like a no_log option.
        module.no_log_values.add(document["token"].strip())
    user = None
    if token is not None:
        client.token = token
        user = client.account()
    if document and document["token"].strip() != token and not (user or {}).get("is-site-admin"):
        token, source, where = document["token"].strip(), params["custody"], custody.describe()
        client.token = token
        user = client.account()
    if token is None:
        where = " or ".join(w for w in (where, custody.describe() if custody.durable else None) if w)
        result["msg"] = ("No token is stored in %s." % where if params["token_file"] is not None or custody.durable
                         else "No token was given (token, TFE_TOKEN).")
        return result
    result.update(token_source=source, msg=describe(user, where))
    if user is not None:
        result.update(token_valid=True, site_admin=user["is-site-admin"], user=user)
    return result


def main():
    module = PtfeModule(argument_spec=dict(
        token_file=dict(type="path", no_log=False),
        health_timeout=dict(type="int", default=0),
        health_interval=dict(type="int", default=5),
        **token_custody_argument_spec()
    ))
    check = module.checker()
    validate(check)
    module.fail_on_invalid(check.problems, "ptfe_initial_admin_info")
    if module.params["custody"] == "vault_kv":
        module.require("hvac")
    with module.errors("check the stored admin token"):
        result = run(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
