"""vault_rekey, given malformed input: refused by name before any request (the Vault address is a port that counts
every connection), before any file, with no secret printed at -vvvv (harness.py).

The cases that need a real Vault (a wrong or malformed unseal key, the state file that is the keys file) are in
test_vault_rekey_openbao.py.
"""
from __future__ import annotations

import base64

import pytest

from tests.integration.bad_input.conftest import assert_left_alone, batch_against
from tests.integration.bad_input.harness import Case, assert_refused

TOKEN = "s.canary-bad-input-vault-token-61c3"
UNSEAL_KEY = base64.b64encode(b"canary-unseal-key-00000000000001").decode()
UNSEAL_KEY_HEX = base64.b64decode(UNSEAL_KEY).hex()
VERIFICATION_KEY = base64.b64encode(b"canary-verification-share-0000001").decode()
GARBAGE_KEY = "canary-garbage-key!"
URL_PASSWORD = "canary-url-password-2f9a"
QUERY_SECRET = "canary-query-secret-0b4d"
PGP = base64.b64encode(b"a PGP public key, binary").decode()
CANARIES = (TOKEN, UNSEAL_KEY, UNSEAL_KEY_HEX, VERIFICATION_KEY, GARBAGE_KEY, URL_PASSWORD, QUERY_SECRET)
CASE_DIR = "{{ case_dir }}"
S3 = {"custody": "s3", "keys_file": "", "s3_bucket": "ptfe-keys", "s3_object": "vault/keys.json"}


def s3(**values):
    """The options of S3 custody, with ``values`` over them."""
    return dict(S3, **values)


