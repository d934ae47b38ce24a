"""The preflight_input_problems filter: the ranges and shapes of the preflight variables that no spec can check."""
from __future__ import annotations

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


@pytest.mark.parametrize("port,shown", [(0, "0"), (65536, "65536"), (-1, "-1"), ("443\n", "'443\\n'"),
                                        ("\u0664\u0664\u0663", "'\u0664\u0664\u0663'"), (True, "True")])
def test_ports_out_of_range_are_named(port, shown):
    got = errors(preflight_ports=[{"port": port, "state": "free"}])
    assert len(got) == 1 and got[0].startswith("preflight_ports[0].port must be "), got
    assert got[0].endswith("got %s." % shown), got


def test_a_port_listed_twice():
    assert errors(preflight_ports=[{"port": 443, "state": "free"}, {"port": 443, "state": "listening"}]) == [
        "preflight_ports[1].port 443 is already listed at preflight_ports[0]."]


def test_a_port_name_of_two_lines():
    assert errors(preflight_ports=[{"port": 443, "state": "free", "name": "HTTPS\nfor users"}]) == [
        "preflight_ports[0].name must not contain a newline or another control character."]


@pytest.mark.parametrize("endpoint", [
    {"name": "mirror", "url": "http://mirror.internal:8080/terraform/"},
    {"name": "mirror", "url": "https://mirror.internal/", "status_codes": [200], "timeout": 3},
    {"name": "smtp", "host": "smtp.internal.example", "port": 587},
    {"name": "ipv6", "host": "fd00::25", "port": 25},
    {"name": "default timeout", "host": "10.0.0.1", "port": 25, "timeout": 0},
    {"name": "url with a port of 0", "url": "https://mirror.internal/", "port": 0},
])
def test_good_endpoints_are_fine(endpoint):
    assert errors(preflight_endpoints=[endpoint]) == []


@pytest.mark.parametrize("endpoint,message", [
    ({"name": "smtp", "host": "127.0.0.1", "port": 70000},
     "preflight_endpoints[0].port must be between 1 and 65535, got 70000."),
    ({"name": "smtp", "host": "127.0.0.1"}, "preflight_endpoints[0] has a host, so it needs a port."),
    ({"name": "vcs"}, "preflight_endpoints[0] needs either a url, or a host and a port."),
    ({"name": "s3", "host": "s3.amazonaws.com", "port": 443, "url": "https://s3.amazonaws.com/"},
     "preflight_endpoints[0] has a url, so it takes no host or port"),
    ({"name": "mirror", "url": "https://mirror.example/", "port": 443},
     "preflight_endpoints[0] has a url, so it takes no host or port"),
    ({"name": "mirror", "url": "ftp://mirror.example/"},
     "preflight_endpoints[0].url must be a URL such as https://host[:port] (allowed schemes: https, http), "
     "got 'ftp://mirror.example/'."),
    ({"name": "mirror", "url": "https://ops:canary-pw@mirror.example/"},
     "preflight_endpoints[0].url must not hold a user name or password"),
    ({"name": "mirror", "url": "https://mirror.example/\n"},
     "preflight_endpoints[0].url must not contain a newline or another control character."),
    ({"name": "smtp", "host": "127.0.0.1", "port": 25, "timeout": -1},
     "preflight_endpoints[0].timeout must be between 0 and 3600, got -1."),
    ({"name": "smtp", "host": "127.0.0.1", "port": 25, "timeout": 86400},
     "preflight_endpoints[0].timeout must be between 0 and 3600, got 86400."),
    ({"name": "slash", "host": "smtp/relay", "port": 25},
     "preflight_endpoints[0].host must be a host name or an IP address, got 'smtp/relay'."),
    ({"name": "newline", "host": "smtp.example\n", "port": 25},
     "preflight_endpoints[0].host must not contain a newline or another control character."),
    ({"name": "quote", "host": 'smtp".example', "port": 25},
     "preflight_endpoints[0].host must be a host name or an IP address"),
    ({"name": "mirror", "url": "https://mirror.example/", "status_codes": [200, 999]},
     "preflight_endpoints[0].status_codes[1] must be an HTTP status code from 100 to 599, got 999."),
    ({"name": "smtp\nrelay", "host": "127.0.0.1", "port": 25},
     "preflight_endpoints[0].name must not contain a newline or another control character."),
    ({"name": "", "host": "github.com", "port": 443},
     "preflight_endpoints[0].name must be set: it names the endpoint in the table."),
])
def test_bad_endpoints_name_the_entry_and_the_rule(endpoint, message):
    got = errors(preflight_endpoints=[endpoint])
    assert len(got) == 1 and got[0].startswith(message), got
    assert "canary-pw" not in got[0]


