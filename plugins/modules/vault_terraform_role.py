#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_terraform_role
short_description: Manage a role of Vault's Terraform Cloud secrets engine without rotating its token by accident
version_added: 0.3.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Creates, updates or removes a role of Vault's C(terraform) secrets engine that maps to an organization, a team
    or a user of a PTFE or TFE installation.
  - Reads the role first and writes it only when a field differs. O(ttl) and O(max_ttl) are compared as seconds
    (V(1h) equals V(3600)).
  - Writing an V(organization) or V(team_legacy) role mints a new organization or team token in TFE and the old
    one stops working, so an unchanged role is never written, and a change that mints a token is said so in the
    diff (C(mints_token)) and in a warning. Rotation as such is M(ptfe.ops.vault_terraform_rotate)'s job.
  - Roles written by plugin versions before 0.12 have no C(credential_type); they are left as they are when they
    behave as asked, and rewritten with the type only with O(upgrade_credential_type=true).
  - Every option is checked before any request, and a refusal names the option.
  - Removing a role does not revoke the token it stored in TFE (the engine does not); rotate it first or delete it
    in TFE.
extends_documentation_fragment:
  - ptfe.ops.vault
  - ptfe.ops.attributes
options:
  mount_path:
    description: Mount path of the engine (see M(ptfe.ops.vault_terraform_secrets_engine)).
    type: str
    default: terraform
  name:
    description: Name of the role; 1 to 128 letters, digits, C(_) or C(-). The engine stores it lower-cased.
    type: str
    required: true
  state:
    description: Whether the role exists.
    type: str
    choices: [present, absent]
    default: present
  credential_type:
    description:
      - V(organization) hands out the organization token, V(team_legacy) the team's one legacy token (both shared,
        stored in Vault, minted when the role is written, no lease).
      - V(team) mints a leased multi-team token, V(user) a leased user token, on every read of the credentials.
      - When not set it follows from the other options, as the engine decides (O(team_id) gives V(team_legacy),
        O(user_id) V(user), else V(organization)).
    type: str
    choices: [organization, team, team_legacy, user]
  organization:
    description: Name of the organization. Not together with O(user_id).
    type: str
  team_id:
    description: Id of the team (C(team-...)). Not together with O(user_id).
    type: str
  user_id:
    description: Id of the user (C(user-...)). The engine's token must be that user's own token.
    type: str
  description:
    description: Description of the role and of the tokens it mints. Not with V(team_legacy).
    type: str
    default: ""
  ttl:
    description:
      - Lease TTL of the leased tokens, whole seconds or a duration such as V(1h), V(30m), V(1h30m). V(0) or unset
        is the mount's default. Not with V(team_legacy).
    type: raw
  max_ttl:
    description: Maximum lease TTL, like O(ttl). O(ttl) must not exceed it. Not with V(team_legacy).
    type: raw
  upgrade_credential_type:
    description:
      - Rewrite a role that has no C(credential_type) (written by a plugin before 0.12) with its type, even when
        nothing else differs. For a V(team_legacy) role that mints a new team token.
    type: bool
    default: false
seealso:
  - module: ptfe.ops.vault_terraform_secrets_engine
  - module: ptfe.ops.vault_terraform_rotate
  - plugin: ptfe.ops.vault_terraform_creds
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: The organization token of acme, handed out by Vault
  ptfe.ops.vault_terraform_role:
    url: https://vault.example.com:8200
    name: acme
    credential_type: organization
    organization: acme

- name: A leased team token for CI, one per pipeline run
  ptfe.ops.vault_terraform_role:
    url: https://vault.example.com:8200
    name: ci
    credential_type: team
    team_id: team-6p5jTwJQXwqZBncC
    description: CI pipelines
    ttl: 1h
    max_ttl: 4h
"""

RETURN = r"""
msg:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  sample: Created role acme (a new organization token was minted).
action:
  description: What was done (or would be done in check mode).
  returned: success
  type: str
  choices: [created, updated, removed, unchanged]
  sample: unchanged
changes:
  description: The fields that differ (and were or would be written).
  returned: success
  type: list
  elements: str
  sample: [ttl]
