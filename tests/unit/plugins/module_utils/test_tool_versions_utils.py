"""Unit tests of plugins/module_utils/_tool_versions.py: input validation, the plan, checksums, the sync."""
from __future__ import annotations

import hashlib

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils import _releases_client as rc
from ansible_collections.ptfe.ops.plugins.module_utils import _tool_versions as tv
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeNotFoundError, PtfeValidationError
from tests.emulators.releases import ReleasesMirror

SHA_A = "a" * 64
SHA_B = "b" * 64
URL_A = "https://mirror.example/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip"
URL_B = "https://mirror.example/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip?v=2"


def item(version="1.5.7", **kw):
    base = {"version": version, "state": "present", "url": None, "sha256": None, "archs": None, "official": None,
            "enabled": None, "beta": None, "deprecated": None, "deprecated_reason": None}
    base.update(kw)
    return base


def api(version="1.5.7", id_="tool-1", url=URL_A, sha=SHA_A, archs=True, **kw):
    attrs = {"version": version, "url": url, "sha": sha, "official": False, "enabled": True, "beta": False,
             "deprecated": False, "deprecated-reason": None, "usage": 0, "created-at": "2026-11-22T00:00:00.000Z"}
    if archs:
        attrs["archs"] = [{"os": "linux", "arch": "amd64", "url": url, "sha": sha}]
    attrs.update(kw)
    return {"id": id_, "type": "terraform-versions", "attributes": attrs}


# -- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, option", [
    (item(version="1.5"), "version"),
    (item(version="v1.5.7"), "version"),
    (item(version="1.5.7_beta"), "version"),
    (item(version="1.5.7\n"), "version"),
    (item(version="\u0661.\u0665.\u0667"), "version"),
    (item(url=URL_A, sha256=SHA_A + "\n"), "sha256"),
    (item(url="http://mirror.example/t.zip", sha256=SHA_A), "url"),
    (item(url="ftp://mirror.example/t.zip", sha256=SHA_A), "url"),
    (item(url=URL_A, sha256="abc"), "sha256"),
    (item(url=URL_A, sha256="g" * 64), "sha256"),
    (item(url=URL_A, sha256="a" * 40), "sha256"),
    (item(deprecated_reason="old"), "deprecated_reason"),
    (item(deprecated=False, deprecated_reason="old"), "deprecated_reason"),
    (item(url=URL_A), "url"),
    (item(archs=[{"url": URL_A, "sha256": SHA_A, "os": "darwin", "arch": "amd64"}]), "archs[0].os"),
    (item(archs=[{"url": URL_A, "sha256": "x", "os": "linux", "arch": "amd64"}]), "archs[0].sha256"),
])
def test_bad_input_names_the_option(params, option):
    with pytest.raises(tv.ToolVersionInputError) as err:
        tv.validate_item(params, prefix="versions[2].")
    assert "versions[2].%s" % option in str(err.value)


def test_http_allowed_with_flag_and_sha_lowercased():
    state, version, desired = tv.validate_item(item(url="http://m/t.zip", sha256="A" * 64), allow_http=True)
    assert (state, version) == ("present", "1.5.7")
    assert desired == {"url": "http://m/t.zip", "sha256": "a" * 64}


def test_suffix_versions_accepted():
    for version in ("0.12.20-beta1", "1.6.0-alpha20230405", "1.0.0-rc1"):
        assert tv.validate_item(item(version=version))[1] == version


# -- plan ------------------------------------------------------------------------------------------------------


def test_plan_create_needs_url():
    with pytest.raises(tv.ToolVersionInputError, match="url and sha256"):
        tv.plan_item("1.5.7", {"enabled": False}, None)


def test_plan_create_payload_and_verify():
    plan = tv.plan_item("1.5.7", {"url": URL_A, "sha256": SHA_A, "beta": True}, None)
    assert plan["action"] == "create"
    assert plan["payload"] == {"version": "1.5.7", "url": URL_A, "sha": SHA_A, "beta": True}
    assert plan["verify"] == [(URL_A, SHA_A)]
    assert plan["after"]["enabled"] is True


def test_plan_update_one_attribute_only():
    current = tv.from_api(api())
    plan = tv.plan_item("1.5.7", {"url": URL_A, "sha256": SHA_A, "enabled": False}, current)
    assert plan["action"] == "update"
    assert plan["payload"] == {"enabled": False}
    assert plan["before"] == {"enabled": True}
    assert plan["after"] == {"enabled": False}
    assert plan["verify"] == []  # same url and sha: nothing to download


def test_plan_unchanged():
    current = tv.from_api(api(sha=SHA_A.upper()))
    plan = tv.plan_item("1.5.7", {"url": URL_A, "sha256": SHA_A}, current)
    assert plan["action"] == "none" and plan["payload"] == {}


