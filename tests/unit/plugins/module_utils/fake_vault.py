"""In-memory stand-ins for the rekey engine's unit tests: a Vault (the client interface of
``_vault_client.VaultClient`` over a model of Vault's seal and rekey state) and an S3 client for
``_custody.S3Custody``.

FakeVault follows Vault's own rekey code (vault/rekey.go, http/sys_rekey.go):

* ``sys/rekey/init`` POST starts one rekey (400 "rekey already in progress" while one exists) and answers with
  the progress; GET answers ``started``/``nonce``/``t``/``n``/``progress``/``required``/
  ``verification_required``/``verification_nonce``/``pgp_fingerprints``/``backup``.
* ``sys/rekey/update`` takes current shares; at the current threshold it combines them (a wrong share fails
  the whole attempt with 400 and resets the progress) and returns the new shares (hex ``keys`` and
  ``keys_base64``). With verification required Vault keeps the old keys and returns a ``verification_nonce``;
  without it Vault switches at once.
* ``sys/rekey/verify`` takes new shares; at the new threshold Vault switches to the new keys and forgets the rekey.
  DELETE restarts the verification with a new nonce.
* ``sys/rekey/init`` DELETE cancels; a wrong nonce is refused with 400 "invalid request"; nothing in progress is a
  no-op.

Shares are 33 bytes (Vault's 32-byte key plus Shamir's one byte), or the 32-byte key itself with threshold 1, accepted
as hex or base64 like Vault does.
With ``pgp_keys`` a share is "encrypted" into a readable blob that :func:`decrypt` turns back into the hex share.

Fault injection: :meth:`FakeVault.cut` makes the n-th call of a client method raise
:class:`VaultConnectionError` before Vault applied it or after (the answer is lost), as a dropped connection
would. Calls made by "someone else" (``foreign_*``, ``operator_cancels``) go straight to the model and are not
recorded as the engine's calls.
"""
from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import io
import types

from botocore.exceptions import ClientError

from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import (
    API_REKEY,
    API_ROTATE,
    VaultConnectionError,
    VaultError,
)

URL = "https://vault.example:8200"
CLUSTER_ID = "5d0a8a4e-0c1b-4c11-9d2e-000000000001"

#: Client methods that change Vault; everything else only reads.
STATE_CHANGING = ("rekey_init", "rekey_update", "rekey_verify", "rekey_verify_restart", "rekey_cancel")

SHARE_LEN = 33
KEY_MIN, KEY_MAX = 16, 33  # Vault's barrier key length bounds, plus the Shamir overhead

# method -> (HTTP method, path template, action), as VaultClient words them
ROUTES = {
    "seal_status": ("GET", "sys/seal-status", "read seal status"),
    "detect_rekey_api": ("GET", "{api}/init", "read rekey progress"),
    "rekey_status": ("GET", "{api}/init", "read rekey progress"),
    "rekey_verify_status": ("GET", "{api}/verify", "read rekey verification progress"),
    "rekey_init": ("POST", "{api}/init", "start rekey"),
    "rekey_cancel": ("DELETE", "{api}/init", "cancel rekey"),
    "rekey_update": ("POST", "{api}/update", "submit unseal key share to rekey"),
    "rekey_verify": ("POST", "{api}/verify", "submit new key share to rekey verification"),
    "rekey_verify_restart": ("DELETE", "{api}/verify", "restart rekey verification"),
}


def b64(raw):
    return base64.b64encode(raw).decode()


def decode_share(key):
    """The bytes Vault takes from a submitted key: hex when it decodes to a plausible length, else base64."""
    try:
        raw = binascii.unhexlify(key)
        if KEY_MIN <= len(raw) <= KEY_MAX:
            return raw
    except (binascii.Error, ValueError, TypeError):
        pass
    try:
        return base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None


def pgp_fingerprint(pgp_key):
    return hashlib.sha1(pgp_key.encode()).hexdigest()


def encrypt(share, pgp_key):
    return b"pgp-encrypted|" + pgp_fingerprint(pgp_key).encode() + b"|" + share.hex().encode()


def decrypt(encrypted):
    """The hex share inside a share "encrypted" by FakeVault (given as hex or base64, as Vault returns it)."""
    for decode in (binascii.unhexlify, lambda s: base64.b64decode(s, validate=True)):
        try:
            raw = decode(encrypted)
        except (binascii.Error, ValueError):
            continue
        if raw.startswith(b"pgp-encrypted|"):
            return raw.rsplit(b"|", 1)[1].decode()
    raise AssertionError("not a share encrypted by FakeVault: %r" % encrypted)


