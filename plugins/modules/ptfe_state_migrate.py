#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_state_migrate
short_description: Copy Terraform states from Terraform Enterprise / the SaaS or from files into PTFE workspaces
version_added: 0.2.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - For every entry of O(workspaces), reads the source state (the current state, or with O(history=all) every
    state version, of a workspace on another Terraform Enterprise or the SaaS; or a local C(terraform.tfstate)),
    parses it as JSON and compares its lineage, serial and MD5 with the target workspace's current state.
  - Identical states are left alone (V(unchanged)). A target that is newer, holds another lineage, or holds the
    same serial with other content is V(refused) with the reason, unless O(force). Otherwise the target workspace
    is locked, checked again under the lock, the state version is uploaded, and the lock is released, also when
    the upload fails.
  - Only a lock this run took is released, or one an earlier run of this module left behind with the same token's
    account (the lock's holder and its reason C(ptfe.ops state migration) say so). A workspace locked by anybody
    else stays locked by them; its result names the holder.
  - The comparison needs no lock and no write, so a run in which every state is already in place sends no write
    request at all.
  - Every workspace gets one result (V(changed), V(unchanged), V(refused) or V(failed)); one failing workspace
    does not stop the others, and the task fails at the end when any failed. Requests are paced under the
    rate limit of each installation.
  - Download and upload URLs of state versions are secrets (anybody holding one may read or write the state);
    they never appear in the result, in messages or in warnings.
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.attributes
options:
  organization:
    description:
      - The organization of the target workspaces on O(address).
    type: str
    required: true
  workspaces:
    description:
      - The workspaces to migrate, each with its source.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the target workspace, 1 to 90 letters, digits, C(-) and C(_).
        type: str
        required: true
      state_file:
        description:
          - Absolute path of a local state file (C(terraform.tfstate)) to migrate. Mutually exclusive with
            O(workspaces[].source_workspace).
          - The file is read and checked (JSON, lineage, serial) before any request is sent.
        type: path
      serial:
        description:
          - The serial the operator expects in O(workspaces[].state_file); a file with another serial is refused
            before any request.
        type: int
      lineage:
        description:
          - The lineage the operator expects in O(workspaces[].state_file); a file with another lineage is
            refused before any request.
        type: str
      source_workspace:
        description:
          - Name of the source workspace on O(source.address), in O(workspaces[].source_organization).
          - Defaults to O(workspaces[].name) when O(workspaces[].state_file) is not set.
        type: str
      source_organization:
        description:
          - Organization of the source workspace. Defaults to O(source.organization).
        type: str
      create:
        description:
          - Create the target workspace when it does not exist. Defaults to O(create).
        type: bool
      force:
        description:
          - Upload even when the target is newer or of another lineage. Defaults to O(force).
        type: bool
  source:
    description:
      - The Terraform Enterprise installation or the SaaS that holds the source workspaces.
      - Required when an entry of O(workspaces) has no O(workspaces[].state_file).
    type: dict
    suboptions:
      address:
        description:
          - Base URL of the source, for example V(https://app.terraform.io).
        type: str
        required: true
      token:
        description:
          - API token of the source (a user or team token that may read state versions and variables).
          - Never logged or shown in messages.
        type: str
        required: true
      organization:
        description:
          - Default organization of the source workspaces.
        type: str
      ca_path:
        description:
          - PEM file of the certificate authority of the source's certificate.
        type: path
      validate_certs:
        description:
          - Verify the source's TLS certificate.
        type: bool
        default: true
      list_sensitive_variables:
        description:
          - List the names of the source workspaces' sensitive variables in the results, for the operator to set
            on the target. Their values are never read (the API does not return them).
        type: bool
        default: true
  create:
    description:
      - Create target workspaces that do not exist (with default settings).
    type: bool
    default: false
  force:
    description:
      - Upload even when the target's state is newer, holds another lineage, or holds the same serial with other
        content. The target's state is then replaced, and its history keeps the old version.
    type: bool
    default: false
  history:
    description:
      - V(latest) migrates the source's current state.
      - V(all) migrates every finalized state version of a source workspace, oldest first, skipping the serials the
        target already has, so that a re-run uploads nothing twice. A state file is one version.
    type: str
    choices: [latest, all]
    default: latest
  upload_method:
    description:
      - V(inline) sends the state in the request that creates the state version, in one request.
      - V(url) creates a pending state version and sends the state to the upload URL the server hands out; a
        server that hands out none gets the state inline.
    type: str
    choices: [inline, url]
    default: inline
attributes:
  check_mode:
    details: In check mode every source and target state is read and compared, and the results say what would be
      uploaded; nothing is locked, created or uploaded.
  diff_mode:
    details: Shows serial, lineage and MD5 of each target workspace's state before and after (never content).
notes:
  - State version creation needs a user or team token that holds the workspace's lock; an organization token
    cannot upload state. The C(state-storage) entitlement is needed on the target.
  - The source workspaces are only read.
seealso:
  - name: State versions API
    description: HashiCorp's reference of the state version endpoints.
    link: https://developer.hashicorp.com/terraform/enterprise/api-docs/state-versions
"""

EXAMPLES = r"""
- name: Migrate three workspaces from the SaaS into PTFE
  ptfe.ops.ptfe_state_migrate:
    address: https://ptfe.example.com
    token: "{{ ptfe_token }}"
    organization: example
    create: true
    source:
      address: https://app.terraform.io
      token: "{{ saas_token }}"
      organization: example-saas
    workspaces:
      - name: network
      - name: dns
      - name: app-prod
        source_workspace: app-production
  delegate_to: localhost
  run_once: true
  register: migration

- name: Upload a local state file, checking its serial first
  ptfe.ops.ptfe_state_migrate:
    address: https://ptfe.example.com
    organization: example
    workspaces:
      - name: legacy
        state_file: /srv/terraform/legacy/terraform.tfstate
        serial: 42
"""

RETURN = r"""
msg:
  description: One line on what was done (or would be done in check mode).
  returned: always
  type: str
  sample: "3 workspaces: 1 changed, 1 unchanged, 1 refused, 0 failed."
summary:
  description: How many workspaces ended in each result.
  returned: always
  type: dict
  sample: {"changed": 1, "unchanged": 1, "refused": 1, "failed": 0, "total": 3}
results:
  description: One result per entry of O(workspaces), in their order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The target workspace.
      type: str
    organization:
      description: The target organization.
      type: str
    result:
      description: What happened.
      type: str
      choices: [changed, unchanged, refused, failed]
    msg:
      description: Why, in one sentence (the refusal's reason, the failure's message).
      type: str
    source:
      description: Serial, lineage and MD5 of the source's latest state (None when it could not be read).
      type: dict
    target_before:
      description: Serial, lineage and MD5 of the target's state before the run (None when it had none).
      type: dict
    target_after:
      description: Serial, lineage and MD5 of the target's state afterwards (predicted in check mode).
      type: dict
    uploaded_serials:
      description: The serials uploaded (that would be in check mode), oldest first.
      type: list
      elements: int
    locked_by:
      description: Who else holds the target workspace's lock (C(type) and C(id)), when somebody does.
      type: dict
    released_lock:
      description: Whether the run released a lock an earlier run of the migration had left.
      type: bool
    created:
      description: Whether the target workspace was created (would be in check mode).
      type: bool
    sensitive_variables:
      description: Names of the source workspace's sensitive variables, to be set on the target by the operator.
        None for a state file source.
      type: list
      elements: str
  sample: [{"name": "network", "organization": "example", "result": "changed", "msg": "Uploaded serial 7 ...",
            "source": {"serial": 7, "lineage": "871d1b4a-e579-fb7c-ffdb-f0c858a647a7", "md5": "..."},
            "target_before": null, "target_after": {"serial": 7, "lineage": "...", "md5": "..."},
            "uploaded_serials": [7], "locked_by": null, "released_lock": false, "created": false,
            "sensitive_variables": ["db_password"]}]
"""

import os
from urllib.parse import parse_qsl, urlsplit

from ansible_collections.ptfe.ops.plugins.module_utils._module import URL_PASSWORD_RE
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeClient, PtfeError
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule
from ansible_collections.ptfe.ops.plugins.module_utils._state_migrate import Migrator, StateError, parse_state, tally
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker

NAME = r"[A-Za-z0-9_-]{1,90}"
ORGANIZATION = r"[A-Za-z0-9_-]{1,100}"
NAME_RULE = "1 to 90 letters, digits, '-' or '_' (a workspace name, no '/')"
MAX_STATE_BYTES = 512 * 1024 * 1024


def read_state_file(path, item, where):
    """(raw, parsed) of a local state file, or a message naming the option."""
    if not os.path.isfile(path):
        return None, "%s.state_file must be a state file, got %r (no such file)" % (where, path)
    if os.path.getsize(path) > MAX_STATE_BYTES:
        return None, "%s.state_file %s is larger than %d bytes" % (where, path, MAX_STATE_BYTES)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        return None, "%s.state_file %s cannot be read: %s" % (where, path, exc.strerror or exc)
    try:
        return (raw, parse_state(raw, "%s.state_file %s" % (where, path), item.get("serial"), item.get("lineage"))), None
    except StateError as exc:
        return None, str(exc)


def validate(module):
    """Check every option, read and parse every state file: (problems, sources by entry index)."""
    check = module.checker()
    params = module.params
    check.text("organization", pattern=ORGANIZATION, rule="1 to 100 letters, digits, '-' or '_'")
    source = params.get("source") or {}
    files = {}
    names = set()
    if not params["workspaces"]:
        check.add("workspaces must list at least one workspace")
    for index, item in enumerate(params["workspaces"] or []):
        where = "workspaces[%d]" % index
        name = item.get("name")
        if not isinstance(name, str) or not name:
            check.add("%s.name must be set" % where)
        else:
            check.problems.extend(_named_text(where + ".name", name, NAME, NAME_RULE))
            if name in names:
                check.add("%s.name %s is listed twice" % (where, name))
            names.add(name)
        for key in ("source_workspace",):
            if item.get(key) is not None:
                check.problems.extend(_named_text("%s.%s" % (where, key), item[key], NAME, NAME_RULE))
        if item.get("source_organization") is not None:
            check.problems.extend(_named_text(where + ".source_organization", item["source_organization"],
                                              ORGANIZATION, "1 to 100 letters, digits, '-' or '_'"))
        if item.get("serial") is not None and item["serial"] < 0:
            check.add("%s.serial must be at least 0, got %r" % (where, item["serial"]))
        if item.get("state_file") is not None:
            if item.get("source_workspace") is not None or item.get("source_organization") is not None:
                check.add("%s.state_file and %s.source_workspace are mutually exclusive" % (where, where))
                continue
            path = item["state_file"]
            if not path.startswith("/"):
                check.add("%s.state_file must be an absolute path, got %r" % (where, path))
                continue
            loaded, problem = read_state_file(path, item, where)
            if problem:
                check.add(problem)
            else:
                files[index] = loaded
            continue
        if item.get("serial") is not None or item.get("lineage") is not None:
            check.add("%s.serial and %s.lineage check a state_file; this entry has none" % (where, where))
        if not source:
            check.add("%s needs state_file, or the source option for a source workspace" % where)
        elif not (item.get("source_organization") or source.get("organization")):
            check.add("%s.source_organization (or source.organization) must name the source's organization" % where)
    if source:
        check.problems.extend(_url_problems(source, params))
        if source.get("organization") is not None:
            check.problems.extend(_named_text("source.organization", source["organization"], ORGANIZATION,
                                              "1 to 100 letters, digits, '-' or '_'"))
    return check.problems, files


def _named_text(name, value, pattern, rule):
    check = Checker({name: value})
    check.text(name, pattern=pattern, rule=rule)
    return check.problems


def _url_problems(source, params):
    check = Checker({"source.address": source.get("address"), "source.token": source.get("token"),
                     "source.ca_path": source.get("ca_path")}, secret=["source.token"])
    if check.required("source.address", "it is the URL of the source installation"):
        check.url("source.address", allow_insecure=bool(params.get("allow_insecure_http")))
    if check.required("source.token", "it is the API token of the source installation"):
        check.token("source.token")
    check.path("source.ca_path")
    return check.problems


class Blobs:
    """Moves raw bytes to and from download and upload URLs, through the client's session with no token: the
    URLs carry their own authorisation, and may point at another host (the SaaS's archivist)."""

    @staticmethod
    def _request(client, method, url, data=None):
        headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
        try:
            resp = client.session.request(method, url, data=data, headers=headers, timeout=client.timeout,
                                          allow_redirects=False, verify=client.verify)
        except Exception as exc:  # pylint: disable=broad-except
            raise PtfeError("%s of a state object failed: %s" % (method, type(exc).__name__))
        if resp.status_code not in (200, 201, 204):
            raise PtfeError("HTTP %s from %s of a state object (URL hidden: it is a secret)" % (resp.status_code, method))
        return resp.content

    def get(self, client, url):
        """The bytes at a download URL."""
        return self._request(client, "GET", url)

    def put(self, client, url, data):
        """Send ``data`` to a one-shot upload URL."""
        self._request(client, "PUT", url, data)


def hide_source_url_password(module):
    """A password written into source.address is refused, but the refusal echoes the arguments back: mask it
    there like a ``no_log`` value (the module base does so for the top-level options)."""
    address = (module.params.get("source") or {}).get("address")
    match = URL_PASSWORD_RE.match(address) if isinstance(address, str) else None
    if match:
        module.no_log_values.add(match.group(1))
        module.redactor.add(match.group(1))


def register_secret(module, url):
    """A URL the server handed out is a secret: hide it, its path and its query values everywhere."""
    parts = urlsplit(url)
    values = [url, parts.path] + [value for _key, value in parse_qsl(parts.query)]
    values = [value for value in values if value and len(value) >= 8]
    module.redactor.add(*values)
    module.no_log_values.update(values)


def source_client(module, params):
    """The client of the source installation, sharing the module's redactor."""
    source = params["source"]
    return PtfeClient(source["address"], token=source["token"], validate_certs=source.get("validate_certs", True),
                      ca_path=source.get("ca_path"), timeout=params.get("timeout") or 30,
                      max_retries=params.get("max_retries", 5), warn=module.warn,
                      allow_insecure_http=bool(params.get("allow_insecure_http")), redactor=module.redactor)


def run(module, files):
    """The module body."""
    params = module.params
    client = module.client()
    account = client.account()
    if account is None:
        raise PtfeError("the target installation refused the token (HTTP 401)", action="migrate state")
    source = None
    for index, item in enumerate(params["workspaces"]):
        if index not in files and source is None:
            source = source_client(module, params)
    migrator = Migrator(client, params["organization"], Blobs(), lambda url: register_secret(module, url),
                        identity=account["id"], force=params["force"], check_mode=module.check_mode,
                        upload_method=params["upload_method"], create=params["create"], history=params["history"])
    results = []
    for index, item in enumerate(params["workspaces"]):
        entry = {"name": item["name"], "force": item.get("force"), "create": item.get("create")}
        if entry["create"] is None:
            entry.pop("create")
        if index in files:
            entry["source"] = {"raw": files[index][0], "parsed": files[index][1]}
        else:
            entry["source"] = {"client": source, "workspace": item.get("source_workspace") or item["name"],
                               "organization": item.get("source_organization") or params["source"]["organization"],
                               "list_sensitive_variables": params["source"].get("list_sensitive_variables", True)}
        results.append(migrator.migrate(entry))
    counts = tally(results)
    changed = counts["changed"] > 0 or any(r["created"] or r["released_lock"] or r["uploaded_serials"] for r in results)
    msg = "%d workspaces: %d changed, %d unchanged, %d refused, %d failed%s." % (
        counts["total"], counts["changed"], counts["unchanged"], counts["refused"], counts["failed"],
        " (check mode)" if module.check_mode else "")
    diff = {"before": dict((r["name"], r["target_before"]) for r in results),
            "after": dict((r["name"], r["target_after"]) for r in results)}
    return {"changed": changed, "msg": msg, "summary": counts, "results": results, "diff": diff}


def main():
    module = PtfeModule(
        argument_spec=dict(
            organization=dict(type="str", required=True),
            workspaces=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                state_file=dict(type="path"),
                serial=dict(type="int"),
                lineage=dict(type="str"),
                source_workspace=dict(type="str"),
                source_organization=dict(type="str"),
                create=dict(type="bool"),
                force=dict(type="bool"),
            )),
            source=dict(type="dict", options=dict(
                address=dict(type="str", required=True),
                token=dict(type="str", required=True, no_log=True),
                organization=dict(type="str"),
                ca_path=dict(type="path"),
                validate_certs=dict(type="bool", default=True),
                list_sensitive_variables=dict(type="bool", default=True),
            )),
            create=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            history=dict(type="str", choices=["latest", "all"], default="latest"),
            upload_method=dict(type="str", choices=["inline", "url"], default="inline"),
        ),
    )
    if not module.params.get("token"):
        module.fail_json(msg="Invalid parameters for ptfe_state_migrate: token (or TFE_TOKEN) must give the API "
                             "token of the target")
    hide_source_url_password(module)
    problems, files = validate(module)
    module.fail_on_invalid(problems, "ptfe_state_migrate")
    with module.errors("migrate state into organization %s" % module.params["organization"]):
        result = run(module, files)
    if result["summary"]["failed"]:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
