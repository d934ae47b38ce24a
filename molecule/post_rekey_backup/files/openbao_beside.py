# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start a real OpenBao on the controller for the post_rekey_backup scenario, and keep it only as long as the
scenario's instance exists.

    python openbao_beside.py WORKDIR INSTANCE_NAME

Initialises it with one share (the PTFE AMI's shape), writes WORKDIR/openbao.json (url, ca, root_token,
unseal_key, pid) and WORKDIR/pids/openbao.pid, by which Molecule's destroy (molecule/shared/destroy_platforms.yml)
stops it, and returns. A detached watcher also stops the server when the Docker container INSTANCE_NAME is gone
or after 30 minutes, whichever comes first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[3])
sys.path.insert(0, str(ROOT))

from tests.emulators.openbao import start_openbao  # noqa: E402  pylint: disable=wrong-import-position

LIFETIME = 1800


def container_exists(name):
    return subprocess.run(["docker", "inspect", name], capture_output=True, check=False).returncode == 0


def main():
    workdir, instance = Path(sys.argv[1]), sys.argv[2]
    state = workdir / "openbao.json"
    if state.exists():
        previous = json.loads(state.read_text())
        try:
            os.killpg(previous["pid"], 15)
        except OSError:
            pass
    server = start_openbao(workdir / "bao")
    state.write_text(json.dumps({"url": server.url, "ca": server.tls["ca"], "root_token": server.root_token,
                                 "unseal_key": server.init_keys[0], "pid": server.proc.pid}))
    state.chmod(0o600)
    # The server leads a process group of its own; molecule/shared/destroy_platforms.yml stops it by this file.
    pids = workdir / "pids"
    pids.mkdir(exist_ok=True)
    (pids / "openbao.pid").write_text("%d\n" % server.proc.pid)
    if os.fork() == 0:  # the watcher
        os.setsid()
        deadline = time.monotonic() + LIFETIME
        while time.monotonic() < deadline and container_exists(instance):
            time.sleep(3)
        server.stop()
        os._exit(0)
    print(server.url)


if __name__ == "__main__":
    main()
