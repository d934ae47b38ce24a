# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: tfe_fdo_input_problems
short_description: Why the settings given to the tfe_fdo role cannot install Terraform Enterprise
version_added: 0.2.0
description:
  - The first decision of the P(ptfe.ops.tfe_fdo#role) role, taken before anything is written and before any task
    whose output is hidden. Takes the role's variables and returns one sentence per problem, each naming the
    variable at fault and never quoting a secret. Empty when there is none.
  - C(tfe_fdo_hostname) is a DNS name. C(tfe_fdo_encryption_password) has at least 16 characters and
    C(tfe_fdo_license) is one line; neither holds white space. C(tfe_fdo_iact_subnets) is a list of CIDR blocks,
    none of them C(0.0.0.0/0) or C(::/0) (anyone could take the initial admin token). C(tfe_fdo_iact_time_limit)
    is 1 to 1440 minutes. C(tfe_fdo_iact_token), when set, is 16 to 256 letters, digits, C(-) and C(_). The
    ports are 1 to 65535 and different. C(tfe_fdo_admin_allowed_cidrs) names the networks the admin port opens to,
    required when C(tfe_fdo_admin_port_open) and never everyone. The TLS files are paths without C(.) or C(..)
    parts (a relative one is found as M(ansible.builtin.copy) finds it), C(tfe_fdo_config_dir) an absolute one. With
    C(tfe_fdo_operational_mode) V(external) or V(active-active) the database and object storage settings are set;
    C(tfe_fdo_database_host) is C(host), C(host:port) or C([IPv6 address]:port).
options:
  _input:
    description:
      - The tfe_fdo role's variables by name (V(tfe_fdo_hostname), V(tfe_fdo_iact_subnets), ...). A variable left
        out of the dict is not checked.
    type: dict
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Stop before anything is written when a setting is wrong
  ansible.builtin.fail:
    msg: "Invalid input: {{ problems | join('; ') }}. Nothing was changed."
  vars:
    problems: "{{ {'tfe_fdo_hostname': tfe_fdo_hostname, 'tfe_fdo_iact_subnets': tfe_fdo_iact_subnets} | ptfe.ops.tfe_fdo_input_problems }}"
  when: problems | length > 0
"""

RETURN = r"""
_value:
  description: What stands in the way of the install, a sentence per setting at fault; an empty list when nothing does.
  type: list
  elements: str
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.tfe_fdo_database_address import tfe_fdo_database_address
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, has_control

ENCRYPTION_PASSWORD_MIN = 16
#: The settings the role writes itself: tfe_fdo_extra_settings must not override them (a TFE_IACT_SUBNETS there
#: would bypass the refusal of 0.0.0.0/0).
MANAGED = frozenset((
    "TFE_ADMIN_HTTPS_PORT", "TFE_DATABASE_HOST", "TFE_DATABASE_NAME", "TFE_DATABASE_PARAMETERS", "TFE_DATABASE_PASSWORD",
    "TFE_DATABASE_USER", "TFE_ENCRYPTION_PASSWORD", "TFE_HOSTNAME", "TFE_HTTPS_PORT", "TFE_HTTP_PORT", "TFE_IACT_SUBNETS",
    "TFE_IACT_TIME_LIMIT", "TFE_IACT_TOKEN", "TFE_IACT_TRUSTED_PROXIES", "TFE_LICENSE", "TFE_OBJECT_STORAGE_S3_ACCESS_KEY_ID",
    "TFE_OBJECT_STORAGE_S3_BUCKET", "TFE_OBJECT_STORAGE_S3_ENDPOINT", "TFE_OBJECT_STORAGE_S3_REGION",
    "TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY", "TFE_OBJECT_STORAGE_TYPE", "TFE_OPERATIONAL_MODE", "TFE_REDIS_HOST",
    "TFE_TLS_CA_BUNDLE_FILE", "TFE_TLS_CERT_FILE", "TFE_TLS_KEY_FILE"))
SETTING_NAME = r"TFE_[A-Z0-9_]{1,100}"
HOSTNAME_RULE = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?([.][A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
SECRETS = ("tfe_fdo_encryption_password", "tfe_fdo_license", "tfe_fdo_iact_token", "tfe_fdo_database_password",
           "tfe_fdo_s3_secret_access_key")
PORTS = ("tfe_fdo_http_port", "tfe_fdo_https_port", "tfe_fdo_admin_https_port")
EXTERNAL = ("tfe_fdo_database_host", "tfe_fdo_database_name", "tfe_fdo_database_user", "tfe_fdo_database_password",
            "tfe_fdo_s3_bucket")


def _networks(check, name, everyone_rule):
    """The CIDR blocks of list ``name``; a block that spans every address is refused with ``everyone_rule``."""
    value = check.params.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        check.add("%s must be a list of CIDR blocks" % name)
        return []
    blocks = []
    for item in value:
        try:
            block = ipaddress.ip_network(str(item).strip(), strict=True)
        except ValueError:
            check.add("%s: %s is not a CIDR block such as 10.0.0.0/24 (host bits must be zero)" % (name, check.shown(name, item)))
            continue
        if block.prefixlen == 0:
            check.add("%s must not hold %s: %s" % (name, block, everyone_rule))
            continue
        blocks.append(str(block))
    return blocks


def tfe_fdo_input_problems(settings):
    """The problems of the tfe_fdo role's variables, one sentence each."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("tfe_fdo_input_problems expects a dict of the role's variables")
    check = Checker(settings, secret=SECRETS)
    check.text("tfe_fdo_hostname", pattern=HOSTNAME_RULE, rule="a DNS name such as tfe.example.com", max_length=253)
    password = check.token("tfe_fdo_encryption_password")
    if password is not None and len(password) < ENCRYPTION_PASSWORD_MIN:
        check.add("tfe_fdo_encryption_password must be at least %d characters, got %d"
                  % (ENCRYPTION_PASSWORD_MIN, len(password)))
    check.token("tfe_fdo_license")
    check.token("tfe_fdo_iact_token", pattern=r"[A-Za-z0-9_-]{16,256}", rule="16 to 256 letters, digits, - and _")
    _networks(check, "tfe_fdo_iact_subnets",
              "anyone who reaches the installation could take the initial admin token; name the operators' networks")
    check.whole("tfe_fdo_iact_time_limit", minimum=1, maximum=1440)
    _networks(check, "tfe_fdo_iact_trusted_proxies", "every address would be trusted to name the client")
    ports = {}
    for name in PORTS:
        number = check.whole(name, minimum=1, maximum=65535)
        if number is not None:
            if number in ports:
                check.add("%s and %s must be different ports, both are %d" % (ports[number], name, number))
            ports[number] = name
    admin = _networks(check, "tfe_fdo_admin_allowed_cidrs",
                      "the System API would be open to every address; name the operators' networks")
    if settings.get("tfe_fdo_admin_port_open") is True and not admin and not check.problems:
        check.add("tfe_fdo_admin_allowed_cidrs must name at least one network when tfe_fdo_admin_port_open is true")
    for name in ("tfe_fdo_tls_cert_file", "tfe_fdo_tls_key_file", "tfe_fdo_tls_ca_bundle_file"):
        check.path(name, absolute=False)
    check.path("tfe_fdo_config_dir")
    check.text("tfe_fdo_container_name", pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}",
               rule="a container name (letters, digits, _ . -)")
    check.token("tfe_fdo_image")
    mode = check.one_of("tfe_fdo_operational_mode", ("disk", "external", "active-active"))
    if mode in ("external", "active-active"):
        for name in EXTERNAL:
            check.required(name, "tfe_fdo_operational_mode is %s" % mode)
    if mode == "active-active":
        check.required("tfe_fdo_redis_host", "tfe_fdo_operational_mode is active-active")
    database_host = check.params.get("tfe_fdo_database_host")
    if isinstance(database_host, str) and database_host.strip():
        try:
            tfe_fdo_database_address(database_host)
        except AnsibleFilterError as exc:
            check.add(str(exc))
    # Every value lands on a line of its own in the env file (NAME=value, no quoting): a newline would add a
    # setting of its own.
    for name in sorted(settings):
        if name.startswith("tfe_fdo_") and isinstance(settings[name], str):
            check.text(name)
    _extra_settings(check)
    return list(dict.fromkeys(check.problems))  # a value refused by its own rule and by the line rule: once


def _extra_settings(check):
    extra = check.params.get("tfe_fdo_extra_settings")
    if extra is None:
        return
    if not isinstance(extra, dict):
        check.add("tfe_fdo_extra_settings must be a mapping of TFE_* setting names to values")
        return
    for name in sorted(extra, key=str):
        value = extra[name]
        if not isinstance(name, str) or not re.fullmatch(SETTING_NAME, name):
            check.add("tfe_fdo_extra_settings: %r is not a setting name such as TFE_LOG_FORWARDING_ENABLED "
                      "(TFE_ then capital letters, digits and _)" % (name,))
        elif name in MANAGED:
            check.add("tfe_fdo_extra_settings: %s is set by the role's own variable; set that instead" % name)
        elif isinstance(value, (dict, list)) or value is None:
            check.add("tfe_fdo_extra_settings.%s must be a string, a number or a boolean" % name)
        elif has_control(str(value)):
            check.add("tfe_fdo_extra_settings.%s must not contain a newline or another control character" % name)


class FilterModule(object):
    """tfe_fdo_input_problems."""

    def filters(self):
        return {"tfe_fdo_input_problems": tfe_fdo_input_problems}
