"""Harvester's Steve API for every kind, black-box through requests (and kubectl to see the
effects): type names, resource and collection shapes, `metadata.state`, writes through the same
webhooks and controllers as the Kubernetes API, and Steve's JSON errors (rancher/steve v0.7.17,
rancher/apiserver v0.7.3, harvester v1.8.2 pkg/server)."""
from __future__ import annotations

import base64

import pytest

from .conftest import wait_for

V1 = "/v1/harvester"
NS = "default"


def get(twin, path, **params):
    r = twin.session().get(twin.url(V1 + path), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def error(response, status, code, message):
    assert response.status_code == status, response.text
    assert response.json() == {"type": "error", "links": {}, "code": code, "message": message, "status": status}


# ---------------------------------------------------------------------------------------- reads and shapes
@pytest.mark.parametrize("type_name, resource_type, path, item_id", [
    ("harvesterhci.io.setting", "harvesterhci.io.setting", "/server-version", "server-version"),
    ("harvesterhci.io.settings", "harvesterhci.io.setting", "/server-version", "server-version"),
    ("nodes", "node", "/ms02-1", "ms02-1"),
    ("namespaces", "namespace", "/default", "default"),
    ("persistentvolumeclaims", "persistentvolumeclaim", "/default/lab-dns-rootdisk", "default/lab-dns-rootdisk"),
    ("kubevirt.io.virtualmachines", "kubevirt.io.virtualmachine", "/default/lab-dns", "default/lab-dns"),
    ("k8s.cni.cncf.io.network-attachment-definitions", "k8s.cni.cncf.io.networkattachmentdefinition",
     "/default/lab-uplink", "default/lab-uplink"),
    ("network.harvesterhci.io.clusternetworks", "network.harvesterhci.io.clusternetwork", "/mgmt", "mgmt"),
])
def test_every_kind_by_its_type_name_id_plural_or_singular(twin, type_name, resource_type, path, item_id):
    one = get(twin, f"/{type_name}{path}")
    assert one["id"] == item_id and one["type"] == resource_type
    assert one["links"]["self"] == twin.url(f"{V1}/{_plural(one)}/{item_id}")
    assert set(one["links"]) == {"self", "update", "remove", "patch", "view"}
    assert one["metadata"]["state"]["name"] and set(one["metadata"]["state"]) == {"name", "error", "transitioning", "message"}
    listing = get(twin, f"/{type_name}")
    assert listing["type"] == "collection" and listing["resourceType"] == resource_type
    assert listing["count"] == len(listing["data"]) and item_id in [d["id"] for d in listing["data"]]
    assert listing["createTypes"] == {resource_type: twin.url(f"{V1}/{_plural(one)}")}
    assert int(listing["revision"]) > 0 and listing["links"]["self"] == twin.url(f"{V1}/{type_name}")


def _plural(resource):
    """The plural name Steve builds links from: `<group>.<resource>` or the core resource."""
    view = resource["links"]["view"]
    parts = view.split("/")
    resource_plural = parts[-2]
    group = parts[4] if parts[3] == "apis" else ""
    return f"{group}.{resource_plural}" if group else resource_plural


def test_a_resource_carries_the_formatters_fields_state_and_normalized_conditions(twin):
    node = get(twin, "/nodes/ms02-1")
    assert node["links"]["view"] == twin.url("/api/v1/nodes/ms02-1")
    assert node["metadata"]["state"] == {"name": "active", "error": False, "transitioning": False,
                                         "message": "Resource is Ready"}
    assert node["metadata"]["fields"][0] == "ms02-1" and node["metadata"]["relationships"] is None
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["error"] is False and ready["transitioning"] is False and "lastUpdateTime" in ready
    pressure = next(c for c in node["status"]["conditions"] if c["type"] == "MemoryPressure")
    assert pressure["error"] is False  # False: no error (Node's error map: True is one)
    pvc = get(twin, f"/persistentvolumeclaims/{NS}/lab-dns-rootdisk")
    assert pvc["metadata"]["state"]["name"] == "bound"


def test_a_namespace_segment_lists_one_namespace_and_selectors_filter(twin):
    in_default = get(twin, f"/kubevirt.io.virtualmachines/{NS}")
    assert sorted(d["id"] for d in in_default["data"]) == ["default/lab-builder", "default/lab-dns", "default/lab-router"]
    empty = get(twin, "/kubevirt.io.virtualmachines/longhorn-system")
    assert empty["data"] == [] and "count" not in empty  # omitempty
    filtered = get(twin, "/kubevirt.io.virtualmachines", filter="spec.runStrategy=Halted")
    assert [d["id"] for d in filtered["data"]] == ["default/lab-builder"]
    assert filtered["links"]["self"] == twin.url(f"{V1}/kubevirt.io.virtualmachines")  # no query
    negated = get(twin, "/kubevirt.io.virtualmachines", filter="spec.runStrategy!=Halted")
    assert sorted(d["id"] for d in negated["data"]) == ["default/lab-dns", "default/lab-router"]
    labelled = get(twin, "/nodes", labelSelector="node-role.kubernetes.io/control-plane=true")
    assert len(labelled["data"]) == 3


# ---------------------------------------------------------------------------------------- writes
def ed25519_key() -> str:
    blob = b"".join(len(p).to_bytes(4, "big") + p for p in (b"ssh-ed25519", bytes(range(32))))
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " ops@lab"


def keypair(name, key=None):
    return {"metadata": {"name": name}, "spec": {"publicKey": key if key is not None else ed25519_key()}}


def test_create_fills_type_namespace_and_name_then_controllers_act(twin):
    s = twin.session()
    created = s.post(twin.url(f"{V1}/harvesterhci.io.keypairs/{NS}"), json=keypair("ops"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == "default/ops" and body["apiVersion"] == "harvesterhci.io/v1beta1" and body["kind"] == "KeyPair"
    # the keypair controller writes the fingerprint, as after a kubectl create
    wait_for(lambda: (get(twin, f"/harvesterhci.io.keypairs/{NS}/ops").get("status") or {}).get("fingerPrint"),
             "the fingerprint")
    generated = s.post(twin.url(f"{V1}/configmaps"), json={"metadata": {"namespace": NS}, "data": {"a": "b"}})
    assert generated.status_code == 201 and generated.json()["metadata"]["name"].startswith("c-")
    pruned = s.post(twin.url(f"{V1}/harvesterhci.io.keypairs/{NS}"), json={**keypair("dev"), "bogus": 1})
    assert pruned.status_code == 201 and "bogus" not in pruned.json()
    assert pruned.headers["Warning"] == '299 - unknown field "bogus"'  # Kubernetes' warning, Steve's header
    missing = s.post(twin.url(f"{V1}/configmaps"), json={"data": {"a": "b"}})
    error(missing, 422, "InvalidBodyContent", "metadata.namespace is required")
    error(s.post(twin.url(f"{V1}/configmaps"), data="{nope"), 422, "InvalidBodyContent",
          "Failed to parse body: invalid character 'n' looking for beginning of object key string")


def test_writes_meet_the_same_webhooks_as_the_kubernetes_api(twin):
    s = twin.session()
    vm = {"metadata": {"name": "both", "namespace": NS},
          "spec": {"running": True, "runStrategy": "Always", "template": {"spec": {"domain": {"memory": {"guest": "1Gi"}, "devices": {}}}}}}
    refused = s.post(twin.url(f"{V1}/kubevirt.io.virtualmachines"), json=vm)
    error(refused, 422, "Invalid", 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request: Running '
                                   "and RunStrategy are mutually exclusive. Note that Running is deprecated, please use "
                                   "RunStrategy instead")
    assert twin.kubectl("get", "vm", "both", "-n", NS, check=False).returncode != 0
    bad_key = s.post(twin.url(f"{V1}/harvesterhci.io.keypairs/{NS}"), json=keypair("bad", key="ssh-rsa nope"))
    error(bad_key, 422, "Invalid", 'admission webhook "validator.harvesterhci.io" denied the request: key is not in '
                                   "valid OpenSSH public key format")


def test_update_takes_the_formatted_resource_back_and_needs_its_resource_version(twin):
    s = twin.session()
    node = get(twin, "/nodes/ms02-3")
    node["metadata"].setdefault("labels", {})["lab/rack"] = "r2"
    updated = s.put(twin.url(f"{V1}/nodes/ms02-3"), json=node)
    assert updated.status_code == 200, updated.text
    assert updated.json()["metadata"]["labels"]["lab/rack"] == "r2" and updated.json()["type"] == "node"
    out = twin.kubectl("get", "node", "ms02-3", "-o", "jsonpath={.metadata.labels.lab/rack}").stdout
    assert out == "r2"
    stale = s.put(twin.url(f"{V1}/nodes/ms02-3"), json=node)  # the old resourceVersion
    assert stale.status_code == 409 and stale.json()["code"] == "Conflict"
    del node["metadata"]["resourceVersion"]
    error(s.put(twin.url(f"{V1}/nodes/ms02-3"), json=node), 500, "ServerError",
          "metadata.resourceVersion is required for update")


def test_patch_reaches_only_cluster_scoped_objects(twin):
    s = twin.session()
    patched = s.patch(twin.url(f"{V1}/nodes/ms02-2"), json={"metadata": {"labels": {"lab/rack": "r1"}}})
    assert patched.status_code == 200 and patched.json()["metadata"]["labels"]["lab/rack"] == "r1"
    # the client is built from the (empty) body's namespace: no namespace in the path
    error(s.patch(twin.url(f"{V1}/kubevirt.io.virtualmachines/{NS}/lab-dns"), json={"metadata": {"labels": {"a": "b"}}}),
          404, "NotFound", "the server could not find the requested resource")
    # strategic merge is not for custom resources
    crd = s.patch(twin.url(f"{V1}/harvesterhci.io.settings/log-level"), json={"value": "debug"})
    assert crd.status_code == 415 and crd.json()["code"] == "UnsupportedMediaType"


def test_delete_answers_204_when_gone_and_the_object_while_finalizers_hold_it(twin):
    s = twin.session()
    s.post(twin.url(f"{V1}/configmaps/{NS}"), json={"metadata": {"name": "gone"}}).raise_for_status()
    gone = s.delete(twin.url(f"{V1}/configmaps/{NS}/gone"))
    assert gone.status_code == 204 and gone.content == b""
    held = s.delete(twin.url(f"{V1}/kubevirt.io.virtualmachines/{NS}/lab-builder"), params={"removedDisks": "rootdisk"})
    assert held.status_code == 200, held.text
    assert held.json()["metadata"]["deletionTimestamp"] and held.json()["metadata"]["state"]["name"] == "removing"
    assert held.json()["metadata"]["annotations"]["harvesterhci.io/removedPersistentVolumeClaims"] == "lab-builder-rootdisk"
    wait_for(lambda: twin.kubectl("get", "vm", "lab-builder", "-n", NS, check=False).returncode != 0, "the VM gone")
    wait_for(lambda: twin.kubectl("get", "pvc", "lab-builder-rootdisk", "-n", NS, check=False).returncode != 0,
             "its removed disk's PVC deleted")
    error(s.delete(twin.url(f"{V1}/kubevirt.io.virtualmachines/{NS}/lab-builder")), 404, "NotFound",
          "VirtualMachine default/lab-builder not found")


# ---------------------------------------------------------------------------------------- framework errors
def test_steve_errors_in_the_order_the_framework_checks(twin):
    s = twin.session()
    assert s.get(twin.url(f"{V1}/widgets.example.io")).status_code == 404
    assert s.get(twin.url(f"{V1}/widgets.example.io")).content == b""
    error(s.options(twin.url(f"{V1}/nodes")), 405, "MethodNotAllowed", "Invalid method OPTIONS not supported")
    error(s.post(twin.url(f"{V1}/nodes/ms02-1"), json={}), 403, "PermissionDenied", "Method POST not supported")
    error(s.delete(twin.url(f"{V1}/nodes")), 403, "PermissionDenied", "Method DELETE not supported")
    error(s.get(twin.url(f"{V1}/persistentvolumeclaims/{NS}/nope")), 404, "NotFound",
          'persistentvolumeclaims "nope" not found')
    error(s.post(twin.url(f"{V1}/persistentvolumeclaims/{NS}/lab-dns-rootdisk"), params={"action": "expand"}),
          422, "InvalidAction", "Invalid action: expand")
    assert twin.session(token="wrong").get(twin.url(f"{V1}/nodes")).status_code == 401
