#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_platform_info
short_description: Tell which generation of PTFE or Terraform Enterprise an installation runs, and its version
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Reads, and changes nothing. Asks C(GET /api/v2/ping), whose C(X-TFE-Current-Version) header names an FDO
    version (V(1.2.1)) and whose C(X-TFE-Version) header names a calendar version (V(v202309-1)), and
    C(GET /api/v1/health/readiness), which only FDO 1.2.1 and later serve. Neither request carries a token.
  - Host facts the play gathered may be given as options; the module does not log in to the host. The AMI
    keeps the Vault unseal key in C(/data/vault-unseal-key), Replicated installs have C(replicatedctl), and FDO
    runs a C(terraform-enterprise) container.
  - Returns RV(generation), one of V(ami), V(replicated), V(fdo) or V(unknown), with RV(version) and the
    RV(evidence) it rests on.
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.attributes.read_only
options:
  vault_unseal_key_present:
    description:
      - Whether C(/data/vault-unseal-key) exists on the host (the AMI), for example from M(ansible.builtin.stat).
    type: bool
  replicatedctl_present:
    description:
      - Whether the host has the C(replicatedctl) command (a Replicated install).
    type: bool
  containers:
    description:
      - The names of the containers that run on the host, for example from C(community.docker.docker_host_info).
      - A name that contains C(terraform-enterprise) is FDO.
    type: list
    elements: str
  token:
    description:
      - Not sent. The module asks only endpoints that need no token; the option exists so that
        C(module_defaults) of the C(group/ptfe.ops.ptfe) action group apply to this module as to the others.
seealso:
  - module: ptfe.ops.ptfe_health
"""

EXAMPLES = r"""
- name: Look for the AMI's unseal key on the host
  ansible.builtin.stat:
    path: /data/vault-unseal-key
  register: unseal_key

- name: Tell the generation and the version
  ptfe.ops.ptfe_platform_info:
    address: https://tfe.example.com
    vault_unseal_key_present: "{{ unseal_key.stat.exists }}"
  delegate_to: localhost
  register: platform

- name: Refuse the rekey on FDO
  ansible.builtin.fail:
    msg: On FDO the internal Vault key is in the database; rotate the encryption password with tfectl instead.
  when: platform.generation == 'fdo'
"""

RETURN = r"""
generation:
  description: V(ami), V(replicated), V(fdo), or V(unknown) when nothing points to one of them.
  returned: always
  type: str
  sample: fdo
version:
  description: The version the installation reports, V(null) when it reports none.
  returned: always
  type: str
  sample: 1.2.1
readiness_endpoint:
  description: Whether the installation serves C(/api/v1/health/readiness) (FDO 1.2.1 and later).
  returned: always
  type: bool
  sample: true
evidence:
  description: What the generation rests on, one sentence per sign.
  returned: always
  type: list
  elements: str
  sample: ["X-TFE-Current-Version is 1.2.1", "GET /api/v1/health/readiness answered"]
"""

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    READINESS_PATH,
    PtfeHTTPError,
    release,
)
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule

PING_PATH = "/api/v2/ping"
FDO_CONTAINER = "terraform-enterprise"


def api_signs(client):
    """(current version header, calendar version header, readiness served) as the installation answers them."""
    current = calendar = None
    try:
        ping = client.request("GET", PING_PATH, expected=(200, 204), retry=False, authenticated=False,
                              action="ask %s for its version" % PING_PATH)
        current = (ping.headers.get("X-TFE-Current-Version") or "").strip() or None
        calendar = (ping.headers.get("X-TFE-Version") or "").strip() or None
    except PtfeHTTPError:
        pass
    try:
        readiness = client.request("GET", READINESS_PATH, expected=(200, 503), retry=False, authenticated=False,
                                   headers={"Accept": "application/json"})
        served = isinstance(readiness.body, dict)
    except PtfeHTTPError:
        served = False
    return current, calendar, served


def decide(current=None, calendar=None, readiness=False, unseal_key=None, replicatedctl=None, containers=None):
    """(generation, version, evidence) from the signs."""
    evidence = []
    current_kind = (release(current) or ("", None))[0]
    calendar_kind = (release(calendar) or ("", None))[0]
    fdo_containers = [name for name in containers or [] if FDO_CONTAINER in name]
    if current_kind == "semantic":
        evidence.append("X-TFE-Current-Version is %s" % current)
    if calendar_kind == "calendar":
        evidence.append("X-TFE-Version is %s" % calendar)
    if readiness:
        evidence.append("GET %s answered" % READINESS_PATH)
    if fdo_containers:
        evidence.append("container %s runs on the host" % fdo_containers[0])
    if unseal_key:
        evidence.append("/data/vault-unseal-key exists on the host")
    if replicatedctl:
        evidence.append("replicatedctl is on the host")
    if fdo_containers or readiness or (current_kind == "semantic" and not (unseal_key or replicatedctl)):
        return "fdo", current if current_kind == "semantic" else None, evidence
    version = calendar if calendar_kind == "calendar" else None
    if unseal_key:
        return "ami", version, evidence
    if replicatedctl or version:
        return "replicated", version, evidence
    return "unknown", None, evidence


def run(module):
    """The module body; returns the result dict or raises."""
    params = module.params
    client = module.client()
    current, calendar, readiness = api_signs(client)
    generation, version, evidence = decide(current, calendar, readiness, params["vault_unseal_key_present"],
                                           params["replicatedctl_present"], params["containers"])
    return {"changed": False, "generation": generation, "version": version, "readiness_endpoint": readiness,
            "evidence": evidence}


def main():
    module = PtfeModule(argument_spec=dict(
        vault_unseal_key_present=dict(type="bool"),
        replicatedctl_present=dict(type="bool"),
        containers=dict(type="list", elements="str"),
    ))
    with module.errors("tell the generation of the installation"):
        result = run(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
