# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_results
short_description: The preflight role's checks as PASS/FAIL rows
version_added: 0.2.0
description:
  - Takes what the preflight role read from a host (listening ports, the results of its TCP connects, HTTP(S)
    requests, open-file limits and C(df) runs) and returns one row per check, in the order of the table the role
    prints, each with what was expected, what was found, whether it passed and what to do when it did not.
  - A check loop that could not run at all (its registered result failed and has no C(results)) becomes one
    failed row for that check, so that nothing goes unreported.
positional: _input
options:
  _input:
    description: The inbound ports to check (C(preflight_ports)), each C({port, state[, name]}).
    type: list
    elements: dict
    required: true
  listen:
    description: The listening TCP sockets, C(ansible_facts.tcp_listen) of M(community.general.listen_ports_facts).
    type: list
    elements: dict
    default: []
  tcp:
    description: The registered result of the M(ansible.builtin.wait_for) loop over the TCP endpoints.
    type: dict
    default: {}
  http:
    description: The registered result of the M(ansible.builtin.uri) loop over the HTTP(S) endpoints.
    type: dict
    default: {}
  limits:
    description: The text of C(/proc/self/limits) of the session Ansible runs in.
    type: str
    default: ""
  users:
    description: The registered result of the loop that prints C(ulimit -Sn; ulimit -Hn) in each user's login shell.
    type: dict
    default: {}
  df:
    description: The registered result of the C(df -P -k) loop over the disk paths; each item is C({path, min_free_gib}).
    type: dict
    default: {}
  nofile_soft_min:
    description: Minimum soft open-file limit.
    type: int
    default: 0
  nofile_hard_min:
    description: Minimum hard open-file limit.
    type: int
    default: 0
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Collect the results
  ansible.builtin.set_fact:
    preflight_results: >-
      {{ preflight_ports | ptfe.ops.preflight_results(
           listen=ansible_facts.tcp_listen | default([]), tcp=preflight_tcp, http=preflight_http,
           limits=preflight_limits_self.content | b64decode, users=preflight_limits_users, df=preflight_df,
           nofile_soft_min=preflight_nofile_soft_min, nofile_hard_min=preflight_nofile_hard_min) }}
"""

RETURN = r"""
_value:
  description: One row per check.
  type: list
  elements: dict
  contains:
    check:
      description: The kind of check, such as C(inbound port), C(outbound tcp), C(outbound http), C(nofile soft),
        C(nofile hard) or C(disk free).
      type: str
    target:
      description: What was checked, such as C(443/tcp HTTPS for users) or C(/var/lib/docker (on /)).
      type: str
    expected:
      description: What passes.
      type: str
    actual:
      description: What was found.
      type: str
    ok:
      description: Whether the check passed.
      type: bool
    fix:
      description: What to do when the check failed.
      type: str
"""

import re

from ansible.errors import AnsibleFilterError

UNLIMITED = 9223372036854775807
LIMITS = re.compile(r"Max open files[ \t]+([^ \t]+)[ \t]+([^ \t]+)")
KIB_PER_GIB = 1048576


def _failed(result):
    return bool(result.get("failed"))


def _whole(value):
    """The value as an integer; 0 when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _row(check, target, expected, actual, ok, fix):
    return {"check": check, "target": target, "expected": expected, "actual": actual, "ok": ok, "fix": fix}


def _port_rows(ports, listen):
    rows = []
    for entry in ports:
        port = _whole(entry.get("port"))
        holders = [socket for socket in listen if _whole(socket.get("port")) == port]
        who = ", ".join(dict.fromkeys(socket.get("name") or "unknown" for socket in holders))
        name = entry.get("name") or ""
        rows.append(_row(
            "inbound port",
            "%d/tcp%s" % (port, " " + name if name else ""),
            entry.get("state"),
            "listening (%s)" % who if holders else "free",
            bool(holders) == (entry.get("state") == "listening"),
            "stop or move %s, which holds port %d" % (who, port) if entry.get("state") == "free"
            else "start the service that must answer on port %d" % port,
        ))
    return rows


def _not_run_rows(loops):
    return [_row(check, "all", "checked", "not checked: %s" % result.get("msg", ""), False,
                 "correct the variables for this check")
            for result, check in loops if "results" not in result and _failed(result)]


def _tcp_rows(tcp):
    rows = []
    for result in tcp.get("results", []):
        item = result["item"]
        address = "%s:%s" % (item["host"], item["port"])
        rows.append(_row(
            "outbound tcp",
            "%s %s" % (item["name"], address),
            "connects",
            result.get("msg", "failed") if _failed(result) else "connected",
            not _failed(result),
            "allow outbound TCP from this host to %s (firewall, security group, proxy, DNS)" % address,
        ))
    return rows


