# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Options that choose where Vault's unseal keys are kept (vault_rekey, vault_custody_info)."""

    DOCUMENTATION = r"""
options:
  custody:
    description:
      - Where the keys documents are kept.
      - V(file) keeps them in O(keys_file) and files next to it, on the machine that runs the module (usually the
        controller). Such a file ends with the machine; in an AWX/AAP job the controller is a container that is
        thrown away, so pair V(file) with a disk that outlives the job, or use V(s3).
      - V(s3) keeps them as objects in O(s3_bucket) under O(s3_object), each written with server-side encryption
        by KMS (SSE-KMS) and read back. The bucket must have versioning enabled, so that no write ever loses the
        version it replaces. The rekey record and the archives are kept next to the object, so an interrupted
        rekey can be resumed from another controller.
      - In both, every document records the C(cluster_id) and URL of its Vault and the rekey's nonce; a document of
        another cluster is never written over, and the keys a rekey replaces are archived under their nonce
        (C(<keys>.<nonce>)) and the unseal keys that were current before it under C(<keys>.pre-<nonce>).
    type: str
    choices: [file, s3]
    default: file
  keys_file:
    description:
      - With O(custody=file), the file that holds the live keys, as JSON, mode C(0600), written atomically and
        fsynced. Its parent directory must exist. Next to it the module keeps C(.pending) (new keys waiting for
        verification), C(.state) (the record of a rekey in progress), C(.<nonce>) (archived keys documents),
        C(.pre-<nonce>) (the unseal keys that were current before a rekey) and C(.lock).
      - Give every Vault its own path. A file holding another cluster's keys is refused before anything
        changes, and two runs never use one file at the same time (an exclusive lock on C(.lock)).
    type: path
  state_file:
    description:
      - With O(custody=file), where the record of a rekey in progress is kept (mode C(0600)). Defaults to
        O(keys_file) with the suffix C(.state).
    type: path
  s3_bucket:
    description:
      - With O(custody=s3), the bucket. It must have versioning enabled.
    type: str
  s3_object:
    description:
      - With O(custody=s3), the object key of the live keys document, for example
        V(ptfe-ops/vault-keys/tfe1.example.com.json). The other documents are kept under the same name with a
        suffix (C(.pending), C(.state), C(.<nonce>), C(.pre-<nonce>)).
      - Give every Vault its own object.
    type: str
  s3_kms_key_id:
    description:
      - With O(custody=s3), the KMS key (ID, ARN or alias) that encrypts the objects. Empty uses the account's
        AWS managed key for S3 (C(aws/s3)).
    type: str
  s3_region:
    description:
      - AWS region of the bucket. Empty uses the standard AWS configuration (E(AWS_REGION), the profile).
    type: str
  s3_endpoint_url:
    description:
      - URL of an S3-compatible endpoint instead of AWS's, for example a VPC endpoint or a test server.
    type: str
  s3_profile:
    description:
      - AWS profile to take credentials from. Empty uses the standard chain (environment, instance role). Keys are
        never taken as module options, so they cannot end up in a log.
    type: str
  s3_ca_bundle:
    description:
      - PEM bundle used to verify the S3 endpoint's certificate instead of the system store.
    type: path
requirements:
  - boto3 and botocore (only with O(custody=s3), on the host that runs the module)
"""
