"""The rekey engine (plugins/module_utils/_rekey.py) against an in-memory Vault, phase by phase.

Every case sets up a Vault and a keys destination (often by an earlier run that was cut off at a given point),
runs the engine once and checks what it left: the seal's shape and which keys unseal it, the documents in the
custody, the calls that changed Vault and the result. The same set-ups run again in check mode, which must
neither write a document nor make a call that changes Vault.

Nonces are deterministic: Vault's rekeys are ``rekey-1``, ``rekey-2``, ... in the order they were started (by
the engine or by someone else), verification nonces ``verify-1``, ...
"""
from __future__ import annotations

import copy
import json
import multiprocessing
import os
import stat
from dataclasses import dataclass, field

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._custody import CustodyError, FileCustody, S3Custody
from ansible_collections.ptfe.ops.plugins.module_utils._files import atomic_write_json, json_bytes, read_json
from ansible_collections.ptfe.ops.plugins.module_utils._rekey import Rekey, RekeyError, validate
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import API_ROTATE, VaultConnectionError, VaultError
from tests.unit.plugins.module_utils.fake_vault import CLUSTER_ID, URL, FakeS3, FakeVault, b64, decrypt, pgp_fingerprint

KEYS = "keys.json"
PENDING = KEYS + ".pending"
STATE = KEYS + ".state"
BUCKET = "vault-keys"
PREFIX = "vault/vault1/"
KMS_KEY = "alias/vault-keys"
PGP_KEYS = [b64(("pgp-public-key-%d" % i).encode()) for i in range(5)]
BOGUS_SHARE = "ab" * 33
BOGUS_KEY = "cd" * 32
OTHER_CLUSTER = "0ther000-0000-4000-8000-000000000002"


def pre(nonce):
    return "%s.pre-%s" % (KEYS, nonce)


def archive(nonce):
    return "%s.%s" % (KEYS, nonce)


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch):
    """What is written, not whether it survives a power cut, is under test here; on a real disk every fsync
    costs milliseconds and a run makes over a dozen."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


class Killed(Exception):
    """The module's process died at this point."""


def kill_at(custody, op, kind, when="before", nth=1):
    """Make the ``nth`` ``custody.op(kind, ...)`` of one run die ``before`` or ``after`` it took effect."""
    original = getattr(custody, op)
    seen = []

    def wrapper(k, *args, **kwargs):
        hit = False
        if k == kind:
            seen.append(k)
            hit = len(seen) == nth
        if hit and when == "before":
            raise Killed("%s %s" % (op, kind))
        out = original(k, *args, **kwargs)
        if hit and when == "after":
            raise Killed("%s %s" % (op, kind))
        return out

    setattr(custody, op, wrapper)


class Env:
    """One Vault and one keys destination (a directory, or a bucket), and the module's runs against them."""

    def __init__(self, tmp_path, shape=(1, 1), custody="file", **vault_kw):
        self.dir = tmp_path
        self.keys_file = str(tmp_path / KEYS)
        self.vault = FakeVault(*shape, **vault_kw)
        self.original = self.vault.hex_shares()
        self.kind = custody
        self.s3 = FakeS3(BUCKET) if custody == "s3" else None
        self.warnings = []
        self.mark = 0
        self.s3_mark = 0

    def params(self, **overrides):
        params = dict(key_shares=5, key_threshold=2, unseal_keys=list(self.original), require_verification=True,
                      pgp_keys=None, backup=False, verification_keys=None, force=False, cancel_foreign=False,
                      archive_unseal_keys=True, return_keys=False, custody=self.kind, keys_file=None,
                      state_file=None, s3_bucket=None, s3_object=None, s3_kms_key_id=None)
        if self.kind == "s3":
            params.update(s3_bucket=BUCKET, s3_object=PREFIX + KEYS, s3_kms_key_id=KMS_KEY)
        else:
            params["keys_file"] = self.keys_file
        for name, value in overrides.items():
            params[name] = value(self) if callable(value) else value
        return params

    def custody(self, params):
        if self.kind == "s3":
            return S3Custody(params["s3_bucket"], params["s3_object"], kms_key_id=params["s3_kms_key_id"],
                             client=self.s3)
        return FileCustody(params["keys_file"], params["state_file"])

    def run(self, check=False, kill=None, **overrides):
        """One run of the module with ``overrides`` of the default options; returns the result."""
        params = self.params(**overrides)
        assert validate(params) == []
        custody = self.custody(params)
        if kill:
            kill_at(custody, *kill)
        self.warnings = []
        self.mark = len(self.vault.calls)
        self.s3_mark = len(self.s3.calls) if self.s3 else 0
        try:
            result = Rekey(params, self.vault, custody, check_mode=check, warn=self.warnings.append).run()
        except (RekeyError, VaultError, CustodyError) as exc:
            self.assert_no_secret(str(exc))
            raise
        finally:
            # The module's process ends here, and the lock it held goes with it.
            if getattr(custody, "_lock", None) is not None:
                os.close(custody._lock)
                custody._lock = None
        shown = {k: v for k, v in result.items() if k not in ("keys", "keys_base64")}
        self.assert_no_secret(json.dumps(shown) + json.dumps(self.warnings))
        return result

    def writes(self):
        """The calls of the last run that changed (or tried to change) Vault."""
        return self.vault.writes(self.mark)

    def s3_writes(self):
        return [c for c in self.s3.calls[self.s3_mark:] if c[0] in ("put_object", "delete_object")]

    # -- the custody, by document name relative to the keys file ("keys.json", "keys.json.pending", ...)

    def names(self):
        if self.kind == "s3":
            return {k[len(PREFIX):] for k in self.s3.live() if k.startswith(PREFIX)}
        return {n for n in os.listdir(self.dir) if not n.endswith(".lock")}

    def doc(self, name):
        if self.kind == "s3":
            body = self.s3.body(PREFIX + name)
            return None if body is None else json.loads(body)
        return read_json(os.path.join(self.dir, name))

    def put(self, name, document):
        if self.kind == "s3":
            self.s3.put_object(Bucket=BUCKET, Key=PREFIX + name, Body=json_bytes(document),
                               ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_KEY)
        else:
            atomic_write_json(os.path.join(self.dir, name), document)

    def snapshot(self, documents_only=False):
        """Every object or file with its content (only the documents: without the lock file)."""
        if self.kind == "s3":
            return copy.deepcopy(self.s3.versions)
        return {n: (self.dir / n).read_bytes() for n in os.listdir(self.dir)
                if not (documents_only and n.endswith(".lock"))}

    # -- keys

    def keys_of(self, name):
        return list((self.doc(name) or {}).get("keys_base64") or [])

    def assert_no_secret(self, text):
        secrets = set(self.vault.secrets) | set(self.original)
        for shares in self.vault.issued.values():
            secrets.update(shares)
        for doc in (self.doc(KEYS), self.doc(PENDING)):
            secrets.update((doc or {}).get("keys_base64") or [])
        leaked = [s for s in secrets if s and s in text]
        assert not leaked, "a key share shows in %r" % text


