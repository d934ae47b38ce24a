# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared logic of the ptfe_tool_version and ptfe_tool_versions modules.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

* :func:`check_item` and :func:`check_items` find every problem of one version's options, or of a whole list
  (each sentence names its option, ``versions[3].url``; :func:`capped` keeps a refusal short), and normalise
  them; :func:`validate_item` and :func:`validate_items` raise them. A purge that would keep no version is
  refused unless ``purge_all`` says it is meant.
* :func:`from_api` turns a ``terraform-versions`` resource into the flat view the modules return.
* :func:`plan_item` compares desired with current and predicts the result, including the server's
  ``archs`` rules (PATCHing ``url``/``sha`` replaces ``archs`` by one linux/amd64 entry; PATCHing
  ``archs`` blanks the top-level ``url``/``sha`` unless a linux/amd64 arch is listed).
* :func:`checksum_verifier` builds the ``ChecksumVerifier`` of ``_releases_client`` the options ask for: it
  checks every new or changed SHA256 against the release before anything is written.
* :class:`ToolVersionStore` reads and writes the admin Terraform versions API through a ``PtfeClient``.
* :func:`sync` is what both modules run.

* :class:`ToolVersionModule` is the modules' base: the PTFE module base, plus the checks of the CA files and of
  passwords in the download URLs of the list.

