# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rekey engine behind ptfe.ops.vault_rekey: input rules and the rekey state machine.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore): it is for
the collection's own modules and may change without notice.

The engine knows nothing of Ansible. It is given the module options (a dict), a Vault client (see
``_vault_client.VaultClient``), a custody (see ``_custody``), whether it runs in check mode and a function
that takes warnings. :meth:`Rekey.run` returns the result dict or raises :class:`RekeyError`.

Phases, as recorded in the state document:

``init``    the start of a rekey was requested (no nonce known yet)
``update``  current key shares are being submitted (nonce known)
``verify``  Vault returned the new keys; they are stored as ``pending``; verification is under way

Everything a run finds (a rekey in progress, its own or not, a state document, a switch that already
happened) is decided in :meth:`Rekey.reconcile` before a new rekey is considered.
"""

from __future__ import annotations

import base64
import binascii
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.ptfe.ops.plugins.module_utils._custody import (
    DOCUMENT_VERSION,
    CustodyError,
    FileCustody,
    custody_errors,
    fingerprint,
    now,
)
from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, has_space_or_control, is_set
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import (
    API_ROTATE,
    VaultConnectionError,
    VaultError,
)


class RekeyError(OpsError):
    """A situation the module refuses to act on; the message says what to do."""


#: A rekey's nonce as Vault reports it (a UUID), or any other identifier without blanks.
NONCE_RE = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
#: Options whose values never appear in a message.
SECRET_OPTIONS = ("token", "unseal_keys", "verification_keys", "unseal_key")
#: Vault's unseal key is an AES key of 16, 24 or 32 bytes (Vault makes 32); with a threshold above 1 it is split
#: into Shamir shares, each one byte longer than the key.
KEY_LENGTHS = (16, 24, 32)
SHARE_LENGTHS = (17, 25, 33)
MAX_SHARES = 255
_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})+")
_BASE64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
                        r"|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=")
_KEYBASE_RE = re.compile(r"keybase:[A-Za-z0-9_]+")


def key_bytes(key):
    """The bytes Vault takes from a key share given as text: hex when it is hex (Vault tries hex first), else
    standard base64; None when it is neither."""
    if not isinstance(key, str):
        return None
    if _HEX_RE.fullmatch(key):
        return binascii.unhexlify(key)
    if _BASE64_RE.fullmatch(key):
        return base64.b64decode(key)
    return None


def _lengths(lengths):
    return "%s or %s" % (", ".join(str(length) for length in lengths[:-1]), lengths[-1])


def key_problem(key, lengths=KEY_LENGTHS + SHARE_LENGTHS):
    """What is wrong with one unseal key (or key share) given as text, in words that never quote it; None when
    it is one: hex or base64, as Vault prints it, of one of ``lengths`` bytes."""
    if not isinstance(key, str):
        return "must be a string"
    if not key.strip():
        return "must not be empty"
    if has_space_or_control(key):
        return "must not contain white space or a control character (give the key alone, without a newline)"
    raw = key_bytes(key)
    if raw is None:
        return "must be an unseal key in hex or base64, as Vault prints it"
    if len(raw) not in lengths:
        return "is %d bytes long, but a Vault unseal key or key share is %s bytes long" % (
            len(raw), _lengths(sorted(lengths)))
    return None


def key_file_problem(path_name, path, key):
    """What is wrong with the unseal key read from the file ``path`` (the variable ``path_name`` names it), in
    words that never quote it; None when it holds one key (blanks and newlines around it are not part of it)."""
    problem = key_problem(key.strip() if isinstance(key, str) else key)
    if problem is None:
        return None
    return "%s (%s) must hold one unseal key in hex or base64, as Vault prints it: the key in it %s" % (
        path_name, path, problem)


def check_keys(check, name):
    """Each key of the option ``name`` (a list, or one key) is an unseal key or key share; the list holds none
    twice (hex and base64 of one key are the same key). Never quotes a key."""
    value = check.params.get(name)
    if value is None or value == "" or value == []:
        return
    if not isinstance(value, (list, tuple, str)):
        check.add("%s must be a list of keys, got %s" % (name, type(value).__name__))
        return
    keys = [value] if isinstance(value, str) else list(value)
    seen = set()
    for index, key in enumerate(keys, 1):
        problem = key_problem(key)
        if problem:
            check.add("%s %s" % (name if isinstance(value, str) else "%s entry %d" % (name, index), problem))
            continue
        raw = key_bytes(key)
        if raw in seen:
            check.add("%s must not contain the same share twice (entry %d)" % (name, index))
        seen.add(raw)


def check_pgp_keys(check, name, shares, shares_name="key_shares"):
    """The PGP keys: each a base64-encoded public key (or ``keybase:<user>``), one per share. Returns them."""
    value = check.params.get(name)
    if value is None or value == "" or value == []:
        return []
    if not isinstance(value, (list, tuple)):
        check.add("%s must be a list of base64-encoded PGP public keys, got %s" % (name, type(value).__name__))
        return []
    for index, key in enumerate(value, 1):
        if not isinstance(key, str) or not (_KEYBASE_RE.fullmatch(key) or _BASE64_RE.fullmatch(key)):
            check.add("%s entry %d must be a base64-encoded PGP public key (or keybase:<user>), in one line without "
                      "white space" % (name, index))
    if shares is not None and len(value) != shares:
        check.add("%s must hold exactly %s (%d) keys, got %d" % (name, shares_name, shares, len(value)))
    return list(value)


def flag(value, default=False):
    """A boolean option's value (``"yes"``, ``"true"``, ``1``... as a role's variables may hold it)."""
    if value is None or value == "":
        return default
    try:
        return boolean(value, strict=True)
    except TypeError:
        return default


def check_rekey_input(check, prefix=""):
    """Check the rekey's own options with ``check`` (a ``_validation.Checker``), each read as ``prefix + option``
    (the vault_rekey role's variables carry the module's option names behind ``vault_rekey_``): shares and
    threshold, the current and the verification keys (their format, never their value), the PGP keys, and the
    options that only work together (backup, require_verification, verification_keys). Where the keys go is
    :func:`~_custody.check_custody` and :func:`~_custody.custody_errors`."""
    def n(option):
        return prefix + option

    shares = check.whole(n("key_shares"), minimum=1, maximum=MAX_SHARES)
    threshold = check.whole(n("key_threshold"), minimum=1, maximum=MAX_SHARES)
    if shares is not None and threshold is not None:
        if threshold > shares:
            check.add("%s (%d) must not be greater than %s (%d)" % (n("key_threshold"), threshold, n("key_shares"),
                                                                    shares))
        elif threshold == 1 and shares > 1:
            check.add("%s must be greater than 1 when %s is greater than 1 (got 1 of %d): any single share would "
                      "unseal Vault" % (n("key_threshold"), n("key_shares"), shares))
    check_keys(check, n("unseal_keys"))
    check_keys(check, n("verification_keys"))
    pgp_keys = check_pgp_keys(check, n("pgp_keys"), shares, n("key_shares"))
    backup = flag(check.params.get(n("backup")))
    if backup and not pgp_keys:
        check.add("%s needs %s: Vault only backs up PGP-encrypted keys" % (n("backup"), n("pgp_keys")))
    if not flag(check.params.get(n("require_verification")), default=True) and not (pgp_keys and backup):
        check.add("%s=false is only accepted with %s and %s=true: without verification Vault switches to the new "
                  "keys before they are stored, so a crash would lose them" % (n("require_verification"),
                                                                               n("pgp_keys"), n("backup")))
    if is_set(check.params.get(n("verification_keys"))) and not pgp_keys:
        check.add("%s is only used with %s (the module verifies plaintext keys itself)"
                  % (n("verification_keys"), n("pgp_keys")))


def validate(params):
    """Every input rule of the module's own options, checked before any network call. Returns a list of error
    strings. (The connection and custody options' values are checked when the module starts, by
    ``_vault_module.VaultModule``.)"""
    check = Checker(params, secret=SECRET_OPTIONS)
    check_rekey_input(check)
    errors = check.problems
    pgp_backup = bool(params.get("pgp_keys") and params.get("backup"))
    custody = params.get("custody") or "file"
    if custody == "file":
        if not params.get("keys_file") and not pgp_backup:
            errors.append("keys_file is required unless pgp_keys and backup=true are given")
        if not params.get("keys_file") and not params.get("state_file"):
            errors.append("state_file is required when keys_file is not set")
        errors.extend(custody_errors(params, keys_file_optional=True))
        errors.extend(FileCustody(params.get("keys_file"), params.get("state_file")).check())
    else:
        errors.extend(custody_errors(params))
    return errors


class Rekey:
    """One run of the rekey state machine."""

    def __init__(self, params, client, custody, check_mode=False, warn=None):
        self.p = params
        self.client = client
        self.custody = custody
        self.check = check_mode
        self.warnings = []
        self._warn = warn
        self.shares = params["key_shares"]
        self.threshold = params["key_threshold"]
        self.unseal_keys = [k.strip() for k in params.get("unseal_keys") or []]
        self.pgp_keys = params.get("pgp_keys") or []
        self.api = None
        self.seal = None
        self.state = None
        self.result = dict(changed=False, rekeyed=False, verified=False, verification_pending=False,
                           resumed=False, cancelled_nonce="", keys_file=params.get("keys_file") or "",
                           custody=custody.kind, custody_durable=custody.durable,
                           keys_destination=custody.describe("keys") if custody.stores("keys") else "",
                           archived=[], nonce="", cluster_id="")
        self.new_keys = None
        #: The nonce whose archive of the current unseal keys this run wrote first (see archive_previous).
        self.archived_now = None
        for key in self.unseal_keys + list(params.get("verification_keys") or []):
            client.add_secret(key)

    # -- helpers

    def warn(self, msg):
        self.warnings.append(msg)
        if self._warn:
            self._warn(msg)

    def fail(self, msg):
        raise RekeyError(msg)

    @property
    def cluster_id(self):
        return (self.seal or {}).get("cluster_id")

    def where(self, kind="keys", nonce=None):
        return self.custody.describe(kind, nonce) if self.custody.stores(kind) else "the PGP-encrypted output"

    def desired_matches(self, seal):
        return seal.get("n") == self.shares and seal.get("t") == self.threshold

    def params_match(self, status):
        return (status.get("n") == self.shares and status.get("t") == self.threshold
                and bool(status.get("verification_required")) == bool(self.p.get("require_verification", True))
                and bool(status.get("backup")) == bool(self.p.get("backup") and self.pgp_keys))

    def save_state(self, phase, nonce):
        state = {
            "version": DOCUMENT_VERSION,
            "phase": phase,
            "nonce": nonce,
            "api": self.api,
            "url": self.client.url,
            "cluster_id": self.cluster_id,
            "old_shares": self.seal.get("n"),
            "old_threshold": self.seal.get("t"),
            "key_shares": self.shares,
            "key_threshold": self.threshold,
            "require_verification": self.p.get("require_verification", True),
            "pgp": bool(self.pgp_keys),
            "backup": bool(self.p.get("backup")),
            "updated_at": now(),
        }
        if self.state and self.state.get("started_at"):
            state["started_at"] = self.state["started_at"]
        else:
            state["started_at"] = state["updated_at"]
        self.custody.write("state", state)
        self.state = state

    def clear_state(self):
        self.custody.delete("state")
        self.state = None

    def keys_document(self, response, nonce, verified):
        return {
            "version": DOCUMENT_VERSION,
            "cluster_id": self.cluster_id,
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
            "previous": self.custody.describe("previous", nonce) if self.archives_previous() else "",
            "created_at": now(),
        }

    def archives_previous(self):
        return bool(self.p.get("archive_unseal_keys", True) and self.unseal_keys
                    and self.custody.stores("previous"))

    def store_keys(self, document):
        """Make ``document`` the live keys document, archiving the one it replaces."""
        archived = self.custody.replace_keys(document)
        if archived:
            self.result["archived"].append(archived)

    def cancel(self, nonce, why):
        self.client.rekey_cancel(self.api, nonce)
        self.result["cancelled_nonce"] = nonce
        self.result["changed"] = True
        self.warn(why)

    # -- main

    def run(self):
        self.seal = self.client.seal_status()
        if not self.seal.get("initialized", True):
            self.fail("Failed to rekey Vault at %s: it is not initialised" % self.client.url)
        if self.seal.get("sealed") and self.desired_matches(self.seal) and not self.p.get("force") \
                and not self.custody.exists("state"):
            shape = {"key_shares": self.seal.get("n"), "key_threshold": self.seal.get("t")}
            self.result.update(api="", diff={"before": shape, "after": shape},
                               msg="The seal already has %d shares and threshold %d (Vault is sealed); no rekey "
                                   "started." % (self.shares, self.threshold), **shape)
            return self.result
        if self.seal.get("sealed"):
            self.fail("Failed to rekey Vault at %s: it is sealed; unseal it first (a rekey needs an unsealed "
                      "Vault)" % self.client.url)
        if self.seal.get("type") not in (None, "shamir"):
            self.fail("Failed to rekey Vault at %s: seal type %s uses recovery keys, which this module does not "
                      "rekey" % (self.client.url, self.seal.get("type")))
        self.result["cluster_id"] = self.cluster_id or ""
        problems = self.custody.check()
        if problems and self.check:
            # Check mode before the destination exists (a bucket an earlier step of the same play creates):
            # nothing can be read from it; say what a real run needs and predict from the seal alone.
            self.warn("The keys destination is not usable yet (%s); a real run stops here unless it is by then."
                      % "; ".join(problems))
            shape = {"key_shares": self.seal.get("n"), "key_threshold": self.seal.get("t")}
            wanted = {"key_shares": self.shares, "key_threshold": self.threshold}
            would = self.p.get("force") or not self.desired_matches(self.seal)
            self.result.update(api="", changed=bool(would), diff={"before": shape, "after": wanted if would else shape},
                               msg=("A rekey from %s/%s to %d/%d would start." % (
                                   shape["key_shares"], shape["key_threshold"], self.shares, self.threshold))
                               if would else "The seal already has %d shares and threshold %d; no rekey started."
                               % (self.shares, self.threshold), **(wanted if would else shape))
            return self.result
        if problems:
            self.fail("Failed to rekey Vault at %s: the keys destination is not usable: %s"
                      % (self.client.url, "; ".join(problems)))
        if not self.check:
            self.custody.lock()
        self.check_cluster()
        self.api = self.client.detect_rekey_api()
        if self.api == API_ROTATE and not self.client.client.token:
            self.fail("Failed to rekey Vault at %s: this server only offers the authenticated %s/* endpoints "
                      "(OpenBao default); set token (or VAULT_TOKEN) to a token allowed to use them"
                      % (self.client.url, API_ROTATE))
        self.result["api"] = self.api
        before = {"key_shares": self.seal.get("n"), "key_threshold": self.seal.get("t")}
        self.state = self.custody.read("state")
        status = self.client.rekey_status(self.api)

        outcome = self.reconcile(status)
        if outcome is None:
            outcome = self.maybe_start()
        seal_after = self.seal if self.check else self.client.seal_status()
        after = {"key_shares": seal_after.get("n"), "key_threshold": seal_after.get("t")}
        if self.check and self.result["changed"]:
            after = {"key_shares": self.shares, "key_threshold": self.threshold}
        live = self.custody.read("keys") if self.custody.stores("keys") else None
        if live and live.get("cluster_id") == self.cluster_id:
            self.result["nonce"] = live.get("nonce") or ""
        elif self.new_keys is not None and self.result["rekeyed"]:
            self.result["nonce"] = self.new_keys.get("nonce") or ""
        self.result.update(msg=outcome, key_shares=after["key_shares"], key_threshold=after["key_threshold"],
                           diff={"before": before, "after": after})
        if self.p.get("return_keys") and self.new_keys:
            self.result["keys"] = list(self.new_keys.get("keys") or [])
            self.result["keys_base64"] = list(self.new_keys.get("keys_base64") or [])
        return self.result

    def check_cluster(self):
        """Refuse, before anything changes, documents that belong to another Vault cluster."""
        if not self.cluster_id:
            return
        for kind in ("keys", "pending", "state"):
            if not self.custody.stores(kind):
                continue
            document = self.custody.read(kind)
            if document is None or document.get("cluster_id") == self.cluster_id:
                continue
            other = document.get("cluster_id")
            self.fail(
                "Refusing to rekey Vault at %s (cluster %s): %s holds %s of %s%s. Each Vault needs its own keys "
                "destination: give this host its own keys_file (or s3_object); the role's default has the "
                "inventory host name in it. Nothing was changed."
                % (self.client.url, self.cluster_id, self.custody.describe(kind),
                   {"keys": "the keys", "pending": "pending keys", "state": "the rekey record"}[kind],
                   ("cluster " + other) if other else "an unknown cluster (no cluster_id recorded)",
                   (" (%s)" % document.get("url")) if document.get("url") else ""))

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
        # No rekey in progress but a state document: an earlier run stopped somewhere.
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
                    "fails, unseal with the old keys. Then keep the working set, remove the other one and %s"
                    % (self.custody.describe("state"), state.get("key_shares"), state.get("key_threshold"),
                       self.where("pending"), self.where("pending"), self.custody.describe("state")))
        # The rekey was cancelled (by someone, or by a Vault restart) before Vault switched: the old keys are
        # still the live ones. Drop the leftovers and decide afresh. The clean-up is a change in check mode too.
        self.result["changed"] = True
        if not self.check:
            if self.custody.stores("pending"):
                doc = self.custody.read("pending")
                if doc and doc.get("nonce") == state.get("nonce"):
                    self.custody.delete("pending")
            self.clear_state()
        self.warn("The rekey recorded in %s (nonce %s) is no longer in progress and Vault did not switch to its "
                  "keys; the current keys stay valid%s." % (self.custody.describe("state"), state.get("nonce"),
                                                            "; its record would be removed" if self.check else ""))
        self.state = None
        return None

    def is_own(self, state, status):
        if state.get("api") not in (None, self.api):
            return False
        if state.get("nonce"):
            return state["nonce"] == status.get("nonce")
        # Killed between recording the start and recording the nonce: ours if it has our parameters and nobody
        # has submitted anything to it yet (this run's predecessor never got as far as a share).
        return (state.get("phase") == "init" and status.get("n") == state.get("key_shares")
                and status.get("t") == state.get("key_threshold")
                and bool(status.get("verification_required")) == bool(state.get("require_verification"))
                and not int(status.get("progress") or 0) and not status.get("verification_nonce")
                and bool(status.get("pgp_fingerprints")) == bool(state.get("pgp"))
                and bool(status.get("backup")) == bool(state.get("pgp") and state.get("backup")))

    def foreign(self, status):
        desc = ("nonce %s, %s shares, threshold %s, progress %s/%s%s"
                % (status.get("nonce"), status.get("n"), status.get("t"), status.get("progress"),
                   status.get("required"),
                   ", waiting for verification" if status.get("verification_nonce") else ""))
        if not self.p.get("cancel_foreign"):
            self.fail("Failed to rekey Vault at %s: a rekey that this module did not start is in progress (%s). "
                      "It is never joined: whoever submits the last share receives the new keys. Finish or "
                      "cancel it yourself, or run again with cancel_foreign=true to cancel it (its partial "
                      "progress is discarded; the current keys stay valid)." % (self.client.url, desc))
        self.result["changed"] = True
        self.result["cancelled_nonce"] = status.get("nonce") or ""
        if self.check:
            self.warn("A foreign rekey (%s) would be cancelled." % desc)
            return self.reconcile({"started": False})
        self.client.rekey_cancel(self.api, status.get("nonce"))
        self.warn("Cancelled a foreign rekey (%s)." % desc)
        # Our own record (an earlier run of ours that Vault may already have switched to) is not the foreign
        # rekey's: decide about it now that nothing is in progress, instead of dropping it.
        return self.reconcile(self.client.rekey_status(self.api))

    def resume(self, state, status):
        self.result["resumed"] = True
        self.result["changed"] = True
        nonce = status.get("nonce")
        if status.get("verification_nonce"):
            pending = self.custody.read("pending") if self.custody.stores("pending") else None
            have_keys = pending and pending.get("nonce") == nonce and pending.get("keys_base64")
            if not have_keys and state.get("pgp") and state.get("backup") and not self.custody.stores("pending"):
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
        """Vault switched to the keys of an earlier run; make sure they are the live keys document."""
        nonce = state.get("nonce")
        self.result.update(changed=True, rekeyed=True, verified=bool(state.get("require_verification")))
        if self.check:
            return "The rekey recorded in %s completed; its keys would be moved to %s." % (
                self.custody.describe("state"), self.where("keys"))
        final = self.custody.read("keys") if self.custody.stores("keys") else None
        pending = self.custody.read("pending") if self.custody.stores("pending") else None
        if final and final.get("nonce") == nonce:
            self.custody.delete("pending")
        elif pending is not None:
            if pending.get("nonce") != nonce:
                self.fail("Failed to finish the rekey recorded in %s: %s belongs to another rekey (nonce %s); "
                          "check both by hand" % (self.custody.describe("state"), self.custody.describe("pending"),
                                                  pending.get("nonce")))
            pending["verified"] = bool(state.get("require_verification"))
            pending.pop("verification_nonce", None)
            self.store_keys(pending)
            self.custody.delete("pending")
        elif self.custody.stores("keys"):
            self.fail("Failed to finish the rekey recorded in %s: Vault switched to its keys but neither %s nor %s "
                      "holds them. If pgp_keys and backup were used, read them with GET %s/backup; otherwise "
                      "they are lost - do NOT seal Vault, and start a new rekey with force=true while it is "
                      "unsealed" % (self.custody.describe("state"), self.custody.describe("keys"),
                                    self.custody.describe("pending"), self.api))
        self.clear_state()
        return "The rekey started by an earlier run had completed; its keys are in %s." % self.where("keys")

    # -- a new rekey

    def maybe_start(self):
        if self.desired_matches(self.seal) and not self.p.get("force"):
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
        self.check_key_lengths(needed)
        self.state = None
        self.save_state("init", None)
        try:
            status = self.client.rekey_init(self.api, self.shares, self.threshold, pgp_keys=self.pgp_keys,
                                            backup=self.p.get("backup"),
                                            require_verification=self.p.get("require_verification", True))
        except VaultConnectionError as exc:
            raise RekeyError("%s. Vault may or may not have started the rekey; run the module again: it "
                             "recognises its own rekey from %s" % (exc, self.custody.describe("state")))
        except VaultError:
            self.clear_state()
            raise
        nonce = status.get("nonce")
        if not nonce:
            status = self.client.rekey_status(self.api)
            nonce = status.get("nonce")
        self.save_state("update", nonce)
        return self.submit_updates(nonce, resumed_progress=0)

    def check_key_lengths(self, threshold):
        """Refuse, before a rekey starts, a key that cannot be one of this seal's: with threshold 1 the unseal key
        is the whole key, with a higher threshold each share is one byte longer than the key."""
        lengths = KEY_LENGTHS if threshold == 1 else SHARE_LENGTHS
        for index, key in enumerate(self.unseal_keys, 1):
            raw = key_bytes(key)
            if raw is not None and len(raw) not in lengths:
                self.fail("Failed to rekey Vault at %s: unseal_keys entry %d is %d bytes long, but with threshold %d "
                          "%s %s bytes long, so it is not a current unseal key of this Vault. No rekey was started "
                          "and nothing was changed." % (
                              self.client.url, index, len(raw), threshold,
                              "its unseal key is the whole key," if threshold == 1 else "each of its key shares is",
                              _lengths(lengths)))

    def archive_previous(self, nonce):
        """Keep the unseal keys that are current now (they unseal every backup taken before this rekey)
        before the first share is submitted."""
        if not self.archives_previous():
            return
        document = {
            "version": DOCUMENT_VERSION,
            "kind": "previous-unseal-keys",
            "cluster_id": self.cluster_id,
            "url": self.client.url,
            "before_nonce": nonce,
            "key_shares": self.seal.get("n"),
            "key_threshold": self.seal.get("t"),
            "keys": list(self.unseal_keys),
            "fingerprints": [fingerprint(k) for k in self.unseal_keys],
            "created_at": now(),
        }
        current = self.custody.read("previous", nonce)
        if current is None:
            self.archived_now = nonce
        else:
            # A resumed rekey (perhaps after a wrong share): keep every key ever archived under this nonce.
            known = list(current.get("keys") or [])
            if all(k in known for k in self.unseal_keys):
                return
            document["keys"] = known + [k for k in self.unseal_keys if k not in known]
            document["fingerprints"] = [fingerprint(k) for k in document["keys"]]
        self.custody.write("previous", document, nonce)
        self.result["archived"].append(self.custody.describe("previous", nonce))

    def submit_updates(self, nonce, resumed_progress):
        self.archive_previous(nonce)
        response = None
        submitted = 0
        for key in self.unseal_keys:
            try:
                response = self.client.rekey_update(self.api, key, nonce)
            except VaultConnectionError as exc:
                raise RekeyError("%s. The share may or may not have been taken. Nothing is lost: run the module "
                                 "again; it resumes the rekey recorded in %s (the current keys stay valid until "
                                 "verification)" % (exc, self.custody.describe("state")))
            except VaultError as exc:
                if resumed_progress and exc.status == 400 and exc.matches("already been provided",
                                                                          "already provided", "duplicate"):
                    continue
                if exc.matches("nonce", "no barrier rekey in progress", "no rekey in progress",
                               "no rotation in progress"):
                    raise  # the rekey itself changed under us (cancelled or replaced by someone else)
                self.refused(nonce, exc)
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

    def refused(self, nonce, exc):
        """Vault refused a current key share: cancel the rekey (its progress is useless without the right keys, and
        left in progress it would block every later rekey), drop its record and the archive this run wrote for
        it, and fail saying so. The current keys stay valid."""
        reason = "; ".join(exc.errors) or str(exc)
        which = ("the rekey an earlier run started and this run resumed (nonce %s)" if self.result["resumed"]
                 else "the rekey this run started (nonce %s)") % nonce
        try:
            self.client.rekey_cancel(self.api, nonce)
        except VaultError as cancel:
            self.fail("Failed to rekey Vault at %s: the unseal key was refused by Vault (%s), and %s could not be "
                      "cancelled (%s). It stays in progress, recorded in %s: cancel it, or run again with the right "
                      "unseal_keys to finish it. The current keys stay valid."
                      % (self.client.url, reason, which, cancel, self.custody.describe("state")))
        self.result.update(cancelled_nonce=nonce, changed=True)
        self.clear_state()
        if self.archived_now == nonce:
            self.custody.delete("previous", nonce)
        self.fail("Failed to rekey Vault at %s: the unseal key was refused by Vault (%s); %s was cancelled. The "
                  "current keys stay valid and nothing else was changed: one of unseal_keys is not a current unseal "
                  "key of this Vault." % (self.client.url, reason, which))

    def completed(self, response, nonce):
        """Vault returned the new keys. Persist them before anything else."""
        self.new_keys = dict(response, nonce=nonce)
        if response.get("pgp_fingerprints"):
            self.result["pgp_fingerprints"] = list(response["pgp_fingerprints"])
        if not response.get("verification_required"):
            # Only with pgp_keys + backup (validated): Vault switched already.
            if self.custody.stores("keys"):
                self.store_keys(self.keys_document(response, nonce, verified=False))
            self.clear_state()
            self.result.update(rekeyed=True)
            return "Vault switched to %d new PGP-encrypted shares (threshold %d) without verification." % (
                self.shares, self.threshold)
        document = self.keys_document(response, nonce, verified=False)
        document["verification_nonce"] = response.get("verification_nonce")
        if self.custody.stores("pending"):
            self.custody.write("pending", document)
        self.save_state("verify", nonce)
        return self.verify(document, restart=False)

    def verify(self, document, restart):
        if self.pgp_keys or document.get("pgp"):
            keys = [k.strip() for k in self.p.get("verification_keys") or []]
            if not keys:
                self.result["verification_pending"] = True
                if restart and self.state and self.state.get("phase") == "verify":
                    # Still waiting for the share holders: nothing changed since the last run.
                    self.result["changed"] = False
                return ("The new PGP-encrypted keys are stored in %s; Vault keeps the current keys until the "
                        "rekey is verified: decrypt %d shares and run again with verification_keys"
                        % (self.where("pending"),
                           int(document.get("key_threshold") or (self.state or {}).get("key_threshold")
                               or self.threshold)))
        else:
            keys = list(document.get("keys_base64") or [])
        if restart:
            self.client.rekey_verify_restart(self.api)
        vstatus = self.client.rekey_verify_status(self.api) or {}
        vnonce = vstatus.get("nonce") or document.get("verification_nonce")
        threshold = int(document.get("key_threshold") or (self.state or {}).get("key_threshold") or self.threshold)
        response = None
        for key in keys[:threshold]:
            try:
                response = self.client.rekey_verify(self.api, key, vnonce)
            except VaultConnectionError as exc:
                raise RekeyError("%s. The new keys are stored in %s. Run the module again: it finishes the "
                                 "verification, or records the switch if Vault already made it"
                                 % (exc, self.where("pending")))
            if response.get("complete"):
                break
        if not response or not response.get("complete"):
            self.fail("Failed to verify the new keys of Vault at %s: Vault did not accept %d shares as complete; the "
                      "new keys are in %s and the current keys stay valid; run again" % (
                          self.client.url, threshold, self.where("pending")))
        if self.custody.stores("keys"):
            document = dict(document)
            document["verified"] = True
            document.pop("verification_nonce", None)
            self.store_keys(document)
            self.custody.delete("pending")
        self.clear_state()
        self.result.update(rekeyed=True, verified=True, changed=True)
        return "Vault switched to %d new shares with threshold %d after verifying them; the keys are in %s." % (
            int(document.get("key_shares") or self.shares), threshold, self.where("keys"))


__all__ = ["CustodyError", "Rekey", "RekeyError", "validate"]
