"""The emulators' own tests, each checked by a client nobody here wrote (terrasnek, curl): the PTFE emulator
per test (own process, HTTPS, throwaway CA)."""
from __future__ import annotations

from tests.integration.ptfe_emulator_fixture import ptfe

__all__ = ["ptfe"]
