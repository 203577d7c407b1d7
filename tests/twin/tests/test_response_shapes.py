"""The shapes of kube-apiserver's answers that clients read: what DELETE answers, POST to an
item path, a body without apiVersion/kind, and Go's encoding of the built-in kinds (fields
with `omitempty` drop their zero values). Black-box over HTTPS with requests, the kubernetes
Python client (typed and dynamic) and kubectl.

Upstream: k8s.io/apiserver v0.34 pkg/endpoints/handlers/delete.go (DeleteResource),
create.go (createHandler), pkg/registry/generic/registry/store.go (Delete, finalizeDelete),
the ReturnDeletedObject flag of each kind's storage in k8s.io/kubernetes pkg/registry,
k8s.io/apiextensions-apiserver pkg/apiserver/customresource_handler.go (serveResource),
k8s.io/apimachinery pkg/runtime/serializer/json/json.go (Decode), k8s.io/api json tags."""
from __future__ import annotations

import json

import pytest

from .conftest import status_of, wait_for

NS = "default"
WIDGETS = f"/apis/twin.test.io/v1/namespaces/{NS}/widgets"
CONFIGMAPS = f"/api/v1/namespaces/{NS}/configmaps"
PVCS = f"/api/v1/namespaces/{NS}/persistentvolumeclaims"
SERVICES = f"/api/v1/namespaces/{NS}/services"
SERVICEACCOUNTS = f"/api/v1/namespaces/{NS}/serviceaccounts"
STORAGECLASSES = "/apis/storage.k8s.io/v1/storageclasses"
NAMESPACES = "/api/v1/namespaces"
MERGE = {"Content-Type": "application/merge-patch+json"}


def widget(name: str, **meta) -> dict:
    return {"apiVersion": "twin.test.io/v1", "kind": "Widget", "metadata": dict({"name": name}, **meta),
            "spec": {"config": "{}"}}


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def pvc(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "harvester-longhorn",
                     "resources": {"requests": {"storage": "1Gi"}}}}


def created(t, path: str, body: dict) -> dict:
    r = t.session().post(t.url(path), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def success_status(r, name: str, group: str, plural: str, uid: str) -> None:
    """finalizeDelete's answer: a Status with the resource plural as `details.kind`; group is
    omitted when empty (omitempty), and there is no `code` (finalizeDelete leaves it 0)."""
    assert r.status_code == 200, r.text
    details = {"name": name, "kind": plural, "uid": uid}
    if group:
        details["group"] = group
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                        "details": details}


# ---------------------------------------------------------------------------------------- DELETE
def test_immediate_delete_of_a_custom_resource_answers_a_success_status(twin):
    uid = created(twin, WIDGETS, widget("gone"))["metadata"]["uid"]
    r = twin.session().delete(twin.url(f"{WIDGETS}/gone"))
    success_status(r, "gone", "twin.test.io", "widgets", uid)
    assert twin.session().get(twin.url(f"{WIDGETS}/gone")).status_code == 404


def test_dry_run_immediate_delete_answers_the_status_too_and_keeps_the_object(twin):
    uid = created(twin, WIDGETS, widget("kept"))["metadata"]["uid"]
    r = twin.session().delete(twin.url(f"{WIDGETS}/kept"), params={"dryRun": "All"})
    success_status(r, "kept", "twin.test.io", "widgets", uid)
    assert twin.session().get(twin.url(f"{WIDGETS}/kept")).status_code == 200


def test_delete_held_by_a_finalizer_answers_200_with_the_terminating_object(twin):
    created(twin, WIDGETS, widget("held", finalizers=["hold.io/on"]))
    s = twin.session()
    for _ in range(2):  # the first DELETE marks it, a second one finds it already terminating
        r = s.delete(twin.url(f"{WIDGETS}/held"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["kind"] == "Widget" and body["metadata"]["deletionTimestamp"]
        assert body["metadata"]["deletionGracePeriodSeconds"] == 0
        assert body["metadata"]["finalizers"] == ["hold.io/on"]
    r = s.delete(twin.url(f"{WIDGETS}/held"), params={"dryRun": "All"})
    assert r.status_code == 200 and r.json()["metadata"]["deletionTimestamp"], r.text


@pytest.mark.parametrize("how", ["body", "query"])
def test_202_only_when_orphan_dependents_false_was_asked_and_the_object_stays(twin, how):
    created(twin, WIDGETS, widget("accepted", finalizers=["hold.io/on"]))
    s = twin.session()
    if how == "body":
        r = s.delete(twin.url(f"{WIDGETS}/accepted"),
                     json={"kind": "DeleteOptions", "apiVersion": "v1", "orphanDependents": False})
    else:
        r = s.delete(twin.url(f"{WIDGETS}/accepted"), params={"orphanDependents": "false"})
    assert r.status_code == 202, r.text
    assert r.json()["metadata"]["deletionTimestamp"]
    uid = created(twin, WIDGETS, widget("at-once"))["metadata"]["uid"]
    r = s.delete(twin.url(f"{WIDGETS}/at-once"), params={"orphanDependents": "false"})
    success_status(r, "at-once", "twin.test.io", "widgets", uid)  # removed at once: 200 whatever was asked


def test_foreground_deletion_always_goes_through_the_foreground_finalizer(twin):
    """The registry adds `foregroundDeletion` whatever the dependents (the garbage collector
    removes it once there are none): the object answers 200 while it waits."""
    created(twin, WIDGETS, widget("fg"))
    s = twin.session()
    r = s.delete(twin.url(f"{WIDGETS}/fg"), params={"propagationPolicy": "Foreground"})
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["finalizers"] == ["foregroundDeletion"]
    wait_for(lambda: s.get(twin.url(f"{WIDGETS}/fg")).status_code == 404, "the garbage collector to finish it")


def test_core_kinds_without_return_deleted_object_answer_a_status(twin):
    uid = created(twin, CONFIGMAPS, configmap("cm"))["metadata"]["uid"]
    success_status(twin.session().delete(twin.url(f"{CONFIGMAPS}/cm")), "cm", "", "configmaps", uid)
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(twin.kubeconfig)))
    api.create_namespaced_config_map(NS, configmap("typed"))
    answer = api.delete_namespaced_config_map("typed", NS)  # the client's OpenAPI says "object": a Status
    assert (answer["status"], answer["details"]["kind"], answer["details"]["name"]) == ("Success", "configmaps", "typed")


