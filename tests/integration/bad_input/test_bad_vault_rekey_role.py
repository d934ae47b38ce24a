"""The vault_rekey role, given malformed variables: refused by the variable's name before any task that hides its
output (no_log), before the unseal key is sent anywhere (the Vault address is a port that counts every connection)
and before any file is written, with no secret printed at -vvvv (harness.py).

One case gets past the role's own checks to the module (a CA bundle that is not there, which only the machine
that runs the module can tell): the role's rescue task then fails with the module's redacted message, naming the
module's option, with neither the token nor the unseal key in it.
"""
from __future__ import annotations

import base64

import pytest

from tests.integration.bad_input.conftest import assert_left_alone, batch_against
from tests.integration.bad_input.harness import CENSORED, Case, assert_refused, rescued

TOKEN = "s.canary-bad-input-role-token-93e0"
UNSEAL_KEY = base64.b64encode(b"canary-role-unseal-key-000000001").decode()
VERIFICATION_KEY = base64.b64encode(b"canary-role-verification-share-01").decode()
GARBAGE_KEY = "canary role garbage key"
URL_PASSWORD = "canary-role-url-password-5a7c"
PGP = base64.b64encode(b"a PGP public key, binary").decode()
CANARIES = (TOKEN, UNSEAL_KEY, VERIFICATION_KEY, GARBAGE_KEY, URL_PASSWORD)
FIRST = "Stop before anything is read"
SPEC = "Validating arguments against arg spec"
KEY = "{{ case_dir }}/vault-unseal-key"
S3 = {"vault_rekey_custody": "s3", "vault_rekey_s3_bucket": "ptfe-keys"}
#: The unseal key file's content, where a case gives its own.
KEY_CONTENT = {
    "unseal_key_file_garbage": GARBAGE_KEY + "\n",
    "unseal_key_file_short": base64.b64encode(b"0123456789").decode() + "\n",
    "unseal_key_file_two_keys": UNSEAL_KEY + "\n" + UNSEAL_KEY + "\n",
}


def s3(**values):
    return dict(S3, **values)


