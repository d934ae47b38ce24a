#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_terraform_secrets_engine
short_description: Mount and configure Vault's Terraform Cloud secrets engine for a PTFE or TFE installation
version_added: 0.3.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Mounts Vault's C(terraform) secrets engine at O(path) and writes its C(config) (the TFE address, the API base
    path and the token the engine uses to mint tokens), or removes the mount.
  - Idempotent. The engine never returns its token, so the token is written when the engine is created (or has no
    configuration), and on later runs only with O(update_token=always) (which reports a change every run).
  - Every write of the configuration sends O(address), because the engine resets an omitted address to
    C(https://app.terraform.io), which would point it at the SaaS.
  - Every option is checked before any request; a refusal names the option and never shows the token.
  - Removing the mount revokes every lease the engine issued (user and team tokens). The shared tokens of
    organization and C(team_legacy) roles stay valid in TFE; rotate or delete them there.
extends_documentation_fragment:
  - ptfe.ops.vault
  - ptfe.ops.attributes
options:
  path:
    description:
      - Mount path of the engine, without slashes at the ends, for example V(terraform) or V(tfe/prod).
      - Letters, digits, C(_) and C(-), parts separated by C(/); C(.) and C(..) parts are refused.
    type: str
    default: terraform
  state:
    description: Whether the engine is mounted and configured (V(present)) or not mounted (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  description:
    description: Description of the mount, set when it is created.
    type: str
    default: ""
  address:
    description:
      - Address of the PTFE or TFE installation the engine mints tokens in, such as V(https://tfe.example.com).
      - Required with O(state=present). Always sent with the configuration.
    type: str
  base_path:
    description: API base path of the installation.
    type: str
    default: /api/v2/
  tfe_token:
    description:
      - The TFE API token the engine uses (an owners-team member's user token, the owners team token or the
        organization token for organization and team roles; the user's own token for user roles).
      - Needed when the engine has no configuration yet. Never returned, logged or shown.
    type: str
  update_token:
    description:
      - V(on_create) writes O(tfe_token) only when the engine has no configuration.
      - V(always) writes it on every run (the engine cannot show which token it has), so the task is always changed.
    type: str
    choices: [on_create, always]
    default: on_create
notes:
  - Vault (or OpenBao with the engine) must be reachable from where the module runs; the engine itself must reach
    O(address).
seealso:
  - module: ptfe.ops.vault_terraform_role
  - module: ptfe.ops.vault_terraform_rotate
  - plugin: ptfe.ops.vault_terraform_creds
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Mount and configure the engine for the PTFE installation
  ptfe.ops.vault_terraform_secrets_engine:
    url: https://vault.example.com:8200
    token: "{{ vault_admin_token }}"
    path: terraform
    address: https://tfe.example.com
    tfe_token: "{{ ptfe_admin_token }}"
  no_log: true
"""

RETURN = r"""
msg:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  sample: Mounted the terraform secrets engine at terraform and wrote its configuration.
action:
  description: What was done (or would be done in check mode).
  returned: success
  type: str
  choices: [created, updated, removed, unchanged]
  sample: created
token_written:
  description: Whether the engine's token was (or would be) written.
  returned: success
  type: bool
  sample: true
engine:
  description: The engine after the task (predicted in check mode), without its token. Empty when absent.
  returned: success
  type: dict
  sample: {"path": "terraform", "type": "terraform", "address": "https://tfe.example.com", "base_path": "/api/v2/"}
"""

from ansible_collections.ptfe.ops.plugins.module_utils._terraform_engine import (
    check_mount_path,
    config_body,
    config_plan,
)
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultError
from ansible_collections.ptfe.ops.plugins.module_utils._vault_module import VaultModule

BASE_PATH = r"/(?:[A-Za-z0-9_-]+/)*(?:[A-Za-z0-9_-]+)?"


def validate(check):
    """Check the options before any request."""
    check_mount_path(check, "path")
    check.text("description", max_length=512)
    if check.params["state"] == "present":
        if check.required("address", "it is the address of the PTFE or TFE installation the engine mints tokens in"):
            check.url("address")
        check.text("base_path", pattern=BASE_PATH, rule="an absolute URL path such as /api/v2/ (no '.' or '..' part)")
    check.token("tfe_token")


def read_engine(client, path):
    """(mount info or None, config or None) of the engine at ``path``."""
    mounts = client.request("GET", "sys/mounts", "list secrets engines")[1]
    info = mounts.get(path + "/")
    if info is None:
        return None, None
    if info.get("type") != "terraform":
        raise VaultError("Failed to manage terraform secrets engine %s: a %s secrets engine is mounted there"
                         % (path, info.get("type")))
    try:
        status, config = client.request("GET", path + "/config", "read terraform secrets engine configuration")
    except VaultError as exc:
        # No configuration yet: the plugin answers 500 (a nil dereference) or nothing at all.
        if exc.status in (404, 500):
            return info, None
        raise
    return info, (config if status == 200 and config.get("address") else None)


def view(path, info, config, description=None):
    if info is None:
        return {}
    out = {"path": path, "type": "terraform", "description": info.get("description", description or "")}
    if config is not None:
        out.update({"address": config.get("address"), "base_path": config.get("base_path")})
    return out


def run(module):
    params = module.params
    path = params["path"]
    client = module.client()
    info, config = read_engine(client, path)
    before = view(path, info, config)
    if params["state"] == "absent":
        action = "removed" if info else "unchanged"
        if action == "removed" and not module.check_mode:
            client.request("DELETE", "sys/mounts/" + path, "unmount terraform secrets engine %s" % path)
        msg = {"removed": "Unmounted the terraform secrets engine at %s.", "unchanged": "No secrets engine at %s."}[action]
        return {"changed": action == "removed", "action": action, "msg": msg % path, "token_written": False,
                "engine": {}, "diff": {"before": before, "after": {}}}
    if config is None and not params["tfe_token"]:
        raise VaultError("Failed to configure terraform secrets engine %s: tfe_token must be set, the engine has no "
                         "token yet" % path)
    changes, write_token = config_plan(config, params["address"], params["base_path"], params["tfe_token"],
                                       params["update_token"])
    action = "created" if info is None else ("updated" if changes else "unchanged")
    if action != "unchanged" and not module.check_mode:
        if info is None:
            client.request("POST", "sys/mounts/" + path, "mount terraform secrets engine %s" % path,
                           body={"type": "terraform", "description": params["description"]})
        client.request("POST", path + "/config", "write terraform secrets engine configuration",
                       body=config_body(params["address"], params["base_path"],
                                        params["tfe_token"] if write_token else None))
    after_info = info or {"description": params["description"]}
    after = view(path, after_info, {"address": params["address"], "base_path": params["base_path"]})
    if action == "unchanged":
        after = before
    verb = {"created": "Mounted the terraform secrets engine at %s and wrote its configuration",
            "updated": "Updated the configuration of the terraform secrets engine at %s (" + ", ".join(changes) + ")",
            "unchanged": "The terraform secrets engine at %s is as asked"}[action] % path
    if module.check_mode and action != "unchanged":
        verb = "Would have: " + verb[0].lower() + verb[1:] + " (check mode)"
    if before:
        before["token"] = "(set, unreadable)" if config is not None else "(not set)"
    after["token"] = "(written)" if write_token and action != "unchanged" else before.get("token", "(not set)")
    written = bool(write_token and action != "unchanged")
    return {"changed": action != "unchanged", "action": action, "msg": verb + ".", "token_written": written,
            "engine": dict((k, v) for k, v in after.items() if k != "token"), "diff": {"before": before, "after": after}}


def main():
    module = VaultModule(
        argument_spec=dict(
            path=dict(type="str", default="terraform"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            description=dict(type="str", default=""),
            address=dict(type="str"),
            base_path=dict(type="str", default="/api/v2/"),
            tfe_token=dict(type="str", no_log=True),
            update_token=dict(type="str", choices=["on_create", "always"], default="on_create"),
        ),
    )
    check = module.checker()
    validate(check)
    module.fail_on_invalid(check.problems, "vault_terraform_secrets_engine")
    with module.errors("manage terraform secrets engine %s" % module.params["path"]):
        result = run(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
