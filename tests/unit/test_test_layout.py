"""The test tree can be collected in one pytest run: the test folders have no __init__.py, so pytest imports
each test file by its base name, and two files of one name in one run stop the whole run at collection."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("suite", ["unit", "integration"])
def test_no_two_test_files_share_a_name(suite):
    names = Counter(path.name for path in (TESTS / suite).rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
