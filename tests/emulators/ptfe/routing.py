"""Routing for the PTFE emulator: a ``route`` decorator, the request and response objects.

Route modules (every ``routes_*.py`` file of this package, imported at start-up) register handlers::

    from tests.emulators.ptfe.routing import route
    from tests.emulators.ptfe import jsonapi

    @route("GET", r"/api/v2/things/(?P<thing_id>[^/]+)")
    def show_thing(req):
        jsonapi.require_user(req)
        ...
        return jsonapi.document({...})

A handler receives a :class:`Request` and returns a :class:`Response` (or raises :class:`ApiError`, whose
response is sent). Patterns are matched against the whole path (no query string) with ``re.fullmatch``.
"""
from __future__ import annotations

import json
import re
import threading

_ROUTES = []
_ROUTES_LOCK = threading.Lock()
_CONTROL_HANDLERS = []
_BOOT_AWARE = []


def control_handler(fn):
    """Register ``fn(state, method, sub, data)`` for the control API.

    ``sub`` is the path below ``/_emulator`` (``/terraform-versions``), ``data`` the parsed JSON body or None.
    The handler returns a :class:`Response`, or None when the request is not one of its own.
    """
    with _ROUTES_LOCK:
        if fn not in _CONTROL_HANDLERS:
            _CONTROL_HANDLERS.append(fn)
    return fn


def control_handlers():
    """The registered control handlers, in registration order."""
    with _ROUTES_LOCK:
        return list(_CONTROL_HANDLERS)


class Response:
    """An HTTP response. ``body`` may be bytes, str, or any JSON-serialisable value (sent as JSON)."""

    def __init__(self, status=200, body=None, headers=None, content_type=None):
        self.status = int(status)
        self.headers = dict(headers or {})
        self.body = body
        self.content_type = content_type

    def payload(self):
        """Return (bytes, content type) to send."""
        if self.body is None:
            return b"", self.content_type
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.content_type or "text/plain; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), self.content_type or "application/json; charset=utf-8"


class ApiError(Exception):
    """Raise from a handler to send ``response`` instead of returning normally."""

    def __init__(self, response):
        super().__init__("HTTP %s" % response.status)
        self.response = response


class Request:
    """What a handler sees.

    ``method`` (upper case), ``path`` (no query), ``query`` (dict of str, last value wins), ``query_list``
    (list of pairs), ``json`` (parsed body or None), ``body`` (raw bytes), ``headers`` (case-insensitive
    mapping), ``client_ip`` (socket peer), ``token`` (bearer string or None), ``token_obj`` (state Token or
    None), ``user`` (state User resolved from a user token, or None), ``state``, ``config`` (the live config
    dict), ``params`` (named groups of the route pattern), ``base_url`` ("https://127.0.0.1:PORT").
    """

    def __init__(self, method, path, query, query_list, body, headers, client_ip, state, base_url):
        self.method = method
        self.path = path
        self.query = query
        self.query_list = query_list
        self.body = body
        self.headers = headers
        self.client_ip = client_ip
        self.state = state
        self.config = state.config
        self.base_url = base_url
        self.params = {}
        self.json = None
        if body:
            try:
                self.json = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.json = None
        self.booting = False
        self.token = None
        auth = headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer ":
            self.token = auth[7:].strip() or None
        self.token_obj = state.token_object(self.token) if self.token else None
        self.user = state.user_for_token(self.token) if self.token else None


def route(method, pattern, while_booting=False):
    """Register ``fn(req) -> Response`` for ``method`` and a regular expression matched against the path.

    A route registered ``while_booting=True`` answers during the boot period itself (``req.booting`` is then
    True), as TFE's readiness endpoint reports its failing checks while the application starts; every other
    route is answered by the server's boot response then."""
    regex = re.compile(pattern)

    def decorator(fn):
        with _ROUTES_LOCK:
            _ROUTES.append((method.upper(), regex, fn))
            if while_booting:
                _BOOT_AWARE.append((method.upper(), regex))
        return fn
    return decorator


def answers_while_booting(method, path):
    """Whether the route of ``method`` ``path`` answers during the boot period itself."""
    method = "GET" if method == "HEAD" else method
    return any(r_method == method and regex.fullmatch(path) for r_method, regex in list(_BOOT_AWARE))


def match(method, path):
    """Return (handler, params) or (None, allowed_methods)."""
    allowed = []
    for r_method, regex, fn in list(_ROUTES):
        m = regex.fullmatch(path)
        if not m:
            continue
        if r_method == method:
            return fn, m.groupdict()
        allowed.append(r_method)
    return None, allowed


def routes():
    """The registered routes, for debugging."""
    return [(m, r.pattern, fn.__module__ + "." + fn.__name__) for m, r, fn in _ROUTES]