def test_plan_sha_change_sends_url_and_sha_and_replaces_archs():
    current = tv.from_api(api())
    current["archs"].append({"os": "linux", "arch": "arm64", "url": "https://m/arm.zip", "sha256": SHA_B})
    plan = tv.plan_item("1.5.7", {"url": URL_A, "sha256": SHA_B}, current)
    assert plan["payload"] == {"url": URL_A, "sha": SHA_B}
    assert plan["verify"] == [(URL_A, SHA_B)]
    assert plan["after"]["archs"] == [{"os": "linux", "arch": "amd64", "url": URL_A, "sha256": SHA_B}]


def test_plan_archs_without_amd64_blanks_top_level():
    current = tv.from_api(api())
    archs = [{"os": "linux", "arch": "arm64", "url": "https://m/arm.zip", "sha256": SHA_B}]
    plan = tv.plan_item("1.5.7", {"archs": archs}, current)
    assert plan["after"]["url"] == "" and plan["after"]["sha256"] == ""
    assert plan["payload"] == {"archs": [{"os": "linux", "arch": "arm64", "url": "https://m/arm.zip", "sha": SHA_B}]}
    assert plan["verify"] == [("https://m/arm.zip", SHA_B)]


def test_plan_undeprecate_clears_reason():
    current = tv.from_api(api(deprecated=True, **{"deprecated-reason": "old"}))
    plan = tv.plan_item("1.5.7", {"deprecated": False}, current)
    assert plan["before"] == {"deprecated": True, "deprecated_reason": "old"}
    assert plan["after"] == {"deprecated": False, "deprecated_reason": None}
    assert plan["payload"] == {"deprecated": False}


def test_plan_archs_on_old_server_is_an_error():
    current = tv.from_api(api(archs=False))
    with pytest.raises(tv.UnsupportedAttributeError, match="archs"):
        tv.plan_item("1.5.7", {"archs": [{"os": "linux", "arch": "amd64", "url": URL_A, "sha256": SHA_A}]}, current)


def test_protected_reason():
    assert tv.protected_reason(tv.from_api(api(official=True))) == "it is an official version"
    assert "3 workspace" in tv.protected_reason(tv.from_api(api(usage=3)))
    assert tv.protected_reason(tv.from_api(api())) is None


# -- checksums -------------------------------------------------------------------------------------------------


def test_sums_url_and_parse():
    assert rc.sums_url_for(URL_A) == "https://mirror.example/terraform/1.5.7/terraform_1.5.7_SHA256SUMS"
    assert rc.sums_url_for("https://m/x/terraform.zip") is None
    sums = rc.parse_sums("%s  terraform_1.5.7_linux_amd64.zip\n%s *other.zip\nnoise\n" % (SHA_A.upper(), SHA_B))
    assert sums == {"terraform_1.5.7_linux_amd64.zip": SHA_A, "other.zip": SHA_B}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    with ReleasesMirror(tmp_path_factory.mktemp("mirror")) as m:
        m.add_version("1.5.7")
        m.add_version("1.6.0", size=3 * 1024 * 1024 + 17, sums=False)
        m.add_version("1.7.0", publish_sha=SHA_B)
        yield m


def test_verify_from_sums_without_download(mirror):
    verifier = rc.ChecksumVerifier(ca_path=str(mirror.ca_path))
    mirror.reset_log()
    records = verifier.verify_all([("1.5.7", mirror.zip_url("1.5.7"), mirror.sha256("1.5.7"))])
    assert records[0]["method"] == "SHA256SUMS"
    assert mirror.downloads() == []


def test_verify_streams_download_when_no_sums(mirror):
    verifier = rc.ChecksumVerifier(ca_path=str(mirror.ca_path))
    records = verifier.verify_all([("1.6.0", mirror.zip_url("1.6.0"), mirror.sha256("1.6.0"))])
    assert records[0]["method"] == "download"
    assert records[0]["bytes"] == 3 * 1024 * 1024 + 17


def test_mismatch_names_version_url_and_both_checksums(mirror):
    verifier = rc.ChecksumVerifier(ca_path=str(mirror.ca_path))
    url = mirror.zip_url("1.6.0")
    with pytest.raises(rc.ChecksumMismatchError) as err:
        verifier.verify_all([("1.6.0", url, SHA_A), ("1.7.0", mirror.zip_url("1.7.0"), mirror.sha256("1.7.0"))])
    text = str(err.value)
    assert "1.6.0" in text and url in text and SHA_A in text and mirror.sha256("1.6.0") in text
    assert "1.7.0" in text and SHA_B in text  # the published SHA256SUMS disagrees with the given checksum
    assert "nothing was written" in text


