"""The releases mirror client (plugins/module_utils/_releases_client.py): redirects, retries, TLS settings. The
checksum verification against a mirror is in tests/unit/plugins/module_utils/test_tool_versions_utils.py."""
from __future__ import annotations

import hashlib

import pytest
import requests

from ansible_collections.ptfe.ops.plugins.module_utils import _http
from ansible_collections.ptfe.ops.plugins.module_utils import _releases_client as rc

ZIP = "https://mirror.example/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip"
BODY = b"zip bytes" * 1000


class FakeResponse:
    def __init__(self, status, url, location=None, body=b""):
        self.status_code = status
        self.url = url
        self.headers = {"Location": location} if location else {}
        self.body = body
        self.closed = False

    def iter_content(self, size):
        for start in range(0, len(self.body), size):
            yield self.body[start:start + size]

    def close(self):
        self.closed = True


class FakeSession:
    """Answers GETs from ``script`` (url -> list of answers, a FakeResponse or an exception), in order."""

    def __init__(self, script):
        self.script = script
        self.calls = []

    def get(self, url, **kwargs):
        self.calls.append((url, kwargs))
        answer = self.script[url].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr(_http, "MAX_BACKOFF", 0.0)
    monkeypatch.setattr(rc.time, "sleep", lambda seconds: None)


def client_with(monkeypatch, script, **kwargs):
    client = rc.ReleasesClient(**kwargs)
    session = FakeSession(script)
    monkeypatch.setattr(client, "_session", lambda: session)
    return client, session


def test_every_request_verifies_tls_and_never_lets_requests_follow_redirects(monkeypatch):
    client, session = client_with(monkeypatch, {ZIP: [FakeResponse(200, ZIP)]}, ca_path="/etc/ca.pem", timeout=7)
    assert client.get(ZIP).status_code == 200
    (url, kwargs), = session.calls
    assert kwargs == {"timeout": 7, "stream": True, "verify": "/etc/ca.pem", "allow_redirects": False}


def test_redirects_are_followed_on_https(monkeypatch):
    cdn = "https://cdn.example/blob/123"
    client, session = client_with(monkeypatch, {ZIP: [FakeResponse(302, ZIP, location=cdn)],
                                                cdn: [FakeResponse(200, cdn, body=BODY)]})
    assert client.get(ZIP).url == cdn
    assert [c[0] for c in session.calls] == [ZIP, cdn]


def test_a_redirect_down_to_plain_http_is_refused(monkeypatch):
    client, session = client_with(monkeypatch, {ZIP: [FakeResponse(301, ZIP, location="http://cdn.example/x.zip")]})
    with pytest.raises(rc.ReleasesConnectionError, match="from https to plain http"):
        client.get(ZIP)
    client, session = client_with(monkeypatch, {ZIP: [FakeResponse(301, ZIP, location="http://cdn.example/x.zip")],
                                                "http://cdn.example/x.zip": [FakeResponse(200, "http://cdn")]},
                                  allow_http=True)
    assert client.get(ZIP).status_code == 200


def test_redirect_loops_end(monkeypatch):
    client, session = client_with(monkeypatch, {ZIP: [FakeResponse(302, ZIP, location=ZIP)] * 20})
    with pytest.raises(rc.ReleasesConnectionError, match="more than 10 redirects"):
        client.get(ZIP)


def test_retries_follow_the_shared_policy(monkeypatch):
    warnings = []
    script = {ZIP: [requests.exceptions.ConnectionError("reset"), FakeResponse(503, ZIP), FakeResponse(200, ZIP)]}
    client, session = client_with(monkeypatch, script, max_retries=2, warn=warnings.append)
    assert client.get(ZIP).status_code == 200
    assert len(session.calls) == 3 and len(warnings) == 2
    assert "Retrying GET /terraform/1.5.7/terraform_1.5.7_linux_amd64.zip" in warnings[0]


def test_without_retries_a_connection_error_is_reported(monkeypatch):
    client, session = client_with(monkeypatch, {ZIP: [requests.exceptions.ConnectionError("refused")]})
    with pytest.raises(rc.ReleasesConnectionError, match="ConnectionError: refused"):
        client.get(ZIP)


def test_verifier_hashes_the_download_after_a_redirect(monkeypatch):
    cdn = "https://cdn.example/blob/123"
    verifier = rc.ChecksumVerifier()
    session = FakeSession({
        ZIP.replace("linux_amd64.zip", "SHA256SUMS"): [FakeResponse(404, ZIP)],
        ZIP: [FakeResponse(302, ZIP, location=cdn)],
        cdn: [FakeResponse(200, cdn, body=BODY)],
    })
    monkeypatch.setattr(verifier.client, "_session", lambda: session)
    record, = verifier.verify_all([("1.5.7", ZIP, hashlib.sha256(BODY).hexdigest())])
    assert record["method"] == "download" and record["bytes"] == len(BODY)
