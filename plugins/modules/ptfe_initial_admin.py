#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_initial_admin
short_description: Create the first administrator of a PTFE installation, once, and keep its API token
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Creates the initial site administrator of a fresh Private Terraform Enterprise (PTFE) / Terraform
    Enterprise installation with C(POST /admin/initial-admin-user) and the Initial Admin Creation Token
    (IACT) from M(ptfe.ops.ptfe_iact), and returns the new administrator's API token.
  - Idempotent. Before anything else the module checks whether it already knows a working admin token
    (O(token), or the content of O(token_file)) with C(GET /api/v2/account/details). If one still works,
    the installation already has its admin and the module reports C(changed=false) with a message.
    When no token is known and the installation refuses the IACT because it already has users, the module
    also reports C(changed=false) with a message, not a failure.
  - Validates O(username), O(email), O(password) (at least 10 characters, PTFE's rule) and the directory of
    O(token_file) before any call.
  - The creation request is sent once and never retried (the IACT works only while no user exists; a retry
    after a lost answer could not tell success from failure).
  - Can write the new token to O(token_file) on the host that runs the module (usually the controller),
    atomically, with mode C(0600).
  - With O(custody=s3) the token is also kept in a versioned S3 bucket under SSE-KMS, bound to the
    installation's address, so that a later run in a fresh container (an AWX job) finds it without O(token_file).
    The bucket is checked before the admin is created, so a token is never created with nowhere to keep it.
  - With O(custody=vault_kv) the token is kept the same way as a secret of a Vault (or OpenBao) KV secrets engine,
    version 1 or 2 (written with check-and-set). Before the admin is created the module asks Vault whether its token
    may write the secret (C(sys/capabilities-self)), so a token without the policy fails, naming the path, and the
    installation keeps its unused IACT.
  - To create the first organization with the admin token, use M(ptfe.ops.ptfe_organization) with the same
    O(token_file). To only ask whether a stored token still works as a site admin's, use
    M(ptfe.ops.ptfe_initial_admin_info).
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.attributes
  - ptfe.ops.admin_token_vault_kv
  - ptfe.ops.admin_token
options:
  token:
    description:
      - An admin API token from an earlier run. If it still works against C(/api/v2/account/details), the
        installation already has its admin and nothing is created.
      - If not set, the value of the E(TFE_TOKEN) environment variable is used.
  iact:
    description:
      - The Initial Admin Creation Token, from M(ptfe.ops.ptfe_iact).
      - Required when no working admin token is known (the installation has no admin yet).
    type: str
  username:
    description:
      - User name of the first admin, made of letters, digits, C(-) and C(_).
    type: str
    required: true
  email:
    description:
      - E-mail address of the first admin.
    type: str
    required: true
  password:
    description:
      - Password of the first admin, at least 10 characters. Never logged.
    type: str
    required: true
  token_file:
    description:
      - Absolute path of the file on the host that runs the module where the admin API token is kept. It is read to
        detect an earlier run, and written (atomically, mode C(0600)) when the admin is created or O(token) is
        given.
      - Its directory must exist.
      - With O(custody=s3) or O(custody=vault_kv) it is a working copy of the stored token for later tasks of the
        same job, optional.
    type: path
  assume_initialized:
    description:
      - What a refused IACT (HTTP 404 from C(POST /admin/initial-admin-user)) means when no working site-admin
        token is known (O(token), O(token_file)).
      - With V(false) (the default) the module fails. The installation refuses a wrong IACT exactly as it
        refuses any IACT once its first user exists, so the refusal alone is no evidence that the admin exists.
      - V(true) is the operator's word that the installation already has its admin (for example, a re-run from
        a controller that no longer holds O(token_file)). The module then reports C(changed=false) and says so.
    type: bool
    default: false
attributes:
  check_mode:
    details:
      - In check mode nothing is created and no file is written. The module still reads
        C(/api/v2/account/details) to predict the result; with no working token it predicts that the admin
        would be created.
  diff_mode:
    details: Shows whether the admin exists, before and after.
  idempotent:
    details:
      - Once the admin exists, later runs report C(changed=false). The module recognises this from a
        O(token) or O(token_file) that works as a site admin's, or, with O(assume_initialized=true), from the
        installation refusing the IACT.