def test_download_failure(mirror):
    verifier = rc.ChecksumVerifier(ca_path=str(mirror.ca_path))
    with pytest.raises(rc.ChecksumFetchError, match="HTTP 404"):
        verifier.verify_all([("9.9.9", mirror.url + "/nope/terraform_9.9.9_linux_amd64.zip", SHA_A)])


def test_tls_is_verified(mirror):
    verifier = rc.ChecksumVerifier()  # system trust store does not know the throwaway CA
    with pytest.raises(rc.ChecksumFetchError):
        verifier.verify_all([("1.6.0", mirror.zip_url("1.6.0"), SHA_A)])


def test_streaming_uses_chunks():
    digest = hashlib.sha256()
    assert rc.CHUNK_SIZE <= 1024 * 1024 and digest.name == "sha256"


# -- sync with a fake client -----------------------------------------------------------------------------------


class FakeClient:
    """Records calls; serves a fixed list; refuses deletes of ids in ``refuse``."""

    def __init__(self, items, refuse=()):
        self.items = items
        self.calls = []
        self.refuse = set(refuse)

    def paginate(self, path, params=None, page_size=100, **kwargs):
        self.calls.append(("LIST", path, page_size))
        yield from self.items

    def get(self, path, params=None, **kwargs):
        self.calls.append(("GET", path, dict(params or {})))
        wanted = (params or {}).get("filter[version]")
        return {"data": [i for i in self.items if i["attributes"]["version"] == wanted]}

    def post(self, path, json=None, **kwargs):
        self.calls.append(("POST", path, json))
        attrs = dict(json["data"]["attributes"])
        return {"data": {"id": "tool-new", "type": "terraform-versions", "attributes": attrs}}

    def patch(self, path, json=None, **kwargs):
        self.calls.append(("PATCH", path, json))
        return None

    def delete(self, path, **kwargs):
        self.calls.append(("DELETE", path))
        if path.rsplit("/", 1)[1] in self.refuse:
            raise PtfeValidationError(422, "DELETE", path, "cannot be removed (it is official or is in use)")


def writes(client):
    return [c for c in client.calls if c[0] in ("POST", "PATCH", "DELETE")]


def test_sync_purge_spares_official_and_in_use():
    client = FakeClient([api("1.0.0", "tool-1"), api("0.11.0", "tool-2", official=True),
                         api("1.1.0", "tool-3", usage=2), api("1.2.0", "tool-4"), api("1.3.0", "tool-5")],
                        refuse=["tool-5"])
    store = tv.ToolVersionStore(client)
    index = store.list_all()
    items = [tv.validate_item(item("1.0.0", url=URL_A, sha256=SHA_A))]
    result = tv.sync(store, items, index, purge=True)
    assert result["removed"] == ["1.2.0"]
    assert [k["version"] for k in result["kept"]] == ["0.11.0", "1.1.0", "1.3.0"]
    assert "refused" in result["kept"][2]["reason"]
    assert result["unchanged"] == ["1.0.0"]
    assert client.calls[0] == ("LIST", tv.API_PATH, 100)


def test_sync_check_mode_writes_nothing():
    client = FakeClient([api("1.0.0", "tool-1")])
    store = tv.ToolVersionStore(client)
    items = [tv.validate_item(item("1.0.0", enabled=False)),
             tv.validate_item(item("2.0.0", url=URL_A, sha256=SHA_A))]
    result = tv.sync(store, items, store.list_all(), purge=True, check_mode=True)
    assert result["changed"] and result["created"] == ["2.0.0"] and result["updated"] == ["1.0.0"]
    assert writes(client) == []
    assert result["unverified"] == [{"version": "2.0.0", "url": URL_A}]


def test_sync_mismatch_stops_before_any_write():
    class Refuser:
        def verify_all(self, jobs):
            raise rc.ChecksumMismatchError([{"version": j[0], "url": j[1], "expected": j[2], "actual": SHA_B,
                                             "method": "download"} for j in jobs])

    client = FakeClient([api("1.0.0", "tool-1")])
    store = tv.ToolVersionStore(client)
    items = [tv.validate_item(item("1.0.0", enabled=False)),
             tv.validate_item(item("2.0.0", url=URL_A, sha256=SHA_A))]
    with pytest.raises(rc.ChecksumMismatchError):
        tv.sync(store, items, store.list_all(), verifier=Refuser())
    assert writes(client) == []


