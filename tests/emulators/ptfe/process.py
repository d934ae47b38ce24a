"""Start the PTFE emulator as its own process, for pytest fixtures.

    handle = start_emulator({"iact_subnet_list": "127.0.0.1/32"}, tmp_path)
    handle.url, handle.ca_path
    handle.control("GET", "/_emulator/state")          # or "state"; path is relative to /_emulator/
    handle.control("PATCH", "/_emulator/config", {"boot_seconds": 3})
    handle.stop()
"""
from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]


class EmulatorHandle:
    """A running emulator process."""

    def __init__(self, proc, url, ca_path, workdir, log_path):
        self.proc = proc
        self.pid = proc.pid
        self.url = url
        self.ca_path = ca_path
        self.workdir = Path(workdir)
        self.log_path = log_path
        self._session = requests.Session()
        self._session.verify = ca_path

    def control(self, method, path, json=None):  # pylint: disable=redefined-outer-name
        """Call the control API; ``path`` like ``/_emulator/state`` or just ``state``. Returns parsed JSON."""
        if not path.startswith("/"):
            path = "/_emulator/" + path
        elif not path.startswith("/_emulator"):
            path = "/_emulator" + path
        resp = self._session.request(method, self.url + path, json=json, timeout=30, verify=self.ca_path)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def state(self):
        """Shortcut for ``control("GET", "/_emulator/state")``."""
        return self.control("GET", "/_emulator/state")

    def requests_log(self, clear=False):
        """The request log (optionally cleared afterwards)."""
        log = self.control("GET", "/_emulator/requests")
        if clear:
            self.control("DELETE", "/_emulator/requests")
        return log

    def configure(self, **changes):
        """PATCH config knobs."""
        return self.control("PATCH", "/_emulator/config", changes)

    def stop(self):
        """Terminate the process (and wait for it)."""
        self._session.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_emulator(config, workdir, timeout=30.0):
    """Start ``python -m tests.emulators.ptfe`` with ``config`` and return an :class:`EmulatorHandle`."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "ptfe-emulator-config.json"
    config_path.write_text(json.dumps(config or {}), encoding="utf-8")
    log_path = workdir / "ptfe-emulator.log"
    log = open(log_path, "ab")  # pylint: disable=consider-using-with
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "tests.emulators.ptfe", "--config", str(config_path),
         "--tls-dir", str(workdir / "ptfe-emulator-tls")],
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=log, env=env)
    log.close()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    line = b""
    try:
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
    finally:
        sel.close()
    if not line.endswith(b"\n"):
        proc.kill()
        proc.wait(timeout=10)
        raise RuntimeError("PTFE emulator did not start; see %s" % log_path)
    info = json.loads(line.decode("utf-8").splitlines()[0])
    # keep draining stdout (a route module that prints must never block on a full pipe)
    threading.Thread(target=_drain, args=(proc.stdout, log_path), daemon=True).start()
    return EmulatorHandle(proc, info["url"], info["ca_path"], workdir, log_path)


def _drain(stream, log_path):
    with open(log_path, "ab") as log:
        for chunk in iter(lambda: stream.read1(4096), b""):
            log.write(chunk)
            log.flush()