notes:
  - The returned RV(token) is a secret. Run this module with C(no_log=true) and keep the token in
    O(token_file), or with O(custody=s3) or O(custody=vault_kv) where it outlives the controller.
  - If the installation refuses the IACT (HTTP 404) and no working site-admin token is known, the module cannot
    tell an installation that already has its admin from a wrong IACT. It fails, naming the IACT as the likely
    cause, unless O(assume_initialized=true).
seealso:
  - module: ptfe.ops.ptfe_iact
  - module: ptfe.ops.ptfe_initial_admin_info
  - module: ptfe.ops.ptfe_organization
  - name: Initial admin user API
    description: HashiCorp's reference of C(POST /admin/initial-admin-user).
    link: https://developer.hashicorp.com/terraform/enterprise/api-docs/admin/initial-admin-user
"""

EXAMPLES = r"""
- name: Retrieve the IACT
  ptfe.ops.ptfe_iact:
    address: https://ptfe.example.com
  delegate_to: localhost
  run_once: true
  no_log: true
  register: iact

- name: Create the first admin and keep its token on the controller
  ptfe.ops.ptfe_initial_admin:
    address: https://ptfe.example.com
    iact: "{{ iact.iact }}"
    username: admin
    email: ops@example.com
    password: "{{ vault_ptfe_admin_password }}"
    token_file: "{{ playbook_dir }}/secrets/ptfe-admin.token"
  delegate_to: localhost
  run_once: true
  no_log: true
  register: admin

- name: Create the first organization with the admin's token
  ptfe.ops.ptfe_organization:
    address: https://ptfe.example.com
    token_file: "{{ playbook_dir }}/secrets/ptfe-admin.token"
    name: example
    email: ops@example.com
  delegate_to: localhost
  run_once: true

- name: Create the first admin and keep its token in Vault's KV engine, for later jobs in fresh containers
  ptfe.ops.ptfe_initial_admin:
    address: https://ptfe.example.com
    # vault_url and vault_token come from VAULT_ADDR and VAULT_TOKEN (the Vault credential of an AWX job).
    custody: vault_kv
    vault_kv_mount: secret
    vault_kv_path: ptfe-ops/admin-token/ptfe.example.com
    iact: "{{ iact.iact }}"
    username: admin
    email: ops@example.com
    password: "{{ vault_ptfe_admin_password }}"
  delegate_to: localhost
  run_once: true
  no_log: true
  register: admin
"""

RETURN = r"""
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
  sample: Created the initial admin admin and stored its API token in /srv/secrets/ptfe-admin.token.
created:
  description: Whether the admin was created by this run (or would be, in check mode).
  returned: always
  type: bool
  sample: true
initialized:
  description: Whether the installation has its admin after this run (in check mode, before it).
  returned: always
  type: bool
  sample: true
token:
  description:
    - API token of the admin (new, or the working one found). Secret; consume it only with C(no_log=true).
  returned: when known
  type: str
  sample: "xxxxxxxxxxxxxx.atlasv1.yyyyyyyyyyyy"
user:
  description: The admin as C(/api/v2/account/details) describes it.
  returned: when a working token is known
  type: dict
  sample: {"id": "user-V3R563qtJNcExAkN", "username": "admin", "email": "ops@example.com", "is-site-admin": true}
token_file:
  description: Where the token is kept.
  returned: when O(token_file) is set
  type: str
  sample: /srv/secrets/ptfe-admin.token