Nothing but :class:`ToolVersionModule` calls ``fail_json``: errors are raised as :class:`ToolVersionError`
subclasses, the client's ``PtfeError`` subclasses or the releases client's ``ReleasesError`` subclasses.
"""

from __future__ import annotations

import copy
import os
import re

from urllib.parse import urlsplit

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._module import URL_PASSWORD_RE
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import (
    PtfeError,
    PtfeHTTPError,
    PtfeNotFoundError,
    PtfeValidationError,
    jsonapi_document,
)
from ansible_collections.ptfe.ops.plugins.module_utils._releases_client import (
    SHA256_RE,
    ChecksumMismatchError,
    ChecksumVerifier,
)
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule
from ansible_collections.ptfe.ops.plugins.module_utils._validation import _without_userinfo as without_userinfo
from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_control, has_space_or_control

API_PATH = "/api/v2/admin/terraform-versions"
RESOURCE_TYPE = "terraform-versions"
PAGE_SIZE = 100

VERSION_RE = re.compile(r"[0-9]+[.][0-9]+[.][0-9]+(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?")
ARCH_OSES = ("linux",)
ARCH_NAMES = ("amd64", "arm64", "s390x")
#: The longest deprecation reason accepted.
MAX_REASON = 500

# Option name -> API attribute name.
API_NAMES = {
    "version": "version",
    "url": "url",
    "sha256": "sha",
    "official": "official",
    "enabled": "enabled",
    "beta": "beta",
    "deprecated": "deprecated",
    "deprecated_reason": "deprecated-reason",
    "archs": "archs",
}
MANAGED = ("url", "sha256", "official", "enabled", "beta", "deprecated", "deprecated_reason", "archs")
# Attributes an older server may not have (deprecated: Jan 2022; archs: later).
OPTIONAL_ATTRIBUTES = ("deprecated", "deprecated_reason", "archs")
CREATE_DEFAULTS = {
    "official": False,
    "enabled": True,
    "beta": False,
    "deprecated": False,
    "deprecated_reason": None,
}
PROTECTED_REASONS = {
    "official": "it is an official version",
    "in_use": "it is in use by %d workspace(s)",
}


class ToolVersionError(OpsError):
    """Base class of the errors raised here."""


class ToolVersionInputError(ToolVersionError):
    """An option value is invalid. The message names the option."""


class UnsupportedAttributeError(ToolVersionError):
    """The server does not have an attribute the task manages."""


# -- input -------------------------------------------------------------------------------------------------

#: How many problems a refusal lists before it only says how many more there are: a list of 5,000 bad entries
#: is refused in a few lines, not in megabytes.
SHOWN_PROBLEMS = 10


def capped(problems, limit=SHOWN_PROBLEMS):
    """The first ``limit`` problems, and one more line saying how many were left out."""
    problems = list(problems)
    if len(problems) <= limit:
        return problems
    return problems[:limit] + ["and %d more problem(s)" % (len(problems) - limit)]


def _opt(prefix, name):
    return "%s%s" % (prefix, name)


def _shown(value):
    """A value as a message quotes it: a URL without its user-info, and never more than 120 characters."""
    if isinstance(value, str):
        value = without_userinfo(value)
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def url_problem(value, option, allow_http):
    """Why ``value`` is not a download URL (https, or http with ``allow_http``), as a sentence naming
    ``option``; None when it is one. The URL is quoted without any user-info."""
    rule = "%s must be an absolute https:// URL" % option
    if not isinstance(value, str):
        return "%s, got %s" % (rule, _shown(value))
    if has_space_or_control(value):
        return "%s without white space, a newline or another control character" % rule
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # pylint: disable=pointless-statement  # raises ValueError on a bad port
    except ValueError:
        return "%s, got %s" % (rule, _shown(value))
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        return "%s, got %s" % (rule, _shown(value))
    if parts.username is not None or parts.password is not None:
        return ("%s must not hold a user name or password (user@host): a mirror that needs credentials cannot be "
                "verified or downloaded from by the server either" % option)
    if scheme == "http" and not allow_http:
        return ("%s must use https:// (got %s); set allow_http=true only for a mirror that cannot serve https"
                % (option, _shown(value)))
    return None


def sha256_problem(value, option):
    """Why ``value`` is not a SHA256 checksum (64 hexadecimal characters), naming ``option``; or None."""
    if isinstance(value, str) and SHA256_RE.fullmatch(value):
        return None
    length = " (%d characters)" % len(value) if isinstance(value, str) else ""
    return ("%s must be a SHA256 checksum of 64 hexadecimal characters, got %s%s"
            % (option, _shown(value), length))


def validate_url(value, option, allow_http):
    """Return ``value`` if it is an https URL (or http with ``allow_http``); raise naming ``option``."""
    problem = url_problem(value, option, allow_http)
    if problem:
        raise ToolVersionInputError(problem)
    return value


def validate_sha256(value, option):
    """Return ``value`` in lower case if it is a SHA256 checksum; raise naming ``option``."""
    problem = sha256_problem(value, option)
    if problem:
        raise ToolVersionInputError(problem)
    return value.lower()


def _archs_problems(archs, prefix, allow_http):
    """The problems of one version's ``archs`` list, and its entries normalised (None when there are problems)."""
    option = _opt(prefix, "archs")
    if not isinstance(archs, list):
        return ["%s must be a list of dictionaries with url, sha256, os and arch" % option], None
    if not archs:
        return ["%s must list at least one arch" % option], None
    problems, entries, seen = [], [], {}
    for index, arch in enumerate(archs):
        name = "%s[%d]" % (option, index)
        if not isinstance(arch, dict):
            problems.append("%s must be a dictionary with url, sha256, os and arch" % name)
            continue
        os_ = arch.get("os") or "linux"
        cpu = arch.get("arch") or "amd64"
        if os_ not in ARCH_OSES:
            problems.append("%s.os must be one of %s, got %s" % (name, ", ".join(ARCH_OSES), _shown(os_)))
        if cpu not in ARCH_NAMES:
            problems.append("%s.arch must be one of %s, got %s" % (name, ", ".join(ARCH_NAMES), _shown(cpu)))
        if (os_, cpu) in seen:
            problems.append("%s repeats %s/%s, already listed at %s[%d]" % (name, os_, cpu, option, seen[(os_, cpu)]))
        seen.setdefault((os_, cpu), index)
        if not arch.get("url") or not arch.get("sha256"):
            problems.append("%s needs both url and sha256" % name)
            continue
        url = url_problem(arch["url"], name + ".url", allow_http)
        sha = sha256_problem(arch["sha256"], name + ".sha256")
        problems.extend(p for p in (url, sha) if p)
        if not (url or sha):
            entries.append({"os": os_, "arch": cpu, "url": arch["url"], "sha256": arch["sha256"].lower()})
    return problems, None if problems else sort_archs(entries)


