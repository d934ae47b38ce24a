"""The post_rekey_backup role, given malformed variables: refused by the variable's name before the unseal key is
read, removed or sent anywhere (the Vault address is a port that counts every connection), before the backup runs
and before the backup record is written, with no secret printed at -vvvv (harness.py).

The backup command that cannot run, against a Vault whose every proof is there (so that nothing but the check of
the command stands between the run and the removal of the key), is test_post_rekey_backup_openbao.py.
"""
from __future__ import annotations

import base64

import pytest

from tests.integration.bad_input.conftest import assert_left_alone, batch_against
from tests.integration.bad_input.harness import Case, assert_refused

TOKEN = "s.canary-bad-input-backup-token-c2f5"
UNSEAL_KEY = base64.b64encode(b"canary-backup-unseal-key-0000001").decode()
GARBAGE_KEY = "canary backup garbage key"
URL_PASSWORD = "canary-backup-url-password-1d8e"
CANARIES = (TOKEN, UNSEAL_KEY, GARBAGE_KEY, URL_PASSWORD)
FIRST = "Stop before anything is read"
SPEC = "Validating arguments against arg spec"
COMMAND = "Refuse a backup command that cannot run"
KEY = "{{ case_dir }}/vault-unseal-key"
KEYS_FILE = "{{ case_dir }}/keys/tfe.vault-keys.json"
KEY_CONTENT = {"unseal_key_file_garbage": GARBAGE_KEY + "\n",
               "unseal_key_file_long": base64.b64encode(b"x" * 40).decode() + "\n"}


def custody(**values):
    """post_rekey_backup_custody as the vault_rekey role records it, with ``values`` over it."""
    base = {"url": "{{ vault_url }}", "ca_cert": "{{ vault_ca }}", "keys_file": KEYS_FILE}
    base.update(values)
    return {"post_rekey_backup_custody": base}


