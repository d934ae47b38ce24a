"""_admin_token with custody=vault_kv: the options are refused by name before any request (a missing path, '..' or a
control character, a bad URL, a KV version other than 1 or 2, options of the other custody), and the store keeps the
document with check-and-set, reads it back, retries what is transient and says what to do on a 403. A dict stands in
for Vault's KV API (the integration tests use a real OpenBao)."""
from __future__ import annotations

import copy
import json

import pytest
import requests

from ansible_collections.ptfe.ops.plugins.module_utils import _admin_token
from ansible_collections.ptfe.ops.plugins.module_utils._custody import CustodyError
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker

TOKEN = "abcdEFGH12345678.atlasv1.unit-test-admin-token"
VAULT_TOKEN = "hvs.unit-test-vault-token-canary"
PATH = "ptfe-ops/admin-token/ptfe.example.com"


def params(**given):
    """The module's parameters as Ansible hands them over: every custody option, defaults applied."""
    values = {name: spec.get("default") for name, spec in _admin_token.token_custody_argument_spec().items()}
    values["address"] = "https://ptfe.example.com"
    values.update(given)
    return values


def kv_params(**given):
    values = dict(custody="vault_kv", vault_url="https://vault.example.com:8200", vault_token=VAULT_TOKEN,
                  vault_kv_path=PATH)
    values.update(given)
    return params(**values)


def problems(values, environ=None):
    check = Checker(values, secret=["vault_token"])
    _admin_token.check_token_custody(check, environ=environ or {})
    return check.problems


# ------------------------------------------------------------------------------------------------ validation


def test_a_complete_vault_kv_custody_passes():
    assert not problems(kv_params(vault_namespace="team-a", vault_ca_path="/etc/pki/vault-ca.pem",
                                  vault_kv_mount="kv/ops", vault_kv_version=1))


def test_the_spec_offers_vault_kv_with_its_environment_fallbacks():
    spec = _admin_token.token_custody_argument_spec()
    assert spec["custody"]["choices"] == ["file", "s3", "vault_kv"]
    assert spec["vault_token"]["no_log"] is True
    assert {name: spec[name]["fallback"][1] for name in _admin_token.VAULT_ENV} == {
        "vault_url": ["VAULT_ADDR"], "vault_token": ["VAULT_TOKEN"], "vault_namespace": ["VAULT_NAMESPACE"],
        "vault_ca_path": ["VAULT_CACERT"]}
    assert spec["vault_kv_mount"]["default"] == "secret" and spec["vault_kv_version"]["default"] == 2


@pytest.mark.parametrize("given, expected", [
    ({"vault_kv_path": None}, "vault_kv_path is required when custody=vault_kv"),
    ({"vault_url": None}, "vault_url is required when custody=vault_kv (or VAULT_ADDR in the environment)"),
    ({"vault_token": None}, "vault_token is required when custody=vault_kv (or VAULT_TOKEN in the environment)"),
    ({"vault_kv_path": "ptfe/../other"}, "vault_kv_path must be a path without '.' or '..' parts"),
    ({"vault_kv_path": "ptfe/./admin"}, "vault_kv_path must be a path without '.' or '..' parts"),
    ({"vault_kv_path": "ptfe/admin\n"}, "vault_kv_path must not contain a newline or another control character"),
    ({"vault_kv_path": "ptfe/admin\x00"}, "vault_kv_path must not contain a newline or another control character"),
    ({"vault_kv_path": "ptfe//admin"}, "vault_kv_path must be a path of parts made of letters"),
    ({"vault_kv_path": "ptfe/admin?version=1"}, "vault_kv_path must be a path of parts made of letters"),
    ({"vault_kv_mount": "../sys"}, "vault_kv_mount must be a path without '.' or '..' parts"),
    ({"vault_url": "http://vault.example.com:8200"}, "vault_url must be a URL such as https://host[:port]"),
    ({"vault_url": "vault.example.com"}, "vault_url must be a URL such as https://host[:port]"),
    ({"vault_url": "https://vault.example.com/v1/secret"}, "vault_url must be the address of the server only"),
    ({"vault_ca_path": "vault-ca.pem"}, "vault_ca_path must be an absolute path"),
    ({"vault_namespace": "team a"}, "vault_namespace must be a namespace path"),
    ({"vault_namespace": "team/../root"}, "vault_namespace must be a namespace path without '.' or '..' parts"),
    ({"vault_kv_version": 3}, "vault_kv_version must be 1 or 2, got 3"),
    ({"vault_token": VAULT_TOKEN + "\n"}, "vault_token must not contain a newline"),
    ({"s3_bucket": "ops-keys"}, "s3_bucket is only used with custody=s3, not with custody=vault_kv"),
    ({"s3_object": "ptfe/admin.json"}, "s3_object is only used with custody=s3, not with custody=vault_kv"),
])
def test_a_bad_vault_kv_option_is_refused_by_name(given, expected):
    found = problems(kv_params(**given))
    assert [p for p in found if p.startswith(expected)], found
    assert not [p for p in found if VAULT_TOKEN in p]


