#!/usr/bin/env bash
# Build the Terraform Enterprise FDO stand-in image: the debian12 test image (tests/images/build.sh debian12) with
# the PTFE emulator and this recipe's rootfs on top (docker build, no registry). Called by tests/images/build.sh
# with the same arguments and output: [--tag]; the image reference on the last line of stdout.
#
# The tag is a hash of this recipe, the emulator's sources and the base image's tag; a cached image is reused
# only under that exact tag, after tests/images/check.sh has checked it again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
images=$(dirname "$here")
root=$(cd "$images/../.." && pwd)
prefix=${PTFE_IMAGE_PREFIX:-ptfe-ops-test}
tag_only=false
if [ "${1:-}" = "--tag" ]; then tag_only=true; fi

base=$("$images/build.sh" --tag debian12)
fingerprint() {
  (cd "$here" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  (cd "$root/tests" && find __init__.py emulators/__init__.py emulators/ptfe -name '*.py' -print0 \
     | LC_ALL=C sort -z | xargs -0 sha256sum)
  echo "base=$base prefix=$prefix"
}
tag="$prefix/tfe-fdo:$(fingerprint | sha256sum | cut -c1-12)"
if $tag_only; then
  echo "$tag"
  exit 0
fi
if docker image inspect "$tag" >/dev/null 2>&1 && "$images/check.sh" "$tag" "$here/expect"; then
  echo "image $tag is up to date" >&2
  echo "$tag"
  exit 0
fi
base=$("$images/build.sh" debian12 | tail -1)

work=$(mktemp -d /var/tmp/ptfe-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$here/Dockerfile" "$work/"
cp -a "$here/rootfs" "$work/rootfs"
mkdir -p "$work/lib/tests/emulators"
cp "$root/tests/__init__.py" "$work/lib/tests/"
cp "$root/tests/emulators/__init__.py" "$work/lib/tests/emulators/"
mkdir "$work/lib/tests/emulators/ptfe"
cp "$root"/tests/emulators/ptfe/*.py "$work/lib/tests/emulators/ptfe/"
docker build -q --network none --build-arg "BASE=$base" -t "$tag" "$work" >&2
"$images/check.sh" "$tag" "$here/expect" || { docker image rm -f "$tag" >/dev/null; echo "$tag not kept" >&2; exit 1; }
echo "built $tag" >&2
echo "$tag"
