"""ptfe.ops.ptfe_initial_admin_info end to end: ansible-playbook against the PTFE emulator."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import assert_no_secret, run_playbook
from tests.integration.ptfe_emulator_fixture import fatal, printed_result, writes
from tests.integration.ptfe_initial_admin_info.conftest import ADMIN_TOKEN, USER_TOKEN, USERS, token_file

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "info.yml"


def connection(emulator, **values):
    extra = {"address": emulator.url, "ca_path": emulator.ca_path}
    extra.update(values)
    return extra


def api_requests(emulator):
    return [(e["method"], e["path"], e["status"]) for e in emulator.requests_log()]


def test_a_site_admins_token_is_evidence_and_reads_only(ptfe, secrets_dir):
    emu = ptfe(users=USERS)
    path = token_file(secrets_dir, ADMIN_TOKEN)
    extra = connection(emu, token_file=str(path), health_timeout=10, health_interval=1)
    runs = [run_playbook(PLAYBOOK, extra), run_playbook(PLAYBOOK, extra, check=True),
            run_playbook(PLAYBOOK, extra, diff=True)]
    for run in runs:
        assert run.rc == 0 and run.changed == 0, run.output
        found = printed_result(run)
        assert found["token_valid"] is True and found["site_admin"] is True
        assert found["token_source"] == "token_file" and found["token_file"] == str(path)
        assert found["health_checks"] == 1
        assert found["user"]["username"] == "admin" and found["user"]["is-site-admin"] is True
        assert found["msg"] == "The token from token_file %s belongs to admin, a site admin." % path
        assert "token" not in found and ADMIN_TOKEN not in json.dumps(found)
    assert writes(emu) == []
    assert api_requests(emu) == [("GET", "/_health_check", 200), ("GET", "/api/v2/account/details", 200)] * 3
    # The diff mode run shows no difference: there is none to show.
    assert "---" not in runs[2].stdout.split("TASK [Show the result")[0]
    assert path.read_text() == ADMIN_TOKEN + "\n"


def test_no_token_file_yet_means_no_token_and_no_api_call(ptfe, secrets_dir):
    emu = ptfe()
    path = secrets_dir / "admin.token"
    run = run_playbook(PLAYBOOK, connection(emu, token_file=str(path)))
    assert run.rc == 0 and run.changed == 0, run.output
    found = printed_result(run)
    assert (found["token_valid"], found["site_admin"], found["token_source"], found["health_checks"]) == (
        False, False, None, 0)
    assert found["msg"] == "No token is stored in token_file %s." % path and "user" not in found
    assert emu.requests_log() == []
    assert not path.exists()


def test_a_plain_users_token_is_valid_but_no_evidence(ptfe, secrets_dir):
    emu = ptfe(users=USERS)
    path = token_file(secrets_dir, USER_TOKEN)
    found = printed_result(run_playbook(PLAYBOOK, connection(emu, token_file=str(path))))
    assert found["token_valid"] is True and found["site_admin"] is False
    assert found["msg"] == "The token from token_file %s belongs to plain, who is not a site admin." % path


def test_a_refused_token_is_reported_not_failed(ptfe, secrets_dir):
    emu = ptfe(users=USERS)
    path = token_file(secrets_dir, "revoked00000001.atlasv1.not-a-token-any-more")
    run = run_playbook(PLAYBOOK, connection(emu, token_file=str(path)))
    assert run.rc == 0 and run.changed == 0, run.output
    found = printed_result(run)
    assert found["token_valid"] is False and found["site_admin"] is False and found["token_source"] == "token_file"
    assert found["msg"] == "The installation does not accept the token from token_file %s (HTTP 401)." % path
    assert api_requests(emu) == [("GET", "/api/v2/account/details", 401)]


@pytest.mark.parametrize("how", ["token", "TFE_TOKEN"])
def test_the_token_option_when_there_is_no_token_file(ptfe, tmp_path, how):
    emu = ptfe(users=USERS)
    extra = connection(emu)
    env = None
    if how == "token":
        vars_file = tmp_path / "vault.yml"
        vars_file.write_text('token: "%s"\n' % ADMIN_TOKEN)
        extra["secret_vars_file"] = str(vars_file)
    else:
        env = {"TFE_TOKEN": ADMIN_TOKEN}
    run = run_playbook(PLAYBOOK, extra, env=env, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    found = printed_result(run)
    assert found["site_admin"] is True and found["token_source"] == "token"
    assert_no_secret(run, ADMIN_TOKEN)


def test_no_token_in_the_output_at_vvvv(ptfe, secrets_dir):
    emu = ptfe(users=USERS)
    for token in (ADMIN_TOKEN, USER_TOKEN, "revoked00000001.atlasv1.canary-refused-token"):
        path = token_file(secrets_dir, token)
        run = run_playbook(PLAYBOOK, connection(emu, token_file=str(path), health_timeout=5), verbosity=4)
        assert run.rc == 0, run.output[-3000:]
        assert_no_secret(run, token)


def test_waits_for_the_health_check_while_booting(ptfe, secrets_dir):
    emu = ptfe(users=USERS, boot_seconds=3, boot_from_first_request=True)
    path = token_file(secrets_dir, ADMIN_TOKEN)
    run = run_playbook(PLAYBOOK, connection(emu, token_file=str(path), health_timeout=30, health_interval=1))
    assert run.rc == 0, run.output
    found = printed_result(run)
    assert found["health_checks"] >= 2 and found["site_admin"] is True
    booting = [e for e in emu.requests_log() if e.get("note") == "booting"]
    assert len(booting) == found["health_checks"] - 1
    assert all(e["path"] == "/_health_check" and "authorization" not in json.dumps(e).lower() for e in booting)


def test_gives_up_on_the_health_check_naming_the_option(ptfe, secrets_dir):
    emu = ptfe(users=USERS, boot_seconds=60)
    path = token_file(secrets_dir, ADMIN_TOKEN)
    run = run_playbook(PLAYBOOK, connection(emu, token_file=str(path), health_timeout=2, health_interval=1))
    assert run.rc != 0
    assert ("Failed to wait for %s to become healthy: GET /_health_check did not answer HTTP 200 within 2 seconds"
            % emu.url) in fatal(run)
    assert "last answer: HTTP 503" in fatal(run) and "raise health_timeout" in fatal(run)
    assert [e["path"] for e in emu.requests_log()] == ["/_health_check"] * len(emu.requests_log())


@pytest.mark.parametrize("values, message", [
    ({"health_timeout": -1}, "health_timeout must be at least 0, got -1"),
    ({"health_interval": 0}, "health_interval must be at least 1, got 0"),
    ({"token_file": "secrets/admin.token"}, "token_file must be an absolute path, got 'secrets/admin.token'"),
    ({"token_file": "/srv/secrets/"}, "token_file must name a file, without a trailing '/'"),
    ({"address": "http://127.0.0.1:1"}, "address must be a URL such as https://host[:port] (allowed schemes: "
                                        "https); plain http sends every secret in clear text"),
], ids=["health_timeout", "health_interval", "relative-token-file", "directory", "http"])
def test_bad_input_fails_before_any_request_naming_the_option(ptfe, values, message):
    emu = ptfe(users=USERS)
    run = run_playbook(PLAYBOOK, connection(emu, **values))
    assert run.rc != 0
    assert "Invalid parameters for ptfe" in fatal(run) and message in fatal(run)
    assert emu.requests_log() == []


def test_a_token_file_that_is_a_directory_or_two_words(ptfe, secrets_dir):
    emu = ptfe(users=USERS)
    directory = secrets_dir / "admin.token"
    directory.mkdir()
    run = run_playbook(PLAYBOOK, connection(emu, token_file=str(directory)))
    assert run.rc != 0
    assert "Failed to read the API token from %s: not a regular file" % directory in fatal(run)
    two = token_file(secrets_dir, "first second", name="two.token")
    run = run_playbook(PLAYBOOK, connection(emu, token_file=str(two)))
    assert run.rc != 0
    assert "Failed to read the API token from %s: it holds more than one word" % two in fatal(run)
    assert "first second" not in run.output
    assert emu.requests_log() == []
