"""The redact filter (plugins/filter/redact.py): the module redactor, for roles' rescue tasks."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.redact import FilterModule, redact

TOKEN = "s.canary-rescue-token"


def test_is_registered_as_redact():
    assert FilterModule().filters()["redact"] is redact


@pytest.mark.parametrize("message", [
    "refused %s" % TOKEN,
    "refused %r" % (TOKEN + "\n"),                           # requests' InvalidHeader shows the repr
    'refused {"token": "%s\\n"}' % TOKEN,                     # JSON inside a message
    "refused https://vault.example/v1/x?token=%s" % TOKEN.replace(".", "%2E"),
])
def test_removes_the_given_secrets_in_every_form(message):
    out = redact(message, [TOKEN + "\n"])
    assert "canary-rescue-token" not in out and "********" in out


@pytest.mark.parametrize("message, secret", [
    ("GET https://admin:hunter22@vault.example/", "hunter22"),
    ("header value: 'Bearer abcdefgh12345'", "abcdefgh12345"),
    ("X-Vault-Token: s.shape-unknown-123", "s.shape-unknown-123"),
    ("upload to https://s3.example/o?X-Amz-Signature=deadbeef99", "deadbeef99"),
    ("token hvs.CAESIJ0123456789abcdefghijklmnop", "hvs.CAESIJ0123456789abcdefghijklmnop"),
])
def test_removes_what_is_secret_by_place_or_shape_without_being_told(message, secret):
    assert secret not in redact(message)


def test_keeps_the_rest_and_ignores_short_empty_and_non_string_secrets():
    message = "Failed to read vault_rekey_unseal_key_path /data/vault-unseal-key: no such file"
    assert redact(message, ["", "ke", None, 42, True]) == message
    assert redact(None, [TOKEN]) is None


def test_secrets_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match="redact expects secrets to be a list, got str"):
        redact("text", TOKEN)
