# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The root of the typed errors the collection's shared code raises.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

Clients and engines (``PtfeError``, ``VaultError``, ``CustodyError``, ``RekeyError``, ``ToolVersionError``,
``ReleasesError``, ...) derive from :class:`OpsError` and never call ``fail_json``. The module base
(``_module.OpsModule.errors``) turns any of them into one ``fail_json`` whose message is redacted first.
"""

from __future__ import annotations


class OpsError(Exception):
    """An expected failure. ``str()`` is the one-line message a module shows
    (``Failed to <action> <resource>: ...``)."""