# ------------------------------------------------------------------------------------------------ set-up steps


def cut(method, when, nth=1, **overrides):
    """An earlier run whose connection to Vault dropped at the ``nth`` call of ``method``."""
    def step(env):
        env.vault.cut(method, when, nth)
        with pytest.raises((RekeyError, VaultError)):
            env.run(**overrides)
        assert not env.vault.faults, "the run never reached %s #%d" % (method, nth)
    return step


def killed(op, kind, when="before", nth=1, **overrides):
    """An earlier run whose process died at the ``nth`` ``custody.op(kind)``."""
    def step(env):
        with pytest.raises(Killed):
            env.run(kill=(op, kind, when, nth), **overrides)
    return step


def completed(**overrides):
    """An earlier run that went through."""
    def step(env):
        result = env.run(**overrides)
        assert result["rekeyed"] or result["verification_pending"], result["msg"]
    return step


def failed(error, **overrides):
    """An earlier run that failed with ``error``."""
    def step(env):
        with pytest.raises(error):
            env.run(**overrides)
    return step


def foreign(shares, threshold, submit=0, **kw):
    """Someone else starts a rekey and submits ``submit`` current shares (the last ones) to it."""
    def step(env):
        env.vault.foreign_init(shares, threshold, **kw)
        for key in env.vault.hex_shares()[::-1][:submit]:
            env.vault.foreign_update(key)
    return step


def operator_cancels(env):
    env.vault.operator_cancels()


def put(name, **document):
    def step(env):
        env.put(name, document)
    return step


def other_cluster_doc(**extra):
    doc = {"version": 2, "cluster_id": OTHER_CLUSTER, "url": "https://vault2.example:8200", "nonce": "theirs",
           "key_shares": 1, "key_threshold": 1, "keys": ["00" * 33], "keys_base64": ["AA" * 22]}
    doc.update(extra)
    return doc


def decrypted(name, count=2):
    """verification_keys: the first ``count`` shares of document ``name``, decrypted."""
    return lambda env: [decrypt(k) for k in env.keys_of(name)][:count]


def from_backup(count=2):
    """verification_keys: ``count`` shares of Vault's backup of the PGP-encrypted keys, decrypted."""
    return lambda env: [decrypt(k) for keys in env.vault.backup["keys"].values() for k in keys][:count]


def keys_from(name, count=2):
    """unseal_keys: the first ``count`` shares of document ``name``."""
    return lambda env: env.keys_of(name)[:count]


# ------------------------------------------------------------------------------------------------ the table


def done(nonce="rekey-1", **kw):
    """The result fields of a run that ended with Vault on verified new keys."""
    result = dict(changed=True, rekeyed=True, verified=True, resumed=False, cancelled_nonce="",
                  verification_pending=False, nonce=nonce)
    result.update(kw)
    return result


def unchanged(nonce="", **kw):
    result = dict(changed=False, rekeyed=False, verified=False, resumed=False, cancelled_nonce="",
                  verification_pending=False, nonce=nonce)
    result.update(kw)
    return result


# PGP-encrypted keys backed up in Vault, no keys file: only the rekey record is kept, in a state file.
PGP_ONLY = dict(pgp_keys=PGP_KEYS, backup=True, keys_file=None,
                state_file=lambda env: str(env.dir / "vault1.state.json"))
FRESH = ["init 5/2", "update", "verify", "verify"]
VERIFY_AGAIN = ["verify-restart", "verify", "verify"]


@dataclass
class Case:
    shape: tuple = (1, 1)              # the seal's shares/threshold before
    setup: tuple = ()                  # what happened before the run
    run: dict = field(default_factory=dict)  # options of the run, over Env.params()
    custody: str = "file"
    vault: dict = field(default_factory=dict)  # FakeVault options
    error: str = ""                    # the run must fail with this in its message
    result: dict = None                # result fields
    archived: tuple = None             # result["archived"], by name
    writes: tuple = ()                 # the run's state-changing Vault calls, in order
    seal: tuple = None                 # the seal's shape after (default: the run's shape when valid != original)
    valid: str = "original"            # which keys unseal Vault after: original|keys|keys-pgp|backup
    never_valid: tuple = ()            # nonces whose new keys must never have become valid
    in_progress: str = None            # nonce of the rekey Vault has in progress after
    files: tuple = ()                  # documents the custody holds after
    docs: dict = field(default_factory=dict)  # name -> fields that document must have
    untouched: bool = False            # the custody is byte-for-byte what the set-up left
    warning: str = ""                  # a warning must contain this
    check: object = True               # check mode: the expected "changed", or an error fragment


