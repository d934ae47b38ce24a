# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/argument_specs.yml is the preflight role's only input contract.

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

ROLE = Path(__file__).resolve().parents[3] / "roles" / "preflight"
PREFIX = "preflight_"


def load(relative):
    return yaml.safe_load((ROLE / relative).read_text()) or {}


OPTIONS = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults/main.yml")


def tasks(node):
    for task in node or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks(task.get(key))


def made_by_the_role():
    """Variables the role derives (vars/main.yml) or makes in its tasks (register, set_fact, task vars)."""
    names = set(load("vars/main.yml"))
    for path in (ROLE / "tasks").glob("*.yml"):
        for task in tasks(yaml.safe_load(path.read_text())):
            names.update(task.get("vars") or {})
            names.add(task.get("register"))
            for key, value in task.items():
                if key.endswith("set_fact"):
                    names.update(value)
    return names


def test_defaults_set_only_declared_variables():
    assert set(DEFAULTS) <= set(OPTIONS), set(DEFAULTS) - set(OPTIONS)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_default_is_the_documented_one_and_absent_when_required(name):
    option = OPTIONS[name]
    if option.get("required"):
        assert name not in DEFAULTS and "default" not in option
    else:
        assert name in DEFAULTS, "%s has no value in defaults/main.yml" % name
        assert DEFAULTS[name] == option.get("default"), name


def test_every_variable_read_is_declared_or_made_by_the_role():
    text = "\n".join(p.read_text() for d in ("tasks", "templates", "vars") for p in sorted((ROLE / d).glob("*")))
    # YAML anchors and aliases, and the collection's filters, are not variables.
    text = re.sub(r"([&*]|ptfe[.]ops[.])%s\w+" % PREFIX, "", text)
    read = set(re.findall(r"\b%s\w+" % PREFIX, text))
    assert read, "no %s variable found: is ROLE right?" % PREFIX
    assert read - set(OPTIONS) - made_by_the_role() == set()
