"""The twin's patch engine (tests/twin/patch.py), without a server: bodies as clients send them,
results and refusals as kube-apiserver v1.32 gives them."""
from __future__ import annotations

import copy
import json

import pytest

from tests.twin.patch import APPLY, JSON, MERGE, STRATEGIC, PatchError, apply_patch

CORE_415 = ("the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, "
            "application/apply-patch+yaml")
CR_415 = ("the body of the request was in an unknown format - accepted media types include: "
          "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
REJECTED_422 = "the server rejected our request due to an error in our request"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def configmap() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "vm-network-config",
            "namespace": "default",
            "uid": "3f1c2a4e-8d5b-4c1a-9e7f-0a1b2c3d4e5f",
            "resourceVersion": "4711",
            "creationTimestamp": "2025-01-10T09:00:00Z",
            "labels": {"app.kubernetes.io/name": "vm-network", "tier": "infra"},
        },
        "data": {"mtu": "1500", "vlan": "100"},
    }


def service() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "uid": "0b6c9f7e-1111-4222-8333-944455566677",
                     "resourceVersion": "100"},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.43.12.7",
            "clusterIPs": ["10.43.12.7"],
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090},
            ],
        },
        "status": {"loadBalancer": {}},
    }


def node() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "harvester-node-0", "uid": "5d2a9f10-2222-4333-8444-955566677788",
                     "labels": {"kubernetes.io/hostname": "harvester-node-0"}},
        "spec": {
            "podCIDR": "10.52.0.0/24",
            "podCIDRs": ["10.52.0.0/24"],
            "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "192.168.10.11"},
                {"type": "Hostname", "address": "harvester-node-0"},
            ],
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "lastHeartbeatTime": "2025-01-10T09:00:00Z", "lastTransitionTime": "2025-01-01T00:00:00Z"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "lastHeartbeatTime": "2025-01-10T09:00:00Z", "lastTransitionTime": "2025-01-01T00:00:00Z"},
            ],
            "capacity": {"cpu": "16", "memory": "65843264Ki"},
        },
    }


def pvc() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "vm-disk-0", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "10Gi"}},
                 "storageClassName": "longhorn", "volumeMode": "Block"},
        "status": {"phase": "Bound", "capacity": {"storage": "10Gi"},
                   "conditions": [{"type": "Resizing", "status": "True"}]},
    }


def nad() -> dict:
    config = {"cniVersion": "0.3.1", "name": "vlan100", "type": "bridge", "bridge": "mgmt-br", "promiscMode": True,
              "vlan": 100, "ipam": {}}
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": "vlan100", "namespace": "default", "uid": "7e7e7e7e-3333-4444-8555-966677788899",
                     "labels": {"network.harvesterhci.io/clusternetwork": "mgmt",
                                "network.harvesterhci.io/type": "L2VlanNetwork"},
                     "annotations": {"network.harvesterhci.io/route": '{"mode":"auto"}'}},
        "spec": {"config": json.dumps(config, separators=(",", ":"))},
    }


