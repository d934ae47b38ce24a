"""Admin Terraform versions (api-contracts.md §2): ``/api/v2/admin/terraform-versions``.

Site-admin only (anyone else: 404; no token: 401). List with ``filter[version]`` (exact, wins over search),
``search[version]`` (substring) and pagination; create 201 / 422 (validation, duplicate version); show; PATCH
with the ``archs`` rules (top-level url+sha replace ``archs`` by one linux/amd64 entry; ``archs`` alone blanks
the top-level url/sha unless linux/amd64 is listed); DELETE 204, or 422 for an official or in-use version.

Records live in ``state.collections["terraform-versions"]`` (id -> dict of API attributes), so the control API's
``GET /_emulator/state`` shows them. ``usage`` is the seeded count plus the workspaces in
``state.collections["workspaces"]`` whose ``terraform-version`` is the version. Config knobs (``PATCH /_emulator/config``), for emulating older servers:

* ``terraform_versions_filter`` (default true): false = ``filter[version]``/``search[version]`` are ignored
  (servers before Jan 2022);
* ``terraform_versions_archs`` (default true): false = no ``archs`` attribute (and it is rejected on input);
* ``terraform_versions_deprecated`` (default true): false = no ``deprecated``/``deprecated-reason``.

Control endpoints added by this module (no auth, no rate limit, not logged, like the rest of ``/_emulator/``):

* ``GET /_emulator/terraform-versions`` -> every record;
* ``POST /_emulator/terraform-versions`` ``{"versions": [{"version", "url", "sha", "official", "usage", ...}]}``
  -> seeds them at once (201, the records); existing versions are replaced;
* ``PATCH /_emulator/terraform-versions/<version>`` ``{"usage": 2, "official": true, ...}`` -> sets attributes;
* ``DELETE /_emulator/terraform-versions`` -> removes every version.
"""
from __future__ import annotations

import re

from . import jsonapi
from .routing import Response, control_handler, route

COLLECTION = "terraform-versions"
TYPE = "terraform-versions"
BASE = "/api/v2/admin/terraform-versions"
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?$")
OSES = ("linux",)
ARCHS = ("amd64", "arm64", "s390x")
BOOLEANS = ("official", "enabled", "beta", "deprecated")
KNOWN = ("version", "url", "sha", "official", "enabled", "beta", "deprecated", "deprecated-reason", "archs")


def _records(state):
    return state.collections.setdefault(COLLECTION, {})


def _knob(config, name):
    return bool(config.get("terraform_versions_%s" % name, True))


def _workspace_version(item):
    attrs = item.get("attributes") if isinstance(item, dict) else getattr(item, "attributes", None)
    if isinstance(item, dict) and "terraform-version" in item:
        return item["terraform-version"]
    if isinstance(attrs, dict):
        return attrs.get("terraform-version")
    return getattr(item, "terraform_version", None)


def usage(state, rec):
    """Workspaces using the version: the seeded ``usage`` plus any workspace in ``collections["workspaces"]``
    whose ``terraform-version`` is this version."""
    count = int(rec.get("usage") or 0)
    workspaces = state.collections.get("workspaces")
    if isinstance(workspaces, dict):
        count += sum(1 for w in list(workspaces.values()) if _workspace_version(w) == rec["version"])
    return count


def serialize(config, rec, state=None):
    """The ``terraform-versions`` resource of a record, shaped per the server generation configured."""
    attrs = {
        "version": rec["version"], "url": rec["url"], "sha": rec["sha"], "official": rec["official"],
        "enabled": rec["enabled"], "beta": rec["beta"], "usage": usage(state, rec) if state else rec["usage"],
        "created-at": rec["created-at"],
    }
    if _knob(config, "deprecated"):
        attrs["deprecated"] = rec["deprecated"]
        attrs["deprecated-reason"] = rec["deprecated-reason"] if rec["deprecated"] else None
    if _knob(config, "archs"):
        attrs["archs"] = [dict(a) for a in rec["archs"]]
    return {"id": rec["id"], "type": TYPE, "attributes": attrs, "links": {"self": "%s/%s" % (BASE, rec["id"])}}


def _invalid(detail, attribute):
    return jsonapi.abort(jsonapi.error(422, "invalid attribute", detail, "/data/attributes/%s" % attribute))


