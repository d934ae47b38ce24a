"""Role READMEs show their argument specs: hack/role_readme.py keeps the section between the markers in step with
meta/argument_specs.yml, and holds defaults/main.yml to the spec.

Every role whose README carries the markers is checked here, so `make test` fails on a stale README.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "hack" / "role_readme.py"

_spec = importlib.util.spec_from_file_location("role_readme", SCRIPT)
role_readme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_readme)

GENERATED = role_readme.generated_roles(ROOT / "roles")


def test_the_converted_roles_carry_the_markers():
    assert {"firewall", "initial_admin", "post_rekey_backup", "tool_versions", "ulimits",
            "vault_rekey"} <= set(GENERATED)


@pytest.mark.parametrize("role", GENERATED)
def test_readme_matches_the_argument_spec(role):
    out = io.StringIO()
    status = role_readme.run(ROOT / "roles", [role], check=True, out=out)
    assert status == 0, out.getvalue()
    assert out.getvalue() == ""


@pytest.mark.parametrize("role", GENERATED)
def test_readme_lists_every_variable_of_the_spec(role):
    readme = (ROOT / "roles" / role / "README.md").read_text()
    section = readme[readme.index(role_readme.BEGIN):readme.index(role_readme.END)]
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for spec in specs.values():
        for name, option in spec["options"].items():
            required = "yes" if option.get("required") else "no"
            assert any(line.startswith("| `%s` |" % name) and line.split(" | ")[3] == required
                       for line in section.splitlines()), name


# -- the generator, on a role of its own ----------------------------------------------------------------------------

SPEC = """\
argument_specs:
  main:
    short_description: Configure the widget
    description:
      - Writes the widget's file. Then it restarts the widget.
      - Supports check mode.
    options:
      widget_name:
        description:
          - Name of the widget, for example V(main). It must be unique per host; see O(widget_path) for where it
            lands, which is a long explanation that goes on and on, well past what fits in one table cell, so that
            only its first sentence is shown.
        type: str
        required: true
      widget_path:
        description: Where the file goes (C(/etc/widget|conf) by default). Empty means the built-in path.
        type: path
        default: /etc/widget.conf
      widget_mode:
        description: How it runs.
        type: str
        choices: [fast, slow]
        default: fast
      widget_items:
        description: Items.
        type: list
        elements: dict
        default: []
        options:
          key:
            description: Item key.
            type: str
            required: true
"""
DEFAULTS = """\
---
widget_path: /etc/widget.conf
widget_mode: fast
widget_items: []
"""
README = """\
# example.widget

Hand-written introduction.

## Role Variables

| old | table |
|---|---|
| `widget_name` | written by hand |

## Example Playbook

```yaml
- hosts: all
  roles: [widget]
```

## License

GPL-3.0-or-later
"""


@pytest.fixture
def roles(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    role = tmp_path / "widget"
    (role / "meta").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "meta" / "argument_specs.yml").write_text(SPEC)
    (role / "defaults" / "main.yml").write_text(DEFAULTS)
    (role / "README.md").write_text(README)
    return tmp_path


class Result:
    def __init__(self, returncode, stdout):
        self.returncode = returncode
        self.stdout = stdout


def script(roles_dir, *args):
    """hack/role_readme.py --roles-dir ROLES_DIR ARGS, in this process (one test runs the real command line)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = role_readme.main(["--roles-dir", str(roles_dir), *args])
    return Result(status, out.getvalue())


def test_the_command_line_exits_non_zero_naming_the_stale_readme(roles):
    result = subprocess.run([sys.executable, str(SCRIPT), "--check", "--roles-dir", str(roles), "widget"],
                            capture_output=True, text=True, check=False, cwd=str(roles))
    assert result.returncode == 1
    assert result.stdout == "widget/README.md has no generated section: run `python hack/role_readme.py widget`\n"
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False,
                            cwd=str(ROOT))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_readme_without_markers_is_not_checked_unless_named(roles):
    assert script(roles, "--check").returncode == 0
    named = script(roles, "--check", "widget")
    assert named.returncode == 1
    assert "widget/README.md has no generated section" in named.stdout


