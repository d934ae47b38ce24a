#!/usr/bin/env bash
# Build a Debian 12 test image with debootstrap and `docker import` it.
#
# The tag is derived from the content of the recipe directory, so a second run with the
# same recipe reuses the image and a changed recipe builds a new one.
#
#   tests/images/build.sh [recipe]      (default recipe: debian12)
#
# Prints the image reference on stdout (last line). Needs root, debootstrap and a Docker engine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
recipe=${1:-debian12}
dir="$here/$recipe"
[ -d "$dir" ] || { echo "no such recipe: $dir" >&2; exit 2; }

mirror=${PTFE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${PTFE_DEBIAN_SUITE:-bookworm}

hash=$(cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
tag="ptfe-ops-test/$recipe:$hash"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "image $tag is up to date" >&2
  echo "$tag"
  exit 0
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
if [ -x "$dir/setup.sh" ]; then
  cp "$dir/setup.sh" "$root/tmp/setup.sh"
  chroot "$root" /tmp/setup.sh >&2
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
echo "built $tag" >&2
echo "$tag"
