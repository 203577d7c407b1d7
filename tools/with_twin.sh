#!/usr/bin/env bash
# Usage: tools/with_twin.sh CMD [ARG...]
#
# Starts the API twin (tests/twin) on a free loopback port, runs CMD with K8S_AUTH_KUBECONFIG
# pointing at its kubeconfig, and always stops the twin afterwards. Exits with CMD's status.
# The work is done by the one twin launcher, `python -m tests.twin.launch run` (tests/twin/launch.py).
#
# Environment (all optional):
#   TWIN_DIR      where the kubeconfig, CA, pid file and log go   (default: .twin)
#   TWIN_PYTHON   interpreter that runs the twin                  (default: .venv/bin/python)
#   TWIN_ARGS     extra twin arguments, e.g. "--crds DIR --speed 50"
#   TWIN_TIMEOUT  seconds to wait for the twin to serve           (default: 15)
#   TWIN_LAB      inventory the twin seeds its nodes from         (default: inventory/lab; empty: none)
#   TWIN_NAS      a folder the twin plays the lab's NAS from (--nas): filled first by tools/lab_nas.py
#                 from TWIN_LAB (the Harvester release files, the image library), its extra vars (the
#                 images' checksums) written to $TWIN_DIR/nas-vars.yml     (default: none)
#
# The twin is started with `--lab $TWIN_LAB`, so `make demo` (ansible-playbook -i inventory/lab)
# converges against a cluster whose nodes, addresses, NICs and bonds are the inventory's: add a
# node or rename a NIC in inventory/lab and the twin has it too. For inventory/lab as committed
# this is exactly the twin's fixed seed (tests/twin/lab); TWIN_LAB= (empty) uses that seed alone.
# Exported to CMD: K8S_AUTH_KUBECONFIG, TWIN_PORT, TWIN_LOG, and with TWIN_NAS: TWIN_NAS, TWIN_NAS_VARS.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARG...]" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

read -r -a extra <<<"${TWIN_ARGS:-}"
lab=${TWIN_LAB-inventory/lab}
if [ -n "$lab" ]; then
    extra+=(--lab "$lab")
fi
if [ -n "${TWIN_NAS:-}" ]; then
    export TWIN_NAS_VARS="${TWIN_DIR:-.twin}/nas-vars.yml"
    "${TWIN_PYTHON:-.venv/bin/python}" tools/lab_nas.py --inventory "${lab:-inventory/lab}" --dir "$TWIN_NAS" \
        --vars "$TWIN_NAS_VARS"
    extra+=(--nas "$TWIN_NAS")
    export TWIN_NAS
fi
exec "${TWIN_PYTHON:-.venv/bin/python}" -m tests.twin.launch run --dir "${TWIN_DIR:-.twin}" \
    --timeout "${TWIN_TIMEOUT:-15}" ${extra[@]+"${extra[@]}"} -- "$@"
