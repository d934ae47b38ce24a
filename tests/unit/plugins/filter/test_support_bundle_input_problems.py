"""The support_bundle role's input decision: each bad value is named, good input passes, nothing is quoted that
could be a secret."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.support_bundle_input_problems import (
    FilterModule,
    support_bundle_input_problems,
)

KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGV0\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n"
GOOD = {"support_bundle_dest": "/srv/bundles", "support_bundle_platform": "auto",
        "support_bundle_address": "https://tfe.example.com", "support_bundle_public_key": KEY,
        "support_bundle_host_dir": "/var/lib/ptfe-support-bundles", "support_bundle_keep": 3,
        "support_bundle_timeout": "600", "support_bundle_fdo_container": "terraform-enterprise",
        "support_bundle_fdo_bundle_dir": "/run/terraform-enterprise/support-bundles",
        "support_bundle_replicated_dir": "/var/lib/replicated/support-bundles",
        "support_bundle_ami_command": ["hashicorp-support"],
        "support_bundle_replicated_command": ["replicatedctl", "support-bundle"]}


def test_good_input_has_no_problem():
    assert support_bundle_input_problems(GOOD) == []
    assert support_bundle_input_problems(dict(GOOD, support_bundle_public_key=None, support_bundle_platform="ami",
                                              support_bundle_address=None)) == []


@pytest.mark.parametrize("name, value, expected", [
    ("support_bundle_dest", "relative/dir", "support_bundle_dest must be an absolute directory"),
    ("support_bundle_dest", "/", "support_bundle_dest must be an absolute directory other than /"),
    ("support_bundle_dest", "//", "support_bundle_dest must be an absolute directory other than /"),
    ("support_bundle_host_dir", "/var/../etc", "support_bundle_host_dir must be an absolute directory"),
    ("support_bundle_host_dir", "/var/lib/x\n", "support_bundle_host_dir must not contain control characters"),
    ("support_bundle_fdo_bundle_dir", "./run", "support_bundle_fdo_bundle_dir must be"),
    ("support_bundle_replicated_dir", "/a/./b", "support_bundle_replicated_dir must be"),
    ("support_bundle_address", None, "support_bundle_address is required with support_bundle_platform=auto"),
    ("support_bundle_address", "", "support_bundle_address is required"),
    ("support_bundle_public_key", "not a key", "support_bundle_public_key must be one ASCII-armored"),
    ("support_bundle_public_key", KEY + KEY, "support_bundle_public_key must be one ASCII-armored"),
    ("support_bundle_keep", 0, "support_bundle_keep must be a whole number from 1 to 100"),
    ("support_bundle_keep", True, "support_bundle_keep must be a whole number"),
    ("support_bundle_keep", "2.5", "support_bundle_keep must be a whole number"),
    ("support_bundle_timeout", 86401, "support_bundle_timeout must be a whole number from 1 to 86400"),
    ("support_bundle_fdo_container", "-tfe", "support_bundle_fdo_container must be a container name"),
    ("support_bundle_fdo_container", "a b", "support_bundle_fdo_container must be a container name"),
    ("support_bundle_ami_command", [], "support_bundle_ami_command must be a non-empty list"),
    ("support_bundle_ami_command", "hashicorp-support", "support_bundle_ami_command must be a non-empty list"),
    ("support_bundle_replicated_command", ["replicatedctl", ""], "support_bundle_replicated_command must be"),
])
def test_each_problem_names_its_variable(name, value, expected):
    problems = support_bundle_input_problems(dict(GOOD, **{name: value}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected)


def test_several_problems_are_all_listed():
    problems = support_bundle_input_problems(dict(GOOD, support_bundle_keep=0, support_bundle_dest="x"))
    assert len(problems) == 2


def test_not_a_dict():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        support_bundle_input_problems(["support_bundle_dest"])


def test_registered():
    assert FilterModule().filters()["support_bundle_input_problems"] is support_bundle_input_problems
