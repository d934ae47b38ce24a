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
description:
  - Registers, updates or removes one Terraform version (the version number, the linux/amd64 download URL and
    its SHA256) through the admin Terraform versions API, C(/api/v2/admin/terraform-versions).
  - The version is looked up by its number with C(filter[version]); on servers that predate that filter the
    module pages through the list instead.
  - Only the attributes that differ from the server are sent.
  - Before anything is written, the SHA256 of a new or changed download is checked, from the C(SHA256SUMS)
    file published beside the zip when there is one, otherwise by streaming the download through a hash
    (the file is never kept in memory or on disk). A mismatch fails the task before any API write, naming
    the version, the URL and both checksums. A version already registered with the same URL and checksum
    is not downloaded again.
  - The admin API is for site administrators only; any other token gets HTTP 404.
  - To manage the whole list in one task, use M(ptfe.ops.ptfe_tool_versions).
author:
  - ptfe.ops contributors (@ptfe-ops)
extends_documentation_fragment:
  - ptfe.ops.ptfe
attributes:
  check_mode:
    description: Can run in check mode and predict the change without writing anything.
    support: full
    details:
      - Checksums are still verified in check mode (a read-only download or C(SHA256SUMS) fetch).
  diff_mode:
    description: Returns the attributes that change, before and after.
    support: full
  idempotent:
    description: Running the task twice with the same options changes nothing the second time.
    support: full
  action_group:
    description: Use C(group/ptfe.ops.ptfe) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - ptfe.ops.ptfe
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
  checksum_verify:
    description:
      - Verify O(sha256) (or each arch's checksum) against the published C(SHA256SUMS) or the download before
        registering a new or changed URL or checksum.
      - Set to V(false) only for an air-gapped mirror the controller cannot reach; the module then warns that
        the checksum was taken on trust.
    type: bool
    default: true
  checksum_ca_path:
    description:
      - PEM file of the certificate authority of the download host, used instead of the system trust store
        when verifying checksums. O(ca_path) applies only to the PTFE API.
    type: path
  allow_http:
    description:
      - Accept C(http://) download URLs. Without it only C(https://) is accepted.
      - Applies to the download URLs only; the installation's O(address) has O(allow_insecure_http).
    type: bool
    default: false
notes:
  - The checksum check trusts the C(SHA256SUMS) file served over HTTPS beside the zip; it does not check the
    file's GPG signature.
seealso:
  - module: ptfe.ops.ptfe_tool_versions
  - name: Admin Terraform versions API
    description: The API this module uses.
    link: https://developer.hashicorp.com/terraform/enterprise/api-docs/admin/terraform-versions
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    HAS_REQUESTS,
    PtfeClient,
    PtfeError,
    ptfe_argument_spec,
)
from ansible_collections.ptfe.ops.plugins.module_utils._tool_versions import (
    ChecksumVerifier,
    ToolVersionError,
    ToolVersionStore,
    sync,
    tool_version_options,
    validate_item,
)


def main():
    argument_spec = ptfe_argument_spec(
        version=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        checksum_verify=dict(type="bool", default=True),
        checksum_ca_path=dict(type="path"),
        allow_http=dict(type="bool", default=False),
        **tool_version_options()
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_together=[("url", "sha256")],
        mutually_exclusive=[("archs", "url"), ("archs", "sha256")],
    )
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"))
    params = module.params
    current = None
    try:
        state, version, desired = validate_item(params, allow_http=params["allow_http"])
        verifier = None
        if params["checksum_verify"]:
            verifier = ChecksumVerifier(ca_path=params["checksum_ca_path"], timeout=params["timeout"])
        store = ToolVersionStore(PtfeClient.from_module(module))
        current = store.find(version)
        index = {version: current} if current else {}
        result = sync(store, [(state, version, desired)], index, check_mode=module.check_mode, verifier=verifier)
    except (PtfeError, ToolVersionError) as err:
        module.fail_json(msg=str(err))

    for item in result["unverified"]:
        module.warn("checksum_verify=false: the SHA256 of Terraform version %s (%s) was registered without "
                    "checking it against the download" % (item["version"], item["url"]))
    action = "unchanged"
    for key, name in (("created", "created"), ("updated", "updated"), ("removed", "removed")):
        if result[key]:
            action = name
    if action == "removed":
        tool_version = {}
    elif result["tool_versions"]:
        tool_version = result["tool_versions"][0]
    else:
        tool_version = current or {}
    before = result["diff"]["before"].get(version)
    after = result["diff"]["after"].get(version)
    module.exit_json(
        changed=result["changed"],
        action=action,
        tool_version=tool_version,
        checksums=result["checksums"],
        diff={"before": {version: before} if before else {}, "after": {version: after} if after else {}},
    )


if __name__ == "__main__":
    main()