class Rekey:
    """Vault's rekey configuration (``barrierRekeyConfig``) while a rekey exists."""

    def __init__(self, nonce, shares, threshold, pgp_keys, backup, verification_required, owner):
        self.nonce = nonce
        self.n = shares
        self.t = threshold
        self.pgp_keys = list(pgp_keys or [])
        self.backup = bool(backup)
        self.verification_required = bool(verification_required)
        self.progress = []
        self.verification_nonce = ""
        self.verification_key = None  # the new shares, once generated, while verification is pending
        self.verification_progress = []
        self.owner = owner


class FakeVault:
    """A Shamir-sealed, initialised Vault holding ``shares`` key shares with threshold ``threshold``."""

    def __init__(self, shares=1, threshold=1, sealed=False, api=API_REKEY, token="s.fake-token", url=URL,
                 cluster_id=CLUSTER_ID, initialized=True, seal_type="shamir"):
        self.url = url
        self.client = types.SimpleNamespace(token=token)  # VaultClient.client is the hvac client
        self.api = api
        self.cluster_id = cluster_id
        self.initialized = initialized
        self.seal_type = seal_type
        self.sealed = sealed
        self.n, self.t = shares, threshold
        self.generation = 0
        self.shares = self._new_shares(shares, threshold)
        self.rekey = None
        self.backup = None
        self.issued = {}  # nonce -> the new shares Vault handed out for that rekey (plaintext)
        self.calls = []  # (method, detail) of every client call, in order
        self.secrets = set()
        self.faults = []
        self._counts = {}
        self._nonces = {}

    # ------------------------------------------------------------------ the model

    def _new_shares(self, count, threshold):
        """``count`` shares: with threshold 1 the 32-byte key itself, as Vault hands it out; otherwise Shamir
        shares, one byte longer than the key."""
        self.generation += 1
        return [hashlib.sha256(("%s/%d/%d" % (self.cluster_id, self.generation, i)).encode()).digest()
                + (bytes([i + 1]) if threshold > 1 else b"") for i in range(count)]

    def _nonce(self, kind="rekey"):
        self._nonces[kind] = self._nonces.get(kind, 0) + 1
        return "%s-%d" % (kind, self._nonces[kind])

    def hex_shares(self):
        return [s.hex() for s in self.shares]

    def b64_shares(self):
        return [b64(s) for s in self.shares]

    @property
    def shape(self):
        return self.n, self.t

    def valid_shares(self, keys):
        """How many distinct shares of the current key are among ``keys`` (hex or base64)."""
        return len({decode_share(k) for k in keys or []} & set(self.shares))

    def unseals(self, keys):
        """Whether ``keys`` unseal Vault now: at least ``t`` distinct shares of the current key among them."""
        return self.valid_shares(keys) >= self.t

    def in_progress(self):
        return self.rekey.nonce if self.rekey else None

    def snapshot(self):
        """Everything that a state-changing call could alter."""
        state = {k: v for k, v in vars(self).items() if k not in ("calls", "secrets", "faults", "_counts", "client")}
        state["rekey"] = vars(self.rekey) if self.rekey else None
        return copy.deepcopy(state)

    def _error(self, name, status, message, api=None):
        method, path, action = ROUTES[name]
        path = "/v1/" + path.format(api=api or self.api)
        return VaultError("Failed to %s: HTTP %s from %s %s: %s" % (action, status, method, path, message),
                          status=status, method=method, path=path, errors=[message])

    def _check(self, name, api):
        if api != self.api:
            raise self._error(name, 404, "unsupported path", api)
        if api == API_ROTATE and not self.client.token:
            raise self._error(name, 403, "permission denied", api)
        if self.sealed:
            raise self._error(name, 503, "Vault is sealed", api)

    def _status(self):
        status = {"started": False, "nonce": "", "t": 0, "n": 0, "progress": 0, "required": self.t,
                  "pgp_fingerprints": None, "backup": False, "verification_required": False}
        if self.rekey:
            r = self.rekey
            status.update(started=True, nonce=r.nonce, t=r.t, n=r.n, progress=len(r.progress),
                          verification_required=r.verification_required)
            if r.verification_nonce:
                status["verification_nonce"] = r.verification_nonce
            if r.pgp_keys:
                status.update(pgp_fingerprints=[pgp_fingerprint(k) for k in r.pgp_keys], backup=r.backup)
        return status

    def _verify_status(self):
        r = self.rekey
        return {"nonce": r.verification_nonce, "started": r.verification_key is not None, "t": r.t, "n": r.n,
                "progress": len(r.verification_progress)}

    def _switch(self, new_shares, shares, threshold):
        self.shares = list(new_shares)
        self.n, self.t = shares, threshold
        self.rekey = None

    def _init(self, name, shares, threshold, pgp_keys, backup, require_verification, owner):
        if backup and not pgp_keys:
            raise self._error(name, 400, "cannot request a backup of the new keys without providing PGP keys "
                                         "for encryption")
        if pgp_keys and len(pgp_keys) != shares:
            raise self._error(name, 400, "incorrect number of PGP keys for rekey")
        if threshold > shares:
            raise self._error(name, 400, "provided threshold greater than the total shares")
        if shares > 1 and threshold < 2:
            raise self._error(name, 500, "invalid rekey seal configuration: threshold must be greater than one "
                                         "for multiple shares")
        if self.rekey is not None:
            raise self._error(name, 400, "rekey already in progress")
        self.rekey = Rekey(self._nonce(), shares, threshold, pgp_keys, backup, require_verification, owner)
        return self._status()

    def _update(self, name, key, nonce):
        raw = decode_share(key)
        if raw is None:
            raise self._error(name, 400, "'key' must be a valid hex or base64 string")
        if len(raw) < KEY_MIN:
            raise self._error(name, 400, "key is shorter than minimum %d bytes" % KEY_MIN)
        if len(raw) > KEY_MAX:
            raise self._error(name, 400, "key is longer than maximum %d bytes" % KEY_MAX)
        r = self.rekey
        if r is None:
            raise self._error(name, 400, "no barrier rekey in progress")
        if r.verification_key is not None:
            raise self._error(name, 400, "rekey operation already finished; verification must be performed; "
                                         "nonce for the verification operation is \"%s\"" % r.verification_nonce)
        if nonce != r.nonce:
            raise self._error(name, 400, "incorrect nonce supplied; nonce for this rekey operation is \"%s\""
                              % r.nonce)
        if raw in r.progress:
            raise self._error(name, 400, "given key has already been provided during this generation operation")
        r.progress.append(raw)
        if len(r.progress) < self.t:
            return self._status()
        given, r.progress = r.progress, []
        if not set(given) <= set(self.shares):
            raise self._error(name, 400, "root key verification failed: cipher: message authentication failed")
        new = self._new_shares(r.n, r.t)
        self.issued[r.nonce] = [s.hex() for s in new]
        out = [encrypt(s, k) for s, k in zip(new, r.pgp_keys)] if r.pgp_keys else list(new)
        result = {"nonce": nonce, "complete": True, "keys": [s.hex() for s in out],
                  "keys_base64": [b64(s) for s in out], "pgp_fingerprints": None, "backup": r.backup,
                  "verification_required": r.verification_required}
        if r.pgp_keys:
            result["pgp_fingerprints"] = [pgp_fingerprint(k) for k in r.pgp_keys]
            if r.backup:
                keys = {}
                for fpr, share in zip(result["pgp_fingerprints"], out):
                    keys.setdefault(fpr, []).append(share.hex())
                self.backup = {"nonce": r.nonce, "keys": keys}
        if r.verification_required:
            r.verification_nonce = self._nonce("verify")
            r.verification_key = new
            result["verification_nonce"] = r.verification_nonce
        else:
            self._switch(new, r.n, r.t)
        return result

    def _verify(self, name, key, nonce):
        raw = decode_share(key)
        if raw is None:
            raise self._error(name, 400, "'key' must be a valid hex or base64 string")
        if len(raw) > KEY_MAX:
            raise self._error(name, 400, "key is longer than maximum %d bytes" % KEY_MAX)
        r = self.rekey
        if r is None:
            raise self._error(name, 400, "no rekey in progress")
        if r.verification_key is None:
            raise self._error(name, 400, "no rekey verification in progress")
        if nonce != r.verification_nonce:
            raise self._error(name, 400, "incorrect nonce supplied; nonce for this verify operation is \"%s\""
                              % r.verification_nonce)
        if raw in r.verification_progress:
            raise self._error(name, 400, "given key has already been provided during this verify operation")
        r.verification_progress.append(raw)
        if len(r.verification_progress) < r.t:
            return self._verify_status()
        given, r.verification_progress = r.verification_progress, []
        if not set(given) <= set(r.verification_key):
            r.verification_nonce = self._nonce("verify")
            raise self._error(name, 400, "rekey verification failed; incorrect key shares supplied")
        done = r.verification_nonce
        self._switch(r.verification_key, r.n, r.t)
        return {"nonce": done, "complete": True}

    def _cancel(self, name, nonce):
        if self.rekey is not None and self.rekey.nonce != nonce:
            raise self._error(name, 400, "invalid request")
        self.rekey = None
        return {}

    # ------------------------------------------------------------------ calls and faults

    def cut(self, method, when="before", nth=1):
        """Drop the connection on the ``nth`` call of ``method`` from now on: ``before`` Vault got it, or
        ``after`` Vault applied it (its answer is lost)."""
        assert method in ROUTES and when in ("before", "after") and nth >= 1
        self.faults.append((method, when, self._counts.get(method, 0) + nth))

    def writes(self, since=0):
        """The state-changing calls made since index ``since`` of :attr:`calls`, as short strings."""
        return [detail for name, detail in self.calls[since:] if name in STATE_CHANGING]

    def _call(self, name, detail, apply):
        self.calls.append((name, detail))
        self._counts[name] = self._counts.get(name, 0) + 1
        fault = next((f for f in self.faults if f[0] == name and f[2] == self._counts[name]), None)
        if fault:
            self.faults.remove(fault)
            if fault[1] == "after":
                try:
                    apply()
                except VaultError:
                    pass
            method, path, action = ROUTES[name]
            path = "/v1/" + path.format(api=self.api)
            raise VaultConnectionError("Failed to %s: no answer from %s %s: ConnectionResetError: [Errno 104] "
                                       "Connection reset by peer" % (action, method, path),
                                       method=method, path=path)
        return apply()

    # ------------------------------------------------------------------ the client interface

    def add_secret(self, value):
        if value:
            self.secrets.add(str(value))

    def seal_status(self):
        def apply():
            status = {"type": self.seal_type, "initialized": self.initialized, "sealed": self.sealed,
                      "t": self.t, "n": self.n, "progress": 0, "nonce": "", "version": "1.17.6",
                      "migration": False, "recovery_seal": False, "storage_type": "raft"}
            if not self.sealed:
                status.update(cluster_name="vault-cluster-fake", cluster_id=self.cluster_id)
            return status
        return self._call("seal_status", "seal-status", apply)

    def detect_rekey_api(self):
        return self._call("detect_rekey_api", "detect", lambda: self.api)

    def rekey_status(self, api):
        def apply():
            self._check("rekey_status", api)
            return self._status()
        return self._call("rekey_status", "status", apply)

    def rekey_verify_status(self, api):
        def apply():
            self._check("rekey_verify_status", api)
            if self.rekey is None:
                return None  # VaultClient turns Vault's 400 "no rekey configuration found" into None
            return self._verify_status()
        return self._call("rekey_verify_status", "verify-status", apply)

    def rekey_init(self, api, shares, threshold, pgp_keys=None, backup=False, require_verification=True):
        def apply():
            self._check("rekey_init", api)
            return self._init("rekey_init", shares, threshold, pgp_keys, bool(pgp_keys) and backup,
                              require_verification, owner="engine")
        return self._call("rekey_init", "init %d/%d" % (shares, threshold), apply)

    def rekey_update(self, api, key, nonce):
        self.add_secret(key)

        def apply():
            self._check("rekey_update", api)
            return self._update("rekey_update", key, nonce)
        return self._call("rekey_update", "update", apply)

    def rekey_verify(self, api, key, nonce):
        self.add_secret(key)

        def apply():
            self._check("rekey_verify", api)
            return self._verify("rekey_verify", key, nonce)
        return self._call("rekey_verify", "verify", apply)

    def rekey_verify_restart(self, api):
        def apply():
            self._check("rekey_verify_restart", api)
            if self.rekey is None:
                raise self._error("rekey_verify_restart", 400, "no rekey configuration found")
            self.rekey.verification_progress = []
            self.rekey.verification_nonce = self._nonce("verify")
            return self._verify_status()
        return self._call("rekey_verify_restart", "verify-restart", apply)

    def rekey_cancel(self, api, nonce):
        def apply():
            self._check("rekey_cancel", api)
            return self._cancel("rekey_cancel", nonce)
        return self._call("rekey_cancel", "cancel %s" % nonce, apply)

    # ------------------------------------------------------------------ someone else, at the same Vault

    def foreign_init(self, shares, threshold, pgp_keys=None, backup=False, require_verification=True):
        """Another operator starts a rekey; returns its nonce."""
        self._init("rekey_init", shares, threshold, pgp_keys, backup, require_verification, owner="foreign")
        return self.rekey.nonce

    def foreign_update(self, key):
        """Another operator submits a current share to the rekey in progress; returns Vault's answer."""
        return self._update("rekey_update", key, self.rekey.nonce)

    def operator_cancels(self):
        """Someone cancels the rekey in progress (or Vault restarted and forgot it)."""
        self.rekey = None


