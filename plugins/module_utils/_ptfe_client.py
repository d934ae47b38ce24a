# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client for the PTFE / Terraform Enterprise API.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

Design, in short:

* One ``requests.Session`` per client, so connections are kept alive (a TLS handshake per request would
  make the 30 requests/second rate limit unreachable). The session is set up, TLS verified and retries
  decided as in every HTTP client of the collection (``_http``); redirects are refused, since they would
  carry the token to wherever they point.
* Bearer authentication, TLS verified by default (``validate_certs``, ``ca_path``), JSON:API in and out.
* HTTPS only, unless the caller opts in with ``allow_insecure_http``: over ``http://`` the token would travel
  in clear text. The address is checked when the client is built, before any request.
* Client-side pacing: at most 95% of the server's rate limit is sent in any rolling one-second window
  (28 of 30 requests/second unless a response says otherwise in ``X-RateLimit-Limit``). A rolling window
  never exceeds that count in any second, so it stays under fixed-window, sliding-window and token-bucket
  limiters alike, while a run of requests starts at full speed instead of paying the gap up front.
* Retries, bounded by ``max_retries`` (so at most ``max_retries + 1`` attempts), only where repeating the
  request cannot do something twice:

  - idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE and PATCH) on connection errors and on HTTP 429,
    502 and 503. PATCH counts as idempotent here because the TFE API's PATCH sets attributes to the
    values sent; sending the same document twice leaves the same resource;
  - POST only on HTTP 429: the rate limiter answers 429 before the request reaches the application, so
    nothing was created. A POST is never retried after a connection error, a 502 or a 503, where the
    server may have acted before the answer was lost;
  - nothing at all when the caller passes ``retry=False`` (the one-shot IACT and initial-admin calls).

  On 429 the wait is the server's ``X-RateLimit-Reset`` (seconds, a float), else an exponential backoff;
  on 503 ``Retry-After`` is honoured when present.
* Typed errors. Nothing here calls ``fail_json``; the module base turns a :class:`PtfeError` into one
  message. Messages pass through the client's ``redactor`` (shared with the module), which knows the token
  and every secret query-string value the client sent.
