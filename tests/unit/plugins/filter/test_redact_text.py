"""The redact_text filter (and the file rules of _redact.py behind it): canary secrets in the places logs,
configuration files, container environments and command lines put them never survive, and the text around them
(what support needs to read) does."""
from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.redact_text import FilterModule, redact_text
from ansible_collections.ptfe.ops.plugins.module_utils._redact import REDACTED

UNSEAL_B64 = "4y5hsGkm9MQkgrGnfXa1aCzb3VxYjpv8ML1Q7LZnKd0="
UNSEAL_HEX = "e32e61b06926f4c42482b1a77d76b5682cdbdd5c588e9bfc30bd50ecb66729dd"
DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

CASES = [
    ("env line", "TFE_ENCRYPTION_PASSWORD=cnry-enc-01\nTFE_HOSTNAME=tfe.example.com", "cnry-enc-01",
     "TFE_HOSTNAME=tfe.example.com"),
    ("env in docker inspect", json.dumps({"Env": ["TFE_LICENSE=cnry-lic-02", "TFE_OPERATIONAL_MODE=disk"]}),
     "cnry-lic-02", "TFE_OPERATIONAL_MODE=disk"),
    ("json key", '{"database_password": "cnry-db-03", "port": 5432}', "cnry-db-03", '"port": 5432'),
    ("json key with escaped quote", '{"secret": "cnry\\"-04"}', "cnry", '{"secret": "********"}'),
    ("yaml key", "redis:\n  password: cnry-redis-05\n  host: redis", "cnry-redis-05", "host: redis"),
    ("hcl", 'token = "cnry-hcl-06"\nname = "prod"', "cnry-hcl-06", 'name = "prod"'),
    ("single quotes", "api_key => 'cnry-rb-07'", "cnry-rb-07", "api_key => '********'"),
    ("database url", "TFE_DATABASE_HOST=postgres://tfe:cnry-pg-08@db.internal:5432/tfe", "cnry-pg-08", "db.internal:5432/tfe"),
    ("libpq string", "host=db user=tfe password=cnry-pq-09 dbname=tfe", "cnry-pq-09", "dbname=tfe"),
    ("presigned url", "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA/x&X-Amz-Signature=cnry-sig-10 200",
     "cnry-sig-10", "https://b.s3.amazonaws.com/k?"),
    ("download url with any query name", "fetch https://tfe/_support-bundles/x.tgz?dl=cnry-dl-11 ok", "cnry-dl-11",
     "https://tfe/_support-bundles/x.tgz?dl="),
    ("archivist url", "GET /x https://tfe.example.com/_archivist/v1/object/dmF1bHQ6djE6cnry12 200", "cnry12",
     "/_archivist/v1/object/"),
    ("command line option", "exec tfectl admin --token cnry-cli-13 --verbose", "cnry-cli-13", "--verbose"),
    ("bearer header", "Authorization: Bearer cnry-bearer-14", "cnry-bearer-14", "Authorization"),
    ("pem key", "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIcnry15\nxyz\n-----END RSA PRIVATE KEY-----\nb", "MIIcnry15",
     "-----END RSA PRIVATE KEY-----\nb"),
    ("pem key cut off", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktcnry16", "cnry16", "BEGIN OPENSSH"),
    ("unseal key base64", "key loaded: %s\n" % UNSEAL_B64, UNSEAL_B64, "key loaded: "),
    ("unseal key hex", "seal %s done" % UNSEAL_HEX, UNSEAL_HEX, "seal "),
    ("unseal share line", "Unseal Key 1: cnry-share-17", "cnry-share-17", "Unseal Key 1: "),
    ("tfe token shape", "used abcdefghij1234.atlasv1.cnryTokenTokenToken18xx", "cnryTokenTokenToken18xx", "used "),
    ("vault token shape", "vault hvs.cnryVaultToken19abcdefghijkl", "cnryVaultToken19", "vault "),
    ("object storage secret", "TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY=cnry-s3-20", "cnry-s3-20", "S3_SECRET"),
    ("replicated settings", '{"enc_password": {"value": "cnry-rep-22"}, "hostname": {"value": "tfe.example.com"}}',
     "cnry-rep-22", '"hostname": {"value": "tfe.example.com"}'),
    ("replicated settings indented", '{\n  "extern_vault_token": {\n    "type": "text",\n    "value": "cnry-rep-23"\n  }\n}',
     "cnry-rep-23", '"type": "text"'),
    ("iact token", "TFE_IACT_TOKEN: cnry-iact-21", "cnry-iact-21", "TFE_IACT_TOKEN: "),
]


@pytest.mark.parametrize("text, canary, kept", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_canary_removed_and_context_kept(text, canary, kept):
    out = redact_text(text)
    assert canary not in out
    assert REDACTED in out
    assert kept in out


def test_known_secret_removed_in_every_form():
    secret = "plain word\nwith newline"
    out = redact_text("a %s b %s c" % (secret, json.dumps(secret)), secrets=[secret, None, ""])
    assert "plain word" not in out
    assert out.startswith("a ") and out.endswith(" c")


def test_digest_and_ordinary_text_untouched():
    text = "image %s started; 42 runs; user admin; https://tfe.example.com/app/org" % DIGEST
    assert redact_text(text) == text


def test_redaction_is_stable():
    text = "TFE_REDIS_PASSWORD=cnry-x-22 https://u:p4ss@h/x?token=t0ken"
    once = redact_text(text)
    assert redact_text(once) == once
    assert once.count(REDACTED) == 3


def test_none_and_bad_secrets():
    assert redact_text(None) is None
    with pytest.raises(AnsibleFilterError, match="secrets must be a list"):
        redact_text("x", secrets="s3cret")


def test_registered():
    assert FilterModule().filters()["redact_text"] is redact_text
