# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the first admin's API token is kept beyond the machine that runs the module.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore): it is for
the collection's own modules and may change without notice.

With ``custody=file`` the token lives in ``token_file`` alone (mode 0600). With ``custody=s3`` it is also kept
as a JSON document in a versioned bucket under SSE-KMS, written and read back by the keys' own
:class:`~_custody.S3Custody`, so that a run in a fresh container (an AWX job) finds it. The document is bound
to one installation (its address): a document of another installation is never read as this one's token, nor
written over.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.ptfe.ops.plugins.module_utils._custody import (
    CustodyError,
    S3Custody,
    check_custody,
    custody_argument_spec,
    custody_errors,
    now,
)
from ansible_collections.ptfe.ops.plugins.module_utils._redact import Redactor
from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_space_or_control

#: What the ``kind`` field of a token document says.
DOCUMENT_KIND = "ptfe-admin-token"
DOCUMENT_VERSION = 1


def token_custody_argument_spec():
    """The custody options without the keys' own files (see doc fragment ptfe.ops.admin_token)."""
    spec = custody_argument_spec()
    del spec["keys_file"]
    del spec["state_file"]
    return spec


def check_token_custody(check):
    """Every input rule of the custody options (values, and which go together), with ``check``."""
    check_custody(check)
    check.problems.extend(custody_errors(check.params, keys_file_optional=True))


def installation(address):
    """The installation an address names, as the token document records it: scheme and host in lower case, the
    default scheme https, no trailing slash."""
    address = (address or "").strip()
    if "://" not in address:
        address = "https://" + address
    parts = urlsplit(address)
    return "%s://%s%s" % (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"))


class TokenCustody:
    """The durable copy of the admin token (``custody=s3``); with ``custody=file`` there is none
    (``durable`` is false and every method is a no-op)."""

    def __init__(self, params, redactor=None):
        self.redactor = redactor if redactor is not None else Redactor()
        self.installation = installation(params.get("address"))
        self.s3 = None
        if params.get("custody") == "s3":
            self.s3 = S3Custody(params["s3_bucket"], params["s3_object"], kms_key_id=params.get("s3_kms_key_id"),
                                region=params.get("s3_region"), endpoint_url=params.get("s3_endpoint_url"),
                                profile=params.get("s3_profile"), ca_bundle=params.get("s3_ca_bundle"),
                                redactor=redactor)

    @property
    def durable(self):
        return self.s3 is not None

    def describe(self):
        return self.s3.describe("keys") if self.s3 else "(nowhere)"

    def read(self):
        """The token document of this installation, or None when there is none. CustodyError when the object
        holds something else, or the token of another installation."""
        if self.s3 is None:
            return None
        doc = self.s3.read("keys")
        if doc is None:
            return None
        token = doc.get("token")
        if doc.get("kind") != DOCUMENT_KIND or not isinstance(token, str) or not token.strip() \
                or has_space_or_control(token.strip()):
            raise CustodyError("Refusing to use %s: it is not an admin token document as ptfe.ops.ptfe_initial_admin "
                               "writes it. Give the admin token an object of its own (s3_object)" % self.describe())
        self.redactor.add(token)
        if doc.get("installation") != self.installation:
            raise CustodyError(
                "Refusing to use %s: it holds the admin token of the installation at %s, not of %s. Give every "
                "installation its own s3_object" % (self.describe(), doc.get("installation"), self.installation))
        return doc

    def problems(self):
        """Why the token could not be stored (versioning off, bucket unreadable), found without writing."""
        return self.s3.check() if self.s3 else []

    def write(self, token, user=None):
        """Store ``token`` as this installation's; the object is read back. Refuses to replace a document of another
        installation (:meth:`read` raises)."""
        if self.s3 is None:
            return
        self.read()
        problems = self.problems()
        if problems:
            raise CustodyError("Failed to store the admin token in %s: %s" % (self.describe(), "; ".join(problems)))
        user = user or {}
        self.s3.write("keys", {
            "kind": DOCUMENT_KIND,
            "version": DOCUMENT_VERSION,
            "installation": self.installation,
            "username": user.get("username"),
            "user_id": user.get("id"),
            "stored_at": now(),
            "token": token,
        })
