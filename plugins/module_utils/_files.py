# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private files that must never be seen half-written: tokens, unseal keys, rekey records.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

:func:`atomic_write` writes a temporary file in the target's directory, mode 0600 from its creation, fsyncs
it, renames it over the target and fsyncs the directory: a reader (or a crash) sees the old content or the
new one, never a mix, and no other user can read either.
"""

from __future__ import annotations

import json
import os
import tempfile

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError

PRIVATE_MODE = 0o600


class DocumentError(OpsError):
    """A file (or object) that should hold a JSON document holds something else."""


def json_bytes(document):
    """The bytes a JSON document is stored as: indented, keys sorted, one trailing newline."""
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def atomic_write(path, data, mode=PRIVATE_MODE):
    """Write ``data`` (bytes, or text stored as UTF-8) to ``path`` atomically with ``mode``, fsynced."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def atomic_write_json(path, document, mode=PRIVATE_MODE):
    """Write ``document`` to ``path`` as JSON (see :func:`json_bytes`), atomically, with ``mode``."""
    atomic_write(path, json_bytes(document), mode=mode)


def fsync_dir(directory):
    """Make a rename or removal in ``directory`` durable (where the platform allows it)."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def parse_json_document(raw, where):
    """The JSON object in ``raw`` (bytes or text read from ``where``); :class:`DocumentError` otherwise."""
    try:
        document = json.loads(raw)
    except ValueError:
        raise DocumentError("Failed to read %s: not JSON. Move it away after checking what it holds." % where)
    if not isinstance(document, dict):
        raise DocumentError("Failed to read %s: not a JSON object. Move it away after checking what it holds."
                            % where)
    return document


def read_json(path):
    """The JSON object in the file ``path``, or None when there is no such file."""
    if not path or not os.path.exists(path):
        return None
    if not os.path.isfile(path):
        raise DocumentError("Failed to read %s: not a regular file" % path)
    with open(path, "rb") as handle:
        return parse_json_document(handle.read(), path)


def read_text(path):
    """The text of the file ``path`` without surrounding white space, or None when it is missing or empty."""
    if not path or not os.path.isfile(path):
        return None
    with open(path, "r", encoding="utf-8") as handle:
        return handle.read().strip() or None


def remove(path):
    """Remove ``path`` if it exists, durably."""
    if path and os.path.exists(path):
        os.unlink(path)
        fsync_dir(os.path.dirname(os.path.abspath(path)))
