"""ptfe.ops.ptfe_platform_info end to end: ansible-playbook against the PTFE emulator playing each generation."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import run_playbook
from tests.integration.ptfe_emulator_fixture import printed_result, writes

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "platform.yml"


@pytest.mark.parametrize("product, host, generation, version, readiness", [
    ("1.2.1", {"containers": ["terraform-enterprise"]}, "fdo", "1.2.1", True),
    ("1.1.2", {}, "fdo", "1.1.2", False),
    ("v202309-1", {"replicatedctl_present": True}, "replicated", "v202309-1", False),
    ("v202309-1", {}, "replicated", "v202309-1", False),
    ("v201712-3", {"vault_unseal_key_present": True, "replicatedctl_present": True}, "ami", "v201712-3", False),
], ids=["fdo-1.2.1", "fdo-1.1", "replicated", "replicated-api-only", "ami"])
def test_the_generation_from_the_api_and_host_facts(ptfe, product, host, generation, version, readiness):
    emu = ptfe(product_version=product)
    extra = {"address": emu.url, "ca_path": emu.ca_path}
    extra.update(host)
    for check in (False, True):
        run = run_playbook(PLAYBOOK, extra, check=check)
        assert run.rc == 0 and run.changed == 0, run.output
        found = printed_result(run)
        expected = (generation, version, readiness)
        assert (found["generation"], found["version"], found["readiness_endpoint"]) == expected
        assert found["evidence"]
    assert writes(emu) == [] and not any(e["authenticated"] for e in emu.requests_log())
    assert {e["path"] for e in emu.requests_log()} == {"/api/v2/ping", "/api/v1/health/readiness"}
