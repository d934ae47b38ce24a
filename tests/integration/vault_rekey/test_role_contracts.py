"""meta/argument_specs.yml is the input contract of the vault_rekey and post_rekey_backup roles.

A required variable without a value fails at the argument spec, naming it, before the first task of the role: no
key is read, nothing is written, no backup runs. The rules a spec cannot express (which variables go together, the
range of the share count) fail in the role's first task, naming the variables, with nothing changed either. No Vault
answers here: nothing may need one.
"""
from __future__ import annotations

import pytest

from tests.integration.conftest import run_playbook

SPEC_FAILED = "Validation of arguments failed"
# A well-formed unseal key (base64 of 32 bytes, as Vault prints one: the role refuses anything else before it looks
# for proofs), and a canary that must never be printed.
UNSEAL_KEY = "Y2FuYXJ5LWNvbnRyYWN0LXVuc2VhbC1rZXktMDAwMDA="


def failed_task(result):
    """The name of the task whose failure ended the run."""
    lines = result.stdout.splitlines()
    fatal = [i for i, line in enumerate(lines) if line.startswith("fatal:")]
    assert len(fatal) == 1, result.stdout[-3000:]
    return [line for line in lines[:fatal[0]] if line.startswith("TASK [")][-1]


@pytest.fixture
def host(tmp_path):
    """A PTFE host on the controller's disk: its unseal key, the backup command, where the keys would go."""
    key = tmp_path / "vault-unseal-key"
    key.write_text(UNSEAL_KEY + "\n")
    ran = tmp_path / "backup-ran"
    backup = tmp_path / "atlas-backup"
    backup.write_text("#!/bin/sh\ntouch %s\n" % ran)
    backup.chmod(0o755)
    keys = tmp_path / "keys"
    keys.mkdir()
    return {"key": key, "ran": ran, "backup": backup, "keys": keys, "marker": tmp_path / "marker" / "backup.json"}


def assert_nothing_changed(result, host):
    assert result.changed == 0
    assert host["key"].read_text() == UNSEAL_KEY + "\n"
    assert not host["ran"].exists()
    assert not host["marker"].exists() and not host["marker"].parent.exists()
    assert list(host["keys"].iterdir()) == []
    assert UNSEAL_KEY not in result.stdout and UNSEAL_KEY not in result.stderr


def rekey_vars(host, **extra):
    values = {"vault_rekey_url": "https://127.0.0.1:9", "vault_rekey_unseal_key_path": str(host["key"]),
              "vault_rekey_keys_file": str(host["keys"] / "tfe.vault-keys.json")}
    values.update(extra)
    return {k: v for k, v in values.items() if v is not None}


def backup_vars(host, **extra):
    values = {"backup_only": True,
              "post_rekey_backup_custody": {"url": "https://127.0.0.1:9",
                                            "keys_file": str(host["keys"] / "tfe.vault-keys.json")},
              "post_rekey_backup_key_shares": 5, "post_rekey_backup_unseal_key_path": str(host["key"]),
              "post_rekey_backup_command": str(host["backup"]), "post_rekey_backup_marker_path": str(host["marker"])}
    values.update(extra)
    return {k: v for k, v in values.items() if v is not None}


# -- vault_rekey ----------------------------------------------------------------------------------------------------


def test_vault_rekey_without_its_url_fails_at_the_argument_spec(host):
    result = run_playbook("vault_rekey/playbooks/rekey_role.yml", rekey_vars(host, vault_rekey_url=None))
    assert result.rc != 0
    assert "ptfe.ops.vault_rekey : Validating arguments against arg spec 'main'" in failed_task(result)
    assert SPEC_FAILED + ":\nmissing required arguments: vault_rekey_url" in result.stdout + result.stderr
    assert result.host()["ok"] == 0  # not even the unseal key was read
    assert_nothing_changed(result, host)


@pytest.mark.parametrize("bad, message", [
    ({"vault_rekey_custody": "vault"}, "value of vault_rekey_custody must be one of: file, s3, got: vault"),
    ({"vault_rekey_key_shares": "five"}, "argument 'vault_rekey_key_shares' is of type str and we were unable to "
                                         "convert to int"),
    ({"vault_rekey_pgp_keys": {"a": 1}}, "argument 'vault_rekey_pgp_keys' is of type dict and we were unable to "
                                         "convert to list"),
], ids=["custody-choice", "shares-type", "pgp-keys-type"])
def test_vault_rekey_bad_types_and_choices_fail_at_the_argument_spec(host, bad, message):
    result = run_playbook("vault_rekey/playbooks/rekey_role.yml", rekey_vars(host, **bad))
    assert result.rc != 0
    assert "Validating arguments against arg spec" in failed_task(result)
    assert message in result.stdout
    assert_nothing_changed(result, host)


