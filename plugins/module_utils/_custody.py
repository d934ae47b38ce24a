# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where Vault's unseal keys are kept: a local file, or an S3 object (SSE-KMS, versioned bucket).

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore): it is for
the collection's own modules and may change without notice.

A custody holds JSON documents of a few kinds, each with a fixed name derived from one base name:

``keys``      the live keys (``<base>``)
``pending``   new keys waiting for verification (``<base>.pending``)
``state``     the record of a rekey in progress (``<base>.state``, or the module's ``state_file``)
``archive``   a keys document that was replaced (``<base>.<its nonce>``)
``previous``  the unseal keys that were current before rekey N (``<base>.pre-<N>``), so that backups taken
              before the rekey can still be unsealed

Every document is bound to one cluster (``cluster_id``). Nothing is ever overwritten in place without
archiving it first, and a write is read back before the caller goes on.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os
import re

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._files import (
    DocumentError,
    atomic_write_json,
    json_bytes,
    parse_json_document,
    read_json,
    remove,
)
from ansible_collections.ptfe.ops.plugins.module_utils._libraries import optional_import
from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor
from ansible_collections.ptfe.ops.plugins.module_utils._validation import normal_path

fcntl = optional_import("fcntl")[0]  # POSIX only; without it no lock is taken
boto3, BOTO3_IMPORT_ERROR = optional_import("boto3")
botocore_config = optional_import("botocore.config")[0]
botocore_exceptions = optional_import("botocore.exceptions")[0]
HAS_BOTO3 = boto3 is not None and botocore_exceptions is not None


class _NeverRaised(Exception):
    """Stands in for botocore's exception classes when boto3 is missing."""


BotoCoreError = getattr(botocore_exceptions, "BotoCoreError", _NeverRaised)
ClientError = getattr(botocore_exceptions, "ClientError", _NeverRaised)

DOCUMENT_VERSION = 2
KINDS = ("keys", "pending", "state", "archive", "previous")


class CustodyError(OpsError):
    """The keys cannot be kept safely; the message says what to do."""


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(value):
    """A short, non-reversible tag of a secret (to tell two keys apart without showing either)."""
    return hashlib.sha256(str(value).strip().encode()).hexdigest()[:16]


def read_document(read, *args):
    """``read(*args)`` (a reader of ``_files``), with a document that is not one raised as a CustodyError."""
    try:
        return read(*args)
    except DocumentError as exc:
        raise CustodyError(str(exc))


# ------------------------------------------------------------------------------------------- custodies


class Custody:
    """Interface of a keys destination. ``durable`` says whether it outlives the machine that runs the module."""

    kind = ""
    durable = False

    def name(self, kind, nonce=None):
        raise NotImplementedError

    def describe(self, kind="keys", nonce=None):
        return self.name(kind, nonce) or "(nowhere)"

    def read(self, kind, nonce=None):
        raise NotImplementedError

    def write(self, kind, document, nonce=None):
        raise NotImplementedError

    def delete(self, kind, nonce=None):
        raise NotImplementedError

    def stores(self, kind):
        """Whether documents of ``kind`` are kept at all (a PGP-only rekey keeps no keys file)."""
        return True

    def check(self):
        """Problems that make this destination unusable, found without changing anything."""
        return []

    def lock(self):
        """Hold an exclusive lock on the destination for the rest of the process, where one exists."""

    # ---- shared behaviour

    def exists(self, kind, nonce=None):
        return self.read(kind, nonce) is not None

    def archive_keys(self, document):
        """Keep a keys document that is about to be replaced at ``archive`` under its nonce. Idempotent."""
        nonce = document.get("nonce") or "unknown"
        archived = self.read("archive", nonce)
        if archived is not None:
            if archived.get("keys_base64") != document.get("keys_base64"):
                raise CustodyError("Failed to archive the keys at %s: %s already holds other keys; check both "
                                   "by hand" % (self.describe("keys"), self.describe("archive", nonce)))
            return None
        self.write("archive", document, nonce)
        return self.name("archive", nonce)

    def replace_keys(self, document):
        """Make ``document`` the live keys, archiving the keys it replaces. Returns the archive's name or None."""
        current = self.read("keys")
        archived = None
        if current is not None and current.get("nonce") != document.get("nonce"):
            if current.get("cluster_id") != document.get("cluster_id"):
                raise CustodyError(
                    "Refusing to write over %s: it holds the keys of cluster %s, not of %s. Give every Vault "
                    "its own keys destination"
                    % (self.describe("keys"), current.get("cluster_id"), document.get("cluster_id")))
            archived = self.archive_keys(current)
        self.write("keys", document)
        return archived


#: What follows the keys file's name in an archive (``.<nonce>``, ``.pre-<nonce>``; Vault's nonces are UUIDs).
ARCHIVE_SUFFIX_RE = re.compile(r"[.](pre-)?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


class FileCustody(Custody):
    """Documents as files next to ``keys_file`` (mode 0600, written atomically, fsynced)."""

    kind = "file"
    durable = False

    def __init__(self, keys_file, state_file=None):
        self.keys_file = keys_file
        self.state_file = state_file or (keys_file + ".state" if keys_file else None)
        self._lock = None

    def name(self, kind, nonce=None):
        if kind == "state":
            return self.state_file
        if not self.keys_file:
            return None
        return {
            "keys": self.keys_file,
            "pending": self.keys_file + ".pending",
            "archive": "%s.%s" % (self.keys_file, nonce),
            "previous": "%s.pre-%s" % (self.keys_file, nonce),
        }[kind]

    def stores(self, kind):
        return bool(self.name(kind, "x"))

    def read(self, kind, nonce=None):
        return read_document(read_json, self.name(kind, nonce))

    def write(self, kind, document, nonce=None):
        path = self.name(kind, nonce)
        if not path:
            return
        atomic_write_json(path, document)
        if read_document(read_json, path) != json.loads(json_bytes(document)):
            raise CustodyError("Failed to store %s: the file read back differs from what was written" % path)

    def delete(self, kind, nonce=None):
        remove(self.name(kind, nonce))

    def check(self):
        return self._collisions() + self.directory_problems()

    def directory_problems(self):
        """Problems of the directories the files go to (each must exist and be writable)."""
        problems = []
        for option, path in (("keys_file", self.keys_file), ("state_file", self.state_file)):
            if not path:
                continue
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                problems.append("%s: directory %s does not exist" % (option, directory))
            elif not os.access(directory, os.W_OK):
                problems.append("%s: directory %s is not writable" % (option, directory))
            elif os.path.exists(path) and not os.path.isfile(path):
                problems.append("%s: %s exists and is not a regular file" % (option, path))
        return problems

    def _collisions(self):
        """The state file must be none of the files kept beside the keys file (see :func:`path_collisions`)."""
        return path_collisions(self.keys_file, self.state_file)

    def lock(self):
        """An exclusive ``flock`` on ``<keys_file>.lock`` (or the state file's), held until the process ends: two
        runs (two hosts given the same path, or two forks) never work on one keys file at the same time."""
        if fcntl is None or self._lock is not None:
            return
        path = (self.keys_file or self.state_file) + ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise CustodyError(
                    "Refusing to rekey: another run holds %s, so it is working on the same keys file right now. "
                    "Two hosts must never share a keys file; give each its own (the role's default path has the "
                    "inventory host name in it)" % path)
            raise
        self._lock = fd


def path_collisions(keys_file, state_file, keys_name="keys_file", state_name="state_file"):
    """Why ``state_file`` (option ``state_name``) must not be what it is, beside ``keys_file``: it must be none
    of the files kept beside the keys file (the keys, ``.pending``, an archive ``<keys_file>.<nonce>`` or
    ``.pre-<nonce>``, ``.lock``), or the clean-up that removes the state after a rekey would remove the new
    keys with it."""
    if not isinstance(keys_file, str) or not isinstance(state_file, str) or not keys_file.strip() \
            or not state_file.strip():
        return []
    keys, state = normal_path(keys_file), normal_path(state_file)
    if state == keys:
        return ["%s and %s must name different files, both are %s: the state file is removed once a rekey ends, "
                "and the new keys would go with it" % (keys_name, state_name, state_file)]
    suffix = state[len(keys):] if state.startswith(keys + ".") else None
    if suffix in (".pending", ".lock") or (suffix and ARCHIVE_SUFFIX_RE.fullmatch(suffix)):
        return ["%s (%s) must not be one of the files kept beside %s (%s): that name belongs to the keys' "
                "pending copy, an archive or the lock" % (state_name, state_file, keys_name, keys_file)]
    return []


class S3Custody(Custody):
    """Documents as objects in a versioned S3 bucket, each written with SSE-KMS and read back."""

    kind = "s3"
    durable = True

    def __init__(self, bucket, key, kms_key_id=None, state_key=None, client=None, region=None, endpoint_url=None,
                 profile=None, ca_bundle=None, redactor=None):
        self.bucket = bucket
        self.redactor = redactor if redactor is not None else Redactor()
        self.key = key.lstrip("/")
        self.state_key = state_key
        self.kms_key_id = kms_key_id or None
        if client is None:
            if not HAS_BOTO3:
                raise CustodyError("Failed to import boto3: %s" % BOTO3_IMPORT_ERROR)
            try:
                session = boto3.session.Session(profile_name=profile or None, region_name=region or None)
            except botocore_exceptions.ProfileNotFound:
                raise CustodyError("s3_profile %s is not an AWS profile of the machine that runs the module (see "
                                   "~/.aws/config); nothing was changed" % profile)
            client = session.client("s3", endpoint_url=endpoint_url or None, verify=ca_bundle or None,
                                    config=botocore_config.Config(retries={"max_attempts": 5, "mode": "standard"},
                                                                  connect_timeout=10, read_timeout=30))
        self.client = client

    def name(self, kind, nonce=None):
        return "s3://%s/%s" % (self.bucket, self.object_key(kind, nonce))

    def object_key(self, kind, nonce=None):
        if kind == "state" and self.state_key:
            return self.state_key.lstrip("/")
        return {
            "keys": self.key,
            "pending": self.key + ".pending",
            "state": self.key + ".state",
            "archive": "%s.%s" % (self.key, nonce),
            "previous": "%s.pre-%s" % (self.key, nonce),
        }[kind]

    def _detail(self, exc):
        """What went wrong with an S3 call, redacted: S3's error code and message, or the exception."""
        detail = str(exc)
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            detail = "%s: %s" % (err.get("Code"), err.get("Message"))
        return self.redactor(detail)

    def _fail(self, action, kind, nonce, exc):
        raise CustodyError("Failed to %s %s: %s" % (action, self.name(kind, nonce), self._detail(exc)))

    def read(self, kind, nonce=None):
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(kind, nonce))
            raw = response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            self._fail("read", kind, nonce, exc)
        except BotoCoreError as exc:
            self._fail("read", kind, nonce, exc)
        return read_document(parse_json_document, raw, self.name(kind, nonce))

    def write(self, kind, document, nonce=None):
        body = json_bytes(document)
        extra = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        key = self.object_key(kind, nonce)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", **extra)
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            back = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            self._fail("store", kind, nonce, exc)
        if head.get("ServerSideEncryption") != "aws:kms":
            raise CustodyError("Failed to store %s with SSE-KMS: the object reports encryption %r"
                               % (self.name(kind, nonce), head.get("ServerSideEncryption")))
        if back != body:
            raise CustodyError("Failed to store %s: the object read back differs from what was written"
                               % self.name(kind, nonce))

    def delete(self, kind, nonce=None):
        # Versioned bucket: this only adds a delete marker; earlier versions stay.
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(kind, nonce))
        except (ClientError, BotoCoreError) as exc:
            self._fail("delete", kind, nonce, exc)

    def check(self):
        try:
            status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except (ClientError, BotoCoreError) as exc:
            return ["s3_bucket: cannot read the versioning of bucket %s (%s)" % (self.bucket, self._detail(exc))]
        if status != "Enabled":
            return ["s3_bucket: bucket %s does not have versioning enabled (status %s); without it an overwrite "
                    "would lose the keys it replaces" % (self.bucket, status or "never enabled")]
        return []