def check_item(params, prefix="", allow_http=False):
    """Every problem of one version's options, and the version checked and normalised.

    Returns ``(problems, item)``: ``problems`` is a list of sentences, each naming its option (``prefix`` goes
    before the option's name: ``versions[3].``); ``item`` is ``(state, version, desired)`` when there is no
    problem, else None. ``desired`` holds only the options that were set (None means "leave as it is"), under
    option names.
    """
    problems = []
    state = params.get("state") or "present"
    version = params.get("version")
    if version is None or not VERSION_RE.fullmatch(str(version)):
        problems.append("%s must look like N.N.N or N.N.N-suffix (for example 1.5.7 or 0.12.20-beta1), got %s"
                        % (_opt(prefix, "version"), _shown(version)))
    if state == "absent":
        return problems, None if problems else (state, str(version), {})
    desired = {}
    url = params.get("url")
    sha256 = params.get("sha256")
    archs = params.get("archs")
    if (url is None) != (sha256 is None):
        problems.append("%s and %s must be given together" % (_opt(prefix, "url"), _opt(prefix, "sha256")))
    elif archs is not None and url is not None:
        problems.append("%s and %s/%s are mutually exclusive: list linux/amd64 in %s instead"
                        % (_opt(prefix, "archs"), _opt(prefix, "url"), _opt(prefix, "sha256"),
                           _opt(prefix, "archs")))
    elif url is not None:
        found = [p for p in (url_problem(url, _opt(prefix, "url"), allow_http),
                             sha256_problem(sha256, _opt(prefix, "sha256"))) if p]
        problems.extend(found)
        if not found:
            desired["url"] = url
            desired["sha256"] = sha256.lower()
    elif archs is not None:
        found, entries = _archs_problems(archs, prefix, allow_http)
        problems.extend(found)
        desired["archs"] = entries
    for name in ("official", "enabled", "beta", "deprecated"):
        if params.get(name) is not None:
            desired[name] = bool(params[name])
    reason = params.get("deprecated_reason")
    if reason is not None:
        option = _opt(prefix, "deprecated_reason")
        if desired.get("deprecated") is not True:
            problems.append("%s needs %s=true in the same task" % (option, _opt(prefix, "deprecated")))
        elif not isinstance(reason, str) or has_control(reason):
            problems.append("%s must be one line of text, without a newline or another control character" % option)
        elif len(reason) > MAX_REASON:
            problems.append("%s must be at most %d characters, got %d" % (option, MAX_REASON, len(reason)))
        else:
            desired["deprecated_reason"] = reason
    return problems, None if problems else (state, str(version), desired)


def validate_item(params, prefix="", allow_http=False):
    """Check and normalise one version's options. Returns ``(state, version, desired)`` (see
    :func:`check_item`); raises :class:`ToolVersionInputError` naming every bad option."""
    problems, item = check_item(params, prefix=prefix, allow_http=allow_http)
    if problems:
        raise ToolVersionInputError("; ".join(capped(problems)))
    return item


def check_items(versions, allow_http=False, purge=False, purge_all=False):
    """Every problem of a whole list of versions (messages name the entry, ``versions[3].url``), and the checked
    entries. A version listed twice is refused; so is ``purge`` with nothing to keep, unless ``purge_all``.

    Returns ``(problems, items)``; ``items`` is only complete when ``problems`` is empty.
    """
    problems, items, seen = [], [], {}
    if not isinstance(versions, list):
        return ["versions must be a list of dictionaries, got %s" % type(versions).__name__], []
    for index, params in enumerate(versions):
        if not isinstance(params, dict):
            problems.append("versions[%d] must be a dictionary with at least a version" % index)
            continue
        found, item = check_item(params, prefix="versions[%d]." % index, allow_http=allow_http)
        problems.extend(found)
        version = str(params.get("version"))
        if version in seen and VERSION_RE.fullmatch(version):
            problems.append("versions[%d].version: Terraform version %s is already listed at versions[%d]"
                            % (index, version, seen[version]))
        seen.setdefault(version, index)
        if item is not None:
            items.append(item)
    problems.extend(purge_problems(versions, purge, purge_all))
    return problems, items


