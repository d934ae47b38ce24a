"""The shared input checks: whole-string matches, ASCII digits, no control characters, named options, secrets
never quoted."""
from __future__ import annotations

import pytest

from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, decimal, is_set, whole


@pytest.mark.parametrize("value,expected", [
    (None, False), ("", False), ("  \n", False), ([], False), ({}, False),
    ("x", True), (0, True), (False, True), (["a"], True),
])
def test_is_set(value, expected):
    assert is_set(value) is expected


@pytest.mark.parametrize("value,expected", [
    (5, 5), ("5", 5), (" 7 ", 7), ("-3", -3), (4.0, 4),
    (True, None), (4.5, None), ("4.5", None), ("\u0661", None), ("5\n", None), ("0x10", None), ("", None),
    (None, None), ("1e3", None),
])
def test_whole(value, expected):
    assert whole(value) == expected


@pytest.mark.parametrize("value,expected", [
    (1, 1.0), ("2.5", 2.5), (0.5, 0.5), ("nan", None), ("inf", None), (float("nan"), None), (float("inf"), None),
    ("1e3", None), ("\u0661.5", None), (True, None),
])
def test_decimal(value, expected):
    assert decimal(value) == expected


def problems(params, *calls, secret=()):
    check = Checker(params, secret=secret)
    for method, args, kwargs in calls:
        getattr(check, method)(*args, **kwargs)
    return check.problems


@pytest.mark.parametrize("value", ["admin\n", "ad\x00min", "a\u2028b", "x\x7f"])
def test_text_refuses_control_characters_wherever_they_are(value):
    assert problems({"username": value}, ("text", ("username",), {"pattern": r"[A-Za-z0-9\s]+"})) == [
        "username must not contain a newline or another control character"]


def test_text_pattern_matches_the_whole_value():
    call = ("text", ("version",), {"pattern": r"[0-9]+[.][0-9]+[.][0-9]+", "rule": "a version such as 1.5.7"})
    assert problems({"version": "1.5.7"}, call) == []
    assert problems({"version": "1.5.7-evil"}, call) == ["version must be a version such as 1.5.7, got '1.5.7-evil'"]
    assert problems({"version": "\u0661.5.7"}, call) == ["version must be a version such as 1.5.7, got '\u0661.5.7'"]


def test_token_refuses_a_trailing_newline_and_never_quotes_a_secret():
    assert problems({"token": "abc.atlasv1.Qw7Rt5Yu\n"}, ("token", ("token",), {}), secret=["token"]) == [
        "token must not contain a newline or another control character"]
    assert problems({"token": "abc def"}, ("token", ("token",), {}), secret=["token"]) == [
        "token must not contain white space"]
    found = problems({"token": "Qw7Rt5Yu"}, ("token", ("token",), {"pattern": "[0-9]+", "rule": "digits"}),
                     secret=["token"])
    assert found == ["token must be digits, got (value hidden)"]


@pytest.mark.parametrize("value,allow_insecure,expected", [
    ("https://ptfe.example.com", False, []),
    ("https://ptfe.example.com:8443/", False, []),
    ("http://ptfe.example.com", True, []),
    ("http://ptfe.example.com", False, ["address must be a URL such as https://host[:port] (allowed schemes: https); "
                                        "plain http sends every secret in clear text and needs its "
                                        "allow_insecure_http option, got 'http://ptfe.example.com'"]),
    ("javascript:alert(1)", True, ["address must be a URL such as https://host[:port] (allowed schemes: https, "
                                   "http), got 'javascript:alert(1)'"]),
    ("file:///etc/passwd", False, ["address must be a URL such as https://host[:port] (allowed schemes: https), "
                                   "got 'file:///etc/passwd'"]),
    ("https://ptfe.example.com/admin", False, ["address must be the address of the server only, without a path, "
                                               "query or fragment, got 'https://ptfe.example.com/admin'"]),
    ("https://ptfe.example.com:99999", False, ["address must be a URL such as https://host[:port], got "
                                               "'https://ptfe.example.com:99999'"]),
    ("https://ptfe.example.com\n", False, ["address must not contain a newline or another control character"]),
])
def test_url(value, allow_insecure, expected):
    assert problems({"address": value}, ("url", ("address",), {"allow_insecure": allow_insecure})) == expected


def test_url_never_prints_the_password_in_it():
    found = problems({"address": "https://admin:S3cretPass@ptfe.example.com"}, ("url", ("address",), {}))
    assert found == ["address must not hold a user name or password (user@host): pass credentials in their own "
                     "options"]
    found = problems({"address": "ftp://admin:S3cretPass@ptfe.example.com"}, ("url", ("address",), {}))
    assert "S3cretPass" not in found[0] and "ftp://***@ptfe.example.com" in found[0]


@pytest.mark.parametrize("value,expected", [
    (30, []), ("30", []), (0, ["timeout must be between 1 and 3600, got 0"]),
    (-1, ["timeout must be between 1 and 3600, got -1"]), ("ten", ["timeout must be a whole number, got 'ten'"]),
    (True, ["timeout must be a whole number, got True"]), (None, []),
])
def test_whole_in_range(value, expected):
    assert problems({"timeout": value}, ("whole", ("timeout",), {"minimum": 1, "maximum": 3600})) == expected


def test_paths_must_be_distinct_files():
    params = {"keys_file": "/srv/keys.json", "state_file": "/srv/./keys.json", "archive": "/srv/other"}
    assert problems(params, ("distinct_paths", ("keys_file", "state_file", "archive"), {})) == [
        "keys_file and state_file must name different files, both are /srv/./keys.json"]


@pytest.mark.parametrize("value,expected", [
    ("/data/vault-unseal-key", []), ("relative/key", ["path must be an absolute path, got 'relative/key'"]),
    ("/data/", ["path must name a file, without a trailing '/' and without '.' or '..' parts, got '/data/'"]),
    ("/data/../etc/shadow", ["path must name a file, without a trailing '/' and without '.' or '..' parts, got "
                             "'/data/../etc/shadow'"]),
    ("/data/key\n", ["path must not contain a newline or another control character"]),
])
def test_path(value, expected):
    assert problems({"path": value}, ("path", ("path",), {})) == expected


def test_required_one_of_and_unique():
    assert problems({}, ("required", ("url",), {"why": "it is the Vault API"})) == [
        "url must be set: it is the Vault API"]
    assert problems({"method": "ftp"}, ("one_of", ("method",), {"choices": ["api", "host"]})) == [
        "method must be one of api, host, got 'ftp'"]
    assert problems({"keys": ["a", "b", "a "]}, ("unique", ("keys",), {"what": "share"}), secret=["keys"]) == [
        "keys must not hold the same share twice: (values hidden)"]
