"""ptfe_tool_version / ptfe_tool_versions / role tool_versions through real ansible-playbook runs.

The PTFE emulator runs as its own process; the releases mirror serves zips and SHA256SUMS over HTTPS. Every
claim about the server is checked by reading the emulator back through its control API, not our modules.
"""
from __future__ import annotations

import pytest

from tests.integration.conftest import assert_no_secret
from tests.integration.tool_versions.conftest import ADMIN_TOKEN, USER_TOKEN

WRONG_SHA = "0123456789abcdef" * 4


def test_create_then_idempotent_without_download(rig):
    entry = rig.version_entry("1.5.7")
    res, out = rig.run("single.yml", {"tv_args": entry})
    assert res.rc == 0, res.output
    assert out["changed"] and out["action"] == "created"
    assert out["checksums"][0]["method"] == "SHA256SUMS"
    server = rig.server_versions()["1.5.7"]
    assert (server["url"], server["sha"]) == (entry["url"], entry["sha256"])
    assert [r["method"] for r in rig.writes()] == ["POST"]
    assert_no_secret(res, ADMIN_TOKEN)

    rig.emulator.requests_log(clear=True)
    rig.mirror.reset_log()
    res, out = rig.run("single.yml", {"tv_args": entry})
    assert res.rc == 0 and res.changed == 0, res.output
    assert out["changed"] is False and out["action"] == "unchanged" and out["checksums"] == []
    assert rig.mirror.requests == []  # an idempotent run downloads nothing, not even SHA256SUMS
    api = rig.api_requests()
    assert len(api) == 1 and api[0]["method"] == "GET" and "filter%5Bversion%5D=1.5.7" in api[0]["path"]


