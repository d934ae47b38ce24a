"""The two modules' main() with a fake PTFE client: results, check mode, diff, warnings, messages."""
from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ptfe.ops.plugins.module_utils import _ptfe_module
from ansible_collections.ptfe.ops.plugins.modules import ptfe_tool_version, ptfe_tool_versions
from tests.unit.plugins.module_utils.test_tool_versions_utils import SHA_A, SHA_B, URL_A, FakeClient, api, writes

CONN = {"address": "https://ptfe.example", "token": "canary-token-do-not-print"}


def run(module, args, client, capsys, monkeypatch, check_mode=False):
    monkeypatch.setattr(_ptfe_module.PtfeClient, "from_module", classmethod(lambda cls, mod: client))
    args = dict(CONN, **args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    assert CONN["token"] not in out
    return json.loads(out)


def test_single_update_only_the_difference(capsys, monkeypatch):
    client = FakeClient([api("1.5.7", "tool-1")])
    result = run(ptfe_tool_version, {"version": "1.5.7", "url": URL_A, "sha256": SHA_A, "beta": True}, client,
                 capsys, monkeypatch)
    assert result["changed"] and result["action"] == "updated"
    assert result["diff"] == {"before": {"1.5.7": {"beta": False}}, "after": {"1.5.7": {"beta": True}}}
    (method, path, body), = writes(client)
    assert (method, path) == ("PATCH", "/api/v2/admin/terraform-versions/tool-1")
    assert body["data"]["attributes"] == {"beta": True}


def test_single_check_mode_create_without_verification_warns(capsys, monkeypatch):
    client = FakeClient([])
    result = run(ptfe_tool_version, {"version": "2.0.0", "url": URL_A, "sha256": SHA_B, "checksum_verify": False},
                 client, capsys, monkeypatch, check_mode=True)
    assert result["changed"] and result["action"] == "created" and writes(client) == []
    assert "checksum_verify=false" in json.dumps(result.get("warnings")), result
    assert result["tool_version"]["sha256"] == SHA_B


def test_single_unchanged_is_one_request(capsys, monkeypatch):
    client = FakeClient([api("1.5.7", "tool-1")])
    result = run(ptfe_tool_version, {"version": "1.5.7", "url": URL_A, "sha256": SHA_A}, client, capsys,
                 monkeypatch)
    assert result["changed"] is False and result["action"] == "unchanged" and result["checksums"] == []
    assert [c[0] for c in client.calls] == ["GET"]


def test_single_bad_input_fails_before_any_request(capsys, monkeypatch):
    client = FakeClient([])
    result = run(ptfe_tool_version, {"version": "1.5.7", "url": URL_A, "sha256": "xyz"}, client, capsys,
                 monkeypatch)
    assert result["failed"] and result["msg"].startswith("Invalid parameters for ptfe_tool_version: sha256 must be")
    assert client.calls == []


def test_bulk_duplicate_version_names_the_entry(capsys, monkeypatch):
    client = FakeClient([])
    entry = {"version": "1.5.7", "url": URL_A, "sha256": SHA_A}
    result = run(ptfe_tool_versions, {"versions": [entry, entry]}, client, capsys, monkeypatch)
    assert result["failed"] and result["msg"].startswith("Invalid parameters for ptfe_tool_versions: versions[1].version")
    assert client.calls == []


def test_bulk_purge_result(capsys, monkeypatch):
    client = FakeClient([api("1.0.0", "tool-1"), api("0.11.0", "tool-2", official=True), api("1.2.0", "tool-3")])
    result = run(ptfe_tool_versions, {"versions": [{"version": "1.0.0", "enabled": False}], "purge": True},
                 client, capsys, monkeypatch)
    assert result["updated"] == ["1.0.0"] and result["removed"] == ["1.2.0"]
    assert result["kept"] == [{"version": "0.11.0", "reason": "it is an official version"}]
    assert result["diff"]["after"] == {"1.0.0": {"enabled": False}}
    assert result["diff"]["before"]["1.2.0"]["version"] == "1.2.0"
    assert [c[0] for c in client.calls] == ["LIST", "PATCH", "DELETE"]


@pytest.mark.parametrize("versions", [[], [{"version": "1.0.0", "state": "absent"}]], ids=["empty", "only-absent"])
def test_bulk_purge_that_keeps_nothing_is_refused_before_any_request(capsys, monkeypatch, versions):
    client = FakeClient([api("1.0.0", "tool-1"), api("1.2.0", "tool-3")])
    result = run(ptfe_tool_versions, {"versions": versions, "purge": True}, client, capsys, monkeypatch)
    assert result["failed"] and "purge=true with no version to keep" in result["msg"]
    assert "purge_all=true" in result["msg"]
    assert client.calls == []


def test_bulk_purge_all_removes_everything_but_official_and_warns(capsys, monkeypatch):
    client = FakeClient([api("1.0.0", "tool-1"), api("0.11.0", "tool-2", official=True), api("1.2.0", "tool-3")])
    result = run(ptfe_tool_versions, {"versions": [], "purge": True, "purge_all": True}, client, capsys,
                 monkeypatch)
    assert result["removed"] == ["1.0.0", "1.2.0"]
    assert result["kept"] == [{"version": "0.11.0", "reason": "it is an official version"}]
    assert "purge_all=true" in json.dumps(result.get("warnings")), result


def test_bulk_purge_all_without_purge_is_refused(capsys, monkeypatch):
    client = FakeClient([api("1.0.0", "tool-1")])
    result = run(ptfe_tool_versions, {"versions": [], "purge_all": True}, client, capsys, monkeypatch)
    assert result["failed"] and "purge_all=true needs purge=true" in result["msg"]
    assert client.calls == []


def test_bulk_5000_bad_checksums_are_refused_in_a_short_message(capsys, monkeypatch):
    client = FakeClient([])
    versions = [{"version": "1.%d.%d" % divmod(n, 100), "url": URL_A, "sha256": "z" * 64} for n in range(5000)]
    result = run(ptfe_tool_versions, {"versions": versions}, client, capsys, monkeypatch)
    assert result["failed"] and "versions[0].sha256 must be a SHA256 checksum" in result["msg"]
    assert "and 4990 more problem(s)" in result["msg"]
    assert len(result["msg"]) < 3000
    assert client.calls == []


def test_a_password_in_a_download_url_is_never_echoed(capsys, monkeypatch):
    client = FakeClient([])
    password = "canary-mirror-password-31f7"
    versions = [{"version": "1.5.7", "url": "https://ops:%s@mirror.example/t.zip" % password, "sha256": SHA_A},
                {"version": "1.5.8", "archs": [{"url": "https://ops:%s@mirror.example/a.zip" % password,
                                                "sha256": "x"}]}]
    result = run(ptfe_tool_versions, {"versions": versions}, client, capsys, monkeypatch)
    assert result["failed"] and "versions[0].url must not hold a user name or password" in result["msg"]
    assert password not in json.dumps(result)
    assert client.calls == []


def test_a_missing_checksum_ca_file_is_named(capsys, monkeypatch, tmp_path):
    client = FakeClient([])
    missing = str(tmp_path / "nope.pem")
    result = run(ptfe_tool_version, {"version": "1.5.7", "url": URL_A, "sha256": SHA_A, "checksum_ca_path": missing},
                 client, capsys, monkeypatch)
    assert result["failed"] and "checksum_ca_path must name a PEM file" in result["msg"]
    assert client.calls == []
