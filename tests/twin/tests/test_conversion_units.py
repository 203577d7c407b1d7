"""Unit checks of conversion.py / conversion_capi.py: the pure functions, no twin process."""
from __future__ import annotations

import json

import pytest

from tests.twin import conversion
from tests.twin.conversion_capi import ANNOTATION, duration_to_seconds
from tests.twin.goformat import go_duration
from tests.twin.registry import Registry


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.default()


def kind(registry, group, name):
    return registry.by_kind(group, name)


def v1beta1_cluster(**spec_extra) -> dict:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
            "metadata": {"name": "demo", "namespace": "capi-demo"},
            "spec": {"controlPlaneRef": {"apiVersion": "controlplane.cluster.x-k8s.io/v1alpha3",
                                         "kind": "TalosControlPlane", "name": "demo-cp"},
                     "infrastructureRef": {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                                           "kind": "HarvesterCluster", "name": "demo-hv"},
                     **spec_extra}}


@pytest.mark.parametrize("text,seconds", [("10m", 600), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400),
                                          ("0", 0), ("2500ms", 2), ("10m0s", 600)])
def test_go_durations_become_whole_seconds(text, seconds):
    assert duration_to_seconds(text) == seconds


@pytest.mark.parametrize("text", ["10", "ten minutes", "", "1d"])
def test_unparsable_durations_are_refused(text):
    assert duration_to_seconds(text) is None


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (45, "45s"), (600, "10m0s"), (3600, "1h0m0s"), (3661, "1h1m1s")])
def test_seconds_print_like_go_durations(seconds, text):
    assert go_duration(seconds) == text


def test_kinds_without_converter_only_change_api_version(registry):
    vm = kind(registry, "kubevirt.io", "VirtualMachine")
    obj = {"apiVersion": "kubevirt.io/v1alpha3", "kind": "VirtualMachine", "metadata": {"name": "a"}, "spec": {"running": True}}
    stored = conversion.to_storage(vm, "v1alpha3", obj, registry)
    assert stored == {**obj, "apiVersion": "kubevirt.io/v1"}
    assert conversion.from_storage(vm, "v1alpha3", dict(stored), registry)["apiVersion"] == "kubevirt.io/v1alpha3"


def test_cluster_refs_lose_version_and_namespace_going_up(registry):
    stored = conversion.to_storage(kind(registry, "cluster.x-k8s.io", "Cluster"), "v1beta1", v1beta1_cluster(), registry)
    assert stored["apiVersion"] == "cluster.x-k8s.io/v1beta2"
    assert stored["spec"]["controlPlaneRef"] == {"apiGroup": "controlplane.cluster.x-k8s.io", "kind": "TalosControlPlane",
                                                 "name": "demo-cp"}
    # nothing v1beta2 cannot re-derive: no conversion-data annotation
    assert "annotations" not in stored["metadata"]


def test_cluster_refs_come_back_with_the_registry_version_and_object_namespace(registry):
    cluster = kind(registry, "cluster.x-k8s.io", "Cluster")
    stored = conversion.to_storage(cluster, "v1beta1", v1beta1_cluster(), registry)
    back = conversion.from_storage(cluster, "v1beta1", stored, registry)
    assert back["spec"]["controlPlaneRef"] == {"apiVersion": "controlplane.cluster.x-k8s.io/v1alpha3",
                                               "kind": "TalosControlPlane", "name": "demo-cp", "namespace": "capi-demo"}
    assert back["spec"]["infrastructureRef"]["apiVersion"] == "infrastructure.cluster.x-k8s.io/v1beta1"


def test_ref_parts_v1beta2_cannot_hold_ride_in_the_annotation(registry):
    cluster = kind(registry, "cluster.x-k8s.io", "Cluster")
    obj = v1beta1_cluster()
    obj["spec"]["infrastructureRef"].update(apiVersion="infrastructure.cluster.x-k8s.io/v1alpha1", uid="1234")
    stored = conversion.to_storage(cluster, "v1beta1", obj, registry)
    kept = json.loads(stored["metadata"]["annotations"][ANNOTATION])
    assert kept == {"spec.infrastructureRef": obj["spec"]["infrastructureRef"]}
    back = conversion.from_storage(cluster, "v1beta1", stored, registry)
    assert back["spec"]["infrastructureRef"]["apiVersion"] == "infrastructure.cluster.x-k8s.io/v1alpha1"
    assert back["spec"]["infrastructureRef"]["uid"] == "1234"
    assert "annotations" not in back["metadata"]  # a v1beta1 reader does not see the annotation


