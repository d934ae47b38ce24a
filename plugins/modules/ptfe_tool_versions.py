#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_tool_versions
short_description: Manage the whole list of Terraform versions of a PTFE / Terraform Enterprise installation
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Brings the installation's Terraform versions in line with a list, in one task, for operators who track
    every release.
  - Reads the server's list once (100 versions per page), then writes only the differences; an unchanged list
    of 300 versions costs three requests and no download.
  - With O(purge=true), versions the list does not name are removed, except official versions and versions in
    use by workspaces, which the server refuses to remove; those are reported in RV(kept), not failed.
  - Before anything is written, the SHA256 of every new or changed download is verified (see
    O(checksum_verify)); any mismatch fails the task before the first API write.
  - Shares its logic with M(ptfe.ops.ptfe_tool_version), which manages a single version.
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.tool_version
  - ptfe.ops.attributes
options:
  versions:
    description:
      - The Terraform versions to manage. Each entry takes the options of M(ptfe.ops.ptfe_tool_version) that
        describe one version, with the same meaning; see there for the details.
      - Quote version numbers in YAML (V("1.10.0")) so they stay strings.
    type: list
    elements: dict
    required: true
    suboptions:
      version:
        description: The version number, V(N.N.N) or V(N.N.N-suffix).
        type: str
        required: true
      state:
        description:
          - V(present) creates or updates the version, V(absent) removes it (failing if it is official or in
            use).
        type: str
        choices: [present, absent]
        default: present
      url:
        description:
          - Download URL of the linux/amd64 zip; C(https://) unless O(allow_http=true).
          - Required, with O(versions[].sha256), to create a version unless O(versions[].archs) is given.
        type: str
      sha256:
        description: SHA256 of the zip at O(versions[].url), 64 hexadecimal characters.
        type: str
      archs:
        description:
          - Per-architecture downloads, on servers that have them. Mutually exclusive with
            O(versions[].url) and O(versions[].sha256).
        type: list
        elements: dict
        suboptions:
          url:
            description: The zip's download URL.
            type: str
            required: true
          sha256:
            description: The zip's SHA256.
            type: str
            required: true
          os:
            description: Operating system (V(linux) only).
            type: str
            default: linux
          arch:
            description: The CPU architecture the zip is built for.
            type: str
            choices: [amd64, arm64, s390x]
            default: amd64
      official:
        description: Whether the version is official. Left as it is when not set.
        type: bool
      enabled:
        description: Whether workspaces may select it. Left as it is when not set.
        type: bool
      beta:
        description: Whether it is a beta. Left as it is when not set.
        type: bool
      deprecated:
        description: Whether it is deprecated. Left as it is when not set.
        type: bool
      deprecated_reason:
        description: Why it is deprecated. Needs O(versions[].deprecated=true) in the same entry.
        type: str
  purge:
    description:
      - Remove the versions on the server that O(versions) does not name.
      - Official versions and versions in use are never removed; they are listed in RV(kept).
      - Refused, before any request, when O(versions) lists no version with O(versions[].state=present). Such a
        purge would remove every version, which takes O(purge_all=true) as well.
    type: bool
    default: false
  purge_all:
    description:
      - Confirm a purge that keeps no version, so that O(purge=true) with an empty O(versions) (or one whose
        entries are all O(versions[].state=absent)) removes every version that is neither official nor in use.
      - Without it such a purge is refused before any request, since an empty list is more often a mistake (a
        list under a misspelt variable) than a wish.
      - Needs O(purge=true). The module warns when it removes every version this way.
    type: bool
    default: false
    version_added: 0.2.0
attributes:
  diff_mode:
    details: Shows, per version, the attributes that change, before and after.
notes:
  - Writes are paced under the server's rate limit (30 requests per second by default), so creating 300
    versions takes over ten seconds.
seealso:
  - module: ptfe.ops.ptfe_tool_version
"""

EXAMPLES = r"""
- name: Offer exactly these Terraform versions (plus any official or in-use ones)
  ptfe.ops.ptfe_tool_versions:
    address: https://ptfe.example.com
    token: "{{ ptfe_admin_token }}"
    purge: true
    versions:
      - version: "1.5.7"
        url: https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip
        sha256: c0ed7bc32ee52ae255af9982c8c88a7a4c610485cf1d55feeb037eab75fa082c
      - version: "1.4.6"
        url: https://releases.hashicorp.com/terraform/1.4.6/terraform_1.4.6_linux_amd64.zip
        sha256: e079db1a8945e39b1f8ba4e513946b3ab9f32bd5a2bdf19b9b186d22c5a3d53b
        deprecated: true
        deprecated_reason: Upgrade to 1.5.
  delegate_to: localhost
  run_once: true
  register: ptfe_versions

- name: Show what could not be purged
  ansible.builtin.debug:
    var: ptfe_versions.kept
"""

RETURN = r"""
created:
  description: Version numbers created (or that would be, in check mode).
  returned: success
  type: list
  elements: str
  sample: ["1.5.7"]
updated:
  description: Version numbers whose attributes were changed.
  returned: success
  type: list
  elements: str
  sample: ["1.4.6"]
removed:
  description: Version numbers removed (listed with O(versions[].state=absent), or purged).
  returned: success
  type: list
  elements: str
  sample: ["0.12.31"]
unchanged:
  description: Version numbers of the list that already matched.
  returned: success
  type: list
  elements: str
  sample: ["1.3.9"]
kept:
  description: Versions O(purge) would have removed but may not be, with the reason.
  returned: success
  type: list
  elements: dict
  sample:
    - version: 0.11.15
      reason: it is an official version
    - version: 1.2.0
      reason: it is in use by 3 workspace(s)
checksums:
  description:
    - One entry per artifact whose checksum was verified during this run, as in
      RV(ptfe.ops.ptfe_tool_version#module:checksums); V(bytes) is the size of a download that was hashed.
  returned: success
  type: list
  elements: dict
  sample:
    - {"version": "1.5.7", "method": "SHA256SUMS",
       "url": "https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip",
       "source": "https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_SHA256SUMS"}
    - {"version": "1.4.6", "method": "download", "bytes": 20959010,
       "url": "https://mirror.example.com/terraform/1.4.6/terraform_1.4.6_linux_amd64.zip",
       "source": "https://mirror.example.com/terraform/1.4.6/terraform_1.4.6_linux_amd64.zip"}
tool_versions:
  description:
    - The created, updated and unchanged versions of the list as the server has them after the task
      (predicted in check mode), with the keys of RV(ptfe.ops.ptfe_tool_version#module:tool_version).
  returned: success
  type: list
  elements: dict
  sample:
    - {"id": "tool-L4oe7rNwn7J4E5Yr", "version": "1.5.7", "official": false, "enabled": true, "beta": false,
       "url": "https://releases.hashicorp.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip",
       "sha256": "c0ed7bc32ee52ae255af9982c8c88a7a4c610485cf1d55feeb037eab75fa082c",
       "deprecated": false, "deprecated_reason": null, "usage": 0, "created_at": "2026-11-22T11:30:00.000Z"}
"""

from ansible_collections.ptfe.ops.plugins.module_utils._tool_versions import (
    ToolVersionModule,
    apply,
    capped,
    check_items,
    checksum_options,
    tool_version_options,
)


def main():
    item_options = dict(
        version=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **tool_version_options()
    )
    module = ToolVersionModule(argument_spec=dict(
        versions=dict(type="list", elements="dict", required=True, options=item_options),
        purge=dict(type="bool", default=False),
        purge_all=dict(type="bool", default=False),
        **checksum_options()
    ))
    params = module.params
    problems, items = check_items(params["versions"], allow_http=params["allow_http"], purge=params["purge"],
                                  purge_all=params["purge_all"])
    module.fail_on_invalid(capped(problems), "ptfe_tool_versions")
    if params["purge_all"] and not any(state == "present" for state, _version, _desired in items):
        module.warn("purge_all=true: every Terraform version on the server that is neither official nor in use is "
                    "removed, none is kept")
    with module.errors("manage the Terraform versions"):
        result = apply(module.client(), items, params, whole_list=True, check_mode=module.check_mode,
                       warn=module.warn)

    module.exit_json(
        changed=result["changed"],
        created=result["created"],
        updated=result["updated"],
        removed=result["removed"],
        unchanged=result["unchanged"],
        kept=result["kept"],
        checksums=result["checksums"],
        tool_versions=result["tool_versions"],
        diff={
            "before": dict((k, v) for k, v in result["diff"]["before"].items() if v),
            "after": dict((k, v) for k, v in result["diff"]["after"].items() if v),
        },
    )


if __name__ == "__main__":
    main()