def test_converting_replaces_the_hand_written_table_and_keeps_the_rest(roles):
    result = script(roles, "widget")
    assert result.returncode == 0, result.stdout + result.stderr
    text = (roles / "widget" / "README.md").read_text()
    assert "| old | table |" not in text
    before, rest = text.split(role_readme.BEGIN)
    section, after = rest.split(role_readme.END)
    assert before == "# example.widget\n\nHand-written introduction.\n\n## Role Variables\n\n"
    assert after == README[README.index("\n## Example Playbook") - 1:]
    assert ("### Entry point `main`\n\nConfigure the widget.\n\nWrites the widget's file. Then it restarts the "
            "widget.\n\nSupports check mode.\n") in section
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `widget_name` | str |  | yes | Name of the widget, for example `main`. |",
        "| `widget_path` | path | `/etc/widget.conf` | no | Where the file goes (`/etc/widget\\|conf` by default). "
        "Empty means the built-in path. |",
        "| `widget_mode` | str | `fast` | no | How it runs. Choices: `fast`, `slow`. |",
        "| `widget_items` | list of dict | `[]` | no | Items. |",
        "| `widget_items[].key` | str |  | yes | Item key. |",
    ]
    assert "`ansible-doc -t role ptfe.ops.widget`" in section
    # Now the README carries the markers: it is checked without being named, and it is current.
    assert script(roles, "--check").returncode == 0
    assert script(roles, "widget").stdout == ""


def test_a_spec_change_makes_the_readme_stale_until_it_is_written_again(roles):
    script(roles, "widget")
    spec = roles / "widget" / "meta" / "argument_specs.yml"
    spec.write_text(SPEC.replace("description: How it runs.", "description: How fast it runs."))
    hand_written = (roles / "widget" / "README.md").read_text().replace("Hand-written introduction.", "Edited intro.")
    (roles / "widget" / "README.md").write_text(hand_written)
    stale = script(roles, "--check")
    assert stale.returncode == 1
    assert "widget/README.md is stale: run `python hack/role_readme.py widget`" in stale.stdout
    assert (roles / "widget" / "README.md").read_text() == hand_written  # --check writes nothing
    assert script(roles).returncode == 0
    text = (roles / "widget" / "README.md").read_text()
    assert "| How fast it runs. Choices:" in text and "Edited intro." in text
    assert script(roles, "--check").returncode == 0


def test_hand_edits_inside_the_markers_are_stale(roles):
    script(roles, "widget")
    readme = roles / "widget" / "README.md"
    readme.write_text(readme.read_text().replace("| How it runs.", "| How it runs, by hand."))
    assert script(roles, "--check").returncode == 1


@pytest.mark.parametrize("broken", [
    lambda text: text.replace(role_readme.END, ""),
    lambda text: text + "\n" + role_readme.BEGIN + "\n",
    lambda text: text.replace(role_readme.BEGIN, "@@").replace(role_readme.END, role_readme.BEGIN).replace(
        "@@", role_readme.END),
], ids=["no-end", "two-begins", "end-before-begin"])
def test_broken_markers_are_an_error(roles, broken):
    script(roles, "widget")
    readme = roles / "widget" / "README.md"
    readme.write_text(broken(readme.read_text()))
    for args in (("--check",), ()):
        result = script(roles, *args)
        assert result.returncode == 1
        assert "needs exactly one %s followed by one %s" % (role_readme.BEGIN, role_readme.END) in result.stdout


@pytest.mark.parametrize("defaults, problem", [
    (DEFAULTS + "widget_name: main\n",
     "widget_name is required by meta/argument_specs.yml, but has a value here, so the requirement never fires"),
    (DEFAULTS.replace("widget_mode: fast", "widget_mode: slow"),
     'widget_mode is "slow" here, but meta/argument_specs.yml gives it the default "fast"'),
    (DEFAULTS + "widget_secret: x\n", "widget_secret is not in meta/argument_specs.yml"),
    (DEFAULTS.replace("widget_mode: fast\n", ""),
     'widget_mode has the default "fast" in meta/argument_specs.yml but none here'),
    (DEFAULTS.replace("widget_path: /etc/widget.conf", "widget_path: \"{{ widget_dir }}/widget.conf\""),
     "widget_path is templated here; meta/argument_specs.yml gives it the default \"/etc/widget.conf\""),
], ids=["required-with-a-value", "other-default", "undocumented", "default-only-in-spec", "templated"])
def test_defaults_are_held_to_the_spec(roles, defaults, problem):
    script(roles, "widget")
    (roles / "widget" / "defaults" / "main.yml").write_text(defaults)
    for args in (("--check",), ()):
        result = script(roles, *args)
        assert result.returncode == 1
        assert "roles/widget/defaults/main.yml: " + problem in result.stdout


