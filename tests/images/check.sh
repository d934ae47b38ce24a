#!/usr/bin/env bash
# Prove that a built test image holds what the tests rely on, as listed in its recipe's `expect` file.
#
#   tests/images/check.sh IMAGE EXPECT-FILE
#
# Each line of EXPECT-FILE is `KIND NAME  reason`, KIND one of dir, file, exec, user. The checks run inside
# a throwaway container of IMAGE (so symlinks resolve as they will in the tests), with no network. Every
# missing item is named with its reason; the exit status is 1 if any is missing, 2 on a malformed line.
set -euo pipefail
image=$1
expect=$2

script='missing=0
miss() { echo "MISSING $1 $2"; missing=1; }
'
while read -r kind name _; do
  case "$kind" in
    ''|'#'*) continue ;;
  esac
  case "$name" in
    *[!A-Za-z0-9_./+-]*|'') echo "$expect: unsafe or empty name in line: $kind $name" >&2; exit 2 ;;
  esac
  case "$kind" in
    dir)  script+="[ -d '$name' ] || miss dir '$name'"$'\n' ;;
    file) script+="[ -f '$name' ] || miss file '$name'"$'\n' ;;
    exec) script+="[ -f '$name' ] && [ -x '$name' ] || miss exec '$name'"$'\n' ;;
    user) script+="grep -q '^$name:' /etc/passwd || miss user '$name'"$'\n' ;;
    *) echo "$expect: unknown check kind '$kind' (dir, file, exec or user)" >&2; exit 2 ;;
  esac
done < "$expect"
script+='exit $missing'

set +e
out=$(docker run --rm -i --network none --entrypoint /bin/sh "$image" -s <<<"$script" 2>&1)
rc=$?
set -e
if [ $rc -eq 0 ]; then
  exit 0
fi
if ! grep -q '^MISSING ' <<<"$out"; then
  echo "could not check image $image (exit $rc): $out" >&2
  exit 1
fi
echo "image $image lacks what the tests rely on (recipe: $(dirname "$expect")):" >&2
while read -r _ kind name; do
  why=$(awk -v k="$kind" -v n="$name" '$1 == k && $2 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$expect")
  echo "  missing $kind $name: $why" >&2
done < <(grep '^MISSING ' <<<"$out" | tr -d "'")
echo "Make it in the recipe (setup.sh for directories, accounts and modes; packages.txt for commands)." >&2
exit 1