CASES = [
    # -- a new rekey
    pytest.param(Case(
        result=done(), archived=[pre("rekey-1")], writes=FRESH, valid="keys",
        files={KEYS, pre("rekey-1")},
        docs={KEYS: dict(cluster_id=CLUSTER_ID, url=URL, nonce="rekey-1", key_shares=5, key_threshold=2,
                         verified=True, pgp=False, backup=False),
              pre("rekey-1"): dict(kind="previous-unseal-keys", cluster_id=CLUSTER_ID, url=URL,
                                   before_nonce="rekey-1", key_shares=1, key_threshold=1,
                                   keys=lambda env: env.original)},
    ), id="fresh-1of1-to-5of2"),
    pytest.param(Case(
        shape=(5, 2), result=unchanged(), archived=[], writes=[], files=set(), check=False,
    ), id="already-at-shape"),
    pytest.param(Case(
        setup=[completed()], run=dict(unseal_keys=keys_from(KEYS)), result=unchanged(nonce="rekey-1"),
        archived=[], writes=[], valid="keys", seal=(5, 2), untouched=True, files={KEYS, pre("rekey-1")},
        check=False,
    ), id="already-at-shape-after-a-rekey"),
    pytest.param(Case(
        shape=(5, 2), run=dict(force=True), result=done(), archived=[pre("rekey-1")],
        writes=["init 5/2", "update", "update", "verify", "verify"], valid="keys", files={KEYS, pre("rekey-1")},
        docs={pre("rekey-1"): dict(key_shares=5, key_threshold=2, keys=lambda env: env.original)},
    ), id="force-same-shape"),
    pytest.param(Case(
        shape=(3, 2), run=dict(key_shares=7, key_threshold=4), result=done(), archived=[pre("rekey-1")],
        writes=["init 7/4", "update", "update", "verify", "verify", "verify", "verify"], valid="keys",
        seal=(7, 4), files={KEYS, pre("rekey-1")},
    ), id="fresh-3of2-to-7of4"),
    pytest.param(Case(
        run=dict(archive_unseal_keys=False), result=done(), archived=[], writes=FRESH, valid="keys",
        files={KEYS}, docs={KEYS: dict(previous="")},
    ), id="fresh-without-archive-of-unseal-keys"),

    # -- own rekey, resumed at each phase
    pytest.param(Case(
        setup=[cut("rekey_init", "before")], result=done(resumed=True), archived=[pre("rekey-1")],
        writes=FRESH, valid="keys", files={KEYS, pre("rekey-1")}, warning="no longer in progress",
    ), id="resume-killed-before-vault-got-init"),
    pytest.param(Case(
        setup=[killed("write", "state", "after", nth=1)], result=done(resumed=True), archived=[pre("rekey-1")],
        writes=FRESH, valid="keys", files={KEYS, pre("rekey-1")},
    ), id="resume-killed-after-state-init"),
    pytest.param(Case(
        setup=[cut("rekey_init", "after")], result=done(resumed=True), archived=[pre("rekey-1")],
        writes=["update", "verify", "verify"], valid="keys", files={KEYS, pre("rekey-1")},
    ), id="resume-after-init-no-nonce-recorded"),
    pytest.param(Case(
        setup=[killed("write", "state", "before", nth=2)], result=done(resumed=True), archived=[pre("rekey-1")],
        writes=["update", "verify", "verify"], valid="keys", files={KEYS, pre("rekey-1")},
    ), id="resume-killed-before-recording-the-nonce"),
    pytest.param(Case(
        shape=(3, 2), setup=[cut("rekey_update", "after", nth=1)], result=done(resumed=True), archived=[],
        writes=["update", "update", "verify", "verify"], valid="keys", files={KEYS, pre("rekey-1")},
        docs={pre("rekey-1"): dict(key_shares=3, key_threshold=2)},
    ), id="resume-during-update-share-taken"),
    pytest.param(Case(
        shape=(3, 2), setup=[cut("rekey_update", "before", nth=2)], result=done(resumed=True), archived=[],
        writes=["update", "update", "verify", "verify"], valid="keys", files={KEYS, pre("rekey-1")},
    ), id="resume-during-update-share-lost"),
    pytest.param(Case(
        setup=[cut("rekey_update", "after")],
        result=done(nonce="rekey-2", resumed=True, cancelled_nonce="rekey-1"), archived=[pre("rekey-2")],
        writes=["cancel rekey-1"] + FRESH, valid="keys", never_valid=["rekey-1"],
        files={KEYS, pre("rekey-1"), pre("rekey-2")}, docs={KEYS: dict(nonce="rekey-2")}, warning="never stored",
    ), id="resume-keys-never-stored-cancel-and-restart"),
    pytest.param(Case(
        setup=[killed("write", "pending", "before")],
        result=done(nonce="rekey-2", resumed=True, cancelled_nonce="rekey-1"), archived=[pre("rekey-2")],
        writes=["cancel rekey-1"] + FRESH, valid="keys", never_valid=["rekey-1"],
        files={KEYS, pre("rekey-1"), pre("rekey-2")},
    ), id="resume-killed-before-pending-written"),
    pytest.param(Case(
        setup=[killed("write", "pending", "after")], result=done(resumed=True), archived=[],
        writes=VERIFY_AGAIN, valid="keys", files={KEYS, pre("rekey-1")},
        docs={KEYS: dict(nonce="rekey-1", verified=True)},
    ), id="resume-pending-written-state-not-yet-verify"),
    pytest.param(Case(
        setup=[cut("rekey_verify", "before")], result=done(resumed=True), archived=[], writes=VERIFY_AGAIN,
        valid="keys", files={KEYS, pre("rekey-1")}, docs={KEYS: dict(nonce="rekey-1", verified=True)},
    ), id="resume-pending-written-before-verification"),
    pytest.param(Case(
        setup=[cut("rekey_verify", "after", nth=1)], result=done(resumed=True), archived=[], writes=VERIFY_AGAIN,
        valid="keys", files={KEYS, pre("rekey-1")},
    ), id="resume-verification-half-done"),
    pytest.param(Case(
        setup=[cut("rekey_verify", "after", nth=2)], result=done(resumed=True), archived=[], writes=[],
        valid="keys", files={KEYS, pre("rekey-1")},
        docs={KEYS: dict(nonce="rekey-1", verified=True, cluster_id=CLUSTER_ID)},
    ), id="resume-verified-in-vault-keys-not-moved"),
    pytest.param(Case(
        setup=[killed("delete", "pending")], result=done(resumed=True), archived=[], writes=[], valid="keys",
        files={KEYS, pre("rekey-1")},
    ), id="switched-keys-stored-pending-left"),
    pytest.param(Case(
        setup=[killed("delete", "state")], result=done(resumed=True), archived=[], writes=[], valid="keys",
        files={KEYS, pre("rekey-1")},
    ), id="switched-keys-stored-state-left"),
    pytest.param(Case(
        setup=[completed(), cut("rekey_verify", "after", nth=3, key_shares=7, key_threshold=3,
                                unseal_keys=keys_from(KEYS))],
        run=dict(key_shares=7, key_threshold=3, unseal_keys=keys_from(KEYS)),
        result=done(nonce="rekey-2", resumed=True), archived=[archive("rekey-1")], writes=[], valid="keys",
        seal=(7, 3), files={KEYS, archive("rekey-1"), pre("rekey-1"), pre("rekey-2")},
        docs={KEYS: dict(nonce="rekey-2"), archive("rekey-1"): dict(nonce="rekey-1", key_shares=5)},
    ), id="switched-second-rekey-archives-first"),

    # -- a rekey this module did not start
    pytest.param(Case(
        setup=[foreign(5, 2)], error="a rekey that this module did not start is in progress (nonce rekey-1",
        writes=[], in_progress="rekey-1", files=set(), check="cancel_foreign=true",
    ), id="foreign-refused"),
    pytest.param(Case(
        setup=[foreign(5, 2)], run=dict(cancel_foreign=True), result=done(nonce="rekey-2", cancelled_nonce="rekey-1"),
        archived=[pre("rekey-2")], writes=["cancel rekey-1"] + FRESH, valid="keys", files={KEYS, pre("rekey-2")},
        warning="Cancelled a foreign rekey (nonce rekey-1",
    ), id="foreign-cancelled-then-rekeyed"),
    pytest.param(Case(
        shape=(3, 2), setup=[foreign(5, 2, submit=1)], run=dict(cancel_foreign=True),
        result=done(nonce="rekey-2", cancelled_nonce="rekey-1"), archived=[pre("rekey-2")],
        writes=["cancel rekey-1", "init 5/2", "update", "update", "verify", "verify"], valid="keys",
        files={KEYS, pre("rekey-2")},
    ), id="foreign-with-progress-cancelled"),
    pytest.param(Case(
        setup=[foreign(5, 2, submit=1)], run=dict(cancel_foreign=True),
        result=done(nonce="rekey-2", cancelled_nonce="rekey-1"), archived=[pre("rekey-2")],
        writes=["cancel rekey-1"] + FRESH, valid="keys", never_valid=["rekey-1"], files={KEYS, pre("rekey-2")},
        warning="waiting for verification",
    ), id="foreign-in-verification-cancelled"),
    pytest.param(Case(
        setup=[cut("rekey_verify", "after", nth=2), foreign(3, 2)], error="did not start", writes=[],
        in_progress="rekey-2", valid="keys-pending", files={KEYS + ".pending", STATE, pre("rekey-1")}, untouched=True,
        check="did not start",
    ), id="foreign-refused-own-switch-unrecorded"),
    pytest.param(Case(
        setup=[cut("rekey_verify", "after", nth=2), foreign(3, 2)], run=dict(cancel_foreign=True),
        result=done(resumed=True, cancelled_nonce="rekey-2"), archived=[], writes=["cancel rekey-2"],
        valid="keys", files={KEYS, pre("rekey-1")}, docs={KEYS: dict(nonce="rekey-1", verified=True)},
    ), id="foreign-cancelled-own-switch-unrecorded"),
    pytest.param(Case(
        setup=[cut("rekey_verify", "before"), operator_cancels, foreign(3, 2)], run=dict(cancel_foreign=True),
        result=done(nonce="rekey-3", resumed=True, cancelled_nonce="rekey-2"), archived=[pre("rekey-3")],
        writes=["cancel rekey-2"] + FRESH, valid="keys", never_valid=["rekey-1"],
        files={KEYS, pre("rekey-1"), pre("rekey-3")},
    ), id="foreign-cancelled-own-rekey-was-cancelled"),
    # An "init" record (no nonce yet) claims a rekey with the module's parameters. One that has progress or is
    # waiting for verification cannot be the module's: it submits no share before it records the nonce.
    pytest.param(Case(
        shape=(3, 2), setup=[cut("rekey_init", "before"), foreign(5, 2, submit=1)], error="did not start",
        writes=[], in_progress="rekey-1", files={STATE}, untouched=True, check="did not start",
    ), id="init-record-does-not-join-foreign-with-progress"),
    pytest.param(Case(
        setup=[cut("rekey_init", "before"), foreign(5, 2, submit=1)], error="did not start", writes=[],
        in_progress="rekey-1", files={STATE}, untouched=True, check="did not start",
    ), id="init-record-does-not-cancel-foreign-in-verification"),
    pytest.param(Case(
        setup=[cut("rekey_init", "before"), foreign(5, 2, pgp_keys=PGP_KEYS, backup=True)], error="did not start",
        writes=[], in_progress="rekey-1", files={STATE}, untouched=True, check="did not start",
    ), id="init-record-does-not-cancel-foreign-with-other-options"),

    # -- someone cancelled the module's rekey (or Vault restarted)
    pytest.param(Case(
        setup=[cut("rekey_verify", "before"), operator_cancels], result=done(nonce="rekey-2", resumed=True),
        archived=[pre("rekey-2")], writes=FRESH, valid="keys", never_valid=["rekey-1"],
        files={KEYS, pre("rekey-1"), pre("rekey-2")}, warning="no longer in progress",
    ), id="cancelled-in-verification-restarted"),
    pytest.param(Case(
        shape=(3, 2), setup=[cut("rekey_update", "after", nth=1), operator_cancels],
        result=done(nonce="rekey-2", resumed=True), archived=[pre("rekey-2")],
        writes=["init 5/2", "update", "update", "verify", "verify"], valid="keys",
        files={KEYS, pre("rekey-1"), pre("rekey-2")},
    ), id="cancelled-during-update-restarted"),
    pytest.param(Case(
        setup=[cut("rekey_verify", "before"), operator_cancels], run=dict(key_shares=1, key_threshold=1),
        result=unchanged(changed=True, resumed=True), archived=[], writes=[], seal=(1, 1), files={pre("rekey-1")},
        warning="no longer in progress", check=True,
    ), id="cancelled-leftovers-cleaned-only"),
    pytest.param(Case(
        shape=(5, 2), setup=[cut("rekey_verify", "after", nth=2, force=True)], run=dict(force=True),
        error="cannot be told whether Vault switched", writes=[], valid="keys-pending",
        files={PENDING, STATE, pre("rekey-1")}, untouched=True, check="cannot be told",
    ), id="forced-same-shape-switch-undecidable"),

    # -- documents of another cluster
    pytest.param(Case(
        setup=[put(KEYS, **other_cluster_doc())], error="holds the keys of cluster " + OTHER_CLUSTER,
        writes=[], files={KEYS}, untouched=True, check="Refusing to rekey",
    ), id="other-cluster-keys-file"),
    pytest.param(Case(
        setup=[put(PENDING, **other_cluster_doc())], error="holds pending keys of cluster " + OTHER_CLUSTER,
        writes=[], files={PENDING}, untouched=True, check="Refusing to rekey",
    ), id="other-cluster-pending"),
    pytest.param(Case(
        setup=[put(STATE, **other_cluster_doc(phase="verify"))], error="holds the rekey record of cluster",
        writes=[], files={STATE}, untouched=True, check="Refusing to rekey",
    ), id="other-cluster-state"),
    pytest.param(Case(
        setup=[put(KEYS, **other_cluster_doc(cluster_id=None))], error="an unknown cluster", writes=[],
        files={KEYS}, untouched=True, check="Refusing to rekey",
    ), id="keys-file-without-cluster"),

    # -- refusals before anything changes
    pytest.param(Case(
        shape=(3, 2), run=dict(unseal_keys=lambda env: env.original[:1]), error="the current threshold is 2, but 1",
        writes=[], files=set(), check=True,
    ), id="too-few-unseal-keys"),
    pytest.param(Case(
        shape=(5, 2), vault=dict(sealed=True), result=unchanged(), writes=[], files=set(), check=False,
    ), id="sealed-at-shape"),
    pytest.param(Case(
        vault=dict(sealed=True), error="it is sealed; unseal it first", writes=[], files=set(), check="sealed",
    ), id="sealed-not-at-shape"),
    pytest.param(Case(
        vault=dict(initialized=False), error="it is not initialised", writes=[], files=set(), check="initialised",
    ), id="not-initialised"),
    pytest.param(Case(
        vault=dict(seal_type="awskms"), error="recovery keys", writes=[], files=set(), check="recovery keys",
    ), id="auto-unseal"),
    pytest.param(Case(
        vault=dict(api=API_ROTATE, token=""), error="set token", writes=[], files=set(), check="set token",
    ), id="openbao-rotate-without-token"),
    pytest.param(Case(
        vault=dict(api=API_ROTATE), result=done(), archived=[pre("rekey-1")], writes=FRESH, valid="keys",
        files={KEYS, pre("rekey-1")},
    ), id="openbao-rotate-with-token"),

    # -- a wrong key: refused by its length before a rekey starts, or by Vault, and then the rekey is cancelled
    pytest.param(Case(
        run=dict(unseal_keys=[BOGUS_SHARE]), error="unseal_keys entry 1 is 33 bytes long, but with threshold 1 its "
                                                   "unseal key is the whole key, 16, 24 or 32 bytes long",
        writes=[], files=set(), check=True,
    ), id="share-given-for-the-whole-key"),
    pytest.param(Case(
        shape=(3, 2), run=dict(unseal_keys=lambda env: [env.original[0], BOGUS_KEY]),
        error="unseal_keys entry 2 is 32 bytes long, but with threshold 2 each of its key shares is 17, 25 or 33",
        writes=[], files=set(), check=True,
    ), id="whole-key-given-for-a-share"),
    pytest.param(Case(
        run=dict(unseal_keys=[BOGUS_KEY]),
        error="the unseal key was refused by Vault (root key verification failed: cipher: message authentication "
              "failed); the rekey this run started (nonce rekey-1) was cancelled. The current keys stay valid",
        writes=["init 5/2", "update", "cancel rekey-1"], files=set(), check=True,
    ), id="wrong-key-rekey-cancelled"),
    pytest.param(Case(
        shape=(3, 2), run=dict(unseal_keys=lambda env: [env.original[0], BOGUS_SHARE]),
        error="the rekey this run started (nonce rekey-1) was cancelled",
        writes=["init 5/2", "update", "update", "cancel rekey-1"], files=set(), check=True,
    ), id="wrong-share-rekey-cancelled"),
    pytest.param(Case(
        shape=(3, 2), setup=[failed(RekeyError, unseal_keys=lambda env: [env.original[0], BOGUS_SHARE])],
        result=done(nonce="rekey-2", resumed=False), archived=[pre("rekey-2")],
        writes=["init 5/2", "update", "update", "verify", "verify"], valid="keys", files={KEYS, pre("rekey-2")},
        docs={pre("rekey-2"): dict(key_shares=3, key_threshold=2, keys=lambda env: env.original)},
    ), id="wrong-share-then-the-right-ones"),
    pytest.param(Case(
        setup=[cut("rekey_update", "before")], run=dict(unseal_keys=[BOGUS_KEY]),
        error="the rekey an earlier run started and this run resumed (nonce rekey-1) was cancelled",
        writes=["update", "cancel rekey-1"],
        # The archive the earlier run wrote stays, with every key given for that rekey (a wrong one is harmless).
        files={pre("rekey-1")}, docs={pre("rekey-1"): dict(keys=lambda env: env.original + [BOGUS_KEY])},
    ), id="wrong-key-in-a-resumed-rekey-cancelled"),

    # -- a second rekey of the same cluster
    pytest.param(Case(
        setup=[completed()], run=dict(key_shares=7, key_threshold=3, unseal_keys=keys_from(KEYS)),
        result=done(nonce="rekey-2"), archived=[pre("rekey-2"), archive("rekey-1")],
        writes=["init 7/3", "update", "update", "verify", "verify", "verify"], valid="keys", seal=(7, 3),
        files={KEYS, archive("rekey-1"), pre("rekey-1"), pre("rekey-2")},
        docs={KEYS: dict(nonce="rekey-2", key_shares=7), archive("rekey-1"): dict(nonce="rekey-1", key_shares=5),
              pre("rekey-2"): dict(key_shares=5, key_threshold=2)},
    ), id="second-rekey-archives-previous-keys"),

    # -- PGP
    pytest.param(Case(
        run=dict(pgp_keys=PGP_KEYS),
        # No keys are live yet, so there is no nonce of live keys to report.
        result=dict(changed=True, rekeyed=False, verified=False, verification_pending=True, resumed=False,
                    cancelled_nonce="", nonce=""),
        archived=[pre("rekey-1")], writes=["init 5/2", "update"], in_progress="rekey-1",
        files={PENDING, STATE, pre("rekey-1")},
        docs={PENDING: dict(pgp=True, nonce="rekey-1", verified=False, verification_nonce="verify-1",
                            pgp_fingerprints=[pgp_fingerprint(k) for k in PGP_KEYS]),
              STATE: dict(phase="verify", nonce="rekey-1", pgp=True)},
    ), id="pgp-stops-for-verification-keys"),
    pytest.param(Case(
        setup=[completed(pgp_keys=PGP_KEYS)], run=dict(pgp_keys=PGP_KEYS, verification_keys=decrypted(PENDING)),
        result=done(resumed=True), archived=[], writes=VERIFY_AGAIN, valid="keys-pgp",
        files={KEYS, pre("rekey-1")}, docs={KEYS: dict(pgp=True, verified=True, nonce="rekey-1")},
    ), id="pgp-second-run-verifies"),
    pytest.param(Case(
        setup=[completed(**PGP_ONLY)], run=dict(PGP_ONLY, verification_keys=from_backup()),
        result=dict(changed=True, rekeyed=True, verified=True, verification_pending=False, resumed=True,
                    cancelled_nonce=""),
        archived=[], writes=VERIFY_AGAIN, valid="backup", files=set(),
    ), id="pgp-backup-no-keys-file-second-run-verifies"),
    pytest.param(Case(
        run=dict(PGP_ONLY, require_verification=False),
        result=dict(changed=True, rekeyed=True, verified=False, verification_pending=False, resumed=False,
                    cancelled_nonce="", nonce="rekey-1"),
        archived=[], writes=["init 5/2", "update"], valid="backup", files=set(),
    ), id="pgp-backup-without-verification-no-keys-file"),
    pytest.param(Case(
        run=dict(pgp_keys=PGP_KEYS, backup=True, require_verification=False),
        result=dict(changed=True, rekeyed=True, verified=False, verification_pending=False, resumed=False,
                    cancelled_nonce="", nonce="rekey-1"),
        archived=[pre("rekey-1")], writes=["init 5/2", "update"], valid="keys-pgp", files={KEYS, pre("rekey-1")},
        docs={KEYS: dict(pgp=True, backup=True, verified=False)},
    ), id="pgp-backup-without-verification"),
    pytest.param(Case(
        setup=[cut("rekey_update", "after", pgp_keys=PGP_KEYS, backup=True, require_verification=False)],
        run=dict(pgp_keys=PGP_KEYS, backup=True, require_verification=False),
        error="read them with GET sys/rekey/backup", writes=[], valid="backup",
        files={STATE, pre("rekey-1")}, untouched=True, check=True,
    ), id="pgp-switched-before-keys-stored"),

    # -- custody in S3
    pytest.param(Case(
        custody="s3", result=done(), archived=["s3://%s/%s%s" % (BUCKET, PREFIX, pre("rekey-1"))], writes=FRESH,
        valid="keys", files={KEYS, pre("rekey-1")}, docs={KEYS: dict(nonce="rekey-1", cluster_id=CLUSTER_ID)},
    ), id="s3-fresh"),
    pytest.param(Case(
        custody="s3", setup=[cut("rekey_verify", "before")], result=done(resumed=True), archived=[],
        writes=VERIFY_AGAIN, valid="keys", files={KEYS, pre("rekey-1")},
    ), id="s3-resume-before-verification"),
    pytest.param(Case(
        custody="s3", setup=[cut("rekey_verify", "after", nth=2)], result=done(resumed=True), archived=[],
        writes=[], valid="keys", files={KEYS, pre("rekey-1")},
    ), id="s3-resume-verified-in-vault"),
    pytest.param(Case(
        custody="s3", setup=[completed()], run=dict(key_shares=7, key_threshold=3, unseal_keys=keys_from(KEYS)),
        result=done(nonce="rekey-2"),
        archived=["s3://%s/%s%s" % (BUCKET, PREFIX, n) for n in (pre("rekey-2"), archive("rekey-1"))],
        writes=["init 7/3", "update", "update", "verify", "verify", "verify"], valid="keys", seal=(7, 3),
        files={KEYS, archive("rekey-1"), pre("rekey-1"), pre("rekey-2")},
    ), id="s3-second-rekey-archives-previous-keys"),
    pytest.param(Case(
        custody="s3", setup=[put(KEYS, **other_cluster_doc())], error="holds the keys of cluster", writes=[],
        files={KEYS}, untouched=True, check="Refusing to rekey",
    ), id="s3-other-cluster-keys"),
]


