"""Benchmark of ptfe_tool_versions at N=300 Terraform versions (issue 4, item 6). Not a timed test.

Run from the repository root: ``make benchmark`` (or ``.venv/bin/python tests/benchmarks/tool_versions.py``;
``--n`` changes N, ``--skip-uri`` skips the slow uri-loop baseline).

What it measures, in one run, against the PTFE emulator (its own process, default 30 req/s sliding-window
limiter) and the HTTPS releases mirror (a thread of this process):

1. Creating N versions on an empty server: wall time of the module process against the floor the 30 req/s
   limit sets (N/30 s), split into start-up + listing + checksum checks and the write phase (first to last
   POST, from the emulator's request log), and the 429 responses the emulator logged (target: none).
2. Idempotent sync of the same N unchanged versions: HTTP requests the module made (from the emulator's
   request log; target <= 4), its wall time, and the wall time of a playbook running the module against a
   playbook that checks the same N versions one by one with ansible.builtin.uri (target: >= 30x faster).
3. Peak memory of the module process: the module is run as a process of its own (the way Ansible runs it:
   ``python <module file> <args file>``) and its peak resident set size is read from ``os.wait4`` (the
   kernel's ru_maxrss for exactly that process, threads included). A single version whose zip is large and
   has no SHA256SUMS shows that the download is hashed as a stream: peak memory does not grow with its size.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.emulators.ptfe.process import start_emulator  # pylint: disable=wrong-import-position
from tests.emulators.releases import ReleasesMirror  # pylint: disable=wrong-import-position

ADMIN_TOKEN = "benchadmin00001.atlasv1.benchmark-admin-token"
COLLECTIONS = ROOT / ".tmp" / "collections"
MODULE = ROOT / "plugins" / "modules" / "ptfe_tool_versions.py"
SINGLE_MODULE = ROOT / "plugins" / "modules" / "ptfe_tool_version.py"
BIN = Path(sys.executable).parent


def versions_list(mirror, n):
    """N versions 1.<minor>.<patch>, each with the mirror's URL and SHA256."""
    out = []
    for i in range(n):
        version = "1.%d.%d" % (i // 50, i % 50)
        out.append({"version": version, "url": mirror.zip_url(version), "sha256": mirror.sha256(version)})
    return out


def run_module(module, args, workdir):
    """Run a module file as its own process; return (result, wall seconds, peak RSS in MiB).

    The start time (epoch) is kept in ``run_module.started`` to place the emulator's log entries.
    """
    args_path = Path(workdir) / "args.json"
    args_path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS) + os.pathsep + str(ROOT))
    out_path = Path(workdir) / "module.out"
    with open(out_path, "wb") as out:
        run_module.started = time.time()
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(module), str(args_path)], stdout=out,  # pylint: disable=consider-using-with
                                stderr=subprocess.STDOUT, env=env, cwd=str(workdir))
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text()
    try:
        result = json.loads(text[text.index("{"):])
    except ValueError:
        result = {"failed": True, "msg": text[-2000:]}
    return result, wall, usage.ru_maxrss / 1024.0


def run_playbook(path, extra_vars, workdir):
    """Run ansible-playbook; return (rc, wall seconds, output)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_NOCOLOR="1")
    vars_path = Path(workdir) / "vars.json"
    vars_path.write_text(json.dumps(extra_vars))
    start = time.monotonic()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path),
                           "-e", "@%s" % vars_path], capture_output=True, text=True, env=env, cwd=str(workdir),
                          timeout=3600, check=False)
    return proc.returncode, time.monotonic() - start, proc.stdout + proc.stderr


MODULE_PLAYBOOK = """---
- name: Sync every Terraform version with one task
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Sync the list
      ptfe.ops.ptfe_tool_versions:
        address: "{{ bench_address }}"
        token: "{{ bench_token }}"
        ca_path: "{{ bench_ca_path }}"
        checksum_ca_path: "{{ bench_checksum_ca_path }}"
        versions: "{{ bench_versions }}"
"""

URI_PLAYBOOK = """---
- name: Check every Terraform version one by one
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Look up each version and compare its URL and checksum
      ansible.builtin.uri:
        url: "{{ bench_address }}/api/v2/admin/terraform-versions?filter%5Bversion%5D={{ item.version }}"
        headers:
          Authorization: "Bearer {{ bench_token }}"
        ca_path: "{{ bench_ca_path }}"
        return_content: true
      loop: "{{ bench_versions }}"
      loop_control:
        label: "{{ item.version }}"
      register: bench_check
      failed_when: >-
        bench_check.json.data | length != 1 or bench_check.json.data[0].attributes.sha != item.sha256
        or bench_check.json.data[0].attributes.url != item.url
