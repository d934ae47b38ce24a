#!/usr/bin/env bash
# The collection's docs site: HTML for every module, plugin and role and the guides of docs/docsite, built by
# antsibull-docs and Sphinx from the working tree, offline (no intersphinx inventory is fetched), failing on
# any warning. Then every plugin, role and guide must have its page.
#   hack/docs-build.sh                   the site goes to .tmp/docs-site/ (open index.html)
#   DOCS_SITE=/some/dir hack/docs-build.sh
#   DOCS_COLLECTION=/a/tree hack/docs-build.sh   document another copy of the collection (an export of a commit)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DOCS_SITE:-$root/.tmp/docs-site}
src=$(cd "${DOCS_COLLECTION:-$root}" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/ptfe-ops-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT
# antsibull-docs finds the collection where Ansible would: ansible_collections/ptfe/ops on the collections path.
export ANSIBLE_COLLECTIONS_PATH=$work/collections
mkdir -p "$work/collections/ansible_collections/ptfe"
ln -s "$src" "$work/collections/ansible_collections/ptfe/ops"

antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$work" \
  --project ptfe.ops --title "ptfe.ops" --html-short-title "ptfe.ops" --copyright "ptfe.ops contributors" \
  ptfe.ops > "$work/sphinx-init.log"
# Offline: no intersphinx. What only another site's inventory could resolve (other collections' plugins, the
# two labels of Ansible's own docs the generated pages use) stays plain text; every other unresolved reference
# is still a warning, so it still fails the build.
cat >> "$work/conf.py" <<'EOF'

extensions = [name for name in extensions if name != 'sphinx.ext.intersphinx']
intersphinx_mapping = {}
nitpick_ignore_regex = [
    ('ref', r'ansible_collections\.(?!ptfe\.ops\.)[a-z0-9_]+\.[a-z0-9_]+\..+'),
    ('ref', r'common_return_values|ansible_configuration_settings'),
]
EOF

cd "$work"
mkdir -p rst
chmod og-w rst  # antsibull-docs wants the directory writable by its owner only
antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error --use-current \
  --dest-dir rst ptfe.ops
sphinx-build -b html -c . -W --keep-going -q -j auto rst build/html

# Every plugin and role has its page, and every guide listed in extra-docs.yml.
pages=build/html/collections/ptfe/ops
missing=0
expect() {
  if [[ ! -s "$pages/$1" ]]; then
    echo "docs site: no page $1 for $2" >&2
    missing=1
  fi
}
for path in "$src"/plugins/*/*.py; do
  type=$(basename "$(dirname "$path")")
  name=$(basename "$path" .py)
  case "$type" in module_utils | doc_fragments) continue ;; modules) type=module ;; esac
  [[ $name == __init__ ]] && continue
  expect "${name}_${type}.html" "plugins/$type/$name.py"
done
for role in "$src"/roles/*/meta/argument_specs.yml; do
  name=$(basename "$(dirname "$(dirname "$role")")")
  expect "${name}_role.html" "roles/$name"
done
for guide in $(sed -n 's/^ *- \(guide_[a-z0-9_]*\)$/\1/p' "$src/docs/docsite/extra-docs.yml"); do
  expect "docsite/$guide.html" "docs/docsite/rst/$guide.rst"
done
[[ $missing == 0 ]]

rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r build/html "$out"
echo "docs site: $(find "$out" -name '*.html' | wc -l) pages in $out"
