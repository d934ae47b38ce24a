# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Options shared by every module that talks to the PTFE / TFE API, and the action group they make."""

    DOCUMENTATION = r"""
options:
  address:
    description:
      - Base URL of the PTFE / Terraform Enterprise installation, for example V(https://ptfe.example.com).
      - A bare host name is taken as HTTPS.
      - An C(http://) address is refused before any request is sent unless O(allow_insecure_http=true).
      - If not set, the value of the E(TFE_ADDRESS) environment variable is used.
    type: str
    required: true
  allow_insecure_http:
    description:
      - Accept an C(http://) O(address). The API token, and whatever secret the module sends or receives
        (an IACT, a password, a new token), then travels in clear text; the module warns when it does.
      - Only for a test installation on a network you trust. Without it an C(http://) address fails the task
        with a message naming O(address) and this option, and nothing is sent.
    type: bool
    default: false
  token:
    description:
      - API token, sent in the C(Authorization) header as a bearer token.
      - If not set, the value of the E(TFE_TOKEN) environment variable is used.
      - Never logged or shown in messages.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the installation at O(address), against O(ca_path) when it is set.
      - Only set to V(false) against a throwaway test installation.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authority that signed the server's certificate, used instead of the
        system trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for the installation to connect and to answer, per HTTP request.
    type: int
    default: 30
  max_retries:
    description:
      - How many times a request is retried after a connection error, HTTP 429, 502 or 503.
      - Only idempotent requests (GET, HEAD, PUT, PATCH, DELETE) are retried after connection errors and
        502/503. A POST is retried only after HTTP 429 (the rate limiter rejected it before anything was
        done). One-shot bootstrap calls are never retried.
      - On HTTP 429 the wait is the server's C(X-RateLimit-Reset), otherwise an exponential backoff.
    type: int
    default: 5
attributes:
  action_group:
    description: Use C(group/ptfe.ops.ptfe) in C(module_defaults) to give the installation's address, token
      and TLS options once for every C(ptfe_*) task of a play.
    support: full
    membership:
      - ptfe.ops.ptfe
notes:
  - Requests are paced under the server's rate limit (30 requests per second unless the server's
    C(X-RateLimit-Limit) header says otherwise) and share one kept-alive HTTPS connection.
requirements:
  - requests (Python library, on the host that runs the module, usually the controller)
"""
