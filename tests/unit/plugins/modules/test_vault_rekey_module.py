"""Unit tests for the vault client's retry policy and the rekey engine's input validation and file handling
(plugins/module_utils/_rekey.py, _custody.py). The engine's phases are in test_rekey_engine.py."""
from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import requests

from ansible_collections.ptfe.ops.plugins.module_utils import _vault_client as vc
from ansible_collections.ptfe.ops.plugins.module_utils._custody import FileCustody
from ansible_collections.ptfe.ops.plugins.module_utils._files import DocumentError, atomic_write_json, read_json
from ansible_collections.ptfe.ops.plugins.module_utils._rekey import Rekey, RekeyError, validate


class FakeResponse:
    def __init__(self, status, body=None):
        self.status_code = status
        self.content = json.dumps(body).encode() if body is not None else b""
        self.text = self.content.decode()
        self.headers = {"Content-Type": "application/json"}

    def json(self):
        return json.loads(self.content)


def make_client(responses):
    client = vc.VaultClient("https://vault.example:8200", token="s.canarytoken", max_retries=3,
                            sleep=lambda s: None)
    calls = []

    def request(method, url, raise_exception=True, **kwargs):
        calls.append((method, url, kwargs.get("json")))
        item = responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    client.client.adapter.request = request
    return client, calls


def test_get_is_retried_on_connection_error_and_502():
    client, calls = make_client([requests.ConnectionError("reset"), FakeResponse(502, {"errors": ["bad gw"]}),
                                 FakeResponse(200, {"sealed": False, "t": 1, "n": 1})])
    assert client.seal_status()["n"] == 1
    assert len(calls) == 3


@pytest.mark.parametrize("call", ["update", "verify", "init", "cancel"])
def test_state_changing_requests_are_never_retried(call):
    client, calls = make_client([requests.ConnectionError("reset"), FakeResponse(200, {})])
    with pytest.raises(vc.VaultConnectionError):
        if call == "update":
            client.rekey_update("sys/rekey", "c2VjcmV0LWtleS1zaGFyZQ==", "nonce-1")
        elif call == "verify":
            client.rekey_verify("sys/rekey", "c2VjcmV0LWtleS1zaGFyZQ==", "nonce-1")
        elif call == "init":
            client.rekey_init("sys/rekey", 5, 2)
        else:
            client.rekey_cancel("sys/rekey", "nonce-1")
    assert len(calls) == 1


def test_update_502_is_not_retried():
    client, calls = make_client([FakeResponse(502, {"errors": ["bad gateway"]}), FakeResponse(200, {})])
    with pytest.raises(vc.VaultError) as err:
        client.rekey_update("sys/rotate/root", "secret-share", "n")
    assert len(calls) == 1
    assert "HTTP 502 from POST /v1/sys/rotate/root/update" in str(err.value)


def test_cancel_sends_the_nonce():
    client, calls = make_client([FakeResponse(204)])
    client.rekey_cancel("sys/rekey", "abc-123")
    assert calls == [("DELETE", "/v1/sys/rekey/init", {"nonce": "abc-123"})]


def test_secrets_are_scrubbed_from_errors():
    client, calls = make_client([FakeResponse(400, {"errors": ["bad key secret-share-XYZ"]})])
    with pytest.raises(vc.VaultError) as err:
        client.rekey_update("sys/rekey", "secret-share-XYZ", "n")
    assert "secret-share-XYZ" not in str(err.value)
    assert "Failed to submit unseal key share to rekey: HTTP 400 from POST /v1/sys/rekey/update" in str(err.value)


def test_detects_openbao_rotate_root():
    client, calls = make_client([FakeResponse(405, {"errors": ["unsupported operation"]}),
                                 FakeResponse(200, {"data": {"started": False}})])
    assert client.detect_rekey_api() == vc.API_ROTATE
    client, calls = make_client([FakeResponse(200, {"started": False})])
    assert client.detect_rekey_api() == vc.API_REKEY


KEY = "ab" * 32  # a well-formed unseal key of a 1-of-1 seal (32 bytes, hex)
SHARE = base64.b64encode(b"s" * 33).decode()  # a well-formed key share (33 bytes, base64)
PGP = base64.b64encode(b"pgp public key").decode()


