"""The PTFE emulator's HTTPS server: dispatch, rate limiter, fault injection, request log, control API.

Everything under ``/_emulator/`` is the control API (no authentication, no rate limit, no faults, not
logged). Every other path goes through, in order: the request log, the global ``delay``, the first
matching fault, the boot period, the rate limiter, and finally the route handler.
"""
from __future__ import annotations

import collections
import importlib
import json
import pkgutil
import re
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import jsonapi
from .routing import ApiError, Request, Response, answers_while_booting, control_handlers, match, routes
from .state import State

_SECRET_QUERY_RE = re.compile(r"(?i)((?:^|[?&])(?:token|password|secret)=)[^&]*")
_LOADED = False
_LOAD_LOCK = threading.Lock()


def redact_path(raw):
    """A request target with secret query values replaced."""
    return _SECRET_QUERY_RE.sub(lambda m: m.group(1) + "REDACTED", raw)


def load_routes():
    """Import every ``routes_*`` module of this package (once)."""
    global _LOADED  # pylint: disable=global-statement
    with _LOAD_LOCK:
        if _LOADED:
            return
        package = sys.modules[__package__]
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name.startswith("routes_"):
                importlib.import_module("%s.%s" % (__package__, info.name))
        _LOADED = True


def rate_limit_key(req):
    """Whom a request is charged to (§7.1 item 4): the user for a user token (all of a user's tokens share one
    budget), the team or organization for theirs, the token itself when it is unknown, else the client's IP."""
    token = req.token_obj
    if token is not None:
        return ("owner", token.kind, token.owner_id)
    if req.token:
        return ("token", req.token)
    return ("ip", req.client_ip)


class RateLimiter:
    """Sliding-window limiter: at most ``limit`` requests per ``window`` seconds per key."""

    def __init__(self):
        self._lock = threading.Lock()
        self._hits = collections.defaultdict(collections.deque)

    def hit(self, key, limit, window):
        """Record a request; return (allowed, seconds until a slot frees, remaining)."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False, hits[0] + window - now, 0
            hits.append(now)
            return True, (hits[0] + window - now), int(limit - len(hits))

    def reset(self):
        """Forget every window."""
        with self._lock:
            self._hits.clear()


class Faults:
    """Injected faults. Each fault is a dict:

    ``path`` (regex searched in the path, default any), ``method`` (default any), ``status`` (answer with it),
    ``count`` (how many requests it affects; None = unlimited), ``seconds`` (active for this long after being
    set; None = no time limit), ``delay`` (seconds to sleep first), ``drop`` (close the connection without an
    answer), ``body`` / ``content_type`` / ``headers`` (the answer; defaults: the JSON:API error for the status,
    and for 429 the documented rate-limit body with ``X-RateLimit-Reset: <reset>``, ``reset`` default 0.2).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def set(self, faults):
        """Replace every fault."""
        with self._lock:
            self._faults = [self._prepare(f) for f in faults or []]

    def add(self, fault):
        """Add one fault."""
        with self._lock:
            self._faults.append(self._prepare(fault))

    @staticmethod
    def _prepare(fault):
        fault = dict(fault)
        fault["_regex"] = re.compile(fault.get("path") or ".*")
        fault["_added"] = time.monotonic()
        fault["hits"] = 0
        return fault

    def public(self):
        """Faults as JSON."""
        with self._lock:
            return [{k: v for k, v in f.items() if not k.startswith("_")} for f in self._faults]

    def take(self, method, path):
        """Return the first active fault that matches (consuming one of its ``count``), or None."""
        now = time.monotonic()
        with self._lock:
            for fault in self._faults:
                if fault.get("method") and fault["method"].upper() != method:
                    continue
                if not fault["_regex"].search(path):
                    continue
                if fault.get("seconds") is not None and now - fault["_added"] > float(fault["seconds"]):
                    continue
                if fault.get("count") is not None and fault["hits"] >= int(fault["count"]):
                    continue
                fault["hits"] += 1
                return dict(fault)
        return None


