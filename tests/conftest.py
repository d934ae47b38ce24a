"""Make the collection importable as ansible_collections.ptfe.ops (and tests.* importable) for pytest."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_COLLECTIONS = ROOT / ".tmp" / "collections"
_LINK = _COLLECTIONS / "ansible_collections" / "ptfe" / "ops"
_LINK.parent.mkdir(parents=True, exist_ok=True)
try:
    _LINK.symlink_to(ROOT)
except FileExistsError:  # made by `make collection`, or by another test worker a moment ago
    pass
for entry in (str(_COLLECTIONS), str(ROOT)):
    if entry not in sys.path:
        sys.path.insert(0, entry)
