"""The post_rekey_backup_input_problems filter: what the post_rekey_backup role's variables leave open."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.post_rekey_backup_input_problems import (
    FilterModule,
    post_rekey_backup_input_problems,
)

# As the vault_rekey role records it in vault_rekey_result.custody.
FILE_CUSTODY = {"url": "https://127.0.0.1:8200", "ca_cert": "", "allow_insecure_http": False,
                "delegate_to": "localhost", "custody": "file", "keys_file": "/srv/keys/tfe1.json", "s3_bucket": "",
                "s3_object": "", "s3_region": "", "s3_endpoint_url": "", "s3_profile": "", "s3_ca_bundle": ""}
S3_CUSTODY = dict(FILE_CUSTODY, custody="s3", keys_file="", s3_bucket="ptfe-install-state",
                  s3_object="ptfe-ops/vault-keys/tfe1.json")
GOOD = {"post_rekey_backup_custody": FILE_CUSTODY, "post_rekey_backup_keys_file": "",
        "post_rekey_backup_key_shares": 5, "post_rekey_backup_unseal_key_path": "/data/vault-unseal-key",
        "post_rekey_backup_command": "/usr/local/bin/atlas-backup",
        "post_rekey_backup_marker_path": "/var/lib/ptfe-ops/post-rekey-backup.json"}
NO_KEYS_FILE = ("the keys file is not named: set post_rekey_backup_keys_file, or keys_file in "
                "post_rekey_backup_custody (the vault_rekey role records it there)")


@pytest.mark.parametrize("custody", [FILE_CUSTODY, S3_CUSTODY, {"url": "https://v:8200", "keys_file": "/k.json"}],
                         ids=["file", "s3", "short"])
def test_complete_input_has_no_problem(custody):
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody=custody)) == []


@pytest.mark.parametrize("shares", [1, 255, "5"])
def test_key_shares_in_range(shares):
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_key_shares=shares)) == []


@pytest.mark.parametrize("shares", [0, -1, 256, "five", None, True])
def test_key_shares_out_of_range(shares):
    # 0 would make the proof collection skip its comparison of the share count.
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_key_shares=shares)) == [
        "post_rekey_backup_key_shares must be a whole number between 1 and 255, got %r" % (shares,)]


@pytest.mark.parametrize("name", ["post_rekey_backup_unseal_key_path", "post_rekey_backup_command",
                                  "post_rekey_backup_marker_path"])
@pytest.mark.parametrize("value", ["", "  "])
def test_empty_paths_are_named(name, value):
    assert post_rekey_backup_input_problems(dict(GOOD, **{name: value})) == ["%s must not be empty" % name]


@pytest.mark.parametrize("name", ["post_rekey_backup_unseal_key_path", "post_rekey_backup_command",
                                  "post_rekey_backup_marker_path"])
@pytest.mark.parametrize("value,rule", [
    ("atlas-backup", "must be an absolute path"),
    ("/usr/local/bin/", "must name a file"),
    ("/data/../etc/shadow", "must name a file"),
    ("/usr/local/bin/atlas-backup\n", "must not contain a newline"),
])
def test_paths_must_be_absolute_file_names(name, value, rule):
    problems = post_rekey_backup_input_problems(dict(GOOD, **{name: value}))
    assert len(problems) == 1 and problems[0].startswith(name + " " + rule), problems


def test_the_unseal_key_is_never_the_command_or_the_record():
    problems = post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_marker_path=GOOD[
        "post_rekey_backup_unseal_key_path"]))
    assert problems == ["post_rekey_backup_unseal_key_path and post_rekey_backup_marker_path must name different "
                        "files, both are %s" % GOOD["post_rekey_backup_unseal_key_path"]]


def test_empty_url_is_named():
    custody = dict(FILE_CUSTODY, url="")
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody=custody)) == [
        "post_rekey_backup_custody.url must not be empty: it is the URL of the Vault the keys belong to"]


def test_file_custody_without_a_keys_file():
    custody = dict(FILE_CUSTODY, keys_file="")
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody=custody)) == [NO_KEYS_FILE]
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody={"url": "https://v"})) == [
        NO_KEYS_FILE]


def test_the_keys_file_shortcut_names_the_file_and_makes_the_custody_file():
    for custody in (dict(FILE_CUSTODY, keys_file=""), dict(S3_CUSTODY, s3_bucket="")):
        settings = dict(GOOD, post_rekey_backup_custody=custody, post_rekey_backup_keys_file="/srv/keys/tfe1.json")
        assert post_rekey_backup_input_problems(settings) == []


@pytest.mark.parametrize("option", ["s3_bucket", "s3_object"])
def test_s3_custody_names_the_missing_option(option):
    custody = dict(S3_CUSTODY, **{option: ""})
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody=custody)) == [
        "post_rekey_backup_custody.%s must be set with custody s3" % option]


def test_custody_that_is_not_a_mapping():
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody="s3://b/o")) == [
        "post_rekey_backup_custody must be a mapping (the vault_rekey role records it in vault_rekey_result.custody), "
        "got str"]


def test_every_problem_comes_at_once():
    settings = dict(GOOD, post_rekey_backup_key_shares=0, post_rekey_backup_command="",
                    post_rekey_backup_custody={"url": ""})
    assert post_rekey_backup_input_problems(settings) == [
        "post_rekey_backup_key_shares must be a whole number between 1 and 255, got 0",
        "post_rekey_backup_command must not be empty",
        "post_rekey_backup_custody.url must not be empty: it is the URL of the Vault the keys belong to",
        NO_KEYS_FILE,
    ]


TOKEN = "s.canary-backup-token-31"


@pytest.mark.parametrize("name, value, problem", [
    ("post_rekey_backup_keys_file", "keys.json", "post_rekey_backup_keys_file must be an absolute path"),
    ("post_rekey_backup_keys_file", "/data/vault-unseal-key", "post_rekey_backup_keys_file and "
                                                              "post_rekey_backup_unseal_key_path must name different"),
    ("post_rekey_backup_keys_file_host", "tfe 1", "post_rekey_backup_keys_file_host must not contain white space"),
    ("post_rekey_backup_vault_token", TOKEN + "\n", "post_rekey_backup_vault_token must not contain a newline"),
    ("post_rekey_backup_expected_nonce", "abc\n", "post_rekey_backup_expected_nonce must not contain a newline"),
    ("post_rekey_backup_expected_nonce", "../x", "post_rekey_backup_expected_nonce must be a rekey nonce"),
    ("post_rekey_backup_accept_destination", "/srv/k.json\n", "post_rekey_backup_accept_destination must not contain"),
])
def test_every_value_is_checked_by_its_variable_name(name, value, problem):
    problems = post_rekey_backup_input_problems(dict(GOOD, **{name: value}))
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    assert "canary" not in problems[0]


@pytest.mark.parametrize("custody, problem", [
    (dict(FILE_CUSTODY, url="https://ops:pw-canary@v:8200"), "post_rekey_backup_custody.url must not hold a user"),
    (dict(FILE_CUSTODY, url="http://127.0.0.1:8200"), "post_rekey_backup_custody.url must be a URL such as"),
    (dict(FILE_CUSTODY, url="https://v:8200/ui"), "post_rekey_backup_custody.url must be the address of the server"),
    (dict(FILE_CUSTODY, ca_cert="ca.pem"), "post_rekey_backup_custody.ca_cert must be an absolute path"),
    (dict(FILE_CUSTODY, keys_file="/srv/keys/\n"), "post_rekey_backup_custody.keys_file must not contain a newline"),
    (dict(FILE_CUSTODY, delegate_to="host one"), "post_rekey_backup_custody.delegate_to must not contain white space"),
    (dict(S3_CUSTODY, s3_bucket="My Bucket"), "post_rekey_backup_custody.s3_bucket must be an S3 bucket name"),
    (dict(S3_CUSTODY, s3_region="moon"), "post_rekey_backup_custody.s3_region must be an AWS region name"),
    (dict(S3_CUSTODY, s3_endpoint_url="ftp://s3.local"), "post_rekey_backup_custody.s3_endpoint_url must be a URL"),
])
def test_the_custody_values_are_checked_by_their_key(custody, problem):
    problems = post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody=custody))
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    assert "pw-canary" not in problems[0]


def test_plain_http_is_accepted_when_the_custody_allows_it():
    custody = dict(FILE_CUSTODY, url="http://127.0.0.1:8200", allow_insecure_http=True)
    assert post_rekey_backup_input_problems(dict(GOOD, post_rekey_backup_custody=custody)) == []


@pytest.mark.parametrize("content, problem", [
    ("", "must not be empty"),
    ("two keys", "must not contain white space"),
    ("%%%%", "must be an unseal key in hex or base64"),
    ("ab" * 40, "is 40 bytes long"),
])
def test_the_unseal_key_read_from_its_file_is_named_by_the_path(content, problem):
    problems = post_rekey_backup_input_problems({"post_rekey_backup_unseal_key_path": "/data/vault-unseal-key",
                                                 "post_rekey_backup_unseal_key": content})
    assert len(problems) == 1 and problems[0].startswith(
        "post_rekey_backup_unseal_key_path (/data/vault-unseal-key) must hold one unseal key"), problems
    assert problem in problems[0]
    assert post_rekey_backup_input_problems({"post_rekey_backup_unseal_key_path": "/data/vault-unseal-key",
                                             "post_rekey_backup_unseal_key": "ab" * 32}) == []


def test_variables_not_given_are_not_checked():
    assert post_rekey_backup_input_problems({}) == []


def test_not_a_mapping_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects a mapping of the role's variables, got list"):
        post_rekey_backup_input_problems([])


def test_registered_under_its_name():
    assert FilterModule().filters()["post_rekey_backup_input_problems"] is post_rekey_backup_input_problems
