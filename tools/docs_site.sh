#!/usr/bin/env bash
# Usage: tools/docs_site.sh DEST   (make docs-site: DEST=build/docs)
#
# The collection's documentation as a static HTML site: antsibull-docs writes the RST of every
# module, the inventory plugin, the filters and the roles (their meta/argument_specs.yml) into
# DEST/rst, and Sphinx renders it with tools/docs-site/conf.py into DEST/html (open
# DEST/html/index.html). Both fail on any error or warning. Needs the venv (make venv) and the
# collection on ANSIBLE_COLLECTIONS_PATH (make collection); works offline.
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${VENV_BIN:-$root/.venv/bin}
dest=$1
export PATH="$bin:$PATH"

rm -rf "$dest"
mkdir -p "$dest/rst"
# antsibull-docs refuses to write into a directory others can write to
chmod og-w "$dest/rst"
ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$root/.collections} "$bin/antsibull-docs" collection \
    --use-current --squash-hierarchy --fail-on-error --cleanup everything --dest-dir "$dest/rst" homelab.harvester
"$bin/sphinx-build" -b html -W --keep-going -q -c "$root/tools/docs-site" -d "$dest/doctrees" "$dest/rst" "$dest/html"
echo "docs_site: $dest/html/index.html"
