"""ptfe_tool_versions, given malformed input: refused by name before any change, no version deleted, no secret
printed (harness.py).

The emulator holds four versions before the batch (one official, one in use, two that a purge would remove);
they are read back through the emulator's control API afterwards, not through the module.
"""
from __future__ import annotations

import pytest

from tests.emulators.releases import ReleasesMirror
from tests.integration.bad_input.conftest import ADMIN_TOKEN, writes
from tests.integration.bad_input.harness import Case, assert_refused, run_batch

SHA = "a" * 64
URL = "https://releases.example/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip"
URL_PASSWORD = "canary-mirror-password-5c1b"
SEED = [
    {"version": "0.11.15", "url": "https://example.invalid/a.zip", "sha": "a" * 64, "official": True},
    {"version": "1.2.0", "url": "https://example.invalid/b.zip", "sha": "b" * 64, "usage": 3},
    {"version": "1.3.0", "url": "https://example.invalid/c.zip", "sha": "c" * 64},
    {"version": "1.4.0", "url": "https://example.invalid/d.zip", "sha": "d" * 64},
]


def entry(**overrides):
    """One entry of the list, valid unless ``overrides`` break it."""
    item = {"version": "1.5.7", "url": URL, "sha256": SHA}
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


def arch(**overrides):
    item = {"os": "linux", "arch": "amd64", "url": URL, "sha256": SHA}
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


def listed(*entries, **options):
    return dict(options, versions=list(entries))


