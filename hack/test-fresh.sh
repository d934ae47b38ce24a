#!/usr/bin/env bash
# `make test-fresh`: run the whole suite as a machine that has never run it, before every submission.
#
# - a fresh clone of the committed HEAD (uncommitted changes are not in it, as they are not in CI's clone);
# - test images built under a throwaway name prefix, so no image cached by an earlier run stands in for the
#   recipe (they are removed afterwards);
# - an empty HOME: no pip cache, no ansible-test virtualenvs, no Molecule state, no ~/.ansible;
# - then `bash .ci/run` in the clone, exactly as CI calls it.
#
# What it cannot make fresh is the Docker engine itself: if one answers it is used (a fresh CI machine first
# installs docker.io and starts dockerd, which hack/ensure-host.sh does and `make host` times).
# The clone, its HOME and the log stay under .tmp/fresh/ for a look afterwards (PTFE_FRESH_KEEP=0 removes them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
id=$(date +%Y%m%d%H%M%S)-$$
base="$root/.tmp/fresh/$id"
prefix="ptfe-ops-fresh-$id"
mkdir -p "$base"

if [ -n "$(git -C "$root" status --porcelain --untracked-files=normal)" ]; then
  echo "note: the working tree has uncommitted changes; the fresh run tests the committed HEAD only" >&2
fi
git clone -q --no-local "$root" "$base/clone"
mkdir -m 0700 "$base/home"

cleanup() {
  local images
  images=$(docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep "^$prefix/" || true)
  if [ -n "$images" ]; then
    # shellcheck disable=SC2086
    docker image rm -f $images >/dev/null 2>&1 || true
  fi
  if [ "${PTFE_FRESH_KEEP:-1}" = 0 ]; then
    rm -rf "$base"
  fi
}
trap cleanup EXIT

echo "fresh run of $(git -C "$base/clone" rev-parse --short HEAD) in $base/clone (HOME=$base/home, images $prefix/*)"
set +e
(
  cd "$base/clone"
  env -u VIRTUAL_ENV -u ANSIBLE_COLLECTIONS_PATH -u PTFE_TEST_IMAGE -u PTFE_TEST_DOCKER_IMAGE -u PTFE_TEST_POSTGRES_IMAGE \
    -u PTFE_TEST_TFE_FDO_IMAGE -u PTFE_OPS_ROOT \
    HOME="$base/home" PTFE_IMAGE_PREFIX="$prefix" CI=true bash .ci/run </dev/null
) 2>&1 | tee "$base/ci.log"
rc=${PIPESTATUS[0]}
set -e
echo "fresh run: exit $rc, log $base/ci.log"
exit "$rc"
