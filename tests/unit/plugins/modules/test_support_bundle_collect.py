"""support_bundle_collect's pieces on this machine: the bound in time stops a command with everything it started,
a vendor tarball comes out with every text member redacted and the rest left out, the retention keeps the newest
bundles of one name only, and the input rules name their option."""
from __future__ import annotations

import io
import os
import tarfile
import time

from ansible_collections.ptfe.ops.plugins.module_utils._support_bundle import run_bounded
from ansible_collections.ptfe.ops.plugins.modules import support_bundle_collect as sbc

PARAMS = {"action": "run", "name": "fdo", "bundle_dir": "/var/lib/b", "keep": 3, "timeout": 600,
          "command": ["tfectl"], "artifact_dir": None, "artifact_pattern": "*", "container": None, "encrypted": False,
          "paths": [], "exclude": ["vault-unseal-key"], "max_file_size": 10, "commands": [], "inspect_containers": [],
          "public_key": None, "secrets": []}


class Stub:
    def __init__(self, **params):
        self.params = dict(PARAMS, **params)


def test_a_command_and_its_children_are_stopped_after_the_bound(tmp_path):
    marker = tmp_path / "child.pid"
    started = time.monotonic()
    rc, _out, _err, timed_out = run_bounded(["sh", "-c", "sleep 300 & echo $! > %s; wait" % marker], 1, str(tmp_path))
    assert timed_out and rc is None
    assert time.monotonic() - started < 15
    pid = int(marker.read_text())
    time.sleep(0.2)
    assert not os.path.exists("/proc/%d" % pid) or "Z" in open("/proc/%d/stat" % pid).read().split()[2]


def test_a_finished_command_reports_its_output(tmp_path):
    assert run_bounded(["sh", "-c", "echo out; echo err >&2; exit 3"], 10, str(tmp_path)) == (3, b"out\n", b"err\n", False)
    assert run_bounded(["/nonexistent/command"], 10, str(tmp_path))[0] == 127


def test_vendor_tarball_redacted_member_by_member(tmp_path):
    source = tmp_path / "vendor.tar.gz"
    with tarfile.open(source, "w:gz") as archive:
        for name, data in (("etc/config.env", b"TFE_LICENSE=cnry-1\nTFE_HOSTNAME=tfe\n"),
                           ("logs/app.log", b"GET https://x/y?token=cnry-2 200\n"),
                           ("bin/blob", b"\x00\x01binary cnry-3"), ("nested.tar.gz", b"cnry-4")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    bundle = sbc.Bundle(Stub())
    out = bundle.redact_archive(str(source), str(tmp_path))
    with tarfile.open(out) as archive:
        content = {m.name: archive.extractfile(m).read() for m in archive}
    assert set(content) == {"etc/config.env", "logs/app.log"}
    assert b"cnry" not in b"".join(content.values())
    assert b"TFE_HOSTNAME=tfe" in content["etc/config.env"]
    assert len(bundle.skipped) == 2


def test_retention_keeps_the_newest_of_one_name(tmp_path):
    bundle = sbc.Bundle(Stub(bundle_dir=str(tmp_path), keep=2))
    names = ["fdo-20261201T00000%dZ.tar.gz" % index for index in range(4)] + ["collected-20261201T000000Z.tar.gz",
                                                                              "fdo-notes.txt"]
    for index, name in enumerate(names):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (1000 + index, 1000 + index))
    removed = bundle.prune(str(tmp_path / names[3]))
    assert sorted(os.path.basename(path) for path in removed) == names[:2]
    assert sorted(os.listdir(tmp_path)) == sorted(names[2:])


def test_input_rules_name_the_option():
    assert sbc.validate(dict(PARAMS)) == []
    problems = sbc.validate(dict(PARAMS, name="../x", bundle_dir="rel", keep=0, timeout=0, command=[],
                                 container="tfe", commands=[{"name": "a b", "argv": ["x"]}], public_key="ssh-rsa A"))
    for option in ("name", "bundle_dir", "keep", "timeout", "command", "artifact_dir", "commands[0]", "public_key"):
        assert any(problem.startswith(option) for problem in problems), (option, problems)