stored_in:
  description:
    - The S3 object (C(s3://<bucket>/<object>)) or the Vault KV secret (C(vault-kv://<mount>/<path>)) that keeps
      the token for later runs. Never holds a secret.
  returned: when O(custody=s3) or O(custody=vault_kv)
  type: str
  sample: vault-kv://secret/ptfe-ops/admin-token/tfe1.example.com
"""

import os
import stat

from ansible_collections.ptfe.ops.plugins.module_utils._admin_token import (
    TokenCustody,
    check_token_custody,
    token_custody_argument_spec,
)
from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._files import atomic_write, read_text
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    PtfeConnectionError,
    PtfeError,
    PtfeHTTPError,
    PtfeNotFoundError,
    token_from_file,
)
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule
from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_space_or_control

USERNAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}"
EMAIL = r"[^@\s]+@[^@\s]+[.][^@\s]+"
MIN_PASSWORD = 10
CREATE_PATH = "/admin/initial-admin-user"


class AdminError(OpsError):
    """A failure to create the initial admin, with the reason and what to do."""


def validate(check):
    """Check the options with ``check`` (a ``_validation.Checker``), before anything is sent; every problem names
    its option."""
    params = check.params
    if check.required("username"):
        check.text("username", pattern=USERNAME,
                   rule="1 to 100 letters, digits, '-' or '_', starting with a letter or digit")
    if check.required("email"):
        check.text("email", pattern=EMAIL, rule="an e-mail address (name@domain)")
    if len(params["password"] or "") < MIN_PASSWORD:
        check.add("password must be at least %d characters long (PTFE's rule)" % MIN_PASSWORD)
    # The IACT may end with the newline of the command that printed it: that is removed, nothing else.
    if params["iact"] is not None and (not params["iact"].strip() or has_space_or_control(params["iact"].strip())):
        check.add("iact must be one word (the token printed by the installer)")
    if check.params.get("token_file") is not None and not check.params["token_file"].strip():
        check.add("token_file must not be empty: give the path of the token file, or leave the option out")
    path = check.path("token_file")
    if path is not None:
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            check.add("token_file: directory %s does not exist" % directory)
        elif not os.access(directory, os.W_OK | os.X_OK):
            check.add("token_file: directory %s is not writable" % directory)
        elif os.path.isdir(path):
            check.add("token_file: %s is a directory" % path)
    check_token_custody(check)


def token_file_state(path, token):
    """True when ``path`` already holds exactly ``token`` with mode 0600."""
    if not os.path.isfile(path):
        return False
    mode = stat.S_IMODE(os.stat(path).st_mode)
    return mode == 0o600 and read_text(path) == token


def write_token_file(path, token):
    """Write ``token`` (and a newline) to ``path`` atomically with mode 0600."""
    atomic_write(path, token + "\n")


def probe_token(client, token):
    """Return the user summary if ``token`` works, None if the server rejects it (401)."""
    client.token = token
    return client.account()


def create_admin(client, params):
    """POST /admin/initial-admin-user once. Returns (token or None, refused)."""
    body = {"username": params["username"], "email": params["email"], "password": params["password"]}
    try:
        resp = client.request("POST", CREATE_PATH, params={"token": params["iact"].strip()}, json=body,
                              headers={"Content-Type": "application/json", "Accept": "application/json"},
                              expected=(200, 201), retry=False, authenticated=False,
                              action="create the initial admin user %s" % params["username"])
    except PtfeNotFoundError:
        return None, True
    except PtfeConnectionError as exc:
        raise AdminError("%s. The request was not retried: the IACT works only once. If the admin was created "
                         "after all, a re-run reports that the installation refuses the IACT." % exc)
    except PtfeHTTPError as exc:
        hint = ""
        if exc.status == 422:
            hint = " Check username, email and password."
        elif exc.status >= 500:
            hint = (" The request was not retried (the IACT works only once); check the installation's logs "
                    "and run again.")
        raise AdminError(str(exc) + "." + hint)
    doc = resp.body if isinstance(resp.body, dict) else {}
    token = doc.get("token")
    if doc.get("status") != "created" or not isinstance(token, str) or not token.strip():
        raise AdminError("Failed to create the initial admin user %s: HTTP %s from POST %s: the answer has no "
                         "token (status %r)." % (params["username"], resp.status, CREATE_PATH, doc.get("status")))
    return token.strip(), False


def fail_on_custody_problems(custody, params):
    """Refuse to create the admin when its token could not be kept (the IACT works once)."""
    problems = custody.problems()
    if problems:
        raise AdminError("Failed to create the initial admin user %s: its token could not be stored in %s: %s. "
                         "Nothing was created." % (params["username"], custody.describe(), "; ".join(problems)))


def run(module):
    """The module body; returns the result dict or raises."""
    params = module.params
    token_file = params["token_file"]
    result = {"changed": False, "created": False, "initialized": False}
    if token_file:
        result["token_file"] = token_file

    client = module.client()
    candidates = []
    if params["token"]:
        candidates.append(("token", params["token"].strip()))
    stored = token_from_file(token_file)
    if stored and stored not in [c[1] for c in candidates]:
        candidates.append(("token_file", stored))
    custody = TokenCustody(params, getattr(module, "redactor", None))
    document = custody.read()
    if custody.durable:
        result["stored_in"] = custody.describe()
    if document and document["token"].strip() not in [c[1] for c in candidates]:
        candidates.append((custody.describe(), document["token"].strip()))

    token = None
    user = None
    source = None
    for source_name, candidate in candidates:
        user = probe_token(client, candidate)
        if user is not None and user.get("is-site-admin") is True:
            token, source = candidate, source_name
            break
        if user is not None:
            module.warn("The token from %s belongs to %s, who is not a site admin; it is no evidence of the "
                        "initial admin and is ignored." % (source_name, user.get("username")))
        else:
            module.warn("The admin token from %s is not accepted by the installation (HTTP 401); it is ignored."
                        % source_name)
        user = None

    before = {"admin": "present" if token else "unknown"}
    messages = []
    if token:
        result["initialized"] = True
        messages.append("The installation already has its admin (%s, from %s, still works); nothing created."
                        % (user.get("username"), source))
    elif not params["iact"]:
        raise AdminError("Failed to create the initial admin user %s: no working admin token is known (token, "
                         "token_file) and no iact was given. Retrieve the IACT with ptfe.ops.ptfe_iact."
                         % params["username"])
    elif module.check_mode:
        fail_on_custody_problems(custody, params)
        result.update(changed=True, created=True)
        messages.append("Would create the initial admin %s (check mode)." % params["username"])
    else:
        fail_on_custody_problems(custody, params)
        new_token, refused = create_admin(client, params)
        known = " (token_file %s has none)" % token_file if token_file else ""
        if refused and not params["assume_initialized"]:
            raise AdminError(
                "Failed to create the initial admin user %s: HTTP 404 from POST %s: the installation refused the "
                "IACT. Most likely the IACT is wrong (a preset TFE_IACT_TOKEN that differs, or one from another "
                "installation); an installation that already has its first user refuses any IACT the same way. "
                "No working site-admin token is known to this run%s, so nothing proves the admin exists. Check "
                "the IACT, or give the admin's token (token, token_file), or set assume_initialized if this "
                "installation is known to have its admin." % (params["username"], CREATE_PATH, known))
        if refused:
            result["initialized"] = True
            messages.append(
                "The installation refused the IACT (HTTP 404 from POST %s) and assume_initialized is set: taken "
                "as an installation that already has its admin; nothing was created. No working admin token is "
                "known to this run%s." % (CREATE_PATH, known))
            if token_file:
                module.warn("The installation is assumed to have its admin but token_file %s holds no working "
                            "token." % token_file)
        else:
            token = new_token
            result.update(changed=True, created=True, initialized=True)
            client.token = token
            try:
                user = probe_token(client, token)
            except PtfeError as exc:
                module.warn("The admin was created but reading it back failed: %s" % exc)
            messages.append("Created the initial admin %s." % params["username"])

    if token:
        result["token"] = token
        if user:
            result["user"] = user
        if token_file and not token_file_state(token_file, token):
            # With a durable copy the file is a working copy: writing it again in a fresh container is no change.
            if not custody.durable or token != (document or {}).get("token", "").strip():
                result["changed"] = True
            if not module.check_mode:
                write_token_file(token_file, token)
            verb = "Would store" if module.check_mode else "Stored"
            messages.append("%s the API token in %s (mode 0600)." % (verb, token_file))
        if custody.durable and token != (document or {}).get("token", "").strip():
            result["changed"] = True
            if not module.check_mode:
                custody.write(token, user)
            verb = "Would store" if module.check_mode else "Stored"
            messages.append("%s the API token in %s (%s)." % (verb, custody.describe(), custody.how))

    after = {"admin": "present" if (token or result["initialized"] or result["created"]) else "unknown"}
    if before["admin"] == "unknown" and result["created"]:
        before["admin"] = "absent"
    result["diff"] = {"before": before, "after": after}
    result["msg"] = " ".join(messages)
    return result


def main():
    module = PtfeModule(argument_spec=dict(
        iact=dict(type="str", no_log=True),
        username=dict(type="str", required=True),
        email=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        token_file=dict(type="path", no_log=False),
        assume_initialized=dict(type="bool", default=False),
        **token_custody_argument_spec()
    ))
    check = module.checker()
    validate(check)
    module.fail_on_invalid(check.problems, "the initial admin")
    if module.params["custody"] == "vault_kv":
        module.require("hvac")
    with module.errors("create the initial admin",
                       writing="store the admin token in %s" % module.params["token_file"]):
        result = run(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
