"""Node maintenance mode in the twin, through real clients (requests over HTTPS, kubectl, the
kubernetes dynamic client): Harvester's Steve node actions and their answers, DrainPossible, the
Node webhook's last-available-node refusal, the node-drain controller (silent drop, maintain-mode
strategies, force), live migration of the VMIs, the maintain controller's running -> completed,
leaving maintenance, and Longhorn failing the node's replicas and rebuilding them afterwards."""
from __future__ import annotations

import json

from ..controllers.node import ERR_HA_CP, ERR_SINGLE_CP
from .conftest import read_or_none as get
from .conftest import status_of, wait_for

STEVE = "/v1/harvester/nodes"
NODES = "/api/v1/nodes"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
LH = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system"
MERGE = {"Content-Type": "application/merge-patch+json"}
MAINTAIN = "harvesterhci.io/maintain-status"
DRAIN = "harvesterhci.io/drain-requested"
FORCED = "harvesterhci.io/drain-forced"
STRATEGY = "harvesterhci.io/maintain-mode-strategy"
STRATEGY_NODE = "harvesterhci.io/maintain-mode-strategy-node-name"
ROUTER_VOLUME = "pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10"
DNS_VOLUME = "pvc-5e9a3c71-2d18-4b6f-8e04-9f1a7c3b2d21"
LAST_AVAILABLE = ('admission webhook "validator.harvesterhci.io" denied the request: '
                  "can't enable maintenance mode or cordon on the last available node")
CD_ROM = "The following VMs cannot be migrated due to CDRomOrContainerDiskPresent condition"


# ---------------------------------------------------------------------------------------- helpers
def patch(twin, path, body):
    r = twin.session().patch(twin.url(path), headers=MERGE, data=json.dumps(body))
    r.raise_for_status()
    return r.json()


def act(twin, name, action, body=None):
    return twin.session().post(twin.url(f"{STEVE}/{name}"), params={"action": action},
                               data=None if body is None else json.dumps(body))


def annotations(twin, name):
    return get(twin, f"{NODES}/{name}")["metadata"].get("annotations") or {}


def maintenance(twin, name):
    return annotations(twin, name).get(MAINTAIN)


def vmi(twin, name):
    return get(twin, f"{VMIS}/{name}")


def replicas(twin, volume):
    return sorted((r for r in get(twin, f"{LH}/replicas")["items"] if r["spec"]["volumeName"] == volume),
                  key=lambda r: r["spec"]["nodeID"])


def robustness(twin, volume):
    return get(twin, f"{LH}/volumes/{volume}")["status"]["robustness"]


def label_vm(twin, name, strategy):
    """The maintain-mode strategy on the VM, its template and its running VMI."""
    labels = {"metadata": {"labels": {STRATEGY: strategy}}}
    patch(twin, f"{VMS}/{name}", {**labels, "spec": {"template": labels}})
    patch(twin, f"{VMIS}/{name}", labels)


def start_vm(twin, name, spec):
    """A VM that runs at once; the twin puts it on the least busy node (ms02-3 in the lab)."""
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name, "namespace": "default"},
          "spec": {"runStrategy": "Always", "template": {"metadata": {"labels": {"harvesterhci.io/vmName": name}},
                                                         "spec": spec}}}
    twin.session().post(twin.url(VMS), json=vm).raise_for_status()
    return wait_for(lambda: (vmi(twin, name) or {}).get("status", {}).get("phase") == "Running" and vmi(twin, name),
                    f"{name} to run")


def cd_rom_vm(twin):
    return start_vm(twin, "lab-cd", {"domain": {"memory": {"guest": "1Gi"},
                                                "devices": {"disks": [{"name": "iso", "cdrom": {"bus": "sata"}}]}},
                                     "volumes": [{"name": "iso", "containerDisk": {"image": "registry.lab/tools:1"}}]})


