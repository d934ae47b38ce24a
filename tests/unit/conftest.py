"""Shared fixtures of the unit tests."""
from __future__ import annotations

import pytest
from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def module_process_view(monkeypatch):
    """Run every test as a module process sees the world.

    Importing controller code (a filter plugin imports ansible.errors) marks the whole Python process as the
    controller; from then on AnsibleModule.warn() hands warnings to the controller's display instead of the
    module's result, and a test that reads the result's warnings would depend on which tests ran before it.
    """
    monkeypatch.setattr(_internal, "is_controller", False)
