# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: tfe_fdo_database_address
short_description: The host and port Terraform Enterprise connects to for its database
version_added: 0.2.0
description:
  - Splits C(TFE_DATABASE_HOST) (the P(ptfe.ops.tfe_fdo#role) role's O(ptfe.ops.tfe_fdo#role:main:tfe_fdo_database_host))
    into the host and the port Terraform Enterprise connects to, so that the role can try the connection before it
    writes anything.
  - Takes C(host), C(host:port), an IPv6 address alone or C([address]:port). The port is 5432 when none is given.
positional: _input
options:
  _input:
    description: The value of C(TFE_DATABASE_HOST).
    type: str
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Reach the external database from the host
  ansible.builtin.wait_for:
    host: "{{ (tfe_fdo_database_host | ptfe.ops.tfe_fdo_database_address).host }}"
    port: "{{ (tfe_fdo_database_host | ptfe.ops.tfe_fdo_database_address).port }}"
    timeout: 5
"""

RETURN = r"""
_value:
  description: C({host, port}); C(host) without brackets.
  type: dict
  contains:
    host:
      description: The name or address.
      type: str
    port:
      description: The port, 5432 when none is given.
      type: int
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError

DEFAULT_PORT = 5432
BRACKETED = re.compile(r"\[(?P<host>[^\]]+)\](?::(?P<port>[0-9]{1,5}))?")
HOST_PORT = re.compile(r"(?P<host>[^:\[\]]+)(?::(?P<port>[0-9]{1,5}))?")


def _ipv6(text):
    try:
        return ipaddress.IPv6Address(text) is not None
    except ValueError:
        return False


def tfe_fdo_database_address(value):
    if not isinstance(value, str) or not value.strip():
        raise AnsibleFilterError("tfe_fdo_database_address expects TFE_DATABASE_HOST as a non-empty string")
    value = value.strip()
    if _ipv6(value):
        return {"host": value, "port": DEFAULT_PORT}
    match = BRACKETED.fullmatch(value) or HOST_PORT.fullmatch(value)
    if match is None or (value.startswith("[") and not _ipv6(match.group("host"))):
        raise AnsibleFilterError("tfe_fdo_database_host: %r is not a host, host:port or [IPv6 address]:port" % value)
    port = int(match.group("port") or DEFAULT_PORT)
    if not 1 <= port <= 65535:
        raise AnsibleFilterError("tfe_fdo_database_host: port %d is not 1 to 65535" % port)
    return {"host": match.group("host"), "port": port}


class FilterModule:
    """tfe_fdo_database_address."""

    def filters(self):
        return {"tfe_fdo_database_address": tfe_fdo_database_address}
