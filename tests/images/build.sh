#!/usr/bin/env bash
# Build a Debian 12 test image with debootstrap and `docker import` it, then prove it holds what the tests
# rely on (tests/images/check.sh against the recipe's `expect` file).
#
#   tests/images/build.sh [--tag] [recipe]      (default recipe: debian12; a name under tests/images/ or a path)
#
# The tag is a hash of everything that shapes the image: every entry of the recipe directory (type, mode,
# path, symlink target, content; empty directories included), this script, the Debian suite and the image
# name prefix. A cached image is reused only under that exact tag, and is checked again before every reuse.
# --tag prints the tag without building. PTFE_IMAGE_PREFIX (default ptfe-ops-test) names the repository part,
# so that `make test-fresh` can build under a throwaway prefix as a machine that never built anything.
#
# Prints the image reference on stdout (last line). Needs root, debootstrap and a Docker engine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tag_only=false
if [ "${1:-}" = "--tag" ]; then tag_only=true; shift; fi
recipe=${1:-debian12}
case "$recipe" in
  */*) dir=$(cd "$recipe" && pwd); recipe=$(basename "$dir") ;;
  *) dir="$here/$recipe" ;;
esac
[ -d "$dir" ] || { echo "no such recipe: $dir" >&2; exit 2; }
[ -f "$dir/packages.txt" ] || { echo "recipe $dir has no packages.txt" >&2; exit 2; }
[ -f "$dir/expect" ] || { echo "recipe $dir has no expect file (what the tests rely on in the image)" >&2; exit 2; }

mirror=${PTFE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${PTFE_DEBIAN_SUITE:-bookworm}
prefix=${PTFE_IMAGE_PREFIX:-ptfe-ops-test}

recipe_fingerprint() {
  # Entries (directories included, so an empty directory changes the tag), then file contents.
  (cd "$dir" && find . -printf '%y %m %p %l\n' | LC_ALL=C sort)
  (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  sha256sum < "$here/build.sh"
  echo "suite=$suite prefix=$prefix"
}
hash=$(recipe_fingerprint | sha256sum | cut -c1-12)
tag="$prefix/$recipe:$hash"
if $tag_only; then
  echo "$tag"
  exit 0
fi

if docker image inspect "$tag" >/dev/null 2>&1; then
  if "$here/check.sh" "$tag" "$dir/expect"; then
    echo "image $tag is up to date" >&2
    echo "$tag"
    exit 0
  fi
  echo "cached image $tag fails its check: removing it and building it again" >&2
  docker image rm -f "$tag" >/dev/null
fi

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

work=$(mktemp -d /var/tmp/ptfe-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

include=$(grep -vE '^\s*(#|$)' "$dir/packages.txt" | paste -sd, -)
echo "debootstrap $suite ($include) ..." >&2
debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -30 "$work/debootstrap.log" >&2
  exit 1
}

# Overlay the recipe's files (stand-in host tools and the like).
if [ -d "$dir/rootfs" ]; then
  cp -a "$dir/rootfs/." "$root/"
fi
if [ -f "$dir/setup.sh" ]; then
  cp "$dir/setup.sh" "$root/tmp/setup.sh"
  chroot "$root" /bin/sh /tmp/setup.sh >&2
  rm -f "$root/tmp/setup.sh"
fi

# Keep the image small and free of build-host state.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/tmp/* "$root"/var/log/*.log
: > "$root/etc/resolv.conf"

tar -C "$root" -c . | docker import \
  --change 'CMD ["sleep", "infinity"]' \
  --change 'ENV container=docker' \
  - "$tag" >/dev/null
if ! "$here/check.sh" "$tag" "$dir/expect"; then
  docker image rm -f "$tag" >/dev/null
  echo "the image built from $dir lacks what the tests rely on (see above); it was not kept" >&2
  exit 1
fi
echo "built $tag" >&2
echo "$tag"
