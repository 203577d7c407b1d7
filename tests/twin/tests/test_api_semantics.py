"""Kubernetes API semantics of the twin, black-box over HTTPS with the kubernetes Python client
(dynamic client) and plain requests for the status codes and bodies."""
from __future__ import annotations

import json
import time

import pytest
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError, UnprocessibleEntityError

from .conftest import status_of

TEST_NS = "semantics"  # its own namespace, away from the seeded lab
# Plain API semantics are tested on Widget (tests/crds/widget.yaml), a kind with no webhooks or
# controllers, shaped like a NAD (spec.config holds JSON); the Harvester kinds have area tests.
NAD_PATH = f"/apis/twin.test.io/v1/namespaces/{TEST_NS}/widgets"
CN_PATH = "/apis/network.harvesterhci.io/v1beta1/clusternetworks"
VC_PATH = "/apis/network.harvesterhci.io/v1beta1/vlanconfigs"
SETTING_PATH = "/apis/harvesterhci.io/v1beta1/settings"


def nad(name, vlan=30, **meta):
    config = {"cniVersion": "0.3.1", "name": name, "type": "bridge", "bridge": "mgmt-br", "promiscMode": True,
              "vlan": vlan, "ipam": {}}
    return {"apiVersion": "twin.test.io/v1", "kind": "Widget",
            "metadata": dict({"name": name, "namespace": TEST_NS}, **meta),
            "spec": {"config": json.dumps(config)}}


def vlanconfig(name, cn="cn1", mode="802.3ad", **spec):
    return {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "VlanConfig", "metadata": {"name": name},
            "spec": dict({"clusterNetwork": cn, "uplink": {"nics": ["enp2s0f0np0", "enp2s0f1np1"],
                                                           "bondOptions": {"mode": mode}}}, **spec)}


@pytest.fixture(autouse=True)
def test_namespace(twin):
    s = twin.session()
    s.post(twin.url("/api/v1/namespaces"), json={
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TEST_NS}}).raise_for_status()
    # the VlanConfigs below name cluster network cn1: Harvester refuses one whose network is missing
    s.post(twin.url(CN_PATH), json={"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "ClusterNetwork",
                                    "metadata": {"name": "cn1"}}).raise_for_status()


def nads(client):
    return client.resources.get(api_version="twin.test.io/v1", kind="Widget")


# ---------------------------------------------------------------------------------------- CRUD
def test_create_get_list_with_dynamic_client(twin):
    client = twin.dynamic()
    api = nads(client)
    created = api.create(body=nad("platform"), namespace=TEST_NS)
    assert created.metadata.uid and created.metadata.resourceVersion and created.metadata.creationTimestamp
    assert created.metadata.generation == 1
    got = api.get(name="platform", namespace=TEST_NS)
    assert got.spec.config == nad("platform")["spec"]["config"]
    names = [i.metadata.name for i in api.get(namespace=TEST_NS).items]
    assert names == ["platform"]


def test_generate_name(twin):
    api = nads(twin.dynamic())
    body = nad("x")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "vm-net-"
    created = api.create(body=body, namespace=TEST_NS)
    assert created.metadata.name.startswith("vm-net-") and len(created.metadata.name) == len("vm-net-") + 5


def test_label_and_field_selectors(twin):
    api = nads(twin.dynamic())
    api.create(body=nad("a", labels={"tier": "platform"}), namespace=TEST_NS)
    api.create(body=nad("b", labels={"tier": "cluster"}), namespace=TEST_NS)
    api.create(body=nad("c"), namespace=TEST_NS)

    def names(**kw):
        return sorted(i.metadata.name for i in api.get(namespace=TEST_NS, **kw).items)

    assert names(label_selector="tier=platform") == ["a"]
    assert names(label_selector="tier") == ["a", "b"]
    assert names(label_selector="!tier") == ["c"]
    assert names(label_selector="tier in (platform,cluster),tier!=cluster") == ["a"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector=f"metadata.namespace={TEST_NS},metadata.name!=b") == ["a", "c"]