def params(**kw):
    base = dict(key_shares=5, key_threshold=2, pgp_keys=None, backup=False, require_verification=True,
                verification_keys=None, keys_file="/tmp/vault-keys.json", state_file=None, unseal_keys=[KEY])
    base.update(kw)
    return base


@pytest.mark.parametrize("kw,fragment", [
    (dict(key_shares=3, key_threshold=4), "must not be greater than key_shares"),
    (dict(key_shares=256), "between 1 and 255"),
    (dict(key_shares=0, key_threshold=0), "between 1 and 255"),
    (dict(key_shares=4, key_threshold=1), "greater than 1 when key_shares is greater than 1"),
    (dict(pgp_keys=[PGP, PGP]), "exactly key_shares (5)"),
    (dict(pgp_keys=[PGP] * 4 + ["-----BEGIN PGP PUBLIC KEY BLOCK-----"]), "pgp_keys entry 5 must be a base64-encoded"),
    (dict(pgp_keys=[PGP] * 4 + [PGP + "\n"]), "pgp_keys entry 5 must be a base64-encoded PGP public key"),
    (dict(backup=True), "backup needs pgp_keys"),
    (dict(require_verification=False), "require_verification=false is only accepted"),
    (dict(keys_file=None), "keys_file is required"),
    (dict(keys_file="/nonexistent-dir/keys.json"), "does not exist"),
    (dict(unseal_keys=[KEY, KEY]), "same share twice"),
    (dict(unseal_keys=[KEY, base64.b64encode(bytes.fromhex(KEY)).decode()]), "same share twice (entry 2)"),
    (dict(unseal_keys=[KEY, " "]), "unseal_keys entry 2 must not be empty"),
    (dict(unseal_keys=[KEY + "\n"]), "unseal_keys entry 1 must not contain white space or a control character"),
    (dict(unseal_keys=["not-a-key"]), "unseal_keys entry 1 must be an unseal key in hex or base64"),
    (dict(unseal_keys=["ab" * 10]),
     "unseal_keys entry 1 is 10 bytes long, but a Vault unseal key or key share is 16, 17, 24, 25, 32 or 33 bytes long"),
    (dict(unseal_keys={"key": KEY}), "unseal_keys must be a list of keys, got dict"),
    (dict(verification_keys=[SHARE]), "verification_keys is only used with pgp_keys"),
    (dict(pgp_keys=[PGP] * 5, verification_keys=["x" * 5]), "verification_keys entry 1 must be an unseal key"),
    (dict(key_shares="5x"), "key_shares must be a whole number"),
    (dict(custody="s3", s3_bucket="b", s3_object="vault/k.json"), "keys_file is only used with custody=file"),
    (dict(custody="s3", keys_file=None, s3_bucket="b", s3_object="vault/"), "must name an object"),
    (dict(custody="s3", keys_file=None, s3_object="vault/k.json"), "s3_bucket is required"),
    (dict(s3_bucket="b"), "s3_bucket is only used with custody=s3"),
])
def test_validation_rejects(kw, fragment):
    errors = validate(params(**kw))
    assert any(fragment in e for e in errors), errors


def test_validation_accepts_the_ptfe_case():
    assert validate(params()) == []
    assert validate(params(key_shares=1, key_threshold=1)) == []
    assert validate(params(keys_file=None, state_file="/tmp/s", pgp_keys=[PGP] * 4 + ["keybase:operator"],
                           backup=True, require_verification=False)) == []
    assert validate(params(key_shares=3, key_threshold=2, unseal_keys=[SHARE, "cd" * 33],
                           pgp_keys=[PGP] * 3, verification_keys=[SHARE])) == []


def test_a_refused_key_is_never_quoted():
    errors = validate(params(unseal_keys=["secret-looking key\n", "ab" * 7], verification_keys=["zz"]))
    assert errors and not any("secret-looking" in e or "abab" in e or "zz" in e for e in errors), errors


def test_atomic_write_is_0600_and_replaces(tmp_path):
    target = tmp_path / "keys.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write_json(str(target), {"keys": ["x"]})
    assert json.loads(target.read_text()) == {"keys": ["x"]}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]  # no temporary file left


@pytest.mark.parametrize("content,fragment", [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
])
def test_read_json_refuses_what_is_not_a_document(tmp_path, content, fragment):
    target = tmp_path / "keys.json"
    target.write_text(content)
    with pytest.raises(DocumentError) as err:
        read_json(str(target))
    assert fragment in str(err.value) and str(target) in str(err.value)
    assert read_json(str(tmp_path / "missing.json")) is None


