"""State versions (api-contracts.md §3.5, §7.3): inline, or pending with one-shot unauthenticated upload URLs.

A state version is created by the holder of the workspace's lock only (409 otherwise, with TFE's texts); the
``serial`` and ``md5`` attributes must match the raw state, and a state of another lineage (409), or the same
serial with other content (409), is refused unless ``force``. Without ``state`` the version is ``pending`` with
``hosted-state-upload-url`` and ``hosted-json-state-upload-url``, each taking one unauthenticated ``PUT``; with
the config knob ``state_version_upload_urls: false`` such a create is a 422 ("param is missing or the value is
empty: state"), as on a server without upload URLs. Download URLs are unauthenticated archivist URLs
(``/_archivist/v1/object/<secret>``): secrets. The ``state-storage`` entitlement gates every route here (404).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from . import jsonapi
from .routes_organizations import visible_org
from .routes_workspaces import by_name, current_state_version, holder, visible_workspace
from .routing import ApiError, Response, route

MD5_RE = re.compile(r"[0-9a-f]{32}")
NOT_LOCKED = "This workspace is not locked and will only accept state uploads when locked"
LINEAGE_MISMATCH = ("The lineage provided in the state file does not match the value currently known by Terraform "
                    "Enterprise. This means that the provided state is most likely not related to the target "
                    "workspace. Check that the backend configuration is correct and try again.")
MD5_MISMATCH = "The MD5 hash of the state provided does not match what is currently known for the same serial number"
ARCHIVIST = "/_archivist/v1/object/"


class StateVersion:
    """One state version of a workspace; ``raw`` the state bytes once uploaded."""

    def __init__(self, sv_id, workspace_id, serial, md5, lineage, created_by, force):
        self.id = sv_id
        self.workspace_id = workspace_id
        self.serial = serial
        self.md5 = md5
        self.lineage = lineage
        self.created_by = created_by
        self.force = force
        self.raw = None
        self.json_state = None
        self.status = "pending"
        self.created_at = jsonapi.now()
        self.download_key = None
        self.json_download_key = None
        self.upload_key = None
        self.json_upload_key = None

    def to_dict(self):
        """Control-API view (no URL)."""
        return {"id": self.id, "serial": self.serial, "md5": self.md5, "lineage": self.lineage,
                "status": self.status, "size": len(self.raw) if self.raw is not None else None,
                "created_at": jsonapi.rfc3339(self.created_at), "force": self.force}


def _entitled(req, org_name):
    org = visible_org(req, org_name)
    if not req.state.entitlements_for(org).get("state-storage", False):
        raise jsonapi.abort(jsonapi.not_found())
    return org


def _workspace(req):
    ws = visible_workspace(req, req.params["ws_id"])
    _entitled(req, ws.organization)
    return ws


def _current(req):
    """The current state version of the addressed workspace; none yet -> 404."""
    sv = current_state_version(req.state, _workspace(req))
    if sv is None:
        raise jsonapi.abort(jsonapi.not_found())
    return sv


def _url(req, key):
    return "%s%s%s" % (req.base_url, ARCHIVIST, key) if key else None


def state_version_resource(req, sv):
    """A ``state-versions`` resource; download and upload URLs are secrets."""
    attrs = {
        "created-at": jsonapi.rfc3339(sv.created_at), "serial": sv.serial, "status": sv.status,
        "intermediate": False, "size": len(sv.raw) if sv.raw is not None else None,
        "hosted-state-download-url": _url(req, sv.download_key),
        "hosted-json-state-download-url": _url(req, sv.json_download_key),
        "hosted-state-upload-url": _url(req, sv.upload_key),
        "hosted-json-state-upload-url": _url(req, sv.json_upload_key),
        "resources-processed": sv.status == "finalized", "state-version": 4, "terraform-version": None,
        "modules": None, "providers": None, "resources": None, "vcs-commit-sha": None, "vcs-commit-url": None,
    }
    return {"id": sv.id, "type": "state-versions", "attributes": attrs,
            "relationships": {"workspace": {"data": {"id": sv.workspace_id, "type": "workspaces"}},
                              "run": {"data": None},
                              "created-by": {"data": {"id": sv.created_by[1], "type": sv.created_by[0]}},
                              "outputs": {"data": []}},
            "links": {"self": "/api/v2/state-versions/%s" % sv.id}}


def _error(status, detail, pointer=None):
    titles = {409: "Conflict", 422: "invalid attribute", 412: "precondition failed"}
    return jsonapi.abort(jsonapi.error(status, titles.get(status, "error"), detail, pointer))


def check_raw(raw, serial, md5, lineage):
    """The parsed state when ``raw`` matches the declared ``serial``, ``md5`` and ``lineage``; else raise 422."""
    if hashlib.md5(raw).hexdigest() != md5:
        raise _error(422, "MD5 hash of the state does not match the md5 attribute", "/data/attributes/md5")
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise _error(422, "State is not valid JSON", "/data/attributes/state")
    if not isinstance(parsed, dict) or parsed.get("serial") != serial:
        raise _error(422, "Serial does not match the serial in the state", "/data/attributes/serial")
    if lineage is not None and parsed.get("lineage") != lineage:
        raise _error(422, "Lineage does not match the lineage in the state", "/data/attributes/lineage")
    return parsed


def _finalize(state, sv, raw):
    sv.raw = raw
    sv.status = "finalized"
    sv.upload_key = None
    sv.download_key = state.new_id("obj")[4:] + state.new_id("obj")[4:]
    state.blobs[sv.download_key] = ("state", sv.id)
    if sv.json_state is not None or sv.json_upload_key is None:
        sv.json_download_key = state.new_id("obj")[4:] + state.new_id("obj")[4:]
        state.blobs[sv.json_download_key] = ("json-state", sv.id)


@route("POST", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/state-versions")
def create_state_version(req):
    """201 / 404 / 409 (not locked by the caller, lineage, md5 for the same serial) / 422."""
    ws = _workspace(req)
    who = holder(req)
    if who is None:
        return jsonapi.not_found()
    body = req.json
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return jsonapi.error(422, "invalid attribute", "Request must be a JSON:API document", "/data")
    attrs = data.get("attributes") or {}
    serial = attrs.get("serial")
    md5 = attrs.get("md5")
    lineage = attrs.get("lineage")
    force = attrs.get("force") is True
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
        return jsonapi.error(422, "invalid attribute", "Serial is required", "/data/attributes/serial")
    if not isinstance(md5, str) or not MD5_RE.fullmatch(md5):
        return jsonapi.error(422, "invalid attribute", "MD5 is required", "/data/attributes/md5")
    raw = None
    if attrs.get("state") is not None:
        try:
            raw = base64.b64decode(attrs["state"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            return jsonapi.error(422, "invalid attribute", "State is not valid base64", "/data/attributes/state")
        parsed = check_raw(raw, serial, md5, lineage)
        lineage = parsed.get("lineage")
    elif not req.config.get("state_version_upload_urls", True):
        return jsonapi.error(422, "invalid attribute", "param is missing or the value is empty: state",
                             "/data/attributes/state")
    state = req.state
    with state.lock:
        if ws.locked_by is None:
            return jsonapi.error(409, "Conflict", NOT_LOCKED)
        if ws.locked_by != who:
            return jsonapi.error(409, "Conflict", "This workspace is locked by another user or run and will only "
                                 "accept state uploads from the holder of the lock")
        current = current_state_version(state, ws)
        if current is not None and not force:
            if lineage is not None and current.lineage is not None and lineage != current.lineage:
                return jsonapi.error(409, "Conflict", LINEAGE_MISMATCH)
            if serial == current.serial and md5 != current.md5:
                return jsonapi.error(409, "Conflict", MD5_MISMATCH)
        sv = StateVersion(state.new_id("sv"), ws.id, serial, md5, lineage, who, force)
        if attrs.get("json-state") is not None:
            try:
                sv.json_state = base64.b64decode(attrs["json-state"])
            except (binascii.Error, TypeError, ValueError):
                return jsonapi.error(422, "invalid attribute", "json-state is not valid base64",
                                     "/data/attributes/json-state")
        if raw is not None:
            _finalize(state, sv, raw)
        else:
            sv.upload_key = state.new_id("up")[3:] + state.new_id("up")[3:]
            sv.json_upload_key = state.new_id("up")[3:] + state.new_id("up")[3:]
            state.blobs[sv.upload_key] = ("upload", sv.id)
            state.blobs[sv.json_upload_key] = ("json-upload", sv.id)
        state.state_versions[sv.id] = sv
    return jsonapi.document(state_version_resource(req, sv), status=201)


@route("GET", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/current-state-version")
def show_current_state_version(req):
    """200 / 404 (also when the workspace has no state yet)."""
    return jsonapi.document(state_version_resource(req, _current(req)))


@route("GET", r"/api/v2/workspaces/(?P<ws_id>[^/]+)/current-state-version-outputs")
def show_current_outputs(req):
    """The outputs of the current state version (never sensitive values)."""
    sv = _current(req)
    outputs = []
    parsed = json.loads(sv.raw.decode("utf-8"))
    for name, out in sorted((parsed.get("outputs") or {}).items()):
        sensitive = bool(out.get("sensitive"))
        outputs.append({"id": "wsout-%s" % hashlib.sha1((sv.id + name).encode()).hexdigest()[:16],
                        "type": "state-version-outputs",
                        "attributes": {"name": name, "sensitive": sensitive, "type": out.get("type"),
                                       "value": None if sensitive else out.get("value"),
                                       "detailed-type": out.get("type")}})
    return jsonapi.document(outputs)


@route("GET", r"/api/v2/state-versions/(?P<sv_id>[^/]+)")
def show_state_version(req):
    """200 / 404."""
    jsonapi.require_token(req)
    sv = req.state.state_versions.get(req.params["sv_id"])
    if sv is None:
        return jsonapi.not_found()
    visible_workspace(req, sv.workspace_id)
    _entitled(req, req.state.workspaces[sv.workspace_id].organization)
    return jsonapi.document(state_version_resource(req, sv))


@route("GET", r"/api/v2/state-versions")
def list_state_versions(req):
    """Newest first; both ``filter[workspace][name]`` and ``filter[organization][name]`` are required."""
    jsonapi.require_token(req)
    ws_name = req.query.get("filter[workspace][name]")
    org_name = req.query.get("filter[organization][name]")
    if not ws_name or not org_name:
        return jsonapi.error(422, "invalid attribute",
                             "filter[workspace][name] and filter[organization][name] are required")
    _entitled(req, org_name)
    ws = by_name(req.state, org_name, ws_name)
    if ws is None:
        return jsonapi.not_found()
    status = req.query.get("filter[status]")
    with req.state.lock:
        items = [sv for sv in req.state.state_versions.values() if sv.workspace_id == ws.id
                 and (status is None or sv.status == status)]
    items.reverse()
    return jsonapi.paginated(req, items, lambda sv: state_version_resource(req, sv))


@route("GET", r"/_archivist/v1/object/(?P<key>[A-Za-z0-9]+)")
def download(req):
    """An unauthenticated download URL: the raw state (or its JSON form)."""
    slot = req.state.blobs.get(req.params["key"])
    if slot is None or slot[0] not in ("state", "json-state"):
        return jsonapi.not_found()
    sv = req.state.state_versions.get(slot[1])
    if sv is None:
        return jsonapi.not_found()
    payload = sv.raw if slot[0] == "state" else (sv.json_state or b"{}")
    return Response(200, payload, content_type="application/json")


@route("PUT", r"/_archivist/v1/object/(?P<key>[A-Za-z0-9]+)")
def upload(req):
    """An unauthenticated one-shot upload URL: the state finalizes the version; the URL is gone afterwards."""
    state = req.state
    with state.lock:
        slot = state.blobs.pop(req.params["key"], None)
        if slot is None or slot[0] not in ("upload", "json-upload"):
            return jsonapi.not_found()
        sv = state.state_versions.get(slot[1])
        if sv is None:
            return jsonapi.not_found()
        if slot[0] == "json-upload":
            sv.json_state = req.body
            sv.json_upload_key = None
            if sv.download_key:
                sv.json_download_key = state.new_id("obj")[4:] + state.new_id("obj")[4:]
                state.blobs[sv.json_download_key] = ("json-state", sv.id)
            return Response(200, None)
        try:
            parsed = check_raw(req.body, sv.serial, sv.md5, sv.lineage)
        except ApiError as exc:
            state.blobs[req.params["key"]] = slot
            return exc.response
        ws = state.workspaces.get(sv.workspace_id)
        current = current_state_version(state, ws) if ws else None
        if current is not None and not sv.force and current.lineage and parsed.get("lineage") != current.lineage:
            state.blobs[req.params["key"]] = slot
            return jsonapi.error(409, "Conflict", LINEAGE_MISMATCH)
        sv.lineage = parsed.get("lineage")
        _finalize(state, sv, req.body)
    return Response(200, None)