def purge_problems(versions, purge, purge_all):
    """Why ``purge`` may not run with this list: it would remove every version on the server, and only
    ``purge_all`` says that is meant. A list whose entries are all ``state=absent`` keeps nothing either."""
    keeps = [v for v in versions if isinstance(v, dict) and (v.get("state") or "present") == "present"]
    if purge_all and not purge:
        return ["purge_all=true needs purge=true: it only confirms a purge that keeps no version"]
    if purge and not keeps and not purge_all:
        return ["purge=true with no version to keep (versions lists none with state=present) would remove every "
                "Terraform version on the server that is neither official nor in use; list the versions to keep, "
                "or set purge_all=true if removing them all is meant"]
    return []


def validate_items(versions, allow_http=False, purge=False, purge_all=False):
    """Every entry of a list of versions checked (see :func:`check_items`); raises
    :class:`ToolVersionInputError` naming every bad entry, at most :data:`SHOWN_PROBLEMS` of them."""
    problems, items = check_items(versions, allow_http=allow_http, purge=purge, purge_all=purge_all)
    if problems:
        raise ToolVersionInputError("; ".join(capped(problems)))
    return items


def sort_archs(archs):
    return sorted(archs, key=lambda a: (a["os"], a["arch"]))


# -- views ---------------------------------------------------------------------------------------------------


def from_api(item):
    """Flatten a ``terraform-versions`` resource into option names (plus id, usage, created_at)."""
    attrs = item.get("attributes") or {}
    view = {
        "id": item.get("id"),
        "version": attrs.get("version"),
        "url": attrs.get("url") or "",
        "sha256": (attrs.get("sha") or "").lower(),
        "official": bool(attrs.get("official", False)),
        "enabled": bool(attrs.get("enabled", True)),
        "beta": bool(attrs.get("beta", False)),
        "usage": int(attrs.get("usage") or 0),
        "created_at": attrs.get("created-at"),
    }
    if "deprecated" in attrs:
        view["deprecated"] = bool(attrs.get("deprecated"))
        view["deprecated_reason"] = attrs.get("deprecated-reason")
    if "archs" in attrs:
        view["archs"] = sort_archs([
            {"os": a.get("os"), "arch": a.get("arch"), "url": a.get("url") or "", "sha256": (a.get("sha") or "").lower()}
            for a in (attrs.get("archs") or [])
        ])
    return view


def to_api(attrs):
    """Option-named attributes -> API attributes (for POST/PATCH documents)."""
    out = {}
    for name, value in attrs.items():
        if name == "archs":
            value = [{"os": a["os"], "arch": a["arch"], "url": a["url"], "sha": a["sha256"]} for a in value]
        out[API_NAMES[name]] = value
    return out


def _amd64(archs):
    for arch in archs or []:
        if arch["os"] == "linux" and arch["arch"] == "amd64":
            return arch
    return None


