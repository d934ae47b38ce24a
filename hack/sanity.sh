#!/usr/bin/env bash
# ansible-test sanity, offline. ansible-test needs the collection at ansible_collections/ptfe/ops, so the
# files git knows about (tracked, or new and not ignored) are copied to such a tree first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The copy must live outside this checkout: inside it, ansible-test would ask git for the file list and
# find the copy ignored.
work=$(mktemp -d "${TMPDIR:-/tmp}/ptfe-ops-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/ptfe/ops"
mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$dest" -xf -

# ansible-test downloads a get-pip script from a host outside the reachable registries; seed its cache.
pip_version=$(python -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; print(g(type("P",(),{"version":"x"})())["pip"])' 2>/dev/null || echo 24.2)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cp "$root/hack/get_pip.py" "$cache"

py=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$dest"
ansible-test sanity --venv --python "$py" --color no "$@"
