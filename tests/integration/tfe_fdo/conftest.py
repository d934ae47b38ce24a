"""Fixtures for the Terraform Enterprise FDO tests: the PTFE emulator playing an FDO version, in its own process."""
from __future__ import annotations

from tests.integration.ptfe_emulator_fixture import ptfe

__all__ = ["ptfe"]
