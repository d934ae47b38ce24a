# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fdo scenario's controller side: what a real FDO install finds outside the host.

``python controller.py WORKDIR ROOT TARGET_IP HOSTNAME`` (run by prepare.yml from the repository root):

* builds the Terraform Enterprise stand-in image (tests/images/tfe-fdo/build.sh, cached by content hash);
* makes a throwaway CA and a server certificate for the target's address and the TFE host name;
* starts the releases mirror (tests/emulators/releases.py) in its own process group, its group id in
  WORKDIR/../pids/mirror.pid for the destroy step
  (molecule/shared/destroy_platforms.yml);
* writes WORKDIR/fdo.json: the image reference, the TLS file paths, the mirror's URL and CA, and the Terraform
  versions with their URLs and checksums, which the scenario's inventory reads.

Idempotent: a mirror that still answers is kept, a certificate already made is reused.
"""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

VERSIONS = ("1.9.8", "1.10.5")


def mirror_alive(state):
    try:
        context = ssl.create_default_context(cafile=state["mirror_ca"])
        with urllib.request.urlopen(state["mirror_url"] + "/terraform/1.0.0/terraform_1.0.0_SHA256SUMS",
                                    context=context, timeout=3) as resp:
            return resp.status == 200
    except (OSError, ValueError, KeyError):
        return False


def start_mirror(workdir, root):
    """Start the mirror detached from this process; return its URL and CA path."""
    mirror_dir = workdir / "mirror"
    mirror_dir.mkdir(parents=True, exist_ok=True)
    out = mirror_dir / "mirror.out"
    with open(out, "wb") as stdout, open(mirror_dir / "mirror.err", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "tests.emulators.releases", "--workdir", str(mirror_dir),
                                 "--auto"], cwd=str(root), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                start_new_session=True)
    pids = workdir.parent / "pids"
    pids.mkdir(exist_ok=True)
    (pids / "mirror.pid").write_text("%d\n" % proc.pid)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = out.read_text().strip()
        if line:
            return json.loads(line.splitlines()[0])
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("the releases mirror did not start: %s" % (mirror_dir / "mirror.err").read_text()[-2000:])


def main(argv):
    workdir, root, target_ip, hostname = Path(argv[1]), Path(argv[2]), argv[3], argv[4]
    workdir.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(root))
    from tests.emulators.releases import Release  # pylint: disable=import-outside-toplevel
    from tests.emulators.tls import make_ca_and_cert  # pylint: disable=import-outside-toplevel

    state_path = workdir / "fdo.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    image = subprocess.run([str(root / "tests" / "images" / "tfe-fdo" / "build.sh")], capture_output=True,
                           text=True, check=True, timeout=1200).stdout.strip().splitlines()[-1]
    tls_dir = workdir / "tls"
    if not (tls_dir / "server.pem").exists():
        make_ca_and_cert(str(tls_dir), hosts=(target_ip, hostname))
    if not mirror_alive(state):
        mirror = start_mirror(workdir, root)
        state["mirror_url"], state["mirror_ca"] = mirror["url"], mirror["ca_path"]
    state.update({
        "image": image,
        "ca": str(tls_dir / "ca.pem"),
        "cert": str(tls_dir / "server.pem"),
        "key": str(tls_dir / "server-key.pem"),
        "tool_versions_list": [
            {"version": v,
             "url": "%s/terraform/%s/terraform_%s_linux_amd64.zip" % (state["mirror_url"], v, v),
             "sha256": Release(v).sha256()} for v in VERSIONS],
    })
    state_path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    print(json.dumps({"image": image, "mirror_url": state["mirror_url"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
