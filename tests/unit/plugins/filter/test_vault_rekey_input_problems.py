"""The vault_rekey_input_problems filter: every value of the vault_rekey role's variables, named by the variable
and never showing a secret, and the variables that must be set together."""
from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.vault_rekey_input_problems import (
    FilterModule,
    vault_rekey_input_problems,
)

FILE = {"vault_rekey_url": "https://127.0.0.1:8200", "vault_rekey_custody": "file",
        "vault_rekey_keys_file": "/srv/keys/tfe1.vault-keys.json", "vault_rekey_state_file": "",
        "vault_rekey_pgp_keys": [], "vault_rekey_backup": False, "vault_rekey_s3_bucket": "",
        "vault_rekey_s3_object": "ptfe-ops/vault-keys/tfe1.json"}
S3 = dict(FILE, vault_rekey_custody="s3", vault_rekey_keys_file="", vault_rekey_s3_bucket="ptfe-install-state")
PGP = base64.b64encode(b"a pgp public key").decode()
KEY = base64.b64encode(b"k" * 32).decode()
TOKEN = "s.canary-role-token-77"
NO_FILE = ("with vault_rekey_custody file, set vault_rekey_keys_dir or vault_rekey_keys_file: the new keys need a "
           "file (only PGP mode, vault_rekey_pgp_keys with vault_rekey_backup true, keeps them in Vault instead)")


@pytest.mark.parametrize("settings", [FILE, S3], ids=["file", "s3"])
def test_complete_input_has_no_problem(settings):
    assert vault_rekey_input_problems(settings) == []


@pytest.mark.parametrize("url", ["", "  ", None])
def test_an_empty_url_is_named(url):
    assert vault_rekey_input_problems(dict(FILE, vault_rekey_url=url)) == [
        "vault_rekey_url must not be empty: it is the URL of the Vault API the rekey runs against"]


@pytest.mark.parametrize("keys_file", ["", None, " "])
def test_file_custody_without_a_keys_file(keys_file):
    assert vault_rekey_input_problems(dict(FILE, vault_rekey_keys_file=keys_file)) == [NO_FILE]


def test_file_custody_is_the_default():
    settings = {k: v for k, v in FILE.items() if k != "vault_rekey_custody"}
    settings["vault_rekey_keys_file"] = ""
    assert vault_rekey_input_problems(settings) == [NO_FILE]


@pytest.mark.parametrize("pgp_keys, backup", [([PGP], False), ([PGP], "no")])
def test_pgp_needs_both_keys_and_backup_to_go_without_a_file(pgp_keys, backup):
    settings = dict(FILE, vault_rekey_keys_file="", vault_rekey_pgp_keys=pgp_keys, vault_rekey_backup=backup)
    assert vault_rekey_input_problems(settings) == [NO_FILE]


def test_backup_without_pgp_keys_is_named_too():
    settings = dict(FILE, vault_rekey_keys_file="", vault_rekey_pgp_keys=[], vault_rekey_backup=True)
    assert vault_rekey_input_problems(settings) == [
        NO_FILE, "vault_rekey_backup needs vault_rekey_pgp_keys: Vault only backs up PGP-encrypted keys"]


def test_pgp_backup_without_a_file_needs_a_state_file():
    settings = dict(FILE, vault_rekey_keys_file="", vault_rekey_pgp_keys=[PGP], vault_rekey_backup=True)
    assert vault_rekey_input_problems(settings) == [
        "without vault_rekey_keys_file, set vault_rekey_state_file: the record of an interrupted rekey needs a file"]
    assert vault_rekey_input_problems(dict(settings, vault_rekey_state_file="/srv/keys/tfe1.state")) == []
    assert vault_rekey_input_problems(dict(settings, vault_rekey_backup="true",
                                           vault_rekey_state_file="/srv/keys/tfe1.state")) == []


@pytest.mark.parametrize("missing", ["vault_rekey_s3_bucket", "vault_rekey_s3_object"])
def test_s3_custody_names_the_missing_option(missing):
    problems = vault_rekey_input_problems(dict(S3, **{missing: ""}))
    assert problems == ["%s must be set with vault_rekey_custody s3" % missing]


def test_s3_custody_needs_no_keys_file_and_every_problem_comes_at_once():
    settings = dict(S3, vault_rekey_url="", vault_rekey_s3_bucket="", vault_rekey_s3_object="")
    assert vault_rekey_input_problems(settings) == [
        "vault_rekey_url must not be empty: it is the URL of the Vault API the rekey runs against",
        "vault_rekey_s3_bucket must be set with vault_rekey_custody s3",
        "vault_rekey_s3_object must be set with vault_rekey_custody s3",
    ]


