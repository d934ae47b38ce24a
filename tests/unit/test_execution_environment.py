"""The execution environment: the build context ansible-builder makes from meta/execution-environment.yml
(offline, no image is built) holds every Python library the plugins import and every collection the roles and
playbooks call, and the collection, once installed in it, hands its own requirements to ansible-builder.

Whatever the collection starts to use without declaring it fails here, before an AWX job fails on it.
"""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "meta" / "execution-environment.yml"
BIN = Path(sys.executable).parent

#: Names that are Ansible itself, or this collection, not libraries the EE must add.
PROVIDED = {"ansible", "ansible_collections"}
#: Functions that import a library by name at run time (plugins/module_utils/_libraries.py, the module base).
IMPORTERS = {"optional_import", "import_module", "require"}
#: Collections that come with ansible-core, and this one.
BUILT_IN = {"ansible.builtin", "ansible.legacy", "ptfe.ops"}

FQCN = r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*"
#: A filter, test or lookup named by FQCN inside a Jinja expression: the collection part.
JINJA_FQCN = re.compile(r"(?:\|\s*|\bis\s+(?:not\s+)?|(?:lookup|query|q)\(\s*['\"])(%s)" % FQCN)


def run(*args, env=None):
    result = subprocess.run([str(a) for a in args], cwd=ROOT, capture_output=True, text=True, check=False,
                            env=None if env is None else dict(os.environ, **env))
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(map(str, args)), result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context, as `ansible-builder create` writes it from the root's link to the definition."""
    path = tmp_path_factory.mktemp("ee") / "context"
    run(sys.executable, "-m", "ansible_builder", "create", "-f", "execution-environment.yml", "--context", path,
        "--output-filename", "Containerfile")
    return path


@pytest.fixture(scope="module")
def installed(context, tmp_path_factory):
    """The collection installed from the context as the EE's galaxy stage installs it; the collections path."""
    path = tmp_path_factory.mktemp("collections")
    # Only the new path is searched, so the checkout's own link to the collection does not count as installed.
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "--no-deps", "--collections-path", path,
        context / "_build" / "ptfe_ops", env={"ANSIBLE_COLLECTIONS_PATH": str(path)})
    return path


def requirement_lines(path):
    return [line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines()
            if line.split("#", 1)[0].strip()]


def required_distributions(path):
    return {canonicalize_name(Requirement(line).name) for line in requirement_lines(path)}


def galaxy_collections(path):
    return {entry["name"]: entry.get("version", "*") for entry in yaml.safe_load(Path(path).read_text())["collections"]}


# -- the definition ----------------------------------------------------------------------------------------------


def test_one_definition_with_a_pinned_base_image():
    root = ROOT / "execution-environment.yml"
    assert root.is_symlink() and root.resolve() == DEFINITION.resolve(), \
        "execution-environment.yml must be a link to meta/execution-environment.yml, not a second definition"
    definition = yaml.safe_load(DEFINITION.read_text())
    assert definition["version"] == 3
    image = definition["images"]["base_image"]["name"]
    pinned = "@sha256:" in image or re.search(r":[^/:]*\d[^/:]*$", image)
    assert pinned and not image.endswith(":latest"), "base image %s is not pinned by digest or exact tag" % image
    for package in ("ansible_core", "ansible_runner"):
        assert "==" in definition["dependencies"][package]["package_pip"], "%s is not pinned" % package
    # The paths are the collection's own files, relative to its root, as ansible-builder reads them from an
    # installed collection's meta/execution-environment.yml.
    deps = definition["dependencies"]
    assert (deps["python"], deps["system"], deps["galaxy"]) == ("requirements.txt", "bindep.txt", "requirements.yml")


def test_context_holds_the_collections_requirements_and_bindep(context):
    build = context / "_build"
    for name in ("requirements.txt", "bindep.txt", "requirements.yml"):
        assert (build / name).read_text() == (ROOT / name).read_text(), name
    containerfile = (context / "Containerfile").read_text()
    image = yaml.safe_load(DEFINITION.read_text())["images"]["base_image"]["name"]
    assert 'ARG EE_BASE_IMAGE="%s"' % image in containerfile
    assert "--collections-path /usr/share/ansible/collections /build/ptfe_ops" in containerfile
    bindep = requirement_lines(build / "bindep.txt")
    for package in ("gnupg2 [platform:rpm]", "gnupg [platform:dpkg]"):
        assert package in bindep, "gpg is needed on the controller for the PGP keys of a rekey"


