"""The redactor (plugins/module_utils/_redact.py) against the texts real exceptions carry: requests, hvac and
botocore raise them here with canary secrets in the places those libraries put them (a header value, a URL's
user-info or query, a presigned URL, an S3 error message), and no canary may survive.

Nothing here reaches a server: requests refuses the header before connecting, the addresses are closed ports,
and the botocore errors are built as botocore builds them from a response.
"""
from __future__ import annotations

import boto3
import botocore.config
import botocore.exceptions
import hvac
import hvac.utils
import pytest
import requests

from ansible_collections.ptfe.ops.plugins.module_utils._custody import S3Custody
from ansible_collections.ptfe.ops.plugins.module_utils._http import describe
from ansible_collections.ptfe.ops.plugins.module_utils._redact import REDACTED, Redactor, redact, variants
from ansible_collections.ptfe.ops.plugins.module_utils._vault_client import VaultClient, VaultConnectionError

TOKEN = "s.canary-token-Qw7Rt5Yu"
PASSWORD = "pw-canary-7c1e"
QUERY_SECRET = "querycanary-55aa"
ACCESS_KEY = "AKIAKEYCUSTODYTEST01"
SECRET_KEY = "secretCanary-3b9e1f7a"
SESSION_TOKEN = "sessionTokenCanary-99d0"
CLOSED = "127.0.0.1:1"  # nothing listens on port 1


def raised(call, *args, **kwargs):
    with pytest.raises(Exception) as info:
        call(*args, **kwargs)
    return info.value


def assert_clean(text, *canaries):
    for canary in canaries:
        assert canary not in text, "%r survived in %r" % (canary, text)
    assert REDACTED in text, text


# -- requests ---------------------------------------------------------------------------------------------------------


def test_requests_invalid_header_shows_the_token_with_its_newline_escaped():
    exc = raised(requests.Session().get, "https://%s/v1/sys/seal-status" % CLOSED,
                 headers={"X-Vault-Token": TOKEN + "\n"})
    assert isinstance(exc, requests.exceptions.InvalidHeader) and TOKEN + "\\n" in str(exc)
    # Told the secret as the module got it (with its real newline) ...
    assert_clean(Redactor([TOKEN + "\n"])(describe(exc)), TOKEN)
    # ... and told nothing: the value requests quotes is removed by its place.
    assert_clean(redact(describe(exc)), TOKEN)


def test_requests_connection_error_shows_the_query_secret():
    exc = raised(requests.get, "https://%s/v1/x?token=%s&page=2" % (CLOSED, QUERY_SECRET), timeout=5)
    assert isinstance(exc, requests.exceptions.ConnectionError) and QUERY_SECRET in str(exc)
    text = redact(describe(exc))
    assert_clean(text, QUERY_SECRET)
    assert "page=2" in text and "Connection refused" in text


def test_requests_invalid_url_shows_the_password():
    exc = raised(requests.get, "https://ops:%s@127.0.0.1:99999/x" % PASSWORD)
    assert isinstance(exc, requests.exceptions.InvalidURL) and PASSWORD in str(exc)
    assert_clean(redact(describe(exc)), PASSWORD, "ops:")


# -- hvac -------------------------------------------------------------------------------------------------------------


def test_hvac_error_shows_its_url():
    url = "https://ops:%s@vault.example:8200/v1/sys/rekey/init?token=%s" % (PASSWORD, QUERY_SECRET)
    exc = raised(hvac.utils.raise_for_error, "GET", url, 403, "permission denied", errors=["permission denied"])
    assert isinstance(exc, hvac.exceptions.Forbidden) and PASSWORD in str(exc)
    text = redact(str(exc))
    assert_clean(text, PASSWORD, QUERY_SECRET)
    assert "permission denied, on GET https://%s@vault.example:8200/v1/sys/rekey/init" % REDACTED in text


def test_hvac_client_with_a_token_ending_in_a_newline():
    client = hvac.Client(url="https://" + CLOSED, token=TOKEN + "\n", timeout=2)
    exc = raised(client.sys.read_seal_status)
    assert TOKEN in str(exc)
    assert_clean(Redactor([TOKEN + "\n"])(str(exc)), TOKEN)