def prepare(tmp_path, case):
    env = Env(tmp_path, case.shape, case.custody, **case.vault)
    for step in case.setup:
        step(env)
    env.vault.faults.clear()
    return env


def check_keys(env, case):
    vault = env.vault
    if case.valid == "original":
        assert vault.unseals(env.original), "the original keys no longer unseal Vault"
        for name in (KEYS, PENDING):
            keys = env.keys_of(name)
            if keys and env.doc(name).get("cluster_id") == CLUSTER_ID:
                assert vault.valid_shares(keys) == 0, "%s holds live keys, but Vault was not to switch" % name
        return
    valid = {
        "keys": lambda: env.keys_of(KEYS),
        "keys-pending": lambda: env.keys_of(PENDING),
        "keys-pgp": lambda: [decrypt(k) for k in env.keys_of(KEYS)],
        "backup": lambda: [decrypt(k) for keys in vault.backup["keys"].values() for k in keys],
    }[case.valid]()
    n, t = vault.shape
    assert len(valid) == n and vault.valid_shares(valid) == n, "the %s are not Vault's key shares" % case.valid
    assert not vault.unseals(env.original), "the original keys still unseal Vault"
    if case.valid != "keys-pending" and env.keys_of(PENDING):
        assert vault.valid_shares(env.keys_of(PENDING)) == 0