@pytest.mark.parametrize("name, value, problem", [
    ("vault_rekey_url", "https://admin:pw-canary@vault:8200", "vault_rekey_url must not hold a user name or password"),
    ("vault_rekey_url", "http://127.0.0.1:8200", "needs its allow_insecure_http option"),
    ("vault_rekey_url", "https://vault:8200/v1/sys", "vault_rekey_url must be the address of the server only"),
    ("vault_rekey_url", "file:///etc/passwd", "vault_rekey_url must be a URL such as https://host[:port]"),
    ("vault_rekey_ca_cert", "ca.pem", "vault_rekey_ca_cert must be an absolute path"),
    ("vault_rekey_timeout", 0, "vault_rekey_timeout must be between 1 and 3600, got 0"),
    ("vault_rekey_timeout", "30s", "vault_rekey_timeout must be a whole number, got '30s'"),
    ("vault_rekey_key_shares", 256, "vault_rekey_key_shares must be between 1 and 255, got 256"),
    ("vault_rekey_key_threshold", 9, "vault_rekey_key_threshold (9) must not be greater than vault_rekey_key_shares (5)"),
    ("vault_rekey_key_threshold", 1, "vault_rekey_key_threshold must be greater than 1 when vault_rekey_key_shares"),
    ("vault_rekey_unseal_key_path", "data/vault-unseal-key", "vault_rekey_unseal_key_path must be an absolute path"),
    ("vault_rekey_keys_dir", "keys", "vault_rekey_keys_dir must be an absolute path, got 'keys'"),
    ("vault_rekey_keys_dir", "/srv/../etc", "vault_rekey_keys_dir must not have '.' or '..' parts"),
    ("vault_rekey_keys_file", "/srv/keys/\n.json", "vault_rekey_keys_file must not contain a newline"),
    ("vault_rekey_state_file", "/srv/keys/tfe1.vault-keys.json",
     "vault_rekey_keys_file and vault_rekey_state_file must name different files"),
    ("vault_rekey_state_file", "/srv/keys/tfe1.vault-keys.json.pending", "must not be one of the files kept beside"),
    ("vault_rekey_state_file", "/data/vault-unseal-key",
     "vault_rekey_unseal_key_path and vault_rekey_state_file must name different files"),
    ("vault_rekey_pgp_keys", ["-----BEGIN PGP-----"] * 5, "vault_rekey_pgp_keys entry 1 must be a base64-encoded"),
    ("vault_rekey_pgp_keys", [PGP] * 2, "vault_rekey_pgp_keys must hold exactly vault_rekey_key_shares (5) keys, got 2"),
    ("vault_rekey_verification_keys", ["not a key"], "vault_rekey_verification_keys entry 1 must not contain white"),
    ("vault_rekey_s3_region", "eu west 1", "vault_rekey_s3_region must be an AWS region name"),
    ("vault_rekey_s3_endpoint_url", "http://s3.local", "vault_rekey_s3_endpoint_url must be a URL such as"),
    ("vault_rekey_s3_profile", "ops\n", "vault_rekey_s3_profile must not contain a newline"),
    ("vault_rekey_s3_ca_bundle", "s3-ca.pem", "vault_rekey_s3_ca_bundle must be an absolute path"),
])
def test_every_value_is_checked_by_its_variable_name(name, value, problem):
    settings = dict(FILE, vault_rekey_key_shares=5, vault_rekey_key_threshold=2,
                    vault_rekey_unseal_key_path="/data/vault-unseal-key")
    settings[name] = value
    problems = vault_rekey_input_problems(settings)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("name, value, problem", [
    ("vault_rekey_s3_bucket", "Bad_Bucket", "vault_rekey_s3_bucket must be an S3 bucket name"),
    ("vault_rekey_s3_object", "vault keys.json", "vault_rekey_s3_object must not contain white space"),
    ("vault_rekey_s3_kms_key_id", "alias/ keys", "vault_rekey_s3_kms_key_id must be a KMS key"),
])
def test_s3_values_are_checked_with_s3_custody(name, value, problem):
    assert any(problem in p for p in vault_rekey_input_problems(dict(S3, **{name: value})))
    # With custody file the role does not hand them on, and they are not checked.
    assert vault_rekey_input_problems(dict(FILE, **{name: value})) == []


@pytest.mark.parametrize("token", [TOKEN + "\n", " " + TOKEN, TOKEN + "\r\n"])
def test_a_token_with_white_space_is_named_and_never_shown(token):
    problems = vault_rekey_input_problems(dict(FILE, vault_rekey_token=token))
    assert len(problems) == 1 and problems[0].startswith("vault_rekey_token must not contain")
    assert "canary" not in problems[0]


def test_a_password_in_the_url_is_never_shown():
    problems = vault_rekey_input_problems(dict(FILE, vault_rekey_url="https://ops:pw-canary-3@vault:8200"))
    assert problems and "pw-canary-3" not in "".join(problems)


@pytest.mark.parametrize("content, problem", [
    ("", "must not be empty"),
    ("not a key", "must not contain white space"),
    ("%s %s" % (KEY, KEY), "must not contain white space"),
    ("zz-top", "must be an unseal key in hex or base64"),
    (base64.b64encode(b"k" * 10).decode(), "is 10 bytes long"),
])
def test_the_unseal_key_read_from_its_file_is_named_by_the_path(content, problem):
    problems = vault_rekey_input_problems({"vault_rekey_unseal_key_path": "/data/vault-unseal-key",
                                           "vault_rekey_unseal_key": content})
    assert problems == ["vault_rekey_unseal_key_path (/data/vault-unseal-key) must hold one unseal key in hex or "
                        "base64, as Vault prints it: the key in it %s" % problems[0].split("the key in it ", 1)[1]]
    assert problem in problems[0]
    assert content[:6] not in problems[0] or not content


def test_a_good_unseal_key_and_values_pass():
    assert vault_rekey_input_problems(dict(FILE, vault_rekey_unseal_key=KEY + "\n", vault_rekey_token=TOKEN,
                                           vault_rekey_timeout="30", vault_rekey_key_shares="5",
                                           vault_rekey_key_threshold=2, vault_rekey_pgp_keys=[],
                                           vault_rekey_ca_cert="/etc/ssl/vault-ca.pem",
                                           vault_rekey_unseal_key_path="/data/vault-unseal-key",
                                           vault_rekey_keys_dir="/srv/keys/")) == []


def test_not_a_mapping_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects a mapping of the role's variables, got str"):
        vault_rekey_input_problems("vault_rekey_url")


def test_registered_under_its_name():
    assert FilterModule().filters()["vault_rekey_input_problems"] is vault_rekey_input_problems
