# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Options that choose where the first admin's API token is kept (ptfe_initial_admin, ptfe_initial_admin_info)."""

    DOCUMENTATION = r"""
options:
  custody:
    description:
      - The durable place of the admin API token, for a later run on another machine.
      - V(file) - only O(token_file), which an AWX/AAP job loses with its container when the job ends.
      - V(s3) - a JSON document in O(s3_bucket) at O(s3_object), with SSE-KMS, in a bucket whose versioning is on
        (so a write never loses the version it replaces).
      - V(vault_kv) - the same document as the secret O(vault_kv_path) of the KV engine at O(vault_kv_mount) of the
        Vault or OpenBao at O(vault_url). On KV version 2 the write names the version this run read
        (check-and-set), so two runs never overwrite each other silently.
      - Whatever the place, every write is read back, and a run without O(token_file) takes the token from the
        document; writing O(token_file) from it is no change, the file being a working copy for the rest of the
        job.
      - The document names the installation (its address). The module fails, naming both, rather than use or
        overwrite the document of another installation.
    type: str
    choices: [file, s3, vault_kv]
    default: file
  s3_bucket:
    description:
      - With O(custody=s3), the bucket that keeps the token document. Its versioning must be enabled; this is
        checked before the admin is created.
    type: str
  s3_object:
    description:
      - With O(custody=s3), the object key of the token document, for example
        V(ptfe-ops/admin-token/tfe1.example.com.json). Give every installation its own object.
    type: str
  s3_kms_key_id:
    description:
      - With O(custody=s3), the KMS key (ID, ARN or alias) that encrypts the object. Empty uses the account's AWS
        managed key for S3 (C(aws/s3)).
    type: str
  s3_region:
    description:
      - With O(custody=s3), the region of O(s3_bucket). Empty takes it from E(AWS_REGION) or the AWS profile.
    type: str
  s3_endpoint_url:
    description:
      - With O(custody=s3), an S3-compatible endpoint to use in place of AWS's (a VPC endpoint, a test server).
    type: str
  s3_profile:
    description:
      - With O(custody=s3), the AWS profile whose credentials read and write the token. Empty uses the standard
        chain (environment, instance role); AWS keys are never options, so no log can show them.
    type: str
  s3_ca_bundle:
    description:
      - With O(custody=s3), a PEM bundle that verifies the endpoint's certificate in place of the system store.
    type: path
requirements:
  - boto3 and botocore (only with O(custody=s3), on the host that runs the module)
"""
