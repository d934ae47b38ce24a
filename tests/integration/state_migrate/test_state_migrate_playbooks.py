"""ptfe.ops.ptfe_state_migrate end to end: ansible-playbook against a target and a source emulator, read back past
the module."""
from __future__ import annotations

import hashlib
from pathlib import Path

from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.ptfe_emulator_fixture import printed_result, writes
from tests.integration.state_migrate.conftest import (
    SOURCE_TOKEN,
    TARGET_TOKEN,
    make_state,
    new_lineage,
)

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "migrate.yml"


def by_name(result):
    return {item["name"]: item for item in result["results"]}


def state_posts(site, name=None):
    """The state version creates the emulator received (for one workspace when ``name`` is given)."""
    ws_id = site.workspace(name)["id"] if name else ""
    return [path for method, path in writes(site.emulator) if method == "POST" and path.endswith("/state-versions")
            and ws_id in path]


def test_changed_unchanged_refused_then_nothing_to_do(migration):
    target, source = migration.target, migration.source
    same = make_state(new_lineage(), 4, "same")
    new_raw = make_state(new_lineage(), 7, "new")
    source.push("network", new_raw)
    source.push("dns", same)
    source.push("app", make_state(new_lineage(), 3, "app"))
    target.ensure_workspace("network")
    target.push("dns", same)
    other = make_state(new_lineage(), 9, "other lineage")
    target.push("app", other)
    target.emulator.requests_log(clear=True)
    extra = migration.vars([{"name": "network"}, {"name": "dns"}, {"name": "app"}])

    checked = run_playbook(PLAYBOOK, extra, check=True)
    assert checked.rc == 0 and checked.changed == 1, checked.output
    predicted = by_name(printed_result(checked))
    assert [predicted[n]["result"] for n in ("network", "dns", "app")] == ["changed", "unchanged", "refused"]
    assert predicted["network"]["uploaded_serials"] == [7]
    assert writes(target.emulator) == []
    assert target.current("network") == (None, None)
    assert target.current("app")[0] == other

    done = run_playbook(PLAYBOOK, extra)
    assert done.rc == 0 and done.changed == 1, done.output
    result = printed_result(done)
    results = by_name(result)
    assert result["summary"] == {"changed": 1, "unchanged": 1, "refused": 1, "failed": 0, "total": 3}
    assert results["network"]["result"] == "changed" and results["network"]["uploaded_serials"] == [7]
    assert results["network"]["target_after"] == {"serial": 7, "lineage": results["network"]["source"]["lineage"],
                                                  "md5": hashlib.md5(new_raw).hexdigest()}
    assert results["dns"]["result"] == "unchanged"
    assert results["app"]["result"] == "refused" and "another lineage" in results["app"]["msg"]
    assert target.current("network")[0] == new_raw
    assert target.current("app")[0] == other
    for name in ("network", "dns", "app"):
        assert target.control_workspace(name)["locked"] is False
    assert len(state_posts(target)) == 1
    assert_no_secret(done, TARGET_TOKEN, SOURCE_TOKEN)

    target.emulator.requests_log(clear=True)
    again = run_playbook(PLAYBOOK, extra)
    assert again.rc == 0 and again.changed == 0, again.output
    assert [by_name(printed_result(again))[n]["result"] for n in ("network", "dns", "app")] == [
        "unchanged", "unchanged", "refused"]
    assert writes(target.emulator) == []


def test_someone_elses_lock_stays(migration):
    target, source = migration.target, migration.source
    source.push("network", make_state(new_lineage(), 2))
    ws = target.ensure_workspace("network")
    target.emulator.control("POST", "/_emulator/workspaces/lock", {"id": ws["id"], "username": "bob",
                                                                   "reason": "bob applies"})
    run = run_playbook(PLAYBOOK, migration.vars([{"name": "network"}]))
    assert run.rc == 0 and run.changed == 0, run.output
    result = by_name(printed_result(run))["network"]
    assert result["result"] == "refused" and "locked by users" in result["msg"] and "left alone" in result["msg"]
    assert result["locked_by"]["type"] == "users"
    after = target.control_workspace("network")
    bob = [u for u in target.emulator.state()["users"] if u["username"] == "bob"][0]
    assert after["locked"] is True and after["locked_by"] == ["users", bob["id"]] and after["state_versions"] == []
    assert [m for m, p in writes(target.emulator) if "actions" in p] == []


def test_connection_cut_after_one_upload_then_rerun_resumes(migration):
    target, source = migration.target, migration.source
    raws = {}
    for index, name in enumerate(("one", "two", "three")):
        raws[name] = make_state(new_lineage(), index + 1, name)
        source.push(name, raws[name])
        target.ensure_workspace(name)
    one = target.workspace("one")["id"]
    # The connection drops from the moment workspace one's state is in: its unlock and everything after.
    target.emulator.configure(faults=[{"path": "^/api/v2/(workspaces/%s/actions/unlock|organizations/acme/"
                                               "workspaces/t.*)$" % one, "drop": True}])
    extra = migration.vars([{"name": "one"}, {"name": "two"}, {"name": "three"}], max_retries=0, allow_failure=True)
    cut = run_playbook(PLAYBOOK, extra)
    assert cut.host()["ignored"] == 1 and cut.changed == 1, cut.output
    results = by_name(printed_result(cut))
    assert [results[n]["result"] for n in ("one", "two", "three")] == ["failed", "failed", "failed"]
    assert results["one"]["uploaded_serials"] == [1] and "The lock stays" in results["one"]["msg"]
    assert target.current("one")[0] == raws["one"] and target.control_workspace("one")["locked"] is True

    target.emulator.control("DELETE", "/_emulator/faults")
    target.emulator.requests_log(clear=True)
    resumed = run_playbook(PLAYBOOK, extra)
    assert resumed.rc == 0 and resumed.failed == 0, resumed.output
    results = by_name(printed_result(resumed))
    assert results["one"]["result"] == "unchanged" and results["one"]["released_lock"] is True
    assert [results[n]["result"] for n in ("two", "three")] == ["changed", "changed"]
    assert state_posts(target, "one") == []
    assert len(state_posts(target)) == 2
    for name in ("one", "two", "three"):
        assert target.current(name)[0] == raws[name]
        assert target.control_workspace(name)["locked"] is False


