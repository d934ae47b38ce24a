#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_organization
short_description: Manage an organization of a PTFE / Terraform Enterprise installation
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Creates an organization with its notification e-mail (C(POST /api/v2/organizations)), updates the e-mail of
    an existing one (C(PATCH /api/v2/organizations/:name)), or removes it (C(DELETE /api/v2/organizations/:name)).
  - Reads the organization first (C(GET /api/v2/organizations/:name)) and writes only what differs, so a second
    run with the same options changes nothing.
  - Authenticates with the token in O(token_file), for example the first admin's as M(ptfe.ops.ptfe_initial_admin)
    stores it, or with O(token). On Terraform Enterprise only site administrators may create organizations
    unless the installation allows every user to.
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.attributes
options:
  name:
    description:
      - Name of the organization, 1 to 100 letters, digits, C(-) and C(_). It is the organization's ID in the API
        and cannot be changed by this module.
    type: str
    required: true
  email:
    description:
      - Notification e-mail address of the organization.
      - Required with O(state=present). An existing organization whose e-mail differs is updated.
    type: str
  state:
    description:
      - V(present) creates the organization, or updates its e-mail.
      - V(absent) removes it, with its workspaces, their state and everything else in it. This cannot be undone.
    type: str
    choices: [present, absent]
    default: present
  token:
    description:
      - API token used when O(token_file) is not set. Not used when O(token_file) is set.
      - If not set, the value of the E(TFE_TOKEN) environment variable is used.
  token_file:
    description:
      - Absolute path of the file on the host that runs the module (usually the controller) that holds the API
        token, as M(ptfe.ops.ptfe_initial_admin) writes it. The file must exist and hold a token.
    type: path
attributes:
  check_mode:
    details: In check mode the organization is read, and nothing is created, changed or removed.
  diff_mode:
    details: Shows the organization's name and e-mail before and after; an organization that does not exist is
      shown as an empty dictionary.
notes:
  - The API answers HTTP 404 both for an organization that does not exist and for one the token may not see. A
    token that is neither a site admin's nor an owner's therefore finds another organization absent; with
    O(state=present) the creation then fails, naming the organization as taken.
seealso:
  - module: ptfe.ops.ptfe_initial_admin
  - name: Organizations API
    description: HashiCorp's reference of the organizations endpoints.
    link: https://developer.hashicorp.com/terraform/enterprise/api-docs/organizations
"""

EXAMPLES = r"""
- name: Create the first organization with the admin's stored token
  ptfe.ops.ptfe_organization:
    address: https://ptfe.example.com
    ca_path: /etc/pki/ptfe-ca.pem
    token_file: "{{ playbook_dir }}/secrets/ptfe-admin.token"
    name: example
    email: ops@example.com
  delegate_to: localhost
  run_once: true

- name: Remove an organization nobody uses any more
  ptfe.ops.ptfe_organization:
    name: sandbox
    state: absent
  environment:
    TFE_ADDRESS: https://ptfe.example.com
    TFE_TOKEN: "{{ ptfe_admin_token }}"
  no_log: true
"""

RETURN = r"""
msg:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  sample: Created organization example.
action:
  description: What was done (or would be done in check mode).
  returned: success
  type: str
  choices: [created, updated, removed, unchanged]
  sample: created
organization:
  description:
    - The organization as the installation has it after the task (predicted in check mode). Empty when it does
      not exist.
  returned: success
  type: dict
  sample: {"name": "example", "email": "ops@example.com", "external_id": "org-Bzyc2JuegvVLAibn",
           "created_at": "2026-11-22T11:30:00.000Z"}