def _attributes(req):
    body = req.json
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Request must be a JSON:API document", "/data"))
    data = body["data"]
    if data.get("type") != TYPE:
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Type must be terraform-versions", "/data/type"))
    attrs = data.get("attributes")
    if not isinstance(attrs, dict):
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Attributes must be an object",
                                          "/data/attributes"))
    for key in attrs:
        if key not in KNOWN or (key == "archs" and not _knob(req.config, "archs")) or (
                key in ("deprecated", "deprecated-reason") and not _knob(req.config, "deprecated")):
            raise _invalid("Unknown attribute %s" % key, key)
    for key in BOOLEANS:
        if key in attrs and not isinstance(attrs[key], bool):
            raise _invalid("%s must be true or false" % key.capitalize(), key)
    for key in ("url", "sha", "deprecated-reason"):
        if key in attrs and attrs[key] is not None and not isinstance(attrs[key], str):
            raise _invalid("%s must be a string" % key.capitalize(), key)
    if "archs" in attrs:
        archs = attrs["archs"]
        if not isinstance(archs, list):
            raise _invalid("Archs must be a list", "archs")
        seen = set()
        for index, arch in enumerate(archs):
            if not isinstance(arch, dict):
                raise _invalid("Archs must be objects", "archs/%d" % index)
            if arch.get("os") not in OSES or arch.get("arch") not in ARCHS:
                raise _invalid("Arch %s/%s is not supported" % (arch.get("os"), arch.get("arch")), "archs/%d" % index)
            if not arch.get("url") or not arch.get("sha"):
                raise _invalid("Arch url and sha can't be blank", "archs/%d" % index)
            if (arch["os"], arch["arch"]) in seen:
                raise _invalid("Arch %s/%s is listed twice" % (arch["os"], arch["arch"]), "archs/%d" % index)
            seen.add((arch["os"], arch["arch"]))
    return attrs


def _check_version(state, version, own_id=None):
    if not isinstance(version, str) or not version:
        raise _invalid("Version can't be blank", "version")
    if not VERSION_RE.match(version):
        raise _invalid("Version is invalid", "version")
    for rec in _records(state).values():
        if rec["version"] == version and rec["id"] != own_id:
            raise _invalid("Version has already been taken", "version")


def _amd64(archs):
    for arch in archs:
        if arch["os"] == "linux" and arch["arch"] == "amd64":
            return arch
    return None


def _clean_archs(archs):
    return [{"url": a["url"], "sha": a["sha"], "os": a["os"], "arch": a["arch"]} for a in archs]


def apply_attributes(rec, attrs):
    """Apply a create/PATCH attribute set to a record, with the §2.2 ``archs`` rules."""
    for key in BOOLEANS:
        if key in attrs:
            rec[key] = attrs[key]
    if "deprecated-reason" in attrs:
        rec["deprecated-reason"] = attrs["deprecated-reason"]
    if not rec["deprecated"]:
        rec["deprecated-reason"] = None
    if "version" in attrs:
        rec["version"] = attrs["version"]
    has_archs = "archs" in attrs and attrs["archs"] is not None
    has_top = "url" in attrs or "sha" in attrs
    if has_archs:
        rec["archs"] = _clean_archs(attrs["archs"])
        amd64 = _amd64(rec["archs"])
        if amd64:
            rec["url"], rec["sha"] = amd64["url"], amd64["sha"]
        elif has_top:
            rec["url"], rec["sha"] = attrs.get("url") or "", attrs.get("sha") or ""
        else:
            rec["url"], rec["sha"] = "", ""
    elif has_top:
        rec["url"] = attrs.get("url", rec["url"]) or ""
        rec["sha"] = attrs.get("sha", rec["sha"]) or ""
        rec["archs"] = [{"url": rec["url"], "sha": rec["sha"], "os": "linux", "arch": "amd64"}]
    return rec


def new_record(state, attrs):
    """A fresh record with defaults, then ``attrs`` applied."""
    rec = {"id": state.new_id("tool"), "version": attrs.get("version"), "url": "", "sha": "", "official": False,
           "enabled": True, "beta": False, "deprecated": False, "deprecated-reason": None, "usage": 0,
           "created-at": jsonapi.rfc3339(jsonapi.now()), "archs": []}
    return apply_attributes(rec, attrs)


def _find(req):
    rec = _records(req.state).get(req.params["tool_id"])
    if rec is None:
        raise jsonapi.abort(jsonapi.not_found())
    return rec


@route("GET", r"/api/v2/admin/terraform-versions")
def list_versions(req):
    """200 list; ``filter[version]`` exact (wins), ``search[version]`` substring, paginated (default 20)."""
    jsonapi.require_site_admin(req)
    state = req.state
    with state.lock:
        recs = [dict(r) for r in _records(state).values()]
    if _knob(req.config, "filter"):
        exact = req.query.get("filter[version]")
        search = req.query.get("search[version]")
        if exact is not None:
            recs = [r for r in recs if r["version"] == exact]
        elif search:
            recs = [r for r in recs if search in r["version"]]
    return jsonapi.paginated(req, recs, lambda r: serialize(req.config, r, state))


