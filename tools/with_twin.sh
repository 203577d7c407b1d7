#!/usr/bin/env bash
# Usage: tools/with_twin.sh CMD [ARG...]
#
# Starts the API twin (tests/twin) in the background on a free loopback port, waits for it to
# write its kubeconfig, runs CMD with K8S_AUTH_KUBECONFIG pointing at that kubeconfig, and
# always stops the twin afterwards (SIGTERM, then SIGKILL after 5 s). Exits with CMD's status.
#
# Environment (all optional):
#   TWIN_DIR      where the kubeconfig and log go            (default: .twin)
#   TWIN_PYTHON   interpreter that runs the twin             (default: .venv/bin/python)
#   TWIN_ARGS     extra twin arguments, e.g. "--crds DIR --speed 50"
#   TWIN_TIMEOUT  seconds to wait for the kubeconfig         (default: 15)
#   TWIN_PORT     port to serve on                           (default: 0 = any free port)
#   TWIN_LAB      inventory the twin seeds its nodes from    (default: inventory/lab; empty: none)
#
# The twin is started with `--lab $TWIN_LAB`, so `make demo` (ansible-playbook -i inventory/lab)
# converges against a cluster whose nodes, addresses, NICs and bonds are the inventory's: add a
# node or rename a NIC in inventory/lab and the twin has it too. For inventory/lab as committed
# this is exactly the twin's fixed seed (tests/twin/lab); TWIN_LAB= (empty) uses that seed alone.
# Exported to CMD: K8S_AUTH_KUBECONFIG, TWIN_PORT, TWIN_LOG.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARG...]" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

twin_dir=${TWIN_DIR:-.twin}
python=${TWIN_PYTHON:-.venv/bin/python}
timeout=${TWIN_TIMEOUT:-15}
read -r -a extra <<<"${TWIN_ARGS:-}"
lab=${TWIN_LAB-inventory/lab}
if [ -n "$lab" ]; then
    extra+=(--lab "$lab")
fi

if [ ! -f tests/twin/__main__.py ]; then
    echo "with_twin: tests/twin/__main__.py not found (the twin is not there yet)" >&2
    exit 2
fi
mkdir -p "$twin_dir"
twin_dir=$(cd "$twin_dir" && pwd)
kubeconfig=$twin_dir/kubeconfig
log=$twin_dir/twin.log
# The twin writes the kubeconfig only once it serves: an old one must not count as "ready".
rm -f "$kubeconfig"

# Port 0 (the default) lets the twin bind any free port itself -- no probe-then-bind race;
# the port it got is read back from the kubeconfig's server URL.
port=${TWIN_PORT:-0}

pid=
stop_twin() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
trap stop_twin EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$python" -m tests.twin --port "$port" --kubeconfig "$kubeconfig" ${extra[@]+"${extra[@]}"} >"$log" 2>&1 &
pid=$!

waited=0
until [ -s "$kubeconfig" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "with_twin: the twin exited before serving; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    if [ "$waited" -ge $((timeout * 10)) ]; then
        echo "with_twin: no kubeconfig at $kubeconfig after ${timeout}s; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
done
# The twin writes the file atomically (tmp + rename), so a non-empty file is a complete one.
port=$(sed -n 's|^ *server: *https://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$kubeconfig" | head -n 1)
echo "with_twin: twin pid $pid serving on https://127.0.0.1:$port (kubeconfig $kubeconfig, log $log)" >&2

export K8S_AUTH_KUBECONFIG=$kubeconfig TWIN_PORT=$port TWIN_LOG=$log
status=0
"$@" || status=$?
exit "$status"