"""

import os

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    PtfeError,
    PtfeNotFoundError,
    PtfeValidationError,
    jsonapi_document,
    token_from_file,
)
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule

NAME = r"[A-Za-z0-9_-]{1,100}"
EMAIL = r"[^@\s]+@[^@\s]+[.][^@\s]+"
COLLECTION_PATH = "/api/v2/organizations"


def validate(check):
    """Check the options with ``check`` (a ``_validation.Checker``), before anything is sent."""
    if check.required("name"):
        check.text("name", pattern=NAME, rule="1 to 100 letters, digits, '-' or '_'")
    check.text("email", pattern=EMAIL, rule="an e-mail address (name@domain)")
    if check.params.get("token_file") is not None and not check.params["token_file"].strip():
        check.add("token_file must not be empty: give the path of the token file, or leave the option out")
    path = check.path("token_file")
    if path is not None and not os.path.isfile(path):
        check.add("token_file must be a file that holds the API token, got %r (no such file)" % path)
    elif check.params.get("token_file") is None and not check.value("token"):
        check.add("token_file or token (or TFE_TOKEN) must give the API token")


def summary(body):
    """The organization of a JSON:API ``organizations`` document, as the module returns it."""
    data = (body or {}).get("data") or {}
    attrs = data.get("attributes") or {}
    return {"name": data.get("id") or attrs.get("name"), "email": attrs.get("email"),
            "external_id": attrs.get("external-id"), "created_at": attrs.get("created-at")}


def compared(org):
    """What the diff shows of an organization (None: it does not exist)."""
    return {"name": org["name"], "email": org["email"]} if org else {}


def read(client, name):
    """The organization called ``name``, or None when the installation answers 404."""
    try:
        return summary(client.get("%s/%s" % (COLLECTION_PATH, name), action="read organization %s" % name))
    except PtfeNotFoundError:
        return None


def create(client, name, email):
    """POST the organization; a name already taken is explained."""
    try:
        body = client.post(COLLECTION_PATH, json=jsonapi_document("organizations", {"name": name, "email": email}),
                           expected=(201,), action="create organization %s" % name)
    except PtfeValidationError as exc:
        if exc.pointer == "/data/attributes/name":
            raise PtfeError("%s. The name is taken, but this token may not see that organization: use a site "
                            "admin's or an owner's token, or another name" % exc.message, action=exc.action)
        raise
    return summary(body)


def plan(current, params):
    """The action the options ask for, given the ``current`` organization (None: absent)."""
    if params["state"] == "absent":
        return "removed" if current else "unchanged"
    if current is None:
        return "created"
    return "updated" if current["email"] != params["email"] else "unchanged"


def apply(client, action, current, params):
    """Do ``action``; return the organization afterwards (None: absent)."""
    name = params["name"]
    if action == "created":
        return create(client, name, params["email"])
    if action == "updated":
        doc = jsonapi_document("organizations", {"email": params["email"]})
        return summary(client.patch("%s/%s" % (COLLECTION_PATH, name), json=doc, expected=(200,),
                                    action="update organization %s" % name))
    if action == "removed":
        client.delete("%s/%s" % (COLLECTION_PATH, name), expected=(204,), action="remove organization %s" % name)
        return None
    return current


def predict(action, current, params):
    """What ``action`` would leave, for check mode."""
    if action == "removed":
        return None
    if action in ("created", "updated"):
        after = dict(current or {"name": params["name"], "external_id": None, "created_at": None})
        after["email"] = params["email"]
        return after
    return current


# What an action says, done and in check mode.
MESSAGES = {
    "created": ("Created organization %s.", "Would create organization %s (check mode)."),
    "updated": ("Updated the e-mail of organization %s.", "Would update the e-mail of organization %s (check mode)."),
    "removed": ("Removed organization %s.", "Would remove organization %s (check mode)."),
    "unchanged": ("Organization %s is as asked.", "Organization %s is as asked."),
}


def run(module):
    """The module body; returns the result dict or raises."""
    params = module.params
    client = module.client()
    if params["token_file"] is not None:
        client.token = token_from_file(params["token_file"])
        if not client.token:
            raise PtfeError("token_file %s holds no token" % params["token_file"],
                            action="manage organization %s" % params["name"])
    current = read(client, params["name"])
    action = plan(current, params)
    if module.check_mode:
        after = predict(action, current, params)
    else:
        after = apply(client, action, current, params)
    msg = MESSAGES[action][1 if module.check_mode else 0] % params["name"]
    if action == "unchanged" and current is None:
        msg = "Organization %s does not exist, or this token may not see it." % params["name"]
    return {"changed": action != "unchanged", "action": action, "msg": msg, "organization": after or {},
            "diff": {"before": compared(current), "after": compared(after)}}


def main():
    module = PtfeModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            email=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            token_file=dict(type="path", no_log=False),
        ),
        required_if=[("state", "present", ("email",))],
    )
    check = module.checker()
    validate(check)
    module.fail_on_invalid(check.problems, "ptfe_organization")
    with module.errors("manage organization %s" % module.params["name"]):
        result = run(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
