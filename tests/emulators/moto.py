# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""moto's S3/KMS server as its own process on 127.0.0.1 or a given address (a free port), over HTTPS with a
throwaway CA."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.emulators.tls import make_ca_and_cert


class MotoServer:
    """A running moto_server: ``url``, ``ca`` (the CA's PEM path), ``client(service, ...)``, ``stop()``."""

    def __init__(self, proc, url, ca, log):
        self.proc = proc
        self.url = url
        self.ca = ca
        self._log = log

    def client(self, service, region, access_key, secret_key):
        """A boto3 client for this server (boto3 is imported here so that importing the module needs none)."""
        import boto3  # pylint: disable=import-outside-toplevel

        return boto3.client(service, endpoint_url=self.url, region_name=region, verify=str(self.ca),
                            aws_access_key_id=access_key, aws_secret_access_key=secret_key)

    def stop(self):
        """Stop the server (idempotent)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_moto(workdir, timeout=30.0, host="127.0.0.1"):
    """Start moto_server (from the running interpreter's virtualenv) on ``host`` and wait until it prints its URL.

    The certificate is made for ``host`` (and for localhost when ``host`` is 127.0.0.1); ``ca`` of the returned
    server is its CA, for a client's trust store or a bundle.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    hosts = (host, "localhost") if host == "127.0.0.1" else (host,)
    ca, cert, key = (Path(p) for p in make_ca_and_cert(str(workdir), hosts=hosts, name="moto-"))
    log = (workdir / "moto.log").open("w+")
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", host, "-p", "0", "-c", str(cert), "-k", str(key)],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    url = None
    deadline = time.monotonic() + timeout
    while url is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        log.seek(0)
        match = re.search(r"Running on (https://%s:\d+)" % re.escape(host), log.read())
        url = match.group(1) if match else None
    if url is None:
        log.seek(0)
        tail = log.read()[-2000:]
        MotoServer(proc, None, ca, log).stop()
        raise RuntimeError("moto_server did not start: %s" % tail)
    return MotoServer(proc, url, ca, log)
