"""Cluster API objects are served in v1beta1 and v1beta2 and converted between them, as CAPI 1.12's
conversion webhook does (v1beta2 is the storage version); plus the ClusterResourceSet kind.
Everything goes over HTTPS through requests and kubectl."""
from __future__ import annotations

import json

import yaml

from .conftest import status_of, wait_for

NS = "default"
V1 = f"/apis/cluster.x-k8s.io/v1beta1/namespaces/{NS}"
V2 = f"/apis/cluster.x-k8s.io/v1beta2/namespaces/{NS}"
CRS_V1 = f"/apis/addons.cluster.x-k8s.io/v1beta1/namespaces/{NS}/clusterresourcesets"
CRS_V2 = f"/apis/addons.cluster.x-k8s.io/v1beta2/namespaces/{NS}/clusterresourcesets"
MERGE = {"Content-Type": "application/merge-patch+json"}
ANNOTATION = "cluster.x-k8s.io/conversion-data"
TCP_REF_V1 = {"apiVersion": "controlplane.cluster.x-k8s.io/v1alpha3", "kind": "TalosControlPlane", "name": "demo-cp"}
HC_REF_V1 = {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1", "kind": "HarvesterCluster", "name": "demo-hv"}
TCP_REF_V2 = {"apiGroup": "controlplane.cluster.x-k8s.io", "kind": "TalosControlPlane", "name": "demo-cp"}
HC_REF_V2 = {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "HarvesterCluster", "name": "demo-hv"}


def cluster_v1beta1(name="demo", **spec) -> dict:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": name},
            "spec": {"paused": False, "clusterNetwork": {"pods": {"cidrBlocks": ["10.244.0.0/16"]}},
                     "controlPlaneRef": dict(TCP_REF_V1), "infrastructureRef": dict(HC_REF_V1), **spec}}


def cluster_v1beta2(name="demo") -> dict:
    return {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "metadata": {"name": name},
            "spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["10.244.0.0/16"]}},
                     "controlPlaneRef": dict(TCP_REF_V2), "infrastructureRef": dict(HC_REF_V2)}}


def md_v1beta1(name="workers") -> dict:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "MachineDeployment", "metadata": {"name": name},
            "spec": {"clusterName": "demo", "replicas": 2, "progressDeadlineSeconds": 600,
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0, "deletePolicy": "Oldest"}},
                     "selector": {"matchLabels": {"cluster.x-k8s.io/cluster-name": "demo", "pool": name}},
                     "template": {"metadata": {"labels": {"cluster.x-k8s.io/cluster-name": "demo", "pool": name}},
                                  "spec": {"clusterName": "demo", "version": "v1.33.4",
                                           "bootstrap": {"configRef": {"apiVersion": "bootstrap.cluster.x-k8s.io/v1alpha3",
                                                                       "kind": "TalosConfigTemplate", "name": name}},
                                           "infrastructureRef": {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                                                                 "kind": "HarvesterMachineTemplate", "name": name}}}}}


