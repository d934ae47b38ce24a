"""The AWX/AAP credential types in extensions/awx/credential_types/ against what the collection reads.

Every environment variable a credential type injects is read by something the jobs run: a module's option
fallback (every module's argument spec, as the module builds it), boto3 (which the custody code hands S3 to) or
the amazon.aws modules the roles call. Every secret option that falls back to an environment variable has a
credential type that injects it, so no job template has to carry a token as a plain extra variable. Extra
variables a type injects are role variables. Renaming a fallback in a module, or a variable in a type, fails here.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path
from unittest import mock

import jinja2.sandbox
import pytest
import yaml
from ansible.module_utils import basic

ROOT = Path(__file__).resolve().parents[2]
TYPES_DIR = ROOT / "extensions" / "awx" / "credential_types"
TYPE_FILES = sorted(TYPES_DIR.glob("*.yml"))
MODULE_FILES = sorted((ROOT / "plugins" / "modules").glob("[!_]*.py"))

#: The names hashicorp.terraform reads for the same two things, so one credential serves both collections.
HASHICORP_TERRAFORM = {"TFE_ADDRESS", "TFE_TOKEN"}
#: An injector's reference to an input, or to a file AWX writes (``tower.filename.<id>``).
REFERENCE = re.compile(r"\b(?:(?:tower|awx)\.filename\.(\w+)|(\w+))\b")
JINJA_WORDS = {"if", "else", "not", "and", "or", "is", "defined", "none", "true", "false", "tower", "awx",
               "filename", "default", "length", "trim"}


class _Captured(Exception):
    """Raised instead of building the module, once its argument spec is known."""


def module_argument_spec(path):
    """The argument spec ``path``'s main() builds, connection options merged in, captured as it reaches
    AnsibleModule (nothing runs past that point)."""
    module = importlib.import_module("ansible_collections.ptfe.ops.plugins.modules." + path.stem)
    captured = {}

    def capture(self, argument_spec=None, *args, **kwargs):
        captured.update(argument_spec or {})
        raise _Captured()

    with mock.patch.object(basic.AnsibleModule, "__init__", capture):
        with pytest.raises(_Captured):
            module.main()
    return captured


def fallbacks(spec, prefix=""):
    """(option, environment variable, secret) for every option of ``spec`` (suboptions too) with an
    env_fallback."""
    for name, option in spec.items():
        fallback = option.get("fallback")
        if fallback and fallback[0] is basic.env_fallback:
            for variable in fallback[1]:
                yield prefix + name, variable, bool(option.get("no_log"))
        if option.get("options"):
            yield from fallbacks(option["options"], prefix + name + ".")


def module_fallbacks():
    """{variable: [(module, option, secret)]} over every module of the collection."""
    found = {}
    for path in MODULE_FILES:
        for option, variable, secret in fallbacks(module_argument_spec(path)):
            found.setdefault(variable, []).append((path.stem, option, secret))
    return found


def plugin_doc_variables():
    """Variables the other plugins (lookups, inventories, ...) document as ``env`` sources of their options."""
    found = set()
    for path in sorted((ROOT / "plugins").glob("*/*.py")):
        if path.parent.name in ("modules", "module_utils", "doc_fragments", "filter"):
            continue
        match = re.search(r'^DOCUMENTATION\s*=\s*r?"""(.*?)"""', path.read_text(), re.S | re.M)
        doc = yaml.safe_load(match.group(1)) if match else {}
        for option in (doc or {}).get("options", {}).values():
            found.update(entry["name"] for entry in option.get("env", []))
    return found


def boto3_variables():
    """The credential and session variables botocore reads, which the custody code's boto3 client uses."""
    import botocore.configprovider
    import botocore.credentials

    env = botocore.credentials.EnvProvider
    found = {env.ACCESS_KEY, env.SECRET_KEY, *env.TOKENS}
    session = getattr(botocore.configprovider, "BOTOCORE_DEFAUT_SESSION_VARIABLES", None) or \
        botocore.configprovider.BOTOCORE_DEFAULT_SESSION_VARIABLES
    for setting in ("region", "profile", "ca_bundle"):
        names = session[setting][1]
        found.update([names] if isinstance(names, str) else names)
    return found


def amazon_aws_variables():
    """The fallbacks of the connection options every amazon.aws module has (the state_bucket role calls them)."""
    from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

    return {entry[1] for entry in fallbacks(aws_argument_spec())}


def role_variables():
    names = set()
    for path in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        for entry_point in yaml.safe_load(path.read_text())["argument_specs"].values():
            names.update(entry_point.get("options", {}))
    return names


def load(path):
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def module_reads():
    return module_fallbacks()


@pytest.fixture(scope="module")
def read_anywhere(module_reads):
    return set(module_reads) | plugin_doc_variables() | boto3_variables() | amazon_aws_variables()


def injected_env():
    """{variable: [credential type file]}"""
    found = {}
    for path in TYPE_FILES:
        for variable in load(path)["injectors"].get("env", {}):
            found.setdefault(variable, []).append(path.name)
    return found


# -- the scan itself ---------------------------------------------------------------------------------------------


