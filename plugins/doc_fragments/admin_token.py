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
      - Where the admin API token is kept for later runs.
      - V(file) keeps it in O(token_file) alone, on the machine that runs the module. In an AWX/AAP job that machine
        is a container thrown away after the job, so a later job has no token file.
      - V(s3) also keeps it as a JSON document in O(s3_bucket) under O(s3_object), written with server-side
        encryption by KMS (SSE-KMS) and read back; the bucket must have versioning enabled, so no write loses the
        version it replaces. Later runs read the token from there when O(token_file) is missing. O(token_file) is
        then a working copy for later tasks of the same job; writing it from the stored document is no change.
      - The document records the installation's address. A document of another installation is neither used nor
        written over; the module fails, naming both.
    type: str
    choices: [file, s3]
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
