"""The Vault client against real HTTP servers on 127.0.0.1: what it sends, and to whom."""
from __future__ import annotations

import http.server
import json
import threading

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils import _vault_client as vc


class Recorder(http.server.ThreadingHTTPServer):
    """Answers every request with ``answer(handler)`` and records (method, path, headers, body)."""

    def __init__(self, answer):
        self.seen = []
        self.answer = answer
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.seen.append((self.command, self.path, dict(self.headers), body))
                status, headers, payload = recorder.answer(self)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def servers():
    started = []

    def start(answer):
        server = Recorder(answer)
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def ok_json(body):
    return lambda _handler: (200, {"Content-Type": "application/json"}, json.dumps(body).encode())


def test_redirect_is_not_followed_with_the_token_and_key_share(servers):
    """A standby node or a rogue proxy answering 307: requests would resend the token and the body there."""
    elsewhere = servers(ok_json({"complete": True}))
    redirecting = servers(lambda _h: (307, {"Location": elsewhere.url + "/v1/sys/rekey/update?x=1"}, b""))
    client = vc.VaultClient(redirecting.url, token="s.canary-token-redirect", max_retries=0,
                            allow_insecure_http=True)
    with pytest.raises(vc.VaultError) as err:
        client.request("PUT", "sys/rekey/update", "submit an unseal key share",
                       body={"key": "canary-key-share", "nonce": "n"})
    assert elsewhere.seen == []
    assert err.value.status == 307
    message = str(err.value)
    assert message.startswith("Failed to submit an unseal key share: HTTP 307 from PUT /v1/sys/rekey/update: "
                              "a redirect to %s, not followed" % elsewhere.url)
    assert "canary" not in message


def test_no_token_sends_no_token_even_with_a_vault_token_file(servers, tmp_path, monkeypatch):
    """Without a token, hvac would read VAULT_TOKEN or ~/.vault-token of the user running the module."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".vault-token").write_text("s.root-token-on-this-host")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    server = servers(ok_json({"sealed": False, "t": 1, "n": 1}))
    client = vc.VaultClient(server.url, token=None, max_retries=0, allow_insecure_http=True)
    assert client.seal_status()["n"] == 1
    headers = {k.lower(): v for k, v in server.seen[0][2].items()}
    assert "x-vault-token" not in headers


def test_given_token_is_sent(servers):
    server = servers(ok_json({"sealed": False, "t": 1, "n": 1}))
    client = vc.VaultClient(server.url, token="s.given", max_retries=0, allow_insecure_http=True)
    client.seal_status()
    headers = {k.lower(): v for k, v in server.seen[0][2].items()}
    assert headers["x-vault-token"] == "s.given"


def test_plain_http_is_refused_before_anything_is_sent(servers):
    """Key shares and tokens would travel in clear text: http needs an explicit opt-in."""
    server = servers(ok_json({"sealed": False, "t": 1, "n": 1}))
    with pytest.raises(vc.VaultError) as err:
        vc.VaultClient(server.url, token="s.canary-http", max_retries=0)
    assert str(err.value).startswith("Invalid url %s: plain http would carry the token" % server.url)
    assert "allow_insecure_http=true" in str(err.value) and "canary" not in str(err.value)
    assert server.seen == []
    allowed = vc.VaultClient(server.url, token="s.canary-http", max_retries=0, allow_insecure_http=True)
    assert allowed.seal_status()["n"] == 1 and len(server.seen) == 1


@pytest.mark.parametrize("url", ["ftp://vault.example:8200", "vault.example:8200", ""])
def test_url_without_https_scheme_is_refused(url):
    with pytest.raises(vc.VaultError) as err:
        vc.VaultClient(url, allow_insecure_http=True)
    assert "must start with https://" in str(err.value)


def flaky(status, times, then):
    """Answer ``status`` ``times`` times, then ``then``'s answer."""
    answers = [status] * times

    def answer(handler):
        if answers:
            return answers.pop(0), {"Content-Type": "application/json"}, b'{"errors": ["try again"]}'
        return then(handler)

    return answer


def test_by_default_only_reads_are_asked_again_and_only_on_a_gateways_502_or_504(servers):
    server = servers(flaky(504, 2, ok_json({"data": {"ok": True}})))
    client = vc.VaultClient(server.url, max_retries=3, allow_insecure_http=True, sleep=lambda seconds: None)
    assert client.request("GET", "secret/data/a", "read a") == (200, {"ok": True})
    assert [seen[0] for seen in server.seen] == ["GET"] * 3

    for method, status in (("POST", 504), ("GET", 503)):
        server = servers(flaky(status, 1, ok_json({"data": {}})))
        client = vc.VaultClient(server.url, max_retries=3, allow_insecure_http=True, sleep=lambda seconds: None)
        with pytest.raises(vc.VaultError) as err:
            client.request(method, "secret/data/a", "write a", body={"data": {}})
        assert err.value.status == status and len(server.seen) == 1


def test_a_caller_whose_writes_are_safe_to_repeat_widens_what_is_asked_again(servers):
    server = servers(flaky(503, 2, ok_json({"data": {"version": 1}})))
    pauses = []
    client = vc.VaultClient(server.url, max_retries=3, allow_insecure_http=True, sleep=pauses.append,
                            retry_statuses=(429, 503), retry_methods=("get", "post"))
    assert client.request("POST", "secret/data/a", "write a", body={"data": {}}) == (200, {"version": 1})
    assert [seen[0] for seen in server.seen] == ["POST"] * 3 and pauses == [0.5, 1.0]

    server = servers(flaky(429, 9, ok_json({})))
    client = vc.VaultClient(server.url, max_retries=2, allow_insecure_http=True, sleep=lambda seconds: None,
                            retry_statuses=(429,), retry_methods=("POST",))
    with pytest.raises(vc.VaultError) as err:
        client.request("POST", "secret/data/a", "write a", body={"data": {}})
    assert err.value.status == 429 and len(server.seen) == 3  # one try and max_retries=2 retries, no more
