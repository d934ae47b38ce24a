# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_endpoint_defaults
short_description: The preflight endpoints with every key present
version_added: 0.2.0
description:
  - Takes the list O(_input) of the preflight role's endpoints (C(preflight_endpoints)) and returns it with every
    key present in each entry, so that the role's tasks can tell a TCP endpoint from an HTTP(S) one by
    C(url) alone.
  - Keys left out, empty or null become empty strings (C(name), C(host), C(url)), V(0) (C(port)) or an empty list
    (C(status_codes)). An endpoint's C(timeout) left out, null or V(0) becomes O(timeout). Numbers given as
    strings become integers.
  - The role checks the endpoints (P(ptfe.ops.preflight_input_problems#filter)) before it uses this list.
positional: _input, timeout
options:
  _input:
    description: Endpoints as the role takes them, C({name, host, port}) or C({name, url[, status_codes]}),
      each with an optional C(timeout).
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds, for the endpoints that have no C(timeout) of their own (C(preflight_connect_timeout)).
    type: int
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Connect to the TCP endpoints
  ansible.builtin.wait_for:
    host: "{{ item.host }}"
    port: "{{ item.port }}"
    timeout: "{{ item.timeout }}"
  loop: "{{ preflight_endpoints | ptfe.ops.preflight_endpoint_defaults(preflight_connect_timeout) | rejectattr('url') }}"
# [{'name': 'releases', 'url': 'https://releases.hashicorp.com/'}] | ptfe.ops.preflight_endpoint_defaults(5)
# => [{'name': 'releases', 'host': '', 'port': 0, 'url': 'https://releases.hashicorp.com/', 'status_codes': [],
#      'timeout': 5}]
"""

RETURN = r"""
_value:
  description: The endpoints in the order given, each with the keys C(name), C(host), C(port), C(url),
    C(status_codes) and C(timeout).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def _integer(value, what):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError("preflight_endpoint_defaults: %s is not a whole number: %r" % (what, value)) from None


def preflight_endpoint_defaults(endpoints, timeout):
    if not isinstance(endpoints, (list, tuple)):
        raise AnsibleFilterError("preflight_endpoint_defaults expects a list of endpoints, got %s"
                                 % type(endpoints).__name__)
    fallback = _integer(timeout, "timeout")
    filled = []
    for endpoint in endpoints:
        if not isinstance(endpoint, dict):
            raise AnsibleFilterError("preflight_endpoint_defaults expects each endpoint as a mapping, got %s"
                                     % type(endpoint).__name__)
        filled.append({
            "name": endpoint.get("name") or "",
            "host": endpoint.get("host") or "",
            "port": _integer(endpoint.get("port") or 0, "port"),
            "url": endpoint.get("url") or "",
            "status_codes": [_integer(code, "status code") for code in endpoint.get("status_codes") or []],
            "timeout": _integer(endpoint.get("timeout") or 0, "timeout") or fallback,
        })
    return filled


class FilterModule:
    """Complete the preflight endpoints."""

    def filters(self):
        return {"preflight_endpoint_defaults": preflight_endpoint_defaults}
