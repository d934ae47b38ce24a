"""An http:// installation address is refused before anything is sent, unless the operator opts in.

The PTFE emulator here serves plain http on purpose; the releases mirror stays on HTTPS. What reached the server
is read back through the emulator's control API, not through the modules.
"""
from __future__ import annotations

from tests.integration.conftest import assert_no_secret
from tests.integration.tool_versions.conftest import ADMIN_TOKEN

WARNING = "allow_insecure_http=true: the API token and every other secret travel in clear text to %s"


def refusal(url):
    """The module's refusal of an http:// address, which names the option and the one that allows it."""
    return ("address must be a URL such as https://host[:port] (allowed schemes: https); plain http sends every secret "
            "in clear text and needs its allow_insecure_http option, got '%s'" % url)


def assert_nothing_sent(rig):
    assert rig.emulator.requests_log() == []
    assert rig.mirror.requests == []
    assert rig.server_versions() == {}


def test_module_refuses_http_before_any_request(plain_http_rig):
    rig = plain_http_rig
    for extra in ({}, {"tv_allow_insecure_http": False}):
        res, out = rig.run("bulk.yml", dict(extra, tv_versions=[rig.version_entry("1.5.7")]), token_in_env=True)
        assert out["failed"], res.output
        assert refusal(rig.emulator.url) in out["msg"]
        assert_no_secret(res, ADMIN_TOKEN, paths=[rig.tmp_path / "result-bulk.yml.json"])
    assert_nothing_sent(rig)


def test_module_over_http_with_the_opt_in(plain_http_rig):
    rig = plain_http_rig
    evars = {"tv_versions": [rig.version_entry("1.5.7")], "tv_allow_insecure_http": True}
    res, out = rig.run("bulk.yml", evars, token_in_env=True)
    assert res.rc == 0 and out["changed"] and out["created"] == ["1.5.7"], res.output
    assert WARNING % rig.emulator.url in res.output
    assert list(rig.server_versions()) == ["1.5.7"]
    assert_no_secret(res, ADMIN_TOKEN, paths=[rig.tmp_path / "result-bulk.yml.json"])
    res, out = rig.run("bulk.yml", evars, token_in_env=True)
    assert res.rc == 0 and res.changed == 0 and out["changed"] is False, res.output


def test_role_refuses_http_before_any_request(plain_http_rig):
    rig = plain_http_rig
    versions = [rig.version_entry("1.5.7")]
    for extra in ({}, {"tv_allow_insecure_http": False}):
        res = rig.run("role.yml", dict(extra, tv_versions=versions), token_in_env=True)[0]
        assert res.rc != 0
        fatal = [line for line in res.stdout.splitlines() if line.startswith("fatal:")]
        assert len(fatal) == 1, res.stdout
        # The role hands tool_versions_address and tool_versions_allow_insecure_http to the module unchanged; the
        # module refuses before its first request.
        assert refusal(rig.emulator.url) in fatal[0], fatal[0]
        assert_no_secret(res, ADMIN_TOKEN)
    # An address from TFE_ADDRESS is refused the same way.
    res = rig.run("role.yml", {"tv_versions": versions, "tv_address": ""}, token_in_env=True,
                  env={"TFE_ADDRESS": rig.emulator.url})[0]
    assert res.rc != 0
    assert refusal(rig.emulator.url) in res.stdout, res.output
    assert_no_secret(res, ADMIN_TOKEN)
    assert_nothing_sent(rig)


def test_role_over_http_with_the_opt_in(plain_http_rig):
    rig = plain_http_rig
    evars = {"tv_versions": [rig.version_entry("1.5.7")], "tv_allow_insecure_http": True}
    res = rig.run("role.yml", evars, token_in_env=True)[0]
    assert res.rc == 0 and res.changed == 1, res.output
    assert WARNING % rig.emulator.url in res.output
    assert list(rig.server_versions()) == ["1.5.7"]
    res = rig.run("role.yml", evars, token_in_env=True)[0]
    assert res.rc == 0 and res.changed == 0, res.output
    assert_no_secret(res, ADMIN_TOKEN)
