#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_custody_info
short_description: Prove that a Vault's unseal keys are in custody before its old key is destroyed
version_added: 0.2.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Reads the keys document that M(ptfe.ops.vault_rekey) keeps (O(custody)) and the live C(sys/seal-status) of
    the Vault it belongs to, and lists every proof that is missing before the instance's old self-managed
    unseal key may be removed.
  - Never changes anything and never returns a key. RV(problems) is empty only when all of these hold
    (1) the keys document exists and records this Vault's C(cluster_id);
    (2) its nonce is O(expected_nonce), the rekey the run just reported;
    (3) the live seal has the document's shares and threshold (and O(expected_key_shares));
    (4) the keys were verified, no verification is pending and the document holds one key per share;
    (5) the unseal key to be removed (O(unseal_key)) is archived in the same destination;
    (6) the destination outlives the controller (O(custody=s3)), or the operator named it in
    O(accept_destination);
    (7) a keys file has mode C(0600).
  - Every option is checked before anything is read, and a refusal names the option without showing a secret. The
    URL is https (http only with O(allow_insecure_http)) without a password or a path, paths are absolute and name
    files, the CA bundles exist, and the custody options follow the rules of M(ptfe.ops.vault_rekey).
extends_documentation_fragment:
  - ptfe.ops.vault
  - ptfe.ops.custody
  - ptfe.ops.attributes.read_only