"""

from __future__ import annotations

import collections
import json as _json
import os
import re
import time

from urllib.parse import urlencode, urljoin, urlsplit, parse_qsl

from ansible.module_utils.basic import env_fallback

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    backoff,
    describe,
    http_argument_spec,
    may_retry,
    new_session,
    requests,
    tls_verify,
)
from ansible_collections.ptfe.ops.plugins.module_utils._redact import REDACTED, Redactor, is_secret_key
from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_space_or_control

JSONAPI_MEDIA_TYPE = "application/vnd.api+json"
DEFAULT_RATE_LIMIT = 30.0
PACING_FACTOR = 0.95
PACING_WINDOW = 1.0
NOT_FOUND_HINT = "not found, or this token may not see it (not a site admin / no entitlement)"
HEALTH_PATH = "/_health_check"
ACCOUNT_PATH = "/api/v2/account/details"
#: Today's TFE readiness (from 1.2.1), and the System API's readiness of every node (admin port).
READINESS_PATH = "/api/v1/health/readiness"
NODES_READINESS_PATH = "/api/v1/nodes/readiness"
#: The first FDO version that serves READINESS_PATH.
READINESS_FROM = (1, 2, 1)
#: Release names: calendar versions of the Replicated generation (v202309-1) and FDO's X.Y.Z (1.2.1).
CALENDAR_VERSION_RE = re.compile(r"v?([0-9]{4})(0[1-9]|1[0-2])-([0-9]+)")
SEMANTIC_VERSION_RE = re.compile(r"v?([0-9]+)[.]([0-9]+)[.]([0-9]+)")


def release(version):
    """("calendar", (year, month, n)) for a calendar version (``v202309-1``), ("semantic", (x, y, z)) for FDO's
    ``1.2.1`` (an optional leading ``v`` in both), None for anything else (``auto`` included)."""
    text = (version or "").strip(" \t")
    for kind, pattern in (("calendar", CALENDAR_VERSION_RE), ("semantic", SEMANTIC_VERSION_RE)):
        match = pattern.fullmatch(text)
        if match:
            return kind, tuple(int(part) for part in match.groups())
    return None


def health_paths(version):
    """The health paths to ask an installation of ``version``, in order: ``/_health_check`` for calendar versions
    and 1.x before 1.2.1, the readiness endpoint from 1.2.1, both (readiness first) when the version is unknown."""
    known = release(version)
    if known is None:
        return [READINESS_PATH, HEALTH_PATH]
    kind, number = known
    if kind == "semantic" and number >= READINESS_FROM:
        return [READINESS_PATH]
    return [HEALTH_PATH]


def ptfe_argument_spec(**extra):
    """Return the shared argument spec of every ptfe_* module (doc fragment ptfe.ops.ptfe),
    merged with ``extra`` options."""
    spec = dict(
        address=dict(type="str", required=True, fallback=(env_fallback, ["TFE_ADDRESS"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["TFE_TOKEN"])),
        allow_insecure_http=dict(type="bool", default=False),
        ca_path=dict(type="path"),
        max_retries=dict(type="int", default=5),
    )
    spec.update(http_argument_spec())
    spec.update(extra)
    return spec


class PtfeError(OpsError):
    """Base class of every error the client raises."""

    def __init__(self, message, action=None):
        super(PtfeError, self).__init__(message)
        self.message = message
        self.action = action

    def __str__(self):
        if self.action:
            return "Failed to %s: %s" % (self.action, self.message)
        return self.message


class PtfeConnectionError(PtfeError):
    """The server could not be reached, or the connection broke (after any retries)."""

    def __init__(self, message, action=None, method=None, path=None):
        super(PtfeConnectionError, self).__init__(message, action=action)
        self.method = method
        self.path = path


class PtfeHTTPError(PtfeError):
    """The server answered with a status the caller did not expect."""

    def __init__(self, status, method, path, detail, errors=None, pointer=None, action=None, body=None,
                 headers=None):
        self.status = status
        self.method = method
        self.path = path
        self.detail = detail
        self.errors = errors or []
        self.pointer = pointer
        self.body = body
        self.headers = headers or {}
        message = "HTTP %s from %s %s: %s" % (status, method, path, detail)
        super(PtfeHTTPError, self).__init__(message, action=action)


class PtfeUnauthorizedError(PtfeHTTPError):
    """HTTP 401: the token is missing, invalid or expired."""


class PtfeNotFoundError(PtfeHTTPError):
    """HTTP 404: the resource does not exist, or the token may not see it."""


class PtfeValidationError(PtfeHTTPError):
    """HTTP 422: the server rejected the request document."""


class PtfeRateLimitError(PtfeHTTPError):
    """HTTP 429 that persisted through every retry."""


_ERROR_CLASSES = {
    401: PtfeUnauthorizedError,
    404: PtfeNotFoundError,
    422: PtfeValidationError,
    429: PtfeRateLimitError,
}


def _shown_origin(parts):
    """scheme://host[:port] of a split URL, for messages: no user information, path or query."""
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    try:
        port = parts.port
    except ValueError:
        port = None
    return "%s://%s%s" % (parts.scheme.lower(), host, ":%d" % port if port else "")


def check_address_scheme(parts, allow_insecure_http=False, warn=None):
    """Refuse an address that is not https (http only with ``allow_insecure_http``); ``parts`` from urlsplit.

    Raises :class:`PtfeError` naming the options, before anything is sent; ``warn`` is told when plain HTTP
    is accepted.
    """
    scheme = parts.scheme.lower()
    shown = _shown_origin(parts)
    if scheme == "https":
        return
    if scheme == "http":
        if not allow_insecure_http:
            raise PtfeError(
                "Invalid address %s (option address or TFE_ADDRESS): plain http:// would send the API token and "
                "every other secret in clear text. Use https://, or set allow_insecure_http=true to accept that "
                "on a network you trust. Nothing was sent." % shown)
        if warn:
            warn("allow_insecure_http=true: the API token and every other secret travel in clear text to %s"
                 % shown)
        return
    raise PtfeError("Invalid address %s (option address or TFE_ADDRESS): it must be an https:// URL. Nothing "
                    "was sent." % shown)


