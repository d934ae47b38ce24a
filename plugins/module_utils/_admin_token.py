# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the first admin's API token is kept beyond the machine that runs the module.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore): it is for
the collection's own modules and may change without notice.

With ``custody=file`` the token lives in ``token_file`` alone (mode 0600). With ``custody=s3`` it is also kept
as a JSON document in a versioned bucket under SSE-KMS, written and read back by the keys' own
:class:`~_custody.S3Custody`; with ``custody=vault_kv`` it is the same document as a secret of a Vault KV
engine (:class:`VaultKvStore`, version 2 written with check-and-set), so that a run in a fresh container (an
AWX job) finds it. The document is bound to one installation (its address): a document of another
installation is never read as this one's token, nor written over.
"""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import quote, urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.ptfe.ops.plugins.module_utils._custody import (
    CustodyError,
    S3Custody,
    check_custody,
    custody_argument_spec,
    custody_errors,
    now,
)
from ansible_collections.ptfe.ops.plugins.module_utils._files import json_bytes
from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor
from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_space_or_control
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import (
    NAMESPACE_RE,
    VaultClient,
    VaultError,
)

#: What the ``kind`` field of a token document says.
DOCUMENT_KIND = "ptfe-admin-token"
DOCUMENT_VERSION = 1


#: The options of ``custody=vault_kv`` that fall back to an environment variable (those of the Vault CLI, which
#: the collection's Vault credential type injects), with the variable.
VAULT_ENV = {"vault_url": "VAULT_ADDR", "vault_token": "VAULT_TOKEN", "vault_namespace": "VAULT_NAMESPACE",
             "vault_ca_path": "VAULT_CACERT"}
#: The defaults of the ``custody=vault_kv`` options that have one.
VAULT_DEFAULTS = {"vault_kv_mount": "secret", "vault_kv_version": 2}
VAULT_OPTIONS = ("vault_url", "vault_token", "vault_namespace", "vault_ca_path", "vault_kv_mount", "vault_kv_path",
                 "vault_kv_version")
S3_OPTIONS = ("s3_bucket", "s3_object", "s3_kms_key_id", "s3_region", "s3_endpoint_url", "s3_profile", "s3_ca_bundle")
#: A KV mount or secret path: parts of letters, digits and ``_ - . @ + =``, separated by ``/``.
KV_PATH_RE = r"[A-Za-z0-9_.@+=-]+(?:/[A-Za-z0-9_.@+=-]+)*"
KV_PATH_RULE = "a path of parts made of letters, digits, '_', '-', '.', '@', '+' and '=', separated by '/'"
#: Statuses of a Vault answer worth asking again (rate limited, a standby or a node that is still starting).
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
#: What the KV custody sends again after a transient failure: reads, the version 2 write (check-and-set makes a
#: repeated write that Vault had already taken a refusal, recognised by reading back) and the version 1 write
#: (the same document again).
RETRY_METHODS = frozenset(("GET", "POST", "PUT"))


def token_custody_argument_spec():
    """The custody options without the keys' own files, and those of ``custody=vault_kv`` (see doc fragments
    ptfe.ops.admin_token and ptfe.ops.admin_token_vault_kv)."""
    spec = custody_argument_spec()
    del spec["keys_file"]
    del spec["state_file"]
    spec["custody"]["choices"] = ["file", "s3", "vault_kv"]
    spec.update(
        vault_url=dict(type="str", fallback=(env_fallback, [VAULT_ENV["vault_url"]])),
        vault_token=dict(type="str", no_log=True, fallback=(env_fallback, [VAULT_ENV["vault_token"]])),
        vault_namespace=dict(type="str", fallback=(env_fallback, [VAULT_ENV["vault_namespace"]])),
        vault_ca_path=dict(type="path", fallback=(env_fallback, [VAULT_ENV["vault_ca_path"]])),
        vault_kv_mount=dict(type="str", default=VAULT_DEFAULTS["vault_kv_mount"]),
        vault_kv_path=dict(type="str", no_log=False),
        vault_kv_version=dict(type="int", default=VAULT_DEFAULTS["vault_kv_version"], choices=[1, 2]),
    )
    return spec


def given_vault_options(params, environ=None):
    """The ``vault_*`` options the caller set: a value its environment variable gave (an AWX job with the Vault
    credential has VAULT_ADDR set whatever the custody) and a default are not the caller's choice."""
    environ = os.environ if environ is None else environ
    given = []
    for option in VAULT_OPTIONS:
        value = params.get(option)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if option in VAULT_ENV and value == environ.get(VAULT_ENV[option]):
            continue
        if option in VAULT_DEFAULTS and value == VAULT_DEFAULTS[option]:
            continue
        given.append(option)
    return given


