# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/node_maintenance.py: the pure rules (maintenance state,
Harvester's control-plane rule, the last available node, Longhorn volumes at risk and rebuilt,
how VMIs left a node, the node and VM patches) and the flow against a scripted client: which
requests in which order, the silent drop, check mode, the waits and their timeouts."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import kinds
from ansible_collections.homelab.harvester.plugins.module_utils import node_maintenance as nm
from ansible_collections.homelab.harvester.plugins.module_utils.errors import ConnectionFailure, ServerError, WaitTimeout
from ansible_collections.homelab.harvester.plugins.module_utils.node import NodeNotFound
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError
from tests.unit.fake_client import NORMAL, FakeClient, Seq, resolve

CP = {"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/etcd": "true"}


def node(name, cp=True, maintain=None, drain=False, cordoned=False, taints=None):
    ann = {}
    if maintain:
        ann[nm.MAINTAIN_STATUS] = maintain
    if drain:
        ann[nm.DRAIN_REQUESTED] = "true"
    spec = {"unschedulable": True} if cordoned else {}
    if taints is not None:
        spec["taints"] = taints
    return {"metadata": {"name": name, "labels": dict(CP) if cp else {}, "annotations": ann, "resourceVersion": "7"},
            "spec": spec, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


HA = [node("n1"), node("n2"), node("n3")]


def replica(volume, on, healthy=True, failed=False):
    return {"metadata": {"name": f"{volume}-r-{on}", "labels": {}},
            "spec": {"volumeName": volume, "nodeID": on, "healthyAt": "t" if healthy else "", "failedAt": "t" if failed else ""}}


def lh_node(name, ready=True):
    return {"metadata": {"name": name}, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def volume(name, state="attached", robustness="healthy"):
    return {"metadata": {"name": name}, "status": {"state": state, "robustness": robustness}}


def vmi(name, on, ns="default"):
    return {"metadata": {"name": name, "namespace": ns, "labels": {nm.NODE_NAME_LABEL: on}}, "status": {"nodeName": on}}


# --- pure rules ----------------------------------------------------------------------------------
@pytest.mark.parametrize("obj, expected", [
    (node("n1"), None), (node("n1", drain=True), "requested"), (node("n1", maintain="running", drain=True), "running"),
    (node("n1", maintain="completed"), "completed")])
def test_state(obj, expected):
    assert nm.state(obj) == expected


def test_control_plane_rule():
    assert nm.control_plane_refusal(HA[0], HA) is None
    busy = [HA[0], node("n2", maintain="completed"), HA[2]]
    assert nm.control_plane_refusal(HA[0], busy) == (
        "another control-plane node is already in maintenance mode: n2 (completed); Harvester allows one control-plane "
        "node in maintenance at a time")
    assert "n3 (requested)" in nm.control_plane_refusal(HA[0], [HA[0], HA[1], node("n3", drain=True)])  # stricter than Harvester
    assert nm.control_plane_refusal(HA[0], [HA[0]]).startswith("single control-plane cluster")
    assert "exactly 3" in nm.control_plane_refusal(HA[0], HA[:2]) and "this cluster has 2" in nm.control_plane_refusal(HA[0], HA[:2])
    assert "this cluster has 4" in nm.control_plane_refusal(HA[0], [*HA, node("n4")])
    worker = node("w1", cp=False)
    assert nm.control_plane_refusal(worker, [*busy, worker]) is None


def test_last_available_node():
    assert nm.last_available(HA[0], HA) is False
    assert nm.last_available(HA[0], [HA[0], node("n2", cordoned=True), node("n3", maintain="completed")]) is True
    assert nm.last_available(HA[0], [HA[0]]) is True


def test_volumes_at_risk():
    replicas = [replica("a", "n1"), replica("a", "n2"),  # safe: healthy on n2
                replica("b", "n1"), replica("b", "n2", failed=True),  # the copy elsewhere failed
                replica("c", "n1"), replica("c", "n3"),  # n3's Longhorn node is not ready
                replica("d", "n2"), replica("d", "n3")]  # nothing on n1
    assert nm.volumes_at_risk("n1", replicas, [lh_node("n1"), lh_node("n2"), lh_node("n3", ready=False)]) == ["b", "c"]
    assert nm.volumes_on("n1", replicas) == ["a", "b", "c"]
    by_labels = {"metadata": {"name": "x", "labels": {"longhornvolume": "e", "longhornnode": "n1"}}, "spec": {}}
    assert nm.volumes_on("n1", [by_labels]) == ["e"]


def test_volume_states_and_rebuilt():
    volumes = [volume("a"), volume("b", robustness="degraded"), volume("c", state="detached", robustness="unknown")]
    states = nm.volume_states(["a", "b", "c", "gone"], volumes)
    assert states == {"a": "healthy", "b": "degraded", "c": "detached", "gone": "missing"}
    assert nm.rebuilt(states) is False
    assert nm.rebuilt({"a": "healthy", "c": "detached", "gone": "missing"}) is True
    assert nm.rebuilt({"a": "faulted"}) is False


def test_departures():
    before = nm.vmis_on("n1", [vmi("router", "n1"), vmi("dns", "n2"), vmi("db", "n1", ns="data")])
    assert sorted(before) == [("data", "db"), ("default", "router")]
    migrated, stopped = nm.departures("n1", before, [vmi("router", "n3"), vmi("dns", "n2")])
    assert migrated == [{"namespace": "default", "name": "router", "from_node": "n1", "to_node": "n3"}]
    assert stopped == ["data/db"]
    restarted = dict(vmi("router", "n2"), metadata={**vmi("router", "n2")["metadata"], "uid": "new"})
    assert nm.departures("n1", before, [restarted]) == ([], ["data/db", "default/router"])  # a new VMI elsewhere


def test_unhealthy_text():
    assert nm.unhealthy_text([{"message": "The following VMs cannot be migrated due to X condition", "vms": ["a/b", "a/c"]},
                              {"message": "Following unhealthy VMs will be impacted by the node drain:", "vms": ["d/e"]}]) == (
        "The following VMs cannot be migrated due to X condition: a/b, a/c; "
        "Following unhealthy VMs will be impacted by the node drain: d/e")


def test_disable_patch():
    other = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    drain = {"key": nm.DRAIN_TAINT, "value": "scheduling", "effect": "NoSchedule"}
    patch = nm.disable_patch(node("n1", maintain="completed", cordoned=True, taints=[other, drain]))
    assert patch == {"spec": {"unschedulable": False, "taints": [other]}, "metadata": {"annotations": {
        nm.DRAIN_REQUESTED: None, nm.DRAIN_FORCED: None, nm.MAINTAIN_STATUS: None}}}
    assert nm.disable_patch(node("n1", taints=[drain]))["spec"]["taints"] is None
    assert "taints" not in nm.disable_patch(node("n1", taints=[other]))["spec"]


def test_restart_patch():
    vm = {"metadata": {"name": "a", "resourceVersion": "5", "annotations": {nm.RUN_STRATEGY_ANNOTATION: "Always"}}}
    assert nm.restart_patch(vm) == {"metadata": {"annotations": {nm.STRATEGY_NODE_ANNOTATION: None}, "resourceVersion": "5"},
                                    "spec": {"runStrategy": "Always"}}
    assert nm.restart_patch({"metadata": {"name": "a"}})["spec"] == {"runStrategy": "RerunOnFailure"}


@pytest.mark.parametrize("params, option", [
    ({"name": "n1", "cordon": True, "force": True}, "force"),
    ({"name": "n1", "maintenance": False, "force": True}, "force"),
    ({"name": "N_1", "maintenance": True}, "name"),
    ({"name": "n1", "maintenance": True, "wait_timeout": -1}, "wait_timeout"),
])
def test_check(params, option):
    with pytest.raises(ValidationError) as e:
        nm.check(params)
    assert e.value.option == option


# --- the flow, against a scripted client ---------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def fake(nodes, reads=None, vmis=(), vmis_after=None, replicas=(), lh_nodes=(), volumes=(), vms=(), steve=True, answers=None,
         dry_run=False):
    """The objects stored by path; GETs of n1 answer ``reads`` in turn (the last one repeats); the
    VMI list answers ``vmis_after`` once a write was sent; Steve actions answer ``answers[action]``
    (an exception is raised; a ``Seq``: one per call); ``steve=False``: the Harvester API is not there."""
    objects = {kinds.NODE.path(None, n["metadata"]["name"]): n for n in nodes}
    for kind, objs in ((kinds.LONGHORN_REPLICA, replicas), (kinds.LONGHORN_NODE, lh_nodes), (kinds.LONGHORN_VOLUME, volumes)):
        objects.update({kind.path(kinds.LONGHORN_NAMESPACE, o["metadata"]["name"]): o for o in objs})
    for kind, objs in ((kinds.VIRTUAL_MACHINE, vms), (kinds.VMI, vmis)):
        objects.update({kind.path(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs})
    if steve:
        objects[STEVE_N1] = {"type": "node"}
    actions = dict(answers or {})
    replies = {("request", STEVE_N1): lambda client, call: resolve(actions.get(call.query["action"]), client, call)}
    if reads:
        replies[("get", kinds.NODE.path(None, "n1"))] = Seq(reads)
    if vmis_after is not None:
        replies[("list", kinds.VMI.path())] = lambda client, call: vmis_after if client.writes() else NORMAL
    return FakeClient(objects, dry_run=dry_run, answers=replies)


def writes(client):
    """Steve actions as (method, path, action), patches as (method, path)."""
    return [(c.method, c.path, c.query["action"]) if c.op == "request" else (c.method, c.path) for c in client.writes()]


def actions(client):
    return [(c.method, c.path, c.query["action"], c.body) for c in client.calls if c.op == "request"]


def posted(client):
    return [c.query["action"] for c in client.calls if c.op == "request" and c.method == "POST"]


def patches(client):
    return [c for c in client.calls if c.op == "merge_patch"]


STEVE_N1 = f"{nm.STEVE_NODES}/n1"


def run(client, warnings=None, **params):
    clock = Clock()
    args = {"name": "n1", "maintenance": None, "cordon": None, "force": False, "method": "auto", "wait": True,
            "wait_timeout": 60, **params}
    return nm.run(client, args, warn=(warnings if warnings is not None else []).append, clock=clock, sleep=clock.sleep)


def test_enable_through_steve():
    client = fake(HA, reads=[node("n1", drain=True), node("n1", maintain="running", cordoned=True),
                             node("n1", maintain="completed", cordoned=True)],
                  vmis=[vmi("router", "n1")], vmis_after=[vmi("router", "n3")],
                  replicas=[replica("a", "n1"), replica("a", "n2")], lh_nodes=[lh_node("n1"), lh_node("n2")],
                  answers={"listUnhealthyVM": []})
    result = run(client, maintenance=True)
    assert result["changed"] is True and result["method"] == "steve" and result["maintenance"] == "completed"
    assert result["migrated_vms"] == [{"namespace": "default", "name": "router", "from_node": "n1", "to_node": "n3"}]
    assert writes(client) == [("POST", STEVE_N1, "maintenancePossible"), ("POST", STEVE_N1, "listUnhealthyVM"),
                              ("POST", STEVE_N1, "enableMaintenanceMode")]
    assert ("POST", STEVE_N1, "enableMaintenanceMode", {"force": "false"}) in actions(client)
    assert [w["what"] for w in result["waited"]] == ["maintain-status running", "maintain-status completed"]
    assert result["diff"] == {"before": {"maintenance": None, "schedulable": True},
                              "after": {"maintenance": "completed", "schedulable": False}}


def test_enable_when_already_completed_reads_only():
    client = fake([node("n1", maintain="completed", cordoned=True), HA[1], HA[2]])
    result = run(client, maintenance=True)
    assert result["changed"] is False and result["method"] is None and writes(client) == []
    assert not any(c.path.startswith(nm.STEVE_NODES) for c in client.calls)


def test_a_maintenance_under_way_is_waited_for_not_asked_again():
    client = fake([node("n1", maintain="running", cordoned=True), HA[1], HA[2]],
                  reads=[node("n1", maintain="completed", cordoned=True)])
    result = run(client, maintenance=True)
    assert result["changed"] is False and result["maintenance"] == "completed" and writes(client) == []


@pytest.mark.parametrize("answers, message", [
    ({"maintenancePossible": ServerError(500, "InternalError", "another controlplane is already in maintenance mode")},
     "node n1: Harvester refuses maintenance mode: another controlplane is already in maintenance mode; nothing was changed"),
    ({"listUnhealthyVM": [{"message": "The following VMs cannot be migrated due to X condition", "vms": ["default/a"]}]},
     "node n1: The following VMs cannot be migrated due to X condition: default/a (Harvester's listUnhealthyVM); "
     "force=true shuts them down; nothing was changed"),
])
def test_harvester_checks_refuse_before_the_action(answers, message):
    client = fake(HA, answers=answers)
    with pytest.raises(nm.MaintenanceRefused) as e:
        run(client, maintenance=True)
    assert str(e.value) == message
    assert "enableMaintenanceMode" not in posted(client)


def test_force_goes_on_with_a_warning_and_reports_harvesters_list():
    unhealthy = [{"message": "The following VMs cannot be migrated due to X condition", "vms": ["default/a"]}]
    client = fake(HA, reads=[node("n1", maintain="completed")], vmis=[vmi("a", "n1")], vmis_after=[],
                  answers={"listUnhealthyVM": unhealthy})
    warnings = []
    result = run(client, warnings=warnings, maintenance=True, force=True)
    assert result["stopped_vms"] == ["default/a"] and result["non_migratable"] == unhealthy
    assert ("POST", STEVE_N1, "enableMaintenanceMode", {"force": "true"}) in actions(client)
    assert warnings == ["node n1: force=true shuts down the VMs that cannot be migrated: "
                        "The following VMs cannot be migrated due to X condition: default/a"]


@pytest.mark.parametrize("nodes, fragment", [
    ([HA[0], node("n2", maintain="running"), HA[2]], "another control-plane node is already in maintenance mode: n2 (running)"),
    ([HA[0], node("n2", cp=False, cordoned=True), node("n3", cp=False, cordoned=True)], "it is the last available node"),
])
def test_local_refusals_make_no_request_to_harvester(nodes, fragment):
    if fragment.startswith("it is"):
        nodes = [node("n1", cp=False), *nodes[1:]]
    client = fake(nodes)
    with pytest.raises(nm.MaintenanceRefused) as e:
        run(client, maintenance=True)
    assert fragment in str(e.value) and writes(client) == []
    assert not any(c.path.startswith(nm.STEVE_NODES) for c in client.calls)


def test_a_volume_without_a_healthy_copy_elsewhere_is_named():
    client = fake(HA, replicas=[replica("pvc-a", "n1"), replica("pvc-a", "n2", failed=True)],
                  lh_nodes=[lh_node("n1"), lh_node("n2")])
    with pytest.raises(nm.MaintenanceRefused) as e:
        run(client, maintenance=True)
    assert e.value.volumes == ["pvc-a"] and "Longhorn volume pvc-a has no healthy replica on another node" in str(e.value)
    assert e.value.as_dict() == {"node": "n1", "volumes": ["pvc-a"]}
    assert writes(client) == []


def test_the_silent_drop_through_the_annotation():
    client = fake(HA, reads=[node("n1", drain=True), node("n1")], steve=False)
    with pytest.raises(nm.MaintenanceDropped) as e:
        run(client, maintenance=True)
    assert "Harvester dropped the maintenance request" in str(e.value)
    assert writes(client) == [("PATCH", kinds.NODE.path(None, "n1"))]
    assert patches(client)[0].body == {
        "metadata": {"annotations": {nm.DRAIN_REQUESTED: "true"}}}


def test_method_steve_without_steve_fails_before_any_write():
    client = fake(HA, steve=False)
    with pytest.raises(Exception) as e:
        run(client, maintenance=True, method="steve")
    assert "method=steve: the Harvester API does not answer at https://harvester.example/v1/harvester/nodes/n1" in str(e.value)
    assert writes(client) == []


def test_a_request_that_never_completes_times_out_with_the_last_state():
    client = fake(HA, reads=[node("n1", drain=True, cordoned=True)], answers={"listUnhealthyVM": []})
    with pytest.raises(WaitTimeout) as e:
        run(client, maintenance=True, wait_timeout=30)
    assert e.value.last_seen == "maintenance requested, cordoned"


def test_check_mode_with_steve_predicts_without_the_action():
    client = fake(HA, answers={"listUnhealthyVM": []}, dry_run=True)
    result = run(client, maintenance=True)  # check mode is the client's
    assert result["changed"] is True and result["maintenance"] == "completed"
    assert posted(client) == ["maintenancePossible", "listUnhealthyVM"]


def test_disable_through_the_annotation_restarts_vms_and_waits_for_longhorn():
    maintained = node("n1", maintain="completed", cordoned=True, taints=[{"key": nm.DRAIN_TAINT, "effect": "NoSchedule"}])
    stopped = {"metadata": {"name": "db", "namespace": "data", "resourceVersion": "3",
                            "labels": {nm.STRATEGY_LABEL: nm.RESTART_AFTER_DISABLE}, "annotations": {nm.STRATEGY_NODE_ANNOTATION: "n1"}}}
    elsewhere = {"metadata": {"name": "web", "namespace": "data", "labels": {nm.STRATEGY_LABEL: nm.RESTART_AFTER_DISABLE},
                              "annotations": {nm.STRATEGY_NODE_ANNOTATION: "n2"}}}
    client = fake([maintained, HA[1], HA[2]], reads=[maintained, node("n1")], steve=False, vms=[stopped, elsewhere],
                  replicas=[replica("a", "n1", failed=True), replica("a", "n2"), replica("b", "n2")],
                  volumes=[volume("a"), volume("b", robustness="degraded")])
    result = run(client, maintenance=False)
    assert result["changed"] is True and result["restarted_vms"] == ["data/db"] and result["volumes"] == {"a": "healthy"}
    assert writes(client) == [("PATCH", kinds.NODE.path(None, "n1")),
                              ("PATCH", kinds.VIRTUAL_MACHINE.path("data", "db"))]
    node_patch = patches(client)[0].body
    assert node_patch["spec"] == {"unschedulable": False, "taints": None} and node_patch["metadata"]["resourceVersion"] == "7"
    assert result["diff"]["after"] == {"maintenance": None, "schedulable": True}


def test_disable_times_out_naming_the_volumes_still_degraded():
    maintained = node("n1", maintain="completed", cordoned=True)
    client = fake([maintained, HA[1], HA[2]], reads=[node("n1")],
                  replicas=[replica("a", "n1"), replica("b", "n1")], volumes=[volume("a", robustness="degraded"), volume("b")])
    with pytest.raises(WaitTimeout) as e:
        run(client, maintenance=False, wait_timeout=20)
    assert e.value.last_seen == "still not healthy: a (degraded)"
    assert writes(client) == [("POST", STEVE_N1, "disableMaintenanceMode")]


def test_disable_of_a_node_out_of_maintenance_writes_nothing():
    client = fake([node("n1", cordoned=True), HA[1], HA[2]])
    result = run(client, maintenance=False)
    assert result["changed"] is False and writes(client) == []


def test_cordon():
    client = fake(HA)
    assert run(client, cordon=True)["changed"] is True
    assert writes(client) == [("POST", STEVE_N1, "cordon")]
    client = fake([node("n1", cordoned=True), HA[1], HA[2]], steve=False)
    result = run(client, cordon=False)
    assert result["changed"] is True and writes(client) == [("PATCH", kinds.NODE.path(None, "n1"))]
    client = fake([node("n1", cordoned=True), HA[1], HA[2]])
    assert run(client, cordon=True)["changed"] is False and writes(client) == []
    client = fake([node("n1", maintain="completed", cordoned=True), HA[1], HA[2]])
    with pytest.raises(nm.MaintenanceRefused):
        run(client, cordon=False)


def test_unknown_node():
    with pytest.raises(NodeNotFound):
        run(fake(HA), name="n9", maintenance=True)


def enabled_flow(answers, reads):
    return fake(HA, reads=reads, vmis=[vmi("router", "n1")], vmis_after=[vmi("router", "n3")], answers=answers)


def test_a_transient_503_on_a_node_action_is_tried_again():
    unavailable = ServerError(503, "ServiceUnavailable", "apiserver restarting", path="/v1/harvester/nodes/n1", method="POST")
    client = enabled_flow({"listUnhealthyVM": Seq([unavailable, []]), "enableMaintenanceMode": Seq([unavailable, None])},
                          [node("n1"), node("n1", maintain="completed", cordoned=True)])
    result = run(client, maintenance=True)
    assert result["changed"] and result["maintenance"] == "completed"
    posts = posted(client)
    assert posts == ["maintenancePossible", "listUnhealthyVM", "listUnhealthyVM", "enableMaintenanceMode",
                     "enableMaintenanceMode"]


def test_a_lost_answer_whose_action_took_effect_is_not_sent_again():
    lost = ConnectionFailure("connection lost", cause="reset", sent=True)
    client = enabled_flow({"listUnhealthyVM": [], "enableMaintenanceMode": Seq([lost, None])},
                          [node("n1", drain=True), node("n1", maintain="completed", cordoned=True)])
    result = run(client, maintenance=True)
    assert result["changed"] and result["maintenance"] == "completed"
    assert posted(client).count("enableMaintenanceMode") == 1


def test_steves_own_refusals_answered_as_500_are_not_tried_again():
    refused = ServerError(500, "InternalError", "another node is in maintenance", path="/v1/harvester/nodes/n1",
                          method="POST")
    client = enabled_flow({"listUnhealthyVM": [], "enableMaintenanceMode": refused}, [node("n1")])
    with pytest.raises(ServerError):
        run(client, maintenance=True)
    assert posted(client).count("enableMaintenanceMode") == 1


def test_the_drain_request_annotation_is_repeated_safely_after_a_lost_answer():
    client = fake(HA, reads=[node("n1", drain=True), node("n1", maintain="completed", cordoned=True)], steve=False)
    run(client, maintenance=True)
    (patch,) = patches(client)
    assert patch.body == {"metadata": {"annotations": {nm.DRAIN_REQUESTED: "true"}}} and patch.options["retry"] is True