"""


def api_log(emulator):
    return [r for r in emulator.requests_log() if r["path"].startswith("/api/")]


def main(argv=None):  # pylint: disable=too-many-locals,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--skip-uri", action="store_true", help="skip the ansible.builtin.uri loop baseline")
    parser.add_argument("--big-mib", type=int, default=256, help="size of the large zip for the memory check")
    args = parser.parse_args(argv)
    n = args.n
    (COLLECTIONS / "ansible_collections" / "ptfe").mkdir(parents=True, exist_ok=True)
    link = COLLECTIONS / "ansible_collections" / "ptfe" / "ops"
    if not link.exists():
        link.symlink_to(ROOT)

    work = Path(tempfile.mkdtemp(prefix="bench-tool-versions-"))
    rows = []
    emulator = start_emulator({"users": [{"username": "bench", "site_admin": True, "token": ADMIN_TOKEN}]},
                              work / "ptfe")
    mirror = ReleasesMirror(work / "releases", auto=True).start()
    try:
        versions = versions_list(mirror, n)
        conn = {"address": emulator.url, "token": ADMIN_TOKEN, "ca_path": emulator.ca_path,
                "checksum_ca_path": str(mirror.ca_path)}
        limit = float(emulator.control("GET", "config").get("rate_limit") or 30)
        floor = n / limit

        # 1. create N on an empty server
        emulator.requests_log(clear=True)
        mirror.reset_log()
        result, wall, rss_create = run_module(MODULE, dict(conn, versions=versions), work)
        if result.get("failed") or len(result.get("created", [])) != n:
            raise SystemExit("create run failed: %s" % result.get("msg"))
        log = api_log(emulator)
        posts = [r for r in log if r["method"] == "POST"]
        throttled = sum(1 for r in log if r["status"] == 429)
        post_span = posts[-1]["time"] + posts[-1].get("duration", 0) - posts[0]["time"]
        rows.append(("create %d: module process wall time" % n, "%.2f s" % wall,
                     "<= %.2f s (1.15 x %.1f s floor)" % (1.15 * floor, floor), wall <= 1.15 * floor))
        rows.append(("create %d: start to first POST" % n, "%.2f s" % (posts[0]["time"] - run_module.started),
                     "(start-up, listing, %d checksum checks)" % n, None))
        rows.append(("create %d: first to last POST" % n, "%.2f s" % post_span, "(floor %.1f s)" % floor, None))
        rows.append(("create %d: HTTP requests to PTFE" % n, str(len(log)), "%d + listing" % n, None))
        rows.append(("create %d: 429 responses" % n, str(throttled), "0", throttled == 0))
        rows.append(("create %d: checksum checks (SHA256SUMS)" % n, str(len(result["checksums"])),
                     "%d, no zip download" % n, not mirror.downloads()))
        rows.append(("create %d: module peak RSS" % n, "%.1f MiB" % rss_create, "", None))

        # 2. idempotent sync, module process alone
        emulator.requests_log(clear=True)
        mirror.reset_log()
        result, wall_idem, rss_idem = run_module(MODULE, dict(conn, versions=versions), work)
        log = api_log(emulator)
        ok = not result.get("changed") and len(result.get("unchanged", [])) == n
        rows.append(("idempotent %d: HTTP requests" % n, str(len(log)), "<= 4", len(log) <= 4 and ok))
        rows.append(("idempotent %d: mirror requests (downloads)" % n, str(len(mirror.requests)), "0",
                     not mirror.requests))
        rows.append(("idempotent %d: module process wall time" % n, "%.2f s" % wall_idem, "", None))
        rows.append(("idempotent %d: module peak RSS" % n, "%.1f MiB" % rss_idem, "", None))

        # 2b. the same through ansible-playbook, against the uri loop
        pb_vars = {"bench_address": emulator.url, "bench_token": ADMIN_TOKEN, "bench_ca_path": emulator.ca_path,
                   "bench_checksum_ca_path": str(mirror.ca_path), "bench_versions": versions}
        (work / "module.yml").write_text(MODULE_PLAYBOOK)
        (work / "uri.yml").write_text(URI_PLAYBOOK)
        emulator.requests_log(clear=True)
        rc, wall_pb, out = run_playbook(work / "module.yml", pb_vars, work)
        if rc != 0 or "changed=0" not in out:
            raise SystemExit("module playbook failed or changed something:\n" + out[-3000:])
        rows.append(("idempotent %d: playbook with the module" % n, "%.2f s" % wall_pb, "", None))
        if not args.skip_uri:
            emulator.requests_log(clear=True)
            rc, wall_uri, out = run_playbook(work / "uri.yml", pb_vars, work)
            if rc != 0:
                raise SystemExit("uri playbook failed:\n" + out[-3000:])
            uri_requests = len(api_log(emulator))
            rows.append(("idempotent %d: uri loop playbook" % n, "%.2f s (%d requests)" % (wall_uri, uri_requests),
                         "", None))
            rows.append(("idempotent %d: speed-up, playbook vs playbook" % n, "%.1f x" % (wall_uri / wall_pb),
                         ">= 30 x", wall_uri / wall_pb >= 30))
            rows.append(("idempotent %d: speed-up, uri loop vs module process" % n,
                         "%.1f x" % (wall_uri / wall_idem), "", None))

        # 3. memory with a large download hashed as a stream
        big = "9.9.9"
        mirror.add_version(big, size=args.big_mib * 1024 * 1024, sums=False)
        mirror.reset_log()
        big_args = dict(conn, version=big, url=mirror.zip_url(big), sha256=mirror.sha256(big))
        result, wall_big, rss_big = run_module(SINGLE_MODULE, big_args, work)
        if result.get("failed") or result["checksums"][0]["method"] != "download":
            raise SystemExit("large download run failed: %s" % result.get("msg"))
        rows.append(("one %d MiB zip without SHA256SUMS: peak RSS" % args.big_mib, "%.1f MiB" % rss_big,
                     "independent of the zip size", rss_big < 2 * max(rss_create, rss_idem)))
        rows.append(("one %d MiB zip without SHA256SUMS: wall time" % args.big_mib, "%.2f s" % wall_big, "", None))
    finally:
        mirror.stop()
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)

    width = max(len(r[0]) for r in rows)
    print()
    print("%-*s  %-24s  %-34s  %s" % (width, "measure", "value", "target", "met"))
    print("-" * (width + 70))
    for name, value, target, met in rows:
        print("%-*s  %-24s  %-34s  %s" % (width, name, value, target, "" if met is None else ("yes" if met else "NO")))
    missed = [r[0] for r in rows if r[3] is False]
    if missed:
        print("\ntargets missed: %s" % "; ".join(missed))
    return 0  # a benchmark, not a timed test: functional failures raise SystemExit above


if __name__ == "__main__":
    sys.exit(main())
