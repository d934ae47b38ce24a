# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The attributes of the collection's modules, as ``ansible.builtin.action_common_attributes`` gives them for
    ansible-core's. A module lists exactly one of these fragments; under its own ``attributes`` it may add
    ``details`` (a module's own values win over a fragment's).

    ``ptfe.ops.attributes`` is for a module that changes something: check mode, diff mode and idempotency are
    fully supported. ``ptfe.ops.attributes.read_only`` is for a module that only reads.

    The ``action_group`` attribute comes with the connection options (``ptfe.ops.ptfe``, ``ptfe.ops.vault``):
    the groups exist to set those options once, and every module that takes them belongs to its group.
    """

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying the target.
    support: full
  diff_mode:
    description: Returns details on what has changed (or would change in check mode), in diff mode.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same options, the second run reports no change.
      - This assumes that nothing else changed what the module manages in between.
    support: full
"""

    READ_ONLY = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying the target.
    support: full
    details: The module only reads, so it runs in check mode as it does otherwise.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode), in diff mode.
    support: none
    details: The module changes nothing, so there is no difference to show.
  idempotent:
    description: When run twice in a row, with the same options, the second run reports no change.
    support: full
    details: The module never changes anything.
"""