class States:
    """The distinct maintenance states a node goes through from now on (drain-requested alone
    counts as "requested"), seen through a watch: create it before the write, then `until`."""

    def __init__(self, twin, name):
        self.api = twin.dynamic().resources.get(api_version="v1", kind="Node")
        self.name = name
        current = self.api.get(name=name).to_dict()
        self.rv = current["metadata"]["resourceVersion"]
        self.seen = [self.state(current)]

    @staticmethod
    def state(obj):
        ann = obj["metadata"].get("annotations") or {}
        return ann.get(MAINTAIN) or ("requested" if DRAIN in ann else None)

    def until(self, last, timeout=20):
        """Watch until `last`, or until the request is gone again."""
        for event in self.api.watch(field_selector=f"metadata.name={self.name}", resource_version=self.rv, timeout=timeout):
            obj = event["raw_object"]
            self.rv = obj["metadata"]["resourceVersion"]
            if self.state(obj) != self.seen[-1]:
                self.seen.append(self.state(obj))
            if self.seen[-1] == last or (self.seen[-1] is None and len(self.seen) > 1):
                break
        return self.seen


# ---------------------------------------------------------------------------------------- Steve
def test_steve_serves_nodes_with_the_actions_of_their_state(twin):
    listing = get(twin, STEVE)
    assert listing["type"] == "collection" and listing["resourceType"] == "node" and listing["count"] == 3
    assert [n["id"] for n in listing["data"]] == ["ms02-1", "ms02-2", "ms02-3"]
    one = get(twin, f"{STEVE}/ms02-2")
    assert one["type"] == "node" and one["metadata"]["name"] == "ms02-2" and one["kind"] == "Node"
    assert set(one["actions"]) == {"listUnhealthyVM", "maintenancePossible", "powerActionPossible", "enableCPUManager",
                                   "disableCPUManager", "enableMaintenanceMode", "cordon"}
    assert one["actions"]["cordon"] == twin.url(f"{STEVE}/ms02-2") + "?action=cordon"
    twin.kubectl("cordon", "ms02-2")
    twin.kubectl("annotate", "node", "ms02-2", f"{MAINTAIN}=completed")
    actions = set(get(twin, f"{STEVE}/ms02-2")["actions"])
    assert {"disableMaintenanceMode", "powerAction", "uncordon"} <= actions and not {"enableMaintenanceMode", "cordon"} & actions
    assert twin.session(token="wrong").get(twin.url(f"{STEVE}/ms02-2")).status_code == 401


def test_steve_errors_look_like_harvesters(twin):
    bad = act(twin, "ms02-1", "reboot")
    assert bad.status_code == 422 and bad.json() == {"type": "error", "links": {}, "code": "InvalidAction",
                                                     "message": "Invalid action: reboot", "status": 422}
    assert act(twin, "nope", "reboot").status_code == 422  # the action is checked before the node
    missing = act(twin, "nope", "cordon")
    assert missing.status_code == 404 and missing.json()["message"] == 'nodes "nope" not found'
    assert twin.session().get(twin.url("/v1/harvester/widgets")).status_code == 404
    unversioned = twin.session().put(twin.url(f"{STEVE}/ms02-1"), json={})  # Steve's update needs a resourceVersion
    assert (unversioned.status_code, unversioned.json()["message"]) == (500, "metadata.resourceVersion is required for update")
    empty = act(twin, "ms02-1", "enableMaintenanceMode")
    assert (empty.status_code, empty.text) == (422, "InvalidBodyContent 422: Failed to decode request body: EOF ")
    assert empty.headers["Content-Type"].startswith("text/plain")
    typed = act(twin, "ms02-1", "enableMaintenanceMode", {"force": True})
    assert typed.status_code == 422 and typed.text == ("InvalidBodyContent 422: Failed to decode request body: json: cannot "
                                                       "unmarshal bool into Go struct field MaintenanceModeInput.force of type string ")
    assert DRAIN not in annotations(twin, "ms02-1")
    assert act(twin, "ms02-2", "cordon").status_code == 204
    again = act(twin, "ms02-2", "cordon")
    assert (again.status_code, again.text) == (500, "InvalidAction 422: Node ms02-2 already cordoned")
    assert act(twin, "ms02-2", "uncordon").status_code == 204
    assert act(twin, "ms02-2", "uncordon").text == "InvalidAction 422: Node ms02-2 already uncordoned"
    assert act(twin, "ms02-3", "powerActionPossible").status_code == 424
    log = [(r["method"], r["path"], r["query"], r["status"]) for r in twin.requests_log() if r["path"].startswith(STEVE)]
    assert ("POST", f"{STEVE}/ms02-2", "action=cordon", 204) in log and ("POST", f"{STEVE}/ms02-1", "action=reboot", 422) in log


