#!/usr/bin/env bash
# `make test`: every stage, independent ones side by side, with each stage's wall time and a closing count.
#
#   1. venv, then host (a Docker engine that answers);
#   2. images (debootstrap: waits on the package mirror and the disk) beside sanity and build -> lint -> docs -> docs-site -> unit;
#   3. integration beside molecule.
#
# A phase starts only when the one before it passed. Output of side-by-side stages is printed whole, stage by
# stage, as each ends (and kept in .tmp/logs/).
set -uo pipefail
cd "$(dirname "$0")/.."
mk="make --no-print-directory"
mkdir -p .tmp
rm -f .tmp/timings.txt

phases=(
  "venv=$mk venv"
  "host=$mk host"
  "images=$mk images|sanity=$mk sanity|checks=hack/stage build $mk build && hack/stage lint $mk lint && hack/stage docs $mk docs-lint && hack/stage docs-site $mk docs-site && hack/stage unit $mk unit"
  "integration=$mk integration-only|molecule=$mk molecule-only"
)
ok=true
for phase in "${phases[@]}"; do
  IFS='|' read -r -a jobs <<<"$phase"
  if [ "${#jobs[@]}" -eq 1 ]; then
    hack/stage "${jobs[0]%%=*}" bash -c "${jobs[0]#*=}" || { ok=false; break; }
  else
    hack/parallel "${#jobs[@]}" "${jobs[@]}" || { ok=false; break; }
  fi
done

echo
echo "stage timings:"
cat .tmp/timings.txt
passed=$(grep -c ' ok$' .tmp/timings.txt)
failed=$(grep -c 'FAILED' .tmp/timings.txt)
echo "stages: $passed passed, $failed failed"
$ok