def test_every_module_spec_is_read_with_its_connection_options(module_reads):
    assert len(MODULE_FILES) >= 8
    for variable in ("TFE_ADDRESS", "TFE_TOKEN", "VAULT_ADDR", "VAULT_TOKEN", "VAULT_CACERT", "VAULT_NAMESPACE"):
        assert variable in module_reads, variable
    assert ("vault_rekey", "token", True) in module_reads["VAULT_TOKEN"]


# -- the credential types ----------------------------------------------------------------------------------------


def test_the_credential_types_cover_what_the_brief_names():
    names = {path.stem for path in TYPE_FILES}
    assert {"ptfe_site_admin", "vault_token", "custody_aws", "state_bucket_aws", "initial_admin"} <= names


@pytest.mark.parametrize("path", TYPE_FILES, ids=lambda p: p.stem)
def test_credential_type_is_what_awx_accepts(path):
    """The keys of awx.awx.credential_type, a kind AWX allows for a custom type, fields it knows, and injectors
    that reference only the type's inputs and the files it writes."""
    kind = load(path)
    assert set(kind) == {"name", "description", "kind", "inputs", "injectors"}
    assert kind["kind"] in ("cloud", "net")
    fields = {field["id"]: field for field in kind["inputs"]["fields"]}
    for field in fields.values():
        assert set(field) <= {"id", "type", "label", "help_text", "secret", "multiline", "format", "choices"}
        assert field["type"] in ("string", "boolean") and field["label"]
    assert set(kind["inputs"].get("required", [])) <= set(fields)
    injectors = kind["injectors"]
    assert set(injectors) <= {"env", "extra_vars", "file"} and (injectors.get("env") or injectors.get("extra_vars"))
    files = {name.split(".", 1)[1] for name in injectors.get("file", {})}
    for section in injectors.values():
        for template in section.values():
            for expression in re.findall(r"{{(.*?)}}", template):
                for file_id, name in REFERENCE.findall(re.sub(r"'[^']*'", "", expression)):
                    assert file_id in files if file_id else (name in fields or name in JINJA_WORDS), \
                        "%s: %r refers to %s, which is no input of the type" % (path.name, template, file_id or name)


@pytest.mark.parametrize("path", TYPE_FILES, ids=lambda p: p.stem)
def test_every_secret_input_is_marked_and_injected(path):
    kind = load(path)
    templates = " ".join(v for section in kind["injectors"].values() for v in section.values())
    for field in kind["inputs"]["fields"]:
        secretish = re.search(r"token|secret|password|iact", field["id"])
        assert bool(field.get("secret")) == bool(secretish), "%s: %s secret flag" % (path.name, field["id"])
        never = "%s: input %s is never injected" % (path.name, field["id"])
        assert re.search(r"\b%s\b" % field["id"], templates), never


def test_every_injected_variable_is_read_by_the_collection(read_anywhere):
    unread = {variable: types for variable, types in injected_env().items() if variable not in read_anywhere}
    assert not unread, "injected, but no module, boto3 or amazon.aws option reads them: %s" % unread


def test_no_two_credential_types_inject_one_variable():
    shared = {variable: types for variable, types in injected_env().items() if len(types) > 1}
    assert not shared, "one job template could not hold these types together: %s" % shared


def test_every_secret_option_with_an_env_fallback_has_a_credential_type(module_reads):
    injected = injected_env()
    uncovered = {variable: [(m, o) for m, o, secret in where if secret]
                 for variable, where in module_reads.items()
                 if any(entry[2] for entry in where) and variable not in injected}
    assert not uncovered, "secret options whose environment variable no credential type injects: %s" % uncovered


def test_the_ptfe_credential_serves_hashicorp_terraform_too():
    env = load(TYPES_DIR / "ptfe_site_admin.yml")["injectors"]["env"]
    assert HASHICORP_TERRAFORM <= set(env)


def test_extra_vars_injected_are_role_variables():
    variables = role_variables()
    for path in TYPE_FILES:
        for name in load(path)["injectors"].get("extra_vars", {}):
            assert name in variables, "%s injects %s, which no role's argument spec has" % (path.name, name)


@pytest.mark.parametrize("given", [True, False], ids=["all inputs", "required inputs only"])
def test_injectors_render_as_awx_renders_them(given):
    """AWX renders each injector with the inputs (absent optional ones empty) and the names of the files it
    wrote. An absent CA must leave VAULT_CACERT empty, never point it at an empty file."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    for path in TYPE_FILES:
        kind = load(path)
        required = set(kind["inputs"].get("required", []))
        inputs = {f["id"]: ("value-of-%s" % f["id"] if given or f["id"] in required else "")
                  for f in kind["inputs"]["fields"]}
        files = {name.split(".", 1)[1]: "/runner/env/%s" % name for name in kind["injectors"].get("file", {})}
        namespace = dict(inputs, tower={"filename": files}, awx={"filename": files})
        rendered = {name: env.from_string(template).render(namespace)
                    for section in ("env", "extra_vars") for name, template in kind["injectors"].get(section, {}).items()}
        if "VAULT_CACERT" in rendered:
            assert rendered["VAULT_CACERT"] == ("/runner/env/template.cacert" if given else "")
        for name, value in rendered.items():
            assert "{" not in value, (path.name, name, value)
