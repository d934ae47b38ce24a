"""A small HTTPS releases mirror, laid out like releases.hashicorp.com.

Serves ``/terraform/<v>/terraform_<v>_linux_amd64.zip`` (deterministic bytes, streamed in 64 KiB blocks so a
large artifact costs no memory here either) and ``/terraform/<v>/terraform_<v>_SHA256SUMS`` (one line per
published arch, as HashiCorp publishes it). A throwaway CA signs the server certificate; its PEM is written
to ``<workdir>/releases-ca.pem``.

Use in-process (pytest fixtures, the benchmark)::

    mirror = ReleasesMirror(workdir, auto=True).start()
    mirror.add_version("1.5.7", size=4096, sums=True)
    mirror.url, mirror.ca_path, mirror.sha256("1.5.7"), mirror.requests
    mirror.stop()

or as its own process: ``python -m tests.emulators.releases --workdir DIR [--auto]`` prints one JSON line
``{"url": ..., "ca_path": ...}``; the control API is ``GET /_mirror/log``, ``POST /_mirror/versions``
(JSON ``{"version", "size", "sums", "publish_sha"}``) and ``POST /_mirror/reset-log``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import socket
import ssl
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.emulators.tls import make_ca_and_cert

BLOCK = 64 * 1024
VERSION_RE = r"\d+\.\d+\.\d+(?:-[0-9A-Za-z][0-9A-Za-z.]*)?"
ZIP_RE = re.compile(r"^/terraform/(?P<v>" + VERSION_RE + r")/terraform_(?P=v)_(?P<os>[a-z0-9]+)_(?P<arch>[a-z0-9]+)\.zip$")
SUMS_RE = re.compile(r"^/terraform/(?P<v>" + VERSION_RE + r")/terraform_(?P=v)_SHA256SUMS$")
EXTRA_ARCHS = (("darwin", "arm64"), ("linux", "arm64"))


def make_tls(workdir: Path, name: str = "releases"):
    """Create a throwaway CA and a server certificate for 127.0.0.1/localhost; return (ca_path, cert, key)."""
    ca_path, cert_path, key_path = make_ca_and_cert(str(workdir), name=name + "-")
    return Path(ca_path), Path(cert_path), Path(key_path)


def blocks(version: str, os_: str, arch: str, size: int):
    """Deterministic artifact bytes for one build, in BLOCK-sized pieces."""
    seed = hashlib.sha256(f"terraform {version} {os_} {arch}".encode()).digest()
    block = (seed * (BLOCK // len(seed) + 1))[:BLOCK]
    left = size
    index = 0
    while left > 0:
        piece = hashlib.sha256(seed + index.to_bytes(8, "big")).digest() + block[32:]
        piece = piece[:min(BLOCK, left)]
        yield piece
        left -= len(piece)
        index += 1


@dataclass
class Release:
    version: str
    size: int = 2048
    sums: bool = True          # publish terraform_<v>_SHA256SUMS beside the zip
    publish_sha: str = ""      # if set, SHA256SUMS lists this (wrong) checksum for linux_amd64
    _shas: dict = None

    def sha256(self, os_="linux", arch="amd64") -> str:
        if self._shas is None:
            self._shas = {}
        key = (os_, arch)
        if key not in self._shas:
            digest = hashlib.sha256()
            for piece in blocks(self.version, os_, arch, self.size):
                digest.update(piece)
            self._shas[key] = digest.hexdigest()
        return self._shas[key]

    def sums_text(self) -> str:
        lines = []
        for os_, arch in sorted((("linux", "amd64"),) + EXTRA_ARCHS):
            sha = self.sha256(os_, arch)
            if (os_, arch) == ("linux", "amd64") and self.publish_sha:
                sha = self.publish_sha
            lines.append(f"{sha}  terraform_{self.version}_{os_}_{arch}.zip")
        return "\n".join(lines) + "\n"


class ReleasesMirror:
    """The mirror. ``auto=True`` serves any well-formed version with default settings."""

    def __init__(self, workdir, auto: bool = False, default_size: int = 2048):
        self.workdir = Path(workdir)
        self.auto = auto
        self.default_size = default_size
        self.releases: dict[str, Release] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.ca_path, self._cert, self._key = make_tls(self.workdir)
        self._server = None
        self._thread = None

    # -- state ---------------------------------------------------------------------------------------
    def add_version(self, version, size=None, sums=True, publish_sha=""):
        with self.lock:
            rel = Release(version, size or self.default_size, sums, publish_sha)
            self.releases[version] = rel
            return rel

    def release(self, version):
        with self.lock:
            rel = self.releases.get(version)
            if rel is None and self.auto:
                rel = self.releases[version] = Release(version, self.default_size)
            return rel

    def sha256(self, version, os_="linux", arch="amd64") -> str:
        return self.release(version).sha256(os_, arch)

    def zip_url(self, version, os_="linux", arch="amd64") -> str:
        return f"{self.url}/terraform/{version}/terraform_{version}_{os_}_{arch}.zip"

    def downloads(self):
        """Requests made for zip files (the expensive ones)."""
        with self.lock:
            return [r for r in self.requests if r[1].endswith(".zip")]

    def reset_log(self):
        with self.lock:
            self.requests.clear()

    # -- server --------------------------------------------------------------------------------------
    def start(self):
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body leave in separate writes; without this, Nagle + delayed ACK add ~40 ms each.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status, body=b"", ctype="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                with mirror.lock:
                    mirror.requests.append((self.command, self.path, status))

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path == "/_mirror/log":
                    with mirror.lock:
                        body = json.dumps([list(r) for r in mirror.requests]).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                match = SUMS_RE.match(path)
                if match:
                    rel = mirror.release(match.group("v"))
                    if rel is None or not rel.sums:
                        return self._send(404, b"Not Found\n")
                    return self._send(200, rel.sums_text().encode())
                match = ZIP_RE.match(path)
                if match:
                    rel = mirror.release(match.group("v"))
                    key = (match.group("os"), match.group("arch"))
                    if rel is None or key not in (("linux", "amd64"),) + EXTRA_ARCHS:
                        return self._send(404, b"Not Found\n")
                    self.send_response(200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Content-Length", str(rel.size))
                    self.end_headers()
                    if self.command != "HEAD":
                        for piece in blocks(rel.version, key[0], key[1], rel.size):
                            self.wfile.write(piece)
                    with mirror.lock:
                        mirror.requests.append((self.command, self.path, 200))
                    return None
                return self._send(404, b"Not Found\n")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                if self.path == "/_mirror/versions":
                    spec = json.loads(raw or b"{}")
                    rel = mirror.add_version(spec["version"], spec.get("size"), spec.get("sums", True),
                                             spec.get("publish_sha", ""))
                    body = json.dumps({"version": rel.version, "url": mirror.zip_url(rel.version),
                                       "sha256": rel.sha256()}).encode()
                    return self._send(201, body, "application/json")
                if self.path == "/_mirror/reset-log":
                    mirror.reset_log()
                    return self._send(204)
                return self._send(404, b"Not Found\n")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self._cert), str(self._key))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, name="releases-mirror", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--auto", action="store_true", help="serve any well-formed version")
    parser.add_argument("--size", type=int, default=2048, help="default artifact size in bytes")
    args = parser.parse_args(argv)
    mirror = ReleasesMirror(args.workdir, auto=args.auto, default_size=args.size).start()
    print(json.dumps({"url": mirror.url, "ca_path": str(mirror.ca_path)}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        mirror.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
