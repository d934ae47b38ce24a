"""Benchmark of ptfe_state_migrate at N=200 workspaces (issue 12). Not a timed test.

Run from the repository root: ``.venv/bin/python tests/benchmarks/state_migrate.py`` (``--n`` changes N).

Against the PTFE emulator (its own process, HTTPS, the default 30 requests/second sliding-window limiter per token),
the module runs as Ansible runs it (``python <module file> <args file>``) with N local state files and
``create: true``, so every workspace needs its requests: read the workspace (404), create it, lock it, create the
state version inline, unlock it (5 each, plus one account read per run).

1. First migration: the requests the emulator logged (all with the module's token), the time from the first to
   the last of them, and that span against the floor the rate limit sets for that many requests (requests / 30 s).
   Goal: at most 1.15x the floor, and no 429.
2. The re-run: every workspace unchanged, no write request; its requests and time are printed as well.

Exit 1 when a goal is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.emulators.ptfe.process import start_emulator  # pylint: disable=wrong-import-position

TOKEN = "benchmigrate001.atlasv1.benchmark-migration-token"
COLLECTIONS = ROOT / ".tmp" / "collections"
MODULE = ROOT / "plugins" / "modules" / "ptfe_state_migrate.py"
GOAL = 1.15


def run_module(args, workdir):
    """Run the module file as its own process; return (result, wall seconds)."""
    args_path = Path(workdir) / "args.json"
    args_path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS) + os.pathsep + str(ROOT))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(MODULE), str(args_path)], capture_output=True, text=True, env=env,
                          cwd=str(workdir), timeout=3600, check=False)
    wall = time.monotonic() - start
    text = proc.stdout
    try:
        result = json.loads(text[text.index("{"):])
    except ValueError:
        result = {"failed": True, "msg": (text + proc.stderr)[-2000:]}
    return result, wall


def phase(emulator, label, result, wall, limit):
    """Print what one run cost; return (requests, span, floor, writes, rate limited)."""
    log = [entry for entry in emulator.requests_log(clear=True) if entry["path"].startswith(("/api/", "/_archivist/"))]
    api = [entry for entry in log if entry["path"].startswith("/api/")]
    span = api[-1]["time"] - api[0]["time"] if len(api) > 1 else 0.0
    floor = len(api) / limit
    writes = [entry for entry in log if entry["method"] not in ("GET", "HEAD")]
    limited = [entry for entry in log if entry["status"] == 429]
    print("%s: %s" % (label, result.get("msg")))
    print("  module wall time %.2f s; %d API requests (%d writes, %d object downloads), first to last %.2f s;"
          " floor at %g req/s %.2f s; ratio %.3f; 429 answers %d"
          % (wall, len(api), len(writes), len(log) - len(api), span, limit, floor, span / floor if floor else 0,
             len(limited)))
    return len(api), span, floor, writes, limited


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args(argv)
    (COLLECTIONS / "ansible_collections" / "ptfe").mkdir(parents=True, exist_ok=True)
    link = COLLECTIONS / "ansible_collections" / "ptfe" / "ops"
    if not link.exists():
        link.symlink_to(ROOT)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        emulator = start_emulator({"users": [{"username": "migrator", "site_admin": True, "token": TOKEN}],
                                   "organizations": [{"name": "bench", "owner": "migrator"}]}, work / "ptfe")
        try:
            limit = float(emulator.control("GET", "/_emulator/config")["rate_limit"])
            workspaces = []
            for index in range(args.n):
                path = work / ("ws-%03d.tfstate" % index)
                path.write_text(json.dumps({"version": 4, "terraform_version": "1.5.7", "serial": index + 1,
                                            "lineage": str(uuid.uuid4()), "outputs": {}, "resources": []}, indent=2))
                workspaces.append({"name": "ws-%03d" % index, "state_file": str(path)})
            module_args = {"address": emulator.url, "token": TOKEN, "ca_path": emulator.ca_path,
                           "organization": "bench", "workspaces": workspaces, "create": True}
            emulator.requests_log(clear=True)
            first, wall = run_module(module_args, work)
            assert not first.get("failed"), first.get("msg")
            requests, span, floor, _writes, limited = phase(emulator, "first migration", first, wall, limit)
            assert first["summary"]["changed"] == args.n, first["summary"]
            again, wall = run_module(module_args, work)
            assert not again.get("failed"), again.get("msg")
            _requests, _span, _floor, writes, limited_again = phase(emulator, "re-run", again, wall, limit)
        finally:
            emulator.stop()
    problems = []
    if span > GOAL * floor:
        problems.append("the first migration took %.2f s, more than %.2fx the floor (%.2f s for %d requests)"
                        % (span, GOAL, floor, requests))
    if limited or limited_again:
        problems.append("the emulator answered 429 %d times" % (len(limited) + len(limited_again)))
    if writes or again["changed"] or again["summary"]["unchanged"] != args.n:
        problems.append("the re-run wrote %d times (changed=%s)" % (len(writes), again["changed"]))
    for problem in problems:
        print("GOAL MISSED: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