def test_the_installed_collection_hands_its_requirements_to_ansible_builder(context, installed, tmp_path):
    """ansible-builder's builder stage reads them through the installed collection's metadata, as it does for an
    EE that lists ptfe.ops among its collections."""
    ops = installed / "ansible_collections" / "ptfe" / "ops"
    for path in ("meta/runtime.yml", "meta/execution-environment.yml", "playbooks/install.yml",
                 "plugins/modules/vault_rekey.py", "roles/initial_admin/tasks/main.yml", "requirements.txt",
                 "bindep.txt"):
        assert (ops / path).is_file(), "%s is not in the collection the EE installs" % path
    pip, bindep = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    run(sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect", "--write-pip", pip,
        "--write-bindep", bindep, installed)
    for source, combined in (("requirements.txt", pip), ("bindep.txt", bindep)):
        lines = combined.read_text().splitlines()
        for line in requirement_lines(ROOT / source):
            assert "%s  # from collection ptfe.ops" % line in lines, "%s: %s not introspected" % (source, line)


# -- Python libraries --------------------------------------------------------------------------------------------


def imported_names(path):
    """Top-level names of what a file imports: import statements, and the names given to the functions that
    import at run time (``optional_import("botocore.config")``, ``module.require("boto3")``) or to a module
    base's ``client_library``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in IMPORTERS:
                names.update(arg.value for arg in node.args
                             if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if any(getattr(target, "id", None) == "client_library" for target in node.targets):
                if isinstance(node.value.value, str):
                    names.add(node.value.value)
    return {name.split(".")[0] for name in names}


def third_party_imports():
    """{top-level import name: [files]} of every library under plugins/ that is neither the standard library
    nor Ansible."""
    found = {}
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for name in imported_names(path) - PROVIDED - set(sys.stdlib_module_names) - {"__future__"}:
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def distribution_of(import_name):
    """The PyPI distribution that installs ``import_name`` here (``yaml`` -> ``PyYAML``)."""
    dists = importlib.metadata.packages_distributions().get(import_name)
    assert dists, "%s is imported by the plugins but not installed in this virtualenv" % import_name
    return dists[0]


def test_the_import_scan_sees_the_libraries_the_plugins_load_at_run_time():
    found = third_party_imports()
    # requests, hvac and boto3 are loaded through optional_import/require, never by an import statement.
    assert {"requests", "hvac", "boto3", "botocore"} <= set(found), found


def test_every_library_the_plugins_import_is_in_the_requirements(context):
    required = required_distributions(context / "_build" / "requirements.txt")
    missing = {"%s (import %s)" % (distribution_of(name), name): files
               for name, files in third_party_imports().items()
               if canonicalize_name(distribution_of(name)) not in required}
    assert not missing, "imported by plugins/ but missing from requirements.txt: %s" % missing


# -- collections -------------------------------------------------------------------------------------------------


def _task_keys(node, found, path):
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and re.fullmatch(FQCN, key):
                found.setdefault(key, set()).add(path)
            if key in ("include_role", "import_role") and isinstance(value, dict):
                _add(value.get("name"), found, path)
            if key == "roles" and isinstance(value, list):
                for role in value:
                    _add(role.get("role", role.get("name")) if isinstance(role, dict) else role, found, path)
            _task_keys(value, found, path)
    elif isinstance(node, list):
        for item in node:
            _task_keys(item, found, path)


def _add(name, found, path):
    if isinstance(name, str) and re.fullmatch(FQCN, name):
        found.setdefault(name, set()).add(path)


def referenced_collections():
    """{collection: {files}} of every collection whose module, action, role, filter, test or lookup the roles
    and playbooks name by FQCN."""
    found = {}
    files = [p for top in ("roles", "playbooks") for p in sorted((ROOT / top).rglob("*"))
             if p.suffix in (".yml", ".yaml", ".j2") and p.is_file()]
    for path in files:
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        for match in JINJA_FQCN.finditer(text):
            _add(match.group(1), found, where)
        if path.suffix != ".j2":
            for document in yaml.safe_load_all(text):
                _task_keys(document, found, where)
    collections = {}
    for name, paths in found.items():
        collection = name.rsplit(".", 1)[0]
        if collection not in BUILT_IN:
            collections.setdefault(collection, set()).update(paths)
    return collections


def test_the_collection_scan_sees_the_modules_the_roles_call():
    assert {"amazon.aws", "community.general", "ansible.posix"} <= set(referenced_collections())


def test_every_collection_called_is_a_dependency_as_the_ee_sees_it(context, installed):
    """In the EE's galaxy requirements (what the image installs) and in the installed collection's manifest
    (what `ansible-galaxy collection install ptfe.ops` pulls in), with the same version ranges in both."""
    galaxy = galaxy_collections(context / "_build" / "requirements.yml")
    manifest = json.loads((installed / "ansible_collections" / "ptfe" / "ops" / "MANIFEST.json").read_text())
    dependencies = manifest["collection_info"]["dependencies"]
    for collection, paths in sorted(referenced_collections().items()):
        assert collection in galaxy, "%s (used in %s) is missing from requirements.yml" % (collection, sorted(paths))
        assert collection in dependencies, \
            "%s (used in %s) is missing from galaxy.yml dependencies" % (collection, sorted(paths))
    assert galaxy == dependencies, "requirements.yml and galaxy.yml dependencies disagree"
