"""ptfe_iact, ptfe_initial_admin, ptfe_organization, ptfe_health and ptfe_platform_info, given malformed input:
refused by name before any request (the emulator's log stays empty), nothing created, no secret printed
(harness.py). The admin token's Vault KV custody (ptfe_initial_admin, ptfe_initial_admin_info) has a table of its
own, whose Vault is a listener that no connection may reach."""
from __future__ import annotations

import pytest

from tests.integration.bad_input.conftest import ADMIN_TOKEN
from tests.integration.bad_input.harness import Case, assert_refused, run_batch

PASSWORD = "canary-admin-password-5b7c"
URL_SECRET = "canary-url-secret-77a1"
SYSTEM_TOKEN = "canary-system-token-3c9d"
PRESET = "canary-preset-iact-0e4f"
VAULT_TOKEN = "hvs.canary-bad-input-vault-token-2b8e"
KV_PATH = "ptfe-ops/admin-token/ptfe.example.com"


def case(module, case_id, options, names):
    return Case("%s_%s" % (module, case_id), dict(options, case_module=module), names)


CASES = [
    # ptfe_iact
    case("ptfe_iact", "method", {"method": "ssh"}, "method"),
    case("ptfe_iact", "health_timeout_negative", {"health_timeout": -1}, "health_timeout must be between 0 and 3600"),
    case("ptfe_iact", "health_timeout_huge", {"health_timeout": 86400}, "health_timeout must be between 0 and 3600"),
    case("ptfe_iact", "health_interval_zero", {"health_timeout": 5, "health_interval": 0},
         "health_interval must be between 1 and 300"),
    case("ptfe_iact", "retries_huge", {"method": "host", "retries": 1000000}, "retries must be between 0 and 100"),
    case("ptfe_iact", "delay_negative", {"method": "host", "delay": -5}, "delay must be between 0 and 300"),
    case("ptfe_iact", "command_empty", {"method": "host", "command": []}, "command must be the command"),
    case("ptfe_iact", "command_newline", {"method": "host", "command": ["tfectl", "admin\ntoken"]},
         "command[1] must not contain a newline"),
    case("ptfe_iact", "preset_space", {"preset_iact": PRESET + " x"}, "preset_iact must not contain white space"),
    case("ptfe_iact", "preset_newline", {"preset_iact": PRESET + "\n"}, "preset_iact must not contain a newline"),
    case("ptfe_iact", "address_query_secret", {"address": "https://127.0.0.1:1/?token=" + URL_SECRET},
         "address must be the address of the server only"),
    case("ptfe_iact", "address_userinfo", {"address": "https://%s@127.0.0.1:1" % URL_SECRET},
         "address must not hold a user name or password"),
    case("ptfe_iact", "timeout_zero", {"timeout": 0}, "timeout must be between 1 and 3600"),
    # ptfe_initial_admin
    case("ptfe_initial_admin", "username_newline", {"username": "admin\n"}, "username"),
    case("ptfe_initial_admin", "username_space", {"username": "site admin"}, "username"),
    case("ptfe_initial_admin", "email_newline", {"email": "admin@example.com\nBcc: x@evil.example"}, "email"),
    case("ptfe_initial_admin", "email_no_domain", {"email": "admin"}, "email"),
    case("ptfe_initial_admin", "password_short", {"password": "short"}, "password must be at least"),
    case("ptfe_initial_admin", "iact_space", {"iact": "two words"}, "iact must be one word"),
    case("ptfe_initial_admin", "token_file_empty", {"token_file": " "}, "token_file must not be empty"),
    case("ptfe_initial_admin", "token_file_no_dir", {"token_file": "/nonexistent-dir-bi/admin.token"},
         "token_file: directory /nonexistent-dir-bi does not exist"),
    case("ptfe_initial_admin", "token_file_dir", {"token_file": "/tmp"}, "token_file: /tmp is a directory"),
    case("ptfe_initial_admin", "address_javascript", {"address": "javascript:alert(1)"}, "address must be a URL"),
    # where the admin token is kept (custody)
    case("ptfe_initial_admin", "custody_unknown", {"custody": "vault"}, "custody"),
    case("ptfe_initial_admin", "s3_without_bucket", {"custody": "s3", "s3_object": "ptfe/admin-token.json"},
         "s3_bucket is required when custody=s3"),
    case("ptfe_initial_admin", "s3_object_prefix", {"custody": "s3", "s3_bucket": "ops-keys", "s3_object": "ptfe/"},
         "s3_object must name an object, not a prefix ending in /"),
    case("ptfe_initial_admin", "s3_options_with_file", {"s3_bucket": "ops-keys"}, "s3_bucket is only used with custody=s3"),
    case("ptfe_initial_admin", "s3_bucket_newline", {"custody": "s3", "s3_bucket": "ops-keys\n",
                                                     "s3_object": "ptfe/admin-token.json"}, "s3_bucket"),
    case("ptfe_initial_admin", "s3_endpoint_http", {"custody": "s3", "s3_bucket": "ops-keys",
                                                    "s3_object": "ptfe/admin-token.json",
                                                    "s3_endpoint_url": "http://127.0.0.1:9"}, "s3_endpoint_url"),
    # ptfe_organization
    case("ptfe_organization", "name_slash", {"name": "acme/../admin"}, "name must be 1 to 100 letters"),
    case("ptfe_organization", "name_newline", {"name": "acme\n"}, "name must not contain a newline"),
    case("ptfe_organization", "name_long", {"name": "a" * 101}, "name"),
    case("ptfe_organization", "email_bad", {"email": "ops at example"}, "email must be an e-mail address"),
    case("ptfe_organization", "state", {"state": "gone"}, "state"),
    case("ptfe_organization", "token_newline", {"token": ADMIN_TOKEN + "\n"}, "token must not contain a newline"),
    case("ptfe_organization", "token_file_missing", {"token_file": "/nonexistent-bi.token"},
         "token_file must be a file that holds the API token"),
    # ptfe_health
    case("ptfe_health", "timeout_total_zero", {"timeout_total": 0}, "timeout_total must be between"),
    case("ptfe_health", "interval_zero", {"interval": 0}, "interval must be between"),
    case("ptfe_health", "interval_over_total", {"timeout_total": 5, "interval": 10},
         "interval must be at most timeout_total (5), got 10"),
    case("ptfe_health", "version_words", {"version": "latest please"}, "version"),
    case("ptfe_health", "version_newline", {"version": "v202409-1\n"}, "version"),
    case("ptfe_health", "system_token_newline", {"system_token": SYSTEM_TOKEN + "\n"},
         "system_token must not contain a newline"),
    case("ptfe_health", "system_address_http", {"system_address": "http://127.0.0.1:9"}, "system_address"),
    case("ptfe_health", "system_address_path", {"system_address": "https://127.0.0.1:9/api/v1/ping"},
         "system_address must be the address of the server only"),
    # ptfe_platform_info
    case("ptfe_platform_info", "address_file", {"address": "file:///etc/passwd"}, "address must be a URL"),
    case("ptfe_platform_info", "token_space", {"token": "Bearer " + ADMIN_TOKEN}, "token must not contain white space"),
    case("ptfe_platform_info", "timeout_huge", {"timeout": 100000}, "timeout must be between 1 and 3600"),
]