def refused(env, fragment, **options):
    """Run; the run must fail with ``fragment`` in its message."""
    try:
        result = env.run(**options)
    except (RekeyError, VaultError, CustodyError) as exc:
        assert fragment in str(exc)
        return
    pytest.fail("the run was to be refused (%r) but went on: %s (Vault calls: %s; cancelled %r)"
                % (fragment, result["msg"], env.writes(), result["cancelled_nonce"]))


@pytest.mark.parametrize("case", CASES)
def test_rekey_engine(tmp_path, case):
    assert bool(case.error) != bool(case.result), "a case expects either an error or result fields"
    env = prepare(tmp_path, case)
    before = env.snapshot(documents_only=True)
    params = env.params(**case.run)
    if case.error:
        refused(env, case.error, **case.run)
        result = None
    else:
        result = env.run(**case.run)

    # Vault
    assert env.writes() == list(case.writes)
    seal = case.seal or (case.shape if case.valid == "original" else (params["key_shares"], params["key_threshold"]))
    assert env.vault.shape == tuple(seal)
    check_keys(env, case)
    for nonce in case.never_valid:
        assert not env.vault.unseals(env.vault.issued[nonce]), "the keys of %s became valid" % nonce
    assert env.vault.in_progress() == case.in_progress

    # the custody
    assert env.names() == set(case.files)
    for name, fields in case.docs.items():
        doc = env.doc(name)
        assert doc is not None, name
        expected = {k: v(env) if callable(v) else v for k, v in fields.items()}
        assert {k: doc.get(k) for k in fields} == expected, name
    if case.untouched:
        assert env.snapshot(documents_only=True) == before
    if case.custody == "file":
        for name in env.names():
            assert stat.S_IMODE(os.stat(os.path.join(env.dir, name)).st_mode) == 0o600, name
    keys = env.doc(KEYS)
    if keys and keys.get("cluster_id") == CLUSTER_ID:
        assert keys["url"] == URL and keys["version"] == 2
        assert "verification_nonce" not in keys
        assert len(keys["keys"]) == len(keys["keys_base64"]) == keys["key_shares"]
        assert keys["previous"] in ("", env.custody(params).describe("previous", keys["nonce"]))
    for name in env.names():
        if name.startswith(KEYS + ".pre-"):
            previous = env.doc(name)
            assert previous["before_nonce"] == name[len(KEYS + ".pre-"):]
            assert (previous["cluster_id"], previous["url"]) == (CLUSTER_ID, URL)
            assert len(previous["fingerprints"]) == len(previous["keys"])

    # the result
    if result is not None:
        if case.result:
            assert {k: result[k] for k in case.result} == case.result, result["msg"]
        if case.archived is not None:
            if case.custody == "file":
                assert [os.path.basename(a) for a in result["archived"]] == list(case.archived)
                assert all(os.path.dirname(a) == str(env.dir) for a in result["archived"])
            else:
                assert result["archived"] == list(case.archived)
        assert result["cluster_id"] == (CLUSTER_ID if not env.vault.sealed else "")
        assert "keys" not in result and "keys_base64" not in result
        if "diff" in result:
            assert result["diff"]["after"] == {"key_shares": env.vault.n, "key_threshold": env.vault.t}
    if case.warning:
        assert any(case.warning in w for w in env.warnings), env.warnings


