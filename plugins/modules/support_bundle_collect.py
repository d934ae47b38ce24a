#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: support_bundle_collect
short_description: Make a support bundle on a PTFE or Terraform Enterprise host that holds no secret in clear
version_added: 0.3.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Runs on the host. With O(action=run) it runs the platform's own bundle command (C(hashicorp-support),
    C(replicatedctl support-bundle), C(tfectl support bundle) through C(docker exec)), bounded by O(timeout). A
    command still running then is stopped with its whole process group, and what it wrote is removed; the module
    fails and says so.
  - With O(action=collect) it is the fallback collector. It copies the files under O(paths), and the output of
    O(commands) and of C(docker inspect) of O(inspect_containers) with the containers' environment removed, each
    passed through the redactor of the P(ptfe.ops.redact_text#filter) filter, into one C(.tar.gz).
  - A bundle that is not encrypted (O(encrypted=false)) has every member passed through the same redactor. When
    O(public_key) is given and C(gpg) is on the host, the bundle is then encrypted to that key and only the
    encrypted file is kept.
  - The bundle is kept in O(bundle_dir) (mode 0700, files 0600) as C(<name>-<UTC time>.<extension>). Only the
    newest O(keep) bundles of O(name) stay there.
  - Returns the path, size and SHA-256 of the new bundle.
options:
  action:
    description: V(run) the platform's command, or V(collect) files and command output.
    type: str
    choices: [run, collect]
    required: true
  name:
    description: The name the bundle files start with; letters, digits, C(.), C(_) and C(-).
    type: str
    required: true
  bundle_dir:
    description: Absolute directory on the host where the bundles are kept.
    type: path
    required: true
  keep:
    description: How many bundles of O(name) stay in O(bundle_dir), the new one included.
    type: int
    default: 3
  timeout:
    description: Seconds the bundle command, and each command of O(commands), may run.
    type: int
    default: 600
  command:
    description:
      - With O(action=run), the bundle command as a list of arguments, run without a shell in a new empty
        working directory.
    type: list
    elements: str
  artifact_dir:
    description:
      - With O(action=run), where the command writes its bundle; the working directory when not set.
      - With O(container), a directory inside that container.
    type: path
  artifact_pattern:
    description: With O(action=run), a shell pattern the bundle's file name matches, for example V(*.tar.gz.enc).
    type: str
    default: "*"
  container:
    description:
      - With O(action=run), the container whose O(artifact_dir) receives the bundle (FDO). The bundle is copied
        out with C(docker cp) and removed from the container.
    type: str
  encrypted:
    description:
      - Whether the command's bundle is encrypted already (the AMI's C(.tar.gz.enc)). It is then kept as it is.
    type: bool
    default: false
  paths:
    description: With O(action=collect), files and directories (shell patterns allowed) to collect.
    type: list
    elements: path
    default: []
  exclude:
    description: Shell patterns of file names never collected, for files that hold nothing but a secret.
    type: list
    elements: str
    default: ["vault-unseal-key", "*.key", "*.pem", "*.p12", "id_rsa*", "id_ed25519*", "*.gpg", "*.enc"]
  max_file_size:
    description: With O(action=collect), bytes collected from each file, from its end (the newest lines of a log).
    type: int
    default: 5242880
  commands:
    description:
      - With O(action=collect), commands whose output is collected, each a dict with C(name) (the file name in
        the bundle) and C(argv) (a list). A command that is missing, fails or runs out of time is noted in the
        bundle's manifest and does not fail the module.
    type: list
    elements: dict
    default: []
  inspect_containers:
    description: With O(action=collect), containers whose C(docker inspect) is collected without their environment.
    type: list
    elements: str
    default: []
  public_key:
    description:
      - ASCII-armored OpenPGP public key (HashiCorp support's) to encrypt a bundle that is not encrypted, when
        C(gpg) is on the host.
    type: str
  secrets:
    description: Known secret values removed from every file as well.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ptfe.ops.attributes
attributes:
  check_mode:
    details: Runs nothing and writes nothing; returns what would be run and which files would be collected.
  diff_mode:
    support: none
    details: A bundle has no before and after to show.
  idempotent:
    support: none
    details: Every run makes a new bundle, which is the module's purpose; it always reports a change.
seealso:
  - plugin: ptfe.ops.redact_text
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Run the AMI's own bundle command, for ten minutes at most
  ptfe.ops.support_bundle_collect:
    action: run
    name: ami
    bundle_dir: /var/lib/ptfe-support-bundles
    command: [hashicorp-support]
    artifact_pattern: "*.tar.gz.enc"
    encrypted: true
    timeout: 600
"""

RETURN = r"""
bundle:
  description: Path of the new bundle on the host (not set in check mode).
  returned: success
  type: str
  sample: /var/lib/ptfe-support-bundles/ami-20261202T061500Z.tar.gz.enc
size:
  description: Size of the bundle in bytes.
  returned: success
  type: int
sha256:
  description: SHA-256 of the bundle, in hex.
  returned: success
  type: str
encrypted:
  description: Whether the bundle is encrypted (by the platform or to O(public_key)).
  returned: success
  type: bool
redacted:
  description: Whether every file of the bundle went through the redactor.
  returned: success
  type: bool
files:
  description: The files in the bundle (that would be in it, in check mode), when the module can tell.
  returned: always
  type: list
  elements: str
left_out:
  description: What was left out of the bundle and why, one sentence each.
  returned: always
  type: list
  elements: str
would_run:
  description: The command that would run, in check mode with O(action=run).
  returned: check mode
  type: list
  elements: str
removed:
  description: Older bundles removed to keep O(keep) of them.
  returned: always
  type: list
  elements: str
"""

import fnmatch
import glob
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._module import OpsModule
from ansible_collections.ptfe.ops.plugins.module_utils._redact import redact_file_text
from ansible_collections.ptfe.ops.plugins.module_utils._support_bundle import run_bounded

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
BUNDLE_SUFFIXES = (".tar.gz.enc", ".tar.gz.gpg", ".tar.gz", ".tgz", ".zip", ".enc", ".gpg")


class BundleError(OpsError):
    """The bundle could not be made."""


def validate(params):
    problems = []
    name = params["name"] or ""
    if not name or not set(name) <= NAME_CHARS or name.startswith("."):
        problems.append("name must be letters, digits, '.', '_' and '-', not starting with '.'")
    for option in ("bundle_dir", "artifact_dir"):
        value = params.get(option)
        if value is not None and (not value.startswith("/") or os.path.normpath(value) in ("/",)
                                  or any(part in (".", "..") for part in value.split("/"))):
            problems.append("%s must be an absolute directory other than / without '.' or '..' parts" % option)
    if not 1 <= params["keep"] <= 100:
        problems.append("keep must be between 1 and 100")
    if not 1 <= params["timeout"] <= 86400:
        problems.append("timeout must be between 1 and 86400 seconds")
    if params["max_file_size"] < 1:
        problems.append("max_file_size must be at least 1")
    if params["action"] == "run" and not params["command"]:
        problems.append("command is required with action=run")
    if params["container"] and not params["artifact_dir"]:
        problems.append("artifact_dir is required with container")
    for index, entry in enumerate(params["commands"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("argv"), list) or not entry.get("argv") \
                or not set(str(entry.get("name") or "")) <= NAME_CHARS or not entry.get("name"):
            problems.append("commands[%d] must be a dict with a name (letters, digits, '.', '_', '-') and an argv list"
                            % index)
    if params["public_key"] is not None and "BEGIN PGP PUBLIC KEY BLOCK" not in params["public_key"]:
        problems.append("public_key must be an ASCII-armored OpenPGP public key block")
    return problems


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def suffix(path):
    for candidate in BUNDLE_SUFFIXES:
        if path.endswith(candidate):
            return candidate
    return ".bin"


def tail(data, limit=400):
    text = data.decode("utf-8", "replace").strip()
    return text[-limit:]


def is_text(data):
    return b"\x00" not in data[:8192]


class Bundle(object):
    """One run of the module on the host."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.secrets = list(self.params["secrets"])
        self.skipped = []
        self.files = []
        self.stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())

    def redact(self, text):
        return redact_file_text(text, self.secrets)

    def excluded(self, path):
        base = os.path.basename(path)
        return any(fnmatch.fnmatch(base, pattern) for pattern in self.params["exclude"])

    # -- collect -----------------------------------------------------------------------------------------------
    def planned_files(self):
        found = []
        for pattern in self.params["paths"]:
            matches = sorted(glob.glob(pattern)) or []
            if not matches:
                self.skipped.append("%s: not found" % pattern)
            for match in matches:
                if os.path.isdir(match):
                    for root, dirs, names in os.walk(match):
                        dirs.sort()
                        found.extend(os.path.join(root, name) for name in sorted(names))
                else:
                    found.append(match)
        planned = []
        for path in found:
            if self.excluded(path):
                self.skipped.append("%s: holds only a secret, left out" % path)
            elif os.path.islink(path) or not os.path.isfile(path):
                self.skipped.append("%s: not a regular file, left out" % path)
            elif path not in planned:
                planned.append(path)
        return planned

    def read_tail(self, path):
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            limit = self.params["max_file_size"]
            if size > limit:
                stream.seek(size - limit)
                self.skipped.append("%s: only its last %d bytes" % (path, limit))
            return stream.read()

    def collect(self, staging):
        manifest = []
        for path in self.planned_files():
            try:
                data = self.read_tail(path)
            except OSError as exc:
                self.skipped.append("%s: unreadable (%s)" % (path, exc.strerror))
                continue
            if not is_text(data):
                self.skipped.append("%s: binary, left out" % path)
                continue
            self.add_text(staging, "files" + path, data.decode("utf-8", "replace"))
        for entry in self.params["commands"]:
            argv = [str(arg) for arg in entry["argv"]]
            rc, out, err, timed_out = run_bounded(argv, self.params["timeout"], staging)
            if timed_out:
                self.skipped.append("%s: stopped after %d seconds" % (entry["name"], self.params["timeout"]))
            elif rc:
                self.skipped.append("%s: exit status %s: %s" % (entry["name"], rc, self.redact(tail(err))))
            text = out.decode("utf-8", "replace") + (("\n--- stderr ---\n" + err.decode("utf-8", "replace")) if err else "")
            self.add_text(staging, "commands/%s.txt" % entry["name"], text)
        for container in self.params["inspect_containers"]:
            rc, out, err, timed_out = run_bounded(["docker", "inspect", container], self.params["timeout"], staging)
            if rc or timed_out:
                self.skipped.append("docker inspect %s: %s" % (container, "timed out" if timed_out else self.redact(tail(err))))
                continue
            try:
                document = json.loads(out.decode("utf-8", "replace"))
            except ValueError:
                self.skipped.append("docker inspect %s: not JSON" % container)
                continue
            for item in document if isinstance(document, list) else [document]:
                if isinstance(item, dict) and isinstance(item.get("Config"), dict):
                    item["Config"].pop("Env", None)
            self.add_text(staging, "containers/%s.json" % container, json.dumps(document, indent=2))
        manifest.extend(self.files)
        notes = "Collected:\n%s\n\nLeft out:\n%s\n" % ("\n".join(manifest) or "(nothing)", "\n".join(self.skipped) or "(nothing)")
        self.add_text(staging, "MANIFEST.txt", notes)
        out = os.path.join(staging, "bundle.tar.gz")
        with tarfile.open(out, "w:gz") as archive:
            for member in self.files:
                archive.add(os.path.join(staging, "content", member), arcname=member)
        return out

    def add_text(self, staging, member, text):
        member = member.lstrip("/")
        target = os.path.join(staging, "content", member)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        with open(target, "w", encoding="utf-8") as stream:
            stream.write(self.redact(text))
        self.files.append(member)

    # -- run ---------------------------------------------------------------------------------------------------
    def container_listing(self):
        rc, out, err, timed_out = run_bounded(["docker", "exec", self.params["container"], "sh", "-c",
                                               '[ ! -d "$1" ] || ls -1A "$1"', "sh", self.params["artifact_dir"]], 60, None)
        if rc or timed_out:
            raise BundleError("Failed to list %s in container %s: %s" % (self.params["artifact_dir"], self.params["container"],
                                                                         "timed out" if timed_out else self.redact(tail(err))))
        return set(out.decode("utf-8", "replace").split())

    def listing(self, directory):
        if self.params["container"]:
            return self.container_listing()
        return set(os.listdir(directory)) if os.path.isdir(directory) else set()

    def remove_new(self, directory, before):
        """Remove what the command wrote; the names removed."""
        new = sorted(self.listing(directory) - before)
        for entry in new:
            if self.params["container"]:
                run_bounded(["docker", "exec", self.params["container"], "rm", "-rf", "--", os.path.join(directory, entry)], 60, None)
            else:
                path = os.path.join(directory, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
        return [os.path.join(directory, entry) for entry in new]

    def run(self, staging):
        params = self.params
        workdir = os.path.join(staging, "work")
        os.mkdir(workdir, 0o700)
        directory = params["artifact_dir"] or workdir
        before = self.listing(directory)
        started = time.monotonic()
        rc, out, err, timed_out = run_bounded(params["command"], params["timeout"], workdir)
        # A command bounded by the same time on its own side (``timeout -s KILL`` in the FDO container) ends
        # killed (137) or timed out (124) as the bound is reached.
        timed_out = timed_out or (rc in (124, 137) and time.monotonic() - started >= params["timeout"] - 0.5)
        if timed_out or rc:
            removed = self.remove_new(directory, before)
            what = ("did not finish within %d seconds; it was stopped" % params["timeout"] if timed_out
                    else "failed with exit status %s (%s)" % (rc, self.redact(tail(err or out))))
            raise BundleError("The bundle command %s %s, and what it had written was removed from the host (%s)."
                              % (params["command"][0], what, ", ".join(removed) or "nothing"))
        new = sorted(name for name in self.listing(directory) - before if fnmatch.fnmatch(name, params["artifact_pattern"]))
        if not new:
            self.remove_new(directory, before)
            raise BundleError("The bundle command %s finished but wrote no file matching %s in %s."
                              % (params["command"][0], params["artifact_pattern"], directory))
        source = os.path.join(directory, new[-1])
        if params["container"]:
            local = os.path.join(staging, new[-1])
            rc, out, err, timed_out = run_bounded(["docker", "cp", "%s:%s" % (params["container"], source), local],
                                                  params["timeout"], None)
            self.remove_new(directory, before)
            if rc or timed_out:
                raise BundleError("Failed to copy %s out of container %s: %s" % (source, params["container"],
                                                                                 "timed out" if timed_out else self.redact(tail(err))))
            return local
        local = os.path.join(staging, new[-1])
        shutil.move(source, local)
        self.remove_new(directory, before)
        return local

    # -- after -------------------------------------------------------------------------------------------------
    def redact_archive(self, source, staging):
        """A copy of the archive ``source`` with every text member redacted and every other member left out."""
        out = os.path.join(staging, "redacted.tar.gz")
        try:
            reader = tarfile.open(source, "r:*")
        except tarfile.TarError:
            raise BundleError("The bundle %s is not a tar archive, and a bundle that is not encrypted is only "
                              "kept redacted." % os.path.basename(source))
        with reader, tarfile.open(out, "w:gz") as writer:
            for member in reader:
                if not member.isfile():
                    continue
                data = reader.extractfile(member).read()
                if not is_text(data) or member.name.endswith((".gz", ".tgz", ".zip", ".tar")):
                    self.skipped.append("%s: binary, left out of the redacted bundle" % member.name)
                    continue
                clean = self.redact(data.decode("utf-8", "replace")).encode("utf-8")
                info = tarfile.TarInfo(member.name)
                info.size, info.mtime, info.mode = len(clean), member.mtime, 0o600
                writer.addfile(info, io.BytesIO(clean))
                self.files.append(member.name)
        return out

    def encrypt(self, source, staging):
        gpg = self.module.get_bin_path("gpg")
        if not gpg or not self.params["public_key"]:
            return None
        home = os.path.join(staging, "gnupg")
        os.mkdir(home, 0o700)
        key = os.path.join(staging, "recipient.asc")
        with open(key, "w", encoding="utf-8") as stream:
            stream.write(self.params["public_key"])
        out = source + ".gpg"
        rc, dummy, err, timed_out = run_bounded([gpg, "--batch", "--no-tty", "--homedir", home, "--trust-model", "always",
                                                 "--recipient-file", key, "--output", out, "--encrypt", source], 300, staging)
        if rc or timed_out:
            raise BundleError("gpg could not encrypt the bundle: %s" % ("timed out" if timed_out else self.redact(tail(err))))
        return out

    def keep(self, source, extension):
        bundle_dir = self.params["bundle_dir"]
        os.makedirs(bundle_dir, mode=0o700, exist_ok=True)
        os.chmod(bundle_dir, 0o700)
        target = os.path.join(bundle_dir, "%s-%s%s" % (self.params["name"], self.stamp, extension))
        index = 1
        while os.path.exists(target):
            index += 1
            target = os.path.join(bundle_dir, "%s-%s-%d%s" % (self.params["name"], self.stamp, index, extension))
        os.chmod(source, 0o600)
        shutil.move(source, target)
        return target

    def prune(self, newest):
        bundle_dir = self.params["bundle_dir"]
        prefix = self.params["name"] + "-"
        mine = [os.path.join(bundle_dir, entry) for entry in os.listdir(bundle_dir)
                if entry.startswith(prefix) and entry[len(prefix):len(prefix) + 1].isdigit()]
        mine.sort(key=lambda path: (os.path.getmtime(path), path))
        old = [path for path in mine if path != newest][:max(0, len(mine) - self.params["keep"])]
        for path in old:
            os.unlink(path)
        return old


def plan(module, bundle):
    params = module.params
    result = {"changed": True, "files": [], "left_out": [], "removed": []}
    if params["action"] == "run":
        result["would_run"] = params["command"]
        result["msg"] = "Would run %s (at most %d seconds) and keep its bundle in %s" % (
            " ".join(params["command"]), params["timeout"], params["bundle_dir"])
    else:
        result["files"] = bundle.planned_files()
        result["files"].extend("commands/%s.txt (%s)" % (entry["name"], " ".join(map(str, entry["argv"])))
                               for entry in params["commands"])
        result["files"].extend("containers/%s.json (docker inspect, without its environment)" % name
                               for name in params["inspect_containers"])
        result["left_out"] = bundle.skipped
        result["msg"] = "Would collect %d files and command outputs, redacted, into %s" % (len(result["files"]), params["bundle_dir"])
    return result


def make(module, bundle):
    params = module.params
    parent = params["bundle_dir"]
    os.makedirs(parent, mode=0o700, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=parent)
    try:
        if params["action"] == "run":
            artifact = bundle.run(staging)
            encrypted = params["encrypted"]
        else:
            artifact = bundle.collect(staging)
            encrypted = False
        redacted = params["action"] == "collect"
        if not encrypted:
            if not redacted:
                artifact = bundle.redact_archive(artifact, staging)
                redacted = True
            sealed = bundle.encrypt(artifact, staging)
            if sealed:
                artifact, encrypted = sealed, True
        extension = suffix(artifact) if params["action"] == "run" and params["encrypted"] else (
            ".redacted.tar.gz.gpg" if encrypted else ".redacted.tar.gz")
        kept = bundle.keep(artifact, extension)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    removed = bundle.prune(kept)
    return {"changed": True, "bundle": kept, "size": os.path.getsize(kept), "sha256": sha256(kept),
            "encrypted": encrypted, "redacted": redacted, "files": bundle.files, "left_out": bundle.skipped,
            "removed": removed,
            "msg": "Made %s (%s)" % (kept, "encrypted" if encrypted else "redacted, not encrypted")}


def main():
    module = OpsModule(argument_spec=dict(
        action=dict(type="str", required=True, choices=["run", "collect"]),
        name=dict(type="str", required=True),
        bundle_dir=dict(type="path", required=True),
        keep=dict(type="int", default=3),
        timeout=dict(type="int", default=600),
        command=dict(type="list", elements="str"),
        artifact_dir=dict(type="path"),
        artifact_pattern=dict(type="str", default="*"),
        container=dict(type="str"),
        encrypted=dict(type="bool", default=False),
        paths=dict(type="list", elements="path", default=[]),
        exclude=dict(type="list", elements="str",
                     default=["vault-unseal-key", "*.key", "*.pem", "*.p12", "id_rsa*", "id_ed25519*", "*.gpg", "*.enc"]),
        max_file_size=dict(type="int", default=5242880),
        commands=dict(type="list", elements="dict", default=[]),
        inspect_containers=dict(type="list", elements="str", default=[]),
        public_key=dict(type="str"),
        secrets=dict(type="list", elements="str", default=[], no_log=True),
    ))
    module.fail_on_invalid(validate(module.params), "support_bundle_collect")
    bundle = Bundle(module)
    bundle.secrets.extend(module.no_log_values)
    if module.check_mode:
        module.exit_json(**plan(module, bundle))
    with module.errors("make a support bundle", writing="write the support bundle"):
        result = make(module, bundle)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
