"""The preflight_results filter: what the preflight role read from a host, as PASS/FAIL rows."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.preflight_results import FilterModule, preflight_results

LIMITS = """Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
"""
SKIPPED_LOOP = {"changed": False, "msg": "All items skipped", "results": [], "skipped": True}


def rows(ports=(), **kwargs):
    kwargs.setdefault("limits", LIMITS)
    return preflight_results(list(ports), **kwargs)


def by_check(result, check):
    return [row for row in result if row["check"] == check]


# Inbound ports

def test_a_free_port_that_must_be_free_passes():
    (row,) = by_check(rows([{"port": 443, "state": "free", "name": "HTTPS for users"}],
                           listen=[{"port": 22, "name": "sshd"}]), "inbound port")
    assert row == {"check": "inbound port", "target": "443/tcp HTTPS for users", "expected": "free", "actual": "free",
                   "ok": True, "fix": "stop or move , which holds port 443"}


def test_a_held_port_that_must_be_free_fails_naming_each_holder_once():
    listen = [{"port": 8080, "name": "java", "address": "0.0.0.0"}, {"port": 8080, "name": "java", "address": "::"},
              {"port": 8080, "name": ""}, {"port": 80, "name": "nginx"}]
    (row,) = by_check(rows([{"port": "8080", "state": "free"}], listen=listen), "inbound port")
    assert (row["target"], row["actual"], row["ok"]) == ("8080/tcp", "listening (java, unknown)", False)
    assert row["fix"] == "stop or move java, unknown, which holds port 8080"


def test_a_port_that_must_listen():
    ports = [{"port": 22, "state": "listening", "name": "SSH"}, {"port": 8800, "state": "listening"}]
    served, missing = by_check(rows(ports, listen=[{"port": 22, "name": "sshd"}]), "inbound port")
    assert (served["actual"], served["ok"]) == ("listening (sshd)", True)
    assert (missing["actual"], missing["ok"]) == ("free", False)
    assert missing["fix"] == "start the service that must answer on port 8800"


# Outbound TCP and HTTP

def tcp_result(name, host, port, failed=False, msg=None):
    result = {"item": {"name": name, "host": host, "port": port, "url": "", "timeout": 5}, "failed": failed}
    if msg is not None:
        result["msg"] = msg
    return result


def test_tcp_connects_and_timeouts():
    tcp = {"results": [tcp_result("SMTP", "127.0.0.1", 2525, msg=""),
                       tcp_result("closed", "127.0.0.1", 1, True, "Timeout when waiting for 127.0.0.1:1")]}
    good, bad = by_check(rows(tcp=tcp), "outbound tcp")
    assert good == {"check": "outbound tcp", "target": "SMTP 127.0.0.1:2525", "expected": "connects",
                    "actual": "connected", "ok": True,
                    "fix": "allow outbound TCP from this host to 127.0.0.1:2525 (firewall, security group, proxy, DNS)"}
    assert (bad["actual"], bad["ok"]) == ("Timeout when waiting for 127.0.0.1:1", False)


def test_a_failed_connect_without_a_message_says_failed():
    (row,) = by_check(rows(tcp={"results": [tcp_result("x", "h", 1, True)]}), "outbound tcp")
    assert row["actual"] == "failed"


def http_result(url, status=None, msg=None, codes=()):
    result = {"item": {"name": "mirror", "url": url, "status_codes": list(codes)}}
    if status is not None:
        result["status"] = status
    if msg is not None:
        result["msg"] = msg
    return result


def test_any_http_answer_passes_without_status_codes():
    (row,) = by_check(rows(http={"results": [http_result("http://m/", 302)]}), "outbound http")
    assert (row["expected"], row["actual"], row["ok"]) == ("an HTTP answer", "HTTP 302", True)


def test_status_codes_narrow_what_passes():
    http = {"results": [http_result("http://m/", 200, codes=[200, 204]), http_result("http://n/", 404, codes=["200"])]}
    good, bad = by_check(rows(http=http), "outbound http")
    assert (good["expected"], good["ok"]) == ("HTTP 200/204", True)
    assert (bad["expected"], bad["actual"], bad["ok"]) == ("HTTP 200", "HTTP 404", False)
    assert bad["fix"] == "check that http://n/ is the right URL: it answered HTTP 404"


@pytest.mark.parametrize("msg,actual", [
    ("Status code was -1 and not [200]: Request failed: <urlopen error [Errno 111] Connection refused>",
     "[Errno 111] Connection refused"),
    ("Status code was -1 and not [200]: Request failed: timed out", "timed out"),
    ("", "no answer"),
    (None, "no answer"),
])
def test_no_answer_is_reported_without_the_wrapping(msg, actual):
    (row,) = by_check(rows(http={"results": [http_result("https://m/", -1, msg)]}), "outbound http")
    assert (row["actual"], row["ok"]) == (actual, False)
    assert row["fix"] == ("allow outbound HTTP(S) from this host to https://m/ "
                          "(firewall, security group, proxy, DNS, CA trust)")


def test_a_result_without_a_status_is_no_answer():
    (row,) = by_check(rows(http={"results": [http_result("https://m/", msg="boom")]}), "outbound http")
    assert (row["actual"], row["ok"]) == ("boom", False)


# Open-file limits

def test_limits_of_this_session_against_the_minimums():
    soft, hard = by_check(rows(nofile_soft_min=1024, nofile_hard_min=524289), "nofile soft") + \
        by_check(rows(nofile_soft_min=1024, nofile_hard_min=524289), "nofile hard")
    assert soft == {"check": "nofile soft", "target": "this session", "expected": ">= 1024", "actual": "1024",
                    "ok": True, "fix": "raise the soft open-file limit of this session to at least 1024 (role ptfe.ops.ulimits)"}
    assert (hard["expected"], hard["actual"], hard["ok"]) == (">= 524289", "524288", False)


def test_unlimited_meets_any_minimum():
    limits = "Max open files            unlimited            unlimited            files\n"
    result = rows(limits=limits, nofile_soft_min="9223372036854775807", nofile_hard_min=1)
    assert [row["ok"] for row in result] == [True, True]


def test_unreadable_limits_count_as_zero():
    result = rows(limits="", nofile_soft_min=0, nofile_hard_min=1)
    assert [(row["actual"], row["ok"]) for row in result] == [("0", True), ("0", False)]


def test_login_shells_of_users():
    users = {"results": [
        {"item": "ptfe", "stdout": "65536\n65536", "failed": False},
        {"item": "ghost", "stdout": "", "stderr": "su: user ghost does not exist\n", "failed": True},
        {"item": "odd", "stdout": "1024", "msg": "non-zero return code", "failed": False},
    ]}
    result = [row for row in rows(users=users, nofile_soft_min=4096, nofile_hard_min=4096)
              if row["target"] != "this session"]
    assert [(row["check"], row["target"], row["actual"], row["ok"]) for row in result] == [
        ("nofile soft", "login shell of ptfe", "65536", True),
        ("nofile hard", "login shell of ptfe", "65536", True),
        ("nofile soft", "login shell of ghost", "not read: su: user ghost does not exist", False),
        ("nofile hard", "login shell of ghost", "not read: su: user ghost does not exist", False),
        ("nofile soft", "login shell of odd", "not read: non-zero return code", False),
        ("nofile hard", "login shell of odd", "not read: non-zero return code", False),
    ]


# Disk

def df_result(path, minimum, stdout_lines):
    return {"item": {"path": path, "min_free_gib": minimum}, "stdout_lines": stdout_lines}


DF_HEADER = "Filesystem     1024-blocks     Used Available Capacity Mounted on"


def test_free_space_on_the_path_or_its_mount():
    df = {"results": [
        df_result("/", 10, [DF_HEADER, "overlay 102400000 22400000 80117760 22% /"]),
        df_result("/var/lib/docker", 1000000000, [DF_HEADER, "overlay 102400000 22400000 80117760 22% /"]),
    ]}
    root, docker = by_check(rows(df=df), "disk free")
    assert root == {"check": "disk free", "target": "/", "expected": ">= 10 GiB", "actual": "76.4 GiB", "ok": True,
                    "fix": "free or add space on / for /: 10 GiB needed, 76.4 GiB free"}
    assert (docker["target"], docker["expected"], docker["ok"]) == (
        "/var/lib/docker (on /)", ">= 1000000000 GiB", False)


def test_exactly_the_minimum_passes():
    df = {"results": [df_result("/data", 1, [DF_HEADER, "/dev/sdb 2097152 1048576 1048576 50% /data"])]}
    (row,) = by_check(rows(df=df), "disk free")
    assert (row["target"], row["actual"], row["ok"]) == ("/data", "1.0 GiB", True)


def test_df_output_without_a_data_line_is_zero_on_an_unknown_mount():
    (row,) = by_check(rows(df={"results": [df_result("/data", 0.01, [DF_HEADER])]}), "disk free")
    assert (row["target"], row["actual"], row["ok"]) == ("/data (on ?)", "0.0 GiB", False)


# Loops that could not run, order, errors

def test_a_loop_that_could_not_run_is_one_failed_row():
    result = rows(tcp={"failed": True, "msg": "'dict object' has no attribute 'host'"}, http=SKIPPED_LOOP,
                  users=SKIPPED_LOOP, df={"failed": False, "results": []})
    assert result[0] == {"check": "outbound tcp", "target": "all", "expected": "checked",
                         "actual": "not checked: 'dict object' has no attribute 'host'", "ok": False,
                         "fix": "correct the variables for this check"}
    assert [row["check"] for row in result] == ["outbound tcp", "nofile soft", "nofile hard"]


def test_rows_come_in_the_order_of_the_table():
    result = rows([{"port": 443, "state": "free"}], tcp={"results": [tcp_result("t", "h", 1)]},
                  http={"results": [http_result("http://m/", 200)]},
                  df={"results": [df_result("/", 0, [DF_HEADER, "x 1 1 1048576 1% /"])]})
    assert [row["check"] for row in result] == ["inbound port", "outbound tcp", "outbound http", "nofile soft",
                                                "nofile hard", "disk free"]


def test_not_a_list_of_ports_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects the list of inbound ports"):
        preflight_results({"port": 443})


def test_a_registered_result_that_is_not_a_mapping_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="df must be a registered loop result, got list"):
        preflight_results([], df=[])


def test_registered_under_its_name():
    assert FilterModule().filters()["preflight_results"] is preflight_results
