"""ptfe_tool_version, given malformed input: refused by name before any request, nothing registered, no
secret printed (harness.py)."""
from __future__ import annotations

import pytest

from tests.integration.bad_input.conftest import ADMIN_TOKEN, writes
from tests.integration.bad_input.harness import Case, assert_refused, run_batch

SHA = "a" * 64
URL = "https://releases.example/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip"
URL_PASSWORD = "canary-url-password-9d2e"

CASES = [
    # the token, as a YAML block or a vaulted string leaves it
    Case("token_newline", {"token": ADMIN_TOKEN + "\n"}, "token must not contain a newline"),
    Case("token_space", {"token": "Bearer " + ADMIN_TOKEN}, "token must not contain white space"),
    Case("token_cr", {"token": ADMIN_TOKEN + "\r"}, "token must not contain a newline"),
    # the address
    Case("address_password", {"address": "https://admin:%s@127.0.0.1:1" % URL_PASSWORD},
         "address must not hold a user name or password"),
    Case("address_javascript", {"address": "javascript:alert(1)"}, "address must be a URL"),
    Case("address_file", {"address": "file:///etc/passwd"}, "address must be a URL"),
    Case("address_path", {"address": "https://127.0.0.1:1/app"}, "address must be the address of the server only"),
    Case("address_query", {"address": "https://127.0.0.1:1/?x=1"}, "address must be the address of the server"),
    Case("address_http", {"address": "http://127.0.0.1:1"}, "needs its allow_insecure_http option"),
    Case("address_newline", {"address": "https://127.0.0.1:1\n"}, "address must not contain a newline"),
    Case("address_port", {"address": "https://127.0.0.1:99999"}, "address must be a URL such as"),
    Case("address_empty_host", {"address": "https:///"}, "address must be a URL such as"),
    # numbers
    Case("timeout_zero", {"timeout": 0}, "timeout must be between 1 and 3600, got 0"),
    Case("timeout_negative", {"timeout": -1}, "timeout must be between 1 and 3600, got -1"),
    Case("timeout_huge", {"timeout": 86400}, "timeout must be between 1 and 3600"),
    Case("max_retries_negative", {"max_retries": -1}, "max_retries must be between 0 and 20"),
    Case("max_retries_huge", {"max_retries": 1000}, "max_retries must be between 0 and 20"),
    # the version
    Case("version_newline", {"version": "1.5.7\n", "url": URL, "sha256": SHA}, "version"),
    Case("version_arabic_digits", {"version": "\u0661.\u0665.\u0667", "url": URL, "sha256": SHA}, "version"),
    Case("version_two_parts", {"version": "1.5", "url": URL, "sha256": SHA}, "version"),
    Case("version_v_prefix", {"version": "v1.5.7", "url": URL, "sha256": SHA}, "version"),
    Case("version_path", {"version": "../1.5.7", "url": URL, "sha256": SHA}, "version"),
    # the download
    Case("url_http", {"url": "http://releases.example/t.zip", "sha256": SHA}, "url"),
    Case("url_ftp", {"url": "ftp://releases.example/t.zip", "sha256": SHA}, "url"),
    Case("url_javascript", {"url": "javascript:alert(1)", "sha256": SHA}, "url"),
    Case("url_without_sha", {"url": URL}, "sha256"),
    Case("sha_short", {"url": URL, "sha256": "a" * 40}, "sha256"),
    Case("sha_not_hex", {"url": URL, "sha256": "g" * 64}, "sha256"),
    Case("sha_newline", {"url": URL, "sha256": SHA + "\n"}, "sha256"),
    Case("reason_without_deprecated", {"deprecated_reason": "old"}, "deprecated_reason"),
]


@pytest.fixture(scope="module")
def batch(ptfe, tmp_path_factory):
    ptfe.requests_log(clear=True)
    common = {"default_address": ptfe.url, "default_token": ADMIN_TOKEN, "default_ca_path": ptfe.ca_path}
    result = run_batch("bad_input/playbooks/ptfe_tool_version.yml", CASES, tmp_path_factory.mktemp("cases"), common)
    result.log = ptfe.requests_log()
    return result


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_change(batch, case):
    assert_refused(batch, case, canaries=(ADMIN_TOKEN, URL_PASSWORD))
    assert writes(batch.log) == []
    assert batch.log == [], "a refused input still sent %d request(s)" % len(batch.log)