def test_drain_possible_guards(twin):
    assert act(twin, "ms02-1", "maintenancePossible").status_code == 204
    twin.kubectl("annotate", "node", "ms02-2", f"{MAINTAIN}=running")
    for action in ("maintenancePossible", "enableMaintenanceMode"):  # enable runs the check before reading the body
        r = act(twin, "ms02-1", action)
        assert (r.status_code, r.text) == (500, ERR_HA_CP), action
    twin.kubectl("annotate", "node", "ms02-2", f"{MAINTAIN}-")
    for other in ("ms02-2", "ms02-3"):
        twin.kubectl("label", "node", other, "node-role.kubernetes.io/control-plane-", "node-role.kubernetes.io/etcd-")
    single = act(twin, "ms02-1", "maintenancePossible")
    assert (single.status_code, single.text) == (500, ERR_SINGLE_CP)
    assert act(twin, "ms02-2", "maintenancePossible").status_code == 204  # a worker is never held back
    twin.kubectl("label", "node", "ms02-3", "node-role.kubernetes.io/etcd=true")
    assert act(twin, "ms02-1", "maintenancePossible").text == ERR_HA_CP  # two control-plane nodes: not exactly three


def test_the_node_webhook_refuses_the_last_available_node(twin):
    assert act(twin, "ms02-2", "cordon").status_code == 204
    twin.kubectl("cordon", "ms02-3")
    r = twin.session().patch(twin.url(f"{NODES}/ms02-1"), headers=MERGE, data='{"spec":{"unschedulable":true}}')
    assert r.status_code == 400 and status_of(r)["message"] == LAST_AVAILABLE
    r = twin.session().patch(twin.url(f"{NODES}/ms02-1"), headers=MERGE,
                             data=json.dumps({"metadata": {"annotations": {MAINTAIN: "running"}}}))
    assert r.status_code == 400 and status_of(r)["message"] == LAST_AVAILABLE
    steve = act(twin, "ms02-1", "cordon")
    assert (steve.status_code, steve.text) == (400, LAST_AVAILABLE)  # the StatusError's status and text
    # a node already cordoned may take the annotation: the webhook only looks at a node becoming unavailable
    patch(twin, f"{NODES}/ms02-2", {"metadata": {"annotations": {MAINTAIN: "running"}}})


# ---------------------------------------------------------------------------------------- the whole way
def test_enter_through_steve_migrates_completes_and_leaving_rebuilds_longhorn(twin):
    assert act(twin, "ms02-1", "listUnhealthyVM").json() == []
    states = States(twin, "ms02-1")
    assert act(twin, "ms02-1", "enableMaintenanceMode", {"force": "false"}).status_code == 204
    assert states.until("completed") == [None, "requested", "running", "completed"]
    node = get(twin, f"{NODES}/ms02-1")
    assert node["spec"]["unschedulable"] is True
    assert node["spec"]["taints"] == [{"key": "kubevirt.io/drain", "value": "scheduling", "effect": "NoSchedule"}]
    assert DRAIN not in annotations(twin, "ms02-1")
    router = vmi(twin, "lab-router")
    assert router["status"]["nodeName"] == "ms02-3" and router["metadata"]["labels"]["kubevirt.io/nodeName"] == "ms02-3"
    state = router["status"]["migrationState"]
    assert {k: state[k] for k in ("sourceNode", "targetNode", "targetNodeAddress", "mode", "completed")} == {
        "sourceNode": "ms02-1", "targetNode": "ms02-3", "targetNodeAddress": "10.10.10.13", "mode": "PreCopy",
        "completed": True}
    assert state["migrationUid"] and state["startTimestamp"] and state["endTimestamp"] and state["sourcePod"] != state["targetPod"]
    assert "evacuationNodeName" not in router["status"] and router["status"]["migrationMethod"] == "LiveMigration"
    assert vmi(twin, "lab-dns")["status"]["nodeName"] == "ms02-2"  # other nodes' VMs stay
    # Longhorn: the volume follows its VMI; the drained node's instance manager is gone, its replicas failed
    wait_for(lambda: robustness(twin, ROUTER_VOLUME) == robustness(twin, DNS_VOLUME) == "degraded", "volumes degraded")
    assert get(twin, f"{LH}/volumes/{ROUTER_VOLUME}")["status"]["currentNodeID"] == "ms02-3"
    failed = replicas(twin, ROUTER_VOLUME)[0]
    assert failed["spec"]["nodeID"] == "ms02-1" and failed["spec"]["failedAt"] and failed["status"]["currentState"] == "stopped"
    # nothing is rebuilt while the node is cordoned: no other node is free for a third replica
    wait_for(lambda: any(c["type"] == "Scheduled" and c["status"] == "False"
                         for c in get(twin, f"{LH}/volumes/{ROUTER_VOLUME}")["status"]["conditions"]), "Scheduled False")

    assert act(twin, "ms02-1", "disableMaintenanceMode", {}).status_code == 204
    node = get(twin, f"{NODES}/ms02-1")
    assert not node["spec"].get("unschedulable") and "taints" not in node["spec"]
    assert not {MAINTAIN, DRAIN, FORCED} & set(annotations(twin, "ms02-1"))
    wait_for(lambda: robustness(twin, ROUTER_VOLUME) == robustness(twin, DNS_VOLUME) == "healthy", "volumes rebuilt", 30)
    rebuilt = replicas(twin, ROUTER_VOLUME)
    assert [r["spec"]["nodeID"] for r in rebuilt] == ["ms02-1", "ms02-2", "ms02-3"]
    assert rebuilt[0]["metadata"]["name"] != failed["metadata"]["name"] and not rebuilt[0]["spec"]["failedAt"]
    assert vmi(twin, "lab-router")["status"]["nodeName"] == "ms02-3"  # VMs do not move back by themselves