def custody_from_params(params, redactor=None):
    """The custody the module options describe; S3 error messages pass through ``redactor``."""
    if params.get("custody") == "s3":
        return S3Custody(params["s3_bucket"], params["s3_object"], kms_key_id=params.get("s3_kms_key_id"),
                         state_key=None, region=params.get("s3_region"),
                         endpoint_url=params.get("s3_endpoint_url"), profile=params.get("s3_profile"),
                         ca_bundle=params.get("s3_ca_bundle"), redactor=redactor)
    return FileCustody(params.get("keys_file"), params.get("state_file"))


def custody_argument_spec():
    """Options that choose the keys destination (see doc fragment ptfe.ops.custody)."""
    return dict(
        custody=dict(type="str", default="file", choices=["file", "s3"]),
        keys_file=dict(type="path"),
        state_file=dict(type="path"),
        s3_bucket=dict(type="str"),
        s3_object=dict(type="str"),
        s3_kms_key_id=dict(type="str", no_log=False),
        s3_region=dict(type="str"),
        s3_endpoint_url=dict(type="str"),
        s3_profile=dict(type="str"),
        s3_ca_bundle=dict(type="path"),
    )


def custody_errors(params, keys_file_optional=False):
    """Input rules of the custody options, checked before any network call."""
    errors = []
    if params.get("custody") == "s3":
        for option in ("s3_bucket", "s3_object"):
            if not params.get(option):
                errors.append("%s is required when custody=s3" % option)
        for option in ("keys_file", "state_file"):
            if params.get(option):
                errors.append("%s is only used with custody=file; with custody=s3 every document is kept next to "
                              "s3_object" % option)
        if params.get("s3_object") and params["s3_object"].endswith("/"):
            errors.append("s3_object must name an object, not a prefix ending in /")
    else:
        for option in ("s3_bucket", "s3_object", "s3_kms_key_id"):
            if params.get(option):
                errors.append("%s is only used with custody=s3" % option)
        if not params.get("keys_file") and not keys_file_optional:
            errors.append("keys_file is required with custody=file")
    return errors