# ------------------------------------------------------------------------------------------------ S3


class FakeS3:
    """A versioned S3 bucket (or one without versioning) behind the boto3 client calls S3Custody makes."""

    def __init__(self, bucket="vault-keys", versioning="Enabled"):
        self.bucket = bucket
        self.versioning = versioning
        self.versions = {}  # key -> list of versions, each a dict, or None for a delete marker
        self.calls = []

    def _missing(self, operation, key, head=False):
        error = {"Code": "404", "Message": "Not Found"} if head else \
            {"Code": "NoSuchKey", "Message": "The specified key does not exist.", "Key": key}
        return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 404}}, operation)

    def _bucket(self, bucket, operation):
        if bucket != self.bucket:
            raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"},
                               "ResponseMetadata": {"HTTPStatusCode": 404}}, operation)

    def _latest(self, key):
        versions = self.versions.get(key) or [None]
        return versions[-1]

    def get_object(self, Bucket, Key):
        self.calls.append(("get_object", Key))
        self._bucket(Bucket, "GetObject")
        version = self._latest(Key)
        if version is None:
            raise self._missing("GetObject", Key)
        return {"Body": io.BytesIO(version["Body"]), "ContentType": version["ContentType"],
                "ServerSideEncryption": version["ServerSideEncryption"], "SSEKMSKeyId": version["SSEKMSKeyId"]}

    def head_object(self, Bucket, Key):
        self.calls.append(("head_object", Key))
        self._bucket(Bucket, "HeadObject")
        version = self._latest(Key)
        if version is None:
            raise self._missing("HeadObject", Key, head=True)
        return {"ContentLength": len(version["Body"]), "ServerSideEncryption": version["ServerSideEncryption"],
                "SSEKMSKeyId": version["SSEKMSKeyId"]}

    def put_object(self, Bucket, Key, Body, ContentType=None, ServerSideEncryption=None, SSEKMSKeyId=None):
        self.calls.append(("put_object", Key))
        self._bucket(Bucket, "PutObject")
        version = {"Body": bytes(Body), "ContentType": ContentType, "ServerSideEncryption": ServerSideEncryption,
                   "SSEKMSKeyId": SSEKMSKeyId if ServerSideEncryption == "aws:kms" else None}
        if self.versioning == "Enabled":
            self.versions.setdefault(Key, []).append(version)
        else:
            self.versions[Key] = [version]
        return {"ETag": '"%s"' % hashlib.md5(version["Body"]).hexdigest()}

    def delete_object(self, Bucket, Key):
        self.calls.append(("delete_object", Key))
        self._bucket(Bucket, "DeleteObject")
        if self.versioning == "Enabled":
            self.versions.setdefault(Key, []).append(None)
        else:
            self.versions.pop(Key, None)
        return {}

    def get_bucket_versioning(self, Bucket):
        self.calls.append(("get_bucket_versioning", Bucket))
        self._bucket(Bucket, "GetBucketVersioning")
        return {"Status": self.versioning} if self.versioning else {}

    def live(self):
        """Keys whose latest version is an object (not a delete marker)."""
        return sorted(k for k in self.versions if self._latest(k) is not None)

    def body(self, key):
        version = self._latest(key)
        return None if version is None else version["Body"]
