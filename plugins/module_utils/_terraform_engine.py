# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the modules of Vault's Terraform Cloud secrets engine decide, with no Ansible and no HTTP in it.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

The engine (``vault-plugin-secrets-terraform``) has traps this file exists to avoid:

* Writing an ``organization`` or ``team_legacy`` role mints a new TFE token and the old one stops working. So a
  role is written only when it differs from what Vault has, compared field by field with durations normalised
  (``1h`` is ``3600``), and a write that mints a token is said so (:func:`role_plan`).
* A ``config`` write without ``address`` resets it to ``https://app.terraform.io``: :func:`config_body` always
  sends it. The token can never be read back: it is written on create, or on every run when asked.
* Roles written by plugins older than 0.12 have no ``credential_type``; the type they behave as is implied by
  their fields (:func:`implied_type`), and they are rewritten with it only when asked.
* ``team_legacy`` roles take no ``description``, ``ttl`` or ``max_ttl`` (the plugin refuses them with an HTTP 500).
"""

from __future__ import annotations

import re

CREDENTIAL_TYPES = ("organization", "team", "team_legacy", "user")
#: Roles whose write mints the one shared token of the organization or team (and revokes the previous one).
MINTING_TYPES = ("organization", "team_legacy")
#: Vault's default maximum lease TTL (32 days); no role TTL can exceed what the mount allows.
MAX_DURATION = 100 * 365 * 24 * 3600

MOUNT_PATH = r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*"
MOUNT_RULE = "a mount path of letters, digits, '_' and '-', parts separated by '/' (no '.' or '..' part, no '/' at the ends)"
ROLE_NAME = r"[A-Za-z0-9_-]{1,128}"
ROLE_RULE = "1 to 128 letters, digits, '_' or '-'"
ORGANIZATION = r"[A-Za-z0-9_-]{1,100}"
TEAM_ID = r"team-[A-Za-z0-9]{1,64}"
USER_ID = r"user-[A-Za-z0-9]{1,64}"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"(?:[0-9]+[dhms])+")
_PART_RE = re.compile(r"([0-9]+)([dhms])")

#: The role fields compared and written, in the order the diff shows them.
ROLE_FIELDS = ("credential_type", "organization", "team_id", "user_id", "description", "ttl", "max_ttl")


def parse_duration(value):
    """Seconds of a duration as Vault takes it: a whole number of seconds (int or digits) or text such as ``1h``,
    ``90m``, ``1h30m``, ``2d``. Raise ``ValueError`` for anything else (negative, fractions, other units)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError("not a duration")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("negative")
        return value
    text = str(value).strip()
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    if not _DURATION_RE.fullmatch(text):
        raise ValueError("not a duration")
    units = [unit for _number, unit in _PART_RE.findall(text)]
    if len(set(units)) != len(units):
        raise ValueError("a unit twice")
    return sum(int(number) * _UNITS[unit] for number, unit in _PART_RE.findall(text))


def check_mount_path(check, name):
    """The option ``name`` is a mount path (no ``..``, no ``.``, no slash at the ends, no ``sys``)."""
    value = check.value(name)
    if value is None:
        return None
    if isinstance(value, str) and set(value.split("/")) & {".", ".."}:
        check.add("%s must be %s, got %r" % (name, MOUNT_RULE, value))
        return None
    value = check.text(name, pattern=MOUNT_PATH, rule=MOUNT_RULE, max_length=200)
    if value is not None and value.split("/")[0] in ("sys", "auth", "identity", "cubbyhole"):
        check.add("%s must not be a path Vault keeps for itself (sys, auth, identity, cubbyhole), got %r" % (name, value))
        return None
    return value


def implied_type(role):
    """The credential type a role read from Vault behaves as: its ``credential_type``, else what its fields imply
    (as the plugin decides: ``team_id`` → ``team_legacy``, ``user_id`` → ``user``, else ``organization``)."""
    if role.get("credential_type"):
        return role["credential_type"]
    if role.get("team_id"):
        return "team_legacy"
    if role.get("user_id"):
        return "user"
    return "organization"


def check_role(check):
    """Check a role's options with ``check`` (a ``_validation.Checker`` over the module's or role's parameters,
    named ``name``, ``credential_type``, ``organization``, ``team_id``, ``user_id``, ``description``, ``ttl``,
    ``max_ttl``), before any request. Return the desired role (``None`` when refused)."""
    params = check.params
    before = len(check.problems)
    check.required("name")
    check.text("name", pattern=ROLE_NAME, rule=ROLE_RULE)
    if params.get("state", "present") != "present":
        return None if len(check.problems) > before else {}
    ctype = check.one_of("credential_type", CREDENTIAL_TYPES)
    org = check.text("organization", pattern=ORGANIZATION, rule="an organization name (1 to 100 letters, digits, '-' or '_')")
    team = check.text("team_id", pattern=TEAM_ID, rule="a team id (team-...)")
    user = check.text("user_id", pattern=USER_ID, rule="a user id (user-...)")
    description = check.text("description", max_length=256)
    durations = {}
    for name in ("ttl", "max_ttl"):
        raw = params.get(name)
        try:
            durations[name] = parse_duration(raw)
        except ValueError:
            check.add("%s must be a duration: whole seconds (3600) or text such as 1h, 30m, 1h30m, 2d, got %r" % (name, raw))
            continue
        if durations[name] > MAX_DURATION:
            check.add("%s must be at most 100 years, got %r" % (name, raw))
    if params.get("user_id") and (params.get("organization") or params.get("team_id")):
        check.add("user_id must not be given together with organization or team_id: a role is for a user, or for "
                  "an organization or team")
    if not (params.get("organization") or params.get("team_id") or params.get("user_id")):
        check.add("organization, team_id or user_id must be set: the role needs an organization, a team or a user")
    ttl, max_ttl = durations.get("ttl"), durations.get("max_ttl")
    if ttl and max_ttl and ttl > max_ttl:
        check.add("ttl must not be greater than max_ttl, got ttl %r (%d s) and max_ttl %r (%d s)"
                  % (params.get("ttl"), ttl, params.get("max_ttl"), max_ttl))
    kind = ctype or implied_type({"team_id": team, "user_id": user})
    if ctype == "organization" and (params.get("team_id") or not params.get("organization")):
        check.add("credential_type organization needs organization and no team_id")
    if ctype in ("team", "team_legacy") and not params.get("team_id"):
        check.add("credential_type %s needs team_id" % ctype)
    if ctype == "user" and not params.get("user_id"):
        check.add("credential_type user needs user_id")
    if kind == "team_legacy":
        for name in ("description", "ttl", "max_ttl"):
            if params.get(name) not in (None, "", 0, "0"):
                check.add("%s cannot be set with credential_type team_legacy (the engine refuses it; its token is "
                          "shared and never expires): use credential_type team for leased team tokens" % name)
    if len(check.problems) > before:
        return None
    return {"credential_type": kind, "organization": org or "", "team_id": team or "", "user_id": user or "",
            "description": description or "", "ttl": ttl or 0, "max_ttl": max_ttl or 0}


