"""The preflight_input_problems filter: the ranges and shapes of the preflight variables that no spec can check."""
from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.preflight_input_problems import FilterModule, preflight_input_problems

DEFAULTS = {
    "preflight_ports": [{"port": 443, "state": "free", "name": "HTTPS for users"},
                        {"port": 22, "state": "listening", "name": "SSH for operators"}],
    "preflight_endpoints": [{"name": "S3 API", "host": "s3.amazonaws.com", "port": 443},
                            {"name": "Terraform releases", "url": "https://releases.hashicorp.com/"}],
    "preflight_connect_timeout": 5,
    "preflight_nofile_soft_min": 65536,
    "preflight_nofile_hard_min": 65536,
    "preflight_nofile_users": [],
    "preflight_disk": [{"path": "/", "min_free_gib": 10}, {"path": "/var/lib/docker", "min_free_gib": 40}],
}


def errors(**overrides):
    return preflight_input_problems(dict(DEFAULTS, **overrides))


def test_the_defaults_are_fine():
    assert errors() == []


@pytest.mark.parametrize("port", [1, 65535, "8080"])
def test_ports_in_range_are_fine(port):
    assert errors(preflight_ports=[{"port": port, "state": "free"}]) == []


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_ports_out_of_range_are_named(port):
    assert errors(preflight_ports=[{"port": port, "state": "free"}]) == ["preflight_ports: port %s is outside 1-65535." % port]


@pytest.mark.parametrize("endpoint", [
    {"name": "mirror", "url": "http://mirror.internal:8080/terraform/"},
    {"name": "mirror", "url": "https://mirror.internal/", "status_codes": [200], "timeout": 3},
    {"name": "smtp", "host": "smtp.internal.example", "port": 587},
    {"name": "ipv6", "host": "fd00::25", "port": 25},
    {"name": "default timeout", "host": "10.0.0.1", "port": 25, "timeout": 0},
])
def test_good_endpoints_are_fine(endpoint):
    assert errors(preflight_endpoints=[endpoint]) == []


@pytest.mark.parametrize("endpoint", [
    {"name": "smtp", "host": "127.0.0.1", "port": 70000},
    {"name": "smtp", "host": "127.0.0.1"},
    {"name": "vcs"},
    {"name": "s3", "host": "s3.amazonaws.com", "port": 443, "url": "https://s3.amazonaws.com/"},
    {"name": "mirror", "url": "ftp://mirror.example/"},
    {"name": "mirror", "url": "https://mirror.example/", "port": 443},
    {"name": "smtp", "host": "127.0.0.1", "port": 25, "timeout": -1},
    {"name": "slash", "host": "smtp/relay", "port": 25},
])
def test_bad_endpoints_are_named_with_what_was_given(endpoint):
    (message,) = errors(preflight_endpoints=[endpoint])
    assert message.startswith("preflight_endpoints: %s needs a name and either url (http:// or https://) or host and "
                              "port (1-65535)" % endpoint["name"])
    assert message.endswith("got %s." % json.dumps(endpoint))


def test_an_endpoint_with_an_empty_name_is_named_so():
    (message,) = errors(preflight_endpoints=[{"name": "", "host": "github.com", "port": 443}])
    assert message.startswith("preflight_endpoints: (no name) needs a name")
    assert message.endswith('got {"host": "github.com", "port": 443}.')


def test_connect_timeout_below_one_second():
    assert errors(preflight_connect_timeout=0) == ["preflight_connect_timeout (0) must be 1 second or more."]


def test_soft_minimum_below_zero():
    assert errors(preflight_nofile_soft_min=-1) == ["preflight_nofile_soft_min (-1) must be 0 or more."]


def test_hard_minimum_below_soft_minimum():
    assert errors(preflight_nofile_soft_min=4096, preflight_nofile_hard_min=1024) == [
        "preflight_nofile_hard_min (1024) must be at least preflight_nofile_soft_min (4096)."]


def test_hard_minimum_equal_to_soft_minimum_is_fine():
    assert errors(preflight_nofile_soft_min="4096", preflight_nofile_hard_min=4096) == []


def test_user_names():
    assert errors(preflight_nofile_users=["root", "_svc", "ptfe-app", "machine$"]) == []
    assert errors(preflight_nofile_users=["root", "root; reboot", "Admin", "a\n"]) == [
        "preflight_nofile_users: not a user name: root; reboot, Admin, a\n."]


@pytest.mark.parametrize("path", ["var/lib/docker", "/var/../etc", "/var/./lib", "/var/..", ""])
def test_disk_paths_must_be_absolute_without_dot_parts(path):
    assert errors(preflight_disk=[{"path": path, "min_free_gib": 1}]) == [
        "preflight_disk: path '%s' must be absolute, without . or .. parts." % path]


def test_dots_inside_a_name_are_fine():
    assert errors(preflight_disk=[{"path": "/srv/..data/v.1", "min_free_gib": 0}]) == []


def test_negative_free_space():
    assert errors(preflight_disk=[{"path": "/", "min_free_gib": -0.5}]) == [
        "preflight_disk: min_free_gib of '/' must be 0 or more (got -0.5)."]


def test_every_problem_is_reported_in_the_order_of_the_variables():
    got = errors(preflight_ports=[{"port": 0, "state": "free"}], preflight_connect_timeout=0,
                 preflight_disk=[{"path": "data", "min_free_gib": -1}])
    assert got == ["preflight_ports: port 0 is outside 1-65535.",
                   "preflight_connect_timeout (0) must be 1 second or more.",
                   "preflight_disk: path 'data' must be absolute, without . or .. parts.",
                   "preflight_disk: min_free_gib of 'data' must be 0 or more (got -1)."]


def test_a_missing_variable_is_a_clear_error():
    settings = dict(DEFAULTS)
    del settings["preflight_disk"]
    with pytest.raises(AnsibleFilterError, match="missing preflight_disk"):
        preflight_input_problems(settings)


def test_registered_under_its_name():
    assert FilterModule().filters()["preflight_input_problems"] is preflight_input_problems
