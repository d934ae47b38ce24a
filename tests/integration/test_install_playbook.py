# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/install.yml, the main job, end to end: the same run as `make demo`.

hack/demo.py starts the PTFE emulator, a releases mirror, OpenBao (one self-managed key), moto and a Debian
container as the PTFE host, then runs install.yml three times and reads every server back. It exits non-zero
when the --check run wrote anything, when the reconfiguration run is not changed=0, or when any of the
secrets involved appears in a playbook log.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.integration.conftest import ROOT


@pytest.mark.slow
def test_install_playbook_end_to_end():
    image = subprocess.run([str(ROOT / "tests" / "images" / "build.sh"), "debian12"], capture_output=True,
                           text=True, check=True, timeout=900).stdout.strip().splitlines()[-1]
    name = "demo-it-%s" % uuid.uuid4().hex[:8]
    try:
        proc = subprocess.run([sys.executable, str(ROOT / "hack" / "demo.py")], capture_output=True, text=True,
                              env=dict(os.environ, PTFE_TEST_IMAGE=image, PTFE_DEMO_NAME=name), timeout=1200,
                              check=False)
    finally:
        shutil.rmtree(ROOT / ".tmp" / name, ignore_errors=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    assert "read back: 0 PTFE users, 0 buckets or key documents, Vault 1/1, unseal key present, nofile.conf absent" \
        in output
    assert "Vault       seal config: 5 shares, threshold 2; sealed: False" in output
    # The keys live in S3, not on the controller, and they unseal Vault after a seal.
    assert "new keys: 5 in s3://ptfe-demo-vault-keys/ptfe-ops/vault-keys/ptfe-%s-host.json (aws:kms" % name in output
    assert "sealed, then unsealed with 2 of the keys read back from S3: sealed False" in output
    assert "PTFE host   /data/vault-unseal-key: removed" in output
    assert "found: 0" in output
    assert "reconfiguration run changed 0" in output