@pytest.mark.parametrize("case", CASES)
def test_check_mode_changes_nothing(tmp_path, case):
    env = prepare(tmp_path, case)
    files, vault = env.snapshot(), env.vault.snapshot()
    if isinstance(case.check, str):
        refused(env, case.check, check=True, **case.run)
    else:
        result = env.run(check=True, **case.run)
        assert result["changed"] is case.check, result["msg"]
    assert env.writes() == []
    assert env.vault.snapshot() == vault
    assert env.snapshot() == files
    if env.s3:
        assert env.s3_writes() == []


# ------------------------------------------------------------------------------------------------ more


def test_check_mode_reports_the_clean_up_without_doing_it(tmp_path):
    """Regression: the clean-up of a cancelled rekey's leftovers is a change under --check as well."""
    env = Env(tmp_path)
    cut("rekey_verify", "before")(env)
    operator_cancels(env)
    before = env.snapshot()
    result = env.run(check=True, key_shares=1, key_threshold=1)
    assert result["changed"] is True and result["resumed"] is True
    assert any("would be removed" in w for w in env.warnings), env.warnings
    assert env.snapshot() == before and env.names() == {PENDING, STATE, pre("rekey-1")}


def test_cancel_foreign_keeps_the_own_verify_record(tmp_path):
    """Regression: cancelling a foreign rekey does not drop the module's own verify-phase record; the keys Vault
    switched to become the live keys document."""
    env = Env(tmp_path)
    cut("rekey_verify", "after", nth=2)(env)
    pending = env.doc(PENDING)
    foreign(3, 2)(env)
    result = env.run(cancel_foreign=True)
    assert env.writes() == ["cancel rekey-2"]
    assert result["cancelled_nonce"] == "rekey-2" and result["rekeyed"] and result["resumed"]
    assert env.doc(KEYS)["keys_base64"] == pending["keys_base64"]
    assert env.vault.unseals(env.keys_of(KEYS)) and env.vault.in_progress() is None
    assert env.names() == {KEYS, pre("rekey-1")}