def test_field_selector_on_namespace_across_all_namespaces(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("here")).raise_for_status()
    other = nad("there")
    other["metadata"]["namespace"] = "default"
    s.post(twin.url("/apis/twin.test.io/v1/namespaces/default/widgets"), json=other).raise_for_status()
    every = s.get(twin.url("/apis/twin.test.io/v1/widgets")).json()["items"]
    assert sorted(i["metadata"]["name"] for i in every) == ["here", "there"]
    picked = s.get(twin.url("/apis/twin.test.io/v1/widgets"), params={"fieldSelector": "metadata.namespace=default"})
    assert [i["metadata"]["name"] for i in picked.json()["items"]] == ["there"]


def test_unknown_field_selector_is_400(twin):
    r = twin.session().get(twin.url(NAD_PATH), params={"fieldSelector": "spec.config=x"})
    assert r.status_code == 400 and "field label not supported" in status_of(r)["message"]


def test_get_missing_is_404_status(twin):
    r = twin.session().get(twin.url(NAD_PATH + "/nope"))
    assert r.status_code == 404
    body = status_of(r)
    assert body["reason"] == "NotFound"
    assert body["message"] == 'widgets.twin.test.io "nope" not found'
    assert body["details"] == {"name": "nope", "group": "twin.test.io", "kind": "widgets"}


def test_create_twice_is_409_already_exists(twin):
    s = twin.session()
    assert s.post(twin.url(NAD_PATH), json=nad("dup")).status_code == 201
    r = s.post(twin.url(NAD_PATH), json=nad("dup"))
    assert r.status_code == 409 and status_of(r)["reason"] == "AlreadyExists"


def test_namespaced_object_needs_an_existing_namespace(twin):
    body = nad("x")
    body["metadata"]["namespace"] = "ghost"
    r = twin.session().post(twin.url("/apis/twin.test.io/v1/namespaces/ghost/widgets"), json=body)
    assert r.status_code == 404 and status_of(r)["message"] == 'namespaces "ghost" not found'


def test_url_and_body_namespace_must_agree(twin):
    body = nad("x")
    body["metadata"]["namespace"] = "kube-system"
    r = twin.session().post(twin.url(NAD_PATH), json=body)
    assert r.status_code == 400 and "does not match the namespace" in status_of(r)["message"]


def test_stale_resource_version_is_409_conflict(twin):
    api = nads(twin.dynamic())
    first = api.create(body=nad("platform"), namespace=TEST_NS).to_dict()
    second = dict(first, spec={"config": nad("platform", 31)["spec"]["config"]})
    api.replace(body=second, namespace=TEST_NS)
    stale = dict(first, spec={"config": nad("platform", 32)["spec"]["config"]})
    with pytest.raises(ConflictError) as err:
        api.replace(body=stale, namespace=TEST_NS)
    body = json.loads(err.value.body)
    assert body["reason"] == "Conflict" and "the object has been modified" in body["message"]