#: An S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-', beginning and ending with a letter or digit.
BUCKET_RE = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
#: A KMS key: its ID, its ARN, an alias (``alias/name``) or an alias ARN.
KMS_KEY_RE = r"[A-Za-z0-9][A-Za-z0-9:/_.+=@-]*"
#: An AWS region name (``eu-west-1``, ``us-gov-west-1``, ``cn-north-1``).
REGION_RE = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
#: An AWS profile name as ~/.aws/config holds it.
PROFILE_RE = r"[A-Za-z0-9_.+@-]+"
#: S3's limit on the length of an object key.
MAX_OBJECT_KEY = 1024


def check_custody(check, prefix="", allow_insecure=False):
    """Check the custody options' values with ``check`` (a ``_validation.Checker``), each read as
    ``prefix + option``: a role's variables carry the module's option names behind a prefix.

    Paths are absolute and name a file, and the keys file, the state file and the CA bundles are all different
    files (the state file none of the keys file's companions either); the bucket, the object, the KMS key,
    the region and the profile are in their own syntax; the endpoint is an https URL (http only with
    ``allow_insecure``) without user-info or a path. Which options go together is :func:`custody_errors`."""
    names = dict((option, prefix + option) for option in (
        "keys_file", "state_file", "ca_cert", "s3_bucket", "s3_object", "s3_kms_key_id", "s3_region",
        "s3_endpoint_url", "s3_profile", "s3_ca_bundle"))
    for option in ("keys_file", "state_file", "s3_ca_bundle"):
        check.path(names[option])
    check.text(names["s3_bucket"], pattern=BUCKET_RE,
               rule="an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-')")
    check.text(names["s3_object"], allow_space=False, max_length=MAX_OBJECT_KEY)
    check.text(names["s3_kms_key_id"], pattern=KMS_KEY_RE, rule="a KMS key ID, key ARN, alias/<name> or alias ARN")
    check.text(names["s3_region"], pattern=REGION_RE, rule="an AWS region name such as eu-west-1")
    check.url(names["s3_endpoint_url"], allow_insecure=allow_insecure)
    check.token(names["s3_profile"], pattern=PROFILE_RE,
                rule="an AWS profile name (letters, digits, '_', '.', '+', '@' and '-')")
    for option in ("keys_file", "state_file"):
        for bundle in ("ca_cert", "s3_ca_bundle"):
            check.distinct_paths(names[option], names[bundle])
    check.problems.extend(path_collisions(check.params.get(names["keys_file"]), check.params.get(names["state_file"]),
                                          names["keys_file"], names["state_file"]))
