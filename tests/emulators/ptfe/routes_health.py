"""Today's TFE health surface: the readiness endpoint and the System API (api-contracts.md §8, §0.5).

* ``GET /api/v1/health/readiness?timeout=1-30``: unauthenticated; JSON ``{node, status, checks:[{check, status}]}``
  (text with ``Accept: text/plain``); 200 when every check passes, 503 while booting, draining or when a check
  fails, 400 for a timeout outside 1-30. Served from FDO 1.2.1 on (``product_version``).
* System API (on the admin port in TFE; here on the same server): ``GET /api/v1/ping`` answers ``"pong"`` to a
  System API token (403 otherwise, 429 above one request per second), ``GET /api/v1/nodes/readiness`` the
  readiness of every node (503 if one is not ready). FDO only.
"""
from __future__ import annotations

import json
import re
import threading
import time

from . import jsonapi
from .routing import Response, route

CALENDAR_RE = re.compile(r"v?[0-9]{6}-[0-9]+")
SEMVER_RE = re.compile(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)")
READINESS_FROM = (1, 2, 1)

_PING_LOCK = threading.Lock()
_PING_TIMES = {}


def product(config):
    """("any" | "calendar" | "fdo", (major, minor, patch) or None) for the configured ``product_version``."""
    version = config.get("product_version")
    if not version:
        return "any", None
    if CALENDAR_RE.fullmatch(version):
        return "calendar", None
    match = SEMVER_RE.fullmatch(version)
    if match:
        return "fdo", tuple(int(part) for part in match.groups())
    raise ValueError("product_version %r is neither vYYYYMM-N nor X.Y.Z" % version)


def has_readiness(config):
    """Whether the configured version serves /api/v1/health/readiness."""
    kind, number = product(config)
    return kind == "any" or (kind == "fdo" and number >= READINESS_FROM)


def has_system_api(config):
    """Whether the configured version has the System API (FDO)."""
    return product(config)[0] in ("any", "fdo")


def node_readiness(req):
    """(ready, document) of the one node the emulator plays."""
    cfg = req.config
    failing = set(cfg.get("readiness_failing_checks") or [])
    checks = [{"check": name, "status": "ERROR" if req.booting or name in failing else "OK"}
              for name in cfg.get("readiness_checks") or []]
    if cfg.get("readiness_draining"):
        status = "DRAINING"
    elif any(check["status"] != "OK" for check in checks):
        status = "ERROR"
    else:
        status = "OK"
    return status == "OK", {"node": cfg.get("readiness_node"), "status": status, "checks": checks}


def _bad_timeout(req):
    raw = req.query.get("timeout")
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]+", raw) or not 1 <= int(raw) <= 30:
        return Response(400, {"errors": ["timeout must be a whole number of seconds between 1 and 30"]})
    return None


@route("GET", r"/api/v1/health/readiness", while_booting=True)
def readiness(req):
    """The node's readiness, checked by check (§8)."""
    if not has_readiness(req.config):
        return jsonapi.not_found()
    bad = _bad_timeout(req)
    if bad is not None:
        return bad
    ready, document = node_readiness(req)
    status = 200 if ready else 503
    if "text/plain" in (req.headers.get("Accept") or ""):
        lines = ["%s: %s" % (document["node"], document["status"])]
        lines += ["  %s: %s" % (check["check"], check["status"]) for check in document["checks"]]
        return Response(status, "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    return Response(status, document)


def _system_refusal(req):
    """None when ``req`` carries a System API token on a version that has the System API, else the answer."""
    if not has_system_api(req.config):
        return jsonapi.not_found()
    if req.token is None or req.token not in (req.config.get("system_api_tokens") or []):
        return Response(403, {"errors": ["forbidden: a System API token is required"]})
    return None


@route("GET", r"/api/v1/ping")
def system_ping(req):
    """``"pong"`` for a System API token; one request per second per token."""
    refusal = _system_refusal(req)
    if refusal is not None:
        return refusal
    limit = float(req.config.get("system_ping_rate_limit") or 0)
    now = time.monotonic()
    with _PING_LOCK:
        last = _PING_TIMES.get(req.token)
        if limit > 0 and last is not None and now - last < 1.0 / limit:
            return Response(429, {"errors": ["too many requests"]})
        _PING_TIMES[req.token] = now
    return Response(200, json.dumps("pong"), content_type="application/json; charset=utf-8")


@route("GET", r"/api/v1/nodes/readiness", while_booting=True)
def nodes_readiness(req):
    """The readiness of every node [inferred shape: ``{"nodes": [<node readiness>]}``]; 503 if one is not ready."""
    refusal = _system_refusal(req)
    if refusal is not None:
        return refusal
    bad = _bad_timeout(req)
    if bad is not None:
        return bad
    ready, document = node_readiness(req)
    return Response(200 if ready else 503, {"nodes": [document]})