def normal_role(data):
    """A role as Vault reads it back (``None`` when absent), in the shape :func:`check_role` returns."""
    if data is None:
        return None
    role = {"credential_type": implied_type(data)}
    for key in ("organization", "team_id", "user_id", "description"):
        role[key] = str(data.get(key) or "")
    for key in ("ttl", "max_ttl"):
        try:
            role[key] = parse_duration(data.get(key))
        except ValueError:
            role[key] = data.get(key)
    return role


def role_plan(current_data, desired, state="present", upgrade_credential_type=False):
    """What to do with one role. ``current_data`` is Vault's read (``None``: absent), ``desired`` what
    :func:`check_role` returned. Returns a dict: ``action`` (created, updated, removed, unchanged), ``changes``
    (the fields that differ), ``mints_token`` (the write mints a new shared token and revokes the old one),
    ``untyped`` (Vault's role has no ``credential_type``, from a plugin older than 0.12)."""
    current = normal_role(current_data)
    untyped = current_data is not None and not current_data.get("credential_type") and current["credential_type"] != "organization"
    if state == "absent":
        return {"action": "removed" if current else "unchanged", "changes": [], "mints_token": False,
                "untyped": untyped}
    if current is None:
        return {"action": "created", "changes": list(ROLE_FIELDS), "mints_token": desired["credential_type"] in MINTING_TYPES,
                "untyped": False}
    changes = [key for key in ROLE_FIELDS if current[key] != desired[key]]
    if not changes and untyped and upgrade_credential_type:
        changes = ["credential_type"]
    action = "updated" if changes else "unchanged"
    return {"action": action, "changes": changes, "untyped": untyped,
            "mints_token": action == "updated" and desired["credential_type"] in MINTING_TYPES}


def role_body(desired):
    """The body of a role write: every field, so that nothing of an older write survives. ``team_legacy`` gets no
    ``description``, ``ttl`` or ``max_ttl`` at all."""
    body = dict(desired)
    if desired["credential_type"] == "team_legacy":
        for key in ("description", "ttl", "max_ttl"):
            body.pop(key)
    return body


def role_view(role):
    """A role as the diff and the result show it (never a token)."""
    if role is None:
        return {}
    return dict((key, role[key]) for key in ROLE_FIELDS if key in role)


def config_plan(current, address, base_path, token_given, update_token):
    """What to write to ``config``. ``current`` is Vault's read (``None``: no config), the rest the options.
    Returns ``(changes, write_token)``: the fields that differ (``token`` when it is written) and whether the
    token goes into the write."""
    if current is None:
        return (["address", "base_path", "token"], True)
    changes = [key for key, want in (("address", address), ("base_path", base_path))
               if normal_address(current.get(key)) != normal_address(want)]
    write_token = bool(token_given) and update_token == "always"
    if write_token:
        changes.append("token")
    return (changes, write_token)


def normal_address(value):
    """An address or base path compared without a trailing ``/`` and case-insensitive scheme and host."""
    text = str(value or "").strip()
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*://[^/]*)(.*)", text)
    if match:
        text = match.group(1).lower() + match.group(2)
    return text.rstrip("/") or "/"


def config_body(address, base_path, token=None):
    """The body of a ``config`` write: ``address`` and ``base_path`` always (an omitted address resets to the
    SaaS), the token only when it is to be written."""
    body = {"address": address, "base_path": base_path}
    if token is not None:
        body["token"] = token
    return body


def creds_view(role_name, credential_type, response):
    """The credentials of a ``creds`` read as the lookup returns them. ``response`` is Vault's whole JSON answer.
    ``shared`` is true for organization and ``team_legacy`` roles: one stored token, no lease, the same for every
    reader until it is rotated."""
    data = response.get("data") or {}
    lease_id = response.get("lease_id") or ""
    return {"role": role_name, "credential_type": credential_type, "token": data.get("token"),
            "token_id": data.get("token_id"), "lease_id": lease_id,
            "lease_duration": int(response.get("lease_duration") or 0), "renewable": bool(response.get("renewable")),
            "shared": not lease_id, "expired_at": data.get("expired_at")}