class PtfeResponse(object):
    """What came back: ``status``, ``headers`` (case-insensitive), ``body`` (parsed JSON or None), ``text``."""

    def __init__(self, status, headers, body, text):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = text

    def __repr__(self):
        return "PtfeResponse(status=%r)" % (self.status,)


def _error_details(body, text):
    """Return (detail, errors, pointer) from an error body of any of the shapes the API uses."""
    errors = []
    pointer = None
    parts = []
    if isinstance(body, dict):
        raw = body.get("errors")
        if isinstance(raw, list):
            errors = raw
            for item in raw:
                if isinstance(item, dict):
                    title = item.get("title")
                    detail = item.get("detail")
                    if title and detail:
                        parts.append("%s: %s" % (title, detail))
                    elif title or detail:
                        parts.append(str(title or detail))
                    source = item.get("source")
                    if pointer is None and isinstance(source, dict) and source.get("pointer"):
                        pointer = source.get("pointer")
                elif item:
                    parts.append(str(item))
        elif body.get("status") == "error" and body.get("error"):
            errors = [body.get("error")]
            parts.append(str(body.get("error")))
        elif body.get("error"):
            parts.append(str(body.get("error")))
    if not parts and text:
        flat = re.sub(r"<[^>]*>", " ", text)
        flat = re.sub(r"\s+", " ", flat).strip()
        if flat:
            parts.append(flat[:200])
    if pointer:
        parts.append("(at %s)" % pointer)
    return "; ".join(parts) if parts else "no details in the response", errors, pointer


