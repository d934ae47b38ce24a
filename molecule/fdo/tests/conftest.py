# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make molecule/shared importable for this scenario's tests."""
from __future__ import annotations

import sys
from pathlib import Path

SHARED = str(Path(__file__).resolve().parents[2] / "shared")
if SHARED not in sys.path:
    sys.path.insert(0, SHARED)