CASES = [
    # the address: no password in it, https only, the server alone
    Case("url_password", {"url": "https://ops:%s@127.0.0.1:1" % URL_PASSWORD},
         "url must not hold a user name or password"),
    Case("url_javascript", {"url": "javascript:alert(1)"}, "url must be a URL such as https://host[:port]"),
    Case("url_file", {"url": "file:///etc/passwd"}, "url must be a URL such as https://host[:port]"),
    Case("url_path", {"url": "https://127.0.0.1:1/v1/sys"}, "url must be the address of the server only"),
    Case("url_query_secret", {"url": "https://127.0.0.1:1/?token=" + QUERY_SECRET},
         "url must be the address of the server only"),
    Case("url_http", {"url": "http://127.0.0.1:1"}, "needs its allow_insecure_http option"),
    Case("url_newline", {"url": "https://127.0.0.1:1\n"}, "url must not contain a newline"),
    Case("url_port", {"url": "https://127.0.0.1:99999"}, "url must be a URL such as https://host[:port]"),
    # the token, as a YAML block or a vaulted string leaves it
    Case("token_newline", {"token": TOKEN + "\n"}, "token must not contain a newline"),
    Case("token_bearer", {"token": "Bearer " + TOKEN}, "token must not contain white space"),
    # TLS and namespace
    Case("ca_cert_relative", {"ca_cert": "vault-ca.pem"}, "ca_cert must be an absolute path, got 'vault-ca.pem'"),
    Case("ca_cert_missing", {"ca_cert": "/nonexistent/vault-ca.pem"},
         "ca_cert must be a PEM file on the machine that runs the module; there is no file /nonexistent/vault-ca.pem"),
    Case("namespace_space", {"vault_namespace": "team a"}, "namespace must be a namespace path"),
    # numbers
    Case("timeout_zero", {"timeout": 0}, "timeout must be between 1 and 3600, got 0"),
    Case("timeout_negative", {"timeout": -1}, "timeout must be between 1 and 3600, got -1"),
    Case("timeout_text", {"timeout": "30s"}, "argument 'timeout' is of type"),
    Case("max_retries_huge", {"max_retries": 1000}, "max_retries must be between 0 and 20, got 1000"),
    Case("shares_zero", {"key_shares": 0, "key_threshold": 0}, "key_shares must be between 1 and 255, got 0"),
    Case("shares_256", {"key_shares": 256}, "key_shares must be between 1 and 255, got 256"),
    Case("shares_text", {"key_shares": "five"}, "argument 'key_shares' is of type"),
    Case("threshold_above_shares", {"key_shares": 3, "key_threshold": 4},
         "key_threshold (4) must not be greater than key_shares (3)"),
    Case("threshold_one_of_five", {"key_threshold": 1},
         "key_threshold must be greater than 1 when key_shares is greater than 1 (got 1 of 5)"),
    # the current keys: never quoted, whatever is wrong with them
    Case("unseal_key_newline", {"unseal_keys": [UNSEAL_KEY + "\n"]},
         "unseal_keys entry 1 must not contain white space or a control character"),
    Case("unseal_key_two_in_one", {"unseal_keys": [UNSEAL_KEY + " " + UNSEAL_KEY]},
         "unseal_keys entry 1 must not contain white space"),
    Case("unseal_key_garbage", {"unseal_keys": [GARBAGE_KEY]},
         "unseal_keys entry 1 must be an unseal key in hex or base64, as Vault prints it"),
    Case("unseal_key_short", {"unseal_keys": [base64.b64encode(b"0123456789").decode()]},
         "unseal_keys entry 1 is 10 bytes long, but a Vault unseal key or key share is"),
    Case("unseal_key_twice", {"unseal_keys": [UNSEAL_KEY, UNSEAL_KEY_HEX]},
         "unseal_keys must not contain the same share twice (entry 2)"),
    Case("unseal_key_empty", {"unseal_keys": [UNSEAL_KEY, ""]}, "unseal_keys entry 2 must not be empty"),
    # PGP mode
    Case("verification_key_newline", {"pgp_keys": [PGP] * 5, "verification_keys": [VERIFICATION_KEY + "\n"]},
         "verification_keys entry 1 must not contain white space"),
    Case("verification_without_pgp", {"verification_keys": [VERIFICATION_KEY]},
         "verification_keys is only used with pgp_keys"),
    Case("pgp_armored", {"pgp_keys": ["-----BEGIN PGP PUBLIC KEY BLOCK-----"] * 5},
         "pgp_keys entry 1 must be a base64-encoded PGP public key"),
    Case("pgp_count", {"pgp_keys": [PGP, PGP]}, "pgp_keys must hold exactly key_shares (5) keys, got 2"),
    Case("backup_without_pgp", {"backup": True}, "backup needs pgp_keys"),
    Case("unverified_without_backup", {"require_verification": False},
         "require_verification=false is only accepted with pgp_keys and backup=true"),
    # the files: absolute, each its own, never one of the keys file's companions
    Case("keys_file_relative", {"keys_file": "keys.json"}, "keys_file must be an absolute path, got 'keys.json'"),
    Case("keys_file_newline", {"keys_file": CASE_DIR + "/keys\n.json"}, "keys_file must not contain a newline"),
    Case("keys_file_directory", {"keys_file": CASE_DIR + "/"}, "keys_file must name a file"),
    Case("keys_file_dot_dot", {"keys_file": CASE_DIR + "/../keys.json"}, "keys_file must name a file"),
    Case("keys_file_missing_directory", {"keys_file": "/nonexistent-keys-dir/keys.json"},
         "keys_file: directory /nonexistent-keys-dir does not exist"),
    Case("state_file_is_keys_file", {"state_file": CASE_DIR + "/./keys.json"},
         "keys_file and state_file must name different files"),
    Case("state_file_is_pending", {"state_file": CASE_DIR + "/keys.json.pending"},
         "keys.json.pending) must not be one of the files kept beside keys_file"),
    Case("state_file_is_ca_cert", {"state_file": "{{ vault_ca }}"},
         "state_file and ca_cert must name different files"),
    Case("state_file_relative", {"state_file": "keys.state"}, "state_file must be an absolute path"),
    # S3 custody
    Case("custody_choice", {"custody": "disk"}, "value of custody must be one of: file, s3, got: disk"),
    Case("s3_without_bucket", s3(s3_bucket=""), "s3_bucket is required when custody=s3"),
    Case("s3_keys_file_too", s3(keys_file=CASE_DIR + "/keys.json"), "keys_file is only used with custody=file"),
    Case("s3_bucket_name", s3(s3_bucket="Ptfe_Keys"), "s3_bucket must be an S3 bucket name"),
    Case("s3_object_space", s3(s3_object="vault keys.json"), "s3_object must not contain white space"),
    Case("s3_object_prefix", s3(s3_object="vault/"), "s3_object must name an object, not a prefix"),
    Case("s3_kms_key_space", s3(s3_kms_key_id="alias/ vault"), "s3_kms_key_id must be a KMS key ID"),
    Case("s3_region", s3(s3_region="eu west 1"), "s3_region must be an AWS region name"),
    Case("s3_endpoint_http", s3(s3_endpoint_url="http://127.0.0.1:1"),
         "s3_endpoint_url must be a URL such as https://host[:port]"),
    Case("s3_endpoint_password", s3(s3_endpoint_url="https://ak:%s@127.0.0.1:1" % URL_PASSWORD),
         "s3_endpoint_url must not hold a user name or password"),
    Case("s3_profile_newline", s3(s3_profile="ops\n"), "s3_profile must not contain a newline"),
    Case("s3_ca_bundle_missing", s3(s3_ca_bundle="/nonexistent/s3-ca.pem"),
         "s3_ca_bundle must be a PEM file on the machine that runs the module"),
]


@pytest.fixture(scope="module")
def batch(listener, tmp_path_factory):
    return batch_against(listener, "bad_input/playbooks/vault_rekey.yml", CASES, tmp_path_factory,
                         {"vault_token": TOKEN, "default_unseal_keys": [UNSEAL_KEY]})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_change(batch, case):
    assert_refused(batch, case, canaries=CANARIES)
    assert_left_alone(batch, case)
