# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one redactor: what keeps tokens, passwords and key shares out of messages.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

A :class:`Redactor` holds the secrets it was told about (the module base seeds it with every ``no_log``
value; clients add the tokens and key shares they send or receive) and removes them, and the value of
every secret-looking query-string parameter (``?token=...``), from any text. The module base, the PTFE
client, the Vault client and the S3 custody share one instance, so a secret one of them learns is
removed from the messages of all of them.
"""

from __future__ import annotations

import re

REDACTED = "********"
#: Query-string parameters whose values are secrets (the IACT travels as ``?token=``).
SECRET_QUERY_KEYS = ("token", "password", "secret", "access_token", "api_token", "x-amz-security-token",
                     "x-amz-signature", "x-amz-credential")
#: Shorter values are not replaced: a two-letter "secret" would garble every message it occurs in.
MIN_SECRET_LENGTH = 4

# A value already redacted is left as it is, with whatever follows it (``?token=********: detail``).
_SECRET_QUERY_RE = re.compile(r"(?i)((?:^|[?&;\s])(?:%s)=)(?!%s)[^&#\s'\"]*"
                              % ("|".join(map(re.escape, SECRET_QUERY_KEYS)), re.escape(REDACTED)))


def is_secret_key(name):
    """Whether a query-string parameter called ``name`` carries a secret."""
    return str(name).lower() in SECRET_QUERY_KEYS


class Redactor(object):
    """Removes known secrets and secret query-string values from text. Call it: ``redactor(text)``."""

    def __init__(self, secrets=()):
        self._secrets = set()
        self.add(*secrets)

    def add(self, *values):
        """Remember values that must never appear in a message (empty ones are ignored)."""
        for value in values:
            if value is not None and not isinstance(value, bool) and str(value).strip():
                self._secrets.add(str(value))

    def __call__(self, text):
        if text is None:
            return None
        text = str(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            if len(secret) >= MIN_SECRET_LENGTH:
                text = text.replace(secret, REDACTED)
        return _SECRET_QUERY_RE.sub(lambda match: match.group(1) + REDACTED, text)


def redact(text, secrets=()):
    """``text`` without ``secrets`` and without secret query-string values."""
    return Redactor(secrets)(text)