def test_the_annotation_alone_enters_maintenance(twin):
    states = States(twin, "ms02-2")
    patch(twin, f"{NODES}/ms02-2", {"metadata": {"annotations": {DRAIN: "true"}}})
    assert states.until("completed") == [None, "requested", "running", "completed"]
    assert vmi(twin, "lab-dns")["status"]["nodeName"] == "ms02-3"


# ---------------------------------------------------------------------------------------- refusals
def test_a_vm_that_cannot_migrate_makes_the_drain_drop_the_request_silently(twin):
    cd_rom_vm(twin)
    assert act(twin, "ms02-3", "listUnhealthyVM").json() == [{"message": CD_ROM, "vms": ["default/lab-cd"]}]
    states = States(twin, "ms02-3")
    patch(twin, f"{NODES}/ms02-3", {"metadata": {"annotations": {DRAIN: "true"}}})
    assert states.until("completed") == [None, "requested", None]
    node = get(twin, f"{NODES}/ms02-3")
    assert not node["spec"].get("unschedulable") and "taints" not in node["spec"]  # nothing left behind
    assert vmi(twin, "lab-cd")["status"]["nodeName"] == "ms02-3"


def test_force_shuts_down_the_vms_that_cannot_migrate(twin):
    cd_rom_vm(twin)
    states = States(twin, "ms02-3")
    assert act(twin, "ms02-3", "enableMaintenanceMode", {"force": "true"}).status_code == 204
    assert states.until("completed")[-1] == "completed"
    assert get(twin, f"{VMS}/lab-cd")["spec"]["runStrategy"] == "Halted" and vmi(twin, "lab-cd") is None
    assert not {DRAIN, FORCED} & set(annotations(twin, "ms02-3"))


def test_another_control_plane_in_maintenance_drops_an_annotation_request(twin):
    twin.kubectl("annotate", "node", "ms02-2", f"{MAINTAIN}=completed")
    states = States(twin, "ms02-1")
    patch(twin, f"{NODES}/ms02-1", {"metadata": {"annotations": {DRAIN: "true", FORCED: "true"}}})
    assert states.until("completed") == [None, "requested", None]
    assert not {DRAIN, FORCED} & set(annotations(twin, "ms02-1"))
    assert vmi(twin, "lab-router")["status"]["nodeName"] == "ms02-1"


