"""The two modules' main() with a fake PTFE client: results, check mode, diff, warnings, messages."""
from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ptfe.ops.plugins.module_utils import _ptfe_module
from ansible_collections.ptfe.ops.plugins.modules import ptfe_tool_version, ptfe_tool_versions
from tests.unit.tool_versions.test_tool_versions_utils import SHA_A, SHA_B, URL_A, FakeClient, api, writes

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
    assert result["failed"] and result["msg"].startswith("sha256 must be")
    assert client.calls == []


def test_bulk_duplicate_version_names_the_entry(capsys, monkeypatch):
    client = FakeClient([])
    entry = {"version": "1.5.7", "url": URL_A, "sha256": SHA_A}
    result = run(ptfe_tool_versions, {"versions": [entry, entry]}, client, capsys, monkeypatch)
    assert result["failed"] and result["msg"].startswith("versions[1].version")
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
