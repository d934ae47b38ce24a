# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: ulimits_problems
short_description: Why the open-file limits of the ulimits role cannot be applied on a host
version_added: 0.2.0
description:
  - The decision of the P(ptfe.ops.ulimits#role) role, taken before anything is written. Takes the role's variables
    and what the role read from the host, and returns one sentence per reason the limits cannot be applied there,
    each naming the variable at fault. Empty when nothing stands in the way.
  - The argument spec has already checked the types. This filter checks what a type cannot. Each limit must be
    at least C(ulimits_nofile_minimum), itself at least 1 however it is lowered, and the soft limit not above the
    hard one. Each domain must be one limits.conf domain (a user name, C(@group), C(*) or a uid range
    C(min:max)) without white space, C(#) or a control character, listed once, so that no domain can add a line
    of its own to the file. The drop-in name must be a C(.conf) file name. The limits file, C(daemon.json) and the
    Vault unseal key file must be absolute paths without C(.) or C(..) parts or control characters (the limits
    file ending in C(.conf), which is all pam_limits reads), and three different files. The hard limit must not be
    above the kernel's C(fs.nr_open). It must not be above the hard limit the host runs with either, unless the
    host holds C(CAP_SYS_RESOURCE). Without that capability (in a container, typically) pam_limits fails on a
    hard limit it cannot raise and then applies none of the file. C(daemon.json) must hold a JSON object.
  - A host read that is missing (V(null)) or cannot be understood skips the check that needs it.
options:
  _input:
    description:
      - The role's variables, keyed by their names. V(ulimits_nofile_soft), V(ulimits_nofile_hard),
        V(ulimits_nofile_minimum), V(ulimits_domains), V(ulimits_systemd_dropin_name), V(ulimits_limits_file),
        V(ulimits_docker_enabled), V(ulimits_docker_daemon_path) and V(ulimits_vault_unseal_key_path) are read; a
        missing one is not checked.
    type: dict
    required: true
  host:
    description:
      - What the role read from the host, as text. Each key may be missing or V(null) when it was not read.
      - V(nr_open) is the content of C(/proc/sys/fs/nr_open).
      - V(limits) is the content of C(/proc/self/limits) of a process on the host; its C(Max open files) line
        gives the hard limit the host runs with.
      - V(status) is the content of C(/proc/self/status) of a process on the host; its C(CapEff) line gives the
        effective capabilities.
      - V(docker_config) is the content of C(daemon.json); V(docker_config_error) says why it could not be read.
        Both are only looked at with V(ulimits_docker_enabled) true.
    type: dict
    default: {}
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Decide whether the limits can be applied on this host
  ansible.builtin.set_fact:
    _ulimits_problems: >-
      {{ {'ulimits_nofile_soft': ulimits_nofile_soft, 'ulimits_nofile_hard': ulimits_nofile_hard,
          'ulimits_nofile_minimum': ulimits_nofile_minimum}
         | ptfe.ops.ulimits_problems(host={'nr_open': _nr_open.content | b64decode}) }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, in the order of the checks; empty when there is none.
  type: list
  elements: str
"""

import json
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker, has_control, whole

# Linux capability number of CAP_SYS_RESOURCE (linux/capability.h): it lets a process raise a hard rlimit.
CAP_SYS_RESOURCE = 24

# limits.conf(5): a user name, @group, the wildcard *, or a uid range <min>:<max> (@<min>:<max> for gids), where
# one side may be left out. The % forms apply to maxlogin only, not to nofile.
DOMAIN_RE = re.compile(r"[*]|@?[A-Za-z_][A-Za-z0-9_.-]*[$]?|@?[0-9]+:[0-9]*|@?:[0-9]+")
DROPIN_RE = re.compile(r"[^/\s]+\.conf")
PATHS = ("ulimits_limits_file", "ulimits_docker_daemon_path", "ulimits_vault_unseal_key_path")
MAX_OPEN_FILES_RE = re.compile(r"^Max open files\s+(\S+)\s+(\S+)", re.M)
CAP_EFF_RE = re.compile(r"^CapEff:\s*([0-9a-fA-F]+)\s*$", re.M)


def nr_open(text):
    """The kernel's fs.nr_open from the content of /proc/sys/fs/nr_open, or None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str) or not text.strip().isdigit():
        return None
    return int(text.strip())


def hard_nofile(text):
    """The hard open-file limit from the content of /proc/<pid>/limits: an int, 'unlimited', or None."""
    if not isinstance(text, str):
        return None
    match = MAX_OPEN_FILES_RE.search(text)
    if not match:
        return None
    hard = match.group(2)
    if hard == "unlimited":
        return hard
    return int(hard) if hard.isdigit() else None


def has_capability(text, number):
    """Whether the CapEff line of the content of /proc/<pid>/status holds capability ``number``; None if unknown."""
    if not isinstance(text, str):
        return None
    match = CAP_EFF_RE.search(text)
    if not match:
        return None
    return bool(int(match.group(1), 16) >> number & 1)


def _limit_problems(settings):
    problems = []
    minimum = whole(settings.get("ulimits_nofile_minimum", 1024))
    if minimum is None or minimum < 1:
        problems.append("ulimits_nofile_minimum must be a whole number of at least 1, got %r"
                        % (settings.get("ulimits_nofile_minimum"),))
        minimum = 1
    limits = {}
    for name in ("ulimits_nofile_soft", "ulimits_nofile_hard"):
        if name not in settings:
            continue
        value = whole(settings[name])
        if value is None or value < 1:
            problems.append("%s must be a whole number of at least 1, got %r" % (name, settings[name]))
            continue
        if value < minimum:
            problems.append("%s (%d) is below the minimum of %d (ulimits_nofile_minimum)" % (name, value, minimum))
        limits[name] = value
    soft, hard = limits.get("ulimits_nofile_soft"), limits.get("ulimits_nofile_hard")
    if soft is not None and hard is not None and soft > hard:
        problems.append("ulimits_nofile_soft (%d) must not be above ulimits_nofile_hard (%d)" % (soft, hard))
    return problems, hard


def _host_problems(hard, host):
    problems = []
    if hard is None:
        return problems
    ceiling = nr_open(host.get("nr_open"))
    if ceiling is not None and hard > ceiling:
        problems.append("ulimits_nofile_hard (%d) is above the kernel's fs.nr_open (%d): no process could get that "
                        "limit" % (hard, ceiling))
    host_hard = hard_nofile(host.get("limits"))
    can_raise = has_capability(host.get("status"), CAP_SYS_RESOURCE)
    if isinstance(host_hard, int) and can_raise is False and hard > host_hard:
        problems.append("ulimits_nofile_hard (%d) is above the open-file hard limit this host was started with "
                        "(%d), and it cannot be raised here (no CAP_SYS_RESOURCE, as in a container): pam_limits "
                        "would apply none of the limits. Use at most %d" % (hard, host_hard, host_hard))
    return problems


def _domain_problems(domains):
    if not isinstance(domains, list) or not domains:
        return ["ulimits_domains must be a non-empty list of limits.conf domains without white space or '#', got %r"
                % (domains,)]
    problems, seen = [], {}
    for index, domain in enumerate(domains):
        name = "ulimits_domains[%d]" % index
        if not isinstance(domain, str) or not DOMAIN_RE.fullmatch(domain):
            problems.append("%s must be one limits.conf domain (a user name, @group, * or a uid range min:max) "
                            "without white space, '#' or a control character, got %r" % (name, domain))
        elif domain in seen:
            problems.append("%s %s is already listed at ulimits_domains[%d]" % (name, domain, seen[domain]))
        else:
            seen[domain] = index
    return problems


def _path_problems(settings):
    check = Checker(settings)
    for name in PATHS:
        if name not in settings:
            continue
        path = check.path(name)
        if path is None and not check.value(name):
            check.add("%s must be set" % name)
        elif name == "ulimits_limits_file" and path and not path.endswith(".conf"):
            check.add("ulimits_limits_file must end in .conf (pam_limits reads only those in limits.d), got %r"
                      % (path,))
    check.distinct_paths(*PATHS)
    return check.problems


def _name_problems(settings):
    problems = []
    if "ulimits_domains" in settings:
        problems.extend(_domain_problems(settings["ulimits_domains"]))
    if "ulimits_systemd_dropin_name" in settings:
        name = settings["ulimits_systemd_dropin_name"]
        if not isinstance(name, str) or not DROPIN_RE.fullmatch(name) or has_control(name):
            problems.append("ulimits_systemd_dropin_name must be a file name ending in .conf, got %r" % (name,))
    return problems + _path_problems(settings)


def _docker_problems(settings, host):
    if not settings.get("ulimits_docker_enabled", False):
        return []
    path = settings.get("ulimits_docker_daemon_path", "daemon.json")
    if host.get("docker_config_error"):
        return ["Failed to read %s (ulimits_docker_daemon_path): it is not valid JSON or cannot be read (%s). Fix or "
                "remove it, or set ulimits_docker_enabled to false" % (path, host["docker_config_error"])]
    text = host.get("docker_config")
    if text is None or not text.strip():
        return []
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        return ["Failed to read %s (ulimits_docker_daemon_path): it is not valid JSON or cannot be read (%s). Fix or "
                "remove it, or set ulimits_docker_enabled to false" % (path, exc)]
    if not isinstance(parsed, dict):
        return ["%s (ulimits_docker_daemon_path) must hold a JSON object, got %s" % (path, type(parsed).__name__)]
    return []


def ulimits_problems(settings, host=None):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("ulimits_problems expects a mapping of the role's variables, got %s"
                                 % type(settings).__name__)
    host = host or {}
    if not isinstance(host, dict):
        raise AnsibleFilterError("ulimits_problems expects host to be a mapping of what was read, got %s"
                                 % type(host).__name__)
    problems, hard = _limit_problems(settings)
    problems.extend(_host_problems(hard, host))
    problems.extend(_name_problems(settings))
    problems.extend(_docker_problems(settings, host))
    return problems


class FilterModule:
    """The decision of the ulimits role."""

    def filters(self):
        return {"ulimits_problems": ulimits_problems}