def plan_item(version, desired, current):
    """Compare one version's desired options with the server's view.

    Returns a dict: ``action`` (create|update|none), ``payload`` (API attributes to send), ``before`` and
    ``after`` (only the attributes that change), ``predicted`` (the full view after the write) and
    ``verify`` (the (url, sha256) pairs whose checksum must be verified first).
    """
    if current is None:
        if "url" not in desired and "archs" not in desired:
            raise ToolVersionInputError(
                "Terraform version %s does not exist yet: url and sha256 (or archs) are needed to create it"
                % version)
        predicted = dict(CREATE_DEFAULTS)
        predicted.update(desired)
        predicted["version"] = version
        if "archs" in desired:
            amd64 = _amd64(desired["archs"])
            predicted["url"] = amd64["url"] if amd64 else ""
            predicted["sha256"] = amd64["sha256"] if amd64 else ""
        if not predicted.get("deprecated"):
            predicted["deprecated_reason"] = None
        payload = {"version": version}
        payload.update(to_api(desired))
        return {
            "action": "create",
            "payload": payload,
            "before": {},
            "after": dict((k, v) for k, v in predicted.items() if k != "id"),
            "predicted": predicted,
            "verify": _verify_pairs(desired, desired, None),
        }

    for name in OPTIONAL_ATTRIBUTES:
        if name in desired and name not in current:
            raise UnsupportedAttributeError(
                "this server's Terraform versions have no %s attribute (option %s); it predates that feature"
                % (API_NAMES[name], name))
    changes = dict((k, v) for k, v in desired.items() if current.get(k) != v)
    predicted = dict(current)
    predicted.update(changes)
    send = dict(changes)
    if "url" in changes or "sha256" in changes:
        # The API takes url and sha together; PATCHing them replaces archs by one linux/amd64 entry.
        send["url"] = desired["url"]
        send["sha256"] = desired["sha256"]
        if "archs" in current:
            predicted["archs"] = [{"os": "linux", "arch": "amd64", "url": desired["url"],
                                   "sha256": desired["sha256"]}]
    if "archs" in changes:
        amd64 = _amd64(desired["archs"])
        predicted["url"] = amd64["url"] if amd64 else ""
        predicted["sha256"] = amd64["sha256"] if amd64 else ""
    if "deprecated" in predicted and not predicted.get("deprecated"):
        predicted["deprecated_reason"] = None
    before = {}
    after = {}
    for name in MANAGED:
        if name in predicted and predicted.get(name) != current.get(name):
            before[name] = current.get(name)
            after[name] = predicted.get(name)
    return {
        "action": "update" if after else "none",
        "payload": to_api(send) if after else {},
        "before": before,
        "after": after,
        "predicted": predicted,
        "verify": _verify_pairs(desired, changes, current) if after else [],
    }


def _verify_pairs(desired, changes, current):
    """(url, sha256) pairs that are new for this version and so must be verified."""
    pairs = []
    if "url" in changes or "sha256" in changes:
        pairs.append((desired.get("url"), desired.get("sha256")))
    if "archs" in changes:
        known = set()
        if current is not None:
            known.add((current.get("url"), current.get("sha256")))
            for arch in current.get("archs") or []:
                known.add((arch["url"], arch["sha256"]))
        for arch in changes["archs"]:
            if (arch["url"], arch["sha256"]) not in known:
                pairs.append((arch["url"], arch["sha256"]))
    return [p for p in pairs if p[0] and p[1]]


def protected_reason(view):
    """Why a version may not be removed (official, or in use), or None."""
    if view.get("official"):
        return PROTECTED_REASONS["official"]
    if view.get("usage"):
        return PROTECTED_REASONS["in_use"] % view["usage"]
    return None


# -- checksums -----------------------------------------------------------------------------------------------


def checksum_verifier(params, warn=None):
    """The verifier the options of :func:`checksum_options` ask for (with the connection's ``timeout`` and
    ``max_retries``), or None with ``checksum_verify=false``."""
    if not params.get("checksum_verify", True):
        return None
    return ChecksumVerifier(ca_path=params.get("checksum_ca_path"), timeout=params.get("timeout") or 30,
                            max_retries=params.get("max_retries") or 0, allow_http=bool(params.get("allow_http")),
                            warn=warn)


# -- server --------------------------------------------------------------------------------------------------


