#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_rekey
short_description: Rekey Vault's unseal keys to new shares and threshold without ever losing a key
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Changes the number of unseal key shares and the threshold of a Shamir-sealed Vault (or OpenBao) by
    running a complete rekey (start, submit the current key shares, persist the new keys, verify them,
    and only then let Vault switch to them).
  - Idempotent. When C(sys/seal-status) already shows O(key_shares) and O(key_threshold), nothing is started
    and the module reports C(changed=false), unless O(force=true).
  - Works with Vault's unauthenticated C(sys/rekey/*) endpoints and with OpenBao's authenticated
    C(sys/rotate/root/*) endpoints (OpenBao 2.4+ disables C(sys/rekey/*) by default). The module detects
    which one answers; the OpenBao endpoints need O(token).
  - Never joins a rekey somebody else started. A rekey in progress that this module did not start (it has
    no matching state file) makes the module fail and explain; it is cancelled, with its nonce, only when
    O(cancel_foreign=true).
  - Crash safe. Before starting, the module records the rekey in the keys destination (O(custody)). The new
    keys are stored as C(.pending) as soon as Vault returns them and before the verification that makes them
    live. If a run is interrupted at any point, the next run with
    the same options resumes the rekey it started, or cancels it when its new keys were never persisted
    (the old keys then stay valid), or finishes the bookkeeping when Vault already switched. When the
    situation cannot be decided safely, the module stops and says exactly what to check.
extends_documentation_fragment:
  - ptfe.ops.vault
  - ptfe.ops.custody
  - ptfe.ops.attributes
options:
  key_shares:
    description:
      - Number of new unseal key shares (1 to 255).
    type: int
    required: true
  key_threshold:
    description:
      - Number of new key shares needed to unseal (1 to O(key_shares); greater than 1 when O(key_shares) is
        greater than 1).
    type: int
    required: true
  unseal_keys:
    description:
      - The current unseal key shares (hex or base64), at least as many as the current threshold.
      - Each is one key as Vault prints it, without white space or a trailing newline, of the length an unseal key
        or key share has (16, 24 or 32 bytes with threshold 1, one byte more with a higher threshold). Anything else
        is refused by its position in the list, before a rekey starts and without showing the key.
      - A key Vault refuses (a well-formed key of another Vault) makes the module cancel the rekey it started, with
        its nonce, and fail saying so; the current keys stay valid.
      - Secret; never logged. Not needed when nothing has to change, nor in check mode.
    type: list
    elements: str
    default: []
  require_verification:
    description:
      - Make Vault keep the old keys until the new ones are proven by submitting O(key_threshold) of them.
      - When V(false), Vault switches to the new keys the moment the last current share is submitted, so a
        crash before the keys are written would lose them; this is only accepted with O(pgp_keys) and
        O(backup=true).
    type: bool
    default: true
  pgp_keys:
    description:
      - Base64-encoded PGP public keys, one per key share, in share order, each in one line (or
        C(keybase:<user>)). Vault encrypts each new share with its key; the keys file then holds only encrypted
        shares.
      - With O(require_verification=true) the module cannot decrypt the shares itself; it stops after the
        keys are persisted and reports RV(verification_pending). Run it again with O(verification_keys).
    type: list
    elements: str
  backup:
    description:
      - Ask Vault to keep a copy of the PGP-encrypted new keys (C(sys/rekey/backup)). Needs O(pgp_keys).
    type: bool
    default: false
  verification_keys:
    description:
      - Decrypted new key shares used to finish the verification of a PGP-mode rekey started by an earlier run.
      - Each in hex or base64, without white space, like O(unseal_keys).
      - Secret; never logged.
    type: list
    elements: str
  force:
    description:
      - Rekey even when the seal already has O(key_shares) and O(key_threshold).
    type: bool
    default: false
  cancel_foreign:
    description:
      - Cancel (with its nonce) a rekey in progress that this module did not start, then go on. Without it
        such a rekey makes the module fail, because joining it could hand the new keys to someone else.
    type: bool
    default: false
  archive_unseal_keys:
    description:
      - Before the first current share is submitted, keep the unseal keys given in O(unseal_keys) in the keys
        destination as C(<keys>.pre-<nonce>). They are what unseals a backup or snapshot taken before the rekey;
        after the rekey nothing else holds them once the instance's own key file is removed.
      - The archive holds the old keys as given (not encrypted by O(pgp_keys)); protect the destination accordingly.
    type: bool
    default: true
  return_keys:
    description:
      - Return the new keys in RV(keys) and RV(keys_base64). Off by default; the keys are in O(keys_file).
      - The keys are secret. Only use this in a task with C(no_log=true).
    type: bool
    default: false
attributes:
  check_mode:
    details: Only reads (seal status, rekey progress). Reports whether a rekey would start or be resumed.
  diff_mode:
    details: Shows the seal's shares and threshold before and after. Never shows keys.
  idempotent:
    details: When the seal already has the requested shares and threshold no rekey starts, unless O(force=true).
notes:
  - Shamir seals only; recovery keys of auto-unseal seals are not rekeyed.
  - The module never submits a key share twice in one run and never retries a submission. After a lost
    connection it stops; the next run reads Vault's state back and resumes.
  - Keep the keys where they survive the run. With O(custody=file) that is a disk that outlives the controller
    (not the temporary directory of an execution environment); O(custody=s3) outlives it by design.
  - Bound to one cluster. Before anything changes, the module refuses a keys destination whose documents record
    another C(cluster_id), and with O(custody=file) it holds an exclusive lock on the keys file for the whole run.
  - Every option is checked before the first request, and a refusal names the option without showing a secret.
    Paths are absolute and name files; O(keys_file), O(state_file) and the CA bundles are different files, and
    O(state_file) is none of the files kept beside O(keys_file). O(s3_bucket), O(s3_kms_key_id), O(s3_region) and
    O(s3_profile) follow AWS's syntax, O(s3_endpoint_url) is an https URL (http only with O(allow_insecure_http))
    without a password or a path, and the CA bundles must exist.
seealso:
  - name: Vault rekey API
    description: The C(sys/rekey) endpoints.
    link: https://developer.hashicorp.com/vault/api-docs/system/rekey
  - name: OpenBao unauthenticated rekey deprecation
    description: Why OpenBao uses C(sys/rotate/root).
    link: https://openbao.org/docs/deprecation/unauthed-rekey/
"""

EXAMPLES = r"""
- name: Rekey to 5 shares, threshold 2, keys stored on the controller
  ptfe.ops.vault_rekey:
    url: https://vault.example.com:8200
    token: "{{ vault_token }}"
    key_shares: 5
    key_threshold: 2
    unseal_keys:
      - "{{ current_unseal_key }}"
    keys_file: /srv/secrets/vault-unseal-keys.json
  no_log: true
  register: rekey

- name: Report whether a rekey would start
  ptfe.ops.vault_rekey:
    url: https://vault.example.com:8200
    key_shares: 5
    key_threshold: 2
    keys_file: /srv/secrets/vault-unseal-keys.json
  check_mode: true

- name: Rekey with PGP-encrypted shares and a backup in Vault
  ptfe.ops.vault_rekey:
    url: https://vault.example.com:8200
    token: "{{ vault_token }}"
    key_shares: 3
    key_threshold: 2
    unseal_keys: "{{ current_unseal_keys }}"
    pgp_keys: "{{ operator_pgp_keys }}"
    backup: true
    keys_file: /srv/secrets/vault-unseal-keys.json
  no_log: true

- name: Rekey with the keys kept in a versioned S3 bucket under SSE-KMS (survives an AWX job's container)
  ptfe.ops.vault_rekey:
    url: https://vault.example.com:8200
    token: "{{ vault_token }}"
    key_shares: 5
    key_threshold: 2
    unseal_keys: "{{ current_unseal_keys }}"
    custody: s3
    s3_bucket: ptfe-install-state
    s3_object: ptfe-ops/vault-keys/{{ inventory_hostname }}.json
    s3_kms_key_id: alias/ptfe-keys
  no_log: true
"""

RETURN = r"""
api:
  description: The endpoint family used, V(sys/rekey) (Vault) or V(sys/rotate/root) (OpenBao default).
  returned: always
  type: str
  sample: sys/rotate/root
key_shares:
  description: Number of key shares of the seal after the run (in check mode, what it would be).
  returned: always
  type: int
  sample: 5
key_threshold:
  description: Threshold of the seal after the run (in check mode, what it would be).
  returned: always
  type: int
  sample: 2
rekeyed:
  description: Whether Vault switched to new keys during this run.
  returned: always
  type: bool
verified:
  description: Whether the new keys were proven by verification before Vault switched to them.
  returned: always
  type: bool
verification_pending:
  description: The rekey waits for verification with decrypted PGP shares (see O(verification_keys)).
  returned: always
  type: bool
resumed:
  description: Whether this run continued or cleaned up a rekey an earlier run had started.
  returned: always
  type: bool
cancelled_nonce:
  description: Nonce of a rekey this run cancelled (a foreign one with O(cancel_foreign), or its own one whose
    keys had never been persisted). Empty when nothing was cancelled.
  returned: always
  type: str
keys_file:
  description: Path of the file holding the new keys (empty when no file is used).
  returned: always
  type: str
keys_destination:
  description: Where the live keys document is, as a path or an C(s3://) URL (empty in PGP-only mode).
  returned: always
  type: str
  sample: s3://ptfe-state/ptfe-ops/vault-keys/tfe1.json
custody:
  description: The kind of keys destination, V(file) or V(s3).
  returned: always
  type: str
custody_durable:
  description: Whether the keys destination outlives the machine that ran the module (true for V(s3)).
  returned: always
  type: bool
nonce:
  description: Nonce of the rekey that made the live keys document of this cluster (empty when there is none).
  returned: always
  type: str
cluster_id:
  description: The Vault cluster's ID, as reported by C(sys/seal-status).
  returned: always
  type: str
archived:
  description: Documents this run archived (replaced keys documents and the unseal keys current before the rekey).
  returned: always
  type: list
  elements: str
pgp_fingerprints:
  description: Fingerprints of the PGP keys the new shares are encrypted with.
  returned: when O(pgp_keys) was used
  type: list
  elements: str
keys:
  description:
    - The new key shares, hex. B(Secret.) Only with O(return_keys=true), and only in the run that made them.
  returned: when O(return_keys=true) and new keys were made
  type: list
  elements: str
keys_base64:
  description: The shares of RV(keys), base64-encoded. B(Secret.)
  returned: when O(return_keys=true) and new keys were made
  type: list
  elements: str
msg:
  description: What happened, in one sentence.
  returned: always
  type: str
"""

from ansible_collections.ptfe.ops.plugins.module_utils._rekey import Rekey, validate
from ansible_collections.ptfe.ops.plugins.module_utils._vault_module import VaultModule


def main():
    module = VaultModule(
        argument_spec=dict(
            key_shares=dict(type="int", required=True, no_log=False),
            key_threshold=dict(type="int", required=True, no_log=False),
            unseal_keys=dict(type="list", elements="str", no_log=True, default=[]),
            require_verification=dict(type="bool", default=True),
            pgp_keys=dict(type="list", elements="str", no_log=False),
            backup=dict(type="bool", default=False),
            verification_keys=dict(type="list", elements="str", no_log=True),
            force=dict(type="bool", default=False),
            cancel_foreign=dict(type="bool", default=False),
            archive_unseal_keys=dict(type="bool", default=True),
            return_keys=dict(type="bool", default=False),
        ),
        custody=True,
    )
    module.fail_on_invalid(validate(module.params), "ptfe.ops.vault_rekey")
    with module.errors("rekey Vault", writing="write rekey files"):
        rekey = Rekey(module.params, module.client(), module.custody(), check_mode=module.check_mode,
                      warn=module.warn)
        result = rekey.run()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
