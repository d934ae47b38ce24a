# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One way to check input, shared by the modules (before their first request) and the filter plugins that
hold the roles' input rules (before any task that changes something or hides its output with ``no_log``).

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore): it is
for the collection's own modules and plugins and may change without notice.

The rules every check follows:

* a pattern matches the whole value (``re.fullmatch``), so ``$`` never lets a trailing newline through, and
  digits are ``[0-9]``, never ``\\d`` (which accepts every script's digits);
* tokens, keys, names and paths hold no white space or control characters; free text holds no control
  characters;
* a number is a whole number written in ASCII digits, or an int; a boolean is not a number;
* every problem is one sentence that begins with the option's name, and quotes the value only when the
  value is not secret.

:class:`Checker` collects the problems of one set of parameters::

    check = Checker(module.params)
    check.whole("timeout", minimum=1, maximum=3600)
    check.url("address", allow_insecure=module.params["allow_insecure_http"])
    check.distinct_paths("keys_file", "state_file")
    module.fail_on_invalid(check.problems, "vault_rekey")
"""

from __future__ import annotations

import math
import os
import re

from urllib.parse import urlsplit

#: Any ASCII control character (C0 and DEL), and the C1 controls and line/paragraph separators.
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: White space of any kind, or a control character.
SPACE_OR_CONTROL_RE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
WHOLE_RE = re.compile(r"-?[0-9]+")
DECIMAL_RE = re.compile(r"-?[0-9]+(?:[.][0-9]+)?")


def is_set(value):
    """Whether a variable holds something: not None, not an empty or blank string, not an empty collection.
    Numbers and booleans are values, zero and false included."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, dict, set)):
        return bool(value)
    return True


def whole(value):
    """``value`` as an int, or None when it is not a whole number: a bool, a float with a fraction, or a
    string other than ASCII digits (surrounding blanks allowed, as YAML and the command line give them)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and WHOLE_RE.fullmatch(value.strip(" \t")):
        return int(value.strip(" \t"))
    return None


def decimal(value):
    """``value`` as a float, or None when it is not a finite number written in ASCII digits (``nan``,
    ``inf``, ``1e3`` and other scripts' digits are refused)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and DECIMAL_RE.fullmatch(value.strip(" \t")):
        return float(value.strip(" \t"))
    return None


def has_control(value):
    """Whether the text holds a control character (a newline, a tab, NUL, DEL, a C1 control)."""
    return isinstance(value, str) and bool(CONTROL_RE.search(value))


def has_space_or_control(value):
    """Whether the text holds white space or a control character."""
    return isinstance(value, str) and bool(SPACE_OR_CONTROL_RE.search(value))


def normal_path(path):
    """The path as the kernel would resolve its name (no symlinks followed): for comparing two options."""
    return os.path.normpath(os.path.expanduser(path)) if path else path


class Checker(object):
    """Collects the problems of one set of parameters (a module's ``params``, a role's variables).

    Each check reads one option by name, appends a sentence naming it when the value breaks a rule, and
    returns the value it checked (normalised where it says so), or None when it is unset or refused. An
    unset option passes every check but ``required``.

    ``secret`` names options whose values never appear in a message (the module's ``no_log`` options and
    anything else secret): their problems say what is wrong without quoting them.
    """

    def __init__(self, params, secret=()):
        self.params = params
        self.secret = set(secret)
        self.problems = []

    # -- reporting ---------------------------------------------------------------------------------------

    def add(self, message):
        """Append one problem (a sentence that names its option)."""
        self.problems.append(message)

    def shown(self, name, value):
        """How a value is quoted in a message: never, for a secret option."""
        if name in self.secret:
            return "(value hidden)"
        text = repr(value)
        return text if len(text) <= 120 else text[:117] + "..."

    def _refuse(self, name, value, rule):
        self.add("%s %s, got %s" % (name, rule, self.shown(name, value)))

    def value(self, name):
        """The option's value, None when unset (an empty or blank string counts as unset)."""
        value = self.params.get(name)
        return value if is_set(value) else None

    # -- checks ------------------------------------------------------------------------------------------

    def required(self, name, why=None):
        """The option must be set. ``why`` completes the sentence (``"it is the URL of the Vault API"``)."""
        value = self.value(name)
        if value is None:
            self.add("%s must be set%s" % (name, ": " + why if why else ""))
        return value

    def text(self, name, pattern=None, rule=None, max_length=None, allow_space=True):
        """A string without control characters; with ``pattern``, the whole string matches it (``rule``
        says in words what the pattern allows); with ``allow_space=False``, no white space either."""
        value = self.value(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self._refuse(name, value, "must be a string")
            return None
        if has_control(value):
            self.add("%s must not contain a newline or another control character" % name)
            return None
        if not allow_space and has_space_or_control(value):
            self.add("%s must not contain white space" % name)
            return None
        if max_length is not None and len(value) > max_length:
            self.add("%s must be at most %d characters, got %d" % (name, max_length, len(value)))
            return None
        if pattern is not None and not re.fullmatch(pattern, value):
            self._refuse(name, value, "must be %s" % (rule or "of the form %s" % pattern))
            return None
        return value

    def token(self, name, pattern=None, rule=None):
        """A secret or an identifier sent in a header or a path: no white space, no control characters. A
        trailing newline, as a YAML block or a vaulted string leaves it, is refused, never sent."""
        return self.text(name, pattern=pattern, rule=rule, allow_space=False)

    def whole(self, name, minimum=None, maximum=None):
        """A whole number (see :func:`whole`) within ``minimum``..``maximum``."""
        return self._number(name, whole, "a whole number", minimum, maximum)

    def decimal(self, name, minimum=None, maximum=None):
        """A finite number in ASCII digits (see :func:`decimal`) within ``minimum``..``maximum``."""
        return self._number(name, decimal, "a number", minimum, maximum)

    def _number(self, name, convert, what, minimum, maximum):
        raw = self.params.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        number = convert(raw)
        if number is None:
            self._refuse(name, raw, "must be " + what)
        elif (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self._refuse(name, raw, "must be %s" % _range(minimum, maximum))
        else:
            return number
        return None

    def url(self, name, schemes=("https",), allow_insecure=False, path=False):
        """An absolute URL with a host and one of ``schemes`` (``http`` too when ``allow_insecure``), no
        user-info (a password in a URL ends up in logs), no white space, and with ``path=False`` no path,
        query or fragment beyond a trailing ``/``. Returns the URL without a trailing ``/``."""
        value = self.token(name)
        if value is None:
            return None
        shown = _without_userinfo(value)
        allowed = tuple(schemes) + (("http",) if allow_insecure and "http" not in schemes else ())
        try:
            parts = urlsplit(value)
            host = parts.hostname
            parts.port  # pylint: disable=pointless-statement  # raises ValueError on a bad port
        except ValueError:
            self._refuse(name, shown, "must be a URL such as https://host[:port]")
            return None
        if parts.scheme.lower() not in allowed or not host:
            rule = "must be a URL such as %s://host[:port] (allowed schemes: %s)" % (schemes[0], ", ".join(allowed))
            if parts.scheme.lower() == "http" and "https" in allowed:
                rule += "; plain http sends every secret in clear text and needs its allow_insecure_http option"
            self._refuse(name, shown, rule)
            return None
        if parts.username is not None or parts.password is not None:
            self.add("%s must not hold a user name or password (user@host): pass credentials in their own "
                     "options" % name)
            return None
        if not path and (parts.path not in ("", "/") or parts.query or parts.fragment):
            self._refuse(name, shown, "must be the address of the server only, without a path, query or fragment")
            return None
        return value.rstrip("/")

    def path(self, name, absolute=True):
        """A file path without control characters, absolute when ``absolute``, naming a file (no trailing
        ``/``, no ``.`` or ``..`` part)."""
        value = self.text(name)
        if value is None:
            return None
        if absolute and not value.startswith(("/", "~")):
            self._refuse(name, value, "must be an absolute path")
            return None
        parts = value.split("/")
        if value.endswith("/") or "." in parts or ".." in parts:
            self._refuse(name, value, "must name a file, without a trailing '/' and without '.' or '..' parts")
            return None
        return value

    def one_of(self, name, choices):
        """One of ``choices`` (for values a spec cannot restrict: a role's variables read by a filter)."""
        value = self.value(name)
        if value is not None and value not in choices:
            self._refuse(name, value, "must be one of %s" % ", ".join(str(choice) for choice in choices))
            return None
        return value

    def distinct_paths(self, *names):
        """The paths of ``names`` that are set are all different files (compared as normalised paths): one
        option must never overwrite or delete what another one keeps."""
        seen = {}
        for name in names:
            value = self.params.get(name)
            if not isinstance(value, str) or not value.strip():
                continue
            key = normal_path(value)
            if key in seen:
                self.add("%s and %s must name different files, both are %s" % (seen[key], name, value))
            else:
                seen[key] = name

    def unique(self, name, what="entry"):
        """The list option holds no entry twice."""
        values = self.params.get(name) or []
        seen, twice = set(), []
        for item in values:
            key = item.strip() if isinstance(item, str) else repr(item)
            if key in seen and item not in twice:
                twice.append(item)
            seen.add(key)
        if twice:
            shown = "(values hidden)" if name in self.secret else ", ".join(str(item) for item in twice)
            self.add("%s must not hold the same %s twice: %s" % (name, what, shown))


def _range(minimum, maximum):
    if minimum is not None and maximum is not None:
        return "between %s and %s" % (_number_text(minimum), _number_text(maximum))
    if minimum is not None:
        return "at least %s" % _number_text(minimum)
    return "at most %s" % _number_text(maximum)


def _number_text(number):
    return str(int(number)) if float(number).is_integer() else str(number)


def _without_userinfo(url):
    """The URL with any user-info replaced, for quoting it in a message."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1***@", url)