# Refused before the first request: the emulator's request log stays empty.
CASES = [
    # the connection
    Case("token_newline", listed(entry(), token=ADMIN_TOKEN + "\n"), "token must not contain a newline"),
    Case("token_space", listed(entry(), token="Bearer " + ADMIN_TOKEN), "token must not contain white space"),
    Case("address_password", listed(entry(), address="https://admin:%s@127.0.0.1:1" % URL_PASSWORD),
         "address must not hold a user name or password"),
    Case("address_javascript", listed(entry(), address="javascript:alert(1)"), "address must be a URL"),
    Case("address_path", listed(entry(), address="https://127.0.0.1:1/app"),
         "address must be the address of the server only"),
    Case("address_http", listed(entry(), address="http://127.0.0.1:1"), "needs its allow_insecure_http option"),
    Case("timeout_zero", listed(entry(), timeout=0), "timeout must be between 1 and 3600, got 0"),
    Case("max_retries_huge", listed(entry(), max_retries=1000), "max_retries must be between 0 and 20"),
    Case("ca_path_relative", listed(entry(), ca_path="ca.pem"), "ca_path must be an absolute path"),
    Case("ca_path_newline", listed(entry(), ca_path="/etc/ssl/ca.pem\n"), "ca_path must not contain a newline"),
    Case("ca_path_missing", listed(entry(), ca_path="/nonexistent/ca.pem"),
         "ca_path must name a PEM file on the host that runs the module"),
    Case("checksum_ca_path_relative", listed(entry(), checksum_ca_path="mirror.pem"),
         "checksum_ca_path must be an absolute path"),
    Case("checksum_ca_path_missing", listed(entry(), checksum_ca_path="/nonexistent/mirror.pem"),
         "checksum_ca_path must name a PEM file"),
    Case("checksum_ca_path_directory", listed(entry(), checksum_ca_path="/tmp"),
         "checksum_ca_path must name a PEM file"),
    # a purge that would remove every version (issue item 5)
    Case("purge_empty_list", listed(purge=True), "purge=true with no version to keep"),
    Case("purge_only_absent", listed(entry(version="1.4.0", url=None, sha256=None, state="absent"), purge=True),
         "purge=true with no version to keep"),
    Case("purge_all_without_purge", listed(purge_all=True), "purge_all=true needs purge=true"),
    Case("purge_and_bad_entry", listed(entry(version="1.5"), purge=True), "versions[0].version must look like"),
    # the version
    Case("versions_missing", {}, "missing required arguments: versions"),
    Case("versions_not_dicts", {"versions": ["1.5.7"]}, "versions[0] must be a dictionary"),
    Case("archs_not_dicts", listed(entry(url=None, sha256=None, archs=["linux/amd64"])),
         "versions[0].archs[0] must be a dictionary"),
    Case("version_missing", listed(entry(version=None)), "missing required arguments: version"),
    Case("version_newline", listed(entry(version="1.5.7\n")), "versions[0].version must look like N.N.N"),
    Case("version_arabic_digits", listed(entry(version="\u0661.\u0665.\u0667")),
         "versions[0].version must look like N.N.N"),
    Case("version_two_parts", listed(entry(version="1.5")), "versions[0].version must look like N.N.N"),
    Case("version_float", listed(entry(version=1.5)), "versions[0].version must look like N.N.N"),
    Case("version_v_prefix", listed(entry(version="v1.5.7")), "versions[0].version must look like N.N.N"),
    Case("version_trailing_space", listed(entry(version="1.5.7 ")), "versions[0].version must look like N.N.N"),
    Case("version_twice", listed(entry(), entry(enabled=False)),
         "versions[1].version: Terraform version 1.5.7 is already listed at versions[0]"),
    Case("state_unknown", listed(entry(state="gone")), "state"),
    # the download
    Case("url_http", listed(entry(url="http://releases.example/t.zip")), "versions[0].url must use https://"),
    Case("url_ftp", listed(entry(url="ftp://releases.example/t.zip")), "versions[0].url must be an absolute https://"),
    Case("url_javascript", listed(entry(url="javascript:alert(1)")), "versions[0].url must be an absolute https://"),
    Case("url_newline", listed(entry(url=URL + "\n")), "versions[0].url must be an absolute https:// URL without"),
    Case("url_password", listed(entry(url="https://ops:%s@releases.example/t.zip" % URL_PASSWORD)),
         "versions[0].url must not hold a user name or password"),
    Case("url_bad_port", listed(entry(url="https://releases.example:99999/t.zip")),
         "versions[0].url must be an absolute https://"),
    Case("url_without_sha", listed(entry(sha256=None)),
         "versions[0].url and versions[0].sha256 must be given together"),
    Case("sha_short", listed(entry(sha256="a" * 40)), "versions[0].sha256 must be a SHA256 checksum"),
    Case("sha_not_hex", listed(entry(sha256="g" * 64)), "versions[0].sha256 must be a SHA256 checksum"),
    Case("sha_newline", listed(entry(sha256=SHA + "\n")), "versions[0].sha256 must be a SHA256 checksum"),
    Case("sha_second_entry", listed(entry(), entry(version="1.5.8", sha256="xyz")),
         "versions[1].sha256 must be a SHA256 checksum"),
    # per-architecture downloads
    Case("archs_and_url", listed(entry(archs=[arch()])),
         "versions[0].archs and versions[0].url/versions[0].sha256 are mutually exclusive"),
    Case("archs_empty", listed(entry(url=None, sha256=None, archs=[])), "versions[0].archs must list at least one"),
    Case("archs_os", listed(entry(url=None, sha256=None, archs=[arch(os="darwin")])),
         "versions[0].archs[0].os must be one of linux"),
    Case("archs_arch", listed(entry(url=None, sha256=None, archs=[arch(arch="riscv64")])), "arch must be one of"),
    Case("archs_twice", listed(entry(url=None, sha256=None, archs=[arch(), arch()])),
         "versions[0].archs[1] repeats linux/amd64"),
    Case("archs_without_sha", listed(entry(url=None, sha256=None, archs=[arch(sha256=None)])),
         "missing required arguments: sha256"),
    Case("archs_url_http", listed(entry(url=None, sha256=None, archs=[arch(url="http://releases.example/a.zip")])),
         "versions[0].archs[0].url must use https://"),
    Case("archs_url_password", listed(entry(url=None, sha256=None, archs=[
        arch(url="https://ops:%s@releases.example/a.zip" % URL_PASSWORD)])),
        "versions[0].archs[0].url must not hold a user name or password"),
    Case("archs_sha_bad", listed(entry(url=None, sha256=None, archs=[arch(arch="arm64", sha256="0x" + "a" * 62)])),
         "versions[0].archs[0].sha256 must be a SHA256 checksum"),
    # the deprecation
    Case("reason_without_deprecated", listed(entry(deprecated_reason="old")),
         "versions[0].deprecated_reason needs versions[0].deprecated=true"),
    Case("reason_newline", listed(entry(deprecated=True, deprecated_reason="old\nUse 1.6")),
         "versions[0].deprecated_reason must be one line of text"),
    Case("reason_too_long", listed(entry(deprecated=True, deprecated_reason="x" * 501)),
         "versions[0].deprecated_reason must be at most 500 characters"),
    # 5,000 malformed checksums: every entry refused, in a message of a few lines
    Case("checksums_5000_malformed",
         listed(*[entry(version="1.%d.%d" % divmod(n, 100), sha256="z" * 64) for n in range(5000)]),
         "and 4990 more problem(s)"),
]