def check_kv_path(check, name):
    """A KV mount or secret path: no control characters, no white space, no ``.`` or ``..`` part, no empty part."""
    value = check.text(name, allow_space=False)
    if value is None:
        return None
    parts = value.strip("/").split("/")
    if "." in parts or ".." in parts:
        check.add("%s must be a path without '.' or '..' parts, got %r" % (name, value))
        return None
    if not re.fullmatch(KV_PATH_RE, value.strip("/")):
        check.add("%s must be %s, got %r" % (name, KV_PATH_RULE, value))
        return None
    return value.strip("/")


def vault_kv_errors(params, environ=None):
    """Which options go together with ``custody=vault_kv``, and that no ``vault_*`` option comes without it."""
    errors = []
    custody = params.get("custody") or "file"
    given = given_vault_options(params, environ)
    if custody == "vault_kv":
        for option in S3_OPTIONS:
            if params.get(option):
                errors.append("%s is only used with custody=s3, not with custody=vault_kv (the token is kept at "
                              "vault_kv_path); give the options of one custody only" % option)
        if not params.get("vault_kv_path"):
            errors.append("vault_kv_path is required when custody=vault_kv")
        if not params.get("vault_url"):
            errors.append("vault_url is required when custody=vault_kv (or VAULT_ADDR in the environment)")
        if not params.get("vault_token"):
            errors.append("vault_token is required when custody=vault_kv (or VAULT_TOKEN in the environment)")
    else:
        for option in given:
            errors.append("%s is only used with custody=vault_kv, not with custody=%s; give the options of one "
                          "custody only" % (option, custody))
    return errors


def check_vault_kv(check):
    """The values of the ``custody=vault_kv`` options: an https URL of the server only, an absolute CA path, a token
    without white space, a namespace path, and a mount and secret path without ``.``/``..`` parts."""
    check.url("vault_url")
    check.path("vault_ca_path")
    check.token("vault_token")
    namespace = check.text("vault_namespace", pattern=NAMESPACE_RE,
                           rule="a namespace path (letters, digits, '_', '-' and '.', parts separated by '/')")
    if namespace and set(namespace.rstrip("/").split("/")) & {".", ".."}:
        check.add("vault_namespace must be a namespace path without '.' or '..' parts, got %r" % namespace)
    check_kv_path(check, "vault_kv_mount")
    check_kv_path(check, "vault_kv_path")
    version = check.params.get("vault_kv_version")
    if version is not None and version not in (1, 2):
        check.add("vault_kv_version must be 1 or 2, got %r" % (version,))


def check_token_custody(check, environ=None):
    """Every input rule of the custody options (values, and which go together), with ``check``. ``environ``
    (``os.environ`` by default) tells a ``vault_*`` value the environment gave from one the caller set."""
    check_custody(check)
    if check.params.get("custody") == "vault_kv":
        check_vault_kv(check)
    else:
        check.problems.extend(custody_errors(check.params, keys_file_optional=True))
    check.problems.extend(vault_kv_errors(check.params, environ))


