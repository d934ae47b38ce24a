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
  - Crash safe. Before starting, the module records the rekey in a state file (mode C(0600)). The new
    keys are written to O(keys_file) C(.pending) (atomically, mode C(0600)) as soon as Vault returns them and
    before the verification that makes them live. If a run is interrupted at any point, the next run with
    the same options resumes the rekey it started, or cancels it when its new keys were never persisted
    (the old keys then stay valid), or finishes the bookkeeping when Vault already switched. When the
    situation cannot be decided safely, the module stops and says exactly what to check.
author:
  - ptfe.ops contributors (@ptfe-ops)
extends_documentation_fragment:
  - ptfe.ops.vault
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
      - Secret; never logged. Not needed when nothing has to change, nor in check mode.
    type: list
    elements: str
    default: []
  keys_file:
    description:
      - File on the host that runs the module (usually the controller) where the new keys are stored, as
        JSON, mode C(0600), written atomically. While a rekey waits for verification the keys are in
        O(keys_file) with the suffix C(.pending); they replace O(keys_file) once Vault has switched to them.
      - Its parent directory must exist.
      - Required unless O(pgp_keys) and O(backup=true) are given (then the keys exist only PGP-encrypted
        and in Vault's backup).
    type: path
  state_file:
    description:
      - File (mode C(0600)) where the module records the rekey it started (nonce, parameters, phase), so that
        the next run recognises its own interrupted rekey. Removed when the rekey is finished.
      - Defaults to O(keys_file) with the suffix C(.state). Required when O(keys_file) is not set.
    type: path
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
      - Base64-encoded PGP public keys, one per key share, in share order. Vault encrypts each new share
        with its key; the keys file then holds only encrypted shares.
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
  return_keys:
    description:
      - Return the new keys in RV(keys) and RV(keys_base64). Off by default; the keys are in O(keys_file).
      - The keys are secret. Only use this in a task with C(no_log=true).
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying the target.
    support: full
    details: Only reads (seal status, rekey progress). Reports whether a rekey would start or be resumed.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode).
    support: full
    details: Shows the seal's shares and threshold before and after. Never shows keys.
  idempotent:
    description: Running the task twice with the same options changes nothing the second time.
    support: full
    details: When the seal already has the requested shares and threshold no rekey starts, unless O(force=true).
  action_group:
    description: Use C(group/ptfe.ops.vault) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - ptfe.ops.vault
notes:
  - Shamir seals only; recovery keys of auto-unseal seals are not rekeyed.
  - The module never submits a key share twice in one run and never retries a submission. After a lost
    connection it stops; the next run reads Vault's state back and resumes.
  - Keep O(keys_file) and O(state_file) on a disk that survives the run (not a temporary directory of an
    execution environment) so that an interrupted rekey can be finished.
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
"""

RETURN = r"""
api:
  description: The endpoint family used, V(sys/rekey) (Vault) or V(sys/rotate/root) (OpenBao default).
  returned: always
  type: str
  sample: sys/rotate/root
key_shares:
  description: Number of key shares of the seal after the run (before it, in check mode).
  returned: always
  type: int
  sample: 5
key_threshold:
  description: Threshold of the seal after the run (before it, in check mode).
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
  description:
    - The new key shares, base64. B(Secret.) Only with O(return_keys=true), and only in the run that made them.
  returned: when O(return_keys=true) and new keys were made
  type: list
  elements: str
msg:
  description: What happened, in one sentence.
  returned: always
  type: str
