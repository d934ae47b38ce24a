"""meta/argument_specs.yml is the input contract of the tool_versions role.

An entry of tool_versions_list without its required version fails at the argument spec, naming both, before the
role's first task: the installation is never contacted. The same holds for the other rules the spec states (types,
choices, the suboptions of archs). What is read back comes from the emulator's control API, not from the modules.
"""
from __future__ import annotations

import pytest

from tests.integration.conftest import assert_no_secret
from tests.integration.tool_versions.conftest import ADMIN_TOKEN

SPEC_FAILED = "Validation of arguments failed"


def failed_task(result):
    lines = result.stdout.splitlines()
    fatal = [i for i, line in enumerate(lines) if line.startswith("fatal:")]
    assert len(fatal) == 1, result.stdout[-3000:]
    return [line for line in lines[:fatal[0]] if line.startswith("TASK [")][-1]


def assert_refused_by_the_spec(rig, result, message):
    assert result.rc != 0
    assert "ptfe.ops.tool_versions : Validating arguments against arg spec 'main'" in failed_task(result)
    assert SPEC_FAILED in result.stdout
    assert message in result.stdout, result.stdout[-3000:]
    assert result.host()["ok"] == 0 and result.changed == 0
    assert rig.api_requests() == [] and rig.mirror.requests == []
    assert rig.server_versions() == {}
    assert_no_secret(result, ADMIN_TOKEN)


def test_an_entry_without_its_version_fails_at_the_argument_spec(rig):
    entry = rig.version_entry("1.5.7")
    del entry["version"]
    res = rig.run("role.yml", {"tv_versions": [rig.version_entry("1.6.0"), entry]}, token_in_env=True)[0]
    assert_refused_by_the_spec(rig, res, "missing required arguments: version found in tool_versions_list")


@pytest.mark.parametrize("bad, message", [
    ({"state": "gone"}, "value of state must be one of: present, absent, got: gone found in tool_versions_list"),
    ({"archs": [{"url": "https://mirror.invalid/t.zip", "arch": "amd64"}]},
     "missing required arguments: sha256 found in tool_versions_list -> archs"),
    ({"archs": [{"url": "https://mirror.invalid/t.zip", "sha256": "a" * 64, "arch": "mips"}]},
     "value of arch must be one of: amd64, arm64, s390x, got: mips found in tool_versions_list -> archs"),
    ({"enabled": "perhaps"}, "argument 'enabled' is of type str found in 'tool_versions_list'. and we were unable "
                             "to convert to bool"),
    ({"checksum": "a" * 64}, "tool_versions_list.checksum. Supported parameters include"),
], ids=["state-choice", "arch-without-sha256", "arch-choice", "enabled-type", "unknown-option"])
def test_an_entry_the_spec_rules_out_fails_at_the_argument_spec(rig, bad, message):
    entry = dict(rig.version_entry("1.5.7"), **bad)
    res = rig.run("role.yml", {"tv_versions": [entry]}, token_in_env=True)[0]
    assert_refused_by_the_spec(rig, res, message)


@pytest.mark.parametrize("extra, message", [
    ({"tv_versions": {"version": "1.5.7"}},
     "argument 'tool_versions_list' is of type dict and we were unable to convert to list"),
    ({"tv_versions": [], "tv_purge": "sometimes"},
     "argument 'tool_versions_purge' is of type str and we were unable to convert to bool"),
], ids=["list-of-one-mapping", "purge-type"])
def test_variables_of_the_wrong_type_fail_at_the_argument_spec(rig, extra, message):
    res = rig.run("role.yml", extra, token_in_env=True)[0]
    assert_refused_by_the_spec(rig, res, message)
