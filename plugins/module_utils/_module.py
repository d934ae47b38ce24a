# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of every ptfe.ops module.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

:class:`OpsModule` is an ``AnsibleModule`` with what every module of the collection shares:

* its connection options (:meth:`OpsModule.connection_argument_spec`, given by the subclass for its
  service: ``_ptfe_module.PtfeModule``, ``_vault_module.VaultModule``) merged with the module's own; a
  module's own option of the same name wins (``ptfe_iact`` makes ``address`` optional);
* the library check, :meth:`OpsModule.require`, reported with ``missing_required_lib``;
* the client of the service, built once by :meth:`OpsModule.client` after checking its library (so a
  module run that needs no client, ``ptfe_iact`` with ``method=host``, needs no library either);
* the checks of the connection options (:meth:`OpsModule.connection_problems`, the subclass's), run when the
  module starts, before its own checks and before any request: a bad address, token or timeout is refused
  by name, never sent;
* one :class:`~_redact.Redactor`, seeded with every ``no_log`` value; the clients share it and add every
  secret they send or learn; warnings and failure messages pass through it;
* one error boundary, :meth:`OpsModule.errors`, that turns the collection's typed errors (``OpsError``),
  an ``OSError`` while the module writes files and any unexpected error into one ``fail_json``.

A module then reads::

    module = PtfeModule(argument_spec=dict(version=dict(type="str", required=True)))
    module.fail_on_invalid(validate(module.params), "ptfe_thing")
    with module.errors("manage thing %s" % module.params["version"]):
        result = run(module, module.client())
    module.exit_json(**result)
"""

from __future__ import annotations

import contextlib
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._libraries import optional_import
from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor, url_secrets
from ansible_collections.ptfe.ops.plugins.module_utils._validation import Checker

#: The password of a URL's user-info.
URL_PASSWORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:([^/@]+)@")

#: The bounds of the options every connection shares.
MAX_TIMEOUT = 3600
MAX_RETRIES = 20


class OpsModule(AnsibleModule):
    """AnsibleModule plus the collection's connection options, library check, client, redactor and error
    boundary. A subclass names its service's connection options, client and client library.

    Check mode is supported unless a module says otherwise: every module of the collection either only reads
    or writes only ``if changed and not module.check_mode``.
    """

    #: The Python library the client needs (the subclass's).
    client_library = None
    _client = None

    def __init__(self, argument_spec=None, supports_check_mode=True, **kwargs):
        spec = self.connection_argument_spec()
        spec.update(argument_spec or {})
        self.redactor = Redactor()
        super(OpsModule, self).__init__(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.redactor.add(*self.no_log_values)
        self._hide_url_passwords()
        check = self.checker()
        self.connection_problems(check)
        self.fail_on_invalid(check.problems, self._name)

    def _hide_url_passwords(self):
        """Every secret a URL option carries (a password or token as its user-info, a secret query value) is
        refused by the checks below, but the refusal echoes the module's arguments back: mask it there like a
        ``no_log`` value, and in every message."""
        for value in self.params.values():
            if isinstance(value, str) and "://" in value:
                secrets = url_secrets(value)
                self.no_log_values.update(secrets)
                self.redactor.add(*secrets)

    def checker(self):
        """A :class:`~_validation.Checker` of this module's parameters that never quotes a ``no_log`` option."""
        secret = [name for name, spec in self.argument_spec.items() if spec.get("no_log")]
        return Checker(self.params, secret=secret)

    def connection_problems(self, check):
        """Check the connection options with ``check`` (the subclass's options; here the shared ones)."""
        if "timeout" in self.argument_spec:
            check.whole("timeout", minimum=1, maximum=MAX_TIMEOUT)
        if "max_retries" in self.argument_spec:
            check.whole("max_retries", minimum=0, maximum=MAX_RETRIES)
        if "token" in self.argument_spec:
            check.token("token")

    @classmethod
    def connection_argument_spec(cls):
        """The connection options of the service (the subclass's); the base has none."""
        return {}

    def new_client(self):
        """A new client of the service, from the connection options (the subclass's)."""
        raise NotImplementedError

    def client(self):
        """The client of the service; the same one on every call. It may raise the client's typed error (an
        address it refuses, say), so call it inside :meth:`errors`."""
        if self._client is None:
            if self.client_library:
                self.require(self.client_library)
            self._client = self.new_client()
        return self._client

    def require(self, *libraries):
        """Fail, naming it, when one of the Python ``libraries`` is not installed where the module runs."""
        for name in libraries:
            error = optional_import(name)[1]
            if error is not None:
                self.fail_json(msg=missing_required_lib(name), exception=str(error))

    def warn(self, warning, **kwargs):
        """Emit a warning, with any secret in it redacted."""
        super(OpsModule, self).warn(self.redactor(warning), **kwargs)

    def fail_json(self, msg=None, **kwargs):
        """Fail with ``msg`` and any ``exception`` text redacted: input refusals and library errors too."""
        if isinstance(kwargs.get("exception"), str):
            kwargs["exception"] = self.redactor(kwargs["exception"])
        super(OpsModule, self).fail_json(msg=self.redactor(msg), **kwargs)

    def exit_json(self, **kwargs):
        """Exit with the result; its ``msg`` redacted."""
        if isinstance(kwargs.get("msg"), str):
            kwargs["msg"] = self.redactor(kwargs["msg"])
        super(OpsModule, self).exit_json(**kwargs)

    def fail_on_invalid(self, problems, subject):
        """Fail before anything is sent when the input has ``problems`` (messages naming their option)."""
        if problems:
            self.fail_json(msg="Invalid parameters for %s: %s" % (subject, "; ".join(problems)))

    @contextlib.contextmanager
    def errors(self, action, result=None, writing=None):
        """The error boundary: run the ``with`` block, and turn what it raises into one ``fail_json``.

        * An :class:`OpsError` fails with its own message (``Failed to <action> <resource>: ...``).
        * An ``OSError``, when ``writing`` says what the module writes ("write rekey files"), fails with
          ``Failed to <writing>: <error>``.
        * Anything else is unexpected: ``Failed to <action>: unexpected <type>: <error>``.

        Every message, and the traceback Ansible shows when asked to, passes through the redactor. ``result``
        (the module's partial result) is returned with the failure. ``fail_json`` and ``exit_json`` called in
        the block pass through untouched.
        """
        try:
            yield
        except Exception as exc:  # pylint: disable=broad-except
            extra = dict((k, v) for k, v in (result or {}).items() if k not in ("msg", "exception", "failed"))
            self.fail_json(msg=self.redactor(failure_message(exc, action, writing)),
                           exception=self.redactor(traceback.format_exc()), **extra)


def failure_message(exc, action, writing=None):
    """The message of the failure ``exc`` (see :meth:`OpsModule.errors`)."""
    if isinstance(exc, OpsError):
        return str(exc)
    if writing is not None and isinstance(exc, OSError):
        return "Failed to %s: %s" % (writing, exc)
    return "Failed to %s: unexpected %s: %s" % (action, type(exc).__name__, exc)