def hold_lock(keys_file, ready, release):
    FileCustody(keys_file).lock()
    ready.set()
    release.wait(10)


def test_a_run_on_a_keys_file_locked_by_another_process_is_refused(tmp_path):
    env = Env(tmp_path)
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=hold_lock, args=(env.keys_file, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(CustodyError) as err:
            env.run()
        assert "another run holds %s.lock" % env.keys_file in str(err.value)
        assert "Two hosts must never share a keys file" in str(err.value)
        assert env.writes() == [] and env.names() == set()
        assert [call[0] for call in env.vault.calls] == ["seal_status"]
    finally:
        release.set()
        holder.join(10)
    assert holder.exitcode == 0
    assert env.run()["rekeyed"] is True  # the lock went with the process that held it


def test_return_keys_returns_the_stored_keys(tmp_path):
    env = Env(tmp_path)
    result = env.run(return_keys=True)
    assert result["keys_base64"] == env.keys_of(KEYS) and result["keys"] == env.doc(KEYS)["keys"]


def test_s3_documents_are_kms_encrypted_and_deletes_keep_versions(tmp_path):
    env = Env(tmp_path, custody="s3")
    cut("rekey_verify", "before")(env)
    env.run()
    puts = [key for op, key in env.s3.calls if op == "put_object"]
    assert puts and all(env.s3.versions[k][0]["ServerSideEncryption"] == "aws:kms" for k in puts)
    assert all(v["SSEKMSKeyId"] == KMS_KEY for k in puts for v in env.s3.versions[k] if v)
    # state and pending were deleted: a delete marker on top, their versions kept underneath
    for name in (STATE, PENDING):
        versions = env.s3.versions[PREFIX + name]
        assert versions[-1] is None and any(v is not None for v in versions)


def test_s3_bucket_without_versioning_is_refused(tmp_path):
    env = Env(tmp_path, custody="s3")
    env.s3.versioning = None
    with pytest.raises(RekeyError) as err:
        env.run()
    assert "does not have versioning enabled" in str(err.value)
    assert env.writes() == [] and env.s3_writes() == []


def test_resumed_verification_uses_the_threshold_of_the_rekey(tmp_path):
    """A rekey recorded with threshold 3 is verified with 3 of its new shares, also when key_threshold has been
    changed since: Vault does not take fewer, so a run that sends fewer could never finish (nor clean up)."""
    env = Env(tmp_path)
    cut("rekey_verify", "before", key_threshold=3)(env)
    result = env.run(key_threshold=2)
    assert result["verified"] is True
    assert env.vault.in_progress() is None
    assert env.vault.valid_shares(env.keys_of(KEYS)) == env.vault.n
    assert not env.names() & {PENDING, STATE}


# ------------------------------------------------------------------------------------------------ the fake itself


def test_fake_vault_rekey_with_verification_follows_vault():
    vault = FakeVault(3, 2)
    old = vault.hex_shares()
    status = vault.rekey_init("sys/rekey", 5, 3)
    nonce = status["nonce"]
    assert status == dict(started=True, nonce="rekey-1", t=3, n=5, progress=0, required=2, pgp_fingerprints=None,
                          backup=False, verification_required=True)
    with pytest.raises(VaultError) as err:
        vault.rekey_init("sys/rekey", 5, 3)
    assert err.value.status == 400 and err.value.matches("rekey already in progress")
    assert vault.rekey_update("sys/rekey", old[0], nonce)["progress"] == 1
    for key, n, fragment in ((old[0], nonce, "already been provided"), (old[1], "wrong", "incorrect nonce")):
        with pytest.raises(VaultError) as err:
            vault.rekey_update("sys/rekey", key, n)
        assert err.value.status == 400 and err.value.matches(fragment)
    done = vault.rekey_update("sys/rekey", vault.b64_shares()[1], nonce)
    assert done["complete"] and done["verification_required"] and len(done["keys_base64"]) == 5
    assert vault.rekey_status("sys/rekey")["verification_nonce"] == done["verification_nonce"]
    assert vault.shape == (3, 2) and vault.unseals(old) and not vault.unseals(done["keys"])
    with pytest.raises(VaultError) as err:
        vault.rekey_update("sys/rekey", old[2], nonce)
    assert err.value.matches("verification must be performed")
    restarted = vault.rekey_verify_restart("sys/rekey")
    assert restarted["nonce"] != done["verification_nonce"] and restarted["progress"] == 0
    for key in done["keys"][:2]:
        assert not vault.rekey_verify("sys/rekey", key, restarted["nonce"]).get("complete")
    assert vault.rekey_verify("sys/rekey", done["keys"][4], restarted["nonce"]) == \
        {"nonce": restarted["nonce"], "complete": True}
    assert vault.shape == (5, 3) and vault.unseals(done["keys_base64"][2:]) and not vault.unseals(old)
    assert vault.rekey_status("sys/rekey")["started"] is False and vault.rekey_verify_status("sys/rekey") is None


def test_fake_vault_cancel_switch_and_faults():
    vault = FakeVault(1, 1)
    old = vault.hex_shares()
    assert vault.rekey_cancel("sys/rekey", "") == {}  # nothing in progress: a no-op
    nonce = vault.rekey_init("sys/rekey", 3, 2)["nonce"]
    with pytest.raises(VaultError) as err:
        vault.rekey_cancel("sys/rekey", "not-" + nonce)
    assert err.value.status == 400 and err.value.matches("invalid request") and vault.in_progress() == nonce
    vault.rekey_cancel("sys/rekey", nonce)
    assert vault.in_progress() is None
    # without verification (PGP and backup) Vault switches at the last current share
    nonce = vault.rekey_init("sys/rekey", 5, 2, pgp_keys=PGP_KEYS, backup=True, require_verification=False)["nonce"]
    vault.cut("rekey_update", "after")
    with pytest.raises(VaultConnectionError):
        vault.rekey_update("sys/rekey", old[0], nonce)
    assert vault.shape == (5, 2) and vault.in_progress() is None and vault.backup["nonce"] == nonce
    assert vault.unseals([decrypt(k) for keys in vault.backup["keys"].values() for k in keys])
    vault.cut("rekey_init", "before")
    with pytest.raises(VaultConnectionError):
        vault.rekey_init("sys/rekey", 3, 2)
    assert vault.in_progress() is None
    assert vault.writes() == ["cancel ", "init 3/2", "cancel not-rekey-1", "cancel rekey-1", "init 5/2", "update",
                              "init 3/2"]
