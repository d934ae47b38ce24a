"""Shared fixtures for the integration tests.

Every integration test runs a real ``ansible-playbook`` against a real or emulated server. The helpers
here run a playbook with the collection on ANSIBLE_COLLECTIONS_PATH and return what it printed, the
play recap and (for assertions on task results) the registered facts the playbook chose to dump.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # so tests can import tests.emulators.*

RECAP_RE = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)


def collections_path() -> str:
    """Make sure ansible_collections/ptfe/ops points at this checkout and return the collections path."""
    base = ROOT / ".tmp" / "collections"
    link = base / "ansible_collections" / "ptfe" / "ops"
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        link.symlink_to(ROOT)
    except FileExistsError:  # made by `make collection`, or by another test worker a moment ago
        pass
    return str(base)


@dataclass
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    recap: dict = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def host(self, name: str = "localhost") -> dict:
        return self.recap[name]

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(h["failed"] + h["unreachable"] for h in self.recap.values())


def run_playbook(playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None, inventory=None,
                 timeout=600, tags=None) -> PlaybookResult:
    """Run ansible-playbook and parse its recap. ``playbook`` is a path (absolute, or relative to tests/integration)."""
    path = Path(playbook)
    if not path.is_absolute():
        path = INTEGRATION / path
    cmd = [str(Path(sys.executable).with_name("ansible-playbook")), str(path)]
    cmd += ["-i", inventory or "localhost,", "-c", "local"] if inventory is None else ["-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if tags:
        cmd += ["--tags", tags]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    run_env = dict(os.environ)
    run_env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_path(),
        "ANSIBLE_FORCE_COLOR": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        # One round trip per task to a container target instead of four; tests may turn it off through env.
        "ANSIBLE_PIPELINING": "true",
    })
    if env:
        run_env.update(env)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=timeout, cwd=str(INTEGRATION), check=False)
    recap = {
        m.group("host"): {k: int(v) for k, v in m.groupdict().items() if k != "host"}
        for m in RECAP_RE.finditer(proc.stdout)
    }
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, recap)


# Files whose tests share one target that is dear to make, and for the firewall depend on their order (a fixed
# subnet; a check on the fresh host before the apply): pytest-xdist hands each of them to one worker whole, so that
# the target is made once. The ulimits engine restart tests share one container that runs its own Docker engine
# (booted once per worker, put back before each test). Every other test goes out on its own.
ONE_WORKER_FILES = ("firewall/test_firewall_role.py", "ulimits/test_ulimits_vault_seal.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Per-test load balancing, but whole files for ONE_WORKER_FILES (xdist's own loadgroup mark is not
    honoured with this pytest: its node-id suffix never reaches the scheduler)."""
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(ONE_WORKER_FILES) else nodeid

    return Scheduling(config, log)


def pytest_collection_modifyitems(items):
    """Tests marked slow first, so that under pytest-xdist the long runs start at once instead of ending the
    stage on one worker while the others idle. The sort is stable: every worker collects the same order."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)


@pytest.fixture
def playbook():
    """The run_playbook helper as a fixture."""
    return run_playbook


class MotoAccount:
    """moto's S3/KMS server seen with one set of credentials: ``url``, ``ca`` (a PEM path as a string),
    ``env`` (the credentials for ansible-playbook's environment) and ``client(service)`` (boto3)."""

    def __init__(self, server, region, access_key, secret_key):
        self.server = server
        self.url = server.url
        self.ca = str(server.ca)
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key
        self.env = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key, "AWS_DEFAULT_REGION": region}

    def client(self, service: str):
        return self.server.client(service, self.region, self.access_key, self.secret_key)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """One moto_server (S3 and KMS) per test worker, on 127.0.0.1 over HTTPS, for every directory that needs it;
    always stopped. Tests keep apart by the names of what they create (buckets, keys); wrap it in a MotoAccount
    for the credentials a test uses."""
    from tests.emulators.moto import start_moto  # pylint: disable=import-outside-toplevel

    try:
        server = start_moto(tmp_path_factory.mktemp("moto"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


def assert_no_secret(result: PlaybookResult, *secrets: str, paths=()):
    """Fail if any secret appears in the playbook output or in any of the given files."""
    for secret in secrets:
        assert secret, "a canary secret must not be empty"
        assert secret not in result.stdout, "secret leaked to stdout"
        assert secret not in result.stderr, "secret leaked to stderr"
        for p in paths:
            p = Path(p)
            if p.is_file():
                assert secret not in p.read_text(errors="replace"), f"secret leaked into {p}"
