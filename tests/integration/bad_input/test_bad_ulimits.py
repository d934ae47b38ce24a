"""The ulimits role, given malformed variables: refused by name before anything is written (harness.py).

The role runs on this machine, in check mode (the play says so), with its limits file, daemon.json and Vault key
path under each case's own temporary directory and the systemd drop-ins off: a value that got through would show
as a change in the recap, and as a file in that directory, never as a change to this machine. The reads the role
makes first (/proc, the daemon.json path) change nothing.
"""
from __future__ import annotations

import dataclasses

import pytest

from tests.integration.bad_input.harness import Case, assert_refused, run_batch

LIMITS = {"ulimits_nofile_soft": 2048, "ulimits_nofile_hard": 4096, "ulimits_nofile_minimum": 1024,
          "ulimits_systemd_enabled": False}
DOMAIN = "ulimits_domains[1] must be one limits.conf domain"

CASES = [
    # the limits (issue item 9: nofile 0 once the minimum is lowered to 0)
    Case("soft_0_minimum_0", {"ulimits_nofile_minimum": 0, "ulimits_nofile_soft": 0},
         "ulimits_nofile_soft must be a whole number of at least 1, got 0"),
    Case("hard_0_minimum_0", {"ulimits_nofile_minimum": 0, "ulimits_nofile_soft": 0, "ulimits_nofile_hard": 0},
         "ulimits_nofile_hard must be a whole number of at least 1, got 0"),
    Case("minimum_0", {"ulimits_nofile_minimum": 0}, "ulimits_nofile_minimum must be a whole number of at least 1"),
    Case("minimum_negative", {"ulimits_nofile_minimum": -1}, "ulimits_nofile_minimum must be a whole number"),
    Case("soft_below_minimum", {"ulimits_nofile_soft": 512}, "ulimits_nofile_soft (512) is below the minimum of 1024"),
    Case("soft_above_hard", {"ulimits_nofile_soft": 4096, "ulimits_nofile_hard": 2048},
         "ulimits_nofile_soft (4096) must not be above ulimits_nofile_hard (2048)"),
    Case("soft_words", {"ulimits_nofile_soft": "lots"}, "ulimits_nofile_soft"),
    Case("hard_fraction", {"ulimits_nofile_hard": "4096.5"}, "ulimits_nofile_hard"),
    Case("soft_arabic_digits", {"ulimits_nofile_soft": "\u0662\u0660\u0664\u0668"},
         "ulimits_nofile_soft must be a whole number of at least 1"),
    Case("hard_above_nr_open", {"ulimits_nofile_hard": 2 ** 31}, "above the kernel's fs.nr_open"),
    # the domains, each a line of the limits file
    Case("domain_trailing_newline", {"ulimits_domains": ["*", "root\n"]}, DOMAIN),
    Case("domain_with_its_own_line", {"ulimits_domains": ["*", "root\n*\thard\tnofile\t1"]}, DOMAIN),
    Case("domain_space", {"ulimits_domains": ["*", "bad domain"]}, DOMAIN),
    Case("domain_hash", {"ulimits_domains": ["*", "#root"]}, DOMAIN),
    Case("domain_percent", {"ulimits_domains": ["*", "%admins"]}, DOMAIN),
    Case("domain_empty", {"ulimits_domains": ["*", ""]}, DOMAIN),
    Case("domain_twice", {"ulimits_domains": ["*", "*"]},
         "ulimits_domains[1] * is already listed at ulimits_domains[0]"),
    Case("domains_none", {"ulimits_domains": []}, "ulimits_domains must be a non-empty list"),
    # the systemd drop-in name
    Case("dropin_slash", {"ulimits_systemd_dropin_name": "../evil.conf"}, "ulimits_systemd_dropin_name must be a file"),
    Case("dropin_not_conf", {"ulimits_systemd_dropin_name": "nofile"}, "ulimits_systemd_dropin_name must be a file"),
    Case("dropin_nul", {"ulimits_systemd_dropin_name": "60-a\x01b.conf"}, "ulimits_systemd_dropin_name must be a file"),
    # the paths
    Case("limits_file_relative", {"ulimits_limits_file": "limits.d/nofile.conf"},
         "ulimits_limits_file must be an absolute path"),
    Case("limits_file_not_conf", {"ulimits_limits_file": "LIMITS_DIR/nofile"}, "ulimits_limits_file must end in .conf"),
    Case("limits_file_dotdot", {"ulimits_limits_file": "LIMITS_DIR/../nofile.conf"},
         "ulimits_limits_file must name a file, without a trailing '/' and without '.' or '..' parts"),
    Case("limits_file_newline", {"ulimits_limits_file": "LIMITS_DIR/nofile.conf\n"},
         "ulimits_limits_file must not contain a newline"),
    Case("daemon_path_directory", {"ulimits_docker_daemon_path": "LIMITS_DIR/"},
         "ulimits_docker_daemon_path must name a file"),
    Case("daemon_path_relative", {"ulimits_docker_daemon_path": "docker/daemon.json"},
         "ulimits_docker_daemon_path must be an absolute path"),
    Case("vault_key_is_daemon_json", {"ulimits_vault_unseal_key_path": "DAEMON_PATH"},
         "ulimits_docker_daemon_path and ulimits_vault_unseal_key_path must name different files"),
    Case("vault_key_newline", {"ulimits_vault_unseal_key_path": "CASE_DIR/vault-unseal-key\n"},
         "ulimits_vault_unseal_key_path must not contain a newline"),
    Case("daemon_json_not_an_object", {"daemon_json": "[1, 2]"}, "must hold a JSON object, got list"),
]


def _with_paths(case, base):
    """The case with its paths under its own directory (LIMITS_DIR, DAEMON_PATH and CASE_DIR stand for them)."""
    home = base / case.host
    (home / "docker").mkdir(parents=True)
    paths = {"LIMITS_DIR": str(home / "limits.d"), "DAEMON_PATH": str(home / "docker" / "daemon.json"),
             "CASE_DIR": str(home)}
    data = dict(LIMITS, ulimits_limits_file=str(home / "limits.d" / "nofile.conf"),
                ulimits_docker_daemon_path=paths["DAEMON_PATH"],
                ulimits_vault_unseal_key_path=str(home / "vault-unseal-key"))
    for name, value in case.vars.items():
        if isinstance(value, str):
            for placeholder, path in paths.items():
                value = value.replace(placeholder, path)
        data[name] = value
    if "daemon_json" in data:
        (home / "docker" / "daemon.json").write_text(data.pop("daemon_json"))
    return dataclasses.replace(case, vars=data)


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("hosts")
    cases = [_with_paths(case, base) for case in CASES]
    before = {case.id: files_under(base / case.host) for case in cases}
    result = run_batch("bad_input/playbooks/ulimits.yml", cases, tmp_path_factory.mktemp("cases"))
    result.files = {case.id: (before[case.id], files_under(base / case.host)) for case in cases}
    result.cases = {case.id: case for case in cases}
    return result


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_anything_is_written(batch, case):
    case = batch.cases[case.id]
    assert_refused(batch, case)
    before, after = batch.files[case.id]
    assert after == before, "files appeared: %s" % sorted(set(after) - set(before))