@pytest.mark.parametrize("custody", ["file", "s3"])
@pytest.mark.parametrize("option, value", [("vault_kv_path", PATH), ("vault_url", "https://vault.example.com"),
                                           ("vault_token", VAULT_TOKEN), ("vault_kv_version", 1),
                                           ("vault_kv_mount", "kv")])
def test_vault_options_without_custody_vault_kv_are_refused_naming_both(custody, option, value):
    extra = {"s3_bucket": "ops-keys", "s3_object": "ptfe/admin.json"} if custody == "s3" else {}
    found = problems(params(custody=custody, **dict(extra, **{option: value})))
    assert "%s is only used with custody=vault_kv, not with custody=%s; give the options of one custody only" % (
        option, custody) in found


def test_vault_values_from_the_environment_are_no_mixing():
    """An AWX job with the Vault credential has VAULT_ADDR and VAULT_TOKEN set whatever the custody."""
    environ = {"VAULT_ADDR": "https://vault.example.com", "VAULT_TOKEN": VAULT_TOKEN}
    assert not problems(params(custody="file", vault_url=environ["VAULT_ADDR"], vault_token=VAULT_TOKEN), environ)


# ------------------------------------------------------------------------------------------------ the store


class FakeResponse:
    """What hvac's RawAdapter returns: a requests response, as far as VaultClient reads it."""

    def __init__(self, status, body=None):
        self.status_code = status
        self.headers = {}
        self.content = json.dumps(body).encode() if body is not None else b""
        self.text = self.content.decode()

    def json(self):
        return json.loads(self.content)


class FakeKv:
    """Vault's KV HTTP API as hvac's adapter under the collection's VaultClient sees it: version 1 or 2 at
    ``mount``, check-and-set on version 2, ``sys/capabilities-self``. ``faults`` (an HTTP status with its errors,
    or an exception of the transport) are taken one by one before the next requests; ``lose`` takes the next
    write and loses its answer. The client's own retries and error messages run for real."""

    def __init__(self, version=2, mount="secret", capabilities=("read", "create", "update")):
        self.kv_version = version
        self.mount = mount
        self.secrets = {}  # path -> list of versions
        self.capabilities = list(capabilities)
        self.faults = []
        self.lose = False
        self.calls = []

    def _path(self, path):
        prefix = self.mount + ("/data/" if self.kv_version == 2 else "/")
        return path[len(prefix):] if path.startswith(prefix) else None

    def request(self, method, url, raise_exception=False, **kwargs):
        assert url.startswith("/v1/") and raise_exception is False
        path, body = url[len("/v1/"):], kwargs.get("json")
        self.calls.append((method, path))
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            status, errors = fault
            return FakeResponse(status, {"errors": errors})
        if path == "sys/capabilities-self":
            return FakeResponse(200, {"data": {path: list(self.capabilities) for path in body["paths"]}})
        if self.kv_version == 2 and path.startswith(self.mount + "/metadata/"):
            versions = self.secrets.get(path[len(self.mount) + len("/metadata/"):])
            if not versions:
                return FakeResponse(404, {"errors": []})
            return FakeResponse(200, {"data": {"current_version": len(versions)}})
        name = self._path(path)
        if name is None:
            return FakeResponse(404, {"errors": ["no handler for route '%s'. route entry not found." % path]})
        versions = self.secrets.setdefault(name, [])
        if method == "GET":
            if not versions or versions[-1] is None:
                return FakeResponse(404, {"errors": []})
            data = copy.deepcopy(versions[-1])
            return FakeResponse(200, {"data": {"data": data, "metadata": {"version": len(versions)}}
                                      if self.kv_version == 2 else data})
        if self.kv_version == 2:
            if body["options"]["cas"] != len(versions):
                return FakeResponse(400, {"errors": ["check-and-set parameter did not match the current version"]})
            versions.append(copy.deepcopy(body["data"]))
        else:
            versions[:] = [copy.deepcopy(body)]
        if self.lose:
            self.lose = False
            raise requests.exceptions.ConnectionError("connection reset by peer")
        return FakeResponse(200, {"data": {"version": len(versions)}}) if self.kv_version == 2 else FakeResponse(204)


def custody(fake, **given):
    values = kv_params(**dict({"vault_kv_version": fake.kv_version, "vault_kv_mount": fake.mount, "max_retries": 3},
                              **given))
    store = _admin_token.TokenCustody(dict(values, custody="file"))
    store.kv = _admin_token.VaultKvStore(values, store.redactor, sleep=lambda seconds: None)
    store.kv.client.client.adapter = fake
    return store


