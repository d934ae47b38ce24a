"""Benchmark of playbooks/install.yml (issue 15, item 6): the first converge against an idempotent re-run, side by
side in one run, against the stand-ins of `make demo` (PTFE emulator, releases mirror, OpenBao, moto, a Debian
container as the PTFE host; the unseal keys and the admin token kept in S3 as in an AWX job).

Run from the repository root: ``make benchmark`` (or ``.venv/bin/python tests/benchmarks/install_rerun.py``).

For each run: wall time, controller CPU time (``resource.getrusage(RUSAGE_CHILDREN)`` before and after, user +
system of ansible-playbook and every process it waited for: workers, modules, docker exec), the changed tasks
from the recap, and the write requests the servers logged (PTFE emulator: its request log; S3: moto's access
log). The ``ansible.posix.profile_tasks`` callback times every task; the slowest tasks of the re-run are printed.

Goal: re-run changed=0, zero write requests, wall time at most half of the first converge. Exit 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.integration.awx_runner.standins import StandIns, host_image  # pylint: disable=wrong-import-position

RECAP_RE = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
#: A task's line in profile_tasks' summary: "role : task name ---- 1.23s".
PROFILE_RE = re.compile(r"^(.+?)\s-+\s([0-9.]+)s$", re.M)
#: A request line of moto's (werkzeug's) access log.
S3_WRITE_RE = re.compile(r'"(PUT|POST|DELETE) (\S+) HTTP')


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def s3_writes(stand, since):
    log = (stand.demo.WORK / "servers" / "moto" / "moto.log").read_text(errors="replace")[since:]
    return [m.group(1) + " " + m.group(2).split("?")[0] for m in S3_WRITE_RE.finditer(log)
            # A JSON-protocol call (KMS, STS) is a POST to "/", whatever it does: not an S3 write.
            if m.group(2) != "/"]


def moto_log_size(stand):
    return len((stand.demo.WORK / "servers" / "moto" / "moto.log").read_text(errors="replace"))


def run(stand, label, env):
    """One ansible-playbook run of install.yml; what it cost and what it changed."""
    stand.ptfe.control("DELETE", "requests")
    s3_from = moto_log_size(stand)
    cmd = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(stand.demo.WORK / "inventory.json"),
           str(ROOT / "playbooks" / "install.yml")]
    cpu, started = cpu_seconds(), time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - started, cpu_seconds() - cpu
    (stand.demo.WORK / ("%s.log" % label)).write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        print(proc.stdout[-6000:], proc.stderr[-2000:])
        raise SystemExit("%s failed (exit %d)" % (label, proc.returncode))
    changed = sum(int(m.group(3)) for m in RECAP_RE.finditer(proc.stdout))
    ptfe_writes = ["%s %s" % (e["method"], e["path"]) for e in stand.ptfe.requests_log()
                   if e["method"] not in ("GET", "HEAD")]
    tasks = sorted(((float(m.group(2)), m.group(1).strip()) for m in PROFILE_RE.finditer(proc.stdout)), reverse=True)
    return {"label": label, "wall": wall, "cpu": cpu, "changed": changed, "ptfe_writes": ptfe_writes,
            "s3_writes": s3_writes(stand, s3_from), "tasks": tasks}


def role_times(result):
    """Seconds per role (the part of a task's name before " : "; tasks of no role under "(playbook)")."""
    times = {}
    for secs, task in result["tasks"]:
        role = task.split(" : ", 1)[0] if " : " in task else "(playbook)"
        times[role] = times.get(role, 0) + secs
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--top", type=int, default=12, help="slowest tasks of the re-run to print")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="install-bench-"))
    name = "bench-%s" % uuid.uuid4().hex[:8]
    stand = StandIns(name, host_image(), work / "admin-token")
    try:
        with stand:
            (stand.demo.WORK / "inventory.json").write_text(json.dumps(stand.inventory))
            env = dict(os.environ, **stand.env)
            env.update({"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                        "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"})
            first = run(stand, "first-converge", env)
            rerun = run(stand, "re-run", env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(stand.demo.WORK, ignore_errors=True)

    print("install.yml against the stand-ins (one run, side by side)")
    print("%-16s %9s %9s %8s %12s %10s" % ("", "wall s", "CPU s", "changed", "PTFE writes", "S3 writes"))
    for result in (first, rerun):
        row = (result["label"], result["wall"], result["cpu"], result["changed"], len(result["ptfe_writes"]),
               len(result["s3_writes"]))
        print("%-16s %9.1f %9.1f %8d %12d %10d" % row)
    ratio = rerun["wall"] / first["wall"]
    print("re-run wall / first converge wall: %.2f (goal <= 0.50)" % ratio)
    print("\ntime per role (profile_tasks, sum of task times):")
    print("  %-22s %9s %9s" % ("", "first s", "re-run s"))
    roles = sorted(set(role_times(first)) | set(role_times(rerun)), key=lambda r: -role_times(rerun).get(r, 0))
    for role in roles:
        print("  %-22s %9.1f %9.1f" % (role, role_times(first).get(role, 0), role_times(rerun).get(role, 0)))
    for result in (first, rerun):
        print("\nslowest tasks of the %s (of %d):" % (result["label"], len(result["tasks"])))
        for secs, task in result["tasks"][:args.top]:
            print("  %6.2fs  %s" % (secs, task))
    for label, writes in (("PTFE", rerun["ptfe_writes"]), ("S3", rerun["s3_writes"])):
        for write in writes:
            print("  re-run %s write: %s" % (label, write))
    if rerun["changed"] or rerun["ptfe_writes"] or rerun["s3_writes"] or ratio > 0.5:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
