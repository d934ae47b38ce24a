"""The tool_versions role, given malformed variables: refused by name before any request, no version deleted, no
secret printed (harness.py).

Before the batch the emulator holds four versions, two of which a purge would remove; they are read back through
the emulator's control API afterwards. The role's own checks name its variables (tool_versions_purge, ...); the
module's checks name the module's options (token, versions[0].url, ...), which the role passes on unchanged.
"""
from __future__ import annotations

import pytest

from tests.integration.bad_input.conftest import ADMIN_TOKEN
from tests.integration.bad_input.harness import Case, assert_refused, run_each
from tests.integration.bad_input.test_bad_ptfe_tool_versions import SHA, URL, mirror, run_table

__all__ = ["mirror"]  # the fixture, imported for this module's tests

URL_PASSWORD = "canary-role-mirror-password-8e40"
PURGE_REFUSED = "tool_versions_purge is true but tool_versions_list names no version to keep"


def entry(**overrides):
    item = {"version": "1.5.7", "url": URL, "sha256": SHA}
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


def role(*entries, **variables):
    """The case's variables: tool_versions_<name> for each keyword, and the list."""
    data = {"tool_versions_" + name: value for name, value in variables.items()}
    if entries:
        data["tool_versions_list"] = list(entries)
    return data


CASES = [
    # a purge that would remove every version (issue item 5)
    Case("purge_empty_list", role(purge=True), PURGE_REFUSED),
    Case("purge_list_misspelt", dict(role(purge=True), tool_version_list=[entry()]), PURGE_REFUSED),
    Case("purge_only_absent", role(entry(version="1.4.0", url=None, sha256=None, state="absent"), purge=True),
         PURGE_REFUSED),
    Case("purge_all_without_purge", role(entry(), purge_all=True), "tool_versions_purge_all needs tool_versions_purge"),
    Case("purge_not_bool", role(purge="sometimes"), "tool_versions_purge"),
    Case("purge_all_not_bool", role(purge=True, purge_all="everything"), "tool_versions_purge_all"),
    # where the module runs
    Case("delegate_to_newline", role(entry(), delegate_to="localhost\nother"),
         "tool_versions_delegate_to must be a host name"),
    Case("delegate_to_space", role(entry(), delegate_to="local host"), "tool_versions_delegate_to must be a host name"),
    Case("delegate_to_list", role(entry(), delegate_to=["localhost"]), "tool_versions_delegate_to"),
    # the connection, checked by the module before any request
    Case("token_newline", role(entry()) | {"token": ADMIN_TOKEN + "\n"}, "token must not contain a newline"),
    Case("token_tab", role(entry()) | {"token": ADMIN_TOKEN + "\t"}, "token must not contain"),
    Case("address_password", role(entry()) | {"address": "https://admin:%s@127.0.0.1:1" % URL_PASSWORD},
         "address must not hold a user name or password"),
    Case("address_path", role(entry()) | {"address": "https://127.0.0.1:1/api/v2"},
         "address must be the address of the server only"),
    Case("address_http", role(entry()) | {"address": "http://127.0.0.1:1"}, "needs its allow_insecure_http option"),
    Case("address_file", role(entry()) | {"address": "file:///etc/passwd"}, "address must be a URL"),
    Case("ca_path_relative", role(entry()) | {"ca_path": "ca.pem"}, "ca_path must be an absolute path"),
    Case("ca_path_missing", role(entry()) | {"ca_path": "/nonexistent/ca.pem"}, "ca_path must name a PEM file"),
    Case("checksum_ca_path_missing", role(entry()) | {"checksum_ca_path": "/nonexistent/mirror.pem"},
         "checksum_ca_path must name a PEM file"),
    Case("checksum_ca_path_dotdot", role(entry()) | {"checksum_ca_path": "/etc/../tmp/mirror.pem"},
         "checksum_ca_path must name a file"),
    # the list
    Case("list_not_a_list", role(list="1.5.7"), "tool_versions_list"),
    Case("entry_without_version", role(entry(version=None)), "missing required arguments: version"),
    Case("entry_state", role(entry(state="latest")), "state"),
    Case("entry_version_newline", role(entry(version="1.5.7\n")), "versions[0].version must look like N.N.N"),
    Case("entry_version_arabic", role(entry(version="\u0661.\u0665.\u0667")), "versions[0].version must look like"),
    Case("entry_twice", role(entry(), entry(beta=True)),
         "versions[1].version: Terraform version 1.5.7 is already listed at versions[0]"),
    Case("entry_url_password", role(entry(url="https://ops:%s@releases.example/t.zip" % URL_PASSWORD)),
         "versions[0].url must not hold a user name or password"),
    Case("entry_url_http", role(entry(url="http://releases.example/t.zip")), "versions[0].url must use https://"),
    Case("entry_sha_newline", role(entry(sha256=SHA + "\n")), "versions[0].sha256 must be a SHA256 checksum"),
    Case("entry_archs_twice", role(entry(url=None, sha256=None, archs=[
        {"url": URL, "sha256": SHA}, {"url": URL, "sha256": SHA, "os": "linux", "arch": "amd64"}])),
        "versions[0].archs[1] repeats linux/amd64"),
    Case("entry_archs_arch", role(entry(url=None, sha256=None, archs=[{"url": URL, "sha256": SHA, "arch": "x86"}])),
         "arch must be one of"),
    Case("entry_reason_newline", role(entry(deprecated=True, deprecated_reason="old\nnew")),
         "versions[0].deprecated_reason must be one line of text"),
]


@pytest.fixture(scope="module")
def batch(ptfe, mirror, tmp_path_factory):  # pylint: disable=redefined-outer-name
    return run_table(ptfe, mirror, CASES, tmp_path_factory, playbook="tool_versions_role.yml", runner=run_each)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_request(batch, case):
    assert_refused(batch, case, canaries=(ADMIN_TOKEN, URL_PASSWORD))
    assert batch.log == [], "a refused input still sent %d request(s)" % len(batch.log)
    assert batch.after == batch.before, "the server's Terraform versions changed"