class ToolVersionStore(object):
    """Reads and writes ``/api/v2/admin/terraform-versions`` through a ``PtfeClient``."""

    def __init__(self, client):
        self.client = client

    def _explain(self, err, action):
        """Re-raise a 404 on the admin API with the site-admin explanation."""
        if isinstance(err, PtfeNotFoundError):
            err.detail = ("%s. The admin Terraform versions API answers 404 unless the token belongs to a site "
                          "admin: use a site-admin user's API token" % err.detail)
            err.message = "HTTP %s from %s %s: %s" % (err.status, err.method, err.path, err.detail)
        if not err.action:
            err.action = action
        return err

    def list_all(self):
        """Every version on the server, by version number: one pass over the list, 100 per page."""
        index = {}
        try:
            for item in self.client.paginate(API_PATH, page_size=PAGE_SIZE, action="list Terraform versions"):
                view = from_api(item)
                index[view["version"]] = view
        except PtfeHTTPError as err:
            raise self._explain(err, "list Terraform versions")
        return index

    def find(self, version):
        """One version by number, or None: ``filter[version]``, else paging on servers without the filter."""
        action = "look up Terraform version %s" % version
        params = {"filter[version]": version, "page[size]": PAGE_SIZE, "page[number]": 1}
        try:
            body = self.client.get(API_PATH, params=params, action=action)
        except PtfeHTTPError as err:
            if err.status != 400:
                raise self._explain(err, action)
            body = None  # a server that rejects the filter: page through the list instead
        items = (body or {}).get("data") or []
        filtered = body is not None and all((i.get("attributes") or {}).get("version") == version for i in items)
        for item in items:
            if (item.get("attributes") or {}).get("version") == version:
                return from_api(item)
        if filtered:
            return None
        # The filter was ignored (server older than Jan 2022): page through the whole list.
        try:
            for item in self.client.paginate(API_PATH, page_size=PAGE_SIZE, action=action):
                if (item.get("attributes") or {}).get("version") == version:
                    return from_api(item)
        except PtfeHTTPError as err:
            raise self._explain(err, action)
        return None

    def create(self, version, payload):
        action = "create Terraform version %s" % version
        try:
            body = self.client.post(API_PATH, json=jsonapi_document(RESOURCE_TYPE, payload), expected=(201, 200),
                                    action=action)
        except PtfeHTTPError as err:
            raise self._explain(err, action)
        return from_api(body["data"]) if body and body.get("data") else None

    def update(self, view, payload):
        action = "update Terraform version %s" % view["version"]
        try:
            body = self.client.patch("%s/%s" % (API_PATH, view["id"]),
                                     json=jsonapi_document(RESOURCE_TYPE, payload, resource_id=view["id"]),
                                     expected=(200,), action=action)
        except PtfeHTTPError as err:
            raise self._explain(err, action)
        return from_api(body["data"]) if body and body.get("data") else None

    def delete(self, view, tolerate_refusal=False):
        """DELETE; with ``tolerate_refusal`` a 422 (official / in use) returns the server's reason instead."""
        action = "delete Terraform version %s" % view["version"]
        try:
            self.client.delete("%s/%s" % (API_PATH, view["id"]), expected=(204, 200), action=action)
        except PtfeValidationError as err:
            if tolerate_refusal:
                return "the server refused: %s" % err.detail
            raise self._explain(err, action)
        except PtfeHTTPError as err:
            raise self._explain(err, action)
        return None


# -- what both modules run -----------------------------------------------------------------------------------


class SyncError(ToolVersionError):
    """A write failed part-way; ``done`` says what had already been written."""

    def __init__(self, error, done):
        self.error = error
        self.done = done
        parts = ["%s %s" % (key, ", ".join(done[key])) for key in ("created", "updated", "removed") if done[key]]
        suffix = " (already written before the failure: %s)" % "; ".join(parts) if parts else ""
        super(SyncError, self).__init__("%s%s" % (error, suffix))


class ChecksumMismatches(ChecksumMismatchError, ToolVersionError):
    """:class:`ChecksumMismatchError` with a message that lists at most :data:`SHOWN_PROBLEMS` mismatches."""

    def __init__(self, mismatches):  # pylint: disable=super-init-not-called
        self.mismatches = mismatches
        lines = ["version %s: the SHA256 given for %s is %s, but %s says %s"
                 % (item["version"], without_userinfo(item["url"]), item["expected"],
                    "its SHA256SUMS file" if item["method"] == "SHA256SUMS" else "the download", item["actual"])
                 for item in mismatches]
        ToolVersionError.__init__(
            self, "Failed to verify the checksum of %d Terraform version(s); nothing was written: %s"
            % (len(mismatches), "; ".join(capped(lines))))


def _managed_view(view):
    return dict((k, view[k]) for k in ("version",) + MANAGED if k in view)