def test_a_remembered_ref_is_not_restored_onto_a_different_ref(registry):
    cluster = kind(registry, "cluster.x-k8s.io", "Cluster")
    obj = v1beta1_cluster()
    obj["spec"]["infrastructureRef"]["uid"] = "1234"
    stored = conversion.to_storage(cluster, "v1beta1", obj, registry)
    stored["spec"]["infrastructureRef"]["name"] = "other-hv"  # changed later by a v1beta2 client
    back = conversion.from_storage(cluster, "v1beta1", stored, registry)
    assert back["spec"]["infrastructureRef"] == {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                                                 "kind": "HarvesterCluster", "name": "other-hv", "namespace": "capi-demo"}


def test_cluster_status_moves_between_the_versions(registry):
    cluster = kind(registry, "cluster.x-k8s.io", "Cluster")
    new_cond = {"type": "Available", "status": "False", "reason": "NotAvailable", "message": "",
                "lastTransitionTime": "2026-01-01T00:00:00Z"}
    old_cond = {"type": "Ready", "status": "False", "severity": "Info", "reason": "WaitingForControlPlane",
                "lastTransitionTime": "2026-01-01T00:00:00Z"}
    stored = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "metadata": {"name": "demo", "namespace": "d"},
              "spec": {}, "status": {
                  "phase": "Provisioned", "conditions": [new_cond],
                  "initialization": {"infrastructureProvisioned": True, "controlPlaneInitialized": False},
                  "controlPlane": {"desiredReplicas": 1}, "workers": {"replicas": 2},
                  "deprecated": {"v1beta1": {"conditions": [old_cond]}},
                  "failureDomains": [{"name": "zone-a", "controlPlane": True}]}}
    old = conversion.from_storage(cluster, "v1beta1", stored, registry)
    assert old["status"] == {"phase": "Provisioned", "infrastructureReady": True, "controlPlaneReady": False,
                             "conditions": [old_cond],
                             "v1beta2": {"conditions": [new_cond], "controlPlane": {"desiredReplicas": 1},
                                         "workers": {"replicas": 2}},
                             "failureDomains": {"zone-a": {"controlPlane": True}}}
    again = conversion.to_storage(cluster, "v1beta1", old, registry)
    assert again["status"] == {**stored["status"], "initialization": {"infrastructureProvisioned": True,
                                                                      "controlPlaneInitialized": False}}


def test_paused_false_reads_back_in_v1beta1_as_absent(registry):
    cluster = kind(registry, "cluster.x-k8s.io", "Cluster")
    stored = conversion.to_storage(cluster, "v1beta1", v1beta1_cluster(paused=False), registry)
    assert stored["spec"]["paused"] is False
    assert "paused" not in conversion.from_storage(cluster, "v1beta1", stored, registry)["spec"]
    stored["spec"]["paused"] = True
    assert conversion.from_storage(cluster, "v1beta1", stored, registry)["spec"]["paused"] is True


def v1beta1_md() -> dict:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "MachineDeployment",
            "metadata": {"name": "workers", "namespace": "d"},
            "spec": {"clusterName": "demo", "replicas": 2, "minReadySeconds": 5, "progressDeadlineSeconds": 600,
                     "revisionHistoryLimit": 1, "rolloutAfter": "2026-01-01T00:00:00Z",
                     "machineNamingStrategy": {"template": "{{ .machineSet.name }}-{{ .random }}"},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0, "deletePolicy": "Oldest"},
                                  "remediation": {"maxInFlight": 1}},
                     "selector": {"matchLabels": {"pool": "w"}},
                     "template": {"metadata": {"labels": {"pool": "w"}},
                                  "spec": {"clusterName": "demo", "version": "v1.33.4", "nodeDrainTimeout": "10m",
                                           "bootstrap": {"configRef": {"apiVersion": "bootstrap.cluster.x-k8s.io/v1alpha3",
                                                                       "kind": "TalosConfigTemplate", "name": "w"}},
                                           "infrastructureRef": {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                                                                 "kind": "HarvesterMachineTemplate", "name": "w"}}}},
            "status": {"replicas": 2, "readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1,
                       "unavailableReplicas": 1, "phase": "ScalingUp",
                       "v1beta2": {"readyReplicas": 2, "upToDateReplicas": 2}}}