@route("POST", r"/api/v2/admin/terraform-versions")
def create_version(req):
    """201; 422 for an invalid document, a bad or taken version, or no url+sha / archs."""
    jsonapi.require_site_admin(req)
    state = req.state
    attrs = _attributes(req)
    with state.lock:
        _check_version(state, attrs.get("version"))
        if not attrs.get("archs") and not attrs.get("url"):
            raise _invalid("Url can't be blank", "url")
        if not attrs.get("archs") and not attrs.get("sha"):
            raise _invalid("Sha can't be blank", "sha")
        rec = new_record(state, attrs)
        _records(state)[rec["id"]] = rec
        rec = dict(rec)
    return jsonapi.document(serialize(req.config, rec, req.state), status=201)


@route("GET", r"/api/v2/admin/terraform-versions/(?P<tool_id>[^/]+)")
def show_version(req):
    """200 / 404."""
    jsonapi.require_site_admin(req)
    with req.state.lock:
        rec = dict(_find(req))
    return jsonapi.document(serialize(req.config, rec, req.state))


@route("PATCH", r"/api/v2/admin/terraform-versions/(?P<tool_id>[^/]+)")
def update_version(req):
    """200; omitted attributes keep their value; 404; 422."""
    jsonapi.require_site_admin(req)
    state = req.state
    attrs = _attributes(req)
    with state.lock:
        rec = _find(req)
        if "version" in attrs:
            _check_version(state, attrs["version"], own_id=rec["id"])
        if "url" in attrs and not attrs["url"] and not attrs.get("archs"):
            raise _invalid("Url can't be blank", "url")
        if "sha" in attrs and not attrs["sha"] and not attrs.get("archs"):
            raise _invalid("Sha can't be blank", "sha")
        updated = apply_attributes(dict(rec, archs=list(rec["archs"])), attrs)
        rec.clear()
        rec.update(updated)
        rec = dict(rec)
    return jsonapi.document(serialize(req.config, rec, req.state))


@route("DELETE", r"/api/v2/admin/terraform-versions/(?P<tool_id>[^/]+)")
def delete_version(req):
    """204; 422 for an official version or one in use; 404."""
    jsonapi.require_site_admin(req)
    state = req.state
    with state.lock:
        rec = _find(req)
        if rec["official"] or usage(state, rec) > 0:
            return jsonapi.error(422, "unprocessable entity",
                                 "Terraform version %s cannot be removed (it is official or is in use)"
                                 % rec["version"])
        del _records(state)[rec["id"]]
    return jsonapi.empty(204)


# -- control API extension -------------------------------------------------------------------------------------


@control_handler
def control(state, method, sub, data):
    """Handle ``/_emulator/terraform-versions[/<version>]``; return a Response or None (not ours)."""
    if sub == "/terraform-versions" and method == "GET":
        with state.lock:
            return Response(200, [dict(r) for r in _records(state).values()])
    if sub == "/terraform-versions" and method == "POST":
        out = []
        with state.lock:
            recs = _records(state)
            by_version = {r["version"]: r["id"] for r in recs.values()}
            for seed in (data or {}).get("versions") or []:
                seed = dict(seed)
                usage = int(seed.pop("usage", 0) or 0)
                has_created = "created-at" in seed
                created_at = seed.pop("created-at", None)
                if seed["version"] in by_version:
                    del recs[by_version[seed["version"]]]
                rec = new_record(state, seed)
                rec["usage"] = usage
                if has_created:
                    rec["created-at"] = created_at
                recs[rec["id"]] = rec
                by_version[rec["version"]] = rec["id"]
                out.append(dict(rec))
        return Response(201, out)
    if sub == "/terraform-versions" and method == "DELETE":
        with state.lock:
            _records(state).clear()
        return Response(200, {"cleared": True})
    match = re.fullmatch(r"/terraform-versions/(?P<version>[^/]+)", sub)
    if match and method in ("PATCH", "GET"):
        with state.lock:
            for rec in _records(state).values():
                if rec["version"] == match.group("version"):
                    if method == "PATCH":
                        changes = dict(data or {})
                        if "usage" in changes:
                            rec["usage"] = int(changes.pop("usage") or 0)
                        apply_attributes(rec, changes)
                    return Response(200, dict(rec))
        return Response(404, {"error": "no Terraform version %s" % match.group("version")})
    return None
