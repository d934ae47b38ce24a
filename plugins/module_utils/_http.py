# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the collection's HTTP clients (the PTFE API, the releases mirror) share: how a ``requests`` session is
set up, how TLS is verified, and when and how long to wait before a retry.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

* TLS is verified by default, against ``ca_path`` when given. ``verify`` is set on the session *and* passed
  on every request: requests merges ``REQUESTS_CA_BUNDLE`` from the environment over a session's setting.
* Redirects are never followed by requests itself (``allow_redirects=False`` on every request): a client
  either refuses them (the PTFE client: they would carry the token elsewhere) or follows them one by one
  with :func:`redirect_target`, which refuses a step down from https to http.
* Retries: idempotent methods on connection errors and on HTTP 429, 502 and 503; anything else only on 429
  (the rate limiter answers before the application acts); nothing when the caller says ``retry=False``. The
  wait is the server's ``X-RateLimit-Reset`` on 429, its ``Retry-After`` on 503, else an exponential backoff.
"""

from __future__ import annotations

import random

from urllib.parse import urljoin, urlsplit

from ansible_collections.ptfe.ops.plugins.module_utils._libraries import optional_import

requests, REQUESTS_IMPORT_ERROR = optional_import("requests")
HAS_REQUESTS = requests is not None

USER_AGENT = "ptfe.ops"
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"))
RETRY_STATUSES = frozenset((429, 502, 503))
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
MAX_BACKOFF = 30.0
MAX_RATE_LIMIT_WAIT = 60.0
MAX_REDIRECTS = 10


def http_argument_spec():
    """The TLS and timeout options every connection shares (documented by ptfe.ops.ptfe and ptfe.ops.vault)."""
    return dict(
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
    )


def tls_verify(validate_certs=True, ca_path=None):
    """The ``verify`` argument of requests: False, the CA bundle ``ca_path``, or True (system trust store)."""
    if not validate_certs:
        return False
    return ca_path or True


def new_session(verify=True, headers=None):
    """A ``requests.Session`` set up the collection's way (TLS ``verify``, User-Agent, extra ``headers``)."""
    session = requests.Session()
    session.verify = verify
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(headers or {})
    return session


def describe(exc):
    """``"ConnectTimeout: ..."``: an exception as it may appear after a colon in a message."""
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def may_retry(method, retry=None, status=None, connection_error=False):
    """Whether a request that failed this way may be sent again (see the module docstring).

    ``retry`` None applies the policy, False forbids every retry, True allows a retry whatever the method.
    """
    if retry is False:
        return False
    if retry is True or method in IDEMPOTENT_METHODS:
        return connection_error or status in RETRY_STATUSES
    # POST and anything else: only a 429, which the rate limiter sends before the application acts.
    return status == 429


def backoff(attempt, status=None, headers=None):
    """Seconds to wait before retry number ``attempt`` (1-based) after ``status`` with ``headers``."""
    headers = headers or {}
    if status == 429:
        reset = headers.get("X-RateLimit-Reset")
        if reset:
            try:
                return min(MAX_RATE_LIMIT_WAIT, max(0.0, float(reset))) + random.uniform(0.05, 0.25)
            except ValueError:
                pass
    if status == 503:
        after = headers.get("Retry-After")
        if after:
            try:
                return min(MAX_RATE_LIMIT_WAIT, max(0.0, float(after)))
            except ValueError:
                pass
    return min(MAX_BACKOFF, 0.5 * (2 ** (attempt - 1))) * random.uniform(0.8, 1.2)


def redirect_target(url, response, allow_http=False):
    """Where a redirect ``response`` to a request for ``url`` points, or None when it is not a redirect.

    Raises ValueError when the target is not http(s), or is plain http while ``url`` was https and
    ``allow_http`` is false: a download verified over TLS must not continue in clear text.
    """
    if response.status_code not in REDIRECT_STATUSES or not response.headers.get("Location"):
        return None
    target = urljoin(url, response.headers["Location"])
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("https", "http"):
        raise ValueError("a redirect to %s, which is not an http(s) URL" % target)
    if scheme == "http" and urlsplit(url).scheme.lower() == "https" and not allow_http:
        raise ValueError("a redirect from https to plain http (%s), refused" % target)
    return target