def created(s, twin, path, body) -> dict:
    r = s.post(twin.url(path), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _condition(obj: dict, type_: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)


def get(s, twin, path) -> dict:
    r = s.get(twin.url(path))
    assert r.status_code == 200, r.text
    return r.json()


# ------------------------------------------------------------------ Cluster: refs and paused
def test_cluster_created_in_v1beta1_reads_in_v1beta2_with_api_group_refs(twin):
    s = twin.session()
    body = created(s, twin, f"{V1}/clusters", cluster_v1beta1())
    assert body["apiVersion"] == "cluster.x-k8s.io/v1beta1"
    new = get(s, twin, f"{V2}/clusters/demo")
    assert new["apiVersion"] == "cluster.x-k8s.io/v1beta2"
    assert new["spec"]["controlPlaneRef"] == TCP_REF_V2
    assert new["spec"]["infrastructureRef"] == HC_REF_V2
    assert new["spec"]["paused"] is False  # *bool in v1beta2: the explicit false is kept
    assert ANNOTATION not in (new["metadata"].get("annotations") or {})


def test_cluster_created_in_v1beta1_reads_back_in_v1beta1_with_refs_rederived(twin):
    s = twin.session()
    created(s, twin, f"{V1}/clusters", cluster_v1beta1())
    old = get(s, twin, f"{V1}/clusters/demo")
    assert old["apiVersion"] == "cluster.x-k8s.io/v1beta1"
    assert old["spec"]["controlPlaneRef"] == {**TCP_REF_V1, "namespace": NS}
    assert old["spec"]["infrastructureRef"] == {**HC_REF_V1, "namespace": NS}
    assert "paused" not in old["spec"]  # v1beta1 paused is a bool with omitempty
    # plain bools in v1beta1, always present; nothing provisions the missing infrastructure here
    assert old["status"]["infrastructureReady"] is False and old["status"]["controlPlaneReady"] is False
    assert "initialization" not in old["status"]


def test_cluster_created_in_v1beta2_reads_in_v1beta1(twin):
    s = twin.session()
    created(s, twin, f"{V2}/clusters", cluster_v1beta2())
    old = get(s, twin, f"{V1}/clusters/demo")
    # the version of each ref is the twin's storage version of the referenced kind
    assert old["spec"]["controlPlaneRef"] == {**TCP_REF_V1, "namespace": NS}
    assert old["spec"]["infrastructureRef"] == {**HC_REF_V1, "namespace": NS}
    assert "apiGroup" not in old["spec"]["controlPlaneRef"]


def test_kubectl_gets_the_v1beta1_form(twin):
    created(twin.session(), twin, f"{V2}/clusters", cluster_v1beta2())
    out = twin.kubectl("get", "clusters.v1beta1.cluster.x-k8s.io", "demo", "-n", NS, "-o", "yaml").stdout
    doc = yaml.safe_load(out)
    assert doc["apiVersion"] == "cluster.x-k8s.io/v1beta1"
    assert doc["spec"]["infrastructureRef"] == {**HC_REF_V1, "namespace": NS}
    default = yaml.safe_load(twin.kubectl("get", "clusters.cluster.x-k8s.io", "demo", "-n", NS, "-o", "yaml").stdout)
    assert default["apiVersion"] == "cluster.x-k8s.io/v1beta2"  # the preferred version
    assert default["spec"]["infrastructureRef"] == HC_REF_V2


def test_list_and_watch_in_v1beta1_return_converted_objects(twin):
    s = twin.session()
    created(s, twin, f"{V2}/clusters", cluster_v1beta2())
    listed = get(s, twin, f"{V1}/clusters")
    assert listed["apiVersion"] == "cluster.x-k8s.io/v1beta1"
    item = next(i for i in listed["items"] if i["metadata"]["name"] == "demo")
    assert item["apiVersion"] == "cluster.x-k8s.io/v1beta1"
    assert item["spec"]["controlPlaneRef"] == {**TCP_REF_V1, "namespace": NS}
    watch = s.get(twin.url(f"{V1}/clusters"), params={"watch": "1", "resourceVersion": listed["metadata"]["resourceVersion"],
                                                     "timeoutSeconds": "10"}, stream=True)
    events = []
    try:
        r = twin.session().patch(twin.url(f"{V2}/clusters/demo"), headers=MERGE, data=json.dumps({"spec": {"paused": True}}))
        assert r.status_code == 200, r.text
        for line in watch.iter_lines():  # the CAPI controller's status writes come as events too
            events.append(json.loads(line))
            if events[-1]["object"]["spec"].get("paused"):
                break
    finally:
        watch.close()
    assert events and all(e["object"]["apiVersion"] == "cluster.x-k8s.io/v1beta1" for e in events), events
    event = events[-1]
    assert event["type"] == "MODIFIED"
    assert event["object"]["spec"]["paused"] is True
    assert event["object"]["spec"]["infrastructureRef"] == {**HC_REF_V1, "namespace": NS}


def test_merge_patch_through_v1beta1_sets_paused(twin):
    s = twin.session()
    created(s, twin, f"{V1}/clusters", cluster_v1beta1())
    r = s.patch(twin.url(f"{V1}/clusters/demo"), headers=MERGE, data=json.dumps({"spec": {"paused": True}}))
    assert r.status_code == 200, r.text
    assert r.json()["apiVersion"] == "cluster.x-k8s.io/v1beta1" and r.json()["spec"]["paused"] is True
    new = get(s, twin, f"{V2}/clusters/demo")
    assert new["spec"]["paused"] is True
    assert new["spec"]["controlPlaneRef"] == TCP_REF_V2  # the rest was converted back, not lost
    assert new["metadata"]["generation"] == 2
    r = s.patch(twin.url(f"{V1}/clusters/demo"), headers=MERGE, data=json.dumps({"spec": {"paused": False}}))
    assert r.status_code == 200, r.text
    assert get(s, twin, f"{V2}/clusters/demo")["spec"]["paused"] is False


def test_a_v1beta1_put_of_what_was_read_changes_nothing(twin):
    s = twin.session()
    body = cluster_v1beta2()
    body["spec"]["paused"] = True  # so the CAPI controller settles on the Paused condition and stops writing
    created(s, twin, f"{V2}/clusters", body)
    wait_for(lambda: _condition(get(s, twin, f"{V2}/clusters/demo"), "Paused"), "the Paused condition")
    old = get(s, twin, f"{V1}/clusters/demo")
    r = s.put(twin.url(f"{V1}/clusters/demo"), json=old)
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"]


def test_a_v1beta1_body_is_validated_against_the_v1beta1_schema(twin):
    s = twin.session()
    bad = cluster_v1beta1()
    bad["spec"]["controlPlaneRef"]["apiVersion"] = 5
    r = s.post(twin.url(f"{V1}/clusters"), json=bad)
    assert r.status_code == 422, r.text
    causes = status_of(r)["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.controlPlaneRef.apiVersion"]
    # unknown fields are pruned with the warning naming the v1beta1 path
    odd = cluster_v1beta1()
    odd["spec"]["controlPlaneRef"]["colour"] = "blue"
    r = s.post(twin.url(f"{V1}/clusters"), json=odd)
    assert r.status_code == 201, r.text
    assert 'unknown field \\"spec.controlPlaneRef.colour\\"' in r.headers.get("Warning", ""), r.headers


# ------------------------------------------------------------------ status through the versions
def test_status_written_in_v1beta2_shows_up_in_v1beta1(twin):
    s = twin.session()
    body = cluster_v1beta2()
    body["spec"]["paused"] = True  # the CAPI controller then only keeps its Paused condition
    created(s, twin, f"{V2}/clusters", body)
    available = {"type": "Available", "status": "False", "reason": "NotAvailable", "message": "waiting",
                 "lastTransitionTime": "2026-01-01T00:00:00Z"}
    legacy = {"type": "Ready", "status": "False", "severity": "Info", "reason": "WaitingForControlPlane",
              "lastTransitionTime": "2026-01-01T00:00:00Z"}
    written = {"phase": "Provisioned", "conditions": [available],
               "initialization": {"infrastructureProvisioned": True, "controlPlaneInitialized": True},
               "controlPlane": {"desiredReplicas": 1, "replicas": 1},
               "deprecated": {"v1beta1": {"conditions": [legacy]}}}
    r = s.patch(twin.url(f"{V2}/clusters/demo/status"), headers=MERGE, data=json.dumps({"status": written}))
    assert r.status_code == 200, r.text
    status = get(s, twin, f"{V1}/clusters/demo")["status"]
    assert status["infrastructureReady"] is True and status["controlPlaneReady"] is True
    assert _condition({"status": status["v1beta2"]}, "Available") == available
    assert status["v1beta2"]["controlPlane"] == {"desiredReplicas": 1, "replicas": 1}
    assert [c for c in status["conditions"] if c["type"] == "Ready"] == [legacy]  # with its severity
    assert "initialization" not in status and "deprecated" not in status
    assert get(s, twin, f"{V1}/clusters/demo/status")["status"]["infrastructureReady"] is True


def test_status_patched_through_v1beta1_lands_in_v1beta2_initialization(twin):
    s = twin.session()
    created(s, twin, f"{V1}/clusters", cluster_v1beta1())
    r = s.patch(twin.url(f"{V1}/clusters/demo/status"), headers=MERGE,
                data=json.dumps({"status": {"infrastructureReady": True}}))
    assert r.status_code == 200, r.text
    assert r.json()["status"]["infrastructureReady"] is True
    new = get(s, twin, f"{V2}/clusters/demo")
    assert new["status"]["initialization"] == {"infrastructureProvisioned": True, "controlPlaneInitialized": False}
    assert new["spec"]["paused"] is False  # a /status write leaves the spec alone


# ------------------------------------------------------------------ MachineDeployment
def test_machinedeployment_strategy_becomes_rollout_strategy(twin):
    s = twin.session()
    created(s, twin, f"{V1}/machinedeployments", md_v1beta1())
    spec = get(s, twin, f"{V2}/machinedeployments/workers")["spec"]
    assert spec["rollout"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}}
    assert spec["deletion"] == {"order": "Oldest"}
    assert "strategy" not in spec and "progressDeadlineSeconds" not in spec
    assert spec["template"]["spec"]["infrastructureRef"] == {"apiGroup": "infrastructure.cluster.x-k8s.io",
                                                             "kind": "HarvesterMachineTemplate", "name": "workers"}


