"""The bad-input suite's harness: many malformed inputs, one ansible-playbook run per table.

Each case is one inventory host (``case_<id>``, local connection) carrying the case's variables as host
variables, so one ``ansible-playbook -vvvv`` run plays every case of a table side by side (forks), instead of
one run per case. The default callback prints each result on one line as JSON
(``ANSIBLE_CALLBACK_RESULT_FORMAT=json``, not pretty), so the first failure of every host is read back from
the output: the task that failed and its message.

A case then asserts, one test each:

* the host failed, on the task the table expects to refuse (or any task, before the first one that changes);
* the message names the option (a substring the case gives), and is not the censored ``no_log`` text;
* nothing changed: the case's ``unchanged`` check (files, the server's request log) passes and the host's
  recap shows ``changed=0``;
* no canary secret appears anywhere in the output, at ``-vvvv``, nor in files the table names.

Values that are host variables are templated by Ansible like any other variable: a case that must pass a
literal ``{{`` goes through ``!unsafe`` (``Case(unsafe=...)``).
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import yaml

from tests.integration.conftest import run_playbook

FAILED_RE = re.compile(
    r"^(?:fatal|failed): \[(?P<host>case_[A-Za-z0-9_]+)(?: -> [^\]]+)?\](?: \(item=.*?\))?: FAILED! => (?P<json>\{.*\})$",
    re.M)
TASK_RE = re.compile(r"^TASK \[(?P<task>.*?)\] \*+$", re.M)
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified"


@dataclass
class Case:
    """One malformed input. ``id`` becomes the host name; ``vars`` its host variables; ``names`` a text the
    failure message must contain (the option's name, usually with its rule)."""

    id: str
    vars: dict
    names: str
    #: Variables whose values must reach Ansible untemplated (tagged !unsafe in the inventory).
    unsafe: dict = field(default_factory=dict)
    #: A check run after the batch, given the case's host result and the batch; it asserts nothing changed.
    unchanged: Optional[Callable] = None
    #: Part of the name of the task expected to refuse the input (None: any task).
    task: Optional[str] = None

    @property
    def host(self):
        return "case_" + re.sub(r"[^A-Za-z0-9_]", "_", self.id)


@dataclass
class HostResult:
    failed: bool
    task: str = ""
    result: dict = field(default_factory=dict)
    recap: dict = field(default_factory=dict)

    @property
    def msg(self):
        return str(self.result.get("msg", ""))


@dataclass
class Batch:
    output: str
    hosts: dict
    rc: int

    def __getitem__(self, case):
        return self.hosts[case.host]


class _Unsafe(str):
    pass


def _unsafe_representer(dumper, value):
    return dumper.represent_scalar("!unsafe", str(value))


yaml.SafeDumper.add_representer(_Unsafe, _unsafe_representer)


def write_inventory(path, cases, common=None):
    """One host per case, with the case's variables; ``common`` for every host."""
    hosts = {}
    for case in cases:
        host_vars = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        host_vars.update(case.vars)
        host_vars.update({name: _Unsafe(value) for name, value in case.unsafe.items()})
        assert case.host not in hosts, "two cases named %s" % case.host
        hosts[case.host] = host_vars
    inventory = {"all": {"hosts": hosts, "vars": dict(common or {})}}
    Path(path).write_text(yaml.safe_dump(inventory, default_flow_style=False, allow_unicode=True))
    return str(path)


def parse(output, cases):
    """Each case's first failure (task name and result), and its recap line."""
    hosts = {case.host: HostResult(failed=False) for case in cases}
    tasks = [(m.start(), m.group("task")) for m in TASK_RE.finditer(output)]
    for match in FAILED_RE.finditer(output):
        host = hosts.get(match.group("host"))
        if host is None or host.failed:
            continue
        task = ""
        for start, name in tasks:
            if start > match.start():
                break
            task = name
        host.failed, host.task, host.result = True, task, json.loads(match.group("json"))
    recap_re = re.compile(r"^(?P<host>case_\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                          r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.M)
    for match in recap_re.finditer(output):
        if match.group("host") in hosts:
            hosts[match.group("host")].recap = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    return hosts


def run_batch(playbook, cases, tmp_path, common=None, env=None, forks=8, timeout=900):
    """Run ``playbook`` once for every case (one host each) at -vvvv; return the parsed :class:`Batch`."""
    inventory = write_inventory(Path(tmp_path) / "cases.yml", cases, common)
    run_env = {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_CALLBACK_FORMAT_PRETTY": "false",
               "ANSIBLE_FORKS": str(forks), "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true"}
    run_env.update(env or {})
    result = run_playbook(playbook, inventory=inventory, verbosity=4, env=run_env, timeout=timeout)
    return Batch(result.output, parse(result.output, cases), result.rc)


def assert_refused(batch, case, canaries=(), files=()):
    """The assertions every case makes (see the module docstring)."""
    host = batch[case]
    assert host.failed, "%s: the play did not fail; recap %s" % (case.id, host.recap)
    assert CENSORED not in host.msg and "censored" not in host.result, \
        "%s: the refusal is hidden by no_log (task %r)" % (case.id, host.task)
    assert case.names in host.msg, "%s: the message does not name %r: %s" % (case.id, case.names, host.msg)
    if case.task is not None:
        assert case.task in host.task, "%s: refused by %r, expected %r" % (case.id, host.task, case.task)
    assert host.recap.get("changed", 0) == 0, "%s: something changed before the refusal: %s" % (case.id, host.recap)
    if case.unchanged is not None:
        case.unchanged(host, batch)
    for canary in canaries:
        assert canary not in batch.output, "%s: a canary secret is in the output" % case.id
        for path in files:
            path = Path(path)
            if path.is_file():
                assert canary not in path.read_text(errors="replace"), "%s: a canary is in %s" % (case.id, path)


def run_each(playbook, cases, tmp_path, common=None, env=None, parallel=4, timeout=900):
    """Like :func:`run_batch`, but one ansible-playbook run per case (``parallel`` of them at a time), for a
    role whose tasks run once for the whole play (``run_once``): there the first host's failure stops every
    other host, so its cases cannot share a run. Returns one :class:`Batch` over every run's output."""
    from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel

    run_env = {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_CALLBACK_FORMAT_PRETTY": "false",
               "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true"}
    run_env.update(env or {})

    def one(case):
        inventory = write_inventory(Path(tmp_path) / ("%s.yml" % case.host), [case], common)
        return run_playbook(playbook, inventory=inventory, verbosity=4, env=run_env, timeout=timeout)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = list(pool.map(one, cases))
    output = "".join(result.output for result in results)
    return Batch(output, parse(output, cases), max(result.rc for result in results))


def rescued(batch, case):
    """For a case refused by a role's rescue task: the host's result becomes its failure after the first one (the
    first is the task the rescue caught, censored when that task is ``no_log``). Returns the first failure's result,
    for the case to assert what it expects of it."""
    first = next(match for match in FAILED_RE.finditer(batch.output) if match.group("host") == case.host)
    caught = json.loads(first.group("json"))
    batch.hosts[case.host] = parse(batch.output[first.end():], [case])[case.host]
    return caught
