"""_admin_token: the token document is bound to one installation, refused when it is another's or no token
document at all, and written only to a versioned bucket. A dict stands in for S3 (the integration tests use moto)."""
from __future__ import annotations

import io
import json

import pytest
from botocore.exceptions import ClientError

from ansible_collections.ptfe.ops.plugins.module_utils import _admin_token
from ansible_collections.ptfe.ops.plugins.module_utils._custody import CustodyError, S3Custody
from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor

TOKEN = "abcdEFGH12345678.atlasv1.unit-test-admin-token"


class FakeS3:
    """get/put/head of objects and the bucket's versioning, in memory; every put is kept."""

    def __init__(self, versioning="Enabled"):
        self.objects = {}
        self.puts = []
        self.versioning = versioning

    def get_object(self, Bucket, Key):  # pylint: disable=invalid-name
        if Key not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "no such key"}}, "GetObject")
        return {"Body": io.BytesIO(self.objects[Key])}

    def put_object(self, Bucket, Key, Body, **extra):  # pylint: disable=invalid-name
        self.objects[Key] = Body
        self.puts.append((Key, extra))

    def head_object(self, Bucket, Key):  # pylint: disable=invalid-name
        return {"ServerSideEncryption": "aws:kms"}

    def get_bucket_versioning(self, Bucket):  # pylint: disable=invalid-name
        return {"Status": self.versioning} if self.versioning else {}


def custody(client, address="https://PTFE.example.com/"):
    store = _admin_token.TokenCustody({"address": address})
    store.s3 = S3Custody("bucket", "admin.json", client=client, redactor=store.redactor)
    return store


@pytest.mark.parametrize("address, expected", [
    ("https://PTFE.example.com/", "https://ptfe.example.com"),
    ("ptfe.example.com", "https://ptfe.example.com"),
    ("HTTP://ptfe.example.com:8443/tfe/", "http://ptfe.example.com:8443/tfe"),
])
def test_the_installation_an_address_names(address, expected):
    assert _admin_token.installation(address) == expected


def test_file_custody_keeps_nothing_beyond_the_token_file():
    store = _admin_token.TokenCustody({"address": "ptfe.example.com", "custody": "file"})
    assert not store.durable and store.read() is None and store.problems() == []
    store.write(TOKEN)


def test_written_then_read_as_this_installations_token():
    client = FakeS3()
    store = custody(client)
    assert store.read() is None
    store.write(TOKEN, {"username": "admin", "id": "user-1"})
    document = json.loads(client.objects["admin.json"])
    assert document["installation"] == "https://ptfe.example.com" and document["token"] == TOKEN
    assert client.puts == [("admin.json", {"ContentType": "application/json", "ServerSideEncryption": "aws:kms"})]
    assert custody(client, "ptfe.example.com").read()["token"] == TOKEN


def test_another_installations_token_is_neither_used_nor_written_over():
    client = FakeS3()
    custody(client, "https://other.example.com").write(TOKEN)
    store = custody(client)
    for attempt in (store.read, lambda: store.write("anotherToken1234.atlasv1.x")):
        with pytest.raises(CustodyError, match="holds the admin token of the installation at https://other.example.com"
                                               ", not of https://ptfe.example.com"):
            attempt()
    assert len(client.puts) == 1
    assert TOKEN not in store.redactor("the token is %s" % TOKEN)


@pytest.mark.parametrize("document", [{"keys_base64": ["x"]}, {"kind": "ptfe-admin-token", "token": "two words"},
                                      {"kind": "ptfe-admin-token", "token": ""}])
def test_an_object_that_is_no_token_document_is_refused(document):
    client = FakeS3()
    client.objects["admin.json"] = json.dumps(document).encode()
    with pytest.raises(CustodyError, match="is not an admin token document"):
        custody(client).read()


def test_no_write_without_versioning():
    client = FakeS3(versioning=None)
    store = custody(client)
    assert store.problems() == ["s3_bucket: bucket bucket does not have versioning enabled (status never enabled); "
                                "without it an overwrite would lose the keys it replaces"]
    with pytest.raises(CustodyError, match="Failed to store the admin token in s3://bucket/admin.json"):
        store.write(TOKEN)
    assert client.puts == []


def test_the_redactor_given_is_the_one_used():
    redactor = Redactor()
    assert _admin_token.TokenCustody({"address": "x.example.com"}, redactor).redactor is redactor