# Where the admin token is kept, custody=vault_kv: every vault_* option is given (the listener's URL and a canary
# token unless the case says otherwise).
KV = {"custody": "vault_kv", "vault_kv_path": KV_PATH}
VAULT_CASES = [
    case("ptfe_initial_admin", "kv_without_path", {"custody": "vault_kv"},
         "vault_kv_path is required when custody=vault_kv"),
    case("ptfe_initial_admin", "kv_path_dotdot", dict(KV, vault_kv_path="ptfe-ops/../sys/policy"),
         "vault_kv_path must be a path without '.' or '..' parts"),
    case("ptfe_initial_admin", "kv_path_newline", dict(KV, vault_kv_path=KV_PATH + "\nx"),
         "vault_kv_path must not contain a newline or another control character"),
    case("ptfe_initial_admin", "kv_path_query", dict(KV, vault_kv_path=KV_PATH + "?version=1"),
         "vault_kv_path must be a path of parts made of letters"),
    case("ptfe_initial_admin", "kv_mount_dotdot", dict(KV, vault_kv_mount="../sys"),
         "vault_kv_mount must be a path without '.' or '..' parts"),
    case("ptfe_initial_admin", "kv_url_http", dict(KV, vault_url="http://127.0.0.1:9"),
         "vault_url must be a URL such as https"),
    case("ptfe_initial_admin", "kv_url_path", dict(KV, vault_url="https://127.0.0.1:9/v1/secret"),
         "vault_url must be the address of the server only"),
    case("ptfe_initial_admin", "kv_url_userinfo", dict(KV, vault_url="https://ops:%s@127.0.0.1:9" % URL_SECRET),
         "vault_url must not hold a user name or password"),
    case("ptfe_initial_admin", "kv_version_3", dict(KV, vault_kv_version=3), "vault_kv_version"),
    case("ptfe_initial_admin", "kv_token_newline", dict(KV, vault_token=VAULT_TOKEN + "\n"),
         "vault_token must not contain a newline"),
    case("ptfe_initial_admin", "kv_ca_relative", dict(KV, vault_ca_path="vault-ca.pem"),
         "vault_ca_path must be an absolute path"),
    case("ptfe_initial_admin", "kv_namespace_dotdot", dict(KV, vault_namespace="team/../root"),
         "vault_namespace must be a namespace path without '.' or '..' parts"),
    case("ptfe_initial_admin", "kv_with_s3_bucket", dict(KV, s3_bucket="ops-keys"),
         "s3_bucket is only used with custody=s3, not with custody=vault_kv"),
    case("ptfe_initial_admin", "s3_with_kv_path", {"custody": "s3", "s3_bucket": "ops-keys",
                                                   "s3_object": "ptfe/admin-token.json", "vault_kv_path": KV_PATH},
         "vault_kv_path is only used with custody=vault_kv, not with custody=s3"),
    case("ptfe_initial_admin", "file_with_kv_path", {"vault_kv_path": KV_PATH},
         "vault_kv_path is only used with custody=vault_kv, not with custody=file"),
    case("ptfe_initial_admin_info", "kv_without_path", {"custody": "vault_kv"},
         "vault_kv_path is required when custody=vault_kv"),
    case("ptfe_initial_admin_info", "kv_path_dotdot", dict(KV, vault_kv_path="../admin"),
         "vault_kv_path must be a path without '.' or '..' parts"),
    case("ptfe_initial_admin_info", "s3_with_kv_version", {"custody": "s3", "s3_bucket": "ops-keys",
                                                           "s3_object": "ptfe/admin.json", "vault_kv_version": 1},
         "vault_kv_version is only used with custody=vault_kv, not with custody=s3"),
]


