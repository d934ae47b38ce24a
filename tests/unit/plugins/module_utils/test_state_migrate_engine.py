"""The state migration engine (plugins/module_utils/_state_migrate.py) with an in-memory installation: parsing,
the comparison, and the order of reads, locks, uploads and unlocks."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._state_migrate import (
    LOCK_REASON,
    Migrator,
    StateError,
    compare,
    parse_state,
    tally,
)

ME = "user-me"


def raw(serial, lineage="lin-a", marker="x"):
    return json.dumps({"version": 4, "serial": serial, "lineage": lineage, "outputs": {"m": {"value": marker}}}).encode()


class HTTPError(OpsError):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class FakeInstallation:
    """Just enough of PTFE: workspaces by name, locks, inline state versions, download URLs; every call logged."""

    def __init__(self):
        self.calls = []
        self.workspaces = {}
        self.blobs = {}
        self.fail = {}

    def add(self, name, state=None, locked_by=None, reason=""):
        self.workspaces[name] = {"id": "ws-" + name, "versions": [state] if state else [], "locked_by": locked_by,
                                 "reason": reason}

    def _doc(self, name):
        ws = self.workspaces[name]
        current = {"id": "sv-%s-%d" % (name, len(ws["versions"])), "type": "state-versions"} if ws["versions"] else None
        return {"id": ws["id"], "type": "workspaces",
                "attributes": {"name": name, "locked": ws["locked_by"] is not None, "locked-reason": ws["reason"]},
                "relationships": {"current-state-version": {"data": current},
                                  "locked-by": {"data": {"id": ws["locked_by"], "type": "users"}
                                                if ws["locked_by"] else None}}}

    def _by_id(self, ws_id):
        return ws_id[3:]

    def _maybe_fail(self, key):
        if key in self.fail:
            raise HTTPError(*self.fail[key])

    def get(self, path, **_kwargs):
        self.calls.append(("GET", path))
        parts = path.split("/")
        if "/organizations/" in path:
            name = parts[-1]
            if name not in self.workspaces:
                raise HTTPError(404, "not found")
            return {"data": self._doc(name)}
        name = self._by_id(parts[4])
        versions = self.workspaces[name]["versions"]
        if not versions:
            raise HTTPError(404, "not found")
        url = "https://archivist/%s/%d" % (name, len(versions))
        self.blobs[url] = versions[-1]
        return {"data": {"id": "sv-%s-%d" % (name, len(versions)),
                         "attributes": {"hosted-state-download-url": url, "status": "finalized"}}}

    def post(self, path, json=None, **_kwargs):  # pylint: disable=redefined-outer-name
        self.calls.append(("POST", path))
        parts = path.split("/")
        if path.endswith("/workspaces"):
            self.add(json["data"]["attributes"]["name"])
            return {"data": self._doc(json["data"]["attributes"]["name"])}
        name = self._by_id(parts[4])
        ws = self.workspaces[name]
        self._maybe_fail((parts[-1], name))
        if parts[-1] == "lock":
            if ws["locked_by"]:
                raise HTTPError(409, "already locked")
            ws["locked_by"], ws["reason"] = ME, json["reason"]
        elif parts[-1] == "unlock":
            ws["locked_by"], ws["reason"] = None, ""
        else:
            assert ws["locked_by"] == ME
            state = base64.b64decode(json["data"]["attributes"]["state"])
            assert hashlib.md5(state).hexdigest() == json["data"]["attributes"]["md5"]
            ws["versions"].append(state)
            return {"data": {"id": "sv-new", "attributes": {}}}
        return {"data": self._doc(name)}

    def writes(self):
        return [call for call in self.calls if call[0] != "GET"]


class Blobs:
    def __init__(self, installation):
        self.installation = installation

    def get(self, _client, url):
        return self.installation.blobs[url]

    def put(self, _client, url, data):
        raise AssertionError("inline uploads only here: %s %d" % (url, len(data)))


def migrator(target, **kwargs):
    secrets = []
    engine = Migrator(target, "acme", Blobs(target), secrets.append, identity=ME, **kwargs)
    engine.secrets = secrets
    return engine


def item(name, state, **extra):
    entry = {"name": name, "source": {"raw": state, "parsed": parse_state(state, "the file")}}
    entry.update(extra)
    return entry


@pytest.mark.parametrize("data,message", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"serial": 1}', "has no lineage"),
    (b'{"serial": 1, "lineage": "  "}', "has no lineage"),
    (b'{"serial": "1", "lineage": "l"}', "has no serial"),
    (b'{"serial": true, "lineage": "l"}', "has no serial"),
    (b'{"serial": -1, "lineage": "l"}', "has no serial"),
    (b"\xff\xfe", "not JSON"),
])
def test_parse_refuses_what_is_not_a_state(data, message):
    with pytest.raises(StateError) as exc:
        parse_state(data, "state.tfstate")
    assert str(exc.value).startswith("state.tfstate") and message in str(exc.value)


def test_parse_checks_what_the_operator_expects():
    state = raw(4)
    assert parse_state(state, "f") == {"serial": 4, "lineage": "lin-a", "md5": hashlib.md5(state).hexdigest(),
                                       "size": len(state), "terraform_version": None}
    assert parse_state(state.decode(), "f", expected_serial=4, expected_lineage="lin-a")["serial"] == 4
    with pytest.raises(StateError, match="serial is 4 in the file, but 5 was given"):
        parse_state(state, "f", expected_serial=5)
    with pytest.raises(StateError, match="lineage is lin-a in the file, but lin-b was given"):
        parse_state(state, "f", expected_lineage="lin-b")


@pytest.mark.parametrize("source,target,force,decision,words", [
    (raw(3), None, False, "upload", "no state"),
    (raw(3), raw(3), False, "unchanged", "already holds serial 3"),
    (raw(3), raw(2), False, "upload", "replaces the target's serial 2"),
    (raw(3), raw(4), False, "refuse", "target is newer"),
    (raw(3), raw(3, marker="y"), False, "refuse", "other content"),
    (raw(3), raw(3, lineage="lin-b"), False, "refuse", "another lineage"),
    (raw(3), raw(9, lineage="lin-b"), True, "upload", "(force)"),
])
def test_compare(source, target, force, decision, words):
    got, reason = compare(parse_state(source, "s"), parse_state(target, "t") if target else None, force)
    assert got == decision and words in reason
    if decision == "refuse":
        assert reason.endswith("set force to overwrite it")


def test_three_workspaces_lock_only_what_needs_an_upload_and_unlock_it():
    target = FakeInstallation()
    target.add("new")
    target.add("same", raw(5))
    target.add("other", raw(5, lineage="lin-b"))
    engine = migrator(target)
    results = [engine.migrate(item("new", raw(2))), engine.migrate(item("same", raw(5))),
               engine.migrate(item("other", raw(7)))]
    assert [r["result"] for r in results] == ["changed", "unchanged", "refused"]
    assert target.writes() == [("POST", "/api/v2/workspaces/ws-new/actions/lock"),
                               ("POST", "/api/v2/workspaces/ws-new/state-versions"),
                               ("POST", "/api/v2/workspaces/ws-new/actions/unlock")]
    assert all(ws["locked_by"] is None for ws in target.workspaces.values())
    assert tally(results) == {"changed": 1, "unchanged": 1, "refused": 1, "failed": 0, "total": 3}
    assert engine.secrets == ["https://archivist/same/1", "https://archivist/other/1"]


def test_check_mode_writes_nothing_not_even_a_new_workspace():
    target = FakeInstallation()
    target.add("old", raw(1))
    engine = migrator(target, check_mode=True, create=True)
    results = [engine.migrate(item("old", raw(2))), engine.migrate(item("missing", raw(1)))]
    assert [r["result"] for r in results] == ["changed", "changed"]
    assert results[1]["created"] is True and "Would create" in results[1]["msg"]
    assert target.writes() == []


def test_a_lock_of_somebody_else_is_left_alone():
    target = FakeInstallation()
    target.add("busy", locked_by="user-bob", reason="bob applies")
    result = migrator(target).migrate(item("busy", raw(1)))
    assert result["result"] == "refused" and result["locked_by"] == {"type": "users", "id": "user-bob"}
    assert "bob applies" in result["msg"] and target.writes() == []
    assert target.workspaces["busy"]["locked_by"] == "user-bob"


def test_a_failed_upload_still_unlocks_and_a_failed_unlock_is_left_for_the_next_run():
    target = FakeInstallation()
    target.add("one")
    target.fail[("state-versions", "one")] = (500, "boom")
    result = migrator(target).migrate(item("one", raw(1)))
    assert result["result"] == "failed" and "boom" in result["msg"]
    assert target.writes()[-1] == ("POST", "/api/v2/workspaces/ws-one/actions/unlock")
    assert target.workspaces["one"]["locked_by"] is None

    target.fail = {("unlock", "one"): (503, "cut")}
    result = migrator(target).migrate(item("one", raw(1)))
    assert result["result"] == "failed" and result["uploaded_serials"] == [1]
    assert "The lock stays (the next run of the migration releases it)" in result["msg"]
    assert target.workspaces["one"]["reason"] == LOCK_REASON

    target.fail = {}
    target.calls = []
    result = migrator(target).migrate(item("one", raw(1)))
    assert result["result"] == "unchanged" and result["released_lock"] is True
    assert target.writes() == [("POST", "/api/v2/workspaces/ws-one/actions/unlock")]


def test_a_lock_of_my_own_account_with_another_reason_is_not_mine():
    target = FakeInstallation()
    target.add("mine", locked_by=ME, reason="terraform apply")
    result = migrator(target).migrate(item("mine", raw(1)))
    assert result["result"] == "refused" and target.writes() == []


def test_history_uploads_only_the_serials_the_target_lacks():
    target = FakeInstallation()
    target.add("app", raw(2))
    engine = migrator(target)
    states = [(raw(n), parse_state(raw(n), "v%d" % n)) for n in (1, 2, 3, 4)]
    plan, (decision, _reason) = engine._plan(states, parse_state(raw(2), "t"), {})  # pylint: disable=protected-access
    assert decision == "upload" and [p["serial"] for _r, p in plan] == [3, 4]
    plan, (decision, _reason) = engine._plan(states, None, {})  # pylint: disable=protected-access
    assert [p["serial"] for _r, p in plan] == [1, 2, 3, 4]
    plan, (decision, _reason) = engine._plan(states, parse_state(raw(4), "t"), {})  # pylint: disable=protected-access
    assert plan == [] and decision == "unchanged"


def test_force_uploads_over_another_lineage_with_the_force_flag():
    target = FakeInstallation()
    target.add("app", raw(9, lineage="lin-b"))
    sent = []
    original = target.post

    def post(path, json=None, **kwargs):  # pylint: disable=redefined-outer-name
        if path.endswith("/state-versions"):
            sent.append(json["data"]["attributes"].get("force"))
        return original(path, json=json, **kwargs)

    target.post = post
    result = migrator(target, force=True).migrate(item("app", raw(2)))
    assert result["result"] == "changed" and sent == [True]
    assert "(force)" in result["msg"]


def test_a_lock_taken_by_somebody_else_between_the_read_and_the_lock_is_left_alone():
    target = FakeInstallation()
    target.add("race")
    original = target.post

    def post(path, json=None, **kwargs):  # pylint: disable=redefined-outer-name
        if path.endswith("/actions/lock"):
            target.workspaces["race"]["locked_by"], target.workspaces["race"]["reason"] = "user-bob", "bob applies"
        return original(path, json=json, **kwargs)

    target.post = post
    result = migrator(target).migrate(item("race", raw(1)))
    assert result["result"] == "refused" and result["locked_by"] == {"type": "users", "id": "user-bob"}
    assert "locked by users user-bob meanwhile" in result["msg"]
    assert target.writes() == [("POST", "/api/v2/workspaces/ws-race/actions/lock")]
    assert target.workspaces["race"]["locked_by"] == "user-bob" and target.workspaces["race"]["versions"] == []
