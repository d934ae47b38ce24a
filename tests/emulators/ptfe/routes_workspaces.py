"""Workspaces, their locks and variables (api-contracts.md §3.4, §7.3).

Locks belong to whoever took them: the user of a user token, the team of a team token. Unlock by anyone
else is a 409 whose detail says who holds the lock (``is locked by User <name>``), as go-tfe parses it;
while the newest state version is still pending, unlock is a 503 (§7.1 item 7). Force-unlock is for site
admins and the organization's owners.

Control API: ``GET /_emulator/workspaces`` lists every workspace with its lock and state versions (no
download or upload URL), ``POST /_emulator/workspaces/lock`` ``{"id": ..., "username": ...}`` locks a
workspace as another user would.
"""
from __future__ import annotations

import re

from . import jsonapi
from .routes_organizations import visible_org
from .routing import Response, control_handler, route

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,90}")
WORKSPACE_ATTRIBUTES = {
    "description": None, "execution-mode": "remote", "terraform-version": "latest", "auto-apply": False,
    "working-directory": None, "allow-destroy-plan": True, "file-triggers-enabled": True,
    "queue-all-runs": False, "speculative-enabled": True, "global-remote-state": False,
    "structured-run-output-enabled": True, "trigger-prefixes": [], "tag-names": [], "source-name": None,
    "source-url": None, "vcs-repo": None, "agent-pool-id": None, "assessments-enabled": False,
}


class Workspace:
    """A workspace: attributes, the lock (holder ``(type, id)``, reason) and its variables."""

    def __init__(self, ws_id, org_name, name, attributes=None):
        self.id = ws_id
        self.organization = org_name
        self.name = name
        self.attributes = dict(WORKSPACE_ATTRIBUTES)
        self.attributes.update(attributes or {})
        self.created_at = jsonapi.now()
        self.locked_by = None        # ("users", user id) / ("teams", team id)
        self.locked_reason = ""
        self.variables = []          # dicts: id, key, value, category, sensitive, hcl, description

    def to_dict(self, state=None):
        """Control-API view: lock and state versions, never a URL."""
        versions = []
        if state is not None:
            versions = [sv.to_dict() for sv in state.state_versions.values() if sv.workspace_id == self.id]
        return {"id": self.id, "organization": self.organization, "name": self.name,
                "locked": self.locked_by is not None, "locked_by": list(self.locked_by) if self.locked_by else None,
                "locked_reason": self.locked_reason, "state_versions": versions,
                "variables": [{k: v for k, v in var.items() if k != "value"} for var in self.variables]}


def holder(req):
    """Who the caller is, as a lock holder: ("users", id), ("teams", id); None for other tokens."""
    token = jsonapi.require_token(req)
    if req.user is not None:
        return ("users", req.user.id)
    if token.kind == "team":
        return ("teams", token.owner_id)
    return None


def holder_name(state, lock_holder):
    """``User alice`` / ``Team <id>``: how a 409 names who holds a lock."""
    kind, ident = lock_holder
    if kind == "users":
        user = state.users.get(ident)
        return "User %s" % (user.username if user else ident)
    return "%s %s" % (kind[:-1].capitalize(), ident)


def current_state_version(state, ws):
    """The newest finalized state version of ``ws`` or None."""
    current = None
    for sv in state.state_versions.values():
        if sv.workspace_id == ws.id and sv.status == "finalized":
            current = sv
    return current


def pending_state_version(state, ws):
    """A pending state version of ``ws`` or None."""
    for sv in state.state_versions.values():
        if sv.workspace_id == ws.id and sv.status == "pending":
            return sv
    return None


def may_administer(req, org):
    """Site admins and the organization's owners."""
    return req.user is not None and (req.user.site_admin or req.user.id in org.owners)


def workspace_resource(req, ws):
    """A ``workspaces`` resource."""
    state = req.state
    org = state.organizations.get(ws.organization)
    admin = bool(org) and may_administer(req, org)
    attrs = dict(ws.attributes)
    attrs.update({
        "name": ws.name, "locked": ws.locked_by is not None, "locked-reason": ws.locked_reason,
        "created-at": jsonapi.rfc3339(ws.created_at), "updated-at": jsonapi.rfc3339(ws.created_at),
        "environment": "default", "operations": ws.attributes.get("execution-mode") != "local",
        "resource-count": 0, "apply-duration-average": None, "plan-duration-average": None,
        "policy-check-failures": None, "run-failures": None, "workspace-kpis-runs-count": None,
        "latest-change-at": jsonapi.rfc3339(ws.created_at), "setting-overwrites": {},
        "permissions": {
            "can-update": True, "can-destroy": admin, "can-queue-run": True, "can-read-variable": True,
            "can-update-variable": True, "can-read-state-versions": True, "can-read-state-outputs": True,
            "can-create-state-versions": True, "can-queue-apply": True, "can-lock": True, "can-unlock": True,
            "can-force-unlock": admin, "can-read-settings": True, "can-manage-tags": True,
            "can-queue-destroy": True, "can-force-delete": admin, "can-manage-run-tasks": admin,
        },
        "actions": {"is-destroyable": True},
    })
    current = current_state_version(state, ws)
    rels = {
        "organization": {"data": {"id": ws.organization, "type": "organizations"}},
        "current-state-version": {
            "data": {"id": current.id, "type": "state-versions"} if current else None,
            "links": {"related": "/api/v2/workspaces/%s/current-state-version" % ws.id}},
        "current-run": {"data": None}, "latest-run": {"data": None}, "project": {"data": None},
        "locked-by": {"data": {"id": ws.locked_by[1], "type": ws.locked_by[0]} if ws.locked_by else None},
        "vars": {"links": {"related": "/api/v2/workspaces/%s/vars" % ws.id}},
    }
    return {"id": ws.id, "type": "workspaces", "attributes": attrs, "relationships": rels,
            "links": {"self": "/api/v2/organizations/%s/workspaces/%s" % (ws.organization, ws.name),
                      "self-html": "/app/%s/workspaces/%s" % (ws.organization, ws.name)}}


