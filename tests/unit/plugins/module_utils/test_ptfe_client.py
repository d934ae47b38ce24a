"""Unit tests of the PTFE client's policies, against the PTFE emulator running in this process."""
from __future__ import annotations

import socket
import time

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils import _http
from ansible_collections.ptfe.ops.plugins.module_utils import _ptfe_client as client_mod
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    NOT_FOUND_HINT,
    PtfeClient,
    PtfeConnectionError,
    PtfeError,
    PtfeHTTPError,
    PtfeNotFoundError,
    PtfeRateLimitError,
    PtfeUnauthorizedError,
    PtfeValidationError,
    ptfe_argument_spec,
)
from tests.emulators.ptfe.server import start_in_thread


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Keep exponential backoff short; 429 waits still come from X-RateLimit-Reset."""
    monkeypatch.setattr(_http, "MAX_BACKOFF", 0.05)


def make(emu, token=None, **kwargs):
    return PtfeClient(emu.url, token=token, ca_path=emu.ca_path, **kwargs)


def posts(emu, path):
    return [e for e in emu.log if e["method"] == "POST" and e["path"].startswith(path)]


def org_doc(name):
    return {"data": {"type": "organizations", "attributes": {"name": name, "email": "o@example.com"}}}


def test_argument_spec_and_secrets():
    spec = ptfe_argument_spec(extra=dict(type="str"))
    assert set(spec) == {"address", "token", "allow_insecure_http", "validate_certs", "ca_path", "timeout",
                         "max_retries", "extra"}
    assert spec["allow_insecure_http"] == {"type": "bool", "default": False}
    assert spec["token"]["no_log"] is True
    assert spec["address"]["required"] is True
    assert spec["address"]["fallback"][1] == ["TFE_ADDRESS"] and spec["token"]["fallback"][1] == ["TFE_TOKEN"]
    assert spec["validate_certs"]["default"] is True and spec["timeout"]["default"] == 30
    assert spec["max_retries"]["default"] == 5


def test_post_is_not_retried_on_503(emu, admin_token):
    emu.faults.set([{"path": "^/api/v2/organizations$", "method": "POST", "status": 503, "count": 3}])
    client = make(emu, admin_token)
    with pytest.raises(PtfeHTTPError) as err:
        client.post("/api/v2/organizations", json=org_doc("acme"), action="create organization acme")
    assert err.value.status == 503
    assert client.request_count == 1 and client.retry_count == 0
    assert len(posts(emu, "/api/v2/organizations")) == 1


def test_post_is_retried_on_429_honouring_reset(emu, admin_token):
    emu.faults.set([{"path": "^/api/v2/organizations$", "method": "POST", "status": 429, "count": 2, "reset": 0.4}])
    client = make(emu, admin_token)
    started = time.monotonic()
    body = client.post("/api/v2/organizations", json=org_doc("acme"))
    assert time.monotonic() - started >= 0.8
    assert body["data"]["id"] == "acme"
    assert client.retry_count == 2 and client.request_count == 3


def test_retry_false_means_not_even_429(emu):
    emu.faults.set([{"path": "^/admin/initial-admin-user$", "status": 429, "count": 1}])
    client = make(emu)
    with pytest.raises(PtfeRateLimitError):
        client.request("POST", "/admin/initial-admin-user", params={"token": "x"}, json={}, retry=False,
                       authenticated=False)
    assert client.request_count == 1


def test_get_is_retried_on_transient_503_and_502(emu, admin_token):
    emu.faults.set([{"path": "^/api/v2/account/details$", "status": 503, "count": 1},
                    {"path": "^/api/v2/account/details$", "status": 502, "count": 1}])
    client = make(emu, admin_token)
    assert client.get("/api/v2/account/details")["data"]["attributes"]["username"] == "admin"
    assert client.retry_count == 2


def test_get_gives_up_after_bounded_retries(emu, admin_token):
    emu.faults.set([{"path": "^/api/v2/account/details$", "status": 503}])
    client = make(emu, admin_token, max_retries=3)
    with pytest.raises(PtfeHTTPError) as err:
        client.get("/api/v2/account/details", action="read the account")
    assert client.request_count == 4 and client.retry_count == 3
    assert str(err.value).startswith("Failed to read the account: HTTP 503 from GET /api/v2/account/details: ")
    assert "after 4 attempts" in str(err.value)


def test_500_is_not_retried(emu, admin_token):
    emu.faults.set([{"path": "^/api/v2/account/details$", "status": 500}])
    client = make(emu, admin_token)
    with pytest.raises(PtfeHTTPError):
        client.get("/api/v2/account/details")
    assert client.request_count == 1


def test_dropped_connection_retried_for_get_not_for_post(emu, admin_token):
    emu.faults.set([{"path": "^/api/v2/account/details$", "drop": True, "count": 1},
                    {"path": "^/api/v2/organizations$", "method": "POST", "drop": True, "count": 1}])
    client = make(emu, admin_token)
    assert client.get("/api/v2/account/details")["data"]["type"] == "users"
    assert client.retry_count == 1
    with pytest.raises(PtfeConnectionError):
        client.post("/api/v2/organizations", json=org_doc("acme"), action="create organization acme")
    deadline = time.monotonic() + 5  # the server logs a dropped request after closing the connection
    while not posts(emu, "/api/v2/organizations") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(posts(emu, "/api/v2/organizations")) == 1
    assert client.request_count == 3  # GET, its retry, and the POST once
    assert "acme" not in emu.state.organizations


def test_pacing_under_the_rate_limit(emu, admin_token, monkeypatch):
    sent = []
    original = client_mod.PtfeClient._pace

    def recording_pace(self):
        original(self)
        sent.append(time.monotonic())

    monkeypatch.setattr(client_mod.PtfeClient, "_pace", recording_pace)
    client = make(emu, admin_token, rate_limit=10)
    for _index in range(20):
        client.request("GET", "/api/v2/ping", expected=(204,))
    # At most int(10 * 0.95) = 9 requests leave in any rolling second ...
    for index in range(len(sent) - 9):
        assert sent[index + 9] - sent[index] >= client_mod.PACING_WINDOW - 0.01
    # ... and the first nine are not held back.
    assert sent[8] - sent[0] < 0.5
    assert not [e for e in emu.log if e["status"] == 429]


def test_rate_limit_learnt_from_headers(emu, admin_token):
    emu.state.apply_config({"rate_limit": 50})
    client = make(emu, admin_token)
    assert client.rate_limit == 30
    client.request("GET", "/api/v2/ping", expected=(204,))
    assert client.rate_limit == 50


def test_pagination_follows_every_page(emu, admin_token):
    owner = emu.state.user_for_token(admin_token)
    for i in range(250):
        emu.state.add_organization("org-%03d" % i, "o@example.com", owner=owner)
    client = make(emu, admin_token)
    names = [item["id"] for item in client.paginate("/api/v2/organizations")]
    assert names == ["org-%03d" % i for i in range(250)]
    assert client.request_count == 3
    assert all("page%5Bsize%5D=100" in e["path"] or "page[size]=100" in e["path"]
               for e in emu.log if e["path"].startswith("/api/v2/organizations"))


@pytest.mark.parametrize("public_url", ["https://tfe.example.com", "https://TFE.example.com:443"])
def test_pagination_when_the_server_names_itself_differently(emu, admin_token, public_url):
    """TFE builds its links from its own host name; the address we use (here an IP and a port) differs."""
    emu.state.apply_config({"public_url": public_url})
    owner = emu.state.user_for_token(admin_token)
    for i in range(250):
        emu.state.add_organization("org-%03d" % i, "o@example.com", owner=owner)
    client = make(emu, admin_token)
    first = client.get("/api/v2/organizations")
    assert first["links"]["next"].startswith(public_url + "/api/v2/organizations?")
    names = [item["id"] for item in client.paginate("/api/v2/organizations")]
    assert names == ["org-%03d" % i for i in range(250)]


def test_pagination_by_links_stays_on_our_address(monkeypatch):
    """With only links.next (no meta), the link's path and query are asked of our own address: the token never
    goes to the host the link names."""
    first = {"data": [1, 2], "links": {"next": "https://elsewhere.example.com/api/v2/things?page%5Bnumber%5D=2"}}
    second = {"data": [3], "links": {"next": None}}
    client = PtfeClient("https://ptfe.invalid:8443")
    seen = []

    def fake_get(path, params=None, **_kw):
        seen.append(path)
        return first if params else second

    monkeypatch.setattr(client, "get", fake_get)
    assert list(client.paginate("/api/v2/things")) == [1, 2, 3]
    assert seen[1] == "https://ptfe.invalid:8443/api/v2/things?page%5Bnumber%5D=2"


def test_pagination_by_meta_when_links_are_missing(monkeypatch):
    pages = {1: {"data": [1, 2], "meta": {"pagination": {"next-page": 2}}},
             2: {"data": [3], "meta": {"pagination": {"next-page": None}}}}
    client = PtfeClient("https://ptfe.invalid")
    seen = []

    def fake_get(path, params=None, **_kw):
        seen.append(params["page[number]"])
        return pages[params["page[number]"]]

    monkeypatch.setattr(client, "get", fake_get)
    assert list(client.paginate("/api/v2/things")) == [1, 2, 3]
    assert seen == [1, 2]


def test_typed_errors_and_messages(emu, admin_token):
    client = make(emu, admin_token)
    with pytest.raises(PtfeNotFoundError) as err:
        client.get("/api/v2/organizations/nope", action="read organization nope")
    assert str(err.value) == ("Failed to read organization nope: HTTP 404 from GET /api/v2/organizations/nope: "
                              + NOT_FOUND_HINT)
    client.post("/api/v2/organizations", json=org_doc("acme"))
    with pytest.raises(PtfeValidationError) as err:
        client.post("/api/v2/organizations", json=org_doc("acme"))
    assert err.value.pointer == "/data/attributes/name" and err.value.status == 422
    assert "Name has already been taken" in str(err.value)
    assert not str(err.value).startswith("Failed to")


def test_token_never_in_messages(emu):
    secret = "SECRETTOKEN.atlasv1." + "x" * 40
    client = make(emu, secret)
    with pytest.raises(PtfeUnauthorizedError) as err:
        client.get("/api/v2/account/details", action="read the account")
    assert secret not in str(err.value) and err.value.status == 401
    with pytest.raises(PtfeHTTPError) as err:
        client.request("POST", "/admin/initial-admin-user", params={"token": "IACTSECRET123"}, json={},
                       retry=False, authenticated=False)
    assert "IACTSECRET123" not in str(err.value)
    assert "token=********" in str(err.value)


def test_connection_error_message_has_no_secret():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = PtfeClient("https://127.0.0.1:%d" % port, token="TOKSECRET-abcdef", max_retries=1)
    with pytest.raises(PtfeConnectionError) as err:
        client.get("/admin/initial-admin-user?token=IACTSECRET456", action="reach it")
    text = str(err.value)
    assert text.startswith("Failed to reach it: could not reach https://127.0.0.1:%d after 2 attempts" % port)
    assert "IACTSECRET456" not in text and "TOKSECRET" not in text
    assert client.request_count == 2


def test_absolute_url_on_another_host_is_refused(emu, admin_token):
    client = make(emu, admin_token)
    with pytest.raises(PtfeError) as err:
        client.get("https://elsewhere.invalid/api/v2/organizations")
    assert client.request_count == 0
    assert "not on" in str(err.value)


def test_tls_is_verified_by_default(emu):
    client = PtfeClient(emu.url)
    with pytest.raises(PtfeConnectionError) as err:
        client.request("GET", "/_health_check", authenticated=False, retry=False)
    assert "SSL" in str(err.value) or "certificate" in str(err.value)


@pytest.fixture(scope="module")
def plain_http_server():
    """The emulator without TLS: what an installation behind plain http looks like."""
    srv, _ca_path = start_in_thread({})
    assert srv.url.startswith("http://")
    yield srv
    srv.shutdown()
    srv.server_close()


class FakeModule:
    """What PtfeClient.from_module reads from an AnsibleModule: params and warn."""

    def __init__(self, **params):
        self.params = {"token": None, "validate_certs": True, "ca_path": None, "timeout": 30, "max_retries": 0}
        self.params.update(params)
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def logged(server, count, timeout=5.0):
    """The server's request log once it holds ``count`` entries (each is written after its response)."""
    deadline = time.monotonic() + timeout
    while len(server.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return [(e["method"], e["path"]) for e in server.log]


def test_http_address_is_refused_before_any_request(plain_http_server, monkeypatch):
    plain_http_server.reset()
    sent = []
    monkeypatch.setattr(client_mod.requests.Session, "send", lambda self, request, **kw: sent.append(request))
    for module in (FakeModule(address=plain_http_server.url, token="TOKSECRET-http-1"),
                   FakeModule(address=plain_http_server.url, token="TOKSECRET-http-1", allow_insecure_http=False)):
        with pytest.raises(PtfeError) as err:
            PtfeClient.from_module(module)
        text = str(err.value)
        assert "Invalid address %s (option address or TFE_ADDRESS)" % plain_http_server.url in text
        assert "allow_insecure_http=true" in text and "Nothing was sent" in text
        assert "TOKSECRET" not in text
    # The scheme is compared without regard to case.
    with pytest.raises(PtfeError):
        PtfeClient("HTTP://" + plain_http_server.url[len("http://"):])
    assert sent == []
    assert plain_http_server.log == []


def test_http_address_is_accepted_with_the_opt_in_and_warns(plain_http_server):
    plain_http_server.reset()
    module = FakeModule(address=plain_http_server.url + "/", allow_insecure_http=True)
    client = PtfeClient.from_module(module)
    resp = client.request("GET", "/_health_check", authenticated=False, retry=False)
    assert resp.status == 200
    assert logged(plain_http_server, 1) == [("GET", "/_health_check")]
    assert module.warnings == [
        "allow_insecure_http=true: the API token and every other secret travel in clear text to %s"
        % plain_http_server.url]


def test_https_address_needs_no_opt_in_and_gives_no_warning(emu):
    module = FakeModule(address=emu.url, ca_path=emu.ca_path)
    client = PtfeClient.from_module(module)
    assert client.request("GET", "/_health_check", authenticated=False, retry=False).status == 200
    assert module.warnings == []
    # A bare host name is taken as https.
    assert PtfeClient("ptfe.example.com").address == "https://ptfe.example.com"


@pytest.mark.parametrize("address", ["ftp://ptfe.example.com", "file:///etc/passwd", "ws://ptfe.example.com"])
def test_other_schemes_are_refused(address):
    with pytest.raises(PtfeError) as err:
        PtfeClient(address, allow_insecure_http=True)
    assert "it must be an https:// URL" in str(err.value)
    assert "(option address or TFE_ADDRESS)" in str(err.value)


def test_refused_address_shows_no_user_information():
    with pytest.raises(PtfeError) as err:
        PtfeClient("http://ops:PASSSECRET99@ptfe.example.com:8080/path?token=QUERYSECRET")
    text = str(err.value)
    assert "PASSSECRET99" not in text and "QUERYSECRET" not in text and "ops:" not in text
    assert "Invalid address http://ptfe.example.com:8080 " in text