def body(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def smp(live: dict, patch, kind: str | None = None) -> dict:
    return apply_patch(STRATEGIC, live, body(patch), kind=kind or live["kind"], strategic_ok=True)


def refused(content_type: str, live: dict | None, raw: bytes, *, kind: str, strategic_ok: bool = True,
            **kwargs) -> PatchError:
    with pytest.raises(PatchError) as caught:
        apply_patch(content_type, live, raw, kind=kind, strategic_ok=strategic_ok, **kwargs)
    return caught.value


def directive_keys(value, found: list | None = None) -> list:
    found = [] if found is None else found
    if isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("$"):
                found.append(k)
            directive_keys(v, found)
    elif isinstance(value, list):
        for v in value:
            directive_keys(v, found)
    return found


# ------------------------------------------------------------------------------------------------
# media types


def test_strategic_merge_patch_on_a_custom_resource_is_415():
    e = refused(STRATEGIC, nad(), b'{"metadata":{"labels":{"a":"b"}}}', kind="NetworkAttachmentDefinition",
                strategic_ok=False)
    assert (e.code, e.reason, e.message) == (415, "UnsupportedMediaType", CR_415)


def test_unknown_patch_type_on_a_builtin_kind_lists_all_four():
    e = refused("application/json", configmap(), b"{}", kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (415, "UnsupportedMediaType", CORE_415)


def test_charset_parameter_is_ignored():
    out = apply_patch(MERGE + "; charset=utf-8", configmap(), b'{"data":{"mtu":"9000"}}', kind="ConfigMap",
                      strategic_ok=True)
    assert out["data"]["mtu"] == "9000"


def test_live_object_is_never_modified():
    for content_type, raw in [
        (MERGE, b'{"data":{"vlan":null},"metadata":{"labels":{"tier":null}}}'),
        (JSON, b'[{"op":"remove","path":"/data/vlan"}]'),
        (STRATEGIC, b'{"data":{"vlan":null},"metadata":{"finalizers":["x"]}}'),
    ]:
        live = configmap()
        before = copy.deepcopy(live)
        out = apply_patch(content_type, live, raw, kind="ConfigMap", strategic_ok=True)
        assert live == before
        assert out is not live and "vlan" not in out["data"]
    live = configmap()
    apply_patch(APPLY, live, b"apiVersion: v1\nkind: ConfigMap\ndata:\n  mtu: '9000'\n", kind="ConfigMap",
                strategic_ok=True, field_manager="kubectl")
    assert live == configmap()


# ------------------------------------------------------------------------------------------------
# PatchOptions


def test_force_on_a_non_apply_patch_is_invalid():
    e = refused(MERGE, configmap(), b"{}", kind="ConfigMap", force=True)
    assert (e.code, e.reason) == (422, "Invalid")
    assert e.message == 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'
    assert e.details["causes"] == [{"reason": "FieldValueForbidden", "field": "force",
                                    "message": "Forbidden: may not be specified for non-apply patch"}]


def test_field_manager_too_long_or_unprintable():
    e = refused(MERGE, configmap(), b"{}", kind="ConfigMap", field_manager="m" * 129)
    assert e.message == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes'
    e = refused(MERGE, configmap(), b"{}", kind="ConfigMap", field_manager="ops\x07")
    assert e.message == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "ops\\a": '
                         "invalid character U+0007 (at position 3)")


# ------------------------------------------------------------------------------------------------
# JSON merge patch


def test_merge_patch_nulls_delete_objects_merge_lists_replace():
    live = service()
    out = apply_patch(MERGE, live, body({
        "metadata": {"labels": {"app": "web"}, "annotations": None},
        "spec": {"selector": {"app": None, "app.kubernetes.io/name": "web"},
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]},
    }), kind="Service", strategic_ok=True)
    assert out["metadata"]["labels"] == {"app": "web"}
    assert out["spec"]["selector"] == {"app.kubernetes.io/name": "web"}
    assert out["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]
    assert out["spec"]["clusterIP"] == "10.43.12.7"


def test_merge_patch_on_a_custom_resource_drops_nulls_inside_new_objects():
    out = apply_patch(MERGE, nad(), body({
        "metadata": {"labels": {"network.harvesterhci.io/type": None}, "annotations": {"note": "x", "gone": None}},
        "spec": {"config": '{"cniVersion":"0.3.1","name":"vlan200","type":"bridge","vlan":200}'},
        "status": {"observed": {"generation": 1, "unset": None}},
    }), kind="NetworkAttachmentDefinition", strategic_ok=False)
    assert out["metadata"]["labels"] == {"network.harvesterhci.io/clusternetwork": "mgmt"}
    assert out["metadata"]["annotations"] == {"network.harvesterhci.io/route": '{"mode":"auto"}', "note": "x"}
    assert json.loads(out["spec"]["config"])["vlan"] == 200
    assert out["status"] == {"observed": {"generation": 1}}


@pytest.mark.parametrize(("patch_type", "raw", "message"), [
    # a merge patch must be an object
    (MERGE, b'[{"op":"add","path":"/data/a","value":"b"}]',
     "json: cannot unmarshal array into Go value of type map[string]interface {}"),
    (MERGE, b'"data"', "json: cannot unmarshal string into Go value of type map[string]interface {}"),
    # a JSON patch must be an array of operations
    (JSON, b'{"op":"add","path":"/data/a","value":"b"}',
     "json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"),
    (JSON, b'["add"]', "json: cannot unmarshal string into Go value of type handlers.jsonPatchOp"),
    (JSON, b'[{"op":"add","path":5,"value":"b"}]',
     "json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string"),
    (JSON, b'[{"op":"add",}]', "invalid character '}' looking for beginning of object key string"),
])
def test_a_patch_body_of_the_wrong_shape_is_400(patch_type, raw, message):
    e = refused(patch_type, configmap(), raw, kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (400, "BadRequest", f"error decoding patch: {message}")


def test_a_null_merge_patch_is_400_invalid_json_patch():
    e = refused(MERGE, configmap(), b"null", kind="ConfigMap")
    assert (e.code, e.message) == (400, "Invalid JSON Patch")


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "unexpected end of JSON input"),
    (b'{"data":{"mtu":"9000"}', "unexpected end of JSON input"),
    (b"{'data':{}}", "invalid character '\\'' looking for beginning of object key string"),
    (b'{"data":{"mtu":"9000",}}', "invalid character '}' looking for beginning of object key string"),
    (b'{"data" {}}', "invalid character '{' after object key"),
    (b'{"data":{} "x":1}', "invalid character '\"' after object key:value pair"),
    (b"data: {}", "invalid character 'd' looking for beginning of value"),
    (b'{"a":tru}', "invalid character '}' in literal true (expecting 'e')"),
    (b'{"a":01}', "invalid character '1' after object key:value pair"),
    (b'{"a":"x"} {}', "invalid character '{' after top-level value"),
])
def test_merge_patch_syntax_errors_read_like_encoding_json(raw, message):
    e = refused(MERGE, configmap(), raw, kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (400, "BadRequest", "error decoding patch: " + message)


# ------------------------------------------------------------------------------------------------
# JSON patch


def test_json_patch_applies_rfc6902_ops_to_a_custom_resource():
    new_config = '{"cniVersion":"0.3.1","name":"vlan100","type":"bridge","bridge":"mgmt-br","vlan":101}'
    out = apply_patch(JSON, nad(), body([
        {"op": "test", "path": "/metadata/labels/network.harvesterhci.io~1type", "value": "L2VlanNetwork"},
        {"op": "replace", "path": "/spec/config", "value": new_config},
        {"op": "add", "path": "/metadata/labels/tier", "value": "vm"},
        {"op": "remove", "path": "/metadata/annotations/network.harvesterhci.io~1route"},
        {"op": "copy", "from": "/metadata/labels/tier", "path": "/metadata/annotations/tier"},
    ]), kind="NetworkAttachmentDefinition", strategic_ok=False)
    assert out["spec"]["config"] == new_config
    assert out["metadata"]["labels"]["tier"] == "vm"
    assert out["metadata"]["annotations"] == {"tier": "vm"}


@pytest.mark.parametrize("ops", [
    [{"op": "test", "path": "/data/mtu", "value": "9000"}],
    [{"op": "remove", "path": "/data/missing"}],
    [{"op": "replace", "path": "/spec/replicas", "value": 2}],
    [{"op": "add", "path": "/no/such/parent", "value": 1}],
    [{"op": "frobnicate", "path": "/data"}],
    [{"path": "/data"}],
])
def test_json_patch_that_cannot_apply_is_422_with_the_canned_text(ops):
    e = refused(JSON, configmap(), body(ops), kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (422, "Invalid", REJECTED_422)


def test_json_patch_empty_or_null_is_a_no_op():
    assert apply_patch(JSON, configmap(), b"[]", kind="ConfigMap", strategic_ok=True) == configmap()
    assert apply_patch(JSON, configmap(), b"null", kind="ConfigMap", strategic_ok=True) == configmap()


def test_json_patch_operation_limit_is_413():
    ops = [{"op": "add", "path": "/metadata/labels/x", "value": "y"}] * 10001
    e = refused(JSON, configmap(), body(ops), kind="ConfigMap")
    assert (e.code, e.reason) == (413, "RequestEntityTooLarge")
    assert e.message == "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"


def test_json_patch_that_leaves_no_object_is_invalid():
    e = refused(JSON, configmap(), b'[{"op":"replace","path":"","value":[1]}]', kind="ConfigMap")
    assert (e.code, e.reason) == (422, "Invalid")
    assert e.message.startswith(' "" is invalid: patch: Invalid value: "[1]": couldn\'t get version/kind; json parse error: '
                                "json: cannot unmarshal array into Go value of type struct { APIVersion string")


# ------------------------------------------------------------------------------------------------
# strategic merge patch: plain fields


def test_smp_configmap_maps_merge_and_nulls_delete():
    out = smp(configmap(), {"data": {"mtu": "9000", "vlan": None, "bridge": "br0"},
                            "metadata": {"labels": {"tier": None, "team": "net"}}})
    assert out["data"] == {"mtu": "9000", "bridge": "br0"}
    assert out["metadata"]["labels"] == {"app.kubernetes.io/name": "vm-network", "team": "net"}


def test_smp_null_for_a_missing_key_is_dropped_not_stored():
    out = smp(configmap(), {"binaryData": None, "metadata": {"annotations": {"a": "1", "b": None}}})
    assert "binaryData" not in out
    assert out["metadata"]["annotations"] == {"a": "1"}


def test_smp_body_must_be_an_object():
    e = refused(STRATEGIC, configmap(), b'[{"op":"add"}]', kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (
        400, "BadRequest", "json: cannot unmarshal array into Go value of type map[string]interface {}")
    e = refused(STRATEGIC, configmap(), b'{"data":}', kind="ConfigMap")
    assert (e.code, e.message) == (400, "invalid character '}' looking for beginning of value")


def test_smp_null_body_changes_nothing():
    assert apply_patch(STRATEGIC, configmap(), b"null", kind="ConfigMap", strategic_ok=True) == configmap()


def test_smp_lists_without_a_strategy_are_replaced():
    out = smp(node(), {"spec": {"taints": [{"key": "kubevirt.io/drain", "effect": "NoSchedule"}]},
                       "metadata": {"labels": {"topology.kubernetes.io/zone": "rack-1"}}})
    assert out["spec"]["taints"] == [{"key": "kubevirt.io/drain", "effect": "NoSchedule"}]
    assert out["metadata"]["labels"] == {"kubernetes.io/hostname": "harvester-node-0",
                                         "topology.kubernetes.io/zone": "rack-1"}
    out = smp(service(), {"spec": {"clusterIPs": ["10.43.12.8"]}})
    assert out["spec"]["clusterIPs"] == ["10.43.12.8"]


# ------------------------------------------------------------------------------------------------
# strategic merge patch: merging lists


def test_smp_service_ports_merge_by_port():
    # Patch items keep the patch's order; a new item goes before the server-only item it meets.
    out = smp(service(), {"spec": {"ports": [{"port": 80, "targetPort": 8081},
                                             {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]}})
    assert out["spec"]["ports"] == [
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8081},
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443},
        {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090},
    ]
    out = smp(service(), {"spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]}})
    assert [p["port"] for p in out["spec"]["ports"]] == [443, 80, 9090]  # a lone new item lands first


def test_smp_port_item_without_merge_key_is_a_500():
    e = refused(STRATEGIC, service(), body({"spec": {"ports": [{"name": "http", "targetPort": 8081}]}}), kind="Service")
    assert (e.code, e.reason) == (500, "")
    assert e.message == "map: map[name:http targetPort:8081] does not contain declared merge key: port"


def test_smp_node_conditions_and_addresses_merge_by_type():
    out = smp(node(), {"status": {
        "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"},
                       {"type": "DiskPressure", "status": "False"}],
        "addresses": [{"type": "ExternalIP", "address": "203.0.113.7"}],
    }})
    conditions = {c["type"]: c for c in out["status"]["conditions"]}
    assert [c["type"] for c in out["status"]["conditions"]] == ["MemoryPressure", "Ready", "DiskPressure"]
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["lastTransitionTime"] == "2025-01-01T00:00:00Z"  # merged, not replaced
    assert conditions["MemoryPressure"]["reason"] == "KubeletHasSufficientMemory"
    assert [a["type"] for a in out["status"]["addresses"]] == ["ExternalIP", "InternalIP", "Hostname"]


def test_smp_node_pod_cidrs_merge_as_a_set():
    out = smp(node(), {"spec": {"podCIDRs": ["10.52.0.0/24", "fd00:52::/64"]}})
    assert out["spec"]["podCIDRs"] == ["10.52.0.0/24", "fd00:52::/64"]


def test_smp_pvc_status_conditions_merge_by_type():
    out = smp(pvc(), {"status": {"conditions": [{"type": "FileSystemResizePending", "status": "True"}]}})
    assert [c["type"] for c in out["status"]["conditions"]] == ["FileSystemResizePending", "Resizing"]


def test_smp_namespace_status_conditions_merge_by_type():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "harvester-public"},
          "spec": {"finalizers": ["kubernetes"]},
          "status": {"phase": "Terminating", "conditions": [{"type": "NamespaceDeletionDiscoveryFailure", "status": "False"}]}}
    out = smp(ns, {"status": {"conditions": [{"type": "NamespaceContentRemaining", "status": "True"}]},
                   "spec": {"finalizers": []}})
    assert [c["type"] for c in out["status"]["conditions"]] == ["NamespaceContentRemaining", "NamespaceDeletionDiscoveryFailure"]
    assert out["spec"]["finalizers"] == []  # spec.finalizers has no strategy: replaced


