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
    cannot express, each naming the variable. Empty when there is none.
  - The argument spec checks types, required keys and choices first; this filter checks ranges and shapes
    (ports 1-65535, an endpoint with either a URL or a host and port, absolute disk paths, user names, ...).
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
# => ['preflight_ports: port 0 is outside 1-65535.', 'preflight_connect_timeout (0) must be 1 second or more.']
"""

RETURN = r"""
_value:
  description: One sentence per problem, in the order of the variables above.
  type: list
  elements: str
"""

import json
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._validation import decimal, whole

VARIABLES = ("preflight_ports", "preflight_endpoints", "preflight_connect_timeout", "preflight_nofile_soft_min",
             "preflight_nofile_hard_min", "preflight_nofile_users", "preflight_disk")
USER_NAME = re.compile(r"[a-z_][a-z0-9_.-]*[$]?")
URL = re.compile(r"https?://[^/\s]+(/\S*)?")
HOST = re.compile(r"[^ /:]+|[0-9A-Fa-f:.]+")


def _port_ok(value):
    port = whole(value)
    return port is not None and 1 <= port <= 65535


def _port_errors(ports):
    return ["preflight_ports: port %s is outside 1-65535." % entry.get("port")
            for entry in ports if not _port_ok(entry.get("port"))]


def _endpoint_ok(endpoint):
    name, host, url = (endpoint.get(key) or "" for key in ("name", "host", "url"))
    port = endpoint.get("port") or 0
    timeout = whole(endpoint.get("timeout") or 0)
    if not name or timeout is None or timeout < 0:
        return False
    if url:
        return bool(URL.fullmatch(url)) and not host and whole(port) == 0
    return bool(HOST.fullmatch(host)) and _port_ok(port)


def _endpoint_errors(endpoints):
    errors = []
    for endpoint in endpoints:
        if _endpoint_ok(endpoint):
            continue
        given = {key: value for key, value in endpoint.items() if value}
        errors.append(
            "preflight_endpoints: %s needs a name and either url (http:// or https://) or host and port (1-65535), "
            "and no negative timeout; got %s." % (endpoint.get("name") or "(no name)", json.dumps(given)))
    return errors


def _limit_errors(settings):
    errors = []
    timeout = whole(settings["preflight_connect_timeout"])
    if timeout is None or timeout < 1:
        errors.append("preflight_connect_timeout (%s) must be 1 second or more." % settings["preflight_connect_timeout"])
    soft, hard = whole(settings["preflight_nofile_soft_min"]), whole(settings["preflight_nofile_hard_min"])
    if soft is None or soft < 0:
        errors.append("preflight_nofile_soft_min (%s) must be 0 or more." % settings["preflight_nofile_soft_min"])
    elif hard is None or hard < soft:
        errors.append("preflight_nofile_hard_min (%s) must be at least preflight_nofile_soft_min (%s)."
                      % (settings["preflight_nofile_hard_min"], settings["preflight_nofile_soft_min"]))
    users = [str(user) for user in settings["preflight_nofile_users"] if not USER_NAME.fullmatch(str(user))]
    if users:
        errors.append("preflight_nofile_users: not a user name: %s." % ", ".join(users))
    return errors


def _disk_errors(disk):
    errors = []
    for entry in disk:
        path = str(entry.get("path") or "")
        if not path.startswith("/") or "/../" in path + "/" or "/./" in path + "/":
            errors.append("preflight_disk: path '%s' must be absolute, without . or .. parts." % path)
        minimum = decimal(entry.get("min_free_gib"))
        if minimum is None or minimum < 0:
            errors.append("preflight_disk: min_free_gib of '%s' must be 0 or more (got %s)."
                          % (path, entry.get("min_free_gib")))
    return errors


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
    return (_port_errors(settings["preflight_ports"]) + _endpoint_errors(settings["preflight_endpoints"])
            + _limit_errors(settings) + _disk_errors(settings["preflight_disk"]))


class FilterModule:
    """Check the preflight role's variables."""

    def filters(self):
        return {"preflight_input_problems": preflight_input_problems}
