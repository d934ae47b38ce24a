# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/argument_specs.yml is each converted role's only input contract.

Ansible takes a role variable's value from defaults/main.yml, never from the spec's ``default``, so the two must
agree; a required variable must have no default there, or ``required`` would never fire. Every variable the role
reads is declared in the spec, derived in vars/main.yml, or made by the role's own tasks. These read the files
only: no playbook runs.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[3] / "roles"
ROLES = sorted(path.name for path in ROLES_DIR.iterdir() if path.is_dir())


class Role:
    def __init__(self, name):
        self.dir = ROLES_DIR / name
        self.prefix = name + "_"
        self.options = self.load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
        self.defaults = self.load("defaults/main.yml")

    def load(self, relative):
        path = self.dir / relative
        return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def tasks(node):
    for task in node or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks(task.get(key))


def made_by_the_role(role):
    """Variables the role derives (vars/main.yml) or makes in its tasks (register, set_fact, task vars)."""
    names = set(role.load("vars/main.yml"))
    for path in (role.dir / "tasks").glob("*.yml"):
        for task in tasks(yaml.safe_load(path.read_text())):
            names.update(task.get("vars") or {})
            names.add(task.get("register"))
            for key, value in task.items():
                if key.endswith("set_fact"):
                    names.update(value)
    return names


def test_every_role_is_checked():
    """The roles are found, not listed: a new role meets the contract from its first commit."""
    assert {"firewall", "initial_admin", "vault_rekey"} <= set(ROLES)


@pytest.mark.parametrize("name", ROLES)
def test_every_role_has_an_argument_spec(name):
    assert (ROLES_DIR / name / "meta" / "argument_specs.yml").is_file(), "%s has no meta/argument_specs.yml" % name


@pytest.mark.parametrize("name", ROLES)
def test_defaults_set_only_declared_variables(name):
    role = Role(name)
    assert set(role.defaults) <= set(role.options), set(role.defaults) - set(role.options)


@pytest.mark.parametrize("name", ROLES)
def test_default_is_the_documented_one_and_absent_when_required(name):
    role = Role(name)
    for variable, option in sorted(role.options.items()):
        if option.get("required"):
            assert variable not in role.defaults and "default" not in option, variable
        elif "default" in option:
            assert variable in role.defaults, "%s has no value in defaults/main.yml" % variable
            assert role.defaults[variable] == option.get("default"), variable


@pytest.mark.parametrize("name", ROLES)
def test_every_variable_read_is_declared_or_made_by_the_role(name):
    role = Role(name)
    text = "\n".join(p.read_text() for d in ("tasks", "templates", "vars")
                     for p in sorted((role.dir / d).glob("*")))
    # Comments, tags, YAML anchors and aliases, the collection's filters and the quoted keys of a mapping handed
    # to a filter (names, not reads) are not variables.
    text = re.sub(r"(?m)^\s*#.*$|\btags: \[[^]]*\]", "", text)
    text = re.sub(r"([&*]|ptfe[.]ops[.])%s\w+|'%s\w+'\s*:" % (role.prefix, role.prefix), "", text)
    read = set(re.findall(r"\b%s\w+" % role.prefix, text))
    assert read, "no %s variable found" % role.prefix
    assert read - set(role.options) - made_by_the_role(role) == set()