@pytest.mark.parametrize("bad, message", [
    ({"vault_rekey_keys_file": ""}, "with vault_rekey_custody file, set vault_rekey_keys_dir or vault_rekey_keys_file"),
    ({"vault_rekey_url": ""}, "vault_rekey_url must not be empty"),
    ({"vault_rekey_custody": "s3"}, "vault_rekey_s3_bucket must be set with vault_rekey_custody s3"),
], ids=["no-keys-file", "empty-url", "s3-without-bucket"])
def test_vault_rekey_variables_that_go_together_fail_in_the_first_task(host, bad, message):
    result = run_playbook("vault_rekey/playbooks/rekey_role.yml", rekey_vars(host, **bad))
    assert result.rc != 0
    assert "ptfe.ops.vault_rekey : Stop before anything is read" in failed_task(result)
    assert "Invalid input: %s" % message in result.stdout
    assert "Nothing was changed." in result.stdout
    assert_nothing_changed(result, host)


# -- post_rekey_backup ----------------------------------------------------------------------------------------------


def test_post_rekey_backup_without_the_share_count_fails_at_the_argument_spec(host):
    result = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", backup_vars(host, post_rekey_backup_key_shares=None))
    assert result.rc != 0
    assert "ptfe.ops.post_rekey_backup : Validating arguments against arg spec 'main'" in failed_task(result)
    assert SPEC_FAILED + ":\nmissing required arguments: post_rekey_backup_key_shares" in result.stdout + result.stderr
    assert result.host()["ok"] == 0
    assert_nothing_changed(result, host)


@pytest.mark.parametrize("custody", [None, {"keys_file": "/srv/keys.json"}],
                         ids=["no-custody-and-no-rekey-in-the-play", "custody-without-url"])
def test_post_rekey_backup_without_the_vault_url_fails_at_the_argument_spec(host, custody):
    # Without the vault_rekey role in the play and without post_rekey_backup_custody, the custody is empty.
    result = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", backup_vars(host, post_rekey_backup_custody=custody))
    assert result.rc != 0
    assert "Validating arguments against arg spec" in failed_task(result)
    assert "missing required arguments: url found in post_rekey_backup_custody" in result.stdout
    assert result.host()["ok"] == 0
    assert_nothing_changed(result, host)


@pytest.mark.parametrize("bad, message", [
    ({"post_rekey_backup_custody": {"url": "https://127.0.0.1:9", "custody": "disk"}},
     "value of custody must be one of: file, s3, got: disk found in post_rekey_backup_custody"),
    ({"post_rekey_backup_custody": {"url": "https://127.0.0.1:9", "bucket": "b"}},
     "post_rekey_backup_custody.bucket. Supported parameters include"),
    ({"post_rekey_backup_key_shares": "all"},
     "argument 'post_rekey_backup_key_shares' is of type str and we were unable to convert to int"),
], ids=["custody-choice", "custody-unknown-key", "shares-type"])
def test_post_rekey_backup_bad_types_and_choices_fail_at_the_argument_spec(host, bad, message):
    result = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", backup_vars(host, **bad))
    assert result.rc != 0
    assert "Validating arguments against arg spec" in failed_task(result)
    assert message in result.stdout
    assert_nothing_changed(result, host)


@pytest.mark.parametrize("bad, message", [
    ({"post_rekey_backup_key_shares": 0}, "post_rekey_backup_key_shares must be a whole number between 1 and 255, "
                                          "got 0"),
    ({"post_rekey_backup_command": ""}, "post_rekey_backup_command must not be empty"),
    ({"post_rekey_backup_custody": {"url": "https://127.0.0.1:9"}}, "the keys file is not named"),
    ({"post_rekey_backup_custody": {"url": "https://127.0.0.1:9", "custody": "s3", "s3_bucket": "b"}},
     "post_rekey_backup_custody.s3_object must be set with custody s3"),
], ids=["no-shares", "empty-command", "no-keys-file", "s3-without-object"])
def test_post_rekey_backup_rules_beyond_the_spec_fail_in_the_first_task(host, bad, message):
    result = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", backup_vars(host, **bad))
    assert result.rc != 0
    assert "ptfe.ops.post_rekey_backup : Stop before anything is read" in failed_task(result)
    assert "Invalid input: %s" % message in result.stdout
    assert_nothing_changed(result, host)


def test_the_variables_that_pass_reach_the_proofs(host):
    # The same variables with nothing left open get past both checks: the role then refuses for want of proof
    # (no Vault answers), still changing nothing.
    result = run_playbook("vault_rekey/playbooks/rekey_and_backup.yml", backup_vars(host))
    assert result.rc != 0
    assert "Collect the proofs that the new keys are safe" in failed_task(result)
    assert SPEC_FAILED not in result.stdout and "Invalid input" not in result.stdout
    assert_nothing_changed(result, host)