def test_history_sensitive_variables_and_secret_urls(migration):
    target, source = migration.target, migration.source
    lineage = new_lineage()
    for serial in (1, 2, 3):
        ws = source.push("app", make_state(lineage, serial, "v%d" % serial))
    source.call("POST", "/api/v2/workspaces/%s/vars" % ws["id"], json={"data": {"type": "vars", "attributes": {
        "key": "db_password", "value": "canary-sensitive-value-8d3f", "sensitive": True, "category": "terraform"}}})
    source.call("POST", "/api/v2/workspaces/%s/vars" % ws["id"], json={"data": {"type": "vars", "attributes": {
        "key": "region", "value": "eu-west-1", "category": "terraform"}}})
    extra = migration.vars([{"name": "app"}], history="all", create=True)

    run = run_playbook(PLAYBOOK, extra, verbosity=4)
    assert run.rc == 0 and run.changed == 1, run.output
    result = by_name(printed_result(run))["app"]
    assert result["created"] is True and result["uploaded_serials"] == [1, 2, 3]
    assert result["sensitive_variables"] == ["db_password"]
    versions = target.control_workspace("app")["state_versions"]
    assert [v["serial"] for v in versions] == [1, 2, 3]
    _raw, current = target.current("app")
    source_raw, source_current = source.current("app")
    assert target.current("app")[0] == source_raw
    assert_no_secret(run, TARGET_TOKEN, SOURCE_TOKEN, "canary-sensitive-value-8d3f",
                     current["attributes"]["hosted-state-download-url"],
                     source_current["attributes"]["hosted-state-download-url"].split("/")[-1])

    source.push("app", make_state(lineage, 4, "v4"))
    target.emulator.requests_log(clear=True)
    more = run_playbook(PLAYBOOK, extra, verbosity=4)
    assert more.rc == 0 and more.changed == 1, more.output
    assert by_name(printed_result(more))["app"]["uploaded_serials"] == [4]
    assert len(state_posts(target)) == 1
    # This run read the target's state through its download URL: the URL, nor its secret part, is anywhere.
    downloaded = [path for method, path in ((e["method"], e["path"]) for e in target.emulator.requests_log())
                  if method == "GET" and path.startswith("/_archivist/")]
    assert downloaded == ["/_archivist/v1/object/" + current["attributes"]["hosted-state-download-url"].split("/")[-1]]
    assert_no_secret(more, TARGET_TOKEN, SOURCE_TOKEN, downloaded[0].split("/")[-1])


def test_upload_urls_and_the_inline_fallback(migration, tmp_path):
    target = migration.target
    raw = make_state(new_lineage(), 5, "file")
    path = tmp_path / "terraform.tfstate"
    path.write_bytes(raw)
    target.ensure_workspace("pending")
    target.ensure_workspace("inline")
    run = run_playbook(PLAYBOOK, migration.vars([{"name": "pending", "state_file": str(path), "serial": 5}],
                                                upload_method="url"))
    assert run.rc == 0 and run.changed == 1, run.output
    assert target.current("pending")[0] == raw
    assert any(m == "PUT" and "/_archivist/" in p for m, p in writes(target.emulator))

    target.emulator.configure(state_version_upload_urls=False)
    run = run_playbook(PLAYBOOK, migration.vars([{"name": "inline", "state_file": str(path)}], upload_method="url"))
    assert run.rc == 0 and run.changed == 1, run.output
    assert target.current("inline")[0] == raw
    assert target.control_workspace("inline")["locked"] is False


def test_force_overwrites_another_lineage_and_check_mode_creates_nothing(migration, tmp_path):
    target = migration.target
    raw = make_state(new_lineage(), 2, "mine")
    path = tmp_path / "terraform.tfstate"
    path.write_bytes(raw)
    target.push("app", make_state(new_lineage(), 8, "theirs"))
    target.emulator.requests_log(clear=True)
    checked = run_playbook(PLAYBOOK, migration.vars([{"name": "app", "state_file": str(path)},
                                                     {"name": "fresh", "state_file": str(path)}],
                                                    force=True, create=True, no_source=True), check=True)
    assert checked.rc == 0 and checked.changed == 1, checked.output
    predicted = by_name(printed_result(checked))
    assert predicted["fresh"]["created"] is True and predicted["app"]["result"] == "changed"
    assert writes(target.emulator) == [] and target.workspace("fresh") is None

    run = run_playbook(PLAYBOOK, migration.vars([{"name": "app", "state_file": str(path)}], force=True,
                                                no_source=True))
    assert run.rc == 0 and run.changed == 1, run.output
    assert target.current("app")[0] == raw
