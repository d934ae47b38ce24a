"""ptfe_platform_info's decision from the signs the API and the host give."""
from __future__ import annotations

import pytest

from ansible_collections.ptfe.ops.plugins.modules.ptfe_platform_info import decide


@pytest.mark.parametrize("signs, generation, version", [
    ({}, "unknown", None),
    ({"current": "1.2.1", "readiness": True}, "fdo", "1.2.1"),
    ({"current": "1.0.3"}, "fdo", "1.0.3"),
    ({"containers": ["tfe_terraform-enterprise_1"]}, "fdo", None),
    ({"calendar": "v202309-1"}, "replicated", "v202309-1"),
    ({"calendar": "v202309-1", "current": "1.1.0", "replicatedctl": True}, "replicated", "v202309-1"),
    ({"replicatedctl": True}, "replicated", None),
    ({"unseal_key": True, "replicatedctl": True, "calendar": "v201712-3"}, "ami", "v201712-3"),
    ({"unseal_key": True}, "ami", None),
    ({"calendar": "not-a-version"}, "unknown", None),
])
def test_decide(signs, generation, version):
    found = decide(**signs)
    assert found[:2] == (generation, version)
    assert bool(found[2]) == bool([value for value in signs.values() if value and value != "not-a-version"])