#: The backup command that cannot run, checked before the unseal key is touched (test_post_rekey_backup_openbao.py
#: runs them against a Vault whose every proof is there).
COMMAND_CASES = [
    Case("command_misspelt", {"post_rekey_backup_command": "{{ case_dir }}/atlas-bakcup"},
         "post_rekey_backup_command /", task=COMMAND),
    Case("command_not_executable", {"post_rekey_backup_command": "{{ case_dir }}/atlas-backup.txt"},
         "(it is not executable). Nothing was changed: the unseal key is still in place.", task=COMMAND),
    Case("command_directory", {"post_rekey_backup_command": "{{ case_dir }}/keys"}, "(it is not a regular file)",
         task=COMMAND),
]
CASES = COMMAND_CASES + [
    Case("command_relative", {"post_rekey_backup_command": "atlas-backup"},
         "post_rekey_backup_command must be an absolute path", task=FIRST),
    Case("command_newline", {"post_rekey_backup_command": "{{ case_dir }}/atlas-backup\n"},
         "post_rekey_backup_command must not contain a newline", task=FIRST),
    Case("command_empty", {"post_rekey_backup_command": ""}, "post_rekey_backup_command must not be empty",
         task=FIRST),
    # the unseal key: its path, and what the file holds (named by the path, never shown)
    Case("unseal_key_path_relative", {"post_rekey_backup_unseal_key_path": "vault-unseal-key"},
         "post_rekey_backup_unseal_key_path must be an absolute path", task=FIRST),
    Case("unseal_key_path_directory", {"post_rekey_backup_unseal_key_path": "{{ case_dir }}/keys"},
         "Refusing to remove post_rekey_backup_unseal_key_path",
         task="Refuse an unseal key path that is not a regular file"),
    Case("unseal_key_file_garbage", {}, "post_rekey_backup_unseal_key_path (",
         task="Refuse an unseal key file that does not hold one key"),
    Case("unseal_key_file_long", {}, "the key in it is 40 bytes long",
         task="Refuse an unseal key file that does not hold one key"),
    # the backup record
    Case("marker_is_the_unseal_key", {"post_rekey_backup_marker_path": KEY},
         "post_rekey_backup_unseal_key_path and post_rekey_backup_marker_path must name different files", task=FIRST),
    Case("marker_relative", {"post_rekey_backup_marker_path": "post-rekey-backup.json"},
         "post_rekey_backup_marker_path must be an absolute path", task=FIRST),
    # numbers
    Case("key_shares_zero", {"post_rekey_backup_key_shares": 0},
         "post_rekey_backup_key_shares must be a whole number between 1 and 255, got 0", task=FIRST),
    Case("key_shares_huge", {"post_rekey_backup_key_shares": 256},
         "post_rekey_backup_key_shares must be a whole number between 1 and 255, got 256", task=FIRST),
    Case("key_shares_text", {"post_rekey_backup_key_shares": "all"}, "argument 'post_rekey_backup_key_shares' is of "
                                                                     "type", task=SPEC),
    # where the keys are, and their Vault
    Case("custody_url_password", custody(url="https://ops:%s@127.0.0.1:1" % URL_PASSWORD),
         "post_rekey_backup_custody.url must not hold a user name or password", task=FIRST),
    Case("custody_url_http", custody(url="http://127.0.0.1:1"),
         "post_rekey_backup_custody.url must be a URL such as https://host[:port]", task=FIRST),
    Case("custody_url_path", custody(url="https://127.0.0.1:1/v1/sys"),
         "post_rekey_backup_custody.url must be the address of the server only", task=FIRST),
    Case("custody_ca_cert_relative", custody(ca_cert="vault-ca.pem"),
         "post_rekey_backup_custody.ca_cert must be an absolute path", task=FIRST),
    Case("custody_keys_file_relative", custody(keys_file="keys.json"),
         "post_rekey_backup_custody.keys_file must be an absolute path", task=FIRST),
    Case("custody_choice", custody(custody="disk"), "value of custody must be one of: file, s3, got: disk",
         task=SPEC),
    Case("custody_s3_without_object", custody(custody="s3", keys_file="", s3_bucket="ptfe-keys"),
         "post_rekey_backup_custody.s3_object must be set with custody s3", task=FIRST),
    Case("custody_s3_bucket_name", custody(custody="s3", keys_file="", s3_bucket="Ptfe_Keys", s3_object="k.json"),
         "post_rekey_backup_custody.s3_bucket must be an S3 bucket name", task=FIRST),
    Case("custody_s3_region", custody(s3_region="eu west 1"),
         "post_rekey_backup_custody.s3_region must be an AWS region name", task=FIRST),
    Case("custody_s3_endpoint_password", custody(s3_endpoint_url="https://ak:%s@127.0.0.1:1" % URL_PASSWORD),
         "post_rekey_backup_custody.s3_endpoint_url must not hold a user name or password", task=FIRST),
    Case("custody_s3_profile", custody(s3_profile="ops\n"),
         "post_rekey_backup_custody.s3_profile must not contain a newline", task=FIRST),
    Case("custody_s3_ca_bundle", custody(s3_ca_bundle="../s3-ca.pem"),
         "post_rekey_backup_custody.s3_ca_bundle must be an absolute path", task=FIRST),
    Case("custody_delegate_to_space", custody(delegate_to="tfe 1"),
         "post_rekey_backup_custody.delegate_to must not contain white space", task=FIRST),
    Case("keys_file_is_the_unseal_key", {"post_rekey_backup_keys_file": KEY},
         "post_rekey_backup_keys_file and post_rekey_backup_unseal_key_path must name different files", task=FIRST),
    Case("keys_file_host_space", {"post_rekey_backup_keys_file_host": "local host"},
         "post_rekey_backup_keys_file_host must not contain white space", task=FIRST),
    # the token, the nonce and the acknowledgement
    Case("vault_token_newline", {"post_rekey_backup_vault_token": TOKEN + "\n"},
         "post_rekey_backup_vault_token must not contain a newline", task=FIRST),
    Case("expected_nonce_newline", {"post_rekey_backup_expected_nonce": "6a1cd39c-1b7a-4e1e-9c5e-0f4b7c3f2a11\n"},
         "post_rekey_backup_expected_nonce must not contain a newline", task=FIRST),
    Case("expected_nonce_path", {"post_rekey_backup_expected_nonce": "../../keys"},
         "post_rekey_backup_expected_nonce must be a rekey nonce", task=FIRST),
    Case("accept_destination_newline", {"post_rekey_backup_accept_destination": KEYS_FILE + "\n"},
         "post_rekey_backup_accept_destination must not contain a newline", task=FIRST),
]


def prepare(directory, case, key=UNSEAL_KEY):
    """The case's host: its unseal key file, a keys directory, the backup command and a copy that cannot run."""
    (directory / "keys").mkdir()
    (directory / "vault-unseal-key").write_text(KEY_CONTENT.get(case.id, key + "\n"))
    backup = directory / "atlas-backup"
    backup.write_text("#!/bin/sh\ntouch %s/backup-ran\necho backup complete\n" % directory)
    backup.chmod(0o755)
    (directory / "atlas-backup.txt").write_text(backup.read_text())


#: The role's variables every case starts from (the custody, the token and the nonce are the table's own).
COMMON = {"post_rekey_backup_key_shares": 5, "post_rekey_backup_unseal_key_path": KEY,
          "post_rekey_backup_command": "{{ case_dir }}/atlas-backup",
          "post_rekey_backup_marker_path": "{{ case_dir }}/marker/post-rekey-backup.json"}


@pytest.fixture(scope="module")
def batch(listener, tmp_path_factory):
    common = dict(COMMON, post_rekey_backup_custody=custody()["post_rekey_backup_custody"],
                  post_rekey_backup_vault_token=TOKEN, post_rekey_backup_expected_nonce="guard-nonce")
    return batch_against(listener, "bad_input/playbooks/post_rekey_backup_role.yml", CASES, tmp_path_factory, common,
                         prepare)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_the_variable_name_before_the_key_is_touched(batch, case):
    assert_refused(batch, case, canaries=CANARIES)
    assert_left_alone(batch, case)