mints_token:
  description:
    - Whether the write mints a new organization or team token in TFE, which revokes the one the role handed out
      so far.
  returned: success
  type: bool
  sample: false
role:
  description: The role after the task (predicted in check mode), durations in seconds. Empty when absent.
  returned: success
  type: dict
  sample: {"credential_type": "organization", "organization": "acme", "team_id": "", "user_id": "",
           "description": "", "ttl": 3600, "max_ttl": 0}
"""

from ansible_collections.ptfe.ops.plugins.module_utils._terraform_engine import (
    check_mount_path,
    check_role,
    normal_role,
    role_body,
    role_plan,
    role_view,
)
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultError
from ansible_collections.ptfe.ops.plugins.module_utils._vault_module import VaultModule


def read_role(client, mount, name):
    """Vault's view of the role, or None."""
    try:
        return client.request("GET", "%s/role/%s" % (mount, name), "read terraform role %s" % name)[1]
    except VaultError as exc:
        if exc.status == 404:
            return None
        raise


def run(module, desired):
    params = module.params
    mount, name = params["mount_path"], params["name"].lower()
    client = module.client()
    current = read_role(client, mount, name)
    plan = role_plan(current, desired, params["state"], params["upgrade_credential_type"])
    action = plan["action"]
    before = role_view(normal_role(current))
    after = {} if params["state"] == "absent" else (role_view(desired) if action != "unchanged" else before)
    if not module.check_mode:
        if action in ("created", "updated"):
            client.request("POST", "%s/role/%s" % (mount, name), "write terraform role %s" % name, body=role_body(desired))
        elif action == "removed":
            client.request("DELETE", "%s/role/%s" % (mount, name), "remove terraform role %s" % name)
    kind = desired.get("credential_type") if desired else (before or {}).get("credential_type")
    what = {"organization": "organization token", "team_legacy": "team token"}.get(kind, "token")
    msg = {"created": "Created role %s", "updated": "Updated role %s (" + ", ".join(plan["changes"]) + ")",
           "removed": "Removed role %s (the token it stored stays valid in TFE until rotated or deleted there)",
           "unchanged": "Role %s is as asked"}[action] % name
    if plan["mints_token"]:
        msg += "; a new %s was minted and the previous one revoked" % what
        warning = ("Writing terraform role %s %s a new %s in TFE; the token it handed out so far %s."
                   % (name, "would mint" if module.check_mode else "minted", what,
                      "would stop working" if module.check_mode else "no longer works"))
        if action == "created":
            warning = ("Creating terraform role %s %s a new %s in TFE, which replaces any %s the organization or "
                       "team already had." % (name, "would mint" if module.check_mode else "minted", what, what))
        module.warn(warning)
    if action == "unchanged" and plan["untyped"]:
        msg += " (written by an older plugin without credential_type; upgrade_credential_type=true rewrites it)"
    if module.check_mode and action != "unchanged":
        msg = "Would have: " + msg[0].lower() + msg[1:] + " (check mode)"
    diff_after = dict(after)
    if plan["mints_token"]:
        diff_after["mints_token"] = "a new %s (the current one stops working)" % what
    return {"changed": action != "unchanged", "action": action, "msg": msg + ".", "changes": plan["changes"],
            "mints_token": plan["mints_token"], "role": after, "diff": {"before": before, "after": diff_after}}


def main():
    module = VaultModule(
        argument_spec=dict(
            mount_path=dict(type="str", default="terraform"),
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            credential_type=dict(type="str", choices=["organization", "team", "team_legacy", "user"]),
            organization=dict(type="str"),
            team_id=dict(type="str"),
            user_id=dict(type="str"),
            description=dict(type="str", default=""),
            ttl=dict(type="raw"),
            max_ttl=dict(type="raw"),
            upgrade_credential_type=dict(type="bool", default=False),
        ),
    )
    check = module.checker()
    check_mount_path(check, "mount_path")
    desired = check_role(check)
    module.fail_on_invalid(check.problems, "vault_terraform_role")
    with module.errors("manage terraform role %s" % module.params["name"]):
        result = run(module, desired)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