def _http_error(result):
    """The reason a request got no answer, without the wrapping of the uri module and of urllib."""
    reason = re.sub(r"^.*Request failed: ", "", result.get("msg") or "no answer")
    return re.sub(r"^<\w+ error (.*)>$", r"\1", reason)


def _http_rows(http):
    rows = []
    for result in http.get("results", []):
        item = result["item"]
        status = _whole(result.get("status", -1))
        codes = [_whole(code) for code in item.get("status_codes") or []]
        rows.append(_row(
            "outbound http",
            "%s %s" % (item["name"], item["url"]),
            "HTTP %s" % "/".join(str(code) for code in codes) if codes else "an HTTP answer",
            "HTTP %d" % status if status > 0 else _http_error(result),
            status > 0 and (not codes or status in codes),
            "check that %s is the right URL: it answered HTTP %d" % (item["url"], status) if status > 0
            else "allow outbound HTTP(S) from this host to %s (firewall, security group, proxy, DNS, CA trust)"
            % item["url"],
        ))
    return rows


def _sessions(limits, users):
    """The open-file limits of this session and of each user's login shell."""
    found = LIMITS.search(limits or "")
    soft, hard = found.groups() if found else ("0", "0")
    sessions = [{"who": "this session", "soft": soft, "hard": hard, "read": True, "error": ""}]
    for result in users.get("results", []):
        words = (result.get("stdout") or "").split()
        read = not _failed(result) and len(words) == 2
        sessions.append({
            "who": "login shell of %s" % result["item"],
            "soft": words[0] if read else "0",
            "hard": words[1] if read else "0",
            "read": read,
            "error": (result.get("stderr") or result.get("msg") or "").strip(),
        })
    return sessions


def _nofile_rows(limits, users, soft_min, hard_min):
    rows = []
    for session in _sessions(limits, users):
        for kind, minimum in (("soft", soft_min), ("hard", hard_min)):
            value = session[kind]
            number = UNLIMITED if value == "unlimited" else _whole(value)
            rows.append(_row(
                "nofile " + kind,
                session["who"],
                ">= %d" % minimum,
                value if session["read"] else "not read: %s" % session["error"],
                session["read"] and number >= minimum,
                "raise the %s open-file limit of %s to at least %d (role ptfe.ops.ulimits)" % (kind, session["who"], minimum),
            ))
    return rows


def _disk_rows(df):
    rows = []
    for result in df.get("results", []):
        item = result["item"]
        lines = result.get("stdout_lines") or []
        fields = lines[-1].split() if len(lines) > 1 else []
        free_gib = _whole(fields[3]) / KIB_PER_GIB if len(fields) > 3 else 0.0
        mount = fields[-1] if fields else "?"
        path, minimum = item["path"], item["min_free_gib"]
        rows.append(_row(
            "disk free",
            path + (" (on %s)" % mount if mount != path else ""),
            ">= %s GiB" % minimum,
            "%.1f GiB" % free_gib,
            free_gib >= float(minimum),
            "free or add space on %s for %s: %s GiB needed, %.1f GiB free" % (mount, path, minimum, free_gib),
        ))
    return rows


def preflight_results(ports, listen=None, tcp=None, http=None, limits="", users=None, df=None,
                      nofile_soft_min=0, nofile_hard_min=0):
    listen = [] if listen is None else listen
    tcp, http, users, df = ({} if value is None else value for value in (tcp, http, users, df))
    if not isinstance(ports, (list, tuple)) or not all(isinstance(entry, dict) for entry in ports):
        raise AnsibleFilterError("preflight_results expects the list of inbound ports (preflight_ports)")
    for name, value in (("tcp", tcp), ("http", http), ("users", users), ("df", df)):
        if not isinstance(value, dict):
            raise AnsibleFilterError("preflight_results: %s must be a registered loop result, got %s"
                                     % (name, type(value).__name__))
    return (_port_rows(ports, listen)
            + _not_run_rows(((tcp, "outbound tcp"), (users, "nofile"), (df, "disk free")))
            + _tcp_rows(tcp) + _http_rows(http)
            + _nofile_rows(limits, users, _whole(nofile_soft_min), _whole(nofile_hard_min))
            + _disk_rows(df))


class FilterModule:
    """The rows of the preflight table."""

    def filters(self):
        return {"preflight_results": preflight_results}
