"""ptfe_state_migrate, given malformed input: refused by name before any request (so before any lock or write),
no secret printed (harness.py). The state files are read and checked before the first request."""
from __future__ import annotations

import json

import pytest

from tests.integration.bad_input.conftest import ADMIN_TOKEN, writes
from tests.integration.bad_input.harness import Case, assert_refused, run_batch

SOURCE_TOKEN = "bisource0000001.atlasv1.canary-bad-input-source-8a2c"
URL_PASSWORD = "canary-url-password-3b7f"
FILES = "{{ files_dir }}/"
LINEAGE = "0b3f9c1e-5a55-4c7e-9d8e-2f1a6b4c3d2e"
STATE_FILES = {
    "good.tfstate": json.dumps({"version": 4, "serial": 4, "lineage": LINEAGE, "outputs": {}, "resources": []}),
    "not-json.tfstate": "serial = 4\nlineage = \"%s\"\n" % LINEAGE,
    "no-lineage.tfstate": json.dumps({"version": 4, "serial": 4, "outputs": {}, "resources": []}),
    "empty-lineage.tfstate": json.dumps({"version": 4, "serial": 4, "lineage": "", "resources": []}),
    "string-serial.tfstate": json.dumps({"version": 4, "serial": "4", "lineage": LINEAGE, "resources": []}),
    "no-serial.tfstate": json.dumps({"version": 4, "lineage": LINEAGE, "resources": []}),
    "array.tfstate": json.dumps([{"serial": 4, "lineage": LINEAGE}]),
    "empty.tfstate": "",
}


def ws(**entry):
    entry.setdefault("name", "network")
    return {"workspaces": [entry]}


def source(**values):
    options = {"address": "{{ default_address }}", "token": SOURCE_TOKEN, "organization": "legacy"}
    options.update(values)
    return {"source": options}


