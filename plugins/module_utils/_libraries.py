# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Optional Python libraries (requests, hvac, boto3): imported where they are used, reported in one place.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

A library the controller may lack must not break the import of a module: the module has to start in order to
say, with ``missing_required_lib``, what is missing. :func:`optional_import` is the one way the collection
imports such a library; ``_module.OpsModule.require`` is the one place that reports it missing.
"""

from __future__ import annotations

import importlib


def optional_import(name):
    """Import ``name`` (``"requests"``, ``"botocore.exceptions"``): ``(module, None)``, or ``(None, error)``
    when it is not installed."""
    try:
        return importlib.import_module(name), None
    except ImportError as exc:
        return None, exc