@pytest.mark.parametrize("version", [1, 2])
def test_written_read_back_and_read_as_this_installations_token(version):
    fake = FakeKv(version)
    store = custody(fake)
    assert store.durable and store.describe() == "vault-kv://secret/" + PATH and store.option == "vault_kv_path"
    assert store.read() is None and store.problems() == []
    store.write(TOKEN, {"username": "admin", "id": "user-1"})
    document = fake.secrets[PATH][-1]
    assert document["token"] == TOKEN and document["installation"] == "https://ptfe.example.com"
    assert custody(fake).read()["token"] == TOKEN
    assert store.how == ("KV version 2, check-and-set, read back" if version == 2 else "KV version 1, read back")


def test_kv2_writes_with_check_and_set_on_the_version_read():
    fake = FakeKv()
    store = custody(fake)
    store.write(TOKEN)
    store.write("otherToken123456.atlasv1.second")
    assert len(fake.secrets[PATH]) == 2
    # Another run writes between this run's read and its write: Vault refuses, nothing is overwritten.
    racing = custody(fake)
    racing.read()
    custody(fake).write("thirdToken123456.atlasv1.third")
    with pytest.raises(CustodyError, match="the secret changed after this run read it .check-and-set on version 2"):
        racing.kv.write(dict(fake.secrets[PATH][-1], token="fourthToken12345.atlasv1.fourth"))
    assert fake.secrets[PATH][-1]["token"] == "thirdToken123456.atlasv1.third" and len(fake.secrets[PATH]) == 3


def test_a_deleted_last_version_is_written_after_with_its_version():
    fake = FakeKv()
    custody(fake).write(TOKEN)
    fake.secrets[PATH].append(None)  # `bao kv delete`: the latest version is deleted, its number stays
    store = custody(fake)
    assert store.read() is None
    store.write(TOKEN)
    assert len(fake.secrets[PATH]) == 3 and fake.secrets[PATH][-1]["token"] == TOKEN


@pytest.mark.parametrize("fault", [
    requests.exceptions.ConnectionError("connection reset by peer"),
    (429, ["rate limit quota exceeded"]),
    (503, ["Vault is sealed"]),
    (500, ["internal error"]),
], ids=["connection", "429", "503", "500"])
def test_transient_failures_are_retried_bounded(fault):
    fake = FakeKv()
    fake.faults = [fault, fault]
    store = custody(fake)
    store.write(TOKEN)
    assert fake.secrets[PATH][-1]["token"] == TOKEN
    fake.faults = [fault] * 4
    with pytest.raises(CustodyError):
        custody(fake).read()
    assert fake.faults == []  # one try and max_retries=3 retries, no more


def test_a_write_whose_answer_was_lost_is_recognised_by_reading_it_back():
    fake = FakeKv()
    fake.lose = True
    custody(fake).write(TOKEN)
    assert len(fake.secrets[PATH]) == 1 and fake.secrets[PATH][0]["token"] == TOKEN


def test_a_403_says_the_token_lacks_the_policy_naming_the_path():
    fake = FakeKv()
    fake.faults = [(403, ["permission denied (token %s)" % VAULT_TOKEN])]
    with pytest.raises(CustodyError) as raised:
        custody(fake).read()
    message = str(raised.value)
    assert "The Vault token lacks a policy that allows read on secret/data/%s (the secret vault-kv://secret/%s)" % (
        PATH, PATH) in message
    assert VAULT_TOKEN not in message and fake.faults == []


def test_a_token_without_create_is_a_problem_found_before_writing():
    fake = FakeKv(capabilities=["read"])
    store = custody(fake)
    store.read()
    assert store.problems() == [
        'the Vault token may not create vault-kv://secret/%s (its capabilities on secret/data/%s: read); give it '
        'a policy with "create" on path "secret/data/%s"' % (PATH, PATH, PATH)]
    with pytest.raises(CustodyError, match="Failed to store the admin token in vault-kv://secret/"):
        store.write(TOKEN)
    assert PATH not in fake.secrets or not fake.secrets[PATH]


def test_a_mount_that_is_no_kv_engine_is_named():
    fake = FakeKv(mount="kv")
    with pytest.raises(CustodyError, match=r"Is a KV version 2 secrets engine mounted at secret/ .vault_kv_mount"):
        custody(fake, vault_kv_mount="secret").read()
    assert fake.calls == [("GET", "secret/data/" + PATH)]


def test_another_installations_token_in_kv_is_neither_used_nor_written_over():
    fake = FakeKv()
    custody(fake, address="https://other.example.com").write(TOKEN)
    store = custody(fake)
    with pytest.raises(CustodyError, match="holds the admin token of the installation at https://other.example.com, "
                                           "not of https://ptfe.example.com. Give every installation its own "
                                           "vault_kv_path"):
        store.write("anotherToken1234.atlasv1.x")
    assert len(fake.secrets[PATH]) == 1 and TOKEN not in store.redactor("token %s" % TOKEN)
