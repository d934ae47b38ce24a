"""The ulimits_problems filter: the ulimits role's decision on its variables and what it read from the host."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.ulimits_problems import (
    CAP_SYS_RESOURCE,
    FilterModule,
    hard_nofile,
    has_capability,
    nr_open,
    ulimits_problems,
)

GOOD = {
    "ulimits_nofile_soft": 4096,
    "ulimits_nofile_hard": 8192,
    "ulimits_nofile_minimum": 1024,
    "ulimits_domains": ["*", "root", "@docker"],
    "ulimits_systemd_dropin_name": "60-ptfe-ops-nofile.conf",
    "ulimits_docker_enabled": True,
    "ulimits_docker_daemon_path": "/etc/docker/daemon.json",
}

# /proc/self/limits as Linux prints it (the columns are padded with spaces).
LIMITS = """Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            %s                %s                files
Max locked memory         8388608              8388608              bytes
"""
# /proc/self/status, cut down: a container's root (CAP_SYS_RESOURCE withheld) and a host's root (all of them).
STATUS_CONTAINER = "Name:\tpython3\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n"
STATUS_ROOT = "Name:\tpython3\nCapEff:\t000001ffffffffff\n"


def host(hard=20000, status=STATUS_CONTAINER, ceiling="1048576\n", **extra):
    values = {"nr_open": ceiling, "limits": LIMITS % (hard, hard), "status": status}
    values.update(extra)
    return values


def test_nothing_in_the_way():
    assert ulimits_problems(GOOD, host()) == []


def test_the_capability_bit_is_cap_sys_resource():
    assert CAP_SYS_RESOURCE == 24
    assert has_capability(STATUS_CONTAINER, CAP_SYS_RESOURCE) is False
    assert has_capability(STATUS_ROOT, CAP_SYS_RESOURCE) is True
    assert has_capability("CapEff:\t0000000001000000\n", CAP_SYS_RESOURCE) is True
    assert has_capability("CapEff:\t0000000000ffffff\n", CAP_SYS_RESOURCE) is False


@pytest.mark.parametrize("text", [None, "", "Name:\tx\n", "CapEff:\tnot-hex\n"])
def test_unknown_capabilities_are_none(text):
    assert has_capability(text, CAP_SYS_RESOURCE) is None


def test_host_reads_are_parsed():
    assert nr_open("1048576\n") == 1048576
    assert nr_open(1048576) == 1048576
    assert nr_open("") is None and nr_open(None) is None and nr_open("many") is None and nr_open(True) is None
    assert hard_nofile(LIMITS % (1024, 524288)) == 524288
    assert hard_nofile(LIMITS % ("unlimited", "unlimited")) == "unlimited"
    assert hard_nofile("Limit  Soft Limit  Hard Limit  Units\n") is None
    assert hard_nofile(None) is None


def test_soft_above_hard_names_both():
    problems = ulimits_problems(dict(GOOD, ulimits_nofile_soft=9000, ulimits_nofile_hard=4096), host())
    assert problems == ["ulimits_nofile_soft (9000) must not be above ulimits_nofile_hard (4096)"]


@pytest.mark.parametrize("name", ["ulimits_nofile_soft", "ulimits_nofile_hard"])
def test_below_the_minimum(name):
    settings = dict(GOOD, ulimits_nofile_soft=512, ulimits_nofile_hard=512)
    settings[name] = 512
    problems = ulimits_problems(settings, host())
    assert "%s (512) is below the minimum of 1024 (ulimits_nofile_minimum)" % name in problems


def test_minimum_follows_its_variable():
    settings = dict(GOOD, ulimits_nofile_minimum=8192)
    assert ulimits_problems(settings, host()) == [
        "ulimits_nofile_soft (4096) is below the minimum of 8192 (ulimits_nofile_minimum)"]


@pytest.mark.parametrize("value", [0, -5, "lots", 8192.5, True, None])
def test_a_limit_that_is_not_a_positive_whole_number(value):
    problems = ulimits_problems(dict(GOOD, ulimits_nofile_hard=value), host())
    assert problems == ["ulimits_nofile_hard must be a whole number of at least 1, got %r" % (value,)]


@pytest.mark.parametrize("value", [0, -1, "x"])
def test_a_minimum_below_one_is_refused(value):
    problems = ulimits_problems(dict(GOOD, ulimits_nofile_minimum=value), host())
    assert problems == ["ulimits_nofile_minimum must be a whole number of at least 1, got %r" % (value,)]


@pytest.mark.parametrize("soft", [0, "0", "-0", "0\n", "\u0660"])
def test_nofile_0_is_refused_when_the_minimum_is_lowered_to_0(soft):
    problems = ulimits_problems(dict(GOOD, ulimits_nofile_minimum=0, ulimits_nofile_soft=soft), host())
    assert problems == ["ulimits_nofile_minimum must be a whole number of at least 1, got 0",
                        "ulimits_nofile_soft must be a whole number of at least 1, got %r" % (soft,)]


def test_strings_from_extra_vars_count_as_numbers():
    assert ulimits_problems(dict(GOOD, ulimits_nofile_soft="4096", ulimits_nofile_hard="8192"), host()) == []


def test_hard_above_nr_open():
    problems = ulimits_problems(dict(GOOD, ulimits_nofile_hard=2 ** 21), host(status=STATUS_ROOT))
    assert problems == ["ulimits_nofile_hard (2097152) is above the kernel's fs.nr_open (1048576): no process could "
                        "get that limit"]


def test_hard_above_what_a_container_can_grant():
    problems = ulimits_problems(dict(GOOD, ulimits_nofile_hard=20001), host(hard=20000))
    assert len(problems) == 1
    assert problems[0].startswith("ulimits_nofile_hard (20001) is above the open-file hard limit this host was "
                                  "started with (20000), and it cannot be raised here (no CAP_SYS_RESOURCE")
    assert problems[0].endswith("Use at most 20000")


def test_hard_above_the_host_limit_is_fine_with_cap_sys_resource():
    assert ulimits_problems(dict(GOOD, ulimits_nofile_hard=20001), host(hard=20000, status=STATUS_ROOT)) == []


def test_hard_limit_equal_to_the_host_limit_is_fine():
    assert ulimits_problems(dict(GOOD, ulimits_nofile_hard=20000), host(hard=20000)) == []


def test_unlimited_host_limit_never_refuses():
    settings = dict(GOOD, ulimits_nofile_hard=900000)
    assert ulimits_problems(settings, dict(host(), limits=LIMITS % ("unlimited", "unlimited"))) == []


@pytest.mark.parametrize("missing", ["nr_open", "limits", "status"])
def test_a_read_that_is_missing_skips_only_its_check(missing):
    settings = dict(GOOD, ulimits_nofile_hard=2 ** 21)
    reads = host(hard=20000)
    reads[missing] = None
    problems = ulimits_problems(settings, reads)
    nr_open_problem = any("fs.nr_open" in p for p in problems)
    host_problem = any("started with" in p for p in problems)
    assert nr_open_problem is (missing != "nr_open")
    assert host_problem is (missing == "nr_open")


@pytest.mark.parametrize("domains", [[], "root", None])
def test_domains_that_are_no_list(domains):
    problems = ulimits_problems(dict(GOOD, ulimits_domains=domains), host())
    assert problems == ["ulimits_domains must be a non-empty list of limits.conf domains without white space or "
                        "'#', got %r" % (domains,)]


@pytest.mark.parametrize("domain", ["bad domain", "#root", "", 1, "root\n", "root\n*\thard\tnofile\t1", "%admins",
                                    "r\u00f6ot", ":", "@", "root#x", "1000-2000"])
def test_bad_domains_are_named_by_their_place(domain):
    problems = ulimits_problems(dict(GOOD, ulimits_domains=["*", domain]), host())
    assert problems == ["ulimits_domains[1] must be one limits.conf domain (a user name, @group, * or a uid range "
                        "min:max) without white space, '#' or a control character, got %r" % (domain,)]


@pytest.mark.parametrize("domain", ["*", "root", "@docker", "ptfe-app", "svc$", "1000:", ":1000", "1000:2000",
                                    "@100:200", "Admin"])
def test_good_domains(domain):
    assert ulimits_problems(dict(GOOD, ulimits_domains=[domain]), host()) == []


def test_a_domain_listed_twice():
    assert ulimits_problems(dict(GOOD, ulimits_domains=["*", "root", "root"]), host()) == [
        "ulimits_domains[2] root is already listed at ulimits_domains[1]"]


@pytest.mark.parametrize("name", ["../evil.conf", "nofile", "with space.conf", ".conf/x", "", "a\x00b.conf", None])
def test_bad_dropin_names(name):
    problems = ulimits_problems(dict(GOOD, ulimits_systemd_dropin_name=name), host())
    assert problems == ["ulimits_systemd_dropin_name must be a file name ending in .conf, got %r" % (name,)]


PATHS = {"ulimits_limits_file": "/etc/security/limits.d/nofile.conf",
         "ulimits_docker_daemon_path": "/etc/docker/daemon.json",
         "ulimits_vault_unseal_key_path": "/data/vault-unseal-key"}


def test_good_paths():
    assert ulimits_problems(dict(GOOD, **PATHS), host()) == []


@pytest.mark.parametrize("name,path,message", [
    ("ulimits_limits_file", "limits.d/nofile.conf",
     "ulimits_limits_file must be an absolute path, got 'limits.d/nofile.conf'"),
    ("ulimits_limits_file", "/etc/security/limits.d/nofile",
     "ulimits_limits_file must end in .conf (pam_limits reads only those in limits.d), got "
     "'/etc/security/limits.d/nofile'"),
    ("ulimits_limits_file", "/etc/security/limits.d/../../passwd.conf",
     "ulimits_limits_file must name a file, without a trailing '/' and without '.' or '..'"),
    ("ulimits_limits_file", "/etc/security/limits.d/nofile.conf\n", "ulimits_limits_file must not contain a newline"),
    ("ulimits_limits_file", "", "ulimits_limits_file must be set"),
    ("ulimits_docker_daemon_path", "/etc/docker/", "ulimits_docker_daemon_path must name a file"),
    ("ulimits_docker_daemon_path", "daemon.json", "ulimits_docker_daemon_path must be an absolute path"),
    ("ulimits_vault_unseal_key_path", "/data/vault-unseal-key\r", "ulimits_vault_unseal_key_path must not contain"),
    ("ulimits_vault_unseal_key_path", "/etc/docker/daemon.json", "ulimits_docker_daemon_path and "
                                                                 "ulimits_vault_unseal_key_path must name different "
                                                                 "files, both are /etc/docker/daemon.json"),
    ("ulimits_docker_daemon_path", "/etc/security/limits.d/./nofile.conf", "ulimits_docker_daemon_path must name a "
                                                                           "file"),
])
def test_bad_paths(name, path, message):
    problems = ulimits_problems(dict(GOOD, **dict(PATHS, **{name: path})), host())
    assert problems and problems[0].startswith(message), problems


def test_daemon_json_that_is_not_json():
    problems = ulimits_problems(GOOD, host(docker_config="{not json"))
    assert len(problems) == 1
    assert problems[0].startswith("Failed to read /etc/docker/daemon.json (ulimits_docker_daemon_path): it is not "
                                  "valid JSON or cannot be read (")


def test_daemon_json_that_cannot_be_read():
    problems = ulimits_problems(GOOD, host(docker_config="", docker_config_error="File is not readable: x"))
    assert problems == ["Failed to read /etc/docker/daemon.json (ulimits_docker_daemon_path): it is not valid JSON "
                        "or cannot be read (File is not readable: x). Fix or remove it, or set ulimits_docker_enabled "
                        "to false"]


def test_daemon_json_that_is_not_an_object():
    problems = ulimits_problems(GOOD, host(docker_config="[1, 2]"))
    assert problems == ["/etc/docker/daemon.json (ulimits_docker_daemon_path) must hold a JSON object, got list"]


@pytest.mark.parametrize("text", ['{"log-driver": "journald"}', "", "  \n", None])
def test_daemon_json_object_empty_or_absent_is_fine(text):
    assert ulimits_problems(GOOD, host(docker_config=text)) == []


def test_daemon_json_is_not_looked_at_without_docker():
    assert ulimits_problems(dict(GOOD, ulimits_docker_enabled=False), host(docker_config="{not json")) == []


def test_every_problem_is_reported_at_once():
    settings = dict(GOOD, ulimits_nofile_soft=9000, ulimits_nofile_hard=2 ** 21, ulimits_domains=["a b"],
                    ulimits_systemd_dropin_name="x")
    problems = ulimits_problems(settings, host(docker_config="[]"))
    assert [p.split(" ")[0] for p in problems] == [
        "ulimits_nofile_hard", "ulimits_nofile_hard", "ulimits_domains[0]", "ulimits_systemd_dropin_name",
        "/etc/docker/daemon.json"]


def test_variables_not_given_are_not_checked():
    assert ulimits_problems({}, {}) == []
    assert ulimits_problems({"ulimits_nofile_hard": 2 ** 21}) == []


@pytest.mark.parametrize("settings, reads, message", [
    (["x"], {}, "expects a mapping of the role's variables, got list"),
    ({}, ["x"], "expects host to be a mapping of what was read, got list"),
])
def test_bad_arguments_are_clear_errors(settings, reads, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ulimits_problems(settings, reads)


def test_registered_under_its_name():
    assert FilterModule().filters()["ulimits_problems"] is ulimits_problems
