"""The preflight_ancestors filter: each disk path with its parents, deepest first."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.preflight_ancestors import FilterModule, preflight_ancestors


def test_a_path_and_its_parents_deepest_first_ending_with_root():
    assert preflight_ancestors(["/var/lib/docker"]) == {"/var/lib/docker": ["/var/lib/docker", "/var/lib", "/var", "/"]}


def test_root_is_its_own_only_ancestor():
    assert preflight_ancestors(["/"]) == {"/": ["/"]}


def test_empty_parts_are_dropped_and_the_key_is_the_path_as_given():
    assert preflight_ancestors(["//srv//ptfe/"]) == {"//srv//ptfe/": ["/srv/ptfe", "/srv", "/"]}


def test_every_path_gets_its_own_chain():
    assert preflight_ancestors(["/", "/data"]) == {"/": ["/"], "/data": ["/data", "/"]}


def test_not_a_list_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expects a list of paths, got str"):
        preflight_ancestors("/var")


def test_registered_under_its_name():
    assert FilterModule().filters()["preflight_ancestors"] is preflight_ancestors
