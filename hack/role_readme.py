"""Render each role's variables from meta/argument_specs.yml into its README.md.

The argument spec is a role's input contract; its README shows that contract between two markers:

    <!-- BEGIN GENERATED: role variables -->
    <!-- END GENERATED: role variables -->

Between them go, for every entry point, its short and long description and a table of its variables: name, type,
default, required, and the description (whole, or its first paragraph, when short; else its first sentence) with
the choices. Suboptions get rows of their own (`tool_versions_list[].version`, `post_rekey_backup_custody.url`).
Everything outside the markers (the introduction, the example playbook, the license) is written by hand and kept
as it is.

Usage:
    python hack/role_readme.py [ROLE ...]           write the generated section
    python hack/role_readme.py --check [ROLE ...]   write nothing; exit 1 naming every stale README

Without ROLE, every role under roles/ whose README.md carries the markers. A ROLE named on the command line whose
README has no markers yet gets them: the generated section replaces the body of its "Role variables" section
(or goes before "Example playbook", "Dependencies" or "License", or at the end); review that with git diff.

Both modes also hold the role's defaults/main.yml to the spec, since the table shows the spec's defaults: every
variable there is in the spec with the same default (a templated default is described, not given, in the spec),
a variable the spec requires has no value there, and a default the spec gives is also set there (Ansible takes
a role's defaults from defaults/main.yml only). A problem makes the script exit 1.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN GENERATED: role variables -->"
END = "<!-- END GENERATED: role variables -->"
NOTE = "<!-- Generated from meta/argument_specs.yml by hack/role_readme.py: edit the spec, not this section. -->"
COLLECTION = "ptfe.ops"
WIDTH = 120
# A variable's description (or its first paragraph) goes into the table whole when it is this short, else its first
# sentence.
SHORT_DESCRIPTION = 200

# Ansible's documentation markup (https://docs.ansible.com/ansible/latest/dev_guide/ansible_markup.html).
MACRO_RE = re.compile(r"\b(HORIZONTALLINE|RV|[IBMULRCOVEP])(\()?")
ABBREVIATIONS = ("e.g.", "i.e.", "cf.", "vs.")


class ReadmeError(Exception):
    """A README the script cannot update (markers missing, doubled or out of order)."""


# -- markup ---------------------------------------------------------------------------------------------------------


def _macro_argument(text, start):
    """The argument of a macro whose '(' ends just before ``start``, and the index after its ')'."""
    out = []
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == ")":
            return "".join(out), i + 1
        out.append(char)
        i += 1
    return None, start


def _code(value):
    fence = "``" if "`" in value else "`"
    pad = " " if fence == "``" else ""
    return "%s%s%s%s%s" % (fence, pad, value, pad, fence)


def _option_name(value):
    """O(fqcn#type:name=value) and RV(...) show the option (and value) without the plugin they belong to."""
    if "#" in value and ":" in value.split("=", 1)[0]:
        value = value.split(":", 1)[1]
    return value


def _render_macro(name, argument):
    if name == "I":
        return "*%s*" % argument
    if name == "B":
        return "**%s**" % argument
    if name == "U":
        return "<%s>" % argument
    if name == "L":
        label, _sep, url = argument.partition(",")
        return "[%s](%s)" % (label.strip(), url.strip())
    if name == "R":
        return argument.partition(",")[0].strip()
    if name == "P":
        return _code(argument.split("#", 1)[0])
    if name in ("O", "RV"):
        return _code(_option_name(argument))
    return _code(argument)  # C, V, E, M


def markup(text):
    """Ansible documentation markup as Markdown."""
    out = []
    i = 0
    while True:
        match = MACRO_RE.search(text, i)
        if not match:
            out.append(text[i:])
            return "".join(out)
        name, paren = match.group(1), match.group(2)
        if name == "HORIZONTALLINE":
            out.append(text[i:match.start()] + "---")
            i = match.end()
            continue
        if not paren:
            out.append(text[i:match.end()])
            i = match.end()
            continue
        argument, after = _macro_argument(text, match.end())
        if argument is None:
            out.append(text[i:match.end()])
            i = match.end()
            continue
        out.append(text[i:match.start()] + _render_macro(name, argument))
        i = after


def first_sentence(text):
    """The first sentence of a paragraph of documentation markup (macro arguments and parentheses never split)."""
    depth = 0
    i = 0
    while i < len(text):
        match = MACRO_RE.match(text, i)
        if match and match.group(2) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            _argument, after = _macro_argument(text, match.end())
            if after > match.end():
                i = after
                continue
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char in ".!?" and depth == 0 and (i + 1 == len(text) or text[i + 1].isspace()):
            sentence = text[:i + 1]
            if not sentence.endswith(ABBREVIATIONS):
                return sentence.strip()
        i += 1
    return text.strip()


def summary(texts):
    """A variable's description for the table: all of it when it is short, else its first paragraph when that is
    short, else the first sentence of that."""
    for text in (" ".join(texts), texts[0] if texts else ""):
        if len(text) <= SHORT_DESCRIPTION:
            return text
    return first_sentence(texts[0])


def paragraphs(description):
    if description is None:
        return []
    if isinstance(description, str):
        description = [description]
    return [" ".join(str(p).split()) for p in description if str(p).strip()]


# -- rendering ------------------------------------------------------------------------------------------------------


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _type(spec):
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        return "list of %s" % spec["elements"]
    return kind


def _value(value):
    if isinstance(value, str):
        return _code(value if value else '""')
    return _code(json.dumps(value))


def _rows(options, prefix=""):
    for name in options:
        spec = options[name] or {}
        full = prefix + name
        description = markup(summary(paragraphs(spec.get("description"))))
        if spec.get("choices"):
            choices = "Choices: %s." % ", ".join(_value(c) for c in spec["choices"])
            description = ("%s %s" % (description, choices)).strip()
        default = _value(spec["default"]) if "default" in spec and spec["default"] is not None else ""
        yield "| %s | %s | %s | %s | %s |" % (_cell(_code(full)), _cell(_type(spec)), _cell(default),
                                              "yes" if spec.get("required") else "no", _cell(description))
        if spec.get("options"):
            inner = full + ("[]." if spec.get("type") == "list" else ".")
            yield from _rows(spec["options"], inner)


def _wrap(text):
    return textwrap.fill(text, width=WIDTH, break_long_words=False, break_on_hyphens=False)


def render(role, specs):
    """The generated section of a role's README (markers included)."""
    lines = [BEGIN, NOTE, ""]
    for entry_point in sorted(specs, key=lambda e: (e != "main", e)):
        spec = specs[entry_point] or {}
        lines += ["### Entry point `%s`" % entry_point, ""]
        if spec.get("short_description"):
            lines += [_wrap(markup(spec["short_description"].rstrip(".")) + "."), ""]
        for paragraph in paragraphs(spec.get("description")):
            lines += [_wrap(markup(paragraph)), ""]
        options = spec.get("options") or {}
        if options:
            lines += ["| Variable | Type | Default | Required | Description |", "|---|---|---|---|---|"]
            lines += list(_rows(options))
        else:
            lines.append("This entry point takes no variables.")
        lines.append("")
    lines += ["Every variable in full: `ansible-doc -t role %s.%s`." % (COLLECTION, role), END]
    return "\n".join(lines)


# -- README ---------------------------------------------------------------------------------------------------------


def has_markers(text):
    return BEGIN in text or END in text


def replace_section(text, block):
    """``text`` with everything from BEGIN to END replaced by ``block``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ReadmeError("needs exactly one %s followed by one %s" % (BEGIN, END))
    return text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]


HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$", re.M)
FENCE_RE = re.compile(r"^[ \t]*(```|~~~)", re.M)


def insert_section(text, block):
    """``text`` with ``block`` in place of the body of its "Role variables" section, or before a later section."""
    fences = [m.start() for m in FENCE_RE.finditer(text)]
    code = list(zip(fences[::2], fences[1::2] + [len(text)]))
    headings = [(m.start(), m.end(), len(m.group(1)), m.group(2).lower()) for m in HEADING_RE.finditer(text)
                if not any(start < m.start() < stop for start, stop in code)]
    for index, (_start, end, level, title) in enumerate(headings):
        if title == "role variables":
            following = [h for h in headings[index + 1:] if h[2] <= level]
            stop = following[0][0] if following else len(text)
            tail = text[stop:]
            return text[:end] + "\n\n" + block + "\n" + ("\n" + tail if tail else "")
    for start, _end, _level, title in headings:
        if title in ("example playbook", "dependencies", "license"):
            return text[:start] + "## Role variables\n\n" + block + "\n\n" + text[start:]
    return text.rstrip("\n") + "\n\n## Role variables\n\n" + block + "\n"


def updated_readme(role_dir, text):
    """What the README of ``role_dir`` should read, from its current ``text``."""
    block = render(role_dir.name, load_specs(role_dir))
    if has_markers(text):
        return replace_section(text, block)
    return insert_section(text, block)


# -- contract -------------------------------------------------------------------------------------------------------


def load_specs(role_dir):
    path = role_dir / "meta" / "argument_specs.yml"
    data = yaml.safe_load(path.read_text()) or {}
    specs = data.get("argument_specs")
    if not isinstance(specs, dict) or not specs:
        raise ReadmeError("%s has no argument_specs" % path.relative_to(role_dir.parent.parent))
    return specs


def _same(left, right):
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _templated(value):
    return isinstance(value, str) and "{{" in value


def contract_problems(role_dir):
    """Where defaults/main.yml and the main entry point of meta/argument_specs.yml disagree."""
    options = (load_specs(role_dir).get("main") or {}).get("options") or {}
    path = role_dir / "defaults" / "main.yml"
    defaults = (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}
    where = "roles/%s/defaults/main.yml" % role_dir.name
    problems = []
    for name, value in defaults.items():
        spec = options.get(name)
        if spec is None:
            problems.append("%s: %s is not in meta/argument_specs.yml" % (where, name))
        elif spec.get("required"):
            problems.append("%s: %s is required by meta/argument_specs.yml, but has a value here, so the requirement "
                            "never fires" % (where, name))
        elif _templated(value):
            if "default" in spec:
                problems.append("%s: %s is templated here; meta/argument_specs.yml gives it the default %s (describe "
                                "the template in its description instead)" % (where, name, json.dumps(spec["default"])))
        elif "default" not in spec or not _same(spec["default"], value):
            problems.append("%s: %s is %s here, but meta/argument_specs.yml gives it %s"
                            % (where, name, json.dumps(value),
                               "the default %s" % json.dumps(spec["default"]) if "default" in spec else "no default"))
    for name, spec in options.items():
        if name not in defaults and (spec or {}).get("default") is not None:
            problems.append("%s: %s has the default %s in meta/argument_specs.yml but none here, and Ansible takes "
                            "a role's defaults from here" % (where, name, json.dumps(spec["default"])))
    return problems


# -- command line ---------------------------------------------------------------------------------------------------


def generated_roles(roles_dir):
    """The roles whose README carries the markers."""
    return sorted(p.parent.name for p in roles_dir.glob("*/README.md") if has_markers(p.read_text()))


def _show(path):
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run(roles_dir, roles, check, out=None):
    """Check or write the READMEs of ``roles`` (default: every generated one). Returns the exit status."""
    out = out or sys.stdout
    named = bool(roles)
    roles = roles or generated_roles(roles_dir)
    status = 0
    for role in roles:
        role_dir = roles_dir / role
        readme = role_dir / "README.md"
        if not (role_dir / "meta" / "argument_specs.yml").is_file():
            print("%s: no meta/argument_specs.yml" % _show(role_dir), file=out)
            status = 1
            continue
        text = readme.read_text() if readme.is_file() else "# %s.%s\n" % (COLLECTION, role)
        try:
            wanted = updated_readme(role_dir, text)
            problems = contract_problems(role_dir)
        except (ReadmeError, yaml.YAMLError) as exc:
            print("%s: %s" % (_show(readme), exc), file=out)
            status = 1
            continue
        for problem in problems:
            print(problem, file=out)
            status = 1
        if wanted == text:
            continue
        if check:
            reason = "has no generated section" if named and not has_markers(text) else "is stale"
            print("%s %s: run `python hack/role_readme.py %s`" % (_show(readme), reason, role), file=out)
            status = 1
        else:
            readme.write_text(wanted)
            print("wrote %s" % _show(readme), file=out)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("roles", nargs="*", metavar="ROLE",
                        help="roles to render (default: every role whose README carries the markers)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every stale README")
    parser.add_argument("--roles-dir", type=Path, default=ROOT / "roles",
                        help="directory of the roles (default: roles/)")
    args = parser.parse_args(argv)
    return run(args.roles_dir, args.roles, args.check)


if __name__ == "__main__":
    sys.exit(main())