class PtfeClient(object):
    """HTTP client for the PTFE / TFE API. See the module docstring for the retry and pacing policy."""

    def __init__(self, address, token=None, validate_certs=True, ca_path=None, timeout=30, max_retries=5,
                 rate_limit=None, warn=None, allow_insecure_http=False, redactor=None):
        if not HAS_REQUESTS:
            raise PtfeError("the Python library 'requests' is required: %s" % (REQUESTS_IMPORT_ERROR,))
        if not address:
            raise PtfeError("no address given for the PTFE installation (option address or TFE_ADDRESS)")
        address = address.strip()
        if "://" not in address:
            address = "https://" + address
        self.address = address.rstrip("/")
        parts = urlsplit(self.address)
        self._origin = (parts.scheme.lower(), parts.netloc.lower())
        self._warn = warn
        check_address_scheme(parts, allow_insecure_http, warn=self._emit_warning)
        #: Every secret this client sends or learns is added here; messages pass through it.
        self.redactor = redactor if redactor is not None else Redactor()
        self.token = token
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries or 0))
        self.rate_limit = float(rate_limit) if rate_limit else DEFAULT_RATE_LIMIT
        self._explicit_rate_limit = bool(rate_limit)
        self._sent = collections.deque()
        self.request_count = 0
        self.retry_count = 0
        self.verify = tls_verify(validate_certs, ca_path)
        self.session = new_session(self.verify, headers={"Accept": JSONAPI_MEDIA_TYPE})

    @property
    def token(self):
        """The API token sent as a bearer token (None: none is sent). Setting it registers it as a secret."""
        return self._token

    @token.setter
    def token(self, value):
        self.redactor.add(value)
        self._token = value

    @classmethod
    def from_module(cls, module, **kwargs):
        """Build a client from the options of :func:`ptfe_argument_spec`; warnings go to ``module.warn``, and
        secrets to the module's ``redactor`` when it has one."""
        params = module.params
        return cls(
            params["address"],
            token=params.get("token"),
            validate_certs=params.get("validate_certs", True),
            ca_path=params.get("ca_path"),
            timeout=params.get("timeout") or 30,
            max_retries=params.get("max_retries", 5),
            warn=getattr(module, "warn", None),
            allow_insecure_http=bool(params.get("allow_insecure_http")),
            redactor=getattr(module, "redactor", None),
            **kwargs
        )

    # -- helpers -----------------------------------------------------------------------------------------

    def close(self):
        """Close pooled connections."""
        self.session.close()

    def _url(self, path):
        if re.match(r"(?i)^https?://", path):
            parts = urlsplit(path)
            if (parts.scheme.lower(), parts.netloc.lower()) != self._origin:
                other = self.redactor(parts.scheme + "://" + parts.netloc)
                raise PtfeError("refusing to follow %s: it is not on %s" % (other, self.address))
            return path
        if not path.startswith("/"):
            path = "/" + path
        return self.address + path

    def _display_path(self, url, params=None):
        """The path (and query) of a URL as it may appear in a message: secret values removed."""
        parts = urlsplit(url)
        query = list(parse_qsl(parts.query, keep_blank_values=True))
        if params:
            query.extend((k, str(v)) for k, v in params.items() if v is not None)
        shown = parts.path or "/"
        if query:
            shown += "?" + "&".join(
                "%s=%s" % (k, REDACTED if is_secret_key(k) else v) for k, v in query
            )
        return shown

    def _register_secrets(self, params=None):
        """Register the values of secret query-string parameters (the IACT travels as ``?token=``)."""
        for key, value in (params or {}).items():
            if is_secret_key(key):
                self.redactor.add(value)

    def _emit_warning(self, text):
        if self._warn:
            self._warn(text)

    def _pace(self):
        """Sleep until a request may go: at most PACING_FACTOR x the rate limit in any PACING_WINDOW."""
        limit = self.rate_limit if self.rate_limit and self.rate_limit > 0 else DEFAULT_RATE_LIMIT
        allowed = max(1, int(limit * PACING_FACTOR))
        sent = self._sent
        now = time.monotonic()
        while sent and sent[0] <= now - PACING_WINDOW:
            sent.popleft()
        while len(sent) >= allowed:
            time.sleep(max(0.0, sent[0] + PACING_WINDOW - now))
            now = time.monotonic()
            while sent and sent[0] <= now - PACING_WINDOW:
                sent.popleft()
        sent.append(now)

    def _learn_rate_limit(self, headers):
        if self._explicit_rate_limit:
            return
        value = headers.get("X-RateLimit-Limit")
        if value:
            try:
                limit = float(value)
            except ValueError:
                return
            if limit > 0:
                self.rate_limit = limit

    # -- the request -------------------------------------------------------------------------------------

    def request(self, method, path, *, params=None, json=None, data=None, headers=None, expected=(200,),
                action=None, retry=None, authenticated=True):
        """Send one logical request (with retries per the policy) and return a :class:`PtfeResponse`.

        ``path`` is a path on the installation (``/api/v2/...``) or an absolute URL on the same host.
        ``expected`` lists the statuses that count as success; anything else raises a :class:`PtfeHTTPError`
        subclass. ``action`` ("create organization acme") prefixes error messages. ``retry`` None applies the
        default policy, False disables every retry, True allows retries whatever the method.
        ``authenticated=False`` sends no Authorization header.
        """
        method = method.upper()
        url = self._url(path)
        shown = self._display_path(url, params)
        self._register_secrets(params)
        req_headers = {}
        if authenticated and self.token:
            req_headers["Authorization"] = "Bearer %s" % self.token
        body = None
        if json is not None:
            body = _json.dumps(json)
            req_headers["Content-Type"] = JSONAPI_MEDIA_TYPE
        elif data is not None:
            body = data
        if headers:
            req_headers.update(headers)
        if isinstance(expected, int):
            expected = (expected,)

        attempt = 0
        while True:
            attempt += 1
            self._pace()
            self.request_count += 1
            try:
                resp = self.session.request(method, url, params=params, data=body, headers=req_headers,
                                            timeout=self.timeout, allow_redirects=False, verify=self.verify)
            except requests.exceptions.RequestException as exc:
                reason = self.redactor(describe(exc))
                if attempt <= self.max_retries and may_retry(method, retry, connection_error=True):
                    wait = backoff(attempt)
                    self.retry_count += 1
                    self._emit_warning("Retrying %s %s in %.1fs after a connection error (retry %d of %d): %s"
                                       % (method, shown, wait, attempt, self.max_retries, reason))
                    time.sleep(wait)
                    continue
                tries = " after %d attempts" % attempt if attempt > 1 else ""
                raise PtfeConnectionError("could not reach %s%s: %s %s: %s" % (self.address, tries, method, shown, reason),
                                          action=action, method=method, path=shown)

            self._learn_rate_limit(resp.headers)
            if resp.status_code in expected:
                return self._response(resp)
            if attempt <= self.max_retries and may_retry(method, retry, status=resp.status_code):
                wait = backoff(attempt, resp.status_code, resp.headers)
                self.retry_count += 1
                self._emit_warning("Retrying %s %s in %.1fs after HTTP %d (retry %d of %d)"
                                   % (method, shown, wait, resp.status_code, attempt, self.max_retries))
                resp.close()
                time.sleep(wait)
                continue
            raise self._http_error(resp, method, shown, action, attempt)

    def _response(self, resp):
        text = resp.text
        body = None
        if text and text.strip():
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype or text.lstrip()[:1] in ("{", "["):
                try:
                    body = _json.loads(text)
                except ValueError:
                    body = None
        return PtfeResponse(resp.status_code, resp.headers, body, text)

    def _http_error(self, resp, method, shown, action, attempts):
        parsed = self._response(resp)
        detail, errors, pointer = _error_details(parsed.body, parsed.text)
        status = resp.status_code
        if status == 404:
            if detail.lower() in ("not found", "no details in the response"):
                detail = NOT_FOUND_HINT
            else:
                detail = "%s (%s)" % (detail, NOT_FOUND_HINT)
        elif status == 401:
            detail += " (the token is missing, invalid or expired)"
        if attempts > 1:
            detail += " (after %d attempts)" % attempts
        detail = self.redactor(detail)
        cls = _ERROR_CLASSES.get(status, PtfeHTTPError)
        return cls(status, method, shown, detail, errors=errors, pointer=pointer, action=action, body=parsed.body,
                   headers=dict(resp.headers))

    # -- the installation and the token ------------------------------------------------------------------

    def wait_until(self, probe, timeout, interval, action, give_up):
        """Call ``probe()`` until it returns something other than None, ``interval`` seconds apart, for at most
        ``timeout`` seconds; return (what it returned, how many times it was called).

        Every request the probe sends waits at most for the time left (and never longer than the client's
        ``timeout``), so a server that accepts connections and never answers cannot stretch the bound. When the
        time is up, :class:`PtfeError` with ``action`` and the message ``give_up(calls)``.
        """
        deadline = time.monotonic() + timeout
        per_request = self.timeout
        calls = 0
        try:
            while True:
                calls += 1
                self.timeout = min(per_request, max(1.0, deadline - time.monotonic()))
                outcome = probe()
                if outcome is not None:
                    return outcome, calls
                if time.monotonic() + interval > deadline:
                    raise PtfeError(give_up(calls), action=action)
                time.sleep(max(0.1, interval))
        finally:
            self.timeout = per_request

    def wait_until_healthy(self, timeout, interval=5):
        """Ask ``GET /_health_check`` (no token sent) until it answers HTTP 200, for at most ``timeout`` seconds,
        ``interval`` seconds apart; return how many times it asked.

        Every answer other than 200 (503 while the application starts, 429, a refused connection) is one more
        reason to ask again, so the single requests are not retried. When the time is up, :class:`PtfeError`
        names the last answer.
        """
        last = ["no answer yet"]

        def probe():
            try:
                return self.request("GET", HEALTH_PATH, expected=(200,), retry=False, authenticated=False)
            except PtfeHTTPError as exc:
                last[0] = "HTTP %s" % exc.status
            except PtfeConnectionError as exc:
                last[0] = exc.message
            return None

        def give_up(checks):
            return ("GET %s did not answer HTTP 200 within %d seconds (%d checks; last answer: %s). Check that the "
                    "installation has finished starting, or raise health_timeout."
                    % (HEALTH_PATH, timeout, checks, last[0]))

        return self.wait_until(probe, timeout, interval, "wait for %s to become healthy" % self.address, give_up)[1]

    def account(self):
        """Who the client's token belongs to, from ``GET /api/v2/account/details``: ``{"id", "username", "email",
        "is-site-admin"}``, or None when the installation refuses the token (HTTP 401). A team or organization
        token gets its service user, never a site admin."""
        try:
            body = self.get(ACCOUNT_PATH, action="check the API token against %s" % ACCOUNT_PATH)
        except PtfeUnauthorizedError:
            return None
        data = (body or {}).get("data") or {}
        attrs = data.get("attributes") or {}
        return {"id": data.get("id"), "username": attrs.get("username"), "email": attrs.get("email"),
                "is-site-admin": attrs.get("is-site-admin") is True}

    # -- conveniences --------------------------------------------------------------------------------------

    def get(self, path, params=None, **kwargs):
        """GET and return the parsed body."""
        kwargs.setdefault("expected", (200,))
        return self.request("GET", path, params=params, **kwargs).body

    def post(self, path, json=None, **kwargs):
        """POST and return the parsed body (None for 204)."""
        kwargs.setdefault("expected", (200, 201, 202, 204))
        return self.request("POST", path, json=json, **kwargs).body

    def patch(self, path, json=None, **kwargs):
        """PATCH and return the parsed body."""
        kwargs.setdefault("expected", (200, 204))
        return self.request("PATCH", path, json=json, **kwargs).body

    def put(self, path, json=None, **kwargs):
        """PUT and return the parsed body."""
        kwargs.setdefault("expected", (200, 201, 204))
        return self.request("PUT", path, json=json, **kwargs).body

    def delete(self, path, **kwargs):
        """DELETE and return the parsed body (None for 204)."""
        kwargs.setdefault("expected", (200, 202, 204))
        return self.request("DELETE", path, **kwargs).body

    def paginate(self, path, params=None, page_size=100, max_pages=10000, **kwargs):
        """Yield every item of ``data`` across all pages (``page[number]`` / ``page[size]``)."""
        query = dict(params or {})
        query["page[size]"] = page_size
        page = int(query.pop("page[number]", 1))
        next_url = None
        for _count in range(max_pages):
            if next_url:
                body = self.get(next_url, **kwargs)
            else:
                query["page[number]"] = page
                body = self.get(path, params=query, **kwargs)
            if not isinstance(body, dict):
                return
            items = body.get("data") or []
            if isinstance(items, dict):
                items = [items]
            yield from items
            if not items:
                return
            links = body.get("links") or {}
            pagination = (body.get("meta") or {}).get("pagination") or {}
            if pagination.get("next-page"):
                next_url = None
                page = int(pagination["next-page"])
            elif links.get("next"):
                # TFE builds absolute links from its own host name (default port dropped), which need not be
                # the address we were given: an IP, a load balancer alias, an explicit :443. Only the path and
                # query are taken from the link and asked of our own address, so the token stays on it.
                parts = urlsplit(urljoin(self.address + "/", links["next"]))
                next_url = "%s://%s%s%s" % (self._origin + (parts.path, "?" + parts.query if parts.query else ""))
            else:
                return
        raise PtfeError("stopped paging %s after %d pages" % (self._display_path(self._url(path)), max_pages))


def token_from_file(path):
    """The API token kept in the file ``path`` (surrounding white space removed), or None when there is no such
    file or it is empty. :class:`PtfeError` when ``path`` is something else than a regular file, is unreadable,
    or holds more than one word (it would go out as a broken header); the message never quotes the file."""
    if not path or not os.path.lexists(path):
        return None
    if not os.path.isfile(path):
        raise PtfeError("Failed to read the API token from %s: not a regular file" % path)
    try:
        with open(path, "r", encoding="utf-8") as handle:
            token = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PtfeError("Failed to read the API token from %s: %s" % (path, exc))
    if has_space_or_control(token):
        raise PtfeError("Failed to read the API token from %s: it holds more than one word" % path)
    return token or None


def jsonapi_document(resource_type, attributes, resource_id=None, relationships=None):
    """Build a JSON:API request document."""
    data = {"type": resource_type, "attributes": attributes}
    if resource_id is not None:
        data["id"] = resource_id
    if relationships:
        data["relationships"] = relationships
    return {"data": data}


def encode_query(params):
    """Percent-encode query parameters the way the API expects (brackets as %5B/%5D)."""
    return urlencode(params)
