"""Tasks that run on the controller (delegate_to localhost) never inherit a play's become.

playbooks/rekey.yml sets ``become: true`` for the PTFE host. A task delegated to the controller would inherit
it and run through sudo there: AWX/AAP execution environments have no sudo, and files written that way (a keys
file) would belong to root. Every such task must set ``become`` itself.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def tasks(node):
    """Every task in a task list, blocks included."""
    for task in node or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks(task.get(key))


# Actions that never start a module process (they run inside ansible-playbook itself): become means nothing there.
IN_PROCESS = {"assert", "fail", "debug", "set_fact", "include_tasks", "import_tasks", "include_role", "import_role",
              "meta", "include_vars", "set_stats"}


def action(task):
    for key in task:
        short = key.split(".")[-1]
        if short in IN_PROCESS:
            return short
    return None


def controller_tasks():
    found = []
    for path in sorted(ROOT.glob("roles/*/tasks/*.yml")):
        for task in tasks(yaml.safe_load(path.read_text())):
            target = str(task.get("delegate_to", ""))
            if ("localhost" in target or "_delegate" in target) and action(task) is None:
                found.append(pytest.param(task, id="%s:%s" % (path.relative_to(ROOT), task.get("name"))))
    return found


CONTROLLER_TASKS = controller_tasks()


def test_the_roles_have_controller_tasks():
    names = {p.id for p in CONTROLLER_TASKS}
    assert any("vault_rekey" in n for n in names) and any("post_rekey_backup" in n for n in names), names


@pytest.mark.parametrize("task", [p.values[0] for p in CONTROLLER_TASKS], ids=[p.id for p in CONTROLLER_TASKS])
def test_controller_task_sets_become_itself(task):
    assert "become" in task, "a task delegated to the controller must set become (false there): %s" % task["name"]
    assert str(task["become"]) not in ("true", "True", "yes"), task["name"]
