# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: hcl_string
short_description: A value as a quoted HCL string literal, escaped so that it stays one string
version_added: 0.3.0
description:
  - Returns the value between double quotes, with every character that HCL's native syntax would read as the end of
    the string, an escape or a template sequence escaped, so that operator input written into a C(.tf) file can
    never add an attribute or a line of its own.
  - Escapes backslash, double quote, newline, carriage return and tab, writes other control characters as
    C(\\uNNNN), and doubles the C($) of C(${) and the C(%) of C(%{) (HCL's template escapes).
options:
  _input:
    description: The value. Anything but a string is turned into one first.
    type: raw
    required: true
author:
  - ptfe.ops contributors (@ptfe-ops)
"""

EXAMPLES = r"""
- name: Write a backend block
  ansible.builtin.copy:
    dest: /srv/terraform/backend.tf
    content: |
      terraform {
        backend "s3" {
          key = {{ state_key | ptfe.ops.hcl_string }}
        }
      }
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The quoted, escaped string literal.
  type: str
"""

import re

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f\u2028\u2029]|\$\{|%\{')


def _escape(match):
    text = match.group(0)
    if text in _ESCAPES:
        return _ESCAPES[text]
    if text in ("${", "%{"):
        return text[0] + text
    return "\\u%04x" % ord(text)


def hcl_string(value):
    return '"%s"' % _SPECIAL.sub(_escape, "%s" % (value,))


class FilterModule:
    """Quote operator input for HCL files."""

    def filters(self):
        return {"hcl_string": hcl_string}
