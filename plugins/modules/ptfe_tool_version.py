#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_tool_version
short_description: Manage one Terraform version offered by a PTFE / Terraform Enterprise installation
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Registers, updates or removes one Terraform version (the version number, the linux/amd64 download URL and
    its SHA256) through the admin Terraform versions API, C(/api/v2/admin/terraform-versions).
  - The version is looked up by its number with C(filter[version]); on servers that predate that filter the
    module pages through the list instead.
  - Only the attributes that differ from the server are sent.
  - Before anything is written, the SHA256 of a new or changed download is checked (see O(checksum_verify)).
  - To manage the whole list in one task, use M(ptfe.ops.ptfe_tool_versions).
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.tool_version
  - ptfe.ops.attributes
options:
  version:
    description:
      - The Terraform version number, V(N.N.N) or V(N.N.N-suffix) (for example V(1.5.7) or V(0.12.20-beta1)).
      - This is how the version is found on the server.
    type: str
    required: true
  state:
    description:
      - V(present) creates the version or updates the attributes that differ.
      - V(absent) removes it. The server refuses to remove an official version or one that workspaces use;
        the task then fails and says which.
    type: str
    choices: [present, absent]
    default: present
  url:
    description:
      - Download URL of the linux/amd64 zip of this version.
      - Must use C(https://) unless O(allow_http=true).
      - Required, with O(sha256), to create a version (unless O(archs) is given).
      - Changing it on a version that lists several O(archs) replaces them with one linux/amd64 entry (this is
        what the API does); give O(archs) instead to keep the others.
    type: str
  sha256:
    description:
      - SHA256 checksum of the zip at O(url), 64 hexadecimal characters.
      - Verified against the download before it is registered, unless O(checksum_verify=false).
    type: str
  archs:
    description:
      - Per-architecture downloads, on servers that have them. Mutually exclusive with O(url) and O(sha256).
      - When no linux/amd64 entry is listed, the server's top-level URL and checksum become empty.
    type: list
    elements: dict
    suboptions:
      url:
        description: Download URL of the zip for this architecture.
        type: str
        required: true
      sha256:
        description: SHA256 of that zip, 64 hexadecimal characters.
        type: str
        required: true
      os:
        description: Operating system. The API accepts only V(linux).
        type: str
        default: linux
      arch:
        description: CPU architecture.
        type: str
        choices: [amd64, arm64, s390x]
        default: amd64
  official:
    description:
      - Whether the version is marked official. Official versions cannot be removed.
      - Left as it is when not set (V(false) for a new version).
    type: bool
  enabled:
    description:
      - Whether workspaces may select this version.
      - Left as it is when not set (V(true) for a new version).
    type: bool
  beta:
    description:
      - Whether the version is a beta. Left as it is when not set (V(false) for a new version).
    type: bool
  deprecated:
    description:
      - Whether the version is deprecated. Left as it is when not set (V(false) for a new version).
      - Setting it to V(false) clears the server's deprecation reason.
    type: bool
  deprecated_reason:
    description:
      - Why the version is deprecated, shown to users. Needs O(deprecated=true) in the same task.
    type: str
attributes:
  diff_mode:
    details: Shows the attributes that change, before and after.
seealso:
  - module: ptfe.ops.ptfe_tool_versions
"""

EXAMPLES = r"""
- name: Offer Terraform 1.5.7 from the releases mirror
  ptfe.ops.ptfe_tool_version:
    address: https://ptfe.example.com
    token: "{{ ptfe_admin_token }}"
    version: 1.5.7
    url: https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip
    sha256: c0ed7bc32ee52ae255af9982c8c88a7a4c610485cf1d55feeb037eab75fa082c
  delegate_to: localhost
  run_once: true

- name: Deprecate it, changing nothing else
  ptfe.ops.ptfe_tool_version:
    version: 1.5.7
    deprecated: true
    deprecated_reason: Upgrade to 1.9 before June.
  environment:
    TFE_ADDRESS: https://ptfe.example.com
    TFE_TOKEN: "{{ ptfe_admin_token }}"

- name: Remove a version nobody uses
  ptfe.ops.ptfe_tool_version:
    version: 0.12.31
    state: absent
"""

RETURN = r"""
tool_version:
  description:
    - The version as the server has it after the task (predicted in check mode). Empty after removal.
  returned: success
  type: dict
  sample:
    id: tool-L4oe7rNwn7J4E5Yr
    version: 1.5.7
    url: https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip
    sha256: c0ed7bc32ee52ae255af9982c8c88a7a4c610485cf1d55feeb037eab75fa082c
    official: false
    enabled: true
    beta: false
    deprecated: false
    deprecated_reason: null
    usage: 0
    created_at: "2026-11-22T11:30:00.000Z"
    archs:
      - os: linux
        arch: amd64
        url: https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip
        sha256: c0ed7bc32ee52ae255af9982c8c88a7a4c610485cf1d55feeb037eab75fa082c
action:
  description: What was done (or would be done in check mode).
  returned: success
  type: str
  choices: [created, updated, removed, unchanged]
  sample: updated
checksums:
  description:
    - One entry per artifact whose checksum was verified during this run. Empty when nothing new was registered.
  returned: success
  type: list
  elements: dict
  sample:
    - version: 1.5.7
      url: https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip
      method: SHA256SUMS
      source: https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_SHA256SUMS
"""

from ansible_collections.ptfe.ops.plugins.module_utils._tool_versions import (
    ToolVersionModule,
    apply,
    capped,
    check_item,
    checksum_options,
    tool_version_options,
)


def main():
    module = ToolVersionModule(
        argument_spec=dict(
            version=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            **tool_version_options(),
            **checksum_options()
        ),
        required_together=[("url", "sha256")],
        mutually_exclusive=[("archs", "url"), ("archs", "sha256")],
    )
    params = module.params
    problems, item = check_item(params, allow_http=params["allow_http"])
    module.fail_on_invalid(capped(problems), "ptfe_tool_version")
    with module.errors("manage Terraform version %s" % params["version"]):
        result = apply(module.client(), [item], params, check_mode=module.check_mode, warn=module.warn)

    version = item[1]
    action = "unchanged"
    for key in ("created", "updated", "removed"):
        if result[key]:
            action = key
    before = result["diff"]["before"].get(version)
    after = result["diff"]["after"].get(version)
    module.exit_json(
        changed=result["changed"],
        action=action,
        tool_version=(result["tool_versions"] or [{}])[0],
        checksums=result["checksums"],
        diff={"before": {version: before} if before else {}, "after": {version: after} if after else {}},
    )


if __name__ == "__main__":
    main()
