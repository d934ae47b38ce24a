# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one redactor: what keeps tokens, passwords and key shares out of messages.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

A :class:`Redactor` holds the secrets it was told about (the module base seeds it with every ``no_log``
value; clients add the tokens and key shares they send or receive) and removes them from any text, also
as the text of an exception shows them: escaped by ``repr`` or JSON (a token with a trailing newline is
``'...\\n'`` in requests' ``InvalidHeader``), percent-encoded in a URL, or without the blanks around them.

Whatever it was told, it also removes what is secret by its place in the text:

* the value of every secret-looking query-string or ``key=value`` parameter (``?token=...``,
  ``X-Amz-Signature=...``, ``Signature=...`` in an AWS ``Authorization`` header);
* the user-info of a URL (``https://user:password@host`` keeps ``https://********@host``);
* the value of a credential header (``X-Vault-Token: ...``, ``Authorization: Bearer ...``, in a header
  dict's ``repr`` too) and the value requests quotes when it refuses a header (``header value: '...'``);
* tokens and access keys by their shape (Vault ``hvs.``/``hvb.``/``hvr.`` tokens, Terraform Enterprise
  ``<id>.atlasv1.<secret>`` tokens, AWS access key IDs).

The module base, the PTFE client, the Vault client and the S3 custody share one instance, so a secret one
of them learns is removed from the messages of all of them.
"""

from __future__ import annotations

import json
import re

from urllib.parse import quote, quote_plus

REDACTED = "********"
#: Query-string parameters whose values are secrets (the IACT travels as ``?token=``).
SECRET_QUERY_KEYS = ("token", "password", "secret", "access_token", "api_token", "x-amz-security-token",
                     "x-amz-signature", "x-amz-credential", "signature", "credential", "client_secret",
                     "secret_access_key", "aws_secret_access_key", "aws_session_token", "session_token")
#: Headers whose values are credentials.
SECRET_HEADERS = ("x-vault-token", "authorization", "proxy-authorization", "x-amz-security-token", "cookie",
                  "set-cookie", "x-api-key", "x-tfe-token")
#: Shorter values are not replaced: a two-letter "secret" would garble every message it occurs in.
MIN_SECRET_LENGTH = 4

_NOT_REDACTED = r"(?!%s)" % re.escape(REDACTED)
# A value already redacted is left as it is, with whatever follows it (``?token=********: detail``).
_SECRET_QUERY_RE = re.compile(r"(?i)((?:^|[?&;,\s])(?:%s)=)%s[^&#,\s'\"]*"
                              % ("|".join(map(re.escape, SECRET_QUERY_KEYS)), _NOT_REDACTED))
#: ``scheme://user:password@`` or ``scheme://token@``: everything between ``//`` and ``@`` of one URL.
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)%s[^/?#@\s'\"]+@" % _NOT_REDACTED)
#: ``X-Vault-Token: value``, ``'X-Vault-Token': 'value'``, ``Authorization: Bearer value``.
_HEADER_RE = re.compile(r"(?i)(['\"]?\b(?:%s)['\"]?\s*[:=]\s*['\"]?(?:(?:bearer|basic|token)\s+)?)%s"
                        r"[^'\",}\s]+"
                        % ("|".join(map(re.escape, SECRET_HEADERS)), _NOT_REDACTED))
#: requests refusing a header: ``... in header value: 'Bearer s.token\\n'`` (the value as its repr).
_HEADER_VALUE_RE = re.compile(r"(?i)(header value:\s*)(?:b?'(?:[^'\\]|\\.)*'|b?\"(?:[^\"\\]|\\.)*\")")
#: ``Bearer <token>`` anywhere.
_BEARER_RE = re.compile(r"(?i)\b(bearer\s+)%s[^\s'\",}]+" % _NOT_REDACTED)
#: Secrets recognised by their shape alone.
_SHAPED_RE = re.compile(r"\b(?:hv[sbr]\.[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{10,}\.atlasv1\.[A-Za-z0-9_-]{20,}"
                        r"|(?:AKIA|ASIA)[0-9A-Z]{16})\b")


def is_secret_key(name):
    """Whether a query-string parameter called ``name`` carries a secret."""
    return str(name).lower() in SECRET_QUERY_KEYS


def variants(secret):
    """The ways a secret can stand in a message: as it is, without surrounding blanks, escaped as ``repr``
    and JSON show it (a newline as ``\\n``), and percent-encoded as in a URL."""
    forms = {secret, secret.strip(), repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe=""),
             quote_plus(secret, safe="")}
    forms.update(json.dumps(form)[1:-1] for form in list(forms))  # escaped twice: JSON inside a message
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor(object):
    """Removes known secrets and secret-looking values from text. Call it: ``redactor(text)``."""

    def __init__(self, secrets=()):
        self._secrets = set()
        self._forms = []
        self.add(*secrets)

    def add(self, *values):
        """Remember values that must never appear in a message (empty ones are ignored)."""
        changed = False
        for value in values:
            if value is not None and not isinstance(value, bool) and str(value).strip() \
                    and str(value) not in self._secrets:
                self._secrets.add(str(value))
                changed = True
        if changed:
            forms = set()
            for secret in self._secrets:
                forms.update(variants(secret))
            self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text):
        if text is None:
            return None
        text = str(text)
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return redact_shapes(text)


def url_secrets(text):
    """The secrets a URL carries where they are found by their place: its user-info (``user:password`` or a
    token as the user name) and the values of its secret query-string parameters. For a module to treat them as
    ``no_log`` values, so that they are masked in the arguments Ansible echoes back as well."""
    secrets = []
    for match in re.finditer(r"(?i)\b[a-z][a-z0-9+.-]*://([^/?#@\s'\"]+)@", text):
        userinfo = match.group(1)
        secrets.extend(part for part in (userinfo, userinfo.partition(":")[2]) if part)
    for match in _SECRET_QUERY_RE.finditer(text):
        value = text[match.end(1):match.end()]
        if value:
            secrets.append(value)
    return [secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH]


def redact_shapes(text):
    """``text`` without what is secret by its place or its shape (see the module docstring)."""
    text = _USERINFO_RE.sub(lambda match: match.group(1) + REDACTED + "@", text)
    text = _HEADER_VALUE_RE.sub(lambda match: match.group(1) + "'" + REDACTED + "'", text)
    text = _HEADER_RE.sub(lambda match: match.group(1) + REDACTED, text)
    text = _BEARER_RE.sub(lambda match: match.group(1) + REDACTED, text)
    text = _SHAPED_RE.sub(REDACTED, text)
    return _SECRET_QUERY_RE.sub(lambda match: match.group(1) + REDACTED, text)


def redact(text, secrets=()):
    """``text`` without ``secrets`` and without secret-looking values."""
    return Redactor(secrets)(text)


# What a file on a host (a log, a configuration file, the environment of a container) gives away besides what the
# messages above carry: the support bundle's redactor. Additive to the rules above, which it applies as well.

#: Words that make a name a secret's name wherever a value is assigned to it in a file: ``TFE_ENCRYPTION_PASSWORD=``,
#: ``"db_password": "..."``, ``license: ...``, ``--token ...``.
SECRET_NAME_WORDS = (r"passw(?:or)?d", r"pwd", r"secret", r"token", r"licen[cs]e", r"credential", r"unseal",
                     r"private[_.-]?key", r"api[_.-]?key", r"access[_.-]?key", r"signing[_.-]?key",
                     r"encryption[_.-]?key", r"signature", r"cookie", r"session[_.-]?id", r"dsn",
                     r"database[_.-]?url", r"connection[_.-]?string", r"role[_.-]?id")
_NAME = r"[A-Za-z0-9_.-]*(?:%s)[A-Za-z0-9_.-]*" % "|".join(SECRET_NAME_WORDS)
#: ``NAME=value``, ``NAME: value``, ``"NAME": "value"``, ``NAME = "value"``, ``name => 'value'``; the value
#: quoted (kept quoted, escapes included) or up to a blank, a quote, ``,``, ``;``, ``}`` or ``]``.
_ASSIGNMENT_RE = re.compile(r"(?i)((?<![A-Za-z0-9_.-])([\"']?)%s\2[ \t]*(?::|=>|=)[ \t]*)%s"
                            r"(\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s,;{}\[\]'\"][^\s,;}\]'\"]*)" % (_NAME, _NOT_REDACTED))
#: Replicated's settings: ``"enc_password": {"value": "..."}`` (the name outside, the value one level in).
_NESTED_VALUE_RE = re.compile(r"(?i)([\"']%s[\"'][ \t]*:[ \t]*\{[^{}]*?[\"']value[\"'][ \t]*:[ \t]*)%s"
                              r"(\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')" % (_NAME, _NOT_REDACTED))
#: ``--password value`` on a command line.
_OPTION_RE = re.compile(r"(?i)((?<![A-Za-z0-9_-])--?%s[ \t]+)%s([^\s'\"-][^\s'\"]*)" % (_NAME, _NOT_REDACTED))
#: ``Unseal Key 1: ...`` as Vault prints the shares.
_UNSEAL_LINE_RE = re.compile(r"(?i)(unseal[ \t]+key[ \t]*[0-9]*[ \t]*[:=][ \t]*)%s\S+" % _NOT_REDACTED)
#: A PEM private key, also one cut off before its end line.
_PEM_RE = re.compile(r"(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----)[\s\S]*?(?:(-----END \2PRIVATE KEY-----)|\Z)")
#: An AES key of 32 bytes in base64 (Vault's unseal key as the AMI stores it) or in hex (not a SHA-256 digest).
_KEY_SHAPE_RE = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])"
                           r"|(?<![A-Za-z0-9:=@])(?<!sha256:)[0-9a-fA-F]{64}(?![0-9a-zA-Z])")
#: A URL: its query values and its user-info go, whatever their names (a download URL is a credential).
_URL_RE = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>`]+")
_QUERY_VALUE_RE = re.compile(r"([?&;][^=&#;?]+=)(?!%s)[^&#;]*" % re.escape(REDACTED))
#: TFE's archivist object URLs carry an encrypted, signed object key in the path.
_ARCHIVIST_RE = re.compile(r"(/_archivist/v[0-9]+/object/)[^\s'\"?#]+")


def _quoted(value):
    """``value`` redacted, in the quotes it stood in."""
    if value[:1] in ("'", '"') and len(value) > 1 and value[-1] == value[0]:
        return value[0] + REDACTED + value[0] if len(value) > 2 else value
    return REDACTED


def _redact_url(match):
    url = _USERINFO_RE.sub(lambda inner: inner.group(1) + REDACTED + "@", match.group(0))
    url = _ARCHIVIST_RE.sub(lambda inner: inner.group(1) + REDACTED, url)
    return _QUERY_VALUE_RE.sub(lambda inner: inner.group(1) + REDACTED, url)


def redact_file_text(text, secrets=()):
    """``text`` of a file collected from a host, without ``secrets`` (known values, say the operator's), without
    what :func:`redact` removes, and without what is secret by its place or shape in a file: private keys, values
    assigned to secret-looking names (``TFE_*_PASSWORD=``, ``"token": "..."``, ``--password x``), unseal keys, the
    query values and user-info of every URL (database URLs with credentials, presigned download URLs)."""
    if text is None:
        return None
    text = Redactor(secrets)(str(text))
    text = _PEM_RE.sub(lambda match: "%s\n%s\n%s" % (match.group(1), REDACTED, match.group(3) or ""), text)
    text = _URL_RE.sub(_redact_url, text)
    text = _NESTED_VALUE_RE.sub(lambda match: match.group(1) + _quoted(match.group(2)), text)
    text = _ASSIGNMENT_RE.sub(lambda match: match.group(1) + _quoted(match.group(3)), text)
    text = _OPTION_RE.sub(lambda match: match.group(1) + REDACTED, text)
    text = _UNSEAL_LINE_RE.sub(lambda match: match.group(1) + REDACTED, text)
    return _KEY_SHAPE_RE.sub(REDACTED, text)
