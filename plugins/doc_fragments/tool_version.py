# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """What ptfe_tool_version and ptfe_tool_versions share: the checksum options, and the API they use."""

    DOCUMENTATION = r"""
options:
  checksum_verify:
    description:
      - Verify every new or changed checksum before anything is written, against the C(SHA256SUMS) file
        published beside the zip when there is one, otherwise against the download itself (streamed through a
        hash, never kept in memory or on disk). A checksum already registered with the same URL is not
        checked again.
      - A mismatch fails the task before any API write, naming the version, the URL and both checksums.
      - Set to V(false) only for an air-gapped mirror the controller cannot reach; the module then warns that
        the checksum was taken on trust.
      - The downloads use O(timeout) and are retried as O(max_retries) says. They follow redirects, but never
        from C(https://) to C(http://) unless O(allow_http=true).
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
attributes:
  check_mode:
    details: Checksums are still verified in check mode (by read-only downloads or C(SHA256SUMS) fetches).
notes:
  - The admin Terraform versions API is for site administrators only; any other token gets HTTP 404.
  - The checksum check trusts the C(SHA256SUMS) file served over HTTPS beside the zip; it does not check the
    file's GPG signature.
seealso:
  - name: Admin Terraform versions API
    description: The API this module uses.
    link: https://developer.hashicorp.com/terraform/enterprise/api-docs/admin/terraform-versions
"""
