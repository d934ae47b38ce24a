# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the ulimits role must leave behind on a converged host."""
from __future__ import annotations

import pytest
from ptfe_testinfra import SEEDED_DOCKER_DAEMON_JSON, config_lines, inventory_vars, login_nofile_limits, read_json

DROPIN = "60-ptfe-ops-nofile.conf"


@pytest.fixture(name="limits")
def fixture_limits(host):
    hostvars = inventory_vars(host)
    return int(hostvars["ulimits_nofile_soft"]), int(hostvars["ulimits_nofile_hard"])


@pytest.mark.parametrize("user", ["tester", "root"])
def test_login_shell_reports_new_limits(host, limits, user):
    assert login_nofile_limits(host, user) == limits


def test_limits_file_is_written_whole(host, limits):
    soft, hard = limits
    f = host.file("/etc/security/limits.d/nofile.conf")
    assert f.is_file
    assert f.user == "root"
    assert f.group == "root"
    assert f.mode == 0o644
    assert f.content_string.startswith("# Managed by Ansible (role ptfe.ops.ulimits).")
    assert config_lines(f.content_string) == [
        "* soft nofile %d" % soft,
        "* hard nofile %d" % hard,
        "root soft nofile %d" % soft,
        "root hard nofile %d" % hard,
    ]


@pytest.mark.parametrize("manager", ["system", "user"])
def test_systemd_dropin_sets_default_limit(host, limits, manager):
    soft, hard = limits
    d = host.file("/etc/systemd/%s.conf.d" % manager)
    assert d.is_directory
    assert d.mode == 0o755
    f = host.file("/etc/systemd/%s.conf.d/%s" % (manager, DROPIN))
    assert f.is_file
    assert f.user == "root"
    assert f.mode == 0o644
    assert config_lines(f.content_string) == ["[Manager]", "DefaultLimitNOFILE=%d:%d" % (soft, hard)]


def test_docker_daemon_json_keeps_unrelated_keys(host, limits):
    soft, hard = limits
    data = read_json(host, "/etc/docker/daemon.json")
    for key in ("log-driver", "log-opts", "storage-driver"):
        assert data[key] == SEEDED_DOCKER_DAEMON_JSON[key], key
    assert data["default-ulimits"] == {
        "nproc": SEEDED_DOCKER_DAEMON_JSON["default-ulimits"]["nproc"],
        "nofile": {"Name": "nofile", "Soft": soft, "Hard": hard},
    }
    assert set(data) == set(SEEDED_DOCKER_DAEMON_JSON)


def test_docker_daemon_json_keeps_its_mode(host):
    f = host.file("/etc/docker/daemon.json")
    assert f.user == "root"
    assert f.mode == 0o640
