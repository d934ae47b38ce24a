# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test images: a tag that covers everything shaping an image, and a check that a built or cached image
holds what the tests rely on. Runs against the image `make images` built (.tmp/images.env)."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.containers import docker

ROOT = Path(__file__).resolve().parents[3]
IMAGES = ROOT / "tests" / "images"


def built_image():
    env = dict(line.split("=", 1) for line in (ROOT / ".tmp" / "images.env").read_text().splitlines() if "=" in line)
    return os.environ.get("PTFE_TEST_IMAGE") or env["PTFE_TEST_IMAGE"].strip()


def tag_of(recipe_dir, **env):
    run_env = dict(os.environ)
    run_env.update(env)
    return subprocess.run([str(IMAGES / "build.sh"), "--tag", str(recipe_dir)], capture_output=True, text=True,
                          check=True, timeout=60, env=run_env).stdout.strip()


@pytest.fixture
def recipe_copy(tmp_path):
    """A copy of the debian12 recipe under the same name, to change without touching the real one."""
    dest = tmp_path / "debian12"
    shutil.copytree(IMAGES / "debian12", dest, symlinks=True)
    return dest


def test_tag_is_the_same_for_the_same_recipe(recipe_copy):
    assert tag_of(recipe_copy) == tag_of(IMAGES / "debian12")


@pytest.mark.parametrize("change", ["empty-directory", "mode", "setup", "packages", "suite", "prefix"])
def test_tag_changes_with_everything_that_shapes_the_image(recipe_copy, change):
    before = tag_of(recipe_copy)
    env = {}
    if change == "empty-directory":
        # git does not carry empty directories: one on this machine only must not share a tag with the clone.
        (recipe_copy / "rootfs" / "data").mkdir()
    elif change == "mode":
        os.chmod(recipe_copy / "rootfs" / "usr" / "local" / "bin" / "atlas-backup", 0o700)
    elif change == "setup":
        with open(recipe_copy / "setup.sh", "a") as fh:
            fh.write("# a comment is a change too\n")
    elif change == "packages":
        with open(recipe_copy / "packages.txt", "a") as fh:
            fh.write("less\n")
    elif change == "suite":
        env["PTFE_DEBIAN_SUITE"] = "trixie"
    elif change == "prefix":
        env["PTFE_IMAGE_PREFIX"] = "ptfe-ops-fresh-test"
    after = tag_of(recipe_copy, **env)
    assert after != before
    if change == "prefix":
        assert after.startswith("ptfe-ops-fresh-test/debian12:")


def test_built_image_passes_its_check():
    proc = subprocess.run([str(IMAGES / "check.sh"), built_image(), str(IMAGES / "debian12" / "expect")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def image_without_data():
    """The built image with /data and the test account removed: what a recipe gap would produce."""
    name = "ptfe-images-it-%s" % uuid.uuid4().hex[:8]
    ref = "ptfe-ops-broken-test/debian12:%s" % uuid.uuid4().hex[:8]
    docker("run", "-d", "--name", name, built_image(), "sleep", "infinity")
    try:
        docker("exec", name, "sh", "-c", "rmdir /data && userdel tester")
        docker("commit", name, ref)
    finally:
        docker("rm", "-f", name, check=False)
    yield ref
    docker("image", "rm", "-f", ref, check=False)


def test_check_names_each_missing_item_with_its_reason(image_without_data):
    proc = subprocess.run([str(IMAGES / "check.sh"), image_without_data, str(IMAGES / "debian12" / "expect")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert "missing dir /data: post_rekey_backup and make demo write /data/vault-unseal-key" in proc.stderr
    assert "missing user tester:" in proc.stderr
    assert "atlas-backup" not in proc.stderr  # present items are not reported


def test_cached_image_that_fails_its_check_is_not_reused(recipe_copy, image_without_data):
    """An image under the recipe's tag that lacks /data is thrown away and rebuilt, never handed to the tests.

    The rebuild is pointed at a mirror that refuses at once, so the test proves the decision without a
    debootstrap run: the broken image is gone and no reference is printed. A prefix of its own keeps the
    test away from the image the other tests use, which has the same recipe and so the same tag otherwise."""
    env = dict(os.environ, PTFE_IMAGE_PREFIX="ptfe-ops-broken-test-%s" % uuid.uuid4().hex[:8],
               PTFE_DEBIAN_MIRROR="http://127.0.0.1:9/debian")
    tag = tag_of(recipe_copy, **env)
    assert tag != tag_of(recipe_copy)
    docker("tag", image_without_data, tag)
    try:
        proc = subprocess.run([str(IMAGES / "build.sh"), str(recipe_copy)], capture_output=True, text=True,
                              timeout=300, check=False, env=env)
        assert "missing dir /data" in proc.stderr
        assert "cached image %s fails its check: removing it and building it again" % tag in proc.stderr
        assert proc.returncode != 0
        assert tag not in proc.stdout
        assert docker("image", "inspect", tag, check=False).returncode != 0
    finally:
        docker("image", "rm", "-f", tag, check=False)


def test_unknown_check_kind_is_refused(tmp_path):
    expect = tmp_path / "expect"
    expect.write_text("directory /data  a typo in the kind\n")
    proc = subprocess.run([str(IMAGES / "check.sh"), built_image(), str(expect)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 2
    assert "unknown check kind 'directory'" in proc.stderr