def test_stale_resource_version_in_a_merge_patch_is_409(twin):
    s = twin.session()
    created = s.post(twin.url(NAD_PATH), json=nad("p")).json()
    s.patch(twin.url(NAD_PATH + "/p"), data=json.dumps({"metadata": {"labels": {"a": "b"}}}),
            headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    r = s.patch(twin.url(NAD_PATH + "/p"),
                data=json.dumps({"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]},
                                 "spec": {"config": "{}"}}),
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 409 and status_of(r)["reason"] == "Conflict"


def test_put_of_a_custom_resource_needs_a_resource_version(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("p")).raise_for_status()
    r = s.put(twin.url(NAD_PATH + "/p"), json=nad("p", 31))
    assert r.status_code == 422
    assert status_of(r)["details"]["causes"][0]["field"] == "metadata.resourceVersion"


def test_generation_bumps_on_spec_changes_only(twin):
    s = twin.session()
    created = s.post(twin.url(NAD_PATH), json=nad("g")).json()
    merge = {"Content-Type": "application/merge-patch+json"}
    labelled = s.patch(twin.url(NAD_PATH + "/g"), data='{"metadata":{"labels":{"x":"y"}}}', headers=merge).json()
    assert labelled["metadata"]["generation"] == 1
    assert int(labelled["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    changed = s.patch(twin.url(NAD_PATH + "/g"), data=json.dumps({"spec": nad("g", 99)["spec"]}), headers=merge).json()
    assert changed["metadata"]["generation"] == 2


def test_noop_patch_keeps_resource_version(twin):
    s = twin.session()
    created = s.post(twin.url(NAD_PATH), json=nad("n")).json()
    same = s.patch(twin.url(NAD_PATH + "/n"), data=json.dumps({"spec": created["spec"]}),
                   headers={"Content-Type": "application/merge-patch+json"}).json()
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_server_owned_metadata_cannot_be_overwritten(twin):
    s = twin.session()
    created = s.post(twin.url(NAD_PATH), json=nad("o")).json()
    body = dict(created)
    body["metadata"] = dict(created["metadata"], creationTimestamp="2001-01-01T00:00:00Z", generation=40)
    updated = s.put(twin.url(NAD_PATH + "/o"), json=body).json()
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    assert updated["metadata"]["generation"] == 1


# ---------------------------------------------------------------------------------------- patches
def test_merge_patch_and_json_patch(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("m", labels={"a": "1", "b": "2"})).raise_for_status()
    merged = s.patch(twin.url(NAD_PATH + "/m"), data='{"metadata":{"labels":{"a":null,"c":"3"}}}',
                     headers={"Content-Type": "application/merge-patch+json"}).json()
    assert merged["metadata"]["labels"] == {"b": "2", "c": "3"}
    ops = [{"op": "replace", "path": "/metadata/labels/b", "value": "20"},
           {"op": "add", "path": "/metadata/annotations", "value": {"note": "x"}}]
    patched = s.patch(twin.url(NAD_PATH + "/m"), data=json.dumps(ops),
                      headers={"Content-Type": "application/json-patch+json"}).json()
    assert patched["metadata"]["labels"]["b"] == "20" and patched["metadata"]["annotations"] == {"note": "x"}


def test_strategic_merge_patch_is_415_for_custom_resources(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("s")).raise_for_status()
    r = s.patch(twin.url(NAD_PATH + "/s"), data='{"metadata":{"labels":{"a":"b"}}}',
                headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert r.status_code == 415 and status_of(r)["reason"] == "UnsupportedMediaType"


def test_strategic_merge_patch_on_a_core_kind(twin):
    s = twin.session()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
          "data": {"a": "1"}}
    s.post(twin.url("/api/v1/namespaces/default/configmaps"), json=cm).raise_for_status()
    r = s.patch(twin.url("/api/v1/namespaces/default/configmaps/c"), data='{"data":{"b":"2"}}',
                headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert r.status_code == 200 and r.json()["data"] == {"a": "1", "b": "2"}


def test_patch_of_a_missing_object_is_404(twin):
    r = twin.session().patch(twin.url(NAD_PATH + "/ghost"), data="{}",
                             headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 404


def test_server_side_apply_creates_then_updates(twin):
    s = twin.session()
    body = json.dumps(nad("ssa"))
    headers = {"Content-Type": "application/apply-patch+yaml"}
    r = s.patch(twin.url(NAD_PATH + "/ssa"), params={"fieldManager": "test"}, data=body, headers=headers)
    assert r.status_code == 201
    r = s.patch(twin.url(NAD_PATH + "/ssa"), params={"fieldManager": "test"},
                data=json.dumps(nad("ssa", 40)), headers=headers)
    assert r.status_code == 200 and '"vlan": 40' in r.json()["spec"]["config"]


# ---------------------------------------------------------------------------------------- dry run
def test_dry_run_create_stores_nothing(twin):
    s = twin.session()
    r = s.post(twin.url(NAD_PATH), params={"dryRun": "All"}, json=nad("dry"))
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "dry"
    assert s.get(twin.url(NAD_PATH + "/dry")).status_code == 404


def test_dry_run_update_patch_delete_store_nothing(twin):
    s = twin.session()
    created = s.post(twin.url(NAD_PATH), json=nad("d")).json()
    body = dict(created, spec=nad("d", 77)["spec"])
    assert s.put(twin.url(NAD_PATH + "/d"), params={"dryRun": "All"}, json=body).status_code == 200
    r = s.patch(twin.url(NAD_PATH + "/d"), params={"dryRun": "All"}, data='{"metadata":{"labels":{"x":"y"}}}',
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["metadata"]["labels"] == {"x": "y"}
    assert s.delete(twin.url(NAD_PATH + "/d"), params={"dryRun": "All"}).status_code == 200
    live = s.get(twin.url(NAD_PATH + "/d")).json()
    assert live["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert live["spec"] == created["spec"] and "labels" not in live["metadata"]


def test_dry_run_json_patch_and_apply_store_nothing(twin):
    s = twin.session()
    created = s.post(twin.url(NAD_PATH), json=nad("jd")).json()
    ops = [{"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}]
    r = s.patch(twin.url(NAD_PATH + "/jd"), params={"dryRun": "All"}, data=json.dumps(ops),
                headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.json()["metadata"]["labels"] == {"x": "y"}
    apply = {"Content-Type": "application/apply-patch+yaml"}
    r = s.patch(twin.url(NAD_PATH + "/applied"), params={"dryRun": "All", "fieldManager": "test"},
                data=json.dumps(nad("applied")), headers=apply)
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "applied"
    r = s.patch(twin.url(NAD_PATH + "/jd"), params={"dryRun": "All", "fieldManager": "test"},
                data=json.dumps(nad("jd", 55)), headers=apply)
    assert r.status_code == 200 and '"vlan": 55' in r.json()["spec"]["config"]
    assert s.get(twin.url(NAD_PATH + "/applied")).status_code == 404
    live = s.get(twin.url(NAD_PATH + "/jd")).json()
    assert live["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert live["spec"] == created["spec"] and "labels" not in live["metadata"]


def test_dry_run_delete_in_delete_options_and_of_a_finalized_object_stores_nothing(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("opt")).raise_for_status()
    r = s.delete(twin.url(NAD_PATH + "/opt"), json={"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]})
    assert r.status_code == 200
    assert s.get(twin.url(NAD_PATH + "/opt")).status_code == 200
    held = s.post(twin.url(NAD_PATH), json=nad("held", finalizers=["a.io/x"])).json()
    r = s.delete(twin.url(NAD_PATH + "/held"), params={"dryRun": "All"})
    assert r.status_code == 200 and r.json()["metadata"]["deletionTimestamp"]
    live = s.get(twin.url(NAD_PATH + "/held")).json()
    assert "deletionTimestamp" not in live["metadata"]
    assert live["metadata"]["resourceVersion"] == held["metadata"]["resourceVersion"]


def test_delete_collection_honours_the_selector_and_dry_run(twin):
    s = twin.session()
    for name, tier in (("c1", "a"), ("c2", "a"), ("c3", "b")):
        s.post(twin.url(NAD_PATH), json=nad(name, labels={"tier": tier})).raise_for_status()
    r = s.delete(twin.url(NAD_PATH), params={"labelSelector": "tier=a", "dryRun": "All"})
    assert r.status_code == 200
    assert r.json()["kind"] == "WidgetList" and sorted(i["metadata"]["name"] for i in r.json()["items"]) == ["c1", "c2"]
    assert sorted(i["metadata"]["name"] for i in s.get(twin.url(NAD_PATH)).json()["items"]) == ["c1", "c2", "c3"]
    r = s.delete(twin.url(NAD_PATH), params={"labelSelector": "tier=a"})
    assert r.status_code == 200
    assert [i["metadata"]["name"] for i in s.get(twin.url(NAD_PATH)).json()["items"]] == ["c3"]


def test_dry_run_still_validates(twin):
    r = twin.session().post(twin.url(VC_PATH), params={"dryRun": "All"}, json=vlanconfig("v", mode="nope"))
    assert r.status_code == 422


def test_bad_dry_run_value_is_400(twin):
    r = twin.session().post(twin.url(NAD_PATH), params={"dryRun": "Some"}, json=nad("x"))
    assert r.status_code == 400


# ---------------------------------------------------------------------------------------- validation
def test_invalid_object_is_422_naming_the_field(twin):
    r = twin.session().post(twin.url(VC_PATH), json=vlanconfig("bad", mode="lacp-please"))
    assert r.status_code == 422
    body = status_of(r)
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "spec.uplink.bondOptions.mode"
    assert body["details"]["causes"][0]["reason"] == "FieldValueNotSupported"
    assert body["message"].startswith('VlanConfig.network.harvesterhci.io "bad" is invalid: '
                                      'spec.uplink.bondOptions.mode: Unsupported value: "lacp-please"')


def test_required_field_missing_is_422(twin):
    body = vlanconfig("noup")
    del body["spec"]["uplink"]
    r = twin.session().post(twin.url(VC_PATH), json=body)
    assert r.status_code == 422
    assert {"field": "spec.uplink", "reason": "FieldValueRequired", "message": "Required value"} in \
        status_of(r)["details"]["causes"]


def test_defaults_are_applied(twin):
    created = twin.session().post(twin.url(VC_PATH), json=vlanconfig("def")).json()
    assert created["spec"]["uplink"]["bondOptions"]["miimon"] == -1


def test_unknown_fields_are_pruned_with_a_warning(twin):
    body = vlanconfig("prune")
    body["spec"]["bogus"] = 1
    r = twin.session().post(twin.url(VC_PATH), json=body)
    assert r.status_code == 201
    assert "bogus" not in r.json()["spec"]
    assert 'unknown field \\"spec.bogus\\"' in r.headers["Warning"]


def test_unknown_fields_are_refused_under_strict_validation(twin):
    body = vlanconfig("strict")
    body["spec"]["bogus"] = 1
    r = twin.session().post(twin.url(VC_PATH), params={"fieldValidation": "Strict"}, json=body)
    assert r.status_code == 400
    assert 'unknown field "spec.bogus"' in status_of(r)["message"]


def test_invalid_metadata_name_is_422(twin):
    r = twin.session().post(twin.url(NAD_PATH), json=nad("Not_A_Name"))
    assert r.status_code == 422
    assert status_of(r)["details"]["causes"][0]["field"] == "metadata.name"


def test_wrong_kind_for_the_url_is_400(twin):
    body = vlanconfig("x")
    r = twin.session().post(twin.url(NAD_PATH), json=body)
    assert r.status_code == 400


def test_malformed_json_is_400(twin):
    r = twin.session().post(twin.url(NAD_PATH), data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and status_of(r)["reason"] == "BadRequest"


def test_unsupported_media_type_is_415(twin):
    r = twin.session().post(twin.url(NAD_PATH), data=b"\x00", headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 415


def test_dynamic_client_sees_422_as_unprocessable(twin):
    api = twin.dynamic().resources.get(api_version="network.harvesterhci.io/v1beta1", kind="VlanConfig")
    with pytest.raises(UnprocessibleEntityError):
        api.create(body=vlanconfig("bad", mode="x"))


# ---------------------------------------------------------------------------------------- verbs
def test_method_not_allowed_is_405(twin):
    s = twin.session()
    r = s.put(twin.url(NAD_PATH), json=nad("x"))
    assert r.status_code == 405 and status_of(r)["reason"] == "MethodNotAllowed"


def test_unknown_resource_is_404(twin):
    assert twin.session().get(twin.url("/apis/twin.test.io/v1/nothings")).status_code == 404
    assert twin.session().get(twin.url("/apis/nope.io/v1")).status_code == 404


def test_injected_500_is_a_status_with_the_given_message(twin):
    twin.fault(method="GET", path="/api/v1/nodes$", status=500, message="etcdserver: request timed out")
    r = twin.session().get(twin.url("/api/v1/nodes"))
    assert r.status_code == 500 and status_of(r)["message"] == "etcdserver: request timed out"


# ---------------------------------------------------------------------------------------- delete
def test_delete_without_finalizers_removes(twin):
    api = nads(twin.dynamic())
    api.create(body=nad("gone"), namespace=TEST_NS)
    api.delete(name="gone", namespace=TEST_NS)
    with pytest.raises(NotFoundError):
        api.get(name="gone", namespace=TEST_NS)


def test_delete_with_finalizers_waits_for_the_last_one(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("f", finalizers=["a.io/x", "b.io/y"])).raise_for_status()
    r = s.delete(twin.url(NAD_PATH + "/f"))
    assert r.status_code == 200 and r.json()["metadata"]["deletionTimestamp"]
    live = s.get(twin.url(NAD_PATH + "/f")).json()
    assert live["metadata"]["deletionTimestamp"]
    merge = {"Content-Type": "application/merge-patch+json"}
    s.patch(twin.url(NAD_PATH + "/f"), data='{"metadata":{"finalizers":["b.io/y"]}}', headers=merge).raise_for_status()
    assert s.get(twin.url(NAD_PATH + "/f")).status_code == 200
    r = s.patch(twin.url(NAD_PATH + "/f"), data='{"metadata":{"finalizers":["b.io/y","c.io/new"]}}', headers=merge)
    assert r.status_code == 422  # no new finalizers once deleting
    s.patch(twin.url(NAD_PATH + "/f"), data='{"metadata":{"finalizers":null}}', headers=merge).raise_for_status()
    assert s.get(twin.url(NAD_PATH + "/f")).status_code == 404


def _wait_gone(session, url, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if session.get(url).status_code == 404:
            return True
        time.sleep(0.05)
    return False


def test_owner_reference_cascade(twin):
    s = twin.session()
    owner = s.post(twin.url(NAD_PATH), json=nad("owner")).json()
    ref = {"apiVersion": "twin.test.io/v1", "kind": "Widget", "name": "owner",
           "uid": owner["metadata"]["uid"]}
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "dependent", "namespace": "default", "ownerReferences": [ref]}, "data": {}}
    s.post(twin.url("/api/v1/namespaces/default/configmaps"), json=cm).raise_for_status()
    s.delete(twin.url(NAD_PATH + "/owner")).raise_for_status()
    assert _wait_gone(s, twin.url("/api/v1/namespaces/default/configmaps/dependent"))


def test_foreground_deletion_removes_dependents_first(twin):
    s = twin.session()
    owner = s.post(twin.url(NAD_PATH), json=nad("fg")).json()
    ref = {"apiVersion": "twin.test.io/v1", "kind": "Widget", "name": "fg",
           "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True}
    dep = nad("fg-dep", ownerReferences=[ref], finalizers=["hold.io/on"])
    s.post(twin.url(NAD_PATH), json=dep).raise_for_status()
    r = s.delete(twin.url(NAD_PATH + "/fg"), params={"propagationPolicy": "Foreground"})
    assert r.status_code == 200 and "foregroundDeletion" in r.json()["metadata"]["finalizers"]
    time.sleep(0.2)
    held = s.get(twin.url(NAD_PATH + "/fg")).json()
    assert "foregroundDeletion" in held["metadata"]["finalizers"]  # waits for its dependent
    s.patch(twin.url(NAD_PATH + "/fg-dep"), data='{"metadata":{"finalizers":null}}',
            headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    assert _wait_gone(s, twin.url(NAD_PATH + "/fg"))


def test_orphan_deletion_keeps_dependents(twin):
    s = twin.session()
    owner = s.post(twin.url(NAD_PATH), json=nad("or")).json()
    ref = {"apiVersion": "twin.test.io/v1", "kind": "Widget", "name": "or",
           "uid": owner["metadata"]["uid"]}
    s.post(twin.url(NAD_PATH), json=nad("or-dep", ownerReferences=[ref])).raise_for_status()
    s.delete(twin.url(NAD_PATH + "/or"), params={"propagationPolicy": "Orphan"}).raise_for_status()
    assert _wait_gone(s, twin.url(NAD_PATH + "/or"))
    dep = s.get(twin.url(NAD_PATH + "/or-dep")).json()
    assert "ownerReferences" not in dep["metadata"]


def test_deleting_a_namespace_removes_its_contents(twin):
    s = twin.session()
    s.post(twin.url("/api/v1/namespaces"), json={"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": "temp"}}).raise_for_status()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "temp"}}
    s.post(twin.url("/api/v1/namespaces/temp/configmaps"), json=cm).raise_for_status()
    r = s.delete(twin.url("/api/v1/namespaces/temp"))
    assert r.json()["status"]["phase"] == "Terminating"
    assert _wait_gone(s, twin.url("/api/v1/namespaces/temp"))
    assert s.get(twin.url("/api/v1/namespaces/temp/configmaps/x")).status_code == 404


def test_a_terminating_namespace_refuses_new_content_with_403(twin):
    s = twin.session()
    s.post(twin.url("/api/v1/namespaces"), json={"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": "closing"}}).raise_for_status()
    held = dict(nad("held", finalizers=["hold.io/on"]))
    held["metadata"]["namespace"] = "closing"
    widgets = "/apis/twin.test.io/v1/namespaces/closing/widgets"
    s.post(twin.url(widgets), json=held).raise_for_status()
    assert s.delete(twin.url("/api/v1/namespaces/closing")).json()["status"]["phase"] == "Terminating"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": "closing"}}
    r = s.post(twin.url("/api/v1/namespaces/closing/configmaps"), json=cm)
    body = status_of(r)
    assert r.status_code == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('configmaps "late" is forbidden: unable to create new content in namespace closing '
                               "because it is being terminated")
    s.patch(twin.url(widgets + "/held"), data='{"metadata":{"finalizers":null}}',
            headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    assert _wait_gone(s, twin.url("/api/v1/namespaces/closing"))


def test_missing_namespace_is_404_before_any_webhook(twin):
    # the NAD mutator would refuse this config (500); NamespaceLifecycle answers first
    body = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": "x", "namespace": "ghost"}, "spec": {"config": "{not json"}}
    r = twin.session().post(twin.url("/apis/k8s.cni.cncf.io/v1/namespaces/ghost/network-attachment-definitions"),
                            json=body)
    assert r.status_code == 404 and status_of(r)["message"] == 'namespaces "ghost" not found'


def test_delete_precondition_on_resource_version(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("pre")).raise_for_status()
    r = s.delete(twin.url(NAD_PATH + "/pre"), json={"kind": "DeleteOptions", "apiVersion": "v1",
                                                    "preconditions": {"resourceVersion": "1"}})
    assert r.status_code == 409


# ---------------------------------------------------------------------------------------- subresources
CAPI_MD = "/apis/cluster.x-k8s.io/v1beta2/namespaces/default/machinedeployments"


def machine_deployment(name, replicas=1):
    return {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "MachineDeployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"clusterName": "c1", "replicas": replicas,
                     "selector": {"matchLabels": {"pool": name}},
                     "template": {"metadata": {"labels": {"pool": name}},
                                  "spec": {"clusterName": "c1", "version": "v1.33.4",
                                           "bootstrap": {"configRef": {"apiGroup": "bootstrap.cluster.x-k8s.io",
                                                                       "kind": "TalosConfigTemplate", "name": "w"}},
                                           "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io",
                                                                 "kind": "HarvesterMachineTemplate",
                                                                 "name": "w"}}}}}


def test_status_subresource_separates_spec_and_status(twin):
    s = twin.session()
    created = s.post(twin.url(CAPI_MD), json=dict(machine_deployment("md"), status={"replicas": 7}))
    assert created.status_code == 201, created.text
    assert "replicas" not in (created.json().get("status") or {})  # status is ignored on create
    obj = created.json()
    obj["status"] = {"replicas": 2}
    obj["spec"]["replicas"] = 5
    r = s.put(twin.url(CAPI_MD + "/md/status"), json=obj)
    assert r.status_code == 200, r.text
    assert r.json()["status"]["replicas"] == 2 and r.json()["spec"]["replicas"] == 1
    r = s.patch(twin.url(CAPI_MD + "/md"), data='{"status":{"replicas":9},"spec":{"replicas":3}}',
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.json()["status"]["replicas"] == 2 and r.json()["spec"]["replicas"] == 3


def test_scale_subresource(twin):
    s = twin.session()
    s.post(twin.url(CAPI_MD), json=machine_deployment("sc", 1)).raise_for_status()
    scale = s.get(twin.url(CAPI_MD + "/sc/scale")).json()
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    r = s.patch(twin.url(CAPI_MD + "/sc/scale"), data='{"spec":{"replicas":3}}',
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 3
    assert s.get(twin.url(CAPI_MD + "/sc")).json()["spec"]["replicas"] == 3


def test_dry_run_status_and_scale_writes_store_nothing(twin):
    s = twin.session()
    created = s.post(twin.url(CAPI_MD), json=machine_deployment("dry-md", 1)).json()
    obj = s.get(twin.url(CAPI_MD + "/dry-md")).json()
    obj["status"] = dict(obj.get("status") or {}, replicas=42)
    r = s.put(twin.url(CAPI_MD + "/dry-md/status"), params={"dryRun": "All"}, json=obj)
    assert r.status_code == 200, r.text
    assert r.json()["status"]["replicas"] == 42
    r = s.patch(twin.url(CAPI_MD + "/dry-md/status"), params={"dryRun": "All"}, data='{"status":{"replicas":43}}',
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["status"]["replicas"] == 43
    r = s.patch(twin.url(CAPI_MD + "/dry-md/scale"), params={"dryRun": "All"}, data='{"spec":{"replicas":7}}',
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 7
    live = s.get(twin.url(CAPI_MD + "/dry-md")).json()
    assert (live.get("status") or {}).get("replicas") not in (42, 43)
    assert live["spec"]["replicas"] == 1 and live["metadata"]["uid"] == created["metadata"]["uid"]


def test_subresource_not_declared_is_404(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("nosub")).raise_for_status()
    assert s.get(twin.url(NAD_PATH + "/nosub/status")).status_code == 404


# ---------------------------------------------------------------------------------------- core kinds
def test_secret_string_data_is_folded_into_data(twin):
    s = twin.session()
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"},
            "stringData": {"token": "abc"}}
    created = s.post(twin.url("/api/v1/namespaces/default/secrets"), json=body).json()
    assert created["data"] == {"token": "YWJj"} and "stringData" not in created and created["type"] == "Opaque"


def test_secret_data_must_be_base64(twin):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"},
            "data": {"token": "not base64!"}}
    r = twin.session().post(twin.url("/api/v1/namespaces/default/secrets"), json=body)
    assert r.status_code == 400
    assert status_of(r)["message"] == ('Secret in version "v1" cannot be handled as a Secret: '
                                       "illegal base64 data at input byte 3")


def test_core_put_without_resource_version_is_allowed(twin):
    s = twin.session()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u", "namespace": "default"}, "data": {}}
    s.post(twin.url("/api/v1/namespaces/default/configmaps"), json=cm).raise_for_status()
    cm["data"] = {"k": "v"}
    r = s.put(twin.url("/api/v1/namespaces/default/configmaps/u"), json=cm)
    assert r.status_code == 200 and r.json()["data"] == {"k": "v"}


def test_pagination_with_limit_and_continue(twin):
    s = twin.session()
    for i in range(5):
        s.post(twin.url(NAD_PATH), json=nad(f"p{i}")).raise_for_status()
    first = s.get(twin.url(NAD_PATH), params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["metadata"]["continue"]
    rest = s.get(twin.url(NAD_PATH), params={"limit": 10, "continue": first["metadata"]["continue"]}).json()
    assert [i["metadata"]["name"] for i in first["items"] + rest["items"]] == [f"p{i}" for i in range(5)]


def test_secret_data_may_hold_an_empty_value(twin):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty", "namespace": "default"},
            "data": {"token": ""}}
    r = twin.session().post(twin.url("/api/v1/namespaces/default/secrets"), json=body)
    assert r.status_code == 201 and r.json()["data"] == {"token": ""}
