#!/usr/bin/env bash
# Usage: tools/demo.sh [ANSIBLE-PLAYBOOK ARG...]   (make demo runs it through tools/with_twin.sh)
#
# The demo against the cluster in K8S_AUTH_KUBECONFIG: playbooks/site.yml converges the lab of
# inventory/lab (full output), a second site.yml run shows there is nothing left to change
# (changed=0), and playbooks/verify.yml reports the drift (none). Runs two and three print only
# their recap (and the drift report). Exits non-zero when any run fails or the second one changes
# something.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "==> 1/3 ansible-playbook -i inventory/lab playbooks/site.yml $*"
ansible-playbook -i inventory/lab playbooks/site.yml "$@"

echo "==> 2/3 the same again: nothing left to change"
status=0
ansible-playbook -i inventory/lab playbooks/site.yml "$@" >"$out" 2>&1 || status=$?
sed -n '/^PLAY RECAP/,$p' "$out"
if [ "$status" -ne 0 ] || ! grep -Eq 'changed=0 .*failed=0' "$out"; then
    echo "demo: the second run changed or failed something; its output:" >&2
    cat "$out" >&2
    exit 1
fi

echo "==> 3/3 ansible-playbook -i inventory/lab playbooks/verify.yml (drift report)"
status=0
ansible-playbook -i inventory/lab playbooks/verify.yml >"$out" 2>&1 || status=$?
sed -n '/^TASK \[Report the drift\]/,/^$/p; /^PLAY RECAP/,$p' "$out"
exit "$status"