def test_sync_mismatches_are_capped():
    class Refuser:
        def verify_all(self, jobs):
            raise rc.ChecksumMismatchError([{"version": j[0], "url": j[1], "expected": j[2], "actual": SHA_B,
                                             "method": "download"} for j in jobs])

    client = FakeClient([])
    store = tv.ToolVersionStore(client)
    items = [tv.validate_item(item("1.%d.%d" % divmod(n, 100), url=URL_A, sha256=SHA_A)) for n in range(5000)]
    with pytest.raises(rc.ChecksumMismatchError) as err:
        tv.sync(store, items, {}, verifier=Refuser())
    text = str(err.value)
    assert text.startswith("Failed to verify the checksum of 5000 Terraform version(s); nothing was written")
    assert "and 4990 more problem(s)" in text and len(text) < 5000
    assert len(err.value.mismatches) == 5000
    assert writes(client) == []


@pytest.mark.parametrize("items", [[], [("absent", "1.0.0", {})]], ids=["empty", "only-absent"])
def test_sync_refuses_a_purge_that_keeps_nothing(items):
    client = FakeClient([api("1.0.0", "tool-1"), api("1.2.0", "tool-3")])
    store = tv.ToolVersionStore(client)
    with pytest.raises(tv.ToolVersionInputError, match="purge_all=true"):
        tv.sync(store, items, store.list_all(), purge=True)
    assert writes(client) == []
    result = tv.sync(store, items, store.list_all(), purge=True, purge_all=True)
    assert sorted(result["removed"]) == ["1.0.0", "1.2.0"]


def test_check_items_reports_every_entry():
    problems, _items = tv.check_items([item(version="1.5"), item(url="http://m/t.zip", sha256=SHA_A),
                                       item("2.0.0", archs=[{"url": URL_A, "sha256": SHA_A, "os": "linux",
                                                             "arch": "amd64"},
                                                            {"url": URL_A, "sha256": SHA_A, "os": "linux",
                                                             "arch": "amd64"}]),
                                       item(deprecated=True, deprecated_reason="old\nnew"),
                                       "not a mapping"])
    text = "; ".join(problems)
    for expected in ("versions[0].version must look like", "versions[1].url must use https://",
                     "versions[2].archs[1] repeats linux/amd64, already listed at versions[2].archs[0]",
                     "versions[3].deprecated_reason must be one line", "versions[4] must be a dictionary",
                     "versions[3].version: Terraform version 1.5.7 is already listed at versions[1]"):
        assert expected in text, text


def test_capped_keeps_short_lists_whole():
    assert tv.capped(["a", "b"]) == ["a", "b"]
    assert tv.capped([str(n) for n in range(12)], limit=10)[-1] == "and 2 more problem(s)"


def test_url_passwords_are_found_at_any_depth():
    assert tv.url_passwords([{"url": "https://u:p1@h/x", "archs": [{"url": "https://u:p2@h/y"}]}, "https://h/"]) \
        == ["p1", "p2"]


def test_sync_explicit_absent_of_official_fails_before_writes():
    client = FakeClient([api("0.11.0", "tool-2", official=True), api("1.0.0", "tool-1")])
    store = tv.ToolVersionStore(client)
    items = [tv.validate_item(item("1.0.0", state="absent")), tv.validate_item(item("0.11.0", state="absent"))]
    with pytest.raises(tv.ToolVersionError, match="official"):
        tv.sync(store, items, store.list_all())
    assert writes(client) == []


def test_find_falls_back_when_filter_ignored():
    class OldServer(FakeClient):
        def get(self, path, params=None, **kwargs):
            self.calls.append(("GET", path, dict(params or {})))
            return {"data": self.items[:2]}

    client = OldServer([api("1.0.0", "tool-1"), api("1.1.0", "tool-2"), api("1.5.7", "tool-3")])
    assert tv.ToolVersionStore(client).find("1.5.7")["id"] == "tool-3"
    assert [c[0] for c in client.calls] == ["GET", "LIST"]


def test_find_with_filter_is_one_request():
    client = FakeClient([api("1.0.0", "tool-1"), api("1.5.7", "tool-3")])
    store = tv.ToolVersionStore(client)
    assert store.find("9.9.9") is None
    assert store.find("1.5.7")["id"] == "tool-3"
    assert [c[0] for c in client.calls] == ["GET", "GET"]


def test_not_found_says_site_admin():
    class NotAdmin(FakeClient):
        def paginate(self, path, params=None, page_size=100, **kwargs):
            raise PtfeNotFoundError(404, "GET", path, "not found")

    with pytest.raises(PtfeNotFoundError) as err:
        tv.ToolVersionStore(NotAdmin([])).list_all()
    assert "site admin" in str(err.value)
    assert str(err.value).startswith("Failed to list Terraform versions: HTTP 404 from GET")