def fault_response(fault, limit):
    """The response a fault sends."""
    status = int(fault.get("status") or 500)
    if "body" in fault:
        resp = Response(status, fault["body"], headers=fault.get("headers"), content_type=fault.get("content_type"))
    elif status == 429:
        resp = jsonapi.rate_limited(limit, float(fault.get("reset", 0.2)))
    else:
        titles = {500: "internal server error", 502: "bad gateway", 503: "service unavailable"}
        resp = jsonapi.error(status, titles.get(status, "error"))
    resp.headers.update(fault.get("headers") or {})
    return resp


class EmulatorServer(ThreadingHTTPServer):
    """Threaded HTTPS server holding the state, limiter, faults and request log."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, config, ssl_context=None):
        super().__init__(address, Handler)
        self.initial_config = json.loads(json.dumps(config or {}))
        self.state = State(config)
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.faults.set(self.state.config.get("faults"))
        self.log = []
        self.log_lock = threading.Lock()
        self.scheme = "https" if ssl_context else "http"
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    @property
    def url(self):
        """Base URL."""
        host, port = self.server_address[:2]
        return "%s://%s:%d" % (self.scheme, host, port)

    def reset(self):
        """Back to the start-up state and config."""
        self.state = State(json.loads(json.dumps(self.initial_config)))
        self.limiter.reset()
        self.faults.set(self.state.config.get("faults"))
        with self.log_lock:
            self.log = []

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    timeout = 120

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; with Nagle's algorithm and the client's delayed ACK that
        # stalls every response by ~40 ms, which would make the 30 requests/second limit unreachable.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (self.address_string(), redact_path(format % args)))

    def log_request(self, code="-", size="-"):
        pass

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, resp, head=False):
        payload, ctype = resp.payload()
        self.send_response(resp.status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for key, value in resp.headers.items():
            self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and not head:
            self.wfile.write(payload)

    def _dispatch(self):
        method = self.command.upper()
        parts = urlsplit(self.path)
        path = parts.path or "/"
        body = self._read_body()
        srv = self.server
        if path.startswith("/_emulator/") or path == "/_emulator":
            self._send(self._control(method, path, body))
            return
        state = srv.state
        config = state.config
        started = time.time()
        query_list = parse_qsl(parts.query, keep_blank_values=True)
        req = Request(method, path, dict(query_list), query_list, body, self.headers, self.client_address[0],
                      state, (config.get("public_url") or srv.url).rstrip("/"))
        req.note = None
        entry = {"time": started, "method": method, "path": redact_path(self.path), "status": None,
                 "client_ip": req.client_ip, "user": req.user.username if req.user else None,
                 "authenticated": req.token is not None}
        limit = float(config.get("rate_limit") or 30)
        try:
            if config.get("delay"):
                time.sleep(float(config["delay"]))
            fault = srv.faults.take(method, path)
            if fault:
                if fault.get("delay"):
                    time.sleep(float(fault["delay"]))
                if fault.get("drop"):
                    entry["status"] = 0
                    entry["note"] = "connection dropped (fault)"
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                resp = fault_response(fault, limit)
                entry["note"] = "fault"
            elif state.booting() and answers_while_booting(method, path):
                req.booting = True
                resp = self._route(req, method, path)
                entry["note"] = "booting"
            elif state.booting():
                resp = Response(int(config.get("boot_status") or 503), "<html><body>starting</body></html>",
                                content_type="text/html; charset=utf-8")
                entry["note"] = "booting"
            else:
                resp = None
                if config.get("rate_limit_enabled", True):
                    key = rate_limit_key(req)
                    allowed, reset, remaining = srv.limiter.hit(key, limit, float(config.get("rate_limit_window") or 1))
                    if not allowed:
                        resp = jsonapi.rate_limited(limit, reset)
                        entry["note"] = "rate limited"
                    else:
                        req.rate_headers = {"X-RateLimit-Limit": "%g" % limit, "X-RateLimit-Remaining": str(remaining),
                                            "X-RateLimit-Reset": "%.3f" % reset}
                if resp is None:
                    resp = self._route(req, method, path)
                    if path.startswith("/api/"):
                        for key, value in getattr(req, "rate_headers", {"X-RateLimit-Limit": "%g" % limit}).items():
                            resp.headers.setdefault(key, value)
            entry["status"] = resp.status
            if req.note:
                entry["note"] = req.note
            # Logged before the response goes out: a client that has its answer must find its request in the log.
            self._log_entry(entry, started)
            self._send(resp, head=(method == "HEAD"))
        finally:
            if "duration" not in entry:
                self._log_entry(entry, started)

    def _log_entry(self, entry, started):
        entry["duration"] = round(time.time() - started, 4)
        srv = self.server
        with srv.log_lock:
            srv.log.append(entry)
            if len(srv.log) > 20000:
                del srv.log[:10000]

    def _route(self, req, method, path):
        fn, params = match(method, path)
        if fn is None and method == "HEAD":
            fn, params = match("GET", path)
        if fn is None:
            if params:
                return jsonapi.error(405, "method not allowed")
            return jsonapi.not_found()
        req.params = params
        try:
            resp = fn(req)
        except ApiError as exc:
            resp = exc.response
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc()
            resp = jsonapi.error(500, "internal server error", "the emulator failed; see its stderr")
        if resp is None:
            resp = jsonapi.empty(204)
        return resp

    def _control(self, method, path, body):
        srv = self.server
        try:
            data = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            return Response(400, {"error": "body is not JSON"})
        sub = path[len("/_emulator"):].rstrip("/") or "/"
        state = srv.state
        if sub == "/state" and method == "GET":
            return Response(200, state.snapshot())
        if sub == "/iact" and method == "GET":
            return Response(200, {"iact": state.iact, "used": state.iact_used})
        if sub == "/requests" and method == "GET":
            with srv.log_lock:
                return Response(200, list(srv.log))
        if sub == "/requests" and method == "DELETE":
            with srv.log_lock:
                srv.log = []
            return Response(200, {"cleared": True})
        if sub == "/config" and method == "GET":
            cfg = dict(state.config)
            cfg["faults"] = srv.faults.public()
            return Response(200, cfg)
        if sub == "/config" and method in ("PATCH", "PUT", "POST"):
            if not isinstance(data, dict):
                return Response(400, {"error": "send a JSON object of config keys"})
            state.apply_config(data)
            if "faults" in data:
                srv.faults.set(data["faults"])
            if "rate_limit" in data or "rate_limit_window" in data:
                srv.limiter.reset()
            cfg = dict(state.config)
            cfg["faults"] = srv.faults.public()
            return Response(200, cfg)
        if sub == "/faults" and method == "GET":
            return Response(200, srv.faults.public())
        if sub == "/faults" and method == "POST":
            srv.faults.add(data or {})
            return Response(200, srv.faults.public())
        if sub == "/faults" and method == "DELETE":
            srv.faults.set([])
            return Response(200, [])
        if sub == "/users" and method == "POST":
            data = data or {}
            user, token = state.add_user(data["username"], data.get("email") or "%s@example.com" % data["username"],
                                         data.get("password") or "password-%s" % data["username"],
                                         data.get("site_admin", False), token=data.get("token"))
            return Response(201, {"user": user.to_dict(), "token": token})
        if sub == "/reset" and method == "POST":
            srv.reset()
            return Response(200, {"reset": True})
        if sub == "/routes" and method == "GET":
            return Response(200, routes())
        if sub == "/health" and method == "GET":
            return Response(200, {"ok": True})
        for handler in control_handlers():
            resp = handler(state, method, sub, data)
            if resp is not None:
                return resp
        return Response(404, {"error": "no control endpoint %s %s" % (method, path)})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


def make_server(config=None, host="127.0.0.1", port=0, tls_dir=None):
    """Create (not start) a server. With ``tls_dir`` it serves HTTPS with a fresh CA written there.

    Returns (server, ca_path or None).
    """
    load_routes()
    ctx = None
    ca_path = None
    if tls_dir:
        from ..tls import make_ca_and_cert  # pylint: disable=import-outside-toplevel
        ca_path, cert_path, key_path = make_ca_and_cert(tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path, key_path)
    server = EmulatorServer((host, port), config or {}, ssl_context=ctx)
    return server, ca_path


def start_in_thread(config=None, tls_dir=None):
    """Start a server in a daemon thread (for in-process tests). Returns (server, ca_path); stop with
    ``server.shutdown(); server.server_close()``."""
    server, ca_path = make_server(config, tls_dir=tls_dir)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return server, ca_path