def sync(store, items, index, purge=False, check_mode=False, verifier=None, warn=None, purge_all=False):
    """Bring the server in line with ``items`` and return the result.

    ``items`` is a list of ``(state, version, desired)`` from :func:`validate_item`; ``index`` maps version
    number -> current view (the whole list for the bulk module, the one version for the single module).
    Checksums of every new or changed artifact are verified before the first write (unless ``verifier`` is
    None, in which case the unverified pairs are returned in ``unverified`` and ``warn`` is told of each
    once the writes are done). Check mode writes nothing. A purge with no item to keep is refused unless
    ``purge_all``, before anything is read or written.
    """
    if purge and not purge_all and not any(state == "present" for state, _version, _desired in items):
        raise ToolVersionInputError(purge_problems([], purge, purge_all)[0])
    result = {"created": [], "updated": [], "removed": [], "unchanged": [], "kept": [], "checksums": [],
              "unverified": [], "diff": {"before": {}, "after": {}}, "tool_versions": []}
    writes = []
    jobs = []
    named = set()
    for state, version, desired in items:
        if version in named:
            raise ToolVersionInputError("Terraform version %s is listed more than once" % version)
        named.add(version)
        current = index.get(version)
        if state == "absent":
            if current is None:
                result["unchanged"].append(version)
                continue
            reason = protected_reason(current)
            if reason:
                raise ToolVersionError("Failed to delete Terraform version %s: %s, and the server refuses to remove "
                                       "such versions" % (version, reason))
            writes.append(("delete", version, current, None))
            continue
        plan = plan_item(version, desired, current)
        if plan["action"] == "none":
            result["unchanged"].append(version)
            result["tool_versions"].append(current)
            continue
        writes.append((plan["action"], version, current, plan))
        jobs.extend((version, url, sha) for url, sha in plan["verify"])
    if purge:
        for version, current in index.items():
            if version in named:
                continue
            reason = protected_reason(current)
            if reason:
                result["kept"].append({"version": version, "reason": reason})
            else:
                writes.append(("delete", version, current, None))

    if verifier is not None:
        try:
            result["checksums"] = verifier.verify_all(jobs)
        except ChecksumMismatchError as err:
            raise ChecksumMismatches(err.mismatches)
    else:
        result["unverified"] = [{"version": v, "url": u} for v, u, _s in jobs]

    done = {"created": result["created"], "updated": result["updated"], "removed": result["removed"]}
    for action, version, current, plan in writes:
        try:
            if action == "delete":
                refused = None
                if not check_mode:
                    refused = store.delete(current, tolerate_refusal=purge and version not in named)
                if refused:
                    result["kept"].append({"version": version, "reason": refused})
                    continue
                result["removed"].append(version)
                result["diff"]["before"][version] = _managed_view(current)
                result["diff"]["after"][version] = None
                continue
            after = plan["predicted"]
            if action == "create":
                if not check_mode:
                    after = store.create(version, plan["payload"]) or after
                result["created"].append(version)
            else:
                if not check_mode:
                    after = store.update(current, plan["payload"]) or after
                result["updated"].append(version)
            result["diff"]["before"][version] = plan["before"] or None
            result["diff"]["after"][version] = plan["after"]
            result["tool_versions"].append(after)
        except PtfeError as err:
            if any(done.values()):
                raise SyncError(err, done)
            raise
    result["changed"] = bool(result["created"] or result["updated"] or result["removed"])
    for item in result["unverified"] if warn is not None else []:
        warn("checksum_verify=false: the SHA256 of Terraform version %s (%s) was registered without checking it "
             "against the download" % (item["version"], item["url"]))
    return result


def apply(client, items, params, whole_list=False, check_mode=False, warn=None):
    """:func:`sync` as both modules run it, with a ``ToolVersionStore`` over ``client``.

    ``whole_list`` reads the server's whole list once (the bulk module, and what ``purge`` needs); otherwise each
    version is looked up by its number. ``params`` are the module's options (``purge`` and those of
    :func:`checksum_options`); ``warn`` gets the warnings.
    """
    store = ToolVersionStore(client)
    if whole_list:
        index = store.list_all()
    else:
        index = {}
        for _state, version, _desired in items:
            current = store.find(version)
            if current is not None:
                index[version] = current
    return sync(store, items, index, purge=bool(params.get("purge")), check_mode=check_mode,
                verifier=checksum_verifier(params, warn), warn=warn, purge_all=bool(params.get("purge_all")))


def checksum_options():
    """Argument spec of the checksum options both modules share (doc fragment ptfe.ops.tool_version)."""
    return dict(
        checksum_verify=dict(type="bool", default=True),
        checksum_ca_path=dict(type="path"),
        allow_http=dict(type="bool", default=False),
    )


