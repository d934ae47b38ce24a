# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state migration engine: copy Terraform states into PTFE / TFE workspaces, safely and re-runnably.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore): it is
for the collection's own modules and may change without notice. It holds no Ansible: the module gives it
clients (``_ptfe_client.PtfeClient`` or anything with the same ``get``/``post``/``request``), a ``blobs``
object that moves raw bytes to and from the unauthenticated download and upload URLs, and a ``register``
callable that is told every URL the server hands out, which are secrets.

For one workspace the engine:

1. reads the source state (a local file, or the current / every state version of a TFE workspace) and parses
   it as JSON: ``serial``, ``lineage`` and the MD5 of the raw bytes;
2. reads the target workspace and its current state (no lock, no write): identical -> ``unchanged``; the
   target newer, another lineage, or the same serial with other content -> ``refused`` unless ``force``;
3. otherwise locks the target (unless check mode), checks again under the lock, uploads, and unlocks in a
   ``finally``: only a lock this run took, or one left by an earlier run of the migration by the same account
   (recognised by the lock's holder and reason). A lock held by anybody else is never touched.
"""

from __future__ import annotations

import base64
import hashlib
import json

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError

#: The lock reason the migration sets; a lock of the same account with this reason is the migration's own.
LOCK_REASON = "ptfe.ops state migration"
RESULTS = ("changed", "unchanged", "refused", "failed")
UPLOAD_MISSING_STATE = "param is missing or the value is empty: state"


class StateError(OpsError):
    """A state that cannot be migrated as it is (not JSON, no lineage, a serial that does not match)."""


def parse_state(raw, origin, expected_serial=None, expected_lineage=None):
    """``{"serial", "lineage", "md5", "size", "terraform_version"}`` of the raw state bytes ``raw``.

    :class:`StateError` names ``origin`` when the bytes are not a JSON object, have no ``lineage`` or no whole
    ``serial``, or when ``expected_serial`` / ``expected_lineage`` (given by the operator) differ from the file.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateError("%s is not a Terraform state: not JSON (%s)" % (origin, exc))
    if not isinstance(doc, dict):
        raise StateError("%s is not a Terraform state: not a JSON object" % origin)
    lineage = doc.get("lineage")
    if not isinstance(lineage, str) or not lineage.strip():
        raise StateError("%s has no lineage: a state without one cannot be matched to its workspace" % origin)
    serial = doc.get("serial")
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise StateError("%s has no serial (a whole number), got %r" % (origin, serial))
    if expected_serial is not None and expected_serial != serial:
        raise StateError("%s: serial is %d in the file, but %d was given" % (origin, serial, expected_serial))
    if expected_lineage is not None and expected_lineage != lineage:
        raise StateError("%s: lineage is %s in the file, but %s was given" % (origin, lineage, expected_lineage))
    return {"serial": serial, "lineage": lineage, "md5": hashlib.md5(raw).hexdigest(), "size": len(raw),
            "terraform_version": doc.get("terraform_version")}


def compare(source, target, force=False):
    """(decision, reason): ``unchanged``, ``upload`` or ``refuse`` for the source state summary ``source`` and
    the target's current one ``target`` (None: the target has no state)."""
    if target is None:
        return "upload", "the target workspace has no state"
    if source["lineage"] != target["lineage"]:
        why = "the target's state has another lineage (%s, the source's is %s)" % (target["lineage"], source["lineage"])
    elif source["serial"] == target["serial"] and source["md5"] == target["md5"]:
        return "unchanged", "the target already holds serial %d of lineage %s" % (source["serial"], source["lineage"])
    elif source["serial"] == target["serial"]:
        why = "the target holds serial %d with other content (MD5 %s, the source's is %s)" % (
            target["serial"], target["md5"], source["md5"])
    elif source["serial"] < target["serial"]:
        why = "the target is newer (serial %d, the source's is %d)" % (target["serial"], source["serial"])
    else:
        return "upload", "serial %d replaces the target's serial %d" % (source["serial"], target["serial"])
    if force:
        return "upload", why + "; uploaded anyway (force)"
    return "refuse", why + "; set force to overwrite it"


def summary(state):
    """What a result shows of a state: serial, lineage, MD5 (never content), or None."""
    if state is None:
        return None
    return {"serial": state["serial"], "lineage": state["lineage"], "md5": state["md5"]}


class Migrator:
    """Migrate states into the workspaces of one organization on ``target`` (a client).

    ``blobs`` has ``get(client, url)`` -> bytes and ``put(client, url, data)``; ``register(url)`` learns a
    secret URL. ``identity`` is the target account's user id (from ``/api/v2/account/details``).
    """

    def __init__(self, target, organization, blobs, register, identity=None, force=False, check_mode=False,
                 upload_method="inline", create=False, history="latest"):
        self.target = target
        self.organization = organization
        self.blobs = blobs
        self.register = register
        self.identity = identity
        self.force = force
        self.check_mode = check_mode
        self.upload_method = upload_method
        self.create = create
        self.history = history

    # -- reading -----------------------------------------------------------------------------------------

    def _download(self, client, version, origin):
        attrs = (version.get("attributes") or {}) if version else {}
        url = attrs.get("hosted-state-download-url")
        for key in ("hosted-state-download-url", "hosted-json-state-download-url", "hosted-state-upload-url",
                    "hosted-json-state-upload-url"):
            if attrs.get(key):
                self.register(attrs[key])
        if not url:
            raise StateError("%s: state version %s has no download URL (status %s)"
                             % (origin, version.get("id"), attrs.get("status")))
        raw = self.blobs.get(client, url)
        return raw, parse_state(raw, "%s state version %s" % (origin, version.get("id")))

    def read_workspace(self, client, organization, name):
        """The workspace document's ``data``, or None (404)."""
        try:
            body = client.get("/api/v2/organizations/%s/workspaces/%s" % (organization, name),
                              action="read workspace %s/%s" % (organization, name))
        except OpsError as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise
        return (body or {}).get("data")

    def current_state(self, client, workspace, origin):
        """(raw, parsed, state version id) of the workspace's current state, or (None, None, None)."""
        rel = ((workspace.get("relationships") or {}).get("current-state-version") or {})
        if "data" in rel and rel["data"] is None:
            return None, None, None
        try:
            body = client.get("/api/v2/workspaces/%s/current-state-version" % workspace["id"],
                              action="read the current state of %s" % origin)
        except OpsError as exc:
            if getattr(exc, "status", None) == 404:
                return None, None, None
            raise
        version = (body or {}).get("data") or {}
        raw, parsed = self._download(client, version, origin)
        return raw, parsed, version.get("id")

    def source_states(self, source):
        """The source's states to migrate, oldest first: a list of ``(raw, parsed)``; plus the names of its
        sensitive variables (TFE sources) or None."""
        if source.get("raw") is not None:
            return [(source["raw"], source["parsed"])], None
        client = source["client"]
        org, name = source["organization"], source["workspace"]
        origin = "source workspace %s/%s" % (org, name)
        ws = self.read_workspace(client, org, name)
        if ws is None:
            raise StateError("%s does not exist, or the source token may not see it" % origin)
        sensitive = None
        if source.get("list_sensitive_variables", True):
            body = client.get("/api/v2/workspaces/%s/vars" % ws["id"], action="list the variables of %s" % origin)
            sensitive = sorted(((v.get("attributes") or {}).get("key") for v in (body or {}).get("data") or []
                                if (v.get("attributes") or {}).get("sensitive")), key=str)
        if self.history == "all":
            versions = list(client.paginate("/api/v2/state-versions", params={
                "filter[workspace][name]": name, "filter[organization][name]": org},
                action="list the state versions of %s" % origin))
            finals = [v for v in versions if (v.get("attributes") or {}).get("status", "finalized") == "finalized"]
            finals.sort(key=lambda v: (v.get("attributes") or {}).get("serial") or 0)
            return finals, sensitive
        raw, parsed, _sv = self.current_state(client, ws, origin)
        if raw is None:
            raise StateError("%s has no state" % origin)
        return [(raw, parsed)], sensitive

    # -- writing -----------------------------------------------------------------------------------------

    def _lock(self, ws, origin):
        body = self.target.post("/api/v2/workspaces/%s/actions/lock" % ws["id"], json={"reason": LOCK_REASON},
                                expected=(200,), action="lock %s" % origin)
        return (body or {}).get("data") or ws

    def _unlock(self, ws, origin):
        self.target.post("/api/v2/workspaces/%s/actions/unlock" % ws["id"], expected=(200,),
                         action="unlock %s" % origin)

    def _upload(self, ws, raw, parsed, origin, force):
        attrs = {"serial": parsed["serial"], "md5": parsed["md5"], "lineage": parsed["lineage"]}
        if force:
            attrs["force"] = True
        path = "/api/v2/workspaces/%s/state-versions" % ws["id"]
        action = "upload serial %d to %s" % (parsed["serial"], origin)
        if self.upload_method == "url":
            try:
                body = self.target.post(path, json={"data": {"type": "state-versions", "attributes": attrs}},
                                        expected=(201,), action=action)
            except OpsError as exc:
                if getattr(exc, "status", None) != 422 or UPLOAD_MISSING_STATE not in str(exc):
                    raise
            else:
                version = (body or {}).get("data") or {}
                url = (version.get("attributes") or {}).get("hosted-state-upload-url")
                if url:
                    self.register(url)
                    self.blobs.put(self.target, url, raw)
                    return version.get("id")
        attrs["state"] = base64.b64encode(raw).decode("ascii")
        body = self.target.post(path, json={"data": {"type": "state-versions", "attributes": attrs}},
                                expected=(201,), action=action)
        version = (body or {}).get("data") or {}
        for key, value in (version.get("attributes") or {}).items():
            if key.startswith("hosted-") and value:
                self.register(value)
        return version.get("id")

    def _lock_holder(self, ws):
        rel = (((ws.get("relationships") or {}).get("locked-by") or {}).get("data")) or None
        attrs = ws.get("attributes") or {}
        if not attrs.get("locked"):
            return None
        return {"type": (rel or {}).get("type"), "id": (rel or {}).get("id"), "reason": attrs.get("locked-reason")}

    def _ours(self, holder):
        return bool(holder and self.identity and holder["id"] == self.identity and holder["reason"] == LOCK_REASON)

    # -- one workspace -----------------------------------------------------------------------------------

    def migrate(self, item):
        """Migrate one workspace; return its result (never raises an OpsError: it becomes ``failed``)."""
        name = item["name"]
        origin = "workspace %s/%s" % (self.organization, name)
        result = {"name": name, "organization": self.organization, "result": None, "msg": "", "source": None,
                  "target_before": None, "target_after": None, "uploaded_serials": [], "locked_by": None,
                  "sensitive_variables": None, "created": False, "released_lock": False}
        try:
            self._migrate(item, origin, result)
        except OpsError as exc:
            result["result"] = "failed"
            result["msg"] = str(exc)
        note = result.pop("lock_note", None)
        if note:
            result["result"] = "failed"
            result["msg"] = "%s %s" % (result["msg"], note)
        return result

    def _migrate(self, item, origin, result):
        states, result["sensitive_variables"] = self.source_states(item["source"])
        if states and not isinstance(states[0], tuple):
            states = self._download_history(item["source"], states)
        if not states:
            raise StateError("the source of %s has no state" % origin)
        latest_raw, latest = states[-1]
        result["source"] = summary(latest)
        ws = self.read_workspace(self.target, self.organization, item["name"])
        if ws is None:
            if not (item.get("create", self.create)):
                raise StateError("%s does not exist (or this token may not see it); set create to make it" % origin)
            result["created"] = True
            if self.check_mode:
                result.update(result="changed", target_after=summary(latest),
                              uploaded_serials=[p["serial"] for _r, p in states],
                              msg="Would create %s and upload serial %s (check mode)." % (
                                  origin, ", ".join(str(p["serial"]) for _r, p in states)))
                return
            body = self.target.post("/api/v2/organizations/%s/workspaces" % self.organization,
                                    json={"data": {"type": "workspaces", "attributes": {"name": item["name"]}}},
                                    expected=(201,), action="create %s" % origin)
            ws = body["data"]
        _raw, current, current_id = self.current_state(self.target, ws, origin)
        result["target_before"] = summary(current)
        plan, reason = self._plan(states, current, item)
        holder = self._lock_holder(ws)
        ours = self._ours(holder)
        if holder and not ours:
            result["locked_by"] = {"type": holder["type"], "id": holder["id"]}
        if not plan:
            result.update(result="refused" if reason[0] == "refuse" else "unchanged", msg=reason[1],
                          target_after=summary(current))
            if ours and not self.check_mode:
                self._unlock(ws, origin)
                result["msg"] += "; released the lock an earlier run of the migration left"
                result["released_lock"] = True
            return
        if holder and not ours:
            result.update(result="refused", target_after=summary(current),
                          msg="%s is locked by %s %s (%s); its lock is left alone: %s" % (
                              origin, holder["type"], holder["id"], holder["reason"] or "no reason given", reason[1]))
            return
        serials = [p["serial"] for _r, p in plan]
        if self.check_mode:
            result.update(result="changed", uploaded_serials=serials, target_after=summary(plan[-1][1]),
                          msg="Would upload serial %s to %s: %s (check mode)." % (
                              ", ".join(map(str, serials)), origin, reason[1]))
            return
        locked = ours
        try:
            if not locked:
                try:
                    ws = self._lock(ws, origin)
                except OpsError as exc:
                    if getattr(exc, "status", None) != 409:
                        raise
                    # Somebody locked it since it was read: theirs, and left alone.
                    holder = self._lock_holder(self.read_workspace(self.target, self.organization, item["name"]) or ws)
                    if holder:
                        result["locked_by"] = {"type": holder["type"], "id": holder["id"]}
                    result.update(result="refused", target_after=summary(current),
                                  msg="%s was locked by %s meanwhile; its lock is left alone: %s" % (
                                      origin, "%s %s" % (holder["type"], holder["id"]) if holder else "somebody else",
                                      reason[1]))
                    return
                locked = True
                rel = ((ws.get("relationships") or {}).get("current-state-version") or {}).get("data") or {}
                if rel.get("id") != current_id:
                    _raw, current, current_id = self.current_state(self.target, ws, origin)
                    plan, reason = self._plan(states, current, item)
                    if not plan:
                        result.update(result="refused" if reason[0] == "refuse" else "unchanged", msg=reason[1],
                                      target_after=summary(current))
                        return
            for raw, parsed in plan:
                force = self._force(item) and (current is not None and (
                    parsed["lineage"] != current["lineage"] or parsed["serial"] <= current["serial"]))
                self._upload(ws, raw, parsed, origin, force)
                result["uploaded_serials"].append(parsed["serial"])
                current = parsed
            result.update(result="changed", target_after=summary(current),
                          msg="Uploaded serial %s to %s: %s." % (", ".join(map(str, serials)), origin, reason[1]))
        finally:
            if locked:
                try:
                    self._unlock(ws, origin)
                except OpsError as exc:
                    result["lock_note"] = ("The lock stays (the next run of the migration releases it): %s" % exc)

    def _download_history(self, source, versions):
        client = source["client"]
        origin = "source workspace %s/%s" % (source["organization"], source["workspace"])
        return [self._download(client, version, origin) for version in versions]

    def _force(self, item):
        return self.force if item.get("force") is None else bool(item["force"])

    def _plan(self, states, current, item):
        """(the states to upload, oldest first; (decision, reason)). Nothing to upload: an empty list."""
        decision, reason = compare(states[-1][1], current, self._force(item))
        if decision != "upload":
            return [], (decision, reason)
        todo = states
        if current is not None and current["lineage"] == states[-1][1]["lineage"]:
            todo = [(raw, parsed) for raw, parsed in states if parsed["serial"] > current["serial"]] or states[-1:]
        return todo, (decision, reason)


def tally(results):
    """``{"changed": n, "unchanged": n, "refused": n, "failed": n, "total": n}``."""
    counts = dict((name, 0) for name in RESULTS)
    for result in results:
        counts[result["result"]] = counts.get(result["result"], 0) + 1
    counts["total"] = len(results)
    return counts