def test_a_templated_default_described_in_the_spec_is_fine(roles):
    script(roles, "widget")
    spec = roles / "widget" / "meta" / "argument_specs.yml"
    spec.write_text(SPEC.replace("        default: /etc/widget.conf\n", ""))
    defaults = roles / "widget" / "defaults" / "main.yml"
    defaults.write_text(DEFAULTS.replace("widget_path: /etc/widget.conf", "widget_path: \"{{ widget_dir }}/w.conf\""))
    assert script(roles, "widget").returncode == 0
    assert script(roles, "--check").returncode == 0


def test_headings_in_code_blocks_do_not_count(roles):
    readme = roles / "widget" / "README.md"
    code = "```sh\n## Role variables\n# a comment\n```\n\n"
    text = README.replace("## Role Variables\n\n", code + "## Role Variables\n\n")
    readme.write_text(text)
    assert script(roles, "widget").returncode == 0
    written = readme.read_text()
    assert written.startswith(text[:text.index(code)] + code + "## Role Variables\n\n" + role_readme.BEGIN)
    assert "| old | table |" not in written


def test_a_readme_without_a_variables_section_gets_one_before_the_example(roles):
    readme = roles / "widget" / "README.md"
    section = "## Role Variables\n\n| old | table |\n|---|---|\n| `widget_name` | written by hand |\n\n"
    readme.write_text(README.replace(section, ""))
    assert script(roles, "widget").returncode == 0
    text = readme.read_text()
    assert text.index("## Role variables\n\n" + role_readme.BEGIN) < text.index("## Example Playbook")


# -- markup ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source, markdown", [
    ("C(/etc/x) and V(true) and E(VAULT_TOKEN)", "`/etc/x` and `true` and `VAULT_TOKEN`"),
    ("O(widget_mode=fast) or O(ptfe.ops.ptfe_tool_versions#module:allow_insecure_http)",
     "`widget_mode=fast` or `allow_insecure_http`"),
    ("M(ptfe.ops.vault_rekey) sets RV(vault_rekey_result)", "`ptfe.ops.vault_rekey` sets `vault_rekey_result`"),
    ("P(ptfe.ops.ulimits#role)", "`ptfe.ops.ulimits`"),
    ("I(never) B(ever)", "*never* **ever**"),
    ("U(https://example.com) L(the docs, https://example.com/docs)",
     "<https://example.com> [the docs](https://example.com/docs)"),
    (r"C(a\)b)", "`a)b`"),
    ("C(`tick`)", "`` `tick` ``"),
    ("limits.conf(5) and (plain) and C(unclosed", "limits.conf(5) and (plain) and C(unclosed"),
])
def test_markup(source, markdown):
    assert role_readme.markup(source) == markdown


@pytest.mark.parametrize("text, sentence", [
    ("One. Two.", "One."),
    ("Version V(N.N.N), for example V(1.5.7). More.", "Version V(N.N.N), for example V(1.5.7)."),
    ("Paths (e.g. /a. or /b.) count. Later.", "Paths (e.g. /a. or /b.) count."),
    ("For example, e.g. this one. Then.", "For example, e.g. this one."),
    ("No full stop", "No full stop"),
    ("Ends with C(x.conf). Next.", "Ends with C(x.conf)."),
])
def test_first_sentence(text, sentence):
    assert role_readme.first_sentence(text) == sentence


def test_the_generated_section_renders_as_written(roles):
    block = role_readme.render("widget", yaml.safe_load(SPEC)["argument_specs"])
    assert block.startswith(role_readme.BEGIN + "\n" + role_readme.NOTE + "\n")
    assert block.endswith(role_readme.END)
    assert all(len(line) <= role_readme.WIDTH for line in block.splitlines() if not line.startswith(("|", "<!--")))
    assert textwrap.dedent(block) == block
