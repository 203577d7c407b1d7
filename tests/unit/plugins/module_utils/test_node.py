# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/node.py on fixture dicts shaped like the lab's objects:
bond members up and down, a NIC missing, a node without a Longhorn node, roles, maintenance,
and the request count of ``gather`` (one per kind)."""

from __future__ import annotations

import copy
import json
from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import node
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.module_utils.errors import ConnectionFailure, NotFound, RequestTimeout, TLSFailure
from ansible_collections.homelab.harvester.plugins.module_utils.retry import RetryPolicy


def k8s_node(name, ip, ready="True", unschedulable=False, annotations=None, witness=False):
    labels = {"kubernetes.io/hostname": name, "node-role.kubernetes.io/control-plane": "true",
              "node-role.kubernetes.io/etcd": "true", "network.harvesterhci.io/mgmt": "true"}
    if witness:
        labels = {"node-role.harvesterhci.io/witness": "true", "node-role.kubernetes.io/etcd": "true"}
    obj = {"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": name, "labels": labels, "annotations": dict(annotations or {})},
           "spec": {"podCIDR": "10.52.0.0/24"},
           "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                      "conditions": [{"type": "MemoryPressure", "status": "False"},
                                     {"type": "Ready", "status": ready, "reason": "KubeletReady" if ready == "True" else "NodeStatusUnknown"}],
                      "nodeInfo": {"kubeletVersion": "v1.34.2+rke2r1", "osImage": "Harvester v1.8.2"}}}
    if unschedulable:
        obj["spec"]["unschedulable"] = True
    return obj


def nic(name, index, master, state="up"):
    return {"name": name, "index": index, "type": "device", "mac": f"58:47:ca:00:00:{index:02x}", "promiscuous": False,
            "state": state, "masterIndex": master}


def monitor(name, link_status):
    return {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "LinkMonitor", "metadata": {"name": name},
            "status": {"linkStatus": link_status}}


def lab_monitors(nodes=("ms02-1", "ms02-2")):
    nics = monitor("nic", {n: [nic("enp2s0f0np0", 2, 10), nic("enp2s0f1np1", 3, 10), nic("enp5s0", 4, 0)] for n in nodes})
    mgmt = monitor("mgmt", {n: [{"name": "mgmt-bo", "index": 10, "type": "bond", "state": "up", "masterIndex": 11},
                                {"name": "mgmt-br", "index": 11, "type": "bridge", "state": "up", "masterIndex": 0}]
                            for n in nodes})
    return [nics, mgmt]


def cond(type_, status="True", message=""):
    return {"type": type_, "status": status, "reason": "", "message": message}


def lh_node(name, disk_ready="True"):
    disk = "default-disk-0001"
    return {"apiVersion": "longhorn.io/v1beta2", "kind": "Node", "metadata": {"name": name, "namespace": "longhorn-system"},
            "spec": {"allowScheduling": True, "evictionRequested": False,
                     "disks": {disk: {"path": "/var/lib/harvester/defaultdisk", "allowScheduling": True,
                                      "evictionRequested": False, "storageReserved": 100, "diskType": "filesystem"}}},
            "status": {"conditions": [cond("Ready"), cond("Schedulable")],
                       "diskStatus": {disk: {"diskPath": "/var/lib/harvester/defaultdisk", "storageMaximum": 1000,
                                             "storageAvailable": 900, "storageScheduled": 50,
                                             "conditions": [cond("Ready", disk_ready, "disk is " + ("ready" if disk_ready == "True" else "gone")),
                                                            cond("Schedulable")]}}}}


def test_healthy_node():
    [info] = node.summaries([k8s_node("ms02-1", "10.10.10.11")], lab_monitors(), [lh_node("ms02-1")])
    assert info["name"] == "ms02-1" and info["internal_ip"] == "10.10.10.11"
    assert info["roles"] == ["control-plane", "etcd"]
    assert info["ready"] is True and info["ready_reason"] == "KubeletReady"
    assert info["schedulable"] is True and info["maintenance"] is None
    mgmt = info["bonds"]["mgmt"]
    assert mgmt["name"] == "mgmt-bo" and mgmt["state"] == "up" and mgmt["index"] == 10
    assert [(m["name"], m["state"]) for m in mgmt["members"]] == [("enp2s0f0np0", "up"), ("enp2s0f1np1", "up")]
    assert mgmt["members_up"] == 2 and mgmt["members_total"] == 2 and mgmt["healthy"] is True
    assert list(info["bonds"]) == ["mgmt"]  # `nic` is not a cluster network; enp5s0 is in no bond
    lh = info["longhorn"]
    assert lh["ready"] and lh["schedulable"] and lh["conditions"]["Ready"]["status"] == "True"
    [disk] = lh["disks"]
    assert disk == {"name": "default-disk-0001", "path": "/var/lib/harvester/defaultdisk", "disk_type": "filesystem",
                    "allow_scheduling": True, "eviction_requested": False, "ready": True, "schedulable": True,
                    "storage_maximum": 1000, "storage_available": 900, "storage_scheduled": 50, "storage_reserved": 100,
                    "conditions": disk["conditions"]}
    assert info["problems"] == [] and info["healthy"] is True


def test_a_bond_member_down():
    monitors = lab_monitors()
    monitors[0]["status"]["linkStatus"]["ms02-2"][1]["state"] = "down"
    one, two = node.summaries([k8s_node("ms02-2", "10.10.10.12"), k8s_node("ms02-1", "10.10.10.11")], monitors,
                              [lh_node("ms02-1"), lh_node("ms02-2")])
    assert (one["name"], two["name"]) == ("ms02-1", "ms02-2")  # sorted
    assert one["healthy"] is True
    bond = two["bonds"]["mgmt"]
    assert [(m["name"], m["state"]) for m in bond["members"]] == [("enp2s0f0np0", "up"), ("enp2s0f1np1", "down")]
    assert bond["members_up"] == 1 and bond["healthy"] is False and bond["state"] == "up"
    assert two["problems"] == ["NIC enp2s0f1np1 of bond mgmt-bo is down"]


def test_all_members_down_and_the_bond_down():
    monitors = lab_monitors(["ms02-1"])
    for entry in monitors[0]["status"]["linkStatus"]["ms02-1"]:
        entry["state"] = "down"
    monitors[1]["status"]["linkStatus"]["ms02-1"][0]["state"] = "down"
    [info] = node.summaries([k8s_node("ms02-1", "10.10.10.11")], monitors, [lh_node("ms02-1")])
    assert info["bonds"]["mgmt"]["members_up"] == 0
    assert info["problems"] == ["bond mgmt-bo of cluster network mgmt is down", "NIC enp2s0f0np0 of bond mgmt-bo is down",
                                "NIC enp2s0f1np1 of bond mgmt-bo is down"]


def test_a_nic_missing_from_the_nic_monitor():
    monitors = lab_monitors(["ms02-1"])
    del monitors[0]["status"]["linkStatus"]["ms02-1"][0]  # enp2s0f0np0 vanished (dead port, unplugged card)
    [info] = node.summaries([k8s_node("ms02-1", "10.10.10.11")], monitors, [lh_node("ms02-1")])
    bond = info["bonds"]["mgmt"]
    assert [m["name"] for m in bond["members"]] == ["enp2s0f1np1"]
    assert bond["healthy"] is True  # mgmt has no VlanConfig: the lost member cannot be known


def test_a_nic_of_the_vlanconfig_missing_from_the_bond():
    monitors = lab_monitors(["ms02-1"])
    monitors[0]["status"]["linkStatus"]["ms02-1"][2]["masterIndex"] = 20
    monitors.append(monitor("data", {"ms02-1": [{"name": "data-bo", "index": 20, "type": "bond", "state": "up", "masterIndex": 21}]}))
    vc = {"metadata": {"name": "data-all", "annotations": {node.ANNOTATION_MATCHED_NODES: json.dumps(["ms02-1"])}},
          "spec": {"clusterNetwork": "data", "uplink": {"nics": ["enp5s0", "enp6s0"]}}}
    [info] = node.summaries([k8s_node("ms02-1", "10.10.10.11")], monitors, [lh_node("ms02-1")], [vc])
    data = info["bonds"]["data"]
    assert [(m["name"], m["state"]) for m in data["members"]] == [("enp5s0", "up"), ("enp6s0", "missing")]
    assert data["members_total"] == 2 and data["members_up"] == 1 and data["healthy"] is False
    assert info["problems"] == ["NIC enp6s0 of bond data-bo is missing"]
    assert info["bonds"]["mgmt"]["healthy"] is True


def test_a_vlanconfig_node_without_a_bond_yet():
    vc = {"metadata": {"name": "data-all", "annotations": {node.ANNOTATION_MATCHED_NODES: '["ms02-1"]'}},
          "spec": {"clusterNetwork": "data", "uplink": {"nics": ["enp5s0"]}}}
    [info] = node.summaries([k8s_node("ms02-1", "10.10.10.11")], lab_monitors(["ms02-1"]), [lh_node("ms02-1")], [vc])
    data = info["bonds"]["data"]
    assert data["state"] == "missing" and data["index"] is None
    assert data["members"] == [{"name": "enp5s0", "state": "missing", "mac": None}]
    assert "bond data-bo of cluster network data is missing" in info["problems"]


def test_node_without_longhorn_node_and_without_link_status():
    [info] = node.summaries([k8s_node("witness", "10.10.10.14", witness=True)], lab_monitors(["ms02-1"]), [])
    assert info["roles"] == ["etcd", "witness"]
    assert info["longhorn"] is None and info["bonds"] == {}
    assert info["problems"] == ["no Longhorn node"]


def test_not_ready_cordoned_in_maintenance_with_a_bad_disk():
    k = k8s_node("ms02-3", "10.10.10.13", ready="Unknown", unschedulable=True,
                 annotations={node.ANNOTATION_MAINTAIN: "completed"})
    lh = lh_node("ms02-3", disk_ready="False")
    lh["status"]["conditions"][1] = cond("Schedulable", "False", "Kubernetes node ms02-3 is cordoned")
    [info] = node.summaries([k], lab_monitors(["ms02-3"]), [lh])
    assert info["ready"] is False and info["schedulable"] is False and info["maintenance"] == "completed"
    assert info["longhorn"]["schedulable"] is False and info["longhorn"]["disks"][0]["ready"] is False
    assert info["problems"] == ["node is not Ready (NodeStatusUnknown)", "node is cordoned (spec.unschedulable)",
                                "maintenance mode completed", "Longhorn node not Schedulable: Kubernetes node ms02-3 is cordoned",
                                "Longhorn disk default-disk-0001 not Ready: disk is gone"]
    assert info["healthy"] is False


def test_input_objects_are_not_modified():
    nodes, monitors, lhs = [k8s_node("ms02-1", "10.10.10.11")], lab_monitors(), [lh_node("ms02-1")]
    before = copy.deepcopy((nodes, monitors, lhs))
    node.summaries(nodes, monitors, lhs)
    assert (nodes, monitors, lhs) == before


def fake_client(nodes, monitors, lhs, vcs=()):
    c = Mock(spec=Client)

    def list_(path, **kw):
        if path == "/api/v1/nodes":
            return nodes
        if path.endswith("/linkmonitors"):
            return monitors
        if path.endswith("/vlanconfigs"):
            return list(vcs)
        if path.endswith("/clusternetworks"):
            return [{"metadata": {"name": "mgmt", "annotations": {node.ANNOTATION_UPLINK_MTU: "1500"}}}]
        if path == "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes":
            return lhs
        raise AssertionError(path)

    def get(path, missing_ok=False, **kw):
        name = path.rsplit("/", 1)[1]
        pool = nodes if path.startswith("/api/v1/nodes/") else lhs
        found = next((o for o in pool if o["metadata"]["name"] == name), None)
        if found is None and not missing_ok:
            raise NotFound(404, "NotFound", path=path)
        return found

    c.list.side_effect = list_
    c.get.side_effect = get
    return c


def test_gather_makes_one_request_per_kind():
    nodes = [k8s_node(n, f"10.10.10.1{i}") for i, n in enumerate(("ms02-1", "ms02-2", "ms02-3"), 1)]
    c = fake_client(nodes, lab_monitors(("ms02-1", "ms02-2", "ms02-3")), [lh_node(n["metadata"]["name"]) for n in nodes])
    infos = node.gather(c)
    assert [i["name"] for i in infos] == ["ms02-1", "ms02-2", "ms02-3"] and all(i["healthy"] for i in infos)
    assert c.list.call_count == 5 and c.get.call_count == 0


def test_gather_one_node():
    nodes = [k8s_node("ms02-1", "10.10.10.11"), k8s_node("ms02-2", "10.10.10.12")]
    c = fake_client(nodes, lab_monitors(), [lh_node("ms02-1")])
    [info] = node.gather(c, "ms02-2")
    assert info["name"] == "ms02-2" and info["longhorn"] is None
    assert c.get.call_count == 2 and c.list.call_count == 3
    with pytest.raises(node.NodeNotFound, match="node 'ms02-9' not found"):
        node.gather(c, "ms02-9")


def test_gather_without_longhorn_or_network_kinds():
    c = fake_client([k8s_node("ms02-1", "10.10.10.11")], [], [])

    def list_(path, **kw):
        if path == "/api/v1/nodes":
            return [k8s_node("ms02-1", "10.10.10.11")]
        raise NotFound(404, "NotFound", path=path)  # Longhorn and the network CRDs not served

    c.list.side_effect = list_
    [info] = node.gather(c)
    assert info["bonds"] == {} and info["longhorn"] is None


def test_a_bond_carries_its_cluster_networks_mtu():
    mgmt = {"metadata": {"name": "mgmt", "annotations": {node.ANNOTATION_UPLINK_MTU: "9000"}}}
    other = {"metadata": {"name": "data"}}
    assert node.uplink_mtus([mgmt, other]) == {"mgmt": 9000, "data": 1500}  # none given: Harvester's default
    [info] = node.summaries([k8s_node("ms02-1", "10.10.10.11")], lab_monitors(("ms02-1",)), mtus={"mgmt": 9000})
    assert info["bonds"]["mgmt"]["mtu"] == 9000


def test_longhorn_scheduling_disabled_on_a_node_or_a_disk_is_a_problem():
    lh = lh_node("ms02-1")
    lh["spec"]["allowScheduling"] = False
    lh["spec"]["disks"]["default-disk-0001"]["allowScheduling"] = False
    [info] = node.summaries([k8s_node("ms02-1", "10.10.10.11")], lab_monitors(), [lh])
    assert info["problems"] == [
        "Longhorn node has scheduling disabled (spec.allowScheduling false): no new replica goes there",
        "Longhorn disk default-disk-0001 has scheduling disabled (allowScheduling false)"]
    assert info["healthy"] is False


# ------------------------------------------------------------------ unreachable_ok
def _failing(failure):
    client = Mock(spec=Client)
    client.retry_policy = RetryPolicy()
    client.list.side_effect = failure
    return client


@pytest.mark.parametrize("failure", [
    ConnectionFailure("cannot connect: connection refused", sent=False, cause="refused"),
    RequestTimeout("no connection within 30 s", sent=False, cause="timeout"),
    ConnectionFailure("cannot reach: No route to host", sent=False, cause="unreachable"),
])
def test_nothing_taking_the_connection_is_unreachable_with_no_nodes_and_refusals_are_not_retried(failure):
    client = _failing(failure)
    result = node.gather_if_reachable(client, unreachable_ok=True)
    assert result == {"changed": False, "reachable": False, "nodes": [], "msg": str(failure)}
    assert client.retry_policy.retry_refused is False


@pytest.mark.parametrize("failure", [
    ConnectionFailure("connection lost (ConnectionResetError)", sent=True, cause="reset"),
    ConnectionFailure("connection lost before sending", sent=False, cause="reset"),
    RequestTimeout("no answer within 30 s", sent=True, cause="timeout"),
    TLSFailure("TLS verification failed", sent=False, cause="tls"),
])
def test_something_that_took_the_connection_still_fails_with_unreachable_ok(failure):
    with pytest.raises(type(failure)):
        node.gather_if_reachable(_failing(failure), unreachable_ok=True)


def test_without_unreachable_ok_a_refusal_fails_and_keeps_the_retry_policy():
    client = _failing(ConnectionFailure("connection refused", sent=False, cause="refused"))
    with pytest.raises(ConnectionFailure):
        node.gather_if_reachable(client)
    assert client.retry_policy.retry_refused is True