# Refused after the list was read, before the first write: 5,000 checksums that do not match the mirror's.
READ_CASES = [
    Case("checksums_5000_mismatched", {"versions": "MIRROR_5000"}, "and 4990 more problem(s)"),
]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """HTTPS releases mirror serving any version (zips and SHA256SUMS)."""
    with ReleasesMirror(tmp_path_factory.mktemp("releases"), auto=True) as mirror_:
        yield mirror_


def seeded(ptfe):
    ptfe.control("DELETE", "terraform-versions")
    ptfe.control("POST", "terraform-versions", {"versions": SEED})
    return server_versions(ptfe)


def server_versions(ptfe):
    """Every version on the server, read through the emulator's control API."""
    return {record["version"]: record for record in ptfe.control("GET", "terraform-versions")}


def run_table(ptfe, mirror, cases, tmp_path_factory, playbook="ptfe_tool_versions.yml", runner=run_batch):
    """Seed the emulator, play ``cases`` with ``runner`` (harness.run_batch or run_each), and keep the request log
    and the server's versions before and after on the returned batch."""
    before = seeded(ptfe)
    ptfe.requests_log(clear=True)
    common = {"default_address": ptfe.url, "default_token": ADMIN_TOKEN, "default_ca_path": ptfe.ca_path,
              "default_checksum_ca_path": str(mirror.ca_path)}
    result = runner("bad_input/playbooks/" + playbook, cases, tmp_path_factory.mktemp("cases"), common)
    result.log = ptfe.requests_log()
    result.before, result.after = before, server_versions(ptfe)
    return result


@pytest.fixture(scope="module")
def batch(ptfe, mirror, tmp_path_factory):
    return run_table(ptfe, mirror, CASES, tmp_path_factory)


@pytest.fixture(scope="module")
def read_batch(ptfe, mirror, tmp_path_factory):
    zip_url = mirror.zip_url("1.5.7")
    for case in READ_CASES:
        case.vars["versions"] = [{"version": "2.%d.%d" % divmod(n, 100), "url": zip_url, "sha256": "0" * 64}
                                 for n in range(5000)]
    return run_table(ptfe, mirror, READ_CASES, tmp_path_factory)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_request(batch, case):
    assert_refused(batch, case, canaries=(ADMIN_TOKEN, URL_PASSWORD))
    assert batch.log == [], "a refused input still sent %d request(s)" % len(batch.log)
    assert batch.after == batch.before, "the server's Terraform versions changed"


@pytest.mark.parametrize("case", READ_CASES, ids=[case.id for case in READ_CASES])
def test_refused_by_name_before_any_write(read_batch, case):
    assert_refused(read_batch, case, canaries=(ADMIN_TOKEN,))
    assert writes(read_batch.log) == []
    assert read_batch.after == read_batch.before, "the server's Terraform versions changed"


@pytest.mark.parametrize("table,case", [("batch", CASES[-1]), ("read_batch", READ_CASES[0])],
                         ids=["malformed", "mismatched"])
def test_5000_bad_checksums_are_refused_in_a_few_lines(request, table, case):
    message = request.getfixturevalue(table)[case].msg
    assert "versions[0]" in message or "version 2.0.0" in message, message[:500]
    assert len(message) < 4000, "a message of %d characters" % len(message)