def test_the_vault_client_redacts_what_requests_raised():
    client = VaultClient("https://" + CLOSED, token=TOKEN + "\n", max_retries=0, sleep=lambda s: None)
    exc = raised(client.seal_status)
    assert isinstance(exc, VaultConnectionError)
    assert_clean(str(exc), TOKEN)
    assert "Failed to read seal status: no answer from GET /v1/sys/seal-status: InvalidHeader" in str(exc)


# -- botocore ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def s3_client():
    return boto3.client("s3", region_name="eu-west-1", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, aws_session_token=SESSION_TOKEN,
                        endpoint_url="https://" + CLOSED,
                        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2))


def test_a_presigned_url_in_a_botocore_error(s3_client):
    url = s3_client.generate_presigned_url("get_object", Params={"Bucket": "keys", "Key": "vault.json"})
    assert SESSION_TOKEN in url and ACCESS_KEY in url
    exc = botocore.exceptions.EndpointConnectionError(endpoint_url=url)
    text = redact(str(exc))
    assert_clean(text, SESSION_TOKEN, ACCESS_KEY)
    assert "Signature=%s" % REDACTED in text


def test_a_sigv4_authorization_header_in_an_error_text():
    request = botocore.awsrequest.AWSRequest(method="GET", url="https://s3.eu-west-1.amazonaws.com/keys/vault.json")
    credentials = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
    botocore.auth.SigV4Auth(credentials, "s3", "eu-west-1").add_auth(request)
    text = "request failed, headers %r" % dict(request.headers)
    assert SESSION_TOKEN in text and ACCESS_KEY in text
    assert_clean(redact(text), SESSION_TOKEN, ACCESS_KEY, request.headers["Authorization"].rsplit("=", 1)[1])


def test_a_connection_error_of_an_s3_client_whose_endpoint_holds_a_password():
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, endpoint_url="https://ops:%s@%s" % (PASSWORD, CLOSED),
                          config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2))
    exc = raised(client.get_object, Bucket="keys", Key="vault.json")
    assert isinstance(exc, botocore.exceptions.EndpointConnectionError) and PASSWORD in str(exc)
    assert_clean(redact(str(exc)), PASSWORD)


def test_a_client_error_through_the_s3_custody():
    class Failing:
        def get_bucket_versioning(self, **kwargs):
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "InvalidToken", "Message": "The provided token is malformed or otherwise invalid: "
                                                              + SESSION_TOKEN}}, "GetBucketVersioning")

    custody = S3Custody("keys", "vault.json", client=Failing(), redactor=Redactor([SESSION_TOKEN]))
    problem = custody.check()[0]
    assert problem.startswith("s3_bucket: cannot read the versioning of bucket keys (InvalidToken: ")
    assert_clean(problem, SESSION_TOKEN)


# -- the rules themselves ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, kept", [
    ("{'X-Vault-Token': 's.abcdefgh\\n', 'Accept': 'application/json'}", "'Accept': 'application/json'"),
    ("X-Vault-Token: s.abcdefgh", "X-Vault-Token: "),
    ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer "),
    ("curl -H 'Authorization: token ghp_abcdefgh'", "Authorization: token "),
    ("git clone https://x-access-token:ghs_abcdefgh@github.com/o/r", "https://%s@github.com/o/r" % REDACTED),
    ("hvs.CAESIJabcdefghijklmnopqrstuvwxyz0123", ""),
    ("tfe token biadmin00000001.atlasv1.canary-bad-input-admin-4e1f", "tfe token "),
])
def test_secrets_by_their_place_or_shape(text, kept):
    out = redact(text)
    assert REDACTED in out and kept in out
    assert "abcdefgh" not in out and "canary" not in out and "CAESIJ" not in out


def test_variants_of_a_secret():
    forms = variants("a/b+c\n")
    assert {"a/b+c\n", "a/b+c", "a/b+c\\n", "a%2Fb%2Bc%0A"} <= forms
    assert all(len(form) >= 4 for form in forms)


def test_ordinary_messages_are_left_alone():
    text = ("Failed to rekey Vault at https://127.0.0.1:8200: the unseal key was refused by Vault (failed to read "
            "root key); the rekey this run started (nonce 6a1cd39c-1b7a-4e1e-9c5e-0f4b7c3f2a11) was cancelled.")
    assert redact(text) == text
