# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A thin layer over hvac for the Vault system API (seal status, rekey / root-key rotation).

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

Design, in short:

* hvac builds the session (TLS verification, ``X-Vault-Token``, ``X-Vault-Namespace``,
  ``X-Vault-Request``); this file sends the requests through hvac's raw adapter so that it sees every
  status code itself and can send what hvac cannot (the cancel nonce, OpenBao's ``sys/rotate/root/*``).
* Retries: only safe reads (GET) are retried, on connection errors and on HTTP 502/504. A rekey
  ``init``, ``update``, ``verify`` submission or a cancel is sent exactly once: if the connection drops
  the outcome is unknown and the caller must read the state back before doing anything else.
* Typed errors. Nothing here calls ``fail_json``; the module base turns a :class:`VaultError` into one
  message ``Failed to <action> <resource>: HTTP <status> from <METHOD> <path>: <detail>``. Messages pass
  through the client's ``redactor`` (shared with the module), which knows the token and every key share
  registered with :meth:`VaultClient.add_secret`.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._http import describe, http_argument_spec, requests
from ansible_collections.ptfe.ops.plugins.module_utils._libraries import optional_import
from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor

hvac, HVAC_IMPORT_ERROR = optional_import("hvac")
hvac_adapters = optional_import("hvac.adapters")[0]
HAS_HVAC = hvac is not None and hvac_adapters is not None

SAFE_METHODS = frozenset(("GET", "HEAD"))
RETRY_STATUSES = frozenset((502, 504))
MAX_BACKOFF = 10.0

#: The two families of unseal-key rotation endpoints.
API_REKEY = "sys/rekey"
API_ROTATE = "sys/rotate/root"


def vault_argument_spec():
    """The connection options shared by every vault_* module (doc fragment ptfe.ops.vault)."""
    spec = dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["VAULT_ADDR"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_TOKEN"])),
        ca_cert=dict(type="path", fallback=(env_fallback, ["VAULT_CACERT"])),
        namespace=dict(type="str", fallback=(env_fallback, ["VAULT_NAMESPACE"])),
        allow_insecure_http=dict(type="bool", default=False),
        max_retries=dict(type="int", default=3),
    )
    spec.update(http_argument_spec())
    return spec


#: A Vault Enterprise namespace path (``team-a``, ``team-a/child/``).
NAMESPACE_RE = r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/?"


def check_connection(check, prefix="", allow_insecure=False):
    """Check the connection options' values with ``check`` (a ``_validation.Checker``), each read as
    ``prefix + option`` (a role's variables carry the module's option names behind a prefix): ``url`` is an
    https URL (http only with ``allow_insecure``) without user-info or a path, ``ca_cert`` an absolute path,
    ``namespace`` a namespace path. The module base checks ``token``, ``timeout`` and ``max_retries``."""
    check.url(prefix + "url", allow_insecure=allow_insecure)
    check.path(prefix + "ca_cert")
    namespace = check.text(prefix + "namespace", pattern=NAMESPACE_RE,
                           rule="a namespace path (letters, digits, '_', '-' and '.', parts separated by '/')")
    if namespace and set(namespace.rstrip("/").split("/")) & {".", ".."}:
        check.add("%s must be a namespace path without '.' or '..' parts, got %r" % (prefix + "namespace", namespace))


class VaultError(OpsError):
    """Any failure talking to Vault. ``str()`` is the one-line message a module shows."""

    def __init__(self, message, status=None, method=None, path=None, errors=None):
        super().__init__(message)
        self.status = status
        self.method = method
        self.path = path
        self.errors = list(errors or [])

    def matches(self, *fragments):
        """True when any of Vault's error strings contains one of ``fragments`` (case-insensitive)."""
        text = " ".join(self.errors).lower()
        return any(f.lower() in text for f in fragments)


class VaultConnectionError(VaultError):
    """The request may or may not have reached Vault (connection refused, reset, timed out)."""


class VaultClient:
    """Vault system API over hvac. ``params`` are the module's connection options."""

    def __init__(self, url, token=None, ca_cert=None, namespace=None, validate_certs=True, timeout=30,
                 max_retries=3, sleep=time.sleep, allow_insecure_http=False, redactor=None,
                 retry_statuses=RETRY_STATUSES, retry_methods=SAFE_METHODS):
        if not HAS_HVAC:
            raise VaultError("Failed to import hvac: %s" % HVAC_IMPORT_ERROR)
        check_url(url, allow_insecure_http)
        verify = ca_cert if (validate_certs and ca_cert) else bool(validate_certs)
        self.url = url.rstrip("/")
        self.max_retries = max(0, int(max_retries))
        #: The answers worth asking again, and the methods that may be sent again: by default only reads, on a
        #: gateway's 502 and 504. A caller whose writes are safe to repeat (check-and-set, read back) widens them.
        self.retry_statuses = frozenset(retry_statuses)
        self.retry_methods = frozenset(method.upper() for method in retry_methods)
        self._sleep = sleep
        #: Every secret this client sends is added here; messages pass through it.
        self.redactor = redactor if redactor is not None else Redactor()
        self.add_secret(token)
        # token "" rather than None: given None, hvac reads VAULT_TOKEN and then ~/.vault-token of whoever runs
        # the module (root's, on a host) and sends that. Redirects are not followed: requests would resend the
        # X-Vault-Token header and the body (a key share) to wherever the Location points.
        self.client = hvac.Client(url=self.url, token=token or "", verify=verify, timeout=timeout,
                                  namespace=namespace or None, adapter=hvac_adapters.RawAdapter,
                                  allow_redirects=False)

    @classmethod
    def from_params(cls, params, redactor=None):
        """Build a client from the options of :func:`vault_argument_spec`."""
        return cls(url=params["url"], token=params.get("token"), ca_cert=params.get("ca_cert"),
                   namespace=params.get("namespace"), validate_certs=params.get("validate_certs", True),
                   timeout=params.get("timeout", 30), max_retries=params.get("max_retries", 3),
                   allow_insecure_http=params.get("allow_insecure_http", False), redactor=redactor)

    def add_secret(self, value):
        """Register a value that must never appear in an error message."""
        self.redactor.add(value)

    # ---------------------------------------------------------------- transport

    def request(self, method, path, action, body=None, ok=(200, 204)):
        """Send one request; return ``(status, data)`` where data is the JSON body (unwrapped from
        ``data`` for logical-router answers) or ``{}``. Raise :class:`VaultError` on other statuses."""
        method = method.upper()
        url = "/v1/" + path.lstrip("/")
        attempts = self.max_retries + 1 if method in self.retry_methods else 1
        delay = 0.5
        for attempt in range(attempts):
            try:
                kwargs = {}
                if body is not None:
                    kwargs["json"] = body
                response = self.client.adapter.request(method, url, raise_exception=False, **kwargs)
            except Exception as exc:  # requests' ConnectionError, Timeout, SSLError ...
                if attempt + 1 < attempts and not _is_tls_error(exc):
                    self._sleep(min(delay, MAX_BACKOFF))
                    delay *= 2
                    continue
                raise VaultConnectionError(
                    self.redactor("Failed to %s: no answer from %s %s: %s" % (action, method, url, describe(exc))),
                    method=method, path=url)
            status = response.status_code
            if status in self.retry_statuses and attempt + 1 < attempts:
                self._sleep(min(delay, MAX_BACKOFF))
                delay *= 2
                continue
            if 300 <= status < 400:
                target = urlsplit(response.headers.get("Location") or "")
                where = "%s://%s" % (target.scheme, target.netloc) if target.netloc else (target.path or "nowhere")
                raise VaultError(
                    self.redactor("Failed to %s: HTTP %s from %s %s: a redirect to %s, not followed: it would carry "
                                  "the token and any key share there. Set url to the node that answers itself (the "
                                  "active node)." % (action, status, method, url, where)),
                    status=status, method=method, path=url)
            data, errors = _parse(response)
            if status in ok:
                return status, data
            detail = "; ".join(errors) if errors else (response.text or "").strip()[:300] or "(empty body)"
            raise VaultError(
                self.redactor("Failed to %s: HTTP %s from %s %s: %s" % (action, status, method, url, detail)),
                status=status, method=method, path=url, errors=[self.redactor(e) for e in errors])
        raise VaultError("Failed to %s: retries exhausted" % action)  # pragma: no cover

    # ---------------------------------------------------------------- seal

    def seal_status(self):
        return self.request("GET", "sys/seal-status", "read seal status")[1]

    # ---------------------------------------------------------------- rekey / rotate root

    def detect_rekey_api(self):
        """Return :data:`API_REKEY` when Vault's unauthenticated ``sys/rekey/*`` answers, otherwise
        :data:`API_ROTATE` when OpenBao's authenticated ``sys/rotate/root/*`` does. OpenBao (2.4+) answers
        ``sys/rekey/*`` with 405 "unsupported operation" unless its listener sets
        ``disable_unauthed_rekey_endpoints = false``."""
        try:
            self.request("GET", API_REKEY + "/init", "read rekey progress")
            return API_REKEY
        except VaultError as exc:
            if exc.status not in (404, 405) and not exc.matches("unsupported operation", "unsupported path"):
                raise
            first = exc
        try:
            self.request("GET", API_ROTATE + "/init", "read root key rotation progress")
        except VaultError as exc:
            if exc.status in (404, 405):
                raise first
            raise
        return API_ROTATE

    def rekey_status(self, api):
        return self.request("GET", api + "/init", "read rekey progress")[1]

    def rekey_verify_status(self, api):
        """The verification status, or ``None`` when no rekey configuration exists."""
        try:
            return self.request("GET", api + "/verify", "read rekey verification progress")[1]
        except VaultError as exc:
            if exc.status == 400 and exc.matches("no rekey configuration", "no rotation configuration",
                                                 "no rekey in progress", "no rotation in progress"):
                return None
            raise

    def rekey_init(self, api, shares, threshold, pgp_keys=None, backup=False, require_verification=True):
        body = {"secret_shares": shares, "secret_threshold": threshold,
                "require_verification": bool(require_verification)}
        if pgp_keys:
            body["pgp_keys"] = list(pgp_keys)
            body["backup"] = bool(backup)
        return self.request("POST", api + "/init", "start rekey", body=body)[1]

    def rekey_cancel(self, api, nonce):
        """Cancel the rekey in progress, sending its nonce (Vault 1.16.21+ requires it; hvac's
        ``cancel_rekey`` cannot send it)."""
        return self.request("DELETE", api + "/init", "cancel rekey", body={"nonce": nonce})[1]

    def rekey_update(self, api, key, nonce):
        """Submit one current unseal key share. Never retried."""
        self.add_secret(key)
        return self.request("POST", api + "/update", "submit unseal key share to rekey",
                            body={"key": key, "nonce": nonce})[1]

    def rekey_verify(self, api, key, nonce):
        """Submit one NEW unseal key share for verification. Never retried."""
        self.add_secret(key)
        return self.request("POST", api + "/verify", "submit new key share to rekey verification",
                            body={"key": key, "nonce": nonce})[1]

    def rekey_verify_restart(self, api):
        """Restart verification (new verification nonce, progress 0); the old keys stay valid."""
        return self.request("DELETE", api + "/verify", "restart rekey verification")[1]


def check_url(url, allow_insecure_http=False):
    """Refuse a URL that is not https (key shares and tokens would travel in clear text) unless allowed."""
    scheme = urlsplit(url or "").scheme.lower()
    if scheme == "https":
        return
    if scheme == "http":
        if allow_insecure_http:
            return
        raise VaultError("Invalid url %s: plain http would carry the token and every key share in clear text; use "
                         "https, or set allow_insecure_http=true for a Vault reached only over a trusted path (such "
                         "as the host's loopback)" % url)
    raise VaultError("Invalid url %r: it must start with https:// (or http:// with allow_insecure_http=true)" % url)


def _is_tls_error(exc):
    return requests is not None and isinstance(exc, requests.exceptions.SSLError)


def _parse(response):
    """Return ``(data, errors)`` from a Vault response, tolerating empty and non-JSON bodies."""
    if not response.content:
        return {}, []
    try:
        body = response.json()
    except ValueError:
        return {}, []
    if not isinstance(body, dict):
        return {}, []
    errors = [clean_error(str(e)) for e in body.get("errors") or []]
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    return data, errors


#: Go's rendering of an error wrapped with ``%w`` where only ``%v`` works: ``%!w(*vault.ErrInvalidKey=&{text})``.
_GO_WRAPPED_RE = re.compile(r"%!w\([*]?[A-Za-z0-9_.]+=&?\{(?P<text>[^{}]*)\}\)")
#: The same for a value that is not a struct: ``%!w(aes.KeySizeError=33)``.
_GO_WRAPPED_VALUE_RE = re.compile(r"%!w\([*]?(?:[A-Za-z0-9_]+[.])?(?P<type>[A-Za-z0-9_]+)=(?P<value>[^(){}]*)\)")


def clean_error(text):
    """One of Vault's error strings without Go's ``%!w(...)`` garbling: the wrapped error's own text
    (``failed to read root key: failed to decrypt keys from storage: cipher: message authentication failed``,
    ``failed to setup unseal key: invalid key size 33``)."""
    text = _GO_WRAPPED_RE.sub(lambda match: match.group("text"), text)

    def value(match):
        if match.group("type") == "KeySizeError":
            return "invalid key size %s" % match.group("value")
        return "%s %s" % (match.group("type"), match.group("value"))

    return _GO_WRAPPED_VALUE_RE.sub(value, text)