"""

import datetime
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import (
    API_ROTATE,
    HAS_HVAC,
    HVAC_IMPORT_ERROR,
    VaultClient,
    VaultConnectionError,
    VaultError,
    vault_argument_spec,
)

STATE_VERSION = 1


class RekeyError(Exception):
    """A situation the module refuses to act on; the message says what to do."""


# ------------------------------------------------------------------------------------------- files


def atomic_write_json(path, document):
    """Write ``document`` to ``path`` atomically, mode 0600, fsynced (file and directory)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def fsync_dir(directory):
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def read_json(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as handle:
        try:
            document = json.load(handle)
        except ValueError:
            raise RekeyError("Failed to read %s: not JSON. Move it away after checking what it holds." % path)
    if not isinstance(document, dict):
        raise RekeyError("Failed to read %s: not a JSON object. Move it away after checking what it holds." % path)
    return document


def remove(path):
    if path and os.path.exists(path):
        os.unlink(path)
        fsync_dir(os.path.dirname(os.path.abspath(path)))


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------- input


def validate(params):
    """Every input rule, checked before any network call. Returns a list of error strings."""
    errors = []
    shares, threshold = params["key_shares"], params["key_threshold"]
    if shares < 1 or shares > 255:
        errors.append("key_shares must be between 1 and 255, got %d" % shares)
    if threshold < 1:
        errors.append("key_threshold must be at least 1, got %d" % threshold)
    if threshold > shares:
        errors.append("key_threshold (%d) must not be greater than key_shares (%d)" % (threshold, shares))
    if threshold == 1 and shares > 1:
        errors.append("key_threshold must be greater than 1 when key_shares is greater than 1 (got 1 of %d): "
                      "any single share would unseal Vault" % shares)
    pgp_keys = params.get("pgp_keys") or []
    if pgp_keys and len(pgp_keys) != shares:
        errors.append("pgp_keys must hold exactly key_shares (%d) keys, got %d" % (shares, len(pgp_keys)))
    if params["backup"] and not pgp_keys:
        errors.append("backup needs pgp_keys: Vault only backs up PGP-encrypted keys")
    if not params["require_verification"] and not (pgp_keys and params["backup"]):
        errors.append("require_verification=false is only accepted with pgp_keys and backup=true: without "
                      "verification Vault switches to the new keys before they are stored, so a crash would "
                      "lose them")
    if params.get("verification_keys") and not pgp_keys:
        errors.append("verification_keys is only used with pgp_keys (the module verifies plaintext keys itself)")
    if not params.get("keys_file") and not (pgp_keys and params["backup"]):
        errors.append("keys_file is required unless pgp_keys and backup=true are given")
    if not params.get("keys_file") and not params.get("state_file"):
        errors.append("state_file is required when keys_file is not set")
    keys = [k.strip() for k in params.get("unseal_keys") or []]
    if any(not k for k in keys):
        errors.append("unseal_keys must not contain empty entries")
    if len(set(keys)) != len(keys):
        errors.append("unseal_keys must not contain the same share twice")
    for option in ("keys_file", "state_file"):
        path = params.get(option)
        if not path:
            continue
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            errors.append("%s: directory %s does not exist" % (option, directory))
        elif not os.access(directory, os.W_OK):
            errors.append("%s: directory %s is not writable" % (option, directory))
        elif os.path.exists(path) and not os.path.isfile(path):
            errors.append("%s: %s exists and is not a regular file" % (option, path))
    return errors


# ------------------------------------------------------------------------------------------- rekey


class Rekey:
    """One run of the rekey state machine."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.p = module.params
        self.shares = self.p["key_shares"]
        self.threshold = self.p["key_threshold"]
        self.unseal_keys = [k.strip() for k in self.p["unseal_keys"] or []]
        self.pgp_keys = self.p.get("pgp_keys") or []
        self.keys_file = self.p.get("keys_file")
        self.state_file = self.p.get("state_file") or (self.keys_file + ".state")
        self.pending_file = (self.keys_file + ".pending") if self.keys_file else None
        self.check = module.check_mode
        self.api = None
        self.seal = None
        self.result = dict(changed=False, rekeyed=False, verified=False, verification_pending=False,
                           resumed=False, cancelled_nonce="", keys_file=self.keys_file or "")
        self.new_keys = None
        for key in self.unseal_keys + list(self.p.get("verification_keys") or []):
            client.add_secret(key)

    # -- helpers

    def fail(self, msg):
        raise RekeyError(msg)

    def desired_matches(self, seal):
        return seal.get("n") == self.shares and seal.get("t") == self.threshold

    def params_match(self, status):
        return (status.get("n") == self.shares and status.get("t") == self.threshold
                and bool(status.get("verification_required")) == bool(self.p["require_verification"])
                and bool(status.get("backup")) == bool(self.p["backup"] and self.pgp_keys))

    def save_state(self, phase, nonce):
        state = {
            "version": STATE_VERSION,
            "phase": phase,
            "nonce": nonce,
            "api": self.api,
            "url": self.client.url,
            "cluster_id": self.seal.get("cluster_id"),
            "old_shares": self.seal.get("n"),
            "old_threshold": self.seal.get("t"),
            "key_shares": self.shares,
            "key_threshold": self.threshold,
            "require_verification": self.p["require_verification"],
            "pgp": bool(self.pgp_keys),
            "backup": bool(self.p["backup"]),
            "updated_at": now(),
        }
        if self.state and self.state.get("started_at"):
            state["started_at"] = self.state["started_at"]
        else:
            state["started_at"] = state["updated_at"]
        atomic_write_json(self.state_file, state)
        self.state = state

    def clear_state(self):
        remove(self.state_file)
        self.state = None

    def keys_document(self, response, nonce, verified):
        return {
            "version": STATE_VERSION,
            "cluster_id": self.seal.get("cluster_id"),
            "url": self.client.url,
            "nonce": nonce,
            "key_shares": self.shares,
            "key_threshold": self.threshold,
            "keys": list(response.get("keys") or []),
            "keys_base64": list(response.get("keys_base64") or []),
            "pgp": bool(self.pgp_keys),
            "pgp_fingerprints": list(response.get("pgp_fingerprints") or []),
            "backup": bool(response.get("backup")),
            "verified": verified,
            "created_at": now(),
        }

    def cancel(self, nonce, why):
        self.client.rekey_cancel(self.api, nonce)
        self.result["cancelled_nonce"] = nonce
        self.result["changed"] = True
        self.module.warn(why)

    # -- main

    def run(self):
        self.seal = self.client.seal_status()
        if not self.seal.get("initialized", True):
            self.fail("Failed to rekey Vault at %s: it is not initialised" % self.client.url)
        if self.seal.get("sealed") and self.desired_matches(self.seal) and not self.p["force"] \
                and not os.path.exists(self.state_file):
            self.result.update(api="", key_shares=self.seal.get("n"), key_threshold=self.seal.get("t"),
                               msg="The seal already has %d shares and threshold %d (Vault is sealed); no rekey "
                                   "started." % (self.shares, self.threshold))
            return self.result
        if self.seal.get("sealed"):
            self.fail("Failed to rekey Vault at %s: it is sealed; unseal it first (a rekey needs an unsealed "
                      "Vault)" % self.client.url)
        if self.seal.get("type") not in (None, "shamir"):
            self.fail("Failed to rekey Vault at %s: seal type %s uses recovery keys, which this module does not "
                      "rekey" % (self.client.url, self.seal.get("type")))
        self.api = self.client.detect_rekey_api()
        if self.api == API_ROTATE and not self.client.client.token:
            self.fail("Failed to rekey Vault at %s: this server only offers the authenticated %s/* endpoints "
                      "(OpenBao default); set token (or VAULT_TOKEN) to a token allowed to use them"
                      % (self.client.url, API_ROTATE))
        self.result["api"] = self.api
        before = {"key_shares": self.seal.get("n"), "key_threshold": self.seal.get("t")}
        self.state = read_json(self.state_file)
        if self.state and self.state.get("cluster_id") and self.seal.get("cluster_id") \
                and self.state["cluster_id"] != self.seal["cluster_id"]:
            self.fail("Failed to rekey Vault at %s: state file %s belongs to another cluster (%s, this one is %s); "
                      "point state_file elsewhere or remove it after checking it"
                      % (self.client.url, self.state_file, self.state["cluster_id"], self.seal["cluster_id"]))
        status = self.client.rekey_status(self.api)

        outcome = self.reconcile(status)
        if outcome is None:
            outcome = self.maybe_start()
        seal_after = self.seal if self.check else self.client.seal_status()
        after = {"key_shares": seal_after.get("n"), "key_threshold": seal_after.get("t")}
        if self.check and self.result["changed"]:
            after = {"key_shares": self.shares, "key_threshold": self.threshold}
        self.result.update(msg=outcome, key_shares=after["key_shares"], key_threshold=after["key_threshold"],
                           diff={"before": before, "after": after})
        if self.p["return_keys"] and self.new_keys:
            self.result["keys"] = list(self.new_keys.get("keys") or [])
            self.result["keys_base64"] = list(self.new_keys.get("keys_base64") or [])
        return self.result

    # -- what an earlier run (or someone else) left

    def reconcile(self, status):
        """Handle a rekey in progress and leftovers of an earlier run. Returns a final message, or None to
        go on with the normal decision."""
        started = bool(status.get("started"))
        state = self.state
        if started:
            if state and self.is_own(state, status):
                return self.resume(state, status)
            return self.foreign(status)
        if not state:
            return None
        # No rekey in progress but a state file: an earlier run stopped somewhere.
        self.result["resumed"] = True
        phase = state.get("phase")
        desired_now = self.seal.get("n") == state.get("key_shares") and self.seal.get("t") == state.get("key_threshold")
        was_already = state.get("old_shares") == state.get("key_shares") \
            and state.get("old_threshold") == state.get("key_threshold")
        if phase == "verify" or (phase == "update" and not state.get("require_verification")):
            if desired_now and not was_already:
                return self.finish_switched(state)
            if desired_now and was_already:
                self.fail(
                    "Failed to finish the rekey recorded in %s: no rekey is in progress and the seal has the same "
                    "shares/threshold (%s/%s) as before it, so it cannot be told whether Vault switched to the "
                    "new keys in %s. Test one of them: seal Vault and unseal it with the keys in %s; if that "
                    "fails, unseal with the old keys. Then keep the working set, remove the other file and %s"
                    % (self.state_file, state.get("key_shares"), state.get("key_threshold"),
                       self.pending_file or "the PGP-encrypted output", self.pending_file or "it",
                       self.state_file))
        # The rekey was cancelled (by someone, or by a Vault restart) before Vault switched: the old keys are
        # still the live ones. Drop the leftovers and decide afresh.
        if not self.check:
            if self.pending_file and os.path.exists(self.pending_file):
                doc = read_json(self.pending_file)
                if doc and doc.get("nonce") == state.get("nonce"):
                    remove(self.pending_file)
            self.clear_state()
            self.result["changed"] = True
        self.module.warn("The rekey recorded in %s (nonce %s) is no longer in progress and Vault did not switch "
                         "to its keys; the current keys stay valid." % (self.state_file, state.get("nonce")))
        self.state = None
        return None

    def is_own(self, state, status):
        if state.get("api") not in (None, self.api):
            return False
        if state.get("nonce"):
            return state["nonce"] == status.get("nonce")
        # Killed between recording the start and recording the nonce: ours if it has our parameters.
        return (state.get("phase") == "init" and status.get("n") == state.get("key_shares")
                and status.get("t") == state.get("key_threshold")
                and bool(status.get("verification_required")) == bool(state.get("require_verification")))

    def foreign(self, status):
        desc = ("nonce %s, %s shares, threshold %s, progress %s/%s%s"
                % (status.get("nonce"), status.get("n"), status.get("t"), status.get("progress"),
                   status.get("required"),
                   ", waiting for verification" if status.get("verification_nonce") else ""))
        if not self.p["cancel_foreign"]:
            self.fail("Failed to rekey Vault at %s: a rekey that this module did not start is in progress (%s). "
                      "It is never joined: whoever submits the last share receives the new keys. Finish or "
                      "cancel it yourself, or run again with cancel_foreign=true to cancel it (its partial "
                      "progress is discarded; the current keys stay valid)." % (self.client.url, desc))
        self.result["changed"] = True
        self.result["cancelled_nonce"] = status.get("nonce") or ""
        if self.check:
            self.module.warn("A foreign rekey (%s) would be cancelled." % desc)
            return None
        self.client.rekey_cancel(self.api, status.get("nonce"))
        if self.state:
            self.clear_state()
        self.module.warn("Cancelled a foreign rekey (%s)." % desc)
        return None

    def resume(self, state, status):
        self.result["resumed"] = True
        self.result["changed"] = True
        nonce = status.get("nonce")
        if status.get("verification_nonce"):
            pending = read_json(self.pending_file) if self.pending_file else None
            have_keys = pending and pending.get("nonce") == nonce and pending.get("keys_base64")
            if not have_keys and state.get("pgp") and state.get("backup") and not self.pending_file:
                # PGP mode without a keys file: the encrypted keys are in Vault's backup, not lost.
                have_keys = True
                pending = {"pgp": True, "nonce": nonce}
            if not have_keys:
                # Vault made new keys but they were never stored: they are not live yet (verification
                # pending). Cancelling keeps the current keys; then start afresh.
                if self.check:
                    return "The interrupted rekey (nonce %s) whose keys were never stored would be cancelled " \
                           "and a new one started." % nonce
                self.cancel(nonce, "The interrupted rekey (nonce %s) had produced keys that were never stored; "
                                   "it was cancelled (the current keys stay valid) and a new one is started." % nonce)
                self.clear_state()
                return None
            if self.check:
                return "The interrupted rekey (nonce %s) would be verified with the stored new keys." % nonce
            if state.get("phase") != "verify":
                self.save_state("verify", nonce)
            return self.verify(pending, restart=True)
        # Still collecting current shares.
        if not self.params_match(status):
            if self.check:
                return "The interrupted rekey (nonce %s) has other parameters; it would be cancelled and a new " \
                       "one started." % nonce
            self.cancel(nonce, "The interrupted rekey (nonce %s) had other parameters; it was cancelled." % nonce)
            self.clear_state()
            return None
        if self.check:
            return "The interrupted rekey (nonce %s, progress %s/%s) would be resumed." % (
                nonce, status.get("progress"), status.get("required"))
        self.save_state("update", nonce)
        return self.submit_updates(nonce, resumed_progress=int(status.get("progress") or 0))

    def finish_switched(self, state):
        """Vault switched to the keys of an earlier run; make sure they sit in keys_file."""
        nonce = state.get("nonce")
        if self.check:
            self.result["changed"] = True
            return "The rekey recorded in %s completed; its keys would be moved to %s." % (
                self.state_file, self.keys_file)
        final = read_json(self.keys_file) if self.keys_file else None
        if final and final.get("nonce") == nonce:
            remove(self.pending_file)
        elif self.pending_file and os.path.exists(self.pending_file):
            doc = read_json(self.pending_file)
            if doc.get("nonce") != nonce:
                self.fail("Failed to finish the rekey recorded in %s: %s belongs to another rekey (nonce %s); "
                          "check both files by hand" % (self.state_file, self.pending_file, doc.get("nonce")))
            doc["verified"] = bool(state.get("require_verification"))
            atomic_write_json(self.keys_file, doc)
            remove(self.pending_file)
        elif self.keys_file:
            self.fail("Failed to finish the rekey recorded in %s: Vault switched to its keys but neither %s nor %s "
                      "holds them. If pgp_keys and backup were used, read them with GET %s/backup; otherwise "
                      "they are lost - do NOT seal Vault, and start a new rekey with force=true while it is "
                      "unsealed" % (self.state_file, self.keys_file, self.pending_file, self.api))
        self.clear_state()
        self.result.update(changed=True, rekeyed=True, verified=bool(state.get("require_verification")))
        where = self.keys_file or "the PGP-encrypted backup"
        return "The rekey started by an earlier run had completed; its keys are in %s." % where

    # -- a new rekey

    def maybe_start(self):
        if self.desired_matches(self.seal) and not self.p["force"]:
            if self.result["changed"]:
                return "Cleaned up; the seal already has %d shares and threshold %d." % (self.shares, self.threshold)
            return "The seal already has %d shares and threshold %d; no rekey started." % (
                self.shares, self.threshold)
        self.result["changed"] = True
        if self.check:
            return "A rekey from %s/%s to %d/%d would start." % (
                self.seal.get("n"), self.seal.get("t"), self.shares, self.threshold)
        needed = int(self.seal.get("t") or 1)
        if len(self.unseal_keys) < needed:
            self.fail("Failed to rekey Vault at %s: the current threshold is %d, but %d unseal key(s) were given in "
                      "unseal_keys" % (self.client.url, needed, len(self.unseal_keys)))
        self.state = None
        self.save_state("init", None)
        try:
            status = self.client.rekey_init(self.api, self.shares, self.threshold, pgp_keys=self.pgp_keys,
                                            backup=self.p["backup"],
                                            require_verification=self.p["require_verification"])
        except VaultConnectionError as exc:
            raise RekeyError("%s. Vault may or may not have started the rekey; run the module again: it "
                             "recognises its own rekey from %s" % (exc, self.state_file))
        except VaultError:
            self.clear_state()
            raise
        nonce = status.get("nonce")
        if not nonce:
            status = self.client.rekey_status(self.api)
            nonce = status.get("nonce")
        self.save_state("update", nonce)
        return self.submit_updates(nonce, resumed_progress=0)

    def submit_updates(self, nonce, resumed_progress):
        response = None
        submitted = 0
        for key in self.unseal_keys:
            try:
                response = self.client.rekey_update(self.api, key, nonce)
            except VaultConnectionError as exc:
                raise RekeyError("%s. The share may or may not have been taken. Nothing is lost: run the module "
                                 "again; it resumes the rekey recorded in %s (the current keys stay valid until "
                                 "verification)" % (exc, self.state_file))
            except VaultError as exc:
                if resumed_progress and exc.status == 400 and exc.matches("already been provided",
                                                                          "already provided", "duplicate"):
                    continue
                raise
            submitted += 1
            if response.get("complete"):
                break
        if not response or not response.get("complete"):
            status = self.client.rekey_status(self.api)
            self.fail("Failed to complete rekey of Vault at %s: %d share(s) submitted, progress %s of %s; give at "
                      "least %s current unseal keys in unseal_keys and run again (the rekey, nonce %s, stays "
                      "in progress)" % (self.client.url, submitted, status.get("progress"), status.get("required"),
                                        status.get("required"), nonce))
        return self.completed(response, nonce)

    def completed(self, response, nonce):
        """Vault returned the new keys. Persist them before anything else."""
        self.new_keys = response
        if response.get("pgp_fingerprints"):
            self.result["pgp_fingerprints"] = list(response["pgp_fingerprints"])
        if not response.get("verification_required"):
            # Only with pgp_keys + backup (validated): Vault switched already.
            if self.keys_file:
                atomic_write_json(self.keys_file, self.keys_document(response, nonce, verified=False))
            self.clear_state()
            self.result.update(rekeyed=True)
            return "Vault switched to %d new PGP-encrypted shares (threshold %d) without verification." % (
                self.shares, self.threshold)
        document = self.keys_document(response, nonce, verified=False)
        document["verification_nonce"] = response.get("verification_nonce")
        if self.pending_file:
            atomic_write_json(self.pending_file, document)
        self.save_state("verify", nonce)
        return self.verify(document, restart=False)

    def verify(self, document, restart):
        if self.pgp_keys or document.get("pgp"):
            keys = [k.strip() for k in self.p.get("verification_keys") or []]
            if not keys:
                self.result["verification_pending"] = True
                return ("The new PGP-encrypted keys are stored in %s; Vault keeps the current keys until the "
                        "rekey is verified: decrypt %d shares and run again with verification_keys"
                        % (self.pending_file or "the module output", self.threshold))
        else:
            keys = list(document.get("keys_base64") or [])
        if restart:
            self.client.rekey_verify_restart(self.api)
        vstatus = self.client.rekey_verify_status(self.api) or {}
        vnonce = vstatus.get("nonce") or document.get("verification_nonce")
        response = None
        for key in keys[:self.threshold]:
            try:
                response = self.client.rekey_verify(self.api, key, vnonce)
            except VaultConnectionError as exc:
                raise RekeyError("%s. The new keys are stored in %s. Run the module again: it finishes the "
                                 "verification, or records the switch if Vault already made it"
                                 % (exc, self.pending_file))
            if response.get("complete"):
                break
        if not response or not response.get("complete"):
            self.fail("Failed to verify the new keys of Vault at %s: Vault did not accept %d shares as complete; the "
                      "new keys are in %s and the current keys stay valid; run again" % (
                          self.client.url, self.threshold, self.pending_file))
        if self.keys_file:
            document = dict(document)
            document["verified"] = True
            document.pop("verification_nonce", None)
            atomic_write_json(self.keys_file, document)
            remove(self.pending_file)
        self.clear_state()
        self.result.update(rekeyed=True, verified=True, changed=True)
        return "Vault switched to %d new shares with threshold %d after verifying them; the keys are in %s." % (
            self.shares, self.threshold, self.keys_file or "the PGP-encrypted output")


def main():
    argument_spec = vault_argument_spec()
    argument_spec.update(
        key_shares=dict(type="int", required=True, no_log=False),
        key_threshold=dict(type="int", required=True, no_log=False),
        unseal_keys=dict(type="list", elements="str", no_log=True, default=[]),
        keys_file=dict(type="path"),
        state_file=dict(type="path"),
        require_verification=dict(type="bool", default=True),
        pgp_keys=dict(type="list", elements="str", no_log=False),
        backup=dict(type="bool", default=False),
        verification_keys=dict(type="list", elements="str", no_log=True),
        force=dict(type="bool", default=False),
        cancel_foreign=dict(type="bool", default=False),
        return_keys=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_HVAC:
        module.fail_json(msg=missing_required_lib("hvac"), exception=str(HVAC_IMPORT_ERROR))
    errors = validate(module.params)
    if errors:
        module.fail_json(msg="Invalid parameters for vault_rekey: " + "; ".join(errors))
    try:
        client = VaultClient.from_params(module.params)
        rekey = Rekey(module, client)
        result = rekey.run()
    except (VaultError, RekeyError) as exc:
        module.fail_json(msg=str(exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg="Failed to write rekey files: %s" % exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
