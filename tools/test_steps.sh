#!/usr/bin/env bash
# make test's steps, in order, stopping at the first failure; each reports its wall time.
#
#   tools/test_steps.sh STEP...      STEP: a make target, or targets joined by "+" to run side by side
#
# A joined step runs its targets at once, each into its own log (printed whole when it ends, in
# the order given), and fails if any of them fails. make test runs the single-core linters beside
# molecule, which mostly waits (the Makefile's TEST_STEPS says more).
# MAKE: the make to call (the Makefile passes its own).
set -euo pipefail
MAKE=${MAKE:-make}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

for step in "$@"; do
    echo "==> make $step"
    start=$(date +%s)
    IFS=+ read -ra targets <<< "$step"
    if [ ${#targets[@]} -eq 1 ]; then
        $MAKE "$step" || { echo "==> make $step FAILED"; exit 1; }
    else
        pids=()
        for t in "${targets[@]}"; do
            # each target's own wall time, at the end of its log
            ( s=$(date +%s); rc=0; $MAKE "$t" || rc=$?; echo "--> make $t took $(( $(date +%s) - s )) s"; exit $rc ) \
                > "$logs/$t.log" 2>&1 &
            pids+=($!)
        done
        failed=()
        for i in "${!targets[@]}"; do
            t=${targets[$i]}
            if wait "${pids[$i]}"; then status=ok; else status=FAILED; failed+=("$t"); fi
            echo "--> make $t ($status):"
            cat "$logs/$t.log"
        done
        [ ${#failed[@]} -eq 0 ] || { echo "==> make ${failed[*]} FAILED"; exit 1; }
    fi
    echo "==> make $step ok ($(( $(date +%s) - start )) s)"
done
echo "==> make test: all steps passed"
