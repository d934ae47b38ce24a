"""Release notes: the changelog fragments and changelogs/changelog.yaml are what antsibull-changelog accepts, so a
release can be cut from them at any time."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = [str(Path(sys.executable).parent / "antsibull-changelog")]


def lint(*args, cwd=ROOT):
    return subprocess.run(CHANGELOG + list(args), cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("command", [["lint"], ["lint-changelog-yaml", "changelogs/changelog.yaml"]],
                         ids=["fragments", "changelog.yaml"])
def test_antsibull_changelog_lint_passes(command):
    result = lint(*command)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_every_fragment_uses_a_section_of_the_config():
    config = yaml.safe_load((ROOT / "changelogs" / "config.yaml").read_text())
    named = {config["trivial_section_name"], config["prelude_section_name"]}
    sections = {section[0] for section in config["sections"]} | named
    fragments = sorted((ROOT / "changelogs" / "fragments").glob("*.y*ml"))
    assert fragments
    for path in fragments:
        content = yaml.safe_load(path.read_text())
        assert content and set(content) <= sections, "%s: %s" % (path.name, sorted(set(content or {}) - sections))


def test_lint_refuses_a_broken_fragment(tmp_path):
    """The lint is not a no-op here: a fragment with an unknown section fails it."""
    shutil.copytree(ROOT / "changelogs", tmp_path / "changelogs")
    shutil.copy(ROOT / "galaxy.yml", tmp_path / "galaxy.yml")
    (tmp_path / "changelogs" / "fragments" / "broken.yml").write_text("new_stuff:\n  - something changed\n")
    result = lint("lint", cwd=tmp_path)
    assert result.returncode != 0 and "broken.yml" in result.stdout + result.stderr