def test_connect_timeout_out_of_range():
    assert errors(preflight_connect_timeout=0) == ["preflight_connect_timeout must be between 1 and 3600, got 0."]
    assert errors(preflight_connect_timeout="5\n") == ["preflight_connect_timeout must be a whole number, got '5\\n'."]
    assert errors(preflight_connect_timeout=None) == ["preflight_connect_timeout must be set."]


def test_soft_minimum_below_zero():
    assert errors(preflight_nofile_soft_min=-1) == [
        "preflight_nofile_soft_min must be between 0 and 1073741816, got -1."]


def test_minimum_above_what_linux_grants():
    assert errors(preflight_nofile_hard_min=2 ** 31) == [
        "preflight_nofile_hard_min must be between 0 and 1073741816, got 2147483648."]


def test_hard_minimum_below_soft_minimum():
    assert errors(preflight_nofile_soft_min=4096, preflight_nofile_hard_min=1024) == [
        "preflight_nofile_hard_min (1024) must be at least preflight_nofile_soft_min (4096)."]


def test_hard_minimum_equal_to_soft_minimum_is_fine():
    assert errors(preflight_nofile_soft_min="4096", preflight_nofile_hard_min=4096) == []


def test_user_names():
    assert errors(preflight_nofile_users=["root", "_svc", "ptfe-app", "machine$"]) == []
    assert errors(preflight_nofile_users=["root", "root; reboot", "Admin", "a\n"]) == [
        "preflight_nofile_users[1] must be a user name (lowercase letters, digits, '_', '-' and '.'), got 'root; reboot'.",
        "preflight_nofile_users[2] must be a user name (lowercase letters, digits, '_', '-' and '.'), got 'Admin'.",
        "preflight_nofile_users[3] must be a user name (lowercase letters, digits, '_', '-' and '.'), got 'a\\n'."]


@pytest.mark.parametrize("path", ["var/lib/docker", "/var/../etc", "/var/./lib", "/var/..", "", "/var/lib\n"])
def test_disk_paths_must_be_absolute_without_dot_parts(path):
    assert errors(preflight_disk=[{"path": path, "min_free_gib": 1}]) == [
        "preflight_disk[0].path must be an absolute path without '.' or '..' parts and without a newline or another "
        "control character, got %r." % path]


def test_dots_inside_a_name_are_fine():
    assert errors(preflight_disk=[{"path": "/srv/..data/v.1", "min_free_gib": 0}]) == []


@pytest.mark.parametrize("gib,shown", [(-0.5, "-0.5"), ("nan", "'nan'"), ("1e3", "'1e3'")])
def test_free_space_that_is_not_a_number_of_0_or_more(gib, shown):
    got = errors(preflight_disk=[{"path": "/", "min_free_gib": gib}])
    assert len(got) == 1 and got[0].startswith("preflight_disk[0].min_free_gib must be ") and got[0].endswith(
        "got %s." % shown), got


def test_every_problem_is_reported_in_the_order_of_the_variables():
    got = errors(preflight_ports=[{"port": 0, "state": "free"}], preflight_connect_timeout=0,
                 preflight_disk=[{"path": "data", "min_free_gib": -1}])
    assert got == ["preflight_ports[0].port must be between 1 and 65535, got 0.",
                   "preflight_connect_timeout must be between 1 and 3600, got 0.",
                   "preflight_disk[0].path must be an absolute path without '.' or '..' parts and without a newline "
                   "or another control character, got 'data'.",
                   "preflight_disk[0].min_free_gib must be at least 0, got -1."]


def test_a_missing_variable_is_a_clear_error():
    settings = dict(DEFAULTS)
    del settings["preflight_disk"]
    with pytest.raises(AnsibleFilterError, match="missing preflight_disk"):
        preflight_input_problems(settings)


def test_registered_under_its_name():
    assert FilterModule().filters()["preflight_input_problems"] is preflight_input_problems