def test_update_one_attribute_diff_shows_only_it(rig):
    entry = rig.version_entry("1.6.0")
    rig.seed({"version": "1.6.0", "url": entry["url"], "sha": entry["sha256"]})
    res, out = rig.run("single.yml", {"tv_args": dict(entry, enabled=False)}, diff=True)
    assert res.rc == 0, res.output
    assert out["action"] == "updated"
    assert out["diff"] == {"before": {"1.6.0": {"enabled": True}}, "after": {"1.6.0": {"enabled": False}}}
    diff_lines = [line for line in res.stdout.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert diff_lines and all("enabled" in line for line in diff_lines), res.stdout
    assert rig.server_versions()["1.6.0"]["enabled"] is False
    assert [r["method"] for r in rig.writes()] == ["PATCH"]
    assert rig.mirror.requests == []  # url and sha unchanged: nothing to verify


def test_delete(rig):
    rig.seed({"version": "1.1.0", "url": "https://example.invalid/t.zip", "sha": "a" * 64})
    res, out = rig.run("single.yml", {"tv_args": {"version": "1.1.0", "state": "absent"}})
    assert res.rc == 0, res.output
    assert out["changed"] and out["action"] == "removed"
    assert "1.1.0" not in rig.server_versions()
    assert [r["method"] for r in rig.writes()] == ["DELETE"]
    res, out = rig.run("single.yml", {"tv_args": {"version": "1.1.0", "state": "absent"}})
    assert res.rc == 0 and out["changed"] is False


def test_delete_official_fails_with_reason(rig):
    rig.seed({"version": "0.11.15", "url": "https://example.invalid/t.zip", "sha": "a" * 64, "official": True})
    res, out = rig.run("single.yml", {"tv_args": {"version": "0.11.15", "state": "absent"}})
    assert out["failed"] and "official" in out["msg"]
    assert rig.writes() == []


def _seed_for_purge(rig):
    rig.seed(
        {"version": "0.11.15", "url": "https://example.invalid/a.zip", "sha": "a" * 64, "official": True},
        {"version": "1.2.0", "url": "https://example.invalid/b.zip", "sha": "b" * 64, "usage": 3},
        {"version": "1.3.0", "url": "https://example.invalid/c.zip", "sha": "c" * 64},
        {"version": "1.4.0", "url": "https://example.invalid/d.zip", "sha": "d" * 64},
    )


def test_purge_spares_official_and_in_use(rig):
    _seed_for_purge(rig)
    keep = rig.version_entry("1.5.7")
    res, out = rig.run("bulk.yml", {"tv_versions": [keep], "tv_purge": True})
    assert res.rc == 0, res.output
    assert out["created"] == ["1.5.7"]
    assert sorted(out["removed"]) == ["1.3.0", "1.4.0"]
    kept = {k["version"]: k["reason"] for k in out["kept"]}
    assert kept == {"0.11.15": "it is an official version", "1.2.0": "it is in use by 3 workspace(s)"}
    assert sorted(rig.server_versions()) == ["0.11.15", "1.2.0", "1.5.7"]
    assert sum(1 for r in rig.api_requests() if r["method"] == "GET") == 1  # one listing of the server

    res, out = rig.run("bulk.yml", {"tv_versions": [keep], "tv_purge": True})
    assert res.rc == 0 and res.changed == 0 and out["unchanged"] == ["1.5.7"], res.output


def test_check_mode_writes_nothing(rig):
    _seed_for_purge(rig)
    before = rig.server_versions()
    versions = [rig.version_entry("1.5.7"), {"version": "1.3.0", "enabled": False}]
    rig.emulator.requests_log(clear=True)
    res, out = rig.run("bulk.yml", {"tv_versions": versions, "tv_purge": True}, check=True, diff=True)
    assert res.rc == 0, res.output
    assert out["changed"] and out["created"] == ["1.5.7"] and out["updated"] == ["1.3.0"]
    assert out["removed"] == ["1.4.0"]
    assert rig.server_versions() == before
    assert rig.writes() == []

    res, out = rig.run("single.yml", {"tv_args": {"version": "1.4.0", "state": "absent"}}, check=True)
    assert res.rc == 0 and out["changed"] and rig.server_versions() == before and rig.writes() == []


def test_wrong_sha256_fails_before_any_write(rig):
    good = rig.version_entry("1.5.7")
    bad = rig.version_entry("1.6.0", sha256=WRONG_SHA)
    rig.mirror.add_version("1.7.0", sums=False)  # no SHA256SUMS: the download itself is hashed
    bad_download = rig.version_entry("1.7.0", sha256=WRONG_SHA)
    res, out = rig.run("bulk.yml", {"tv_versions": [good, bad, bad_download]})
    assert res.rc != 0 or out["failed"]
    msg = out["msg"]
    for version, url, actual in (("1.6.0", bad["url"], rig.mirror.sha256("1.6.0")),
                                 ("1.7.0", bad_download["url"], rig.mirror.sha256("1.7.0"))):
        assert version in msg and url in msg and actual in msg and WRONG_SHA in msg
    assert "1.5.7" not in msg
    assert [r for r in rig.api_requests() if r["method"] == "POST"] == []
    assert rig.writes() == [] and rig.server_versions() == {}
    assert any(r[1].endswith("terraform_1.7.0_linux_amd64.zip") for r in rig.mirror.requests)

    res, out = rig.run("single.yml", {"tv_args": bad})
    assert out["failed"] and "1.6.0" in out["msg"] and rig.writes() == []


def test_checksum_verify_false_warns(rig):
    entry = rig.version_entry("1.5.7", sha256=WRONG_SHA, checksum_verify=False)
    res, out = rig.run("single.yml", {"tv_args": entry})
    assert res.rc == 0 and out["changed"], res.output
    assert any("checksum_verify=false" in w for w in out.get("warnings", []))
    assert "checksum_verify=false" in res.output
    assert rig.mirror.requests == []


def test_non_admin_token_says_site_admin(rig):
    res, out = rig.run("single.yml", {"tv_args": rig.version_entry("1.5.7")}, token=USER_TOKEN)
    assert out["failed"]
    assert "HTTP 404" in out["msg"] and "site admin" in out["msg"]
    res, out = rig.run("bulk.yml", {"tv_versions": [rig.version_entry("1.5.7")]}, token=USER_TOKEN)
    assert out["failed"] and "site admin" in out["msg"]
    assert_no_secret(res, USER_TOKEN)
    assert rig.writes() == []


def test_bad_input_names_the_option(rig):
    res, out = rig.run("bad_input.yml")
    assert res.rc == 0, res.output
    for option, result in out.items():
        assert result["failed"], option
    assert "version" in out["version"]["msg"] and "'1.5'" in out["version"]["msg"]
    single, bulk = "Invalid parameters for ptfe_tool_version: ", "Invalid parameters for ptfe_tool_versions: "
    assert out["url"]["msg"].startswith(single + "url must use https://") and "allow_http" in out["url"]["msg"]
    assert out["sha256"]["msg"].startswith(single + "sha256 must be a SHA256 checksum of 64 hexadecimal characters")
    assert out["deprecated_reason"]["msg"].startswith(single + "deprecated_reason needs deprecated=true")
    assert out["bulk"]["msg"].startswith(bulk + "versions[1].sha256 must be")
    assert rig.api_requests() == []  # validated before any network call


def test_lookup_without_filter_support(rig):
    rig.emulator.control("PATCH", "config", {"terraform_versions_filter": False})
    rig.seed(*[{"version": "1.0.%d" % i, "url": "https://example.invalid/%d.zip" % i, "sha": "e" * 64}
               for i in range(150)])
    entry = rig.version_entry("1.0.149")
    rig.seed({"version": "1.0.149", "url": entry["url"], "sha": entry["sha256"]})
    rig.emulator.requests_log(clear=True)
    res, out = rig.run("single.yml", {"tv_args": dict(entry, beta=True)})
    assert res.rc == 0 and out["action"] == "updated", res.output
    gets = [r for r in rig.api_requests() if r["method"] == "GET"]
    assert len(gets) == 3  # the ignored filter (page 1 of 2), then pages 1 and 2
    assert rig.server_versions()["1.0.149"]["beta"] is True


def test_archs_edge_cases(rig):
    amd64 = rig.version_entry("1.8.0")
    arm64 = {"url": rig.mirror.zip_url("1.8.0", arch="arm64"), "sha256": rig.mirror.sha256("1.8.0", arch="arm64"),
             "os": "linux", "arch": "arm64"}
    archs = [dict(url=amd64["url"], sha256=amd64["sha256"], os="linux", arch="amd64"), arm64]
    res, out = rig.run("single.yml", {"tv_args": {"version": "1.8.0", "archs": archs}})
    assert res.rc == 0 and out["action"] == "created", res.output
    assert len(rig.server_versions()["1.8.0"]["archs"]) == 2
    res, out = rig.run("single.yml", {"tv_args": {"version": "1.8.0", "archs": [arm64]}})
    assert res.rc == 0 and out["action"] == "updated", res.output
    server = rig.server_versions()["1.8.0"]
    assert server["url"] == "" and server["sha"] == "" and len(server["archs"]) == 1
    assert out["tool_version"]["url"] == ""


def test_role_runs_the_bulk_module_once(rig):
    versions = [rig.version_entry("1.5.7"), rig.version_entry("1.6.0", deprecated=True, deprecated_reason="old")]
    res = rig.run("role.yml", {"tv_versions": versions})[0]
    assert res.rc == 0 and res.changed == 1, res.output
    server = rig.server_versions()
    assert server["1.6.0"]["deprecated"] is True and server["1.6.0"]["deprecated-reason"] == "old"
    res = rig.run("role.yml", {"tv_versions": versions})[0]
    assert res.rc == 0 and res.changed == 0, res.output
    assert_no_secret(res, ADMIN_TOKEN)


@pytest.mark.parametrize("versions, message", [
    ([{"version": "1.5.7"}, {"version": 1.5}],
     "versions[1].version must look like N.N.N or N.N.N-suffix (for example 1.5.7 or 0.12.20-beta1), got '1.5'"),
    ([{"version": "1.5.7"}, {"version": "1.6.0"}, {"version": "1.5.7", "state": "absent"}],
     "versions[2].version: Terraform version 1.5.7 is already listed at versions[0]"),
], ids=["unquoted-version", "version-twice"])
def test_role_refuses_a_bad_list_naming_the_entry_before_any_request(rig, versions, message):
    # The argument spec lets these through (a float converts to a string); tool_versions_list goes to the module
    # unchanged as its option versions, and the module refuses the entry before its first request.
    res = rig.run("role.yml", {"tv_versions": versions})[0]
    assert res.rc != 0
    assert message in res.stdout, res.output
    assert "Validation of arguments failed" not in res.stdout
    assert rig.api_requests() == []


@pytest.mark.parametrize("page_size", [None, 100])
def test_terrasnek_admin_terraform_versions(rig, page_size):
    """terrasnek's admin Terraform versions calls work against the emulator unchanged."""
    from terrasnek.api import TFC
    from terrasnek.exceptions import TFCHTTPNotFound, TFCHTTPUnprocessableEntity

    api = TFC(ADMIN_TOKEN, url=rig.emulator.url, verify=rig.emulator.ca_path, skip_version_check=True)
    tv = api.admin_terraform_versions
    attrs = {"version": "1.5.7", "url": rig.mirror.zip_url("1.5.7"), "sha": rig.mirror.sha256("1.5.7"),
             "official": False, "enabled": True, "beta": False}
    created = tv.create({"data": {"type": "terraform-versions", "attributes": attrs}})["data"]
    assert created["type"] == "terraform-versions" and created["id"].startswith("tool-")
    assert tv.show(created["id"])["data"]["attributes"]["version"] == "1.5.7"
    listed = tv.list(page_size=page_size) if page_size else tv.list()
    assert [d["id"] for d in listed["data"]] == [created["id"]]
    assert len(tv.list_all()["data"]) == 1
    updated = tv.update(created["id"], {"data": {"type": "terraform-versions", "attributes": {"beta": True}}})
    assert updated["data"]["attributes"]["beta"] is True
    with pytest.raises(TFCHTTPUnprocessableEntity):
        tv.create({"data": {"type": "terraform-versions", "attributes": attrs}})
    tv.destroy(created["id"])
    with pytest.raises(TFCHTTPNotFound):
        tv.show(created["id"])
    user = TFC(USER_TOKEN, url=rig.emulator.url, verify=rig.emulator.ca_path, skip_version_check=True)
    with pytest.raises(TFCHTTPNotFound):
        user.admin_terraform_versions.list()


def test_token_not_shown_at_vvvv(rig):
    entry = rig.version_entry("1.5.7")
    res, out = rig.run("single.yml", {"tv_args": entry}, verbosity=4, token_in_env=True)
    assert res.rc == 0 and out["changed"], res.output
    assert_no_secret(res, ADMIN_TOKEN, paths=[rig.tmp_path / "result-single.yml.json"])
    res, out = rig.run("single.yml", {"tv_args": entry}, token=USER_TOKEN, verbosity=4, token_in_env=True)
    assert out["failed"]
    assert_no_secret(res, USER_TOKEN, ADMIN_TOKEN, paths=[rig.tmp_path / "result-single.yml.json"])
    assert "site admin" in out["msg"]


def test_bulk_pages_through_links_built_from_another_host_name(rig):
    """A real TFE builds absolute pagination links from its own host name (default port dropped), which need not
    be the address the play uses (an IP, a load balancer alias, an explicit :443). 250 registered versions take
    three pages; every page must be read from the play's own address."""
    rig.emulator.control("PATCH", "config", {"public_url": "https://tfe.example.com"})
    try:
        rig.seed(*[{"version": "0.%d.0" % i, "url": "https://example.invalid/%d.zip" % i, "sha": "e" * 64}
                   for i in range(250)])
        versions = [rig.version_entry("1.5.7"), rig.version_entry("1.6.0")]
        rig.emulator.requests_log(clear=True)
        res, out = rig.run("bulk.yml", {"tv_versions": versions})
        assert res.rc == 0, res.output
        assert out["changed"] is True, out
        server = rig.server_versions()
        assert len(server) == 252 and {"1.5.7", "1.6.0"} <= set(server)
        listing = [r for r in rig.api_requests() if r["method"] == "GET"
                   and r["path"].startswith("/api/v2/admin/terraform-versions")]
        assert len(listing) == 3, listing
        assert [r["method"] for r in rig.writes()] == ["POST", "POST"]
        # The second run sees all 252 across the same three pages and changes nothing.
        res, out = rig.run("bulk.yml", {"tv_versions": versions})
        assert res.rc == 0 and res.changed == 0, res.output
    finally:
        rig.emulator.control("PATCH", "config", {"public_url": None})