@pytest.fixture(scope="module")
def batch(ptfe, tmp_path_factory):
    ptfe.requests_log(clear=True)
    common = {"default_address": ptfe.url, "default_token": ADMIN_TOKEN, "default_ca_path": ptfe.ca_path,
              "default_password": PASSWORD}
    result = run_batch("bad_input/playbooks/ptfe_bootstrap_modules.yml", CASES, tmp_path_factory.mktemp("cases"),
                       common)
    result.log = ptfe.requests_log()
    return result


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_request(batch, case):
    assert_refused(batch, case, canaries=(ADMIN_TOKEN, PASSWORD, URL_SECRET, SYSTEM_TOKEN, PRESET))
    assert batch.log == [], "a refused input still sent %d request(s): %s" % (len(batch.log), batch.log[:3])


@pytest.fixture(scope="module")
def vault_batch(ptfe, listener, tmp_path_factory):
    ptfe.requests_log(clear=True)
    common = {"default_address": ptfe.url, "default_ca_path": ptfe.ca_path, "default_password": PASSWORD,
              "default_vault_url": listener.url, "default_vault_token": VAULT_TOKEN}
    result = run_batch("bad_input/playbooks/ptfe_initial_admin_vault_kv.yml", VAULT_CASES,
                       tmp_path_factory.mktemp("vault-cases"), common)
    result.log, result.connections = ptfe.requests_log(), listener.connections
    return result


@pytest.mark.parametrize("case", VAULT_CASES, ids=[case.id for case in VAULT_CASES])
def test_vault_kv_custody_refused_by_name_before_any_request(vault_batch, case):
    assert_refused(vault_batch, case, canaries=(PASSWORD, URL_SECRET, VAULT_TOKEN))
    sent = vault_batch.log
    assert sent == [], "a refused input still sent %d request(s): %s" % (len(sent), sent[:3])
    assert vault_batch.connections == 0, "a refused input still connected to Vault"
