"""The support_bundle role, given malformed variables: refused by name before any command runs or any file is
written (harness.py). Each case runs the role on this machine with its controller and host directories under its
own temporary directory, and a canary among the known secrets: neither directory may appear, nor the canary."""
from __future__ import annotations

import pytest

from tests.integration.bad_input.harness import Case, assert_refused, run_batch

PLAYBOOK = "bad_input/playbooks/support_bundle.yml"
CANARY = "CANARYbadinput-7e21"
KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGV0\n-----END PGP PUBLIC KEY BLOCK-----\n"
DIRS = "support_bundle_dest must be an absolute directory other than / without '.' or '..' parts"

CASES = [
    Case("dest_missing", {"support_bundle_dest": None}, "support_bundle_dest"),
    Case("dest_relative", {"support_bundle_dest": "bundles"}, DIRS),
    Case("dest_dotdot", {"support_bundle_dest": "CASE_DIR/../bundles"}, DIRS),
    Case("dest_root", {"support_bundle_dest": "/"}, DIRS),
    Case("host_dir_newline", {"support_bundle_host_dir": "CASE_DIR/host\n"},
         "support_bundle_host_dir must not contain control characters"),
    Case("fdo_dir_relative", {"support_bundle_fdo_bundle_dir": "run/bundles"}, "support_bundle_fdo_bundle_dir must be"),
    Case("keep_zero", {"support_bundle_keep": 0}, "support_bundle_keep must be a whole number from 1 to 100"),
    Case("keep_huge", {"support_bundle_keep": 1000}, "support_bundle_keep must be a whole number from 1 to 100"),
    Case("timeout_zero", {"support_bundle_timeout": 0}, "support_bundle_timeout must be a whole number from 1 to 86400"),
    Case("timeout_words", {"support_bundle_timeout": "soon"}, "support_bundle_timeout"),
    Case("platform_unknown", {"support_bundle_platform": "k8s"}, "support_bundle_platform"),
    Case("auto_without_address", {"support_bundle_platform": "auto"},
         "support_bundle_address is required with support_bundle_platform=auto"),
    Case("key_not_armored", {"support_bundle_public_key": "ssh-ed25519 AAAAC3Nza"},
         "support_bundle_public_key must be one ASCII-armored OpenPGP public key block"),
    Case("key_private", {"support_bundle_public_key": KEY.replace("PUBLIC", "PRIVATE")},
         "support_bundle_public_key must be one ASCII-armored OpenPGP public key block"),
    Case("container_slash", {"support_bundle_fdo_container": "tfe/../x"}, "support_bundle_fdo_container must be"),
    Case("ami_command_empty", {"support_bundle_ami_command": []},
         "support_bundle_ami_command must be a non-empty list of arguments"),
    Case("replicated_command_newline", {"support_bundle_replicated_command": ["replicatedctl", "support-bundle\n"]},
         "support_bundle_replicated_command must be a non-empty list of arguments without control characters"),
]


def _with_dirs(case, base):
    home = base / case.host
    home.mkdir(parents=True)
    data = {"support_bundle_platform": "none", "support_bundle_dest": str(home / "dest"),
            "support_bundle_host_dir": str(home / "host"), "support_bundle_public_key": KEY}
    for name, value in case.vars.items():
        if isinstance(value, str):
            value = value.replace("CASE_DIR", str(home))
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return Case(case.id, data, case.names, unchanged=lambda host, batch: _nothing_written(home))


def _nothing_written(home):
    assert sorted(path.name for path in home.iterdir()) == []


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("support_bundle_cases")
    cases = [_with_dirs(case, base) for case in CASES]
    result = run_batch(PLAYBOOK, cases, tmp_path_factory.mktemp("support_bundle_batch"),
                       common={"support_bundle_secrets": [CANARY]})
    return result, {case.id: case for case in cases}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_by_name_before_anything_runs(batch, case):
    result, cases = batch
    assert_refused(result, cases[case.id], canaries=[CANARY])
