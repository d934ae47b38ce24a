"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip in each sanity virtualenv by running a script fetched from a host that is
not reachable here. It caches that script under ~/.ansible/test/cache/get_pip_<version>.py and uses the
cached copy when present. This stand-in installs pip from the wheel bundled with ``ensurepip`` and then
lets that pip install the requested version from the configured package index. ansible-test passes
``--no-setuptools``/``--no-wheel``, which are get-pip options, not pip options, so they are dropped.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