def by_name(state, org_name, name):
    """The workspace called ``name`` in ``org_name`` or None."""
    for ws in state.workspaces.values():
        if ws.organization == org_name and ws.name == name:
            return ws
    return None


def visible_workspace(req, ws_id):
    """The workspace if the caller may see its organization, else raise -> 404."""
    jsonapi.require_token(req)
    ws = req.state.workspaces.get(ws_id)
    if ws is None:
        raise jsonapi.abort(jsonapi.not_found())
    visible_org(req, ws.organization)
    return ws


def _attributes(req):
    body = req.json
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Request must be a JSON:API document", "/data"))
    return dict(body["data"].get("attributes") or {})


@route("POST", r"/api/v2/organizations/(?P<org>[^/]+)/workspaces")
def create_workspace(req):
    """201 / 404 / 422 (name taken or malformed)."""
    org = visible_org(req, req.params["org"])
    attrs = _attributes(req)
    name = attrs.pop("name", None)
    if not isinstance(name, str) or not name:
        return jsonapi.error(422, "invalid attribute", "Name can't be blank", "/data/attributes/name")
    if not NAME_RE.fullmatch(name):
        return jsonapi.error(422, "invalid attribute", "Name is invalid", "/data/attributes/name")
    with req.state.lock:
        if by_name(req.state, org.name, name) is not None:
            return jsonapi.error(422, "invalid attribute", "Name has already been taken", "/data/attributes/name")
        ws = Workspace(req.state.new_id("ws"), org.name, name,
                       {k: v for k, v in attrs.items() if k in WORKSPACE_ATTRIBUTES})
        req.state.workspaces[ws.id] = ws
    return jsonapi.document(workspace_resource(req, ws), status=201)


@route("GET", r"/api/v2/organizations/(?P<org>[^/]+)/workspaces")
def list_workspaces(req):
    """The organization's workspaces, paginated; ``search[name]`` filters."""
    org = visible_org(req, req.params["org"])
    with req.state.lock:
        items = sorted((ws for ws in req.state.workspaces.values() if ws.organization == org.name),
                       key=lambda ws: ws.name)
    search = req.query.get("search[name]")
    if search:
        items = [ws for ws in items if search in ws.name]
    return jsonapi.paginated(req, items, lambda ws: workspace_resource(req, ws))


def _addressed(req):
    """The workspace a route addresses, by ``ws_id`` or by ``org`` and ``name``; else raise -> 404."""
    if "ws_id" in req.params:
        return visible_workspace(req, req.params["ws_id"])
    org = visible_org(req, req.params["org"])
    ws = by_name(req.state, org.name, req.params["name"])
    if ws is None:
        raise jsonapi.abort(jsonapi.not_found())
    return ws


BY_NAME = r"/api/v2/organizations/(?P<org>[^/]+)/workspaces/(?P<name>[^/]+)"
BY_ID = r"/api/v2/workspaces/(?P<ws_id>[^/]+)"


@route("GET", BY_NAME)
@route("GET", BY_ID)
def show_workspace(req):
    """200 / 404."""
    return jsonapi.document(workspace_resource(req, _addressed(req)))


@route("PATCH", BY_NAME)
@route("PATCH", BY_ID)
def update_workspace(req):
    """Set attributes (renaming is not emulated)."""
    ws = _addressed(req)
    attrs = _attributes(req)
    with req.state.lock:
        for key, value in attrs.items():
            if key in WORKSPACE_ATTRIBUTES:
                ws.attributes[key] = value
    return jsonapi.document(workspace_resource(req, ws))


@route("DELETE", BY_NAME)
@route("DELETE", BY_ID)
def delete_workspace(req):
    """204; owners and site admins."""
    ws = _addressed(req)
    if not may_administer(req, req.state.organizations[ws.organization]):
        return jsonapi.not_found()
    with req.state.lock:
        req.state.workspaces.pop(ws.id, None)
        for sv_id in [sv.id for sv in req.state.state_versions.values() if sv.workspace_id == ws.id]:
            req.state.state_versions.pop(sv_id)
    return jsonapi.empty(204)