def test_machinedeployment_rollout_strategy_reads_as_strategy_in_v1beta1(twin):
    s = twin.session()
    body = md_v1beta1("pool-b")
    created(s, twin, f"{V1}/machinedeployments", body)
    r = s.patch(twin.url(f"{V2}/machinedeployments/pool-b"), headers=MERGE,
                data=json.dumps({"spec": {"rollout": {"strategy": {"type": "OnDelete", "rollingUpdate": None}}}}))
    assert r.status_code == 200, r.text
    old = get(s, twin, f"{V1}/machinedeployments/pool-b")
    assert old["spec"]["strategy"] == {"type": "OnDelete", "rollingUpdate": {"deletePolicy": "Oldest"}}
    assert "rollout" not in old["spec"]


def test_round_trip_keeps_a_v1beta1_only_field(twin):
    s = twin.session()
    created(s, twin, f"{V1}/machinedeployments", md_v1beta1())
    new = get(s, twin, f"{V2}/machinedeployments/workers")
    assert json.loads(new["metadata"]["annotations"][ANNOTATION]) == {"spec.progressDeadlineSeconds": 600}
    old = get(s, twin, f"{V1}/machinedeployments/workers")
    assert old["spec"]["progressDeadlineSeconds"] == 600
    assert ANNOTATION not in (old["metadata"].get("annotations") or {})