def tool_version_options():
    """Argument spec of one version's attributes (shared by both modules; ``version``/``state`` are not here)."""
    return dict(
        url=dict(type="str"),
        sha256=dict(type="str"),
        archs=dict(type="list", elements="dict", options=dict(
            url=dict(type="str", required=True),
            sha256=dict(type="str", required=True),
            os=dict(type="str", default="linux"),
            arch=dict(type="str", choices=list(ARCH_NAMES), default="amd64"),
        )),
        official=dict(type="bool"),
        enabled=dict(type="bool"),
        beta=dict(type="bool"),
        deprecated=dict(type="bool"),
        deprecated_reason=dict(type="str"),
    )


# -- the modules' base ---------------------------------------------------------------------------------------


def url_passwords(value):
    """The passwords of every URL with user-info (``https://user:pass@host``) in ``value``, however deep in
    lists and dictionaries (the download URLs of ``versions[].url`` and ``versions[].archs[].url``)."""
    if isinstance(value, str):
        match = URL_PASSWORD_RE.match(value) if "@" in value else None
        return [match.group(1)] if match else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [password for item in value for password in url_passwords(item)]
    return []


def _first_non_dict(spec, params, prefix=""):
    """The name (``versions[2]``, ``versions[0].archs[1]``) of the first entry of a list of sub-options that is
    not a dictionary, or None."""
    for name, option in spec.items():
        values = params.get(name) if isinstance(params, dict) else None
        if option.get("elements") != "dict" or not isinstance(values, list):
            continue
        for index, value in enumerate(values):
            entry = "%s%s[%d]" % (prefix, name, index)
            if not isinstance(value, dict):
                return entry
            found = _first_non_dict(option.get("options") or {}, value, entry + ".")
            if found:
                return found
    return None


class ToolVersionModule(PtfeModule):
    """The base of ptfe_tool_version and ptfe_tool_versions: a :class:`~_ptfe_module.PtfeModule` that also
    hides a password written into any download URL (a refusal echoes the arguments back, the list included),
    and checks the CA files of the API and of the downloads before any request."""

    _given = None

    def _load_params(self):
        super(ToolVersionModule, self)._load_params()
        # The arguments as given: the argument spec drops an entry it cannot convert before the refusal.
        self._given = copy.deepcopy(self.params)

    def _hide_url_passwords(self):
        super(ToolVersionModule, self)._hide_url_passwords()
        self._hide_secrets()

    def _hide_secrets(self):
        """Mask the ``no_log`` options and every URL password in the echoed arguments and the messages."""
        params = dict(self._given or {}, **(getattr(self, "params", None) or {}))
        secrets = url_passwords(self._given) + url_passwords(params)
        secrets.extend(value for name, value in params.items()
                       if self.argument_spec.get(name, {}).get("no_log") and isinstance(value, str) and value)
        for secret in secrets:
            self.no_log_values.add(secret)
            self.redactor.add(secret)

    def fail_json(self, msg, **kwargs):  # pylint: disable=arguments-differ
        # ansible-core collects the no_log values of every option in one pass, and that pass stops at the
        # first entry of a list of sub-options that is not a dictionary (versions: ["1.5.7"]): the refusal
        # would then echo the token. Collect them again, whatever the argument spec found.
        self._hide_secrets()
        # The same pass then fails with a message that names nothing ("dictionary requested, ..."): name the entry.
        entry = _first_non_dict(self.argument_spec, self._given)
        if entry and entry not in str(msg):
            msg = "%s must be a dictionary of its sub-options: %s" % (entry, msg)
        super(ToolVersionModule, self).fail_json(msg, **kwargs)

    def connection_problems(self, check):
        super(ToolVersionModule, self).connection_problems(check)
        check.path("checksum_ca_path")
        for name in ("ca_path", "checksum_ca_path"):
            path = self.params.get(name)
            refused = any(problem.startswith(name + " ") for problem in check.problems)
            if path and not refused and not os.path.isfile(path):
                check.add("%s must name a PEM file on the host that runs the module; there is no file %r"
                          % (name, path))