def test_smp_owner_references_merge_by_uid():
    live = configmap()
    live["metadata"]["ownerReferences"] = [{"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
                                            "name": "ubuntu", "uid": "aaaa-1111"}]
    out = smp(live, {"metadata": {"ownerReferences": [
        {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": "vm0", "uid": "bbbb-2222", "controller": True},
        {"uid": "aaaa-1111", "blockOwnerDeletion": True},
    ]}})
    refs = out["metadata"]["ownerReferences"]
    assert [r["uid"] for r in refs] == ["bbbb-2222", "aaaa-1111"]
    assert refs[1] == {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage", "name": "ubuntu",
                       "uid": "aaaa-1111", "blockOwnerDeletion": True}


def test_smp_finalizers_merge_as_a_set():
    live = configmap()
    live["metadata"]["finalizers"] = ["wrangler.cattle.io/harvester-network"]
    out = smp(live, {"metadata": {"finalizers": ["harvesterhci.io/vm-network", "wrangler.cattle.io/harvester-network"]}})
    assert out["metadata"]["finalizers"] == ["harvesterhci.io/vm-network", "wrangler.cattle.io/harvester-network"]
    # a null still deletes the whole list
    assert "finalizers" not in smp(live, {"metadata": {"finalizers": None}})["metadata"]


def test_smp_lists_of_lists_are_refused():
    live = configmap()
    live["metadata"]["finalizers"] = []
    e = refused(STRATEGIC, live, body({"metadata": {"finalizers": [["a"]]}}), kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (422, "Invalid", REJECTED_422)


# ------------------------------------------------------------------------------------------------
# strategic merge patch: directives


def test_smp_delete_from_primitive_list():
    live = configmap()
    live["metadata"]["finalizers"] = ["a.example.com/x", "b.example.com/y", "c.example.com/z"]
    out = smp(live, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b.example.com/y", "not-there"]}})
    assert out["metadata"]["finalizers"] == ["a.example.com/x", "c.example.com/z"]
    # idempotent: deleting from a list that is not there adds nothing
    out = smp(configmap(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b.example.com/y"]}})
    assert "finalizers" not in out["metadata"]
    assert directive_keys(out) == []


def test_smp_delete_from_primitive_list_needs_a_field_name():
    e = refused(STRATEGIC, configmap(), body({"metadata": {"$deleteFromPrimitiveList": ["x"]}}), kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (400, "BadRequest", "invalid patch format of primitive list")


def test_smp_patch_delete_on_list_items():
    out = smp(service(), {"spec": {"ports": [{"$patch": "delete", "port": 9090}]}})
    assert out["spec"]["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]
    out = smp(node(), {"status": {"conditions": [{"$patch": "delete", "type": "MemoryPressure"}]}})
    assert [c["type"] for c in out["status"]["conditions"]] == ["Ready"]


def test_smp_patch_replace_on_a_list():
    out = smp(service(), {"spec": {"ports": [{"$patch": "replace"},
                                             {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]}})
    assert out["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]


def test_smp_patch_replace_and_delete_on_maps():
    out = smp(configmap(), {"data": {"$patch": "replace", "mtu": "9000"}})
    assert out["data"] == {"mtu": "9000"}
    out = smp(configmap(), {"metadata": {"labels": {"$patch": "delete"}}})
    assert out["metadata"]["labels"] == {}
    assert out["metadata"]["name"] == "vm-network-config"
    # a directive in a value new to the object is applied, not stored
    out = smp(configmap(), {"binaryData": {"$patch": "replace", "blob": "AAEC"}})
    assert out["binaryData"] == {"blob": "AAEC"}


def test_smp_patch_merge_is_not_supported_upstream():
    e = refused(STRATEGIC, configmap(), body({"data": {"$patch": "merge", "mtu": "9000"}}), kind="ConfigMap")
    assert (e.code, e.reason, e.message) == (500, "", "unknown patch type: merge in map: map[$patch:merge mtu:9000]")
    e = refused(STRATEGIC, service(), body({"spec": {"ports": [{"$patch": "merge"}]}}), kind="Service")
    assert (e.code, e.message) == (500, "merging lists cannot yet be specified in the patch")


def test_smp_retain_keys():
    out = smp(service(), {"spec": {"$retainKeys": ["ports", "selector", "type"], "type": "ClusterIP"}})
    assert set(out["spec"]) == {"ports", "selector", "type"}
    e = refused(STRATEGIC, service(), body({"spec": {"$retainKeys": ["type"], "selector": {"app": "x"}}}), kind="Service")
    assert (e.code, e.reason, e.message) == (400, "BadRequest", "invalid patch format of retainKeys")
    e = refused(STRATEGIC, service(), body({"spec": {"$retainKeys": "type"}}), kind="Service")
    assert e.message == "invalid patch format of retainKeys"


def test_smp_set_element_order_orders_merged_lists():
    out = smp(service(), {"spec": {"$setElementOrder/ports": [{"port": 9090}, {"port": 443}, {"port": 80}],
                                   "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]}})
    assert [p["port"] for p in out["spec"]["ports"]] == [9090, 443, 80]
    live = configmap()
    live["metadata"]["finalizers"] = ["a", "b"]
    out = smp(live, {"metadata": {"$setElementOrder/finalizers": ["b", "c", "a"], "finalizers": ["c"]}})
    assert out["metadata"]["finalizers"] == ["b", "c", "a"]
    assert directive_keys(out) == []


def test_smp_set_element_order_must_agree_with_the_patch_list():
    e = refused(STRATEGIC, service(), body({"spec": {"$setElementOrder/ports": [{"port": 443}, {"port": 80}],
                                                      "ports": [{"port": 80}, {"port": 443}]}}), kind="Service")
    assert (e.code, e.reason) == (500, "")
    assert e.message == ("The order in patch list:\n[map[port:80] map[port:443]]\n doesn't match $setElementOrder list:\n"
                         "[map[port:443] map[port:80]]\n")
    e = refused(STRATEGIC, service(), body({"spec": {"$setElementOrder": [{"port": 80}]}}), kind="Service")
    assert (e.code, e.message) == (400, "invalid patch format of setElementOrder list")


def test_smp_set_element_order_on_a_list_without_strategy_is_accepted_and_stripped():
    out = smp(node(), {"spec": {"$setElementOrder/taints": [{"key": "x"}], "taints": [{"key": "x", "effect": "NoExecute"}]}})
    assert out["spec"]["taints"] == [{"key": "x", "effect": "NoExecute"}]
    assert directive_keys(out) == []


def test_smp_directives_never_reach_the_result():
    live = service()
    live["metadata"]["finalizers"] = ["a"]
    out = smp(live, {
        "metadata": {"$setElementOrder/finalizers": ["a", "b"], "finalizers": ["b"],
                     "$deleteFromPrimitiveList/finalizers": ["zzz"], "labels": {"$patch": "replace", "x": "y"}},
        "spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 9090}],
                 "ports": [{"port": 80, "targetPort": 8081}],
                 "sessionAffinityConfig": {"$retainKeys": ["clientIP"], "clientIP": {"timeoutSeconds": 10}}},
        "status": {"conditions": [{"$patch": "delete", "type": "x"}, {"type": "Ready", "status": "True"}]},
    })
    assert directive_keys(out) == []
    assert out["metadata"]["finalizers"] == ["a", "b"]
    assert out["metadata"]["labels"] == {"x": "y"}
    assert out["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10}}
    assert out["status"]["conditions"] == [{"type": "Ready", "status": "True"}]


# ------------------------------------------------------------------------------------------------
# what kubectl v1.32 sends: bodies captured byte for byte from `kubectl apply --validate=false` against a
# stub server that served the live objects below and recorded the PATCH requests.

KUBECTL_APPLY_CONFIGMAP = (
    b'{"data":{"bridge":"br0","mtu":"9000","vlan":null},"metadata":{"annotations":{"kubectl.kubernetes.io/'
    b'last-applied-configuration":"{\\"apiVersion\\":\\"v1\\",\\"data\\":{\\"bridge\\":\\"br0\\",\\"mtu\\":'
    b'\\"9000\\"},\\"kind\\":\\"ConfigMap\\",\\"metadata\\":{\\"annotations\\":{},\\"name\\":'
    b'\\"vm-network-config\\",\\"namespace\\":\\"default\\"}}\\n"}}}'
)
KUBECTL_APPLY_SERVICE = (
    b'{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"apiVersion\\":\\"v1\\",'
    b'\\"kind\\":\\"Service\\",\\"metadata\\":{\\"annotations\\":{},\\"name\\":\\"web\\",\\"namespace\\":'
    b'\\"default\\"},\\"spec\\":{\\"ports\\":[{\\"name\\":\\"http\\",\\"port\\":80,\\"protocol\\":\\"TCP\\",'
    b'\\"targetPort\\":8080},{\\"name\\":\\"metrics\\",\\"port\\":9090,\\"protocol\\":\\"TCP\\",'
    b'\\"targetPort\\":9090},{\\"name\\":\\"https\\",\\"port\\":443,\\"protocol\\":\\"TCP\\",'
    b'\\"targetPort\\":8443}],\\"selector\\":{\\"app\\":\\"web\\"}}}\\n"}},"spec":{"$setElementOrder/ports":'
    b'[{"port":80},{"port":9090},{"port":443}],"ports":[{"name":"https","port":443,"protocol":"TCP","targetPort":8443}]}}'
)
KUBECTL_APPLY_DROPPED_FINALIZER = (
    b'{"metadata":{"$deleteFromPrimitiveList/finalizers":["b.example.com/y"],"$setElementOrder/finalizers":'
    b'["a.example.com/x"],"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"apiVersion\\":'
    b'\\"v1\\",\\"data\\":{\\"mtu\\":\\"1500\\",\\"vlan\\":\\"100\\"},\\"kind\\":\\"ConfigMap\\",'
    b'\\"metadata\\":{\\"annotations\\":{},\\"finalizers\\":[\\"a.example.com/x\\"],\\"name\\":'
    b'\\"vm-network-config\\",\\"namespace\\":\\"default\\"}}\\n"}}}'
)


def applied_before(obj: dict, last: dict) -> dict:
    obj["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(last, separators=(",", ":")) + "\n"}
    return obj


def test_kubectl_apply_of_a_modified_configmap():
    """The file changed data.mtu, dropped data.vlan and added data.bridge."""
    live = applied_before(configmap(), {
        "apiVersion": "v1", "data": {"mtu": "1500", "vlan": "100"}, "kind": "ConfigMap",
        "metadata": {"annotations": {}, "name": "vm-network-config", "namespace": "default"}})
    out = apply_patch(STRATEGIC, live, KUBECTL_APPLY_CONFIGMAP, kind="ConfigMap", strategic_ok=True,
                      field_manager="kubectl-client-side-apply")
    assert out["data"] == {"mtu": "9000", "bridge": "br0"}
    assert json.loads(out["metadata"]["annotations"][LAST_APPLIED])["data"] == {"bridge": "br0", "mtu": "9000"}
    assert out["metadata"]["annotations"][LAST_APPLIED].endswith("}\n")
    assert out["metadata"]["labels"] == live["metadata"]["labels"]
    assert out["metadata"]["uid"] == live["metadata"]["uid"]


def test_kubectl_apply_adding_a_service_port_keeps_the_file_order():
    """kubectl sends only the new port plus $setElementOrder/ports (the file's order); without the
    directive the new port would land first."""
    live = applied_before(service(), {
        "apiVersion": "v1", "kind": "Service", "metadata": {"annotations": {}, "name": "web", "namespace": "default"},
        "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                           {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090}],
                 "selector": {"app": "web"}}})
    out = apply_patch(STRATEGIC, live, KUBECTL_APPLY_SERVICE, kind="Service", strategic_ok=True)
    assert [p["port"] for p in out["spec"]["ports"]] == [80, 9090, 443]
    assert out["spec"]["ports"][2] == {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}
    assert out["spec"]["clusterIP"] == "10.43.12.7"
    assert directive_keys(out) == []
    without_order = json.loads(KUBECTL_APPLY_SERVICE)
    del without_order["spec"]["$setElementOrder/ports"]
    assert [p["port"] for p in smp(live, without_order)["spec"]["ports"]] == [443, 80, 9090]


def test_kubectl_apply_dropping_a_finalizer_keeps_the_ones_it_does_not_own():
    """Last applied [x, y], file [x], live [x, y, z] (z added by a controller): y goes, z stays."""
    live = applied_before(configmap(), {
        "apiVersion": "v1", "data": {"mtu": "1500", "vlan": "100"}, "kind": "ConfigMap",
        "metadata": {"annotations": {}, "finalizers": ["a.example.com/x", "b.example.com/y"], "name": "vm-network-config",
                     "namespace": "default"}})
    live["metadata"]["finalizers"] = ["a.example.com/x", "b.example.com/y", "c.example.com/z"]
    out = apply_patch(STRATEGIC, live, KUBECTL_APPLY_DROPPED_FINALIZER, kind="ConfigMap", strategic_ok=True)
    assert out["metadata"]["finalizers"] == ["a.example.com/x", "c.example.com/z"]
    assert directive_keys(out) == []


def test_kubectl_server_side_apply_body():
    """`kubectl apply --server-side` sends the file as JSON (with a newline) under apply-patch+yaml, force=false."""
    raw = (b'{"apiVersion":"v1","data":{"mtu":"1500","vlan":"100"},"kind":"ConfigMap","metadata":{"finalizers":'
           b'["a.example.com/x"],"name":"vm-network-config","namespace":"default"}}\n')
    out = apply_patch(APPLY, configmap(), raw, kind="ConfigMap", strategic_ok=True, field_manager="kubectl", force=False)
    assert out["metadata"]["finalizers"] == ["a.example.com/x"]
    assert out["metadata"]["labels"] == configmap()["metadata"]["labels"]


def test_kubectl_patch_default_strategic_on_a_custom_resource_is_refused():
    # `kubectl patch net-attach-def vlan100 -p '{"spec":{...}}'` (default --type=strategic)
    e = refused(STRATEGIC, nad(), b'{"spec":{"config":"{}"}}', kind="NetworkAttachmentDefinition", strategic_ok=False,
                field_manager="kubectl-patch")
    assert (e.code, e.message) == (415, CR_415)


# ------------------------------------------------------------------------------------------------
# server-side apply (simplified)

NAD_APPLY = b"""\
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: vlan100
  namespace: default
  labels:
    network.harvesterhci.io/type: L2VlanNetwork
    tier: vm
spec:
  config: '{"cniVersion":"0.3.1","name":"vlan100","type":"bridge","bridge":"mgmt-br","vlan":100}'
"""


def test_apply_creates_when_there_is_no_live_object():
    out = apply_patch(APPLY, None, NAD_APPLY, kind="NetworkAttachmentDefinition", strategic_ok=False,
                      field_manager="kubectl")
    assert out["metadata"] == {"name": "vlan100", "namespace": "default",
                               "labels": {"network.harvesterhci.io/type": "L2VlanNetwork", "tier": "vm"}}
    assert json.loads(out["spec"]["config"])["vlan"] == 100


def test_apply_merges_maps_into_live_and_replaces_lists():
    out = apply_patch(APPLY, nad(), NAD_APPLY, kind="NetworkAttachmentDefinition", strategic_ok=False,
                      field_manager="harvester-network-controller", force=True)
    assert out["metadata"]["labels"] == {"network.harvesterhci.io/clusternetwork": "mgmt",
                                         "network.harvesterhci.io/type": "L2VlanNetwork", "tier": "vm"}
    assert out["metadata"]["uid"] == nad()["metadata"]["uid"]
    out = apply_patch(APPLY, service(), b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},'
                      b'"spec":{"ports":[{"name":"https","port":443}]}}', kind="Service", strategic_ok=True,
                      field_manager="ops")
    assert out["spec"]["ports"] == [{"name": "https", "port": 443}]
    assert out["spec"]["selector"] == {"app": "web"}


def test_apply_keeps_timestamps_as_strings():
    raw = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    at: 2025-01-10T09:00:00Z\ndata:\n  on: yes\n"
    out = apply_patch(APPLY, None, raw, kind="ConfigMap", strategic_ok=True, field_manager="kubectl")
    assert out["metadata"]["annotations"]["at"] == "2025-01-10T09:00:00Z"


@pytest.mark.parametrize("manager", [None, ""])
def test_apply_requires_a_field_manager(manager):
    e = refused(APPLY, configmap(), b"apiVersion: v1\nkind: ConfigMap\n", kind="ConfigMap", field_manager=manager)
    assert (e.code, e.reason) == (422, "Invalid")
    assert e.message == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    assert e.details == {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
        {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]}


def test_apply_body_must_be_a_yaml_object():
    e = refused(APPLY, None, b"- apiVersion: v1\n  kind: ConfigMap\n", kind="ConfigMap", field_manager="kubectl")
    assert (e.code, e.reason) == (400, "BadRequest")
    assert e.message == ("error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array "
                         "into Go value of type map[string]interface {}")
    e = refused(APPLY, None, b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a: b\n", kind="ConfigMap",
                field_manager="kubectl")
    assert e.message == "error decoding YAML: error converting YAML to JSON: yaml: line 4: mapping values are not allowed in this context"


def test_apply_must_name_the_endpoint_kind_and_version():
    e = refused(APPLY, configmap(), b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: vm-network-config\n",
                kind="ConfigMap", field_manager="kubectl")
    assert (e.code, e.message) == (400, "invalid object type: /v1, Kind=Secret")
    e = refused(APPLY, nad(), b"apiVersion: k8s.cni.cncf.io/v2\nkind: NetworkAttachmentDefinition\n",
                kind="NetworkAttachmentDefinition", strategic_ok=False, field_manager="kubectl")
    assert e.message == "invalid object type: k8s.cni.cncf.io/v2, Kind=NetworkAttachmentDefinition"
    e = refused(APPLY, None, b"kind: ConfigMap\nmetadata:\n  name: c\n", kind="ConfigMap", field_manager="kubectl",
                api_version="v1")
    assert e.message == "invalid object type: /, Kind=ConfigMap"


def test_apply_refuses_managed_fields():
    raw = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  managedFields:\n"
           b"  - manager: kubectl\n    operation: Apply\n")
    e = refused(APPLY, None, raw, kind="ConfigMap", field_manager="kubectl")
    assert (e.code, e.reason, e.message) == (400, "BadRequest", "metadata.managedFields must be nil")
