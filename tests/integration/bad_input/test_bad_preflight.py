"""The preflight role, given malformed variables: refused by name before any check runs, no secret printed
(harness.py).

The role only reads, so it runs on this machine. Every variable a case leaves alone checks nothing beyond it (no
ports, no endpoints, open-file minimums of 1, no free space wanted): a malformed value that got through would
let the play pass, or fail in a later check, never refuse the value by name. The TCP endpoints of the cases point
at a port that listens (LISTENER), so that a timeout that got through (a day) is never waited for.
"""
from __future__ import annotations

import dataclasses
import socket

import pytest

from tests.integration.bad_input.harness import Case, assert_refused, run_batch

URL_PASSWORD = "canary-mirror-password-c41a"
LISTENER = "LISTENER"  # the port of the fixture's listening socket, put in when the batch runs
QUIET = {"preflight_ports": [], "preflight_endpoints": [], "preflight_disk": [{"path": "/", "min_free_gib": 0}],
         "preflight_nofile_soft_min": 1, "preflight_nofile_hard_min": 1, "preflight_connect_timeout": 2}
CHECKS = ("Read the listening TCP ports", "Connect to the TCP endpoints", "Request the HTTP(S) endpoints",
          "Read the open-file limits", "Measure the free space")


def port(**entry):
    return {"preflight_ports": [dict({"port": 443, "state": "free"}, **entry)]}


def endpoint(**entry):
    return {"preflight_endpoints": [dict({"name": "mirror"}, **entry)]}


def disk(**entry):
    return {"preflight_disk": [dict({"path": "/", "min_free_gib": 1}, **entry)]}


CASES = [
    # inbound ports
    Case("port_zero", port(port=0), "preflight_ports[0].port must be between 1 and 65535, got 0"),
    Case("port_too_high", port(port=65536), "preflight_ports[0].port must be between 1 and 65535, got 65536"),
    Case("port_newline", port(port="443\n"), "preflight_ports[0].port must be a whole number"),
    Case("port_arabic_digits", port(port="\u0664\u0664\u0663"), "preflight_ports[0].port must be a whole number"),
    Case("port_twice", {"preflight_ports": [{"port": 443, "state": "free"}, {"port": 443, "state": "listening"}]},
         "preflight_ports[1].port 443 is already listed at preflight_ports[0]"),
    Case("port_state", port(state="open"), "preflight_ports"),
    Case("port_name_newline", port(name="HTTPS\nfor users"), "preflight_ports[0].name must not contain a newline"),
    # outbound endpoints
    Case("url_password", endpoint(url="https://ops:%s@127.0.0.1:1/" % URL_PASSWORD),
         "preflight_endpoints[0].url must not hold a user name or password"),
    Case("url_ftp", endpoint(url="ftp://127.0.0.1/"), "preflight_endpoints[0].url must be a URL such as"),
    Case("url_javascript", endpoint(url="javascript:alert(1)"), "preflight_endpoints[0].url must be a URL such as"),
    Case("url_newline", endpoint(url="https://127.0.0.1:1/\n"),
         "preflight_endpoints[0].url must not contain a newline"),
    Case("url_and_host", endpoint(url="https://127.0.0.1:1/", host="127.0.0.1", port=LISTENER),
         "preflight_endpoints[0] has a url, so it takes no host or port"),
    Case("host_newline", endpoint(host="127.0.0.1\n", port=LISTENER),
         "preflight_endpoints[0].host must not contain a newline"),
    Case("host_quote", endpoint(host='smtp".example', port=25), "preflight_endpoints[0].host must be a host name"),
    Case("host_without_port", endpoint(host="127.0.0.1"), "preflight_endpoints[0] has a host, so it needs a port"),
    Case("neither_url_nor_host", endpoint(), "preflight_endpoints[0] needs either a url, or a host and a port"),
    Case("endpoint_port_too_high", endpoint(host="127.0.0.1", port=70000),
         "preflight_endpoints[0].port must be between 1 and 65535"),
    Case("endpoint_timeout_negative", endpoint(host="127.0.0.1", port=LISTENER, timeout=-1),
         "preflight_endpoints[0].timeout must be between 0 and 3600, got -1"),
    Case("endpoint_timeout_a_day", endpoint(host="127.0.0.1", port=LISTENER, timeout=86400),
         "preflight_endpoints[0].timeout must be between 0 and 3600"),
    Case("endpoint_status_code", endpoint(url="https://127.0.0.1:1/", status_codes=[200, 999]),
         "preflight_endpoints[0].status_codes[1] must be an HTTP status code from 100 to 599"),
    Case("endpoint_without_name", {"preflight_endpoints": [{"host": "127.0.0.1", "port": LISTENER}]},
         "missing required arguments: name"),
    Case("endpoint_name_newline", endpoint(name="smtp\nrelay", host="127.0.0.1", port=LISTENER),
         "preflight_endpoints[0].name must not contain a newline"),
    # timeouts and open-file minimums
    Case("connect_timeout_zero", {"preflight_connect_timeout": 0},
         "preflight_connect_timeout must be between 1 and 3600, got 0"),
    Case("connect_timeout_a_day", {"preflight_connect_timeout": 86400},
         "preflight_connect_timeout must be between 1 and 3600"),
    Case("soft_min_negative", {"preflight_nofile_soft_min": -1}, "preflight_nofile_soft_min must be between 0 and"),
    Case("hard_min_below_soft_min", {"preflight_nofile_soft_min": 4096, "preflight_nofile_hard_min": 1024},
         "preflight_nofile_hard_min (1024) must be at least preflight_nofile_soft_min (4096)"),
    Case("hard_min_beyond_linux", {"preflight_nofile_hard_min": 2 ** 31},
         "preflight_nofile_hard_min must be between 0 and 1073741816"),
    Case("user_command", {"preflight_nofile_users": ["root; reboot"]},
         "preflight_nofile_users[0] must be a user name"),
    Case("user_newline", {"preflight_nofile_users": ["root\n"]}, "preflight_nofile_users[0] must be a user name"),
    # free space
    Case("disk_relative", disk(path="var/lib/docker"), "preflight_disk[0].path must be an absolute path"),
    Case("disk_dotdot", disk(path="/var/../etc"), "preflight_disk[0].path must be an absolute path without '.' or"),
    Case("disk_newline", disk(path="/var/lib\n"), "preflight_disk[0].path must be an absolute path"),
    Case("disk_negative", disk(min_free_gib=-1), "preflight_disk[0].min_free_gib must be at least 0, got -1"),
    Case("disk_nan", disk(min_free_gib="nan"), "preflight_disk[0].min_free_gib must be a number"),
    Case("fail_not_bool", {"preflight_fail": "sometimes"}, "preflight_fail"),
]


def _listening(value, port):
    """``value`` with every LISTENER replaced by ``port``."""
    if value == LISTENER:
        return port
    if isinstance(value, dict):
        return {key: _listening(item, port) for key, item in value.items()}
    if isinstance(value, list):
        return [_listening(item, port) for item in value]
    return value


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        cases = [dataclasses.replace(case, vars=_listening(case.vars, port)) for case in CASES]
        return run_batch("bad_input/playbooks/preflight.yml", cases, tmp_path_factory.mktemp("cases"), QUIET)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_check(batch, case):
    assert_refused(batch, case, canaries=(URL_PASSWORD,))
    assert not any(check in batch[case].task for check in CHECKS), "refused by a check: %s" % batch[case].task