def test_scale_through_v1beta1(twin):
    s = twin.session()
    created(s, twin, f"{V1}/machinedeployments", md_v1beta1())
    scale = get(s, twin, f"{V1}/machinedeployments/workers/scale")
    assert scale["apiVersion"] == "autoscaling/v1" and scale["spec"]["replicas"] == 2
    r = s.patch(twin.url(f"{V1}/machinedeployments/workers/scale"), headers=MERGE,
                data=json.dumps({"spec": {"replicas": 3}}))
    assert r.status_code == 200, r.text
    new = get(s, twin, f"{V2}/machinedeployments/workers")
    assert new["spec"]["replicas"] == 3
    assert new["spec"]["rollout"]["strategy"]["rollingUpdate"]["maxSurge"] == 2  # the rest survived the trip


# ------------------------------------------------------------------ ClusterResourceSet
def crs(api_version: str, **spec) -> dict:
    return {"apiVersion": f"addons.cluster.x-k8s.io/{api_version}", "kind": "ClusterResourceSet",
            "metadata": {"name": "cni"},
            "spec": {"clusterSelector": {"matchLabels": {"cni": "cilium"}},
                     "resources": [{"name": "cilium", "kind": "ConfigMap"}], **spec}}


def test_clusterresourceset_is_created_and_read_in_both_versions(twin):
    s = twin.session()
    body = created(s, twin, CRS_V2, crs("v1beta2", strategy="Reconcile"))
    assert body["spec"]["resources"] == [{"name": "cilium", "kind": "ConfigMap"}]
    old = get(s, twin, f"{CRS_V1}/cni")
    assert old["apiVersion"] == "addons.cluster.x-k8s.io/v1beta1"
    assert old["spec"] == body["spec"]
    names = twin.kubectl("get", "clusterresourcesets.addons.cluster.x-k8s.io", "-n", NS, "-o", "name").stdout.split()
    assert "clusterresourceset.addons.cluster.x-k8s.io/cni" in names


def test_clusterresourceset_refuses_a_kind_other_than_secret_or_configmap(twin):
    r = twin.session().post(twin.url(CRS_V2), json=crs("v1beta2", resources=[{"name": "x", "kind": "Deployment"}]))
    assert r.status_code == 422, r.text
    assert status_of(r)["message"] == (
        'ClusterResourceSet.addons.cluster.x-k8s.io "cni" is invalid: spec.resources[0].kind: '
        'Unsupported value: "Deployment": supported values: "Secret", "ConfigMap"')


def test_clusterresourceset_v1beta2_requires_resources_and_a_selector(twin):
    body = crs("v1beta2")
    del body["spec"]["resources"], body["spec"]["clusterSelector"]
    r = twin.session().post(twin.url(CRS_V2), json=body)
    assert r.status_code == 422, r.text
    fields = sorted(c["field"] for c in status_of(r)["details"]["causes"])
    assert fields == ["spec.clusterSelector", "spec.resources"]


def test_clusterresourceset_strategy_enum(twin):
    r = twin.session().post(twin.url(CRS_V1), json=crs("v1beta1", strategy="Always"))
    assert r.status_code == 422, r.text
    assert 'spec.strategy: Unsupported value: "Always": supported values: "ApplyOnce", "Reconcile"' in status_of(r)["message"]



def test_conversion_works_with_the_upstream_crds(upstream_twin):
    s = upstream_twin.session()
    created(s, upstream_twin, f"{V1}/clusters", cluster_v1beta1("upstream"))
    new = get(s, upstream_twin, f"{V2}/clusters/upstream")
    assert new["spec"]["infrastructureRef"] == HC_REF_V2
    old = get(s, upstream_twin, f"{V1}/clusters/upstream")
    assert old["spec"]["infrastructureRef"] == {**HC_REF_V1, "namespace": NS}
