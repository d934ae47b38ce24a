"""The preflight_endpoint_defaults filter: every endpoint with every key, and its timeout resolved."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.preflight_endpoint_defaults import (
    FilterModule, preflight_endpoint_defaults)


def test_an_http_endpoint_gets_the_tcp_keys_empty_and_the_default_timeout():
    assert preflight_endpoint_defaults([{"name": "releases", "url": "https://releases.hashicorp.com/"}], 5) == [
        {"name": "releases", "host": "", "port": 0, "url": "https://releases.hashicorp.com/", "status_codes": [],
         "timeout": 5}]


def test_a_tcp_endpoint_keeps_its_own_timeout_and_numbers_become_integers():
    got = preflight_endpoint_defaults([{"name": "smtp", "host": "smtp.example", "port": "587", "timeout": "2"}], "5")
    assert got == [{"name": "smtp", "host": "smtp.example", "port": 587, "url": "", "status_codes": [], "timeout": 2}]


@pytest.mark.parametrize("timeout", [None, 0])
def test_a_null_or_zero_timeout_is_the_default(timeout):
    assert preflight_endpoint_defaults([{"name": "s3", "host": "s3", "port": 443, "timeout": timeout}], 7)[0]["timeout"] == 7


def test_status_codes_become_integers_in_order():
    got = preflight_endpoint_defaults([{"name": "m", "url": "http://m/", "status_codes": ["200", 301]}], 5)
    assert got[0]["status_codes"] == [200, 301]


def test_order_is_kept():
    names = [e["name"] for e in preflight_endpoint_defaults([{"name": "b"}, {"name": "a"}, {"name": "c"}], 5)]
    assert names == ["b", "a", "c"]


def test_a_port_that_is_no_number_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="port is not a whole number: 'https'"):
        preflight_endpoint_defaults([{"name": "x", "host": "h", "port": "https"}], 5)


def test_registered_under_its_name():
    assert FilterModule().filters()["preflight_endpoint_defaults"] is preflight_endpoint_defaults
