#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_health
short_description: Wait, bounded, until a PTFE or Terraform Enterprise installation is ready
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Reads, and changes nothing. Asks the installation's health endpoint every O(interval) seconds until it
    reports ready, for at most O(timeout_total) seconds, then returns what each check reported.
  - The endpoint follows the version. Calendar versions (V(v202309-1), the Replicated generation) and Terraform
    Enterprise 1.x before 1.2.1 answer C(GET /_health_check) with HTTP 200 once up. From 1.2.1 on,
    C(GET /api/v1/health/readiness) reports every check of the node, with HTTP 503 while one of them fails.
    With O(version=auto) the module asks the readiness endpoint first and falls back to C(/_health_check)
    when the installation does not know it (HTTP 404).
  - With O(system_token), once the application is ready, the module also asks the System API for the readiness
    of every node (C(GET /api/v1/nodes/readiness), on the admin port given by O(system_address)) and waits
    until all of them are ready, within the same bound.
  - When the time is up the task fails, naming the last check that failed. It never waits longer than
    O(timeout_total) and the time of one request.
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.attributes.read_only
options:
  address:
    description:
      - Base URL of the installation, for example V(https://tfe.example.com), without a path.
      - Send it to the node itself rather than to a load balancer, so that the answer is the node's.
      - If not set, the value of the E(TFE_ADDRESS) environment variable is used.
  token:
    description:
      - Not sent. The health endpoints need no token; the option exists so that C(module_defaults) of the
        C(group/ptfe.ops.ptfe) action group apply to this module as to the others.
  version:
    description:
      - The version the installation runs, which selects the health endpoint.
      - A calendar version such as V(v202309-1), or a version such as V(1.1.2) or V(1.2.1), with or without a
        leading C(v).
      - V(auto) asks the readiness endpoint and falls back to C(/_health_check) where it does not exist.
    type: str
    default: auto
  timeout_total:
    description:
      - How many seconds to wait at most for the installation to be ready, between V(1) and V(7200).
    type: int
    default: 600
  interval:
    description:
      - Seconds between two attempts, between V(1) and V(300), and at most O(timeout_total).
    type: int
    default: 5
  system_token:
    description:
      - A System API token (C(tfectl admin api-token generate)). When set, the module also waits for
        C(GET /api/v1/nodes/readiness) to report every node ready.
      - Never logged or shown in messages.
    type: str
  system_address:
    description:
      - Base URL of the System API, the admin port of Terraform Enterprise, for example
        V(https://tfe.example.com:8443). Only used with O(system_token).
      - Defaults to O(address).
    type: str
notes:
  - A request that gets no answer counts as a failed attempt; its wait is bounded by O(timeout) and by the time
    left.
  - The System API allows one request per second; keep O(interval) at V(1) or more, as the module requires.
seealso:
  - module: ptfe.ops.ptfe_platform_info
  - name: Terraform Enterprise readiness API
    description: HashiCorp's reference of C(GET /api/v1/health/readiness).
    link: https://developer.hashicorp.com/terraform/enterprise/api-docs/readiness
"""

EXAMPLES = r"""
- name: Wait up to ten minutes for the installation to be ready
  ptfe.ops.ptfe_health:
    address: https://tfe.example.com
    ca_path: /etc/pki/tfe-ca.pem
    timeout_total: 600
    interval: 5
  delegate_to: localhost
  run_once: true
  register: health

- name: Wait for every node of a 1.2.1 installation, asking the System API on the admin port too
  ptfe.ops.ptfe_health:
    address: https://tfe-node-0.example.com
    version: 1.2.1
    system_address: https://tfe-node-0.example.com:8443
    system_token: "{{ vault_tfe_system_api_token }}"
    timeout_total: 900
  delegate_to: localhost
  run_once: true

- name: Show which checks passed
  ansible.builtin.debug:
    msg: "{{ health.checks | map(attribute='check') | join(', ') }} on {{ health.node }}"
"""

RETURN = r"""
msg:
  description: What was found.
  returned: always
  type: str
  sample: Ready after 3 attempts, by GET /api/v1/health/readiness.
ready:
  description: Whether the installation reported ready within the bound (a failed task returns V(false)).
  returned: always
  type: bool
  sample: true
path:
  description: The health endpoint that answered last.
  returned: always
  type: str
  sample: /api/v1/health/readiness
checks:
  description:
    - The checks the endpoint reported, each with its C(check) name and its C(status) (V(OK), V(ERROR)).
    - C(/_health_check) reports one check, C(health_check).
  returned: always
  type: list
  elements: dict
  sample: [{"check": "postgres", "status": "OK"}, {"check": "vault", "status": "OK"}]
status:
  description: The node's overall status as the readiness endpoint gives it (V(OK), V(ERROR), V(DRAINING)).
  returned: when the readiness endpoint answered
  type: str
  sample: OK
node:
  description: The node that answered the readiness endpoint.
  returned: when the readiness endpoint answered
  type: str
  sample: tfe-node-0
nodes:
  description: Every node as C(GET /api/v1/nodes/readiness) reported it, each like RV(checks) with its C(node).
  returned: when O(system_token) is set and the System API answered
  type: list
  elements: dict
  sample: [{"node": "tfe-node-0", "status": "OK", "checks": [{"check": "vault", "status": "OK"}]}]
attempts:
  description: How many times the health endpoint was asked.
  returned: always
  type: int
  sample: 3
version_hint:
  description:
    - The generation the answers point to. V(calendar), V(before-1.2.1) or V(1.2.1-or-later) from O(version);
      with O(version=auto), V(1.2.1-or-later) when the readiness endpoint answered and
      V(calendar-or-before-1.2.1) when only C(/_health_check) did.
  returned: always
  type: str
  sample: 1.2.1-or-later
"""

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    HEALTH_PATH,
    NODES_READINESS_PATH,
    READINESS_PATH,
    PtfeClient,
    PtfeConnectionError,
    PtfeHTTPError,
    health_paths,
    release,
)
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule

MAX_TIMEOUT_TOTAL = 7200
MAX_INTERVAL = 300
VERSION_RULE = "auto, a calendar version such as v202309-1, or a version such as 1.2.1"


def validate(check):
    """Check the options with ``check`` (a ``_validation.Checker``), before anything is sent."""
    total = check.whole("timeout_total", minimum=1, maximum=MAX_TIMEOUT_TOTAL)
    interval = check.whole("interval", minimum=1, maximum=MAX_INTERVAL)
    if total is not None and interval is not None and interval > total:
        check.add("interval must be at most timeout_total (%d), got %d" % (total, interval))
    version = check.token("version")
    if version is not None and version != "auto" and release(version) is None:
        check.add("version must be %s, got %s" % (VERSION_RULE, check.shown("version", version)))
    check.token("system_token")
    check.url("system_address", allow_insecure=bool(check.params.get("allow_insecure_http")))


def version_hint(version, answered=None):
    """What the version (or, with ``auto``, the path that ``answered``) says of the generation."""
    known = release(version)
    if known is not None:
        return "1.2.1-or-later" if health_paths(version) == [READINESS_PATH] else (
            "calendar" if known[0] == "calendar" else "before-1.2.1")
    if answered == READINESS_PATH:
        return "1.2.1-or-later"
    if answered == HEALTH_PATH:
        return "calendar-or-before-1.2.1"
    return "unknown"


def failing(checks):
    """The checks of a readiness document that did not pass."""
    return [c for c in checks if str(c.get("status", "")).upper() != "OK"]


def readiness_checks(body):
    """The list of ``{check, status}`` of a readiness document (anything else: empty)."""
    checks = body.get("checks") if isinstance(body, dict) else None
    return [{"check": str(c.get("check")), "status": str(c.get("status"))}
            for c in checks or [] if isinstance(c, dict)]


def describe_failure(path, response):
    """The last failing check of a not-ready answer from ``path``, as the message names it."""
    checks = failing(readiness_checks(response.body))
    if checks:
        last = checks[-1]
        return "check %s is %s (GET %s answered HTTP %d)" % (last["check"], last["status"], path, response.status)
    status = response.body.get("status") if isinstance(response.body, dict) else None
    if status:
        return "the node is %s (GET %s answered HTTP %d)" % (status, path, response.status)
    return "GET %s answered HTTP %d" % (path, response.status)


class Waiter(object):
    """The state of the wait: which paths are still worth asking, what was seen last, the result so far."""

    def __init__(self, client, version, nodes_client=None, result=None):
        self.client = client
        self.nodes_client = nodes_client
        self.version = version
        self.paths = health_paths(version)
        self.last = "no answer yet"
        #: The result so far; the caller's dict, so that a failure returns what was seen.
        self.result = result if result is not None else {}
        self.result.update(changed=False, ready=False, path=self.paths[0], checks=[], attempts=0,
                           version_hint=version_hint(version))

    def ask(self, path):
        """The answer of ``path`` (a PtfeResponse), or None after recording why there is none."""
        self.result["path"] = path
        try:
            return self.client.request("GET", path, expected=(200, 400, 404, 503), retry=False,
                                       authenticated=False, headers={"Accept": "application/json"})
        except PtfeHTTPError as exc:
            self.last = "GET %s answered HTTP %s" % (path, exc.status)
        except PtfeConnectionError as exc:
            self.last = "connection to GET %s failed: %s" % (path, exc.message)
        return None

    def probe(self):
        """One attempt: True when ready, None when not (``last`` says why)."""
        self.result["attempts"] += 1
        for path in list(self.paths):
            response = self.ask(path)
            if response is None:
                return None
            if response.status == 404 and len(self.paths) > 1:
                # version=auto and the installation does not know this path: it is older, ask the next one.
                self.paths.remove(path)
                continue
            if path == READINESS_PATH:
                return self.readiness(response)
            if response.status == 200:
                self.answered(path, [{"check": "health_check", "status": "OK"}])
                return self.nodes_ready()
            self.last = "GET %s answered HTTP %d" % (path, response.status)
            return None
        return None

    def answered(self, path, checks):
        self.result.update(path=path, checks=checks)
        if self.version == "auto" or release(self.version) is None:
            self.result["version_hint"] = version_hint("auto", path)

    def readiness(self, response):
        body = response.body if isinstance(response.body, dict) else {}
        if response.status not in (200, 503) or not body:
            self.last = "GET %s answered HTTP %d" % (READINESS_PATH, response.status)
            return None
        self.answered(READINESS_PATH, readiness_checks(body))
        self.result.update(status=body.get("status"), node=body.get("node"))
        if response.status != 200 or failing(self.result["checks"]):
            self.last = describe_failure(READINESS_PATH, response)
            return None
        return self.nodes_ready()

    def nodes_ready(self):
        """True when there is no System API to ask, or every node it reports is ready."""
        if self.nodes_client is None:
            return True
        try:
            response = self.nodes_client.request("GET", NODES_READINESS_PATH, expected=(200, 503), retry=False,
                                                 headers={"Accept": "application/json"},
                                                 action="ask the System API %s" % NODES_READINESS_PATH)
        except PtfeConnectionError as exc:
            self.last = "connection to GET %s failed: %s" % (NODES_READINESS_PATH, exc.message)
            return None
        body = response.body
        nodes = body.get("nodes") if isinstance(body, dict) else body
        nodes = [n for n in nodes or [] if isinstance(n, dict)]
        self.result["nodes"] = [{"node": n.get("node"), "status": n.get("status"), "checks": readiness_checks(n)}
                                for n in nodes]
        if response.status == 200:
            return True
        self.last = "GET %s answered HTTP %d" % (NODES_READINESS_PATH, response.status)
        for node in self.result["nodes"]:
            checks = failing(node["checks"])
            if checks or node["status"] != "OK":
                what = ("check %s is %s" % (checks[-1]["check"], checks[-1]["status"]) if checks
                        else "it is %s" % node["status"])
                self.last = "node %s is not ready: %s (GET %s answered HTTP 503)" % (node["node"], what,
                                                                                     NODES_READINESS_PATH)
        return None


def give_up_message(waiter, total):
    def message(attempts):
        return ("not ready within %d seconds (%d attempts); last failing: %s. Check the installation's logs "
                "(tfectl app health readiness on the node), or raise timeout_total." % (total, attempts, waiter.last))
    return message


def run(module, result):
    """The module body; fills and returns ``result`` or raises (``result`` then holds what was seen)."""
    params = module.params
    client = module.client()
    nodes_client = None
    if params["system_token"]:
        nodes_client = PtfeClient(
            params["system_address"] or params["address"], token=params["system_token"],
            validate_certs=params["validate_certs"], ca_path=params["ca_path"], timeout=params["timeout"],
            max_retries=0, warn=module.warn, allow_insecure_http=params["allow_insecure_http"],
            redactor=module.redactor)
    waiter = Waiter(client, params["version"], nodes_client, result)
    action = "wait for %s to become ready" % client.address

    def probe():
        if nodes_client is not None:
            nodes_client.timeout = client.timeout
        return waiter.probe()

    client.wait_until(probe, params["timeout_total"], params["interval"], action,
                      give_up_message(waiter, params["timeout_total"]))
    result.update(ready=True, msg="Ready after %d attempt%s, by GET %s." % (
        result["attempts"], "" if result["attempts"] == 1 else "s", result["path"]))
    return result


def main():
    module = PtfeModule(argument_spec=dict(
        version=dict(type="str", default="auto"),
        timeout_total=dict(type="int", default=600),
        interval=dict(type="int", default=5),
        system_token=dict(type="str", no_log=True),
        system_address=dict(type="str"),
    ))
    check = module.checker()
    validate(check)
    module.fail_on_invalid(check.problems, "ptfe_health")
    result = {"changed": False, "ready": False}
    with module.errors("wait for the installation to become ready", result=result):
        run(module, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
