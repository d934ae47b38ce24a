"""vault_custody_info, given malformed input: refused by name before anything is read (the Vault address is a port
that counts every connection), with no secret printed at -vvvv (harness.py)."""
from __future__ import annotations

import base64

import pytest

from tests.integration.bad_input.conftest import assert_left_alone, batch_against
from tests.integration.bad_input.harness import Case, assert_refused
from tests.integration.bad_input.test_bad_vault_rekey import s3

TOKEN = "s.canary-bad-input-custody-token-4d1a"
UNSEAL_KEY = base64.b64encode(b"canary-custody-unseal-key-000001").decode()
GARBAGE_KEY = "canary-custody-garbage!"
URL_PASSWORD = "canary-custody-url-password-8e2b"
CANARIES = (TOKEN, UNSEAL_KEY, GARBAGE_KEY, URL_PASSWORD)

CASES = [
    Case("url_password", {"url": "https://ops:%s@127.0.0.1:1" % URL_PASSWORD},
         "url must not hold a user name or password"),
    Case("url_path", {"url": "https://127.0.0.1:1/ui/vault"}, "url must be the address of the server only"),
    Case("token_newline", {"token": TOKEN + "\n"}, "token must not contain a newline"),
    Case("ca_cert_missing", {"ca_cert": "/nonexistent/vault-ca.pem"}, "ca_cert must be a PEM file"),
    Case("timeout_zero", {"timeout": 0}, "timeout must be between 1 and 3600, got 0"),
    Case("max_retries_negative", {"max_retries": -1}, "max_retries must be between 0 and 20, got -1"),
    Case("namespace_path", {"vault_namespace": "../root"}, "namespace must be a namespace path"),
    Case("expected_nonce_newline", {"expected_nonce": "6a1cd39c-1b7a-4e1e-9c5e-0f4b7c3f2a11\n"},
         "expected_nonce must not contain a newline"),
    Case("expected_nonce_path", {"expected_nonce": "../keys"}, "expected_nonce must be a rekey nonce"),
    Case("expected_key_shares_negative", {"expected_key_shares": -1},
         "expected_key_shares must be between 0 and 255, got -1"),
    Case("expected_key_shares_huge", {"expected_key_shares": 256},
         "expected_key_shares must be between 0 and 255, got 256"),
    Case("expected_key_shares_text", {"expected_key_shares": "five"}, "argument 'expected_key_shares' is of type"),
    Case("unseal_key_newline", {"unseal_key": UNSEAL_KEY + "\n"},
         "unseal_key must not contain white space or a control character"),
    Case("unseal_key_garbage", {"unseal_key": GARBAGE_KEY}, "unseal_key must be an unseal key in hex or base64"),
    Case("unseal_key_long", {"unseal_key": "ab" * 40}, "unseal_key is 40 bytes long"),
    Case("accept_destination_newline", {"accept_destination": "{{ case_dir }}/keys.json\n"},
         "accept_destination must not contain a newline"),
    Case("keys_file_relative", {"keys_file": "keys.json"}, "keys_file must be an absolute path"),
    Case("keys_file_unset", {"keys_file": ""}, "keys_file is required with custody=file"),
    Case("state_file_is_keys_file", {"state_file": "{{ case_dir }}/keys.json"},
         "keys_file and state_file must name different files"),
    Case("custody_choice", {"custody": "vault"}, "value of custody must be one of: file, s3, got: vault"),
    Case("s3_without_object", s3(s3_object=""), "s3_object is required when custody=s3"),
    Case("s3_bucket_name", s3(s3_bucket="ptfe_keys"), "s3_bucket must be an S3 bucket name"),
    Case("s3_kms_key_space", s3(s3_kms_key_id="alias/vault keys"), "s3_kms_key_id must be a KMS key ID"),
    Case("s3_profile_space", s3(s3_profile="ops team"), "s3_profile must not contain white space"),
    Case("s3_ca_bundle_relative", s3(s3_ca_bundle="s3-ca.pem"), "s3_ca_bundle must be an absolute path"),
    Case("s3_region", s3(s3_region="EU-WEST-1"), "s3_region must be an AWS region name"),
    Case("s3_endpoint_password", s3(s3_endpoint_url="https://ak:%s@127.0.0.1:1" % URL_PASSWORD),
         "s3_endpoint_url must not hold a user name or password"),
]


@pytest.fixture(scope="module")
def batch(listener, tmp_path_factory):
    return batch_against(listener, "bad_input/playbooks/vault_custody_info.yml", CASES, tmp_path_factory,
                         {"vault_token": TOKEN, "default_unseal_key": UNSEAL_KEY})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_anything_is_read(batch, case):
    assert_refused(batch, case, canaries=CANARIES)
    assert_left_alone(batch, case)