def lock_reason(body):
    """The reason of a lock request: plain ``{"reason"}``, go-tfe's ``{"data":{"attributes":{"reason"}}}``, or
    nothing (an absent or empty body)."""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("data"), dict):
        return str((body["data"].get("attributes") or {}).get("reason") or "")
    return str(body.get("reason") or "")


@route("POST", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/actions/lock")
def lock_workspace(req):
    """200 / 404 / 409 already locked."""
    ws = visible_workspace(req, req.params["ws_id"])
    who = holder(req)
    if who is None:
        return jsonapi.not_found()
    with req.state.lock:
        if ws.locked_by is not None:
            return jsonapi.error(409, "conflict", "Unable to lock workspace. The workspace is already locked.")
        ws.locked_by = who
        ws.locked_reason = lock_reason(req.json)
    return jsonapi.document(workspace_resource(req, ws))


@route("POST", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/actions/unlock")
def unlock_workspace(req):
    """200 / 404 / 409 already unlocked or held by another / 503 while a state version is pending."""
    ws = visible_workspace(req, req.params["ws_id"])
    who = holder(req)
    with req.state.lock:
        if ws.locked_by is None:
            return jsonapi.error(409, "conflict", "Unable to unlock workspace. The workspace is already unlocked.")
        if ws.locked_by != who:
            return jsonapi.error(409, "conflict", "Unable to unlock workspace. The workspace is locked by %s."
                                 % holder_name(req.state, ws.locked_by))
        if pending_state_version(req.state, ws) is not None:
            return jsonapi.error(503, "service unavailable",
                                 "Unable to unlock workspace: the latest state version is still pending.")
        ws.locked_by = None
        ws.locked_reason = ""
    return jsonapi.document(workspace_resource(req, ws))


@route("POST", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/actions/force-unlock")
def force_unlock_workspace(req):
    """200 (site admins and owners) / 404 / 409 already unlocked."""
    ws = visible_workspace(req, req.params["ws_id"])
    if not may_administer(req, req.state.organizations[ws.organization]):
        return jsonapi.not_found()
    with req.state.lock:
        if ws.locked_by is None:
            return jsonapi.error(409, "conflict", "Unable to unlock workspace. The workspace is already unlocked.")
        ws.locked_by = None
        ws.locked_reason = ""
    return jsonapi.document(workspace_resource(req, ws))


def variable_resource(ws, var):
    """A ``vars`` resource; a sensitive variable's value is never shown."""
    attrs = {k: var.get(k) for k in ("key", "category", "hcl", "sensitive", "description")}
    attrs["value"] = None if var.get("sensitive") else var.get("value")
    return {"id": var["id"], "type": "vars", "attributes": attrs,
            "relationships": {"configurable": {"data": {"id": ws.id, "type": "workspaces"}}}}


@route("GET", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/vars")
def list_variables(req):
    """The workspace's variables (not paginated, as in TFE)."""
    ws = visible_workspace(req, req.params["ws_id"])
    return jsonapi.document([variable_resource(ws, var) for var in ws.variables])


@route("POST", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/vars")
def create_variable(req):
    """201 / 422 (key missing or taken)."""
    ws = visible_workspace(req, req.params["ws_id"])
    attrs = _attributes(req)
    key = attrs.get("key")
    category = attrs.get("category") or "terraform"
    if not isinstance(key, str) or not key:
        return jsonapi.error(422, "invalid attribute", "Key can't be blank", "/data/attributes/key")
    with req.state.lock:
        if any(var["key"] == key and var["category"] == category for var in ws.variables):
            return jsonapi.error(422, "invalid attribute", "Key has already been taken", "/data/attributes/key")
        var = {"id": req.state.new_id("var"), "key": key, "value": attrs.get("value"), "category": category,
               "sensitive": bool(attrs.get("sensitive")), "hcl": bool(attrs.get("hcl")),
               "description": attrs.get("description")}
        ws.variables.append(var)
    return jsonapi.document(variable_resource(ws, var), status=201)


@control_handler
def control(state, method, sub, data):
    """``GET /_emulator/workspaces`` and ``POST /_emulator/workspaces/lock``."""
    if sub == "/workspaces" and method == "GET":
        with state.lock:
            return Response(200, [ws.to_dict(state) for ws in state.workspaces.values()])
    if sub == "/workspaces/lock" and method == "POST":
        data = data or {}
        with state.lock:
            ws = state.workspaces.get(data.get("id"))
            user = state.user_by_name(data.get("username"))
            if ws is None or user is None:
                return Response(404, {"error": "no such workspace or user"})
            ws.locked_by = ("users", user.id)
            ws.locked_reason = data.get("reason") or "locked by %s" % user.username
            return Response(200, ws.to_dict(state))
    return None