def test_machinedeployment_renames_go_up(registry):
    stored = conversion.to_storage(kind(registry, "cluster.x-k8s.io", "MachineDeployment"), "v1beta1", v1beta1_md(), registry)
    spec = stored["spec"]
    assert spec["rollout"] == {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}},
                               "after": "2026-01-01T00:00:00Z"}
    assert spec["deletion"] == {"order": "Oldest"}
    assert spec["remediation"] == {"maxInFlight": 1}
    assert spec["machineNaming"] == {"template": "{{ .machineSet.name }}-{{ .random }}"}
    assert spec["template"]["spec"]["minReadySeconds"] == 5
    assert spec["template"]["spec"]["deletion"] == {"nodeDrainTimeoutSeconds": 600}
    assert spec["template"]["spec"]["bootstrap"]["configRef"] == {"apiGroup": "bootstrap.cluster.x-k8s.io",
                                                                  "kind": "TalosConfigTemplate", "name": "w"}
    for gone in ("strategy", "rolloutAfter", "minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit",
                 "machineNamingStrategy"):
        assert gone not in spec
    assert json.loads(stored["metadata"]["annotations"][ANNOTATION]) == {"spec.progressDeadlineSeconds": 600,
                                                                          "spec.revisionHistoryLimit": 1}
    assert stored["status"] == {"replicas": 2, "phase": "ScalingUp", "readyReplicas": 2, "upToDateReplicas": 2,
                                "deprecated": {"v1beta1": {"readyReplicas": 1, "updatedReplicas": 2,
                                                           "availableReplicas": 1, "unavailableReplicas": 1}}}


def test_machinedeployment_round_trip_keeps_every_v1beta1_field(registry):
    md = kind(registry, "cluster.x-k8s.io", "MachineDeployment")
    original = v1beta1_md()
    back = conversion.from_storage(md, "v1beta1", conversion.to_storage(md, "v1beta1", original, registry), registry)
    expected = json.loads(json.dumps(original))
    expected["spec"]["template"]["spec"]["nodeDrainTimeout"] = "10m0s"  # printed the Go way, as CAPI does
    for ref in (expected["spec"]["template"]["spec"]["bootstrap"]["configRef"],
                expected["spec"]["template"]["spec"]["infrastructureRef"]):
        ref["namespace"] = "d"
    assert back == expected


def test_machine_status_initialization_and_node_ref(registry):
    machine = kind(registry, "cluster.x-k8s.io", "Machine")
    stored = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Machine", "metadata": {"name": "m", "namespace": "d"},
              "spec": {"clusterName": "demo", "minReadySeconds": 3,
                       "bootstrap": {"configRef": {"apiGroup": "bootstrap.cluster.x-k8s.io", "kind": "TalosConfig", "name": "m"}},
                       "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "HarvesterMachine", "name": "m"},
                       "deletion": {"nodeDeletionTimeoutSeconds": 10}},
              "status": {"initialization": {"bootstrapDataSecretCreated": True}, "nodeRef": {"name": "node-1"},
                         "phase": "Running"}}
    old = conversion.from_storage(machine, "v1beta1", stored, registry)
    assert old["status"] == {"bootstrapReady": True, "infrastructureReady": False, "phase": "Running",
                             "nodeRef": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}}
    assert old["spec"]["nodeDeletionTimeout"] == "10s"
    assert old["spec"]["bootstrap"]["configRef"]["apiVersion"] == "bootstrap.cluster.x-k8s.io/v1alpha3"
    assert "minReadySeconds" not in old["spec"] and "deletion" not in old["spec"]
    again = conversion.to_storage(machine, "v1beta1", old, registry)
    assert again["status"]["initialization"] == {"bootstrapDataSecretCreated": True, "infrastructureProvisioned": False}
    assert again["status"]["nodeRef"] == {"name": "node-1"}