def installation(address):
    """The installation an address names, as the token document records it: scheme and host in lower case, the
    default scheme https, no trailing slash."""
    address = (address or "").strip()
    if "://" not in address:
        address = "https://" + address
    parts = urlsplit(address)
    return "%s://%s%s" % (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"))


class VaultKvStore:
    """The token document as one secret of a Vault (or OpenBao) KV secrets engine, version 1 or 2, through the
    collection's :class:`~_vault_client.VaultClient` (hvac's session, redirects not followed, typed errors).

    Reads and writes are retried, bounded by ``max_retries`` with a doubling pause, on a lost connection and on
    HTTP 429 and 5xx. On version 2 a write carries check-and-set (``cas``) with the version this run read: a
    write of another run in between is refused by Vault, never overwritten; a retried write that Vault had
    already taken is recognised by reading the secret back. Every write is read back."""

    def __init__(self, params, redactor=None, client=None, sleep=time.sleep):
        self.redactor = redactor if redactor is not None else Redactor()
        self.mount = params.get("vault_kv_mount", "secret").strip("/")
        self.path = params["vault_kv_path"].strip("/")
        self.kv_version = int(params.get("vault_kv_version") or 2)
        max_retries = max(0, int(params.get("max_retries") if params.get("max_retries") is not None else 3))
        #: What the last read found: whether the secret exists and (version 2) its current version.
        self.exists = False
        self.version = 0
        if client is None:
            client = VaultClient(params["vault_url"], token=params.get("vault_token"),
                                 ca_cert=params.get("vault_ca_path"), namespace=params.get("vault_namespace"),
                                 timeout=params.get("timeout") or 30, max_retries=max_retries, sleep=sleep,
                                 redactor=self.redactor, retry_statuses=RETRY_STATUSES, retry_methods=RETRY_METHODS)
        self.client = client

    def describe(self):
        return "vault-kv://%s/%s" % (self.mount, self.path)

    def api_path(self, kind="data"):
        """The path of the secret in Vault's API (``<mount>/data/<path>`` on version 2)."""
        path = quote(self.path, safe="/@+=")
        if self.kv_version == 2:
            return "%s/%s/%s" % (self.mount, kind, path)
        return "%s/%s" % (self.mount, path)

    def _request(self, method, action, path=None, body=None, missing_ok=False):
        """Send one request (the client retries what is transient); ``(status, data)``, or None when the secret
        does not exist and ``missing_ok``. A failure is a CustodyError naming the secret."""
        path = path or self.api_path()
        try:
            return self.client.request(method, path, action, body=body, ok=(200, 204))
        except VaultError as exc:
            if exc.status == 404 and missing_ok and not exc.matches("no handler for route"):
                return None
            raise self._error(exc, method, path)

    def _error(self, exc, method, path):
        """``exc`` as a CustodyError that says what to do."""
        hint = ""
        if exc.status == 403:
            need = "read" if method == "GET" else "create and update"
            hint = (". The Vault token lacks a policy that allows %s on %s (the secret %s): add one, for example "
                    "path \"%s\" { capabilities = [\"read\", \"create\", \"update\"] }"
                    % (need, path, self.describe(), path))
        elif exc.status == 404 or exc.matches("no handler for route"):
            hint = (". Is a KV version %d secrets engine mounted at %s/ (vault_kv_mount, vault_kv_version)?"
                    % (self.kv_version, self.mount))
        elif exc.status == 400 and exc.matches("invalid path for a versioned k/v"):
            hint = ". The engine at %s/ is KV version 2: set vault_kv_version 2" % self.mount
        error = CustodyError(self.redactor(str(exc) + hint))
        error.check_and_set = exc.status == 400 and exc.matches("check-and-set")
        return error

    def _read(self):
        """The secret's data as stored, or None; notes whether it exists and its version."""
        response = self._request("GET", "read the admin token at %s" % self.describe(), missing_ok=True)
        self.exists = response is not None
        self.version = 0
        if response is None:
            if self.kv_version == 2:
                self.version = self._current_version()
            return None
        data = response[1]
        if self.kv_version == 2:
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            self.version = int(metadata.get("version") or 0)
            data = data.get("data")
        if not isinstance(data, dict):
            raise CustodyError("Refusing to use %s: it holds no JSON object (vault_kv_version %d)"
                               % (self.describe(), self.kv_version))
        return data

    def _current_version(self):
        """Version 2: the version of a secret whose last version was deleted (Vault answers 404 for it), which a
        check-and-set write must name; 0 when there is none or its metadata may not be read."""
        try:
            response = self.client.request("GET", self.api_path("metadata"),
                                           "read the metadata of %s" % self.describe())
        except VaultError:
            return 0
        return int((response[1] or {}).get("current_version") or 0)

    def read(self):
        return self._read()

    def check(self):
        """Whether the Vault token may write the secret, asked without writing (``sys/capabilities-self``). When
        Vault does not answer that, nothing is known and the write itself tells."""
        path = self.api_path()
        need = "update" if self.exists else "create"
        try:
            data = self.client.request("POST", "sys/capabilities-self", "read the Vault token's capabilities",
                                       body={"paths": [path]})[1]
        except VaultError:
            return []
        capabilities = data.get(path) or data.get("capabilities") or []
        if "root" in capabilities or need in capabilities:
            return []
        return ["the Vault token may not %s %s (its capabilities on %s: %s); give it a policy with \"%s\" on "
                "path \"%s\"" % (need, self.describe(), path, ", ".join(capabilities) or "none", need, path)]

    def write(self, document):
        """Store ``document`` and read it back; on version 2 with check-and-set on the version last read."""
        expected = json.loads(json_bytes(document))
        action = "store the admin token at %s" % self.describe()
        if self.kv_version == 2:
            cas = self.version
            try:
                self._request("POST", action, body={"options": {"cas": cas}, "data": document})
            except CustodyError as exc:
                # A write that Vault took before its answer was lost comes back as a check-and-set refusal.
                if not getattr(exc, "check_and_set", False):
                    raise
                if self._read() != expected:
                    raise CustodyError(
                        "Failed to store the admin token at %s: the secret changed after this run read it "
                        "(check-and-set on version %d refused the write; it is at version %d now): another run may "
                        "have written it at the same time, and nothing was overwritten. Run again: the next run "
                        "reads the stored token" % (self.describe(), cas, self.version))
        else:
            self._request("PUT", action, body=document)
        if self._read() != expected:
            raise CustodyError("Failed to store the admin token at %s: the secret read back differs from what was "
                               "written" % self.describe())


class TokenCustody:
    """The durable copy of the admin token (``custody=s3`` in ``s3``, ``custody=vault_kv`` in ``kv``); with
    ``custody=file`` there is none (``durable`` is false and every method is a no-op)."""

    def __init__(self, params, redactor=None):
        self.redactor = redactor if redactor is not None else Redactor()
        self.installation = installation(params.get("address"))
        self.s3 = None
        self.kv = None
        if params.get("custody") == "s3":
            self.s3 = S3Custody(params["s3_bucket"], params["s3_object"], kms_key_id=params.get("s3_kms_key_id"),
                                region=params.get("s3_region"), endpoint_url=params.get("s3_endpoint_url"),
                                profile=params.get("s3_profile"), ca_bundle=params.get("s3_ca_bundle"),
                                redactor=redactor)
        elif params.get("custody") == "vault_kv":
            self.kv = VaultKvStore(params, self.redactor)

    @property
    def durable(self):
        return self.s3 is not None or self.kv is not None

    @property
    def option(self):
        """The option that names the document's place."""
        return "vault_kv_path" if self.kv is not None else "s3_object"

    @property
    def how(self):
        """How the document is kept, in words."""
        if self.kv is not None:
            return "KV version %d%s, read back" % (self.kv.kv_version,
                                                   ", check-and-set" if self.kv.kv_version == 2 else "")
        return "SSE-KMS, read back"

    def describe(self):
        if self.s3:
            return self.s3.describe("keys")
        return self.kv.describe() if self.kv else "(nowhere)"

    def read(self):
        """The token document of this installation, or None when there is none. CustodyError when the place
        holds something else, or the token of another installation."""
        if self.s3 is not None:
            doc = self.s3.read("keys")
        elif self.kv is not None:
            doc = self.kv.read()
        else:
            return None
        if doc is None:
            return None
        token = doc.get("token")
        if doc.get("kind") != DOCUMENT_KIND or not isinstance(token, str) or not token.strip() \
                or has_space_or_control(token.strip()):
            raise CustodyError("Refusing to use %s: it is not an admin token document as ptfe.ops.ptfe_initial_admin "
                               "writes it. Give the admin token a place of its own (%s)"
                               % (self.describe(), self.option))
        self.redactor.add(token)
        if doc.get("installation") != self.installation:
            raise CustodyError(
                "Refusing to use %s: it holds the admin token of the installation at %s, not of %s. Give every "
                "installation its own %s" % (self.describe(), doc.get("installation"), self.installation,
                                             self.option))
        return doc

    def problems(self):
        """Why the token could not be stored (versioning off, bucket unreadable, no write policy), found without
        writing."""
        if self.s3:
            return self.s3.check()
        return self.kv.check() if self.kv else []

    def write(self, token, user=None):
        """Store ``token`` as this installation's; the document is read back. Refuses to replace a document of
        another installation (:meth:`read` raises)."""
        if not self.durable:
            return
        self.redactor.add(token)
        self.read()
        problems = self.problems()
        if problems:
            raise CustodyError("Failed to store the admin token in %s: %s" % (self.describe(), "; ".join(problems)))
        user = user or {}
        document = {
            "kind": DOCUMENT_KIND,
            "version": DOCUMENT_VERSION,
            "installation": self.installation,
            "username": user.get("username"),
            "user_id": user.get("id"),
            "stored_at": now(),
            "token": token,
        }
        if self.s3:
            self.s3.write("keys", document)
        else:
            self.kv.write(document)
