# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/support_bundle.yml (the support_bundle role) against AMI-, Replicated- and FDO-shaped stand-in hosts:
what reaches the controller is encrypted to the test key and holds no canary, nor does the play's output at -vvvv;
a hanging command is stopped after its bound and cleaned up; the FDO download is off after a failed run; every run
makes a new bundle, and the host keeps only the newest ones."""
from __future__ import annotations

import hashlib
import re
import stat
import time

from tests.integration.conftest import ROOT, run_playbook
from tests.integration.support_bundle.conftest import CANARIES, members

PLAYBOOK = ROOT / "playbooks" / "support_bundle.yml"
HOST_DIR = "/var/lib/ptfe-support-bundles"
REPORT_RE = re.compile(r"(/\S+): ([0-9]+) bytes, SHA256 ([0-9a-f]{64}), (encrypted|redacted, not encrypted)")


def run(hosts, extra, limit=None, **kwargs):
    inventory = next(iter(hosts.values())).inventory
    variables = {"support_bundle_hosts": limit or "all"}
    variables.update(extra)
    return run_playbook(PLAYBOOK, extra_vars=variables, inventory=inventory, **kwargs)


def controller_files(dest):
    return sorted(path for path in dest.rglob("*") if path.is_file())


def assert_no_canary(dest, output):
    for path in dest.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for canary in CANARIES:
                assert canary.encode() not in data, "%s in %s" % (canary, path)
    for canary in CANARIES:
        assert canary not in output, canary


def still_runs(host, pid, settle=5.0):
    """Whether process ``pid`` on ``host`` still runs ``settle`` seconds after the play ended. A killed process
    whose parent died before reaping it is a zombie (state Z) until the container's init reaps it: it no longer
    runs."""
    deadline = time.monotonic() + settle
    while True:
        state = host.sh("sed -n 's/^[0-9]* (.*) \\([A-Z]\\).*/\\1/p' /proc/%s/stat 2>/dev/null" % pid,
                        check=False).stdout.strip()
        if state in ("", "Z", "X") or time.monotonic() > deadline:
            return state not in ("", "Z", "X")
        time.sleep(0.2)


def test_three_generations_arrive_encrypted_and_without_canaries(ptfe, stand_ins, gpg, tmp_path):
    emulator = ptfe(product_version="v202309-1")
    dest = tmp_path / "bundles"
    result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_address": emulator.url,
                             "support_bundle_ca_path": emulator.ca_path, "support_bundle_public_key": gpg.public_key},
                 verbosity=4, env={"ANSIBLE_SHOW_CUSTOM_STATS": "true"})
    assert result.rc == 0, result.output
    stats = result.stdout[result.stdout.index("CUSTOM STATS"):]
    assert_no_canary(dest, result.output)
    reports = {path: (int(size), digest, how) for path, size, digest, how in REPORT_RE.findall(result.stdout)}
    assert len(reports) == 3, result.stdout
    for generation, host in stand_ins.items():
        assert result.host(host.name)["changed"] > 0
        folder = dest / host.name
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        files = controller_files(folder)
        assert len(files) == 1, files
        bundle = files[0]
        assert stat.S_IMODE(bundle.stat().st_mode) == 0o600
        size, digest, how = reports[str(bundle)]
        assert how == "encrypted"
        assert (size, digest) == (bundle.stat().st_size, hashlib.sha256(bundle.read_bytes()).hexdigest())
        assert str(bundle) in stats and digest in stats
        content = members(gpg.decrypt(bundle))
        assert {"var/log/terraform-enterprise/tfe.log", "etc/tfe/config.env", "etc/tfe/settings.json"} <= set(content)
        if generation == "ami":
            # HashiCorp's own encrypted bundle is kept as the platform made it.
            assert bundle.name.startswith("ami-") and bundle.name.endswith(".tar.gz.enc")
            assert b"CANARYcfg01" in content["etc/tfe/config.env"]
        else:
            # Plain platform bundles were redacted on the host before they left it, then encrypted.
            assert bundle.name.startswith(generation + "-") and bundle.name.endswith(".redacted.tar.gz.gpg")
            for name, data in content.items():
                for canary in CANARIES:
                    assert canary.encode() not in data, (generation, name, canary)
            assert b"TFE_HOSTNAME=tfe.example.com" in content["etc/tfe/config.env"]
            assert b"all services ready" in content["var/log/terraform-enterprise/tfe.log"]
            assert "data/vault-unseal-key" not in content or b"********" in content["data/vault-unseal-key"]
        # The host keeps the artifact it sent, and nothing of the command's own output besides.
        assert host.listing(HOST_DIR) == [bundle.name.replace(".redacted.tar.gz.gpg", ".redacted.tar.gz")]
    assert stand_ins["replicated"].listing("/var/lib/replicated/support-bundles") == []
    assert stand_ins["fdo"].listing("/run/terraform-enterprise/support-bundles") == []


def test_hanging_command_is_stopped_after_its_bound_and_cleaned_up(stand_ins, tmp_path):
    ami = stand_ins["ami"]
    ami.sh("touch /opt/standin/hang")
    dest = tmp_path / "bundles"
    started = time.monotonic()
    result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_platform": "ami",
                             "support_bundle_timeout": 3, "support_bundle_fallback": False}, limit=ami.name)
    elapsed = time.monotonic() - started
    assert result.rc != 0
    assert "did not finish within 3 seconds; it was stopped" in result.output
    assert "what it had written was removed from the host" in result.output
    assert elapsed < 60, elapsed
    pid = ami.sh("cat /opt/standin/hang.pid").stdout.strip()
    assert not still_runs(ami, pid), "the hanging command still runs"
    assert ami.sh("ls -A %s" % HOST_DIR).stdout.strip() == ""
    assert controller_files(dest) == []


def test_hanging_command_falls_back_to_the_collector(stand_ins, gpg, tmp_path):
    ami = stand_ins["ami"]
    ami.sh("touch /opt/standin/hang")
    dest = tmp_path / "bundles"
    result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_platform": "ami",
                             "support_bundle_timeout": 3, "support_bundle_public_key": gpg.public_key},
                 limit=ami.name, verbosity=4)
    assert result.rc == 0, result.output
    assert "Collecting with the fallback collector instead" in result.output
    assert_no_canary(dest, result.output)
    (bundle,) = controller_files(dest / ami.name)
    assert bundle.name.startswith("collected-") and bundle.name.endswith(".redacted.tar.gz.gpg")
    content = members(gpg.decrypt(bundle))
    assert {"MANIFEST.txt", "files/var/log/terraform-enterprise/tfe.log", "files/etc/tfe/config.env",
            "commands/disk.txt", "commands/limits.txt"} <= set(content)
    assert "files/etc/tfe/tls.key" not in content
    assert b"/data/vault-unseal-key" not in content["MANIFEST.txt"] or b"holds only a secret" in content["MANIFEST.txt"]
    for data in content.values():
        for canary in CANARIES:
            assert canary.encode() not in data


def test_fdo_collector_drops_the_container_environment(stand_ins, gpg, tmp_path):
    fdo = stand_ins["fdo"]
    dest = tmp_path / "bundles"
    result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_platform": "none",
                             "support_bundle_public_key": gpg.public_key,
                             "support_bundle_fdo_container": "terraform-enterprise"}, limit=fdo.name, verbosity=4)
    assert result.rc == 0, result.output
    assert_no_canary(dest, result.output)
    (bundle,) = controller_files(dest / fdo.name)
    content = members(gpg.decrypt(bundle))
    inspect = content["containers/terraform-enterprise.json"]
    assert b'"Image": "tfe:1.2.1"' in inspect and b"Env" not in inspect
    assert b'"status": "ok"' in content["commands/diagnostics.txt"]
    for data in content.values():
        for canary in CANARIES:
            assert canary.encode() not in data


def test_fdo_download_is_switched_off_after_a_failed_run(stand_ins, tmp_path):
    fdo = stand_ins["fdo"]
    fdo.sh("touch /opt/standin/bundle-fails")
    result = run(stand_ins, {"support_bundle_dest": str(tmp_path / "bundles"), "support_bundle_platform": "fdo",
                             "support_bundle_fdo_download": True, "support_bundle_fallback": False}, limit=fdo.name,
                 verbosity=4)
    assert result.rc != 0
    assert "Switch the FDO bundle download on for the run" in result.output
    assert "exit status 3" in result.output
    assert fdo.sh("cat /opt/standin/download-state").stdout.strip() == "disabled"
    for canary in CANARIES:
        assert canary not in result.output


def test_fdo_host_with_gpg_encrypts_before_the_bundle_leaves_it(stand_ins, gpg, tmp_path):
    fdo = stand_ins["fdo"]
    fdo.install_gpg()
    dest = tmp_path / "bundles"
    try:
        result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_platform": "fdo",
                                 "support_bundle_public_key": gpg.public_key, "support_bundle_fdo_download": True},
                     limit=fdo.name, verbosity=4)
    finally:
        fdo.remove_gpg()
    assert result.rc == 0, result.output
    assert_no_canary(dest, result.output)
    # Encrypted on the host: the controller never held a plain copy, and has nothing to encrypt.
    assert "Encrypt the redacted bundle to the public key" not in result.output
    (bundle,) = controller_files(dest / fdo.name)
    assert bundle.name.startswith("fdo-") and bundle.name.endswith(".redacted.tar.gz.gpg")
    assert fdo.listing(HOST_DIR) == [bundle.name]
    content = members(gpg.decrypt(bundle))
    assert b"TFE_HOSTNAME=tfe.example.com" in content["etc/tfe/config.env"]
    for data in content.values():
        for canary in CANARIES:
            assert canary.encode() not in data
    assert fdo.sh("cat /opt/standin/download-state").stdout.strip() == "disabled"


def test_hanging_fdo_bundle_is_stopped_and_the_download_switched_off(stand_ins, tmp_path):
    fdo = stand_ins["fdo"]
    fdo.sh("touch /opt/standin/hang")
    result = run(stand_ins, {"support_bundle_dest": str(tmp_path / "bundles"), "support_bundle_platform": "fdo",
                             "support_bundle_timeout": 3, "support_bundle_fdo_download": True,
                             "support_bundle_fallback": False}, limit=fdo.name)
    assert result.rc != 0
    assert "did not finish within 3 seconds; it was stopped" in result.output, result.output
    assert "tfe-support-bundle-partial.tar.gz" in result.output  # named as removed
    pid = fdo.sh("cat /opt/standin/hang.pid").stdout.strip()
    assert not still_runs(fdo, pid), "the hanging command still runs"
    assert fdo.listing("/run/terraform-enterprise/support-bundles") == []
    assert fdo.listing(HOST_DIR) == []
    assert fdo.sh("cat /opt/standin/download-state").stdout.strip() == "disabled"


def test_every_run_makes_a_new_bundle_and_the_host_keeps_only_the_newest(stand_ins, tmp_path):
    replicated = stand_ins["replicated"]
    dest = tmp_path / "bundles"
    names = []
    for _round in range(3):
        result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_platform": "replicated",
                                 "support_bundle_keep": 2}, limit=replicated.name)
        assert result.rc == 0, result.output
        assert result.host(replicated.name)["changed"] > 0
        assert "redacted, not encrypted" in result.stdout
        names.append(replicated.listing(HOST_DIR))
    arrived = [path.name for path in controller_files(dest / replicated.name)]
    assert len(arrived) == 3 and len(set(arrived)) == 3
    assert [len(listing) for listing in names] == [1, 2, 2]
    assert names[2] == sorted(arrived)[1:]
    assert_no_canary(dest, "")


def test_check_mode_says_what_would_be_collected_and_runs_nothing(stand_ins, tmp_path):
    dest = tmp_path / "bundles"
    result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_platform": "none"}, check=True,
                 limit=stand_ins["fdo"].name)
    assert result.rc == 0, result.output
    assert "Would collect" in result.stdout and "/var/log/terraform-enterprise/tfe.log" in result.stdout
    assert "containers/terraform-enterprise.json" in result.stdout
    result = run(stand_ins, {"support_bundle_dest": str(dest), "support_bundle_platform": "ami"}, check=True,
                 limit=stand_ins["ami"].name)
    assert result.rc == 0, result.output
    assert "Would run hashicorp-support" in result.stdout
    assert not dest.exists()
    for host in stand_ins.values():
        assert host.listing(HOST_DIR) == []
