# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_node in process (tests/modules/runner.py) against a twin process (three control-plane
nodes; lab-router runs on ms02-1, lab-dns on ms02-2, lab-builder is stopped; every Longhorn
volume has a replica on each node), and the twin's request log says what reached the API.

Enter maintenance through the Harvester API (the VMI live-migrates, names and target checked, the
status reaches completed), again without a write, leave it (schedulable, Longhorn rebuilt to
healthy); the refusals before any write (another control-plane node in maintenance, a volume with
no healthy replica elsewhere, a VM Harvester cannot migrate, the last available node); force; the
silent drop through the annotation; the annotation method and ``auto`` without the Harvester API;
cordon; check mode storing nothing; bad input with no request at all."""

from __future__ import annotations

import pytest

from tests.catalogue.harvester_node import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes
from tests.twin.tests.conftest import wait_for

pytestmark = [pytest.mark.twin]

MODULE = "harvester_node"
NODES = "/api/v1/nodes"
STEVE = "/v1/harvester/nodes"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
LH = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system"
MERGE = {"Content-Type": "application/merge-patch+json"}
ROUTER_VOLUME = "pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10"
DNS_VOLUME = "pvc-5e9a3c71-2d18-4b6f-8e04-9f1a7c3b2d21"
BUILDER_VOLUME = "pvc-c2d47e85-9f30-4a1b-b6c2-71e5d8a9f032"
MAINTAIN = "harvesterhci.io/maintain-status"
DRAIN = "harvesterhci.io/drain-requested"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def node(twin, name):
    return get(twin, f"{NODES}/{name}")


def annotations(twin, name):
    return node(twin, name)["metadata"].get("annotations") or {}


def robustness(twin, volume):
    return get(twin, f"{LH}/volumes/{volume}")["status"]["robustness"]


def actions(requests):
    """The Steve actions and the Kubernetes writes of a run, in order."""
    return [(r["method"], r["path"], r.get("query") or "") for r in writes(requests)]


def action(name, what):
    return ("POST", f"{STEVE}/{name}", f"action={what}")


def cd_rom_vm(twin):
    """A VM with a container disk, which Harvester does not live-migrate; the twin starts it on
    the least busy node, ms02-3."""
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
          "metadata": {"name": "lab-cd", "namespace": "default"},
          "spec": {"runStrategy": "Always", "template": {
              "metadata": {"labels": {"harvesterhci.io/vmName": "lab-cd"}},
              "spec": {"domain": {"memory": {"guest": "1Gi"}, "devices": {"disks": [{"name": "iso", "cdrom": {"bus": "sata"}}]}},
                       "volumes": [{"name": "iso", "containerDisk": {"image": "registry.lab/tools:1"}}]}}}}
    twin.session().post(twin.url(VMS), json=vm).raise_for_status()
    vmi = wait_for(lambda: (get(twin, f"{VMIS}/lab-cd") or {}).get("status", {}).get("phase") == "Running"
                   and get(twin, f"{VMIS}/lab-cd"), "lab-cd to run")
    assert vmi["status"]["nodeName"] == "ms02-3"


def test_enter_then_again_without_writes_then_leave_with_longhorn_rebuilt(twin):
    (entered,), reqs = play(twin, [{"name": "ms02-1", "maintenance": True}], diff=True)
    assert entered["changed"] is True and not entered.get("failed"), entered
    assert entered["method"] == "steve" and entered["maintenance"] == "completed"
    assert entered["migrated_vms"] == [{"namespace": "default", "name": "lab-router", "from_node": "ms02-1",
                                        "to_node": "ms02-3"}]  # the least busy other node
    assert entered["stopped_vms"] == [] and entered["non_migratable"] == []
    assert actions(reqs) == [action("ms02-1", "maintenancePossible"), action("ms02-1", "listUnhealthyVM"),
                             action("ms02-1", "enableMaintenanceMode")]
    assert entered["diff"] == {"before": {"maintenance": None, "schedulable": True},
                               "after": {"maintenance": "completed", "schedulable": False}}
    assert [w["what"] for w in entered["waited"]] == ["maintain-status running", "maintain-status completed"]
    assert entered["node"]["name"] == "ms02-1" and entered["node"]["schedulable"] is False
    assert entered["node"]["maintenance"] == "completed"
    vmi = get(twin, f"{VMIS}/lab-router")
    assert vmi["status"]["nodeName"] == "ms02-3" and vmi["metadata"]["labels"]["kubevirt.io/nodeName"] == "ms02-3"
    state = vmi["status"]["migrationState"]
    assert (state["sourceNode"], state["targetNode"], state["completed"]) == ("ms02-1", "ms02-3", True)
    live = node(twin, "ms02-1")
    drain_taint = {"key": "kubevirt.io/drain", "value": "scheduling", "effect": "NoSchedule"}
    assert live["spec"]["unschedulable"] is True and drain_taint in live["spec"]["taints"]
    assert DRAIN not in annotations(twin, "ms02-1")

    (again,), reqs = play(twin, [{"name": "ms02-1", "maintenance": True}])
    assert again["changed"] is False and not again.get("failed") and writes(reqs) == [], again
    assert not any(r["path"].startswith(STEVE) for r in reqs)  # nothing to ask Harvester

    # the node's instance manager went with the drain: the replicas there failed, the volumes degraded
    wait_for(lambda: robustness(twin, ROUTER_VOLUME) == robustness(twin, DNS_VOLUME) == "degraded", "volumes degraded")
    (left,), reqs = play(twin, [{"name": "ms02-1", "maintenance": False}], diff=True)
    assert left["changed"] is True and not left.get("failed"), left
    assert actions(reqs) == [action("ms02-1", "disableMaintenanceMode")]
    assert left["volumes"] == {ROUTER_VOLUME: "healthy", DNS_VOLUME: "healthy", BUILDER_VOLUME: "detached"}
    assert left["diff"]["after"] == {"maintenance": None, "schedulable": True} and left["maintenance"] is None
    assert left["waited"][-1]["what"] == f"Longhorn volumes healthy: {ROUTER_VOLUME}, {DNS_VOLUME}"
    live = node(twin, "ms02-1")
    assert not live["spec"].get("unschedulable") and not live["spec"].get("taints")
    assert MAINTAIN not in annotations(twin, "ms02-1")
    replicas = [r for r in get(twin, f"{LH}/replicas")["items"] if r["spec"]["volumeName"] == ROUTER_VOLUME]
    assert sorted(r["spec"]["nodeID"] for r in replicas) == ["ms02-1", "ms02-2", "ms02-3"]
    assert all(r["spec"]["healthyAt"] and not r["spec"]["failedAt"] for r in replicas)  # rebuilt on ms02-1

    (out_again,), reqs = play(twin, [{"name": "ms02-1", "maintenance": False}])
    assert out_again["changed"] is False and writes(reqs) == [], out_again


def test_refused_while_another_control_plane_node_is_in_maintenance(twin):
    twin.kubectl("annotate", "node", "ms02-2", f"{MAINTAIN}=completed")
    (result,), reqs = play(twin, [{"name": "ms02-1", "maintenance": True}])
    assert result["failed"], result
    assert result["msg"] == ("node ms02-1: another control-plane node is already in maintenance mode: ms02-2 (completed); "
                             "Harvester allows one control-plane node in maintenance at a time; nothing was changed")
    assert writes(reqs) == [] and not any(r["path"].startswith(STEVE) for r in reqs)
    assert annotations(twin, "ms02-1").get(DRAIN) is None and not node(twin, "ms02-1")["spec"].get("unschedulable")


def test_refused_when_a_volume_has_no_healthy_replica_elsewhere(twin):
    for r in get(twin, f"{LH}/replicas")["items"]:
        if r["spec"]["volumeName"] == BUILDER_VOLUME and r["spec"]["nodeID"] != "ms02-1":
            twin.session().patch(twin.url(f"{LH}/replicas/{r['metadata']['name']}"), headers=MERGE,
                                 json={"spec": {"failedAt": "2026-11-02T10:00:00Z"}}).raise_for_status()
    (result,), reqs = play(twin, [{"name": "ms02-1", "maintenance": True}])
    assert result["failed"], result
    assert f"Longhorn volume {BUILDER_VOLUME} has no healthy replica on another node" in result["msg"]
    assert result["volumes"] == [BUILDER_VOLUME]
    assert writes(reqs) == []
    (other,), reqs = play(twin, [{"name": "ms02-2", "maintenance": True, "wait": False}])
    assert other["changed"] is True and not other.get("failed"), other  # ms02-2 holds no last good copy


def test_a_vm_harvester_cannot_migrate_refuses_and_force_shuts_it_down(twin):
    cd_rom_vm(twin)
    (refused, forced), reqs = play(twin, [{"name": "ms02-3", "maintenance": True},
                                          {"name": "ms02-3", "maintenance": True, "force": True}])
    assert refused["failed"] and refused["vms"] == ["default/lab-cd"], refused
    assert refused["msg"] == ("node ms02-3: The following VMs cannot be migrated due to CDRomOrContainerDiskPresent "
                              "condition: default/lab-cd (Harvester's listUnhealthyVM); force=true shuts them down; "
                              "nothing was changed")
    assert forced["changed"] is True and not forced.get("failed"), forced
    assert forced["stopped_vms"] == ["default/lab-cd"] and forced["migrated_vms"] == []
    assert forced["non_migratable"] == [{"message": "The following VMs cannot be migrated due to "
                                                    "CDRomOrContainerDiskPresent condition", "vms": ["default/lab-cd"]}]
    assert any("force=true shuts down the VMs that cannot be migrated" in w for w in forced.get("warnings", []))
    assert actions(reqs) == [action("ms02-3", "maintenancePossible"), action("ms02-3", "listUnhealthyVM"),
                             action("ms02-3", "maintenancePossible"), action("ms02-3", "listUnhealthyVM"),
                             action("ms02-3", "enableMaintenanceMode")]
    assert get(twin, f"{VMS}/lab-cd")["spec"]["runStrategy"] == "Halted"


def test_a_vm_restarted_elsewhere_counts_as_stopped_not_migrated(twin):
    labels = {"metadata": {"labels": {"harvesterhci.io/maintain-mode-strategy": "ShutdownAndRestartAfterEnable"}}}
    twin.session().patch(twin.url(f"{VMS}/lab-router"), headers=MERGE, json={**labels, "spec": {"template": labels}}).raise_for_status()
    twin.session().patch(twin.url(f"{VMIS}/lab-router"), headers=MERGE, json=labels).raise_for_status()
    (result,), dummy = play(twin, [{"name": "ms02-1", "maintenance": True}])
    assert result["changed"] and result["maintenance"] == "completed", result
    assert result["stopped_vms"] == ["default/lab-router"] and result["migrated_vms"] == []
    vmi = wait_for(lambda: (get(twin, f"{VMIS}/lab-router") or {}).get("status", {}).get("phase") == "Running"
                   and get(twin, f"{VMIS}/lab-router"), "lab-router started again")
    assert vmi["status"]["nodeName"] != "ms02-1"


def test_the_silent_drop_is_reported(twin):
    cd_rom_vm(twin)
    (result,), reqs = play(twin, [{"name": "ms02-3", "maintenance": True, "method": "annotation"}])
    assert result["failed"], result
    assert result["msg"].startswith("node ms02-3: Harvester dropped the maintenance request: its node-drain controller "
                                    "removed harvesterhci.io/drain-requested without setting harvesterhci.io/maintain-status")
    assert actions(reqs) == [("PATCH", f"{NODES}/ms02-3", "fieldManager=homelab.harvester&fieldValidation=Strict")]
    live = node(twin, "ms02-3")
    assert not live["spec"].get("unschedulable") and DRAIN not in annotations(twin, "ms02-3")
    assert get(twin, f"{VMIS}/lab-cd")["status"]["nodeName"] == "ms02-3"  # nothing moved


def test_the_annotation_method_enters_and_leaves(twin):
    (entered, left), reqs = play(twin, [{"name": "ms02-2", "maintenance": True, "method": "annotation"},
                                        {"name": "ms02-2", "maintenance": False, "method": "annotation"}])
    assert entered["changed"] and left["changed"] and not entered.get("failed") and not left.get("failed"), (entered, left)
    assert entered["method"] == left["method"] == "annotation"
    assert entered["migrated_vms"] == [{"namespace": "default", "name": "lab-dns", "from_node": "ms02-2", "to_node": "ms02-3"}]
    assert [(m, p) for m, p, dummy in actions(reqs)] == [("PATCH", f"{NODES}/ms02-2"), ("PATCH", f"{NODES}/ms02-2")]
    assert not any(r["path"].startswith("/v1/harvester") for r in reqs)
    assert left["volumes"][DNS_VOLUME] == "healthy" and left["volumes"][ROUTER_VOLUME] == "healthy"
    live = node(twin, "ms02-2")
    assert not live["spec"].get("unschedulable") and not live["spec"].get("taints") and MAINTAIN not in annotations(twin, "ms02-2")


def test_auto_falls_back_to_the_annotation_without_the_harvester_api(twin):
    twin.fault(method="GET", path="^/v1/harvester/", status=404, count=10)  # as kube-apiserver on :6443 answers
    (required,), reqs = play(twin, [{"name": "ms02-1", "maintenance": True, "method": "steve"}])
    assert required["failed"] and "method=steve: the Harvester API does not answer at" in required["msg"], required
    assert writes(reqs) == []
    (auto,), reqs = play(twin, [{"name": "ms02-1", "maintenance": True}])
    assert auto["changed"] and auto["method"] == "annotation" and auto["maintenance"] == "completed", auto
    assert [(m, p) for m, p, dummy in actions(reqs)] == [("PATCH", f"{NODES}/ms02-1")]


def test_check_mode_stores_nothing(twin):
    (steve, annotation, leave, cordon), reqs = play(twin, [
        {"name": "ms02-1", "maintenance": True},
        {"name": "ms02-2", "maintenance": True, "method": "annotation"},
        {"name": "ms02-3", "maintenance": False},
        {"name": "ms02-3", "cordon": True}], check=True, diff=True)
    assert steve["changed"] and steve["maintenance"] == "completed" and not steve.get("failed"), steve
    assert steve["diff"]["after"] == {"maintenance": "completed", "schedulable": False}
    assert annotation["changed"] and annotation["maintenance"] == "completed", annotation
    assert leave["changed"] is False, leave
    assert cordon["changed"] and cordon["diff"]["after"]["schedulable"] is False, cordon
    assert stored_writes(reqs) == []
    assert [r["query"] for r in writes(reqs)] == ["action=maintenancePossible&dryRun=All", "action=listUnhealthyVM&dryRun=All",
                                                  "fieldManager=homelab.harvester&fieldValidation=Strict&dryRun=All"]
    for name in ("ms02-1", "ms02-2", "ms02-3"):
        assert not node(twin, name)["spec"].get("unschedulable") and DRAIN not in annotations(twin, name)


def test_cordon_and_uncordon(twin):
    (cordoned, again, uncordoned, by_patch, by_patch_back), reqs = play(twin, [
        {"name": "ms02-2", "cordon": True}, {"name": "ms02-2", "cordon": True}, {"name": "ms02-2", "cordon": False},
        {"name": "ms02-3", "cordon": True, "method": "annotation"}, {"name": "ms02-3", "cordon": False, "method": "annotation"}])
    assert [r["changed"] for r in (cordoned, again, uncordoned, by_patch, by_patch_back)] == [True, False, True, True, True]
    assert actions(reqs) == [
        action("ms02-2", "cordon"), action("ms02-2", "uncordon"),
        ("PATCH", f"{NODES}/ms02-3", "fieldManager=homelab.harvester&fieldValidation=Strict"),
        ("PATCH", f"{NODES}/ms02-3", "fieldManager=homelab.harvester&fieldValidation=Strict")]
    assert cordoned["node"]["schedulable"] is False and uncordoned["node"]["schedulable"] is True


def test_the_last_available_node_and_uncordoning_a_node_in_maintenance_are_refused(twin):
    twin.kubectl("cordon", "ms02-2")
    twin.kubectl("cordon", "ms02-3")
    (cordon, enter), reqs = play(twin, [{"name": "ms02-1", "cordon": True}, {"name": "ms02-1", "maintenance": True}])
    assert cordon["failed"] and enter["failed"], (cordon, enter)
    assert "it is the last available node" in cordon["msg"] and "can't enable maintenance mode or cordon" in cordon["msg"]
    assert "it is the last available node" in enter["msg"]
    assert writes(reqs) == []
    refused = twin.kubectl("cordon", "ms02-1", check=False)  # Harvester's webhook agrees (kubectl still exits 0)
    assert "can't enable maintenance mode or cordon on the last available node" in refused.stderr
    assert not node(twin, "ms02-1")["spec"].get("unschedulable")
    twin.kubectl("annotate", "node", "ms02-2", f"{MAINTAIN}=completed")  # cordoned and in maintenance
    (uncordon,), reqs = play(twin, [{"name": "ms02-2", "cordon": False}])
    assert uncordon["failed"] and "it is in maintenance mode (completed); leave it with maintenance=false" in uncordon["msg"]
    assert writes(reqs) == []


def test_unknown_node_fails_without_a_write(twin):
    (result,), reqs = play(twin, [{"name": "ms02-9", "maintenance": True}])
    assert result["failed"] and result["msg"] == "node 'ms02-9' not found", result
    assert writes(reqs) == []


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
