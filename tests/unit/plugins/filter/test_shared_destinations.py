"""The shared_destinations filter: which keys destinations two hosts of one play would share."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.shared_destinations import FilterModule, shared_destinations


def test_every_host_its_own_destination_is_fine():
    assert shared_destinations({"a": "localhost:/k/a.json", "b": "localhost:/k/b.json", "c": "s3://x/c"}) == []


def test_shared_destinations_name_their_hosts_sorted():
    mapping = {"tfe2": "localhost:/k.json", "tfe1": "localhost:/k.json", "tfe3": "s3://b/o", "tfe4": "s3://b/o",
               "tfe5": "s3://b/other"}
    assert shared_destinations(mapping) == [
        "localhost:/k.json is the keys destination of tfe1, tfe2",
        "s3://b/o is the keys destination of tfe3, tfe4",
    ]


@pytest.mark.parametrize("empty", ["", None])
def test_hosts_without_a_destination_are_ignored(empty):
    assert shared_destinations({"a": empty, "b": empty, "c": "localhost:/k.json"}) == []


def test_same_path_on_two_machines_is_not_shared():
    # With vault_rekey_run_on_host the file lives on each host: the role prefixes the machine.
    assert shared_destinations({"a": "a:/srv/k.json", "b": "b:/srv/k.json"}) == []


def test_not_a_mapping_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects a mapping of host to destination, got list"):
        shared_destinations(["a", "b"])


def test_registered_under_its_name():
    assert FilterModule().filters()["shared_destinations"] is shared_destinations
