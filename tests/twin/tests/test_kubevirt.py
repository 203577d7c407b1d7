"""The VM lifecycle the guards depend on: run strategy → VMI → where it runs."""
from __future__ import annotations

import json

from .conftest import wait_for

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
MERGE = {"Content-Type": "application/merge-patch+json"}


def test_halting_a_vm_deletes_its_vmi_and_reports_stopped(twin):
    s = twin.session()
    s.patch(twin.url(VMS + "/lab-router"), data='{"spec":{"runStrategy":"Halted"}}', headers=MERGE).raise_for_status()
    wait_for(lambda: s.get(twin.url(VMIS + "/lab-router")).status_code == 404)
    vm = wait_for(lambda: (lambda v: v if v["status"].get("printableStatus") == "Stopped" else None)(
        s.get(twin.url(VMS + "/lab-router")).json()))
    assert vm["status"]["created"] is False


def test_starting_a_vm_schedules_a_vmi_through_its_phases(twin):
    s = twin.session()
    rv = s.get(twin.url(VMIS)).json()["metadata"]["resourceVersion"]
    s.patch(twin.url(VMS + "/lab-builder"), data='{"spec":{"runStrategy":"Always"}}', headers=MERGE).raise_for_status()
    phases = []
    with s.get(twin.url(VMIS), params={"watch": "1", "resourceVersion": rv, "fieldSelector": "metadata.name=lab-builder",
                                       "timeoutSeconds": "10"}, stream=True, timeout=20) as r:
        for line in r.iter_lines():
            if not line:
                continue
            phase = json.loads(line)["object"].get("status", {}).get("phase")
            if not phases or phases[-1] != phase:
                phases.append(phase)
            if phase == "Running":
                break
    assert phases == ["Pending", "Scheduling", "Scheduled", "Running"]
    vmi = s.get(twin.url(VMIS + "/lab-builder")).json()
    assert vmi["status"]["nodeName"] == "ms02-3"  # the node with no VM yet
    assert vmi["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"
    wait_for(lambda: s.get(twin.url(VMS + "/lab-builder")).json()["status"].get("printableStatus") == "Running")


def test_kubectl_sees_vms_stop(twin):
    twin.kubectl("patch", "vm", "lab-dns", "-n", "default", "--type", "merge", "-p", '{"spec":{"runStrategy":"Halted"}}')
    wait_for(lambda: twin.kubectl("get", "vmi", "lab-dns", "-n", "default", check=False).returncode != 0)
    out = twin.kubectl("get", "vm", "lab-dns", "-n", "default", "-o", "jsonpath={.status.printableStatus}").stdout
    assert out in ("Stopped", "Stopping")


# ---------------------------------------------------------------------------------------- node pod resources
# Harvester's pod-resources controller (pkg/controller/master/rancher/pod_resources.go) sums the
# requests and limits of the pods bound to a node into two annotations. Expected values by hand:
# a control-plane node's system pods (lab/node-pods.yml) request 2905m CPU and 5296Mi =
# 5553258496 bytes in 41 pods (limits 9100m, 12544Mi). A VMI's virt-launcher pod (KubeVirt
# v1.7.0) requests vCPUs/10 CPU, 50M ephemeral storage, one kvm, tun and vhost-net device, and
# its guest memory plus the overhead: 25+100+25+40+30 Mi fixed, 8Mi per vCPU, 8Mi IO thread,
# 32Mi video (no memory request: no page tables), times the 1.5 ratio Harvester sets by default,
# counted in kB: 2 vCPUs -> 276Mi = 289406976 B -> +144703 kB -> 434109976 B.
REQUESTS = "management.cattle.io/pod-requests"
LIMITS = "management.cattle.io/pod-limits"
SYSTEM_LIMITS = '{"cpu":"9100m","memory":"12544Mi"}'
DEVICES = '"devices.kubevirt.io/kvm":"1","devices.kubevirt.io/tun":"1","devices.kubevirt.io/vhost-net":"1"'
LAUNCHER_LIMITS = '{"cpu":"9100m",' + DEVICES + ',"memory":"12544Mi"}'


def node_pods(twin, node: str) -> tuple[str, str] | None:
    notes = twin.session().get(twin.url(f"/api/v1/nodes/{node}")).json()["metadata"].get("annotations") or {}
    return (notes[REQUESTS], notes[LIMITS]) if REQUESTS in notes else None


def pod_requests(cpu: str, memory: str, pods: int, vms: bool = True) -> str:
    if not vms:
        return f'{{"cpu":"{cpu}","memory":"{memory}","pods":"{pods}"}}'
    return f'{{"cpu":"{cpu}",{DEVICES},"ephemeral-storage":"{50 * (pods - 41)}M","memory":"{memory}","pods":"{pods}"}}'


def test_nodes_carry_the_pod_requests_and_limits_of_their_pods(twin):
    # ms02-1 runs lab-router (2 vCPUs, 2Gi): 2147483648 + 434109976 = 2581593624 B, 200m
    assert wait_for(lambda: node_pods(twin, "ms02-1")) == (pod_requests("3105m", str(5553258496 + 2581593624), 42),
                                                           LAUNCHER_LIMITS)
    # ms02-2 runs lab-dns (1 vCPU, 1Gi): 268Mi = 281018368 B -> +140509 kB -> 1073741824 + 421527368 B, 100m
    assert wait_for(lambda: node_pods(twin, "ms02-2")) == (pod_requests("3005m", str(5553258496 + 1495269192), 42),
                                                           LAUNCHER_LIMITS)
    # ms02-3 runs no VM: only its system pods, in the units they were declared in
    assert wait_for(lambda: node_pods(twin, "ms02-3")) == (pod_requests("2905m", "5296Mi", 41, vms=False),
                                                           SYSTEM_LIMITS)


def test_pod_requests_follow_a_vm_starting_and_stopping(twin):
    s = twin.session()
    base = wait_for(lambda: node_pods(twin, "ms02-3"))
    s.patch(twin.url(VMS + "/lab-builder"), data='{"spec":{"runStrategy":"Always"}}', headers=MERGE).raise_for_status()
    # lab-builder (2 vCPUs, 4Gi) lands on ms02-3: 4294967296 + 434109976 B
    started = (pod_requests("3105m", str(5553258496 + 4294967296 + 434109976), 42), LAUNCHER_LIMITS)
    wait_for(lambda: node_pods(twin, "ms02-3") == started, "lab-builder's pod counted on ms02-3")
    s.patch(twin.url(VMS + "/lab-builder"), data='{"spec":{"runStrategy":"Halted"}}', headers=MERGE).raise_for_status()
    wait_for(lambda: node_pods(twin, "ms02-3") == base, "lab-builder's pod gone from ms02-3")


def test_a_pod_keeps_the_overhead_it_was_created_with(twin):
    """The overhead ratio is read when KubeVirt renders the pod; a running pod does not change."""
    s = twin.session()
    before = wait_for(lambda: node_pods(twin, "ms02-1"))
    s.patch(twin.url("/apis/harvesterhci.io/v1beta1/settings/additional-guest-memory-overhead-ratio"),
            data='{"value":"2"}', headers=MERGE).raise_for_status()
    s.patch(twin.url(VMS + "/lab-builder"), data='{"spec":{"runStrategy":"Always"}}', headers=MERGE).raise_for_status()
    # ratio 2: 289406976 B + 289407 kB = 578813976 B on top of the 4Gi guest
    started = (pod_requests("3105m", str(5553258496 + 4294967296 + 578813976), 42), LAUNCHER_LIMITS)
    wait_for(lambda: node_pods(twin, "ms02-3") == started, "lab-builder rendered with ratio 2")
    assert node_pods(twin, "ms02-1") == before


def test_a_live_migration_counts_the_target_pod_until_the_source_one_finishes(twin):
    """virt-handler's status writes of a migration (a VMI has no /status), done here by hand: while it runs both pods
    exist; once it completed the source pod has finished (Succeeded) and no longer counts."""
    s = twin.session()
    router = (pod_requests("3105m", str(5553258496 + 2581593624), 42), LAUNCHER_LIMITS)
    idle = (pod_requests("2905m", "5296Mi", 41, vms=False), SYSTEM_LIMITS)
    wait_for(lambda: node_pods(twin, "ms02-1") == router and node_pods(twin, "ms02-3") == idle)
    state = {"migrationUid": "m-1", "sourceNode": "ms02-1", "targetNode": "ms02-3", "completed": False}
    s.patch(twin.url(VMIS + "/lab-router"), data=json.dumps({"status": {"migrationState": state}}),
            headers=MERGE).raise_for_status()
    wait_for(lambda: node_pods(twin, "ms02-3") == router, "the target pod counted on ms02-3")
    assert node_pods(twin, "ms02-1") == router
    done = {"status": {"nodeName": "ms02-3", "migrationState": dict(state, completed=True)}}
    s.patch(twin.url(VMIS + "/lab-router"), data=json.dumps(done), headers=MERGE).raise_for_status()
    wait_for(lambda: node_pods(twin, "ms02-1") == idle, "the source pod no longer counted on ms02-1")
    assert node_pods(twin, "ms02-3") == router