options:
  expected_nonce:
    description:
      - Nonce of the rekey whose keys must be the live ones, as returned by M(ptfe.ops.vault_rekey) in RV(ptfe.ops.vault_rekey#module:nonce).
      - Empty is itself a missing proof. Anything but letters, digits, C(_) and C(-) is refused before anything is
        read.
    type: str
    default: ""
  expected_key_shares:
    description:
      - Number of key shares the rekey must have produced, 0 to 255. V(0) skips this comparison (the live seal is
        still compared with the document).
    type: int
    default: 0
  unseal_key:
    description:
      - The self-managed unseal key that is about to be removed. It must be among the archived unseal keys that
        were current before the rekey (C(<keys>.pre-<nonce>)); only a fingerprint of it is compared.
      - One key in hex or base64, as Vault prints it, without white space; anything else is refused before anything
        is read, without showing it.
      - Secret; never logged. Empty when the key is already gone.
    type: str
    default: ""
  accept_destination:
    description:
      - The operator's acknowledgement that a destination which does not outlive the controller (a keys file)
        is safe, for example because it is on a disk that is backed up. Must equal RV(destination) exactly, and
        holds no newline or other control character.
    type: str
    default: ""
seealso:
  - module: ptfe.ops.vault_rekey
"""

EXAMPLES = r"""
- name: Collect the proofs that the new keys are safe
  ptfe.ops.vault_custody_info:
    url: https://tfe1.example.com:8200
    custody: s3
    s3_bucket: ptfe-install-state
    s3_object: ptfe-ops/vault-keys/tfe1.example.com.json
    expected_nonce: "{{ rekey.nonce }}"
    expected_key_shares: 5
    unseal_key: "{{ old_key }}"
  register: custody

- name: Stop unless every proof is there
  ansible.builtin.assert:
    that: custody.problems | length == 0
    fail_msg: "{{ custody.problems | join('; ') }}"
"""

RETURN = r"""
problems:
  description: Every missing proof, one sentence each. Empty when the old key may be removed.
  returned: always
  type: list
  elements: str
destination:
  description: Where the live keys document is (a path or an C(s3://) URL).
  returned: always
  type: str
durable:
  description: Whether the destination outlives the machine that ran the module.
  returned: always
  type: bool
evidence:
  description: What was read, without any key.
  returned: always
  type: dict
  contains:
    cluster_id:
      description: The cluster the keys document records.
      type: str
      sample: 3c6a3d0e-5b6f-4f7e-9c1a-2f1d0e4b5a6c
    live_cluster_id:
      description: The cluster ID Vault reports now in C(sys/seal-status).
      type: str
    nonce:
      description: Nonce of the rekey that wrote the keys document.
      type: str
    key_shares:
      description: Number of key shares the keys document records.
      type: int
      sample: 5
    key_threshold:
      description: How many of them unseal, as the keys document records it.
      type: int
      sample: 2
    key_count:
      description: Number of keys the document holds (one per share when it is complete).
      type: int
    live_shares:
      description: Key shares of the live seal (C(n) in C(sys/seal-status)).
      type: int
    live_threshold:
      description: Threshold of the live seal (C(t) in C(sys/seal-status)), to compare with RV(evidence.key_threshold).
      type: int
    verified:
      description: Whether the document records a verified rekey.
      type: bool
    pgp:
      description: Whether the keys are PGP-encrypted.
      type: bool
    pending:
      description: Whether new keys are waiting for verification (a pending document, or a verification in Vault).
      type: bool
    previous:
      description: Where the unseal keys current before the rekey are archived.
      type: str
    unseal_key_archived:
      description: Whether O(unseal_key) is among them (V(null) when no key was given).
      type: bool
"""

import os
import stat

from ansible_collections.ptfe.ops.plugins.module_utils._custody import custody_errors, fingerprint
from ansible_collections.ptfe.ops.plugins.module_utils._rekey import MAX_SHARES, NONCE_RE, check_keys
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultError
from ansible_collections.ptfe.ops.plugins.module_utils._vault_module import VaultModule


def validate(module):
    """Every input rule, checked before anything is read. Returns a list of error strings (never quoting the
    unseal key)."""
    check = module.checker()
    check.text("expected_nonce", pattern=NONCE_RE, rule="a rekey nonce as ptfe.ops.vault_rekey reports it (letters, "
               "digits, '_' and '-')")
    check.whole("expected_key_shares", minimum=0, maximum=MAX_SHARES)
    check_keys(check, "unseal_key")
    check.text("accept_destination")
    return check.problems + custody_errors(module.params)


def collect(params, client, custody):
    """Return ``(evidence, problems)``. Reads only."""
    problems = []
    seal = client.seal_status()
    live_cluster = seal.get("cluster_id") or ""
    doc = custody.read("keys") or {}
    evidence = {
        "cluster_id": doc.get("cluster_id") or "",
        "live_cluster_id": live_cluster,
        "nonce": doc.get("nonce") or "",
        "key_shares": int(doc.get("key_shares") or 0),
        "key_threshold": int(doc.get("key_threshold") or 0),
        "key_count": len(doc.get("keys_base64") or doc.get("keys") or []),
        "live_shares": seal.get("n"),
        "live_threshold": seal.get("t"),
        "verified": bool(doc.get("verified")),
        "pgp": bool(doc.get("pgp")),
        "pending": False,
        "previous": doc.get("previous") or "",
        "unseal_key_archived": None,
    }
    where = custody.describe("keys")
    pending = custody.read("pending") if custody.stores("pending") else None
    if pending is not None and pending.get("cluster_id") in (None, live_cluster):
        evidence["pending"] = True
        problems.append("new keys are waiting for verification at %s (rekey %s)"
                        % (custody.describe("pending"), pending.get("nonce")))
    else:
        try:
            api = client.detect_rekey_api()
            status = client.rekey_status(api)
            if status.get("started"):
                evidence["pending"] = True
                problems.append("a rekey is in progress in Vault (nonce %s%s)" % (
                    status.get("nonce"), ", waiting for verification" if status.get("verification_nonce") else ""))
        except VaultError:
            pass  # OpenBao's authenticated endpoints without a token: the pending document is the proof used.
    if not doc:
        return evidence, problems + ["there is no keys document at %s" % where]
    if seal.get("sealed"):
        problems.append("Vault at %s is sealed, so its cluster cannot be compared" % client.url)
    elif evidence["cluster_id"] != live_cluster:
        problems.append("the keys document at %s belongs to cluster %s, but the Vault at %s is cluster %s"
                        % (where, evidence["cluster_id"] or "(none recorded)", client.url, live_cluster or "(unknown)"))
    expected_nonce = params.get("expected_nonce") or ""
    if not expected_nonce:
        problems.append("no rekey result to compare with (expected_nonce is empty: run ptfe.ops.vault_rekey first "
                        "in the same play, or give the nonce it reported)")
    elif evidence["nonce"] != expected_nonce:
        problems.append("the keys document at %s is from rekey %s, not from rekey %s that this run reported"
                        % (where, evidence["nonce"] or "(none)", expected_nonce))
    if (evidence["key_shares"], evidence["key_threshold"]) != (seal.get("n"), seal.get("t")):
        problems.append("the live seal has %s shares and threshold %s, the keys document %s and %s"
                        % (seal.get("n"), seal.get("t"), evidence["key_shares"], evidence["key_threshold"]))
    expected_shares = params.get("expected_key_shares") or 0
    if expected_shares and evidence["key_shares"] != expected_shares:
        problems.append("the keys document records %d shares, expected %d" % (evidence["key_shares"], expected_shares))
    if evidence["key_count"] != evidence["key_shares"]:
        problems.append("the keys document holds %d keys for %d shares" % (evidence["key_count"], evidence["key_shares"]))
    if not evidence["verified"]:
        problems.append("the keys document does not record a verified rekey")
    unseal_key = (params.get("unseal_key") or "").strip()
    if unseal_key:
        previous = custody.read("previous", evidence["nonce"]) if custody.stores("previous") else None
        archived = bool(previous) and fingerprint(unseal_key) in (previous.get("fingerprints") or [])
        evidence["unseal_key_archived"] = archived
        if not archived:
            problems.append("the unseal key to be removed is not archived at %s (run ptfe.ops.vault_rekey with "
                            "archive_unseal_keys on)" % custody.describe("previous", evidence["nonce"]))
    if not custody.durable and params.get("accept_destination") != where:
        problems.append("the keys are only in %s, which does not outlive this machine (in AWX the controller is "
                        "thrown away): use custody=s3, or acknowledge this destination by setting "
                        "accept_destination to %s" % (where, where))
    if custody.kind == "file":
        mode = stat.S_IMODE(os.stat(where).st_mode)
        if mode != 0o600:
            problems.append("the keys file %s has mode %04o, not 0600" % (where, mode))
    return evidence, problems


def main():
    module = VaultModule(
        argument_spec=dict(
            expected_nonce=dict(type="str", default="", no_log=False),
            expected_key_shares=dict(type="int", default=0, no_log=False),
            unseal_key=dict(type="str", default="", no_log=True),
            accept_destination=dict(type="str", default=""),
        ),
        custody=True,
    )
    module.fail_on_invalid(validate(module), "ptfe.ops.vault_custody_info")
    with module.errors("collect the custody evidence"):
        client = module.client()
        custody = module.custody()
        evidence, problems = collect(module.params, client, custody)
    module.exit_json(changed=False, evidence=evidence, problems=problems, destination=custody.describe("keys"),
                     durable=custody.durable)


if __name__ == "__main__":
    main()