def options(**kw):
    """The module's options as the engine gets them."""
    base = params(**kw)
    base.update(force=kw.get("force", False), cancel_foreign=kw.get("cancel_foreign", False), return_keys=False)
    return base


def engine(tmp_path, client, check_mode=False, **kw):
    keys_file = str(tmp_path / "k.json")
    return Rekey(options(keys_file=keys_file, **kw), client, FileCustody(keys_file), check_mode=check_mode)


class RecordingClient:
    """Answers reads from a dict; records every call."""

    url = "https://vault.example:8200"

    def __init__(self, seal, rekey=None):
        self.seal, self.rekey = seal, rekey or {"started": False, "nonce": ""}
        self.calls = []
        self.client = type("C", (), {"token": "t"})()

    def add_secret(self, value):
        pass

    def seal_status(self):
        self.calls.append("GET seal-status")
        return self.seal

    def detect_rekey_api(self):
        self.calls.append("GET detect")
        return vc.API_ROTATE

    def rekey_status(self, api):
        self.calls.append("GET rekey-status")
        return self.rekey

    def __getattr__(self, name):  # any state-changing call
        def call(*args, **kwargs):
            self.calls.append("WRITE " + name)
            return {}
        return call


def test_sealed_vault_already_at_shape_is_unchanged(tmp_path):
    client = RecordingClient({"sealed": True, "initialized": True, "type": "shamir", "n": 5, "t": 2})
    result = engine(tmp_path, client).run()
    assert result["changed"] is False and client.calls == ["GET seal-status"]


def test_check_mode_only_reads(tmp_path):
    client = RecordingClient({"sealed": False, "initialized": True, "type": "shamir", "n": 1, "t": 1})
    result = engine(tmp_path, client, check_mode=True).run()
    assert result["changed"] is True and "would start" in result["msg"]
    assert all(c.startswith("GET") for c in client.calls)
    assert list(tmp_path.iterdir()) == []


def test_foreign_rekey_is_refused_without_any_write(tmp_path):
    client = RecordingClient({"sealed": False, "initialized": True, "type": "shamir", "n": 1, "t": 1},
                             {"started": True, "nonce": "their-nonce", "n": 5, "t": 2, "progress": 0,
                              "required": 1})
    with pytest.raises(RekeyError) as err:
        engine(tmp_path, client).run()
    assert "their-nonce" in str(err.value) and "cancel_foreign=true" in str(err.value)
    assert all(c.startswith("GET") for c in client.calls)


class NotYetCustody(FileCustody):
    """A destination that an earlier step of the play would create (a bucket that does not exist yet)."""

    kind = "s3"
    durable = True

    def check(self):
        return ["s3_bucket: cannot read the versioning of bucket b (NoSuchBucket: The specified bucket does not exist)"]

    def read(self, kind, nonce=None):
        raise AssertionError("nothing may be read from a destination that is not usable")


@pytest.mark.parametrize("shape,changed", [((1, 1), True), ((5, 2), False)], ids=["would-rekey", "already-there"])
def test_check_mode_before_the_destination_exists_predicts_from_the_seal(tmp_path, shape, changed):
    client = RecordingClient({"sealed": False, "initialized": True, "type": "shamir", "n": shape[0], "t": shape[1],
                              "cluster_id": "c1"})
    warnings = []
    rekey = Rekey(options(keys_file=None), client, NotYetCustody(str(tmp_path / "k.json")), check_mode=True,
                  warn=warnings.append)
    result = rekey.run()
    assert result["changed"] is changed
    assert ("would start" in result["msg"]) is changed
    assert "not usable yet" in warnings[0] and "NoSuchBucket" in warnings[0]
    assert client.calls == ["GET seal-status"]
    assert list(tmp_path.iterdir()) == []


def test_real_run_with_an_unusable_destination_stops_before_any_vault_write(tmp_path):
    client = RecordingClient({"sealed": False, "initialized": True, "type": "shamir", "n": 1, "t": 1,
                              "cluster_id": "c1"})
    with pytest.raises(RekeyError) as err:
        Rekey(options(keys_file=None), client, NotYetCustody(str(tmp_path / "k.json"))).run()
    assert "the keys destination is not usable: s3_bucket: cannot read the versioning" in str(err.value)
    assert client.calls == ["GET seal-status"]
