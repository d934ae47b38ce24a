"""``python -m tests.emulators.ptfe``: start the emulator and print its URL as one JSON line."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile

from .server import make_server


def parse_args(argv=None):
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.ptfe", description=__doc__)
    parser.add_argument("--config", help="JSON file of config knobs (see state.DEFAULT_CONFIG)")
    parser.add_argument("--tls-dir", help="where to write the throwaway CA and certificate (default: a temp dir)")
    parser.add_argument("--plain-http", action="store_true", help="serve plain HTTP (debugging only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--boot-seconds", type=float)
    parser.add_argument("--iact-token")
    parser.add_argument("--iact-subnet-list")
    parser.add_argument("--iact-subnet-time-limit")
    parser.add_argument("--iact-trusted-proxies", help="comma-separated")
    parser.add_argument("--rate-limit", type=float)
    return parser.parse_args(argv)


def _stop(signum, frame):  # pylint: disable=unused-argument
    raise KeyboardInterrupt()


def main(argv=None):
    """Entry point."""
    args = parse_args(argv)
    config = {}
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            config = json.load(fh)
    for key in ("boot_seconds", "iact_token", "iact_subnet_list", "iact_subnet_time_limit", "rate_limit"):
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    if args.iact_trusted_proxies is not None:
        config["iact_trusted_proxies"] = [p for p in args.iact_trusted_proxies.split(",") if p]
    tls_dir = None if args.plain_http else (args.tls_dir or tempfile.mkdtemp(prefix="ptfe-emulator-tls-"))
    server, ca_path = make_server(config, host=args.host, port=args.port, tls_dir=tls_dir)
    signal.signal(signal.SIGTERM, _stop)
    sys.stdout.write(json.dumps({"url": server.url, "ca_path": ca_path, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
