# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_input_problems
short_description: What is wrong with the preflight role's variables, beyond their types
version_added: 0.2.0
description:
  - Takes the preflight role's variables and returns one sentence per problem that the role's argument spec
    cannot express, each naming the variable, the entry (C(preflight_endpoints[2].port)) and the one rule it
    breaks. Empty when there is none.
  - The argument spec checks types, required keys and choices first; this filter checks ranges and shapes. Ports
    are whole numbers from 1 to 65535, each listed once. An endpoint has either a URL (C(http://) or C(https://),
    without a user name or password) or a host name or address and a port, a timeout from 0 to 3600 seconds and
    status codes from 100 to 599. Timeouts and open-file minimums are in range, the hard minimum at least the soft
    one. Users are user names. Disk paths are absolute, without C(.) or C(..) parts, and the free space wanted is
    0 or more. Names and paths hold no newline or other control character.
options:
  _input:
    description:
      - Mapping of variable name to value, with the keys C(preflight_ports), C(preflight_endpoints),
        C(preflight_connect_timeout), C(preflight_nofile_soft_min), C(preflight_nofile_hard_min),
        C(preflight_nofile_users) and C(preflight_disk).
    type: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Check the preflight variables
  ansible.builtin.assert:
    that: preflight_input_problems | length == 0
    fail_msg: "{{ preflight_input_problems | join(' ') }}"
  vars:
    preflight_input_problems: "{{ preflight_settings | ptfe.ops.preflight_input_problems }}"
    preflight_settings:
      preflight_ports: "{{ preflight_ports }}"
      preflight_endpoints: "{{ preflight_endpoints }}"
      preflight_connect_timeout: "{{ preflight_connect_timeout }}"
      preflight_nofile_soft_min: "{{ preflight_nofile_soft_min }}"
      preflight_nofile_hard_min: "{{ preflight_nofile_hard_min }}"
      preflight_nofile_users: "{{ preflight_nofile_users }}"
      preflight_disk: "{{ preflight_disk }}"
# With preflight_ports [{port: 0, state: free}] and preflight_connect_timeout 0:
# => ['preflight_ports[0].port must be between 1 and 65535, got 0.',
#     'preflight_connect_timeout must be between 1 and 3600, got 0.']
"""

RETURN = r"""
_value:
  description: One sentence per problem, in the order of the variables above.
  type: list
  elements: str
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, has_control, whole

VARIABLES = ("preflight_ports", "preflight_endpoints", "preflight_connect_timeout", "preflight_nofile_soft_min",
             "preflight_nofile_hard_min", "preflight_nofile_users", "preflight_disk")
USER_NAME = re.compile(r"[a-z_][a-z0-9_.-]*[$]?")
HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")
MAX_TIMEOUT = 3600
#: The largest open-file limit Linux can grant (the ceiling of fs.nr_open).
MAX_NOFILE = 1073741816


def _entries(settings, name):
    """Each entry of the list ``name`` as (its name in messages, a Checker over its keys named that way)."""
    for index, entry in enumerate(settings[name]):
        prefix = "%s[%d]." % (name, index)
        yield prefix[:-1], Checker({prefix + key: value for key, value in entry.items()}), prefix


def _port_errors(ports):
    problems, seen = [], {}
    for entry, check, prefix in _entries({"preflight_ports": ports}, "preflight_ports"):
        port = check.whole(prefix + "port", minimum=1, maximum=65535)
        check.text(prefix + "name")
        if port is not None and port in seen:
            check.add("%s.port %d is already listed at %s" % (entry, port, seen[port]))
        seen.setdefault(port, entry)
        problems.extend(check.problems)
    return problems


def _host_ok(host):
    if HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _endpoint_errors(endpoints):
    problems = []
    for entry, check, prefix in _entries({"preflight_endpoints": endpoints}, "preflight_endpoints"):
        if check.required(prefix + "name", "it names the endpoint in the table"):
            check.text(prefix + "name")
        url, host = check.value(prefix + "url"), check.value(prefix + "host")
        port = check.params.get(prefix + "port")
        if url is not None and (host is not None or port not in (None, 0)):
            check.add("%s has a url, so it takes no host or port (a url is requested, a host and port are "
                      "connected to)" % entry)
        elif url is not None:
            check.url(prefix + "url", schemes=("https", "http"), path=True)
        elif host is None:
            check.add("%s needs either a url, or a host and a port" % entry)
        else:
            if check.token(prefix + "host") is not None and not _host_ok(host):
                check.add("%shost must be a host name or an IP address, got %s" % (prefix, check.shown("", host)))
            if port in (None, 0):
                check.add("%s has a host, so it needs a port" % entry)
            else:
                check.whole(prefix + "port", minimum=1, maximum=65535)
        check.whole(prefix + "timeout", minimum=0, maximum=MAX_TIMEOUT)
        codes = check.params.get(prefix + "status_codes") or []
        for index, code in enumerate(codes if isinstance(codes, list) else [codes]):
            number = whole(code)
            if number is None or not 100 <= number <= 599:
                check.add("%sstatus_codes[%d] must be an HTTP status code from 100 to 599, got %s"
                          % (prefix, index, check.shown("", code)))
        problems.extend(check.problems)
    return problems


def _limit_errors(settings):
    check = Checker(settings)
    if check.params.get("preflight_connect_timeout") is None:
        check.add("preflight_connect_timeout must be set")
    check.whole("preflight_connect_timeout", minimum=1, maximum=MAX_TIMEOUT)
    soft = check.whole("preflight_nofile_soft_min", minimum=0, maximum=MAX_NOFILE)
    hard = check.whole("preflight_nofile_hard_min", minimum=0, maximum=MAX_NOFILE)
    if soft is not None and hard is not None and hard < soft:
        check.add("preflight_nofile_hard_min (%d) must be at least preflight_nofile_soft_min (%d)" % (hard, soft))
    for index, user in enumerate(settings["preflight_nofile_users"]):
        if not isinstance(user, str) or not USER_NAME.fullmatch(user):
            check.add("preflight_nofile_users[%d] must be a user name (lowercase letters, digits, '_', '-' and '.'), "
                      "got %s" % (index, check.shown("", user)))
    return check.problems


def _disk_errors(disk):
    problems = []
    for _entry, check, prefix in _entries({"preflight_disk": disk}, "preflight_disk"):
        path = check.params.get(prefix + "path")
        parts = path.split("/") if isinstance(path, str) else []
        if not isinstance(path, str) or not path.startswith("/") or has_control(path) or "." in parts or ".." in parts:
            check.add("%spath must be an absolute path without '.' or '..' parts and without a newline or another "
                      "control character, got %s" % (prefix, check.shown("", path)))
        check.decimal(prefix + "min_free_gib", minimum=0)
        problems.extend(check.problems)
    return problems


def preflight_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("preflight_input_problems expects a mapping of variable name to value, got %s"
                                 % type(settings).__name__)
    missing = [name for name in VARIABLES if name not in settings]
    if missing:
        raise AnsibleFilterError("preflight_input_problems: missing %s" % ", ".join(missing))
    for name in ("preflight_ports", "preflight_endpoints", "preflight_disk"):
        if not all(isinstance(entry, dict) for entry in settings[name]):
            raise AnsibleFilterError("preflight_input_problems: %s must be a list of mappings" % name)
    problems = (_port_errors(settings["preflight_ports"]) + _endpoint_errors(settings["preflight_endpoints"])
                + _limit_errors(settings) + _disk_errors(settings["preflight_disk"]))
    return [problem.rstrip(".") + "." for problem in problems]


class FilterModule:
    """Check the preflight role's variables."""

    def filters(self):
        return {"preflight_input_problems": preflight_input_problems}
