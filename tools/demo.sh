#!/usr/bin/env bash
# Usage: tools/demo.sh [ANSIBLE-PLAYBOOK ARG...]   (make demo runs it through tools/with_twin.sh)
#
# The lab of inventory/lab from bare metal, against the twin in K8S_AUTH_KUBECONFIG started with
# --bare (no node installed, one simulated AMT per node, amt-endpoints.yml next to its kubeconfig)
# and --nas TWIN_NAS (the NAS's HTTP root, filled by tools/lab_nas.py, whose extra vars -- the
# image checksums -- are in TWIN_NAS_VARS):
#
#   1/4 playbooks/site.yml: each node booted from the network through its AMT (the create node
#       first), installed and Ready; bonds, VLAN networks, storage network, backup target, Longhorn
#       settings, StorageClass, the images Imported, the KeyPair, the Talos cluster Available and its
#       kubeconfig written (mode 0600) -- full output, then the twin's log of the bare-metal steps;
#   2/4 the same again: nothing left to change (changed=0), no node's power touched;
#   3/4 playbooks/verify.yml: the drift report (none);
#   4/4 playbooks/report.yml: what exists now.
#
# inventory/lab is never edited: the AMT endpoints, the NAS folder and the image checksums come in
# as extra vars. Exits non-zero when a run fails, the second one changes something, or verify finds
# drift.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${K8S_AUTH_KUBECONFIG:?run me through tools/with_twin.sh (make demo)}"
: "${TWIN_NAS:?run me through tools/with_twin.sh with TWIN_NAS set (make demo)}"
twin_dir=$(cd "$(dirname "$K8S_AUTH_KUBECONFIG")" && pwd)
endpoints=$twin_dir/amt-endpoints.yml
if [ ! -f "$endpoints" ]; then
    echo "demo: the twin wrote no $endpoints: it needs --bare (issue 15's bare-metal mode)" >&2
    exit 1
fi
clusters=$twin_dir/clusters
start=$(date +%s)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

vars=(-e "@$endpoints" -e "@${TWIN_NAS_VARS:-$twin_dir/nas-vars.yml}" -e "bootstrap_publish_dir=$(cd "$TWIN_NAS" && pwd)/harvester"
      -e "capi_kubeconfig_dir=$clusters" -e bootstrap_wait_delay=2 -e bootstrap_wait_retries=150)

echo "==> 1/4 ansible-playbook -i inventory/lab playbooks/site.yml (from bare metal) $*"
ansible-playbook -i inventory/lab playbooks/site.yml "${vars[@]}" "$@"
echo "==> the twin's bare-metal log (AMT, PXE, installer)"
grep -E 'AMT |PXE |installer|installed' "${TWIN_LOG:-$twin_dir/twin.log}" || true
for kubeconfig in "$clusters"/*.kubeconfig; do
    mode=$(stat -c %a "$kubeconfig")
    echo "workload kubeconfig $kubeconfig (mode $mode)"
    [ "$mode" = 600 ] || { echo "demo: $kubeconfig is mode $mode, not 600" >&2; exit 1; }
done

echo "==> 2/4 the same again: nothing left to change"
status=0
ansible-playbook -i inventory/lab playbooks/site.yml "${vars[@]}" "$@" >"$out" 2>&1 || status=$?
sed -n '/^PLAY RECAP/,$p' "$out"
if [ "$status" -ne 0 ] || ! grep -Eq 'changed=0 .*failed=0' "$out"; then
    echo "demo: the second run changed or failed something; its output:" >&2
    cat "$out" >&2
    exit 1
fi

echo "==> 3/4 ansible-playbook -i inventory/lab playbooks/verify.yml (drift report)"
status=0
ansible-playbook -i inventory/lab playbooks/verify.yml "${vars[@]}" >"$out" 2>&1 || status=$?
sed -n '/^TASK \[Report the drift\]/,/^$/p; /^PLAY RECAP/,$p' "$out"
[ "$status" -eq 0 ] || exit "$status"

echo "==> 4/4 ansible-playbook -i inventory/lab playbooks/report.yml (what exists)"
ansible-playbook -i inventory/lab playbooks/report.yml >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
sed -n '/^TASK \[Report\]/,/^$/p' "$out"
echo "==> demo done in $(( $(date +%s) - start )) s"