def test_why_a_vm_cannot_migrate(twin):
    assert [c for c in vmi(twin, "lab-router")["status"]["conditions"] if c["type"] == "LiveMigratable"] == [
        {"type": "LiveMigratable", "status": "True", "lastProbeTime": None, "lastTransitionTime": None}]
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "lab-db-rootdisk", "namespace": "default"},
           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    twin.session().post(twin.url(PVCS), json=pvc).raise_for_status()
    start_vm(twin, "lab-db", {"domain": {"memory": {"guest": "1Gi"},
                                     "devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}]}},
                              "volumes": [{"name": "rootdisk", "persistentVolumeClaim": {"claimName": "lab-db-rootdisk"}}]})
    cond = wait_for(lambda: next((c for c in vmi(twin, "lab-db")["status"].get("conditions") or []
                                  if c["type"] == "LiveMigratable"), None), "LiveMigratable")
    assert (cond["status"], cond["reason"]) == ("False", "DisksNotLiveMigratable")
    assert cond["message"] == ("cannot migrate VMI: PVC lab-db-rootdisk is not shared, live migration requires that all PVCs "
                               "must be shared (using ReadWriteMany access mode)")
    assert act(twin, "ms02-3", "listUnhealthyVM").json() == [
        {"message": "The following VMs cannot be migrated due to DisksNotLiveMigratable condition", "vms": ["default/lab-db"]}]
    # the last started replica of lab-router's volume is on ms02-1
    for r in replicas(twin, ROUTER_VOLUME)[1:]:
        patch(twin, f"{LH}/replicas/{r['metadata']['name']}/status", {"status": {"started": False}})
    # lab-dns may only run on ms02-2
    patch(twin, f"{VMIS}/lab-dns", {"spec": {"nodeSelector": {"kubernetes.io/hostname": "ms02-2"}}})
    assert act(twin, "ms02-1", "listUnhealthyVM").json() == [
        {"message": "The following VMs cannot be migrated due to LastHealthyReplica condition", "vms": ["default/lab-router"]}]
    assert act(twin, "ms02-2", "listUnhealthyVM").json() == [
        {"message": "The following VMs cannot be migrated due to NodeSchedulingRequirementsNotMet condition",
         "vms": ["default/lab-dns"]}]


# ---------------------------------------------------------------------------------------- strategies
def test_shutdown_and_restart_after_enable(twin):
    label_vm(twin, "lab-router", "ShutdownAndRestartAfterEnable")
    states = States(twin, "ms02-1")
    assert act(twin, "ms02-1", "enableMaintenanceMode", {"force": "false"}).status_code == 204
    assert states.until("completed")[-1] == "completed"
    vm = wait_for(lambda: (v := get(twin, f"{VMS}/lab-router"))["spec"]["runStrategy"] != "Halted" and v, "lab-router started")
    assert vm["spec"]["runStrategy"] == "RerunOnFailure"  # the remembered strategy
    assert STRATEGY_NODE not in vm["metadata"].get("annotations", {})
    started = wait_for(lambda: (vmi(twin, "lab-router") or {}).get("status", {}).get("phase") == "Running"
                       and vmi(twin, "lab-router"), "lab-router running")
    assert started["status"]["nodeName"] != "ms02-1" and "migrationState" not in started["status"]  # a new VMI, elsewhere


def test_shutdown_and_restart_after_disable(twin):
    label_vm(twin, "lab-dns", "ShutdownAndRestartAfterDisable")
    states = States(twin, "ms02-2")
    assert act(twin, "ms02-2", "enableMaintenanceMode", {"force": "false"}).status_code == 204
    assert states.until("completed")[-1] == "completed"
    vm = get(twin, f"{VMS}/lab-dns")
    assert vm["spec"]["runStrategy"] == "Halted" and vm["metadata"]["annotations"][STRATEGY_NODE] == "ms02-2"
    assert vmi(twin, "lab-dns") is None
    assert act(twin, "ms02-2", "disableMaintenanceMode", {}).status_code == 204
    vm = get(twin, f"{VMS}/lab-dns")
    assert vm["spec"]["runStrategy"] == "RerunOnFailure" and STRATEGY_NODE not in vm["metadata"]["annotations"]
    wait_for(lambda: (vmi(twin, "lab-dns") or {}).get("status", {}).get("phase") == "Running", "lab-dns running")


def test_shutdown_stays_stopped(twin):
    label_vm(twin, "lab-router", "Shutdown")
    states = States(twin, "ms02-1")
    assert act(twin, "ms02-1", "enableMaintenanceMode", {"force": "false"}).status_code == 204
    assert states.until("completed")[-1] == "completed"
    assert act(twin, "ms02-1", "disableMaintenanceMode", {}).status_code == 204
    vm = get(twin, f"{VMS}/lab-router")
    assert vm["spec"]["runStrategy"] == "Halted" and STRATEGY_NODE not in (vm["metadata"].get("annotations") or {})
