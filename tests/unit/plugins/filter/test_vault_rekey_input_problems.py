"""The vault_rekey_input_problems filter: the vault_rekey role's variables that must be set together."""
from __future__ import annotations

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


@pytest.mark.parametrize("pgp_keys, backup", [(["a"], False), ([], True), (["a"], "no")])
def test_pgp_needs_both_keys_and_backup_to_go_without_a_file(pgp_keys, backup):
    settings = dict(FILE, vault_rekey_keys_file="", vault_rekey_pgp_keys=pgp_keys, vault_rekey_backup=backup)
    assert vault_rekey_input_problems(settings) == [NO_FILE]


def test_pgp_backup_without_a_file_needs_a_state_file():
    settings = dict(FILE, vault_rekey_keys_file="", vault_rekey_pgp_keys=["a"], vault_rekey_backup=True)
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


def test_not_a_mapping_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects a mapping of the role's variables, got str"):
        vault_rekey_input_problems("vault_rekey_url")


def test_registered_under_its_name():
    assert FilterModule().filters()["vault_rekey_input_problems"] is vault_rekey_input_problems