def test_core_kinds_with_return_deleted_object_answer_the_object(twin):
    """Services, PVCs, ServiceAccounts, StorageClasses (and Namespaces) set ReturnDeletedObject in
    their registry: the typed client decodes the deleted object itself."""
    from kubernetes import client, config
    api_client = config.new_client_from_config(config_file=str(twin.kubeconfig))
    core, storage = client.CoreV1Api(api_client), client.StorageV1Api(api_client)
    core.create_namespaced_persistent_volume_claim(NS, pvc("claim"))
    gone = core.delete_namespaced_persistent_volume_claim("claim", NS)
    assert gone.kind == "PersistentVolumeClaim" and gone.metadata.name == "claim"
    assert gone.metadata.deletion_timestamp is None  # removed at once: no graceful deletion for PVCs here
    core.create_namespaced_service_account(NS, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                "metadata": {"name": "robot"}})
    assert core.delete_namespaced_service_account("robot", NS).metadata.name == "robot"
    core.create_namespaced_service(NS, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                        "spec": {"ports": [{"port": 80}]}})
    assert core.delete_namespaced_service("web", NS).spec.ports[0].port == 80
    storage.create_storage_class({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                  "metadata": {"name": "fast"}, "provisioner": "driver.longhorn.io"})
    assert storage.delete_storage_class("fast").provisioner == "driver.longhorn.io"


def test_namespace_delete_answers_200_with_the_terminating_namespace(twin):
    created(twin, NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}})
    r = twin.session().delete(twin.url(f"{NAMESPACES}/scratch"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "Namespace" and body["status"]["phase"] == "Terminating"
    assert body["metadata"]["deletionTimestamp"]


def test_kubectl_delete_reads_either_answer(twin):
    created(twin, WIDGETS, widget("k1"))
    created(twin, PVCS, pvc("k2"))
    out = twin.kubectl("delete", "-n", NS, "widgets.twin.test.io/k1", "persistentvolumeclaim/k2").stdout
    assert out.splitlines() == ['widget.twin.test.io "k1" deleted', 'persistentvolumeclaim "k2" deleted']


def test_delete_collection_lists_the_objects_as_they_were(twin):
    created(twin, WIDGETS, widget("c1", labels={"set": "x"}))
    created(twin, WIDGETS, widget("c2", labels={"set": "x"}, finalizers=["hold.io/on"]))
    r = twin.session().delete(twin.url(WIDGETS), params={"labelSelector": "set=x"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["metadata"]["name"] for i in items] == ["c1", "c2"]
    assert all("deletionTimestamp" not in i["metadata"] for i in items)


# ---------------------------------------------------------------------------------------- POST to an item path
def test_post_to_a_custom_resource_item_path_is_a_create(twin):
    """The CRD handler serves POST as `create` whatever the path; the name is the body's."""
    s = twin.session()
    r = s.post(twin.url(f"{WIDGETS}/named"), json=widget("named"))
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "named", r.text
    r = s.post(twin.url(f"{WIDGETS}/named"), json=widget("named"))
    assert r.status_code == 409 and status_of(r)["reason"] == "AlreadyExists", r.text
    nameless = {"apiVersion": "twin.test.io/v1", "kind": "Widget", "metadata": {}, "spec": {"config": "{}"}}
    r = s.post(twin.url(f"{WIDGETS}/nameless"), json=nameless)
    assert r.status_code == 422, r.text
    assert status_of(r)["details"]["causes"] == [{"reason": "FieldValueRequired", "field": "metadata.name",
                                                 "message": "Required value: name or generateName is required"}]
    r = s.post(twin.url(f"{WIDGETS}/empty"))
    assert r.status_code == 400, r.text
    assert status_of(r)["message"] == ("the object provided is unrecognized (must be of type Widget): couldn't get "
                                       "version/kind; json parse error: unexpected end of JSON input (<empty>)")


def test_post_to_a_built_in_item_path_is_go_restfuls_405(twin):
    created(twin, CONFIGMAPS, configmap("cm"))
    r = twin.session().post(twin.url(f"{CONFIGMAPS}/cm"), json=configmap("cm"))
    assert r.status_code == 405, r.text
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "the server does not allow this method on the requested resource",
                        "reason": "MethodNotAllowed", "details": {}, "code": 405}


# ---------------------------------------------------------------------------------------- apiVersion and kind
def test_built_in_kinds_take_apiversion_and_kind_from_the_url(twin):
    from kubernetes import client, config
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(twin.kubeconfig)))
    ns = core.create_namespace({"metadata": {"name": "from-url"}})
    assert (ns.api_version, ns.kind, ns.metadata.name) == ("v1", "Namespace", "from-url")
    s = twin.session()
    r = s.post(twin.url(CONFIGMAPS), json={"metadata": {"name": "bare"}, "data": {"a": "1"}})
    assert r.status_code == 201 and (r.json()["apiVersion"], r.json()["kind"]) == ("v1", "ConfigMap"), r.text
    live = r.json()
    r = s.put(twin.url(f"{CONFIGMAPS}/bare"), json={"metadata": live["metadata"], "data": {"a": "2"}})
    assert r.status_code == 200 and r.json()["data"] == {"a": "2"}, r.text


