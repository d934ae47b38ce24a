#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_terraform_rotate
short_description: Rotate the token of a role, or the engine's own token, in Vault's Terraform Cloud secrets engine
version_added: 0.3.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - An explicit action, never a side effect of configuration. Every run rotates, so the task is always changed.
  - O(target=role) rotates the shared token of an V(organization) or V(team_legacy) role (C(rotate-role)); the old
    token stops working at once, so run it when every consumer reads the credentials again afterwards. User and
    V(team) roles have no stored token (every read mints a leased one) and are refused.
  - O(target=root) rotates the token the engine itself uses (C(config/rotate-root)); with O(old_token=delete) the
    previous user token is deleted in TFE (organization and team tokens are replaced by TFE anyway).
  - Checks first that the role or the configuration exists, so check mode tells whether the rotation would be
    possible; in check mode nothing is written.
  - The engine keeps returning the old C(token_id) of a role after a rotation (a bug of every plugin version); the
    token itself is the new one.
extends_documentation_fragment:
  - ptfe.ops.vault
  - ptfe.ops.attributes
attributes:
  idempotent:
    support: none
    details: Rotation is an action; every run mints a new token.
options:
  mount_path:
    description: Mount path of the engine.
    type: str
    default: terraform
  target:
    description: Rotate a role's token (V(role)) or the engine's own token (V(root)).
    type: str
    choices: [role, root]
    default: role
  name:
    description: Name of the role, with O(target=role).
    type: str
  old_token:
    description: With O(target=root), V(delete) also deletes the previous user token in TFE; V(keep) leaves it.
    type: str
    choices: [keep, delete]
    default: keep
seealso:
  - module: ptfe.ops.vault_terraform_role
  - module: ptfe.ops.vault_terraform_secrets_engine
"""

EXAMPLES = r"""
- name: Rotate the organization token the acme role hands out
  ptfe.ops.vault_terraform_rotate:
    url: https://vault.example.com:8200
    name: acme

- name: Rotate the engine's own token and delete the old one
  ptfe.ops.vault_terraform_rotate:
    url: https://vault.example.com:8200
    target: root
    old_token: delete
"""

RETURN = r"""
msg:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  sample: Rotated the token of role acme; the previous token no longer works.
credential_type:
  description: The credential type of the rotated role (with O(target=role)).
  returned: success
  type: str
  sample: organization
"""

from ansible_collections.ptfe.ops.plugins.module_utils._terraform_engine import (
    ROLE_NAME,
    ROLE_RULE,
    check_mount_path,
    implied_type,
)
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultError
from ansible_collections.ptfe.ops.plugins.module_utils._vault_module import VaultModule


def validate(check):
    check_mount_path(check, "mount_path")
    if check.params["target"] == "role":
        check.required("name", "it is the role whose token is rotated")
        check.text("name", pattern=ROLE_NAME, rule=ROLE_RULE)
    elif check.value("name") is not None:
        check.add("name must not be set with target=root: the engine's own token belongs to no role")


def rotate_role(module, client, mount, name):
    try:
        role = client.request("GET", "%s/role/%s" % (mount, name), "read terraform role %s" % name)[1]
    except VaultError as exc:
        if exc.status == 404:
            raise VaultError("Failed to rotate terraform role %s: no such role at %s" % (name, mount))
        raise
    kind = implied_type(role)
    if kind not in ("organization", "team_legacy"):
        raise VaultError("Failed to rotate terraform role %s: it is a %s role, which stores no token (every read of "
                         "its credentials mints a new leased one); nothing to rotate" % (name, kind))
    if not module.check_mode:
        client.request("POST", "%s/rotate-role/%s" % (mount, name), "rotate terraform role %s" % name)
    what = "organization" if kind == "organization" else "team"
    if module.check_mode:
        msg = "Would rotate the %s token of role %s (check mode)." % (what, name)
    else:
        msg = "Rotated the %s token of role %s; the previous token no longer works." % (what, name)
    return {"changed": True, "msg": msg, "credential_type": kind}


def rotate_root(module, client, mount, old_token):
    try:
        status, config = client.request("GET", mount + "/config", "read terraform secrets engine configuration")
    except VaultError as exc:
        if exc.status in (404, 500):
            status, config = 204, {}
        else:
            raise
    if status != 200 or not config.get("address"):
        raise VaultError("Failed to rotate the token of terraform secrets engine %s: it has no configuration" % mount)
    if module.check_mode:
        return {"changed": True, "msg": "Would rotate the token of terraform secrets engine %s (check mode)." % mount}
    body = {"old_token": "delete"} if old_token == "delete" else {}
    status, data = client.request("POST", mount + "/config/rotate-root", "rotate terraform secrets engine token",
                                  body=body, ok=(200, 204))
    for warning in (data or {}).get("warnings") or []:
        module.warn("terraform secrets engine %s: %s" % (mount, warning))
    return {"changed": True, "msg": "Rotated the token of terraform secrets engine %s." % mount}


def main():
    module = VaultModule(
        argument_spec=dict(
            mount_path=dict(type="str", default="terraform"),
            target=dict(type="str", choices=["role", "root"], default="role"),
            name=dict(type="str"),
            old_token=dict(type="str", choices=["keep", "delete"], default="keep"),
        ),
    )
    check = module.checker()
    validate(check)
    module.fail_on_invalid(check.problems, "vault_terraform_rotate")
    params = module.params
    what = "terraform role %s" % params["name"] if params["target"] == "role" else "terraform secrets engine token"
    with module.errors("rotate %s" % what):
        client = module.client()
        if params["target"] == "role":
            result = rotate_role(module, client, params["mount_path"], params["name"].lower())
        else:
            result = rotate_root(module, client, params["mount_path"], params["old_token"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