CASES = [
    # the address and how to reach it
    Case("url_password", {"vault_rekey_url": "https://ops:%s@127.0.0.1:1" % URL_PASSWORD},
         "vault_rekey_url must not hold a user name or password", task=FIRST),
    Case("url_http", {"vault_rekey_url": "http://127.0.0.1:1"},
         "vault_rekey_url must be a URL such as https://host[:port]", task=FIRST),
    Case("url_path", {"vault_rekey_url": "https://127.0.0.1:1/v1/sys/rekey"},
         "vault_rekey_url must be the address of the server only", task=FIRST),
    Case("url_empty", {"vault_rekey_url": ""}, "vault_rekey_url must not be empty", task=FIRST),
    Case("token_newline", {"vault_rekey_token": TOKEN + "\n"}, "vault_rekey_token must not contain a newline",
         task=FIRST),
    Case("token_bearer", {"vault_rekey_token": "Bearer " + TOKEN}, "vault_rekey_token must not contain white space",
         task=FIRST),
    Case("ca_cert_relative", {"vault_rekey_ca_cert": "vault-ca.pem"}, "vault_rekey_ca_cert must be an absolute path",
         task=FIRST),
    Case("timeout_zero", {"vault_rekey_timeout": 0}, "vault_rekey_timeout must be between 1 and 3600, got 0",
         task=FIRST),
    Case("timeout_text", {"vault_rekey_timeout": "thirty"}, "argument 'vault_rekey_timeout' is of type", task=SPEC),
    # shares and threshold
    Case("shares_zero", {"vault_rekey_key_shares": 0}, "vault_rekey_key_shares must be between 1 and 255, got 0",
         task=FIRST),
    Case("shares_text", {"vault_rekey_key_shares": "five"}, "argument 'vault_rekey_key_shares' is of type",
         task=SPEC),
    Case("threshold_above_shares", {"vault_rekey_key_threshold": 9},
         "vault_rekey_key_threshold (9) must not be greater than vault_rekey_key_shares (5)", task=FIRST),
    # the unseal key: its path, and what the file holds (named by the path, never shown)
    Case("unseal_key_path_relative", {"vault_rekey_unseal_key_path": "vault-unseal-key"},
         "vault_rekey_unseal_key_path must be an absolute path", task=FIRST),
    Case("unseal_key_path_directory", {"vault_rekey_unseal_key_path": "{{ case_dir }}/keys"},
         "vault_rekey_unseal_key_path", task="Refuse an unseal key path that is not a regular file"),
    Case("unseal_key_file_garbage", {}, "must hold one unseal key in hex or base64, as Vault prints it: the key in it "
         "must not contain white space", task="Stop before the rekey when the unseal key file does not hold one key"),
    Case("unseal_key_file_short", {}, "the key in it is 10 bytes long",
         task="Stop before the rekey when the unseal key file does not hold one key"),
    Case("unseal_key_file_two_keys", {}, "vault_rekey_unseal_key_path (",
         task="Stop before the rekey when the unseal key file does not hold one key"),
    # where the keys go
    Case("keys_dir_relative", {"vault_rekey_keys_dir": "keys"}, "vault_rekey_keys_dir must be an absolute path",
         task=FIRST),
    Case("keys_file_is_the_unseal_key", {"vault_rekey_keys_file": KEY},
         "vault_rekey_unseal_key_path and vault_rekey_keys_file must name different files", task=FIRST),
    Case("state_file_is_keys_file",
         {"vault_rekey_state_file": "{{ case_dir }}/keys/./{{ inventory_hostname }}.vault-keys.json"},
         "vault_rekey_keys_file and vault_rekey_state_file must name different files", task=FIRST),
    Case("state_file_is_pending",
         {"vault_rekey_state_file": "{{ case_dir }}/keys/{{ inventory_hostname }}.vault-keys.json.pending"},
         "must not be one of the files kept beside vault_rekey_keys_file", task=FIRST),
    Case("custody_choice", {"vault_rekey_custody": "vault"}, "vault_rekey_custody must be one of: file, s3",
         task=SPEC),
    Case("s3_bucket_name", s3(vault_rekey_s3_bucket="Ptfe Keys"), "vault_rekey_s3_bucket must be an S3 bucket name",
         task=FIRST),
    Case("s3_object_unset", s3(vault_rekey_s3_object=""), "vault_rekey_s3_object must be set with vault_rekey_custody "
         "s3", task=FIRST),
    Case("s3_endpoint_http", {"vault_rekey_s3_endpoint_url": "http://127.0.0.1:1"},
         "vault_rekey_s3_endpoint_url must be a URL such as https://host[:port]", task=FIRST),
    Case("s3_region", {"vault_rekey_s3_region": "eu-west-1\n"}, "vault_rekey_s3_region must not contain a newline",
         task=FIRST),
    Case("s3_kms_key_id", s3(vault_rekey_s3_kms_key_id="alias/vault keys"),
         "vault_rekey_s3_kms_key_id must be a KMS key ID", task=FIRST),
    Case("s3_profile", {"vault_rekey_s3_profile": "ops\nteam"}, "vault_rekey_s3_profile must not contain a newline",
         task=FIRST),
    Case("s3_ca_bundle", {"vault_rekey_s3_ca_bundle": "s3-ca.pem"}, "vault_rekey_s3_ca_bundle must be an absolute path",
         task=FIRST),
    # PGP mode
    Case("pgp_armored", {"vault_rekey_pgp_keys": ["-----BEGIN PGP PUBLIC KEY BLOCK-----"] * 5},
         "vault_rekey_pgp_keys entry 1 must be a base64-encoded PGP public key", task=FIRST),
    Case("verification_key_newline", {"vault_rekey_pgp_keys": [PGP] * 5,
                                      "vault_rekey_verification_keys": [VERIFICATION_KEY + "\n"]},
         "vault_rekey_verification_keys entry 1 must not contain white space", task=FIRST),
    Case("backup_without_pgp", {"vault_rekey_backup": True}, "vault_rekey_backup needs vault_rekey_pgp_keys",
         task=FIRST),
    # past the role's checks: the module refuses, and the rescue shows its message, redacted
    Case("ca_cert_missing", {"vault_rekey_ca_cert": "/nonexistent/vault-ca.pem"},
         "ptfe.ops.vault_rekey failed (its options are the role's variables without the vault_rekey_ prefix): "
         "Invalid parameters for ptfe.ops.vault_rekey: ca_cert must be a PEM file on the machine that runs the module",
         task="Fail with the module's redacted message"),
]


def prepare(directory, case):
    (directory / "keys").mkdir()
    (directory / "vault-unseal-key").write_text(KEY_CONTENT.get(case.id, UNSEAL_KEY + "\n"))


@pytest.fixture(scope="module")
def batch(listener, tmp_path_factory):
    common = {"vault_rekey_url": "{{ vault_url }}", "vault_rekey_token": TOKEN, "vault_rekey_ca_cert": "{{ vault_ca }}",
              "vault_rekey_unseal_key_path": KEY, "vault_rekey_keys_dir": "{{ case_dir }}/keys",
              "vault_rekey_key_shares": 5, "vault_rekey_key_threshold": 2}
    return batch_against(listener, "bad_input/playbooks/vault_rekey_role.yml", CASES, tmp_path_factory, common,
                         prepare)


#: Cases refused by the module inside the role's no_log task, whose rescue task fails with the module's message.
RESCUED = ("ca_cert_missing",)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_the_variable_name_before_any_change(batch, case):
    if case.id in RESCUED:
        assert rescued(batch, case).get("censored", "").startswith(CENSORED)
    assert_refused(batch, case, canaries=CANARIES)
    assert_left_alone(batch, case)