def test_custom_resources_need_kind_and_apiversion_in_the_body(twin):
    s = twin.session()
    raw = '{"apiVersion": "twin.test.io/v1", "metadata": {"name": "w"}, "spec": {"config": "{}"}}'
    r = s.post(twin.url(WIDGETS), data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert status_of(r)["message"] == ('Widget in version "v1" cannot be handled as a Widget: '
                                       f"Object 'Kind' is missing in '{raw}'")
    r = s.post(twin.url(WIDGETS), json={"kind": "Widget", "metadata": {"name": "w"}, "spec": {"config": "{}"}})
    assert r.status_code == 400, r.text
    assert status_of(r)["message"] == ("the API version in the data () does not match the expected API version "
                                       "(twin.test.io/v1)")
    assert s.get(twin.url(f"{WIDGETS}/w")).status_code == 404


# ---------------------------------------------------------------------------------------- Go's encoding
def test_a_false_omitempty_field_is_not_written_back(twin):
    """NodeSpec.Unschedulable is `bool json:"unschedulable,omitempty"`: false is the zero value."""
    s = twin.session()
    node = "/api/v1/nodes/ms02-3"
    r = s.patch(twin.url(node), data=json.dumps({"spec": {"unschedulable": True}}), headers=MERGE)
    assert r.status_code == 200 and r.json()["spec"]["unschedulable"] is True, r.text
    r = s.patch(twin.url(node), data=json.dumps({"spec": {"unschedulable": False}}), headers=MERGE)
    assert r.status_code == 200 and "unschedulable" not in r.json()["spec"], r.text
    out = json.loads(twin.kubectl("get", "node", "ms02-3", "-o", "json").stdout)
    assert "unschedulable" not in out["spec"]
    watched = s.get(twin.url("/api/v1/nodes"), params={"fieldSelector": "metadata.name=ms02-3"}).json()
    assert "unschedulable" not in watched["items"][0]["spec"]


def test_zero_values_follow_each_fields_json_tag(twin):
    s = twin.session()
    # omitempty map: an empty one is left out; *bool immutable: false stays
    cm = created(twin, CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z"},
                                    "data": {}, "immutable": False})
    assert "data" not in cm and cm["immutable"] is False
    # *bool allowVolumeExpansion: false stays; omitempty map parameters: {} goes
    sc = created(twin, STORAGECLASSES, {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                        "metadata": {"name": "z"}, "provisioner": "driver.longhorn.io",
                                        "allowVolumeExpansion": False, "parameters": {}, "mountOptions": []})
    assert sc["allowVolumeExpansion"] is False and "parameters" not in sc and "mountOptions" not in sc
    # Rules []PolicyRule `json:"rules"` (no omitempty): an unset slice is written as null
    role = created(twin, f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/roles",
                   {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "z"}})
    assert "rules" in role and role["rules"] is None
    # struct values are always written: a PVC's status and spec.resources, a Service's status.loadBalancer
    claim = created(twin, PVCS, {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "z"},
                                 "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "harvester-longhorn",
                                          "resources": {}}})
    assert claim["spec"]["resources"] == {} and "status" in claim
    svc = created(twin, SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "z"},
                                   "spec": {"ports": [{"port": 8080, "nodePort": 0, "name": ""}]}})
    assert svc["status"] == {"loadBalancer": {}}
    assert svc["spec"]["ports"] == [{"protocol": "TCP", "port": 8080, "targetPort": 8080}]
    assert s.get(twin.url(f"{SERVICES}/z")).json()["status"] == {"loadBalancer": {}}
