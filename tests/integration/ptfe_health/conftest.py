"""Fixtures for the ptfe_health tests: the PTFE emulator in its own process."""
from __future__ import annotations

from tests.integration.ptfe_emulator_fixture import ptfe

__all__ = ["ptfe"]
