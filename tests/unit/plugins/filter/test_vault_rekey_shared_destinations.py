"""The shared_destinations filter the vault_rekey role runs once per play: two spellings of one keys file or
object are one destination (its other rules are in tests/unit/plugins/filter/test_shared_destinations.py)."""
from __future__ import annotations

from ansible_collections.ptfe.ops.plugins.filter.shared_destinations import shared_destinations


def test_two_spellings_of_one_file_are_one_destination():
    assert shared_destinations({"a": "localhost:/k/./keys.json", "b": "localhost:/k//x/../keys.json",
                                "c": "localhost:/k/other.json"}) == [
        "localhost:/k/keys.json is the keys destination of a, b"]


def test_two_spellings_of_one_object_are_one_destination():
    assert shared_destinations({"c": "s3://b//vault/o.json", "d": "s3://b/vault//o.json", "e": "s3://b2/vault/o.json"}) \
        == ["s3://b/vault/o.json is the keys destination of c, d"]


def test_one_path_on_two_machines_stays_two_destinations():
    assert shared_destinations({"a": "tfe1:/srv/./k.json", "b": "tfe2:/srv/k.json"}) == []