CASES = [
    # the state file
    Case("state_not_json", ws(state_file=FILES + "not-json.tfstate"), "not-json.tfstate is not a Terraform state: not JSON"),
    Case("state_empty", ws(state_file=FILES + "empty.tfstate"), "empty.tfstate is not a Terraform state: not JSON"),
    Case("state_array", ws(state_file=FILES + "array.tfstate"), "not a JSON object"),
    Case("state_no_lineage", ws(state_file=FILES + "no-lineage.tfstate"), "no-lineage.tfstate has no lineage"),
    Case("state_empty_lineage", ws(state_file=FILES + "empty-lineage.tfstate"), "has no lineage"),
    Case("state_string_serial", ws(state_file=FILES + "string-serial.tfstate"), "has no serial (a whole number), got '4'"),
    Case("state_no_serial", ws(state_file=FILES + "no-serial.tfstate"), "has no serial"),
    Case("serial_mismatch", ws(state_file=FILES + "good.tfstate", serial=5), "serial is 4 in the file, but 5 was given"),
    Case("lineage_mismatch", ws(state_file=FILES + "good.tfstate", lineage="another"),
         "lineage is %s in the file, but another was given" % LINEAGE),
    Case("serial_negative", ws(state_file=FILES + "good.tfstate", serial=-1), "workspaces[0].serial must be at least 0"),
    Case("serial_not_a_number", ws(state_file=FILES + "good.tfstate", serial="four"), "serial"),
    Case("state_file_missing", ws(state_file=FILES + "nowhere.tfstate"), "workspaces[0].state_file must be a state file"),
    Case("state_file_directory", ws(state_file="{{ files_dir }}"), "workspaces[0].state_file must be a state file"),
    Case("state_file_relative", ws(state_file="terraform.tfstate"), "workspaces[0].state_file must be an absolute path"),
    Case("state_file_and_source", dict(ws(state_file=FILES + "good.tfstate", source_workspace="network"), **source()),
         "workspaces[0].state_file and workspaces[0].source_workspace are mutually exclusive"),
    Case("serial_without_file", dict(ws(serial=4), **source()), "workspaces[0].serial and workspaces[0].lineage check"),
    # workspace names
    Case("name_slash", ws(name="team/network", state_file=FILES + "good.tfstate"),
         "workspaces[0].name must be 1 to 90 letters, digits, '-' or '_' (a workspace name, no '/')"),
    Case("name_dotdot", ws(name="..", state_file=FILES + "good.tfstate"), "workspaces[0].name must be 1 to 90"),
    Case("name_space", ws(name="my network", state_file=FILES + "good.tfstate"), "workspaces[0].name must be"),
    Case("name_newline", ws(name="network\n", state_file=FILES + "good.tfstate"),
         "workspaces[0].name must not contain a newline"),
    Case("name_too_long", ws(name="n" * 91, state_file=FILES + "good.tfstate"), "workspaces[0].name must be 1 to 90"),
    Case("name_query", ws(name="network?x=1", state_file=FILES + "good.tfstate"), "workspaces[0].name must be"),
    Case("name_twice", {"workspaces": [{"name": "a", "state_file": FILES + "good.tfstate"},
                                       {"name": "a", "state_file": FILES + "good.tfstate"}]},
         "workspaces[1].name a is listed twice"),
    Case("name_missing", {"workspaces": [{"state_file": FILES + "good.tfstate"}]}, "name"),
    Case("no_workspaces", {"workspaces": []}, "workspaces must list at least one workspace"),
    Case("source_workspace_slash", dict(ws(source_workspace="a/b"), **source()),
         "workspaces[0].source_workspace must be 1 to 90"),
    Case("source_organization_slash", dict(ws(source_organization="x/y"), **source()),
         "workspaces[0].source_organization must be"),
    Case("organization_slash", {"organization": "acme/../admin"}, "organization must be 1 to 100 letters"),
    Case("organization_newline", {"organization": "acme\n"}, "organization must not contain a newline"),
    # the source
    Case("no_source", ws(), "workspaces[0] needs state_file, or the source option"),
    Case("source_without_organization", dict(ws(), **source(organization=None)),
         "workspaces[0].source_organization (or source.organization) must name"),
    Case("source_http", dict(ws(), **source(address="http://127.0.0.1:1")), "source.address must be a URL"),
    Case("source_password", dict(ws(), **source(address="https://u:%s@127.0.0.1:1" % URL_PASSWORD)),
         "source.address must not hold a user name or password"),
    Case("source_path", dict(ws(), **source(address="https://app.terraform.io/app")),
         "source.address must be the address of the server only"),
    Case("source_token_newline", dict(ws(), **source(token=SOURCE_TOKEN + "\n")), "source.token must not contain a newline"),
    Case("source_token_missing", dict(ws(), **source(token=None)), "source.token must be set"),
    Case("source_token_empty", dict(ws(), **source(token="")), "source.token must be set"),
    Case("source_organization_space", dict(ws(), **source(organization="my org")), "source.organization must be"),
    # the options
    Case("history_bogus", {"history": "some"}, "history"),
    Case("upload_method_bogus", {"upload_method": "ftp"}, "upload_method"),
    Case("token_newline", {"token": ADMIN_TOKEN + "\n"}, "token must not contain a newline"),
    Case("address_http", {"address": "http://127.0.0.1:1"}, "needs its allow_insecure_http option"),
]


@pytest.fixture(scope="module")
def batch(ptfe, tmp_path_factory):
    files = tmp_path_factory.mktemp("states")
    for name, text in STATE_FILES.items():
        (files / name).write_text(text)
    ptfe.requests_log(clear=True)
    common = {"default_address": ptfe.url, "default_token": ADMIN_TOKEN, "default_ca_path": ptfe.ca_path,
              "files_dir": str(files)}
    result = run_batch("bad_input/playbooks/ptfe_state_migrate.yml", CASES, tmp_path_factory.mktemp("cases"), common)
    result.log = ptfe.requests_log()
    return result


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_any_request(batch, case):
    assert_refused(batch, case, canaries=(ADMIN_TOKEN, SOURCE_TOKEN, URL_PASSWORD))
    assert writes(batch.log) == []
    assert batch.log == [], "a refused input still sent %d request(s)" % len(batch.log)


def test_no_secret_anywhere_in_the_output(batch):
    for secret in (ADMIN_TOKEN, SOURCE_TOKEN, URL_PASSWORD):
        assert secret not in batch.output
