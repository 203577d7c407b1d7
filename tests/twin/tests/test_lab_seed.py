"""The seeded lab as a client finds it right after start (and after every reset): the nodes of
inventory/lab, the built-in mgmt network and its LinkMonitors, the namespaces, the default
StorageClass, Longhorn's nodes and the running VMs the "VMs are running" guards look for. The
settings, volumes and replicas have their own tests (test_settings.py, test_longhorn.py)."""
from __future__ import annotations

import ipaddress

import pytest
import yaml

from .conftest import ROOT

INVENTORY = ROOT / "inventory" / "lab"
NET = "network.harvesterhci.io"
NODES = ["ms02-1", "ms02-2", "ms02-3"]


@pytest.fixture(params=["twin", "upstream_twin"])
def any_twin(request):
    """The twin with our trimmed CRDs and with the unmodified upstream ones."""
    return request.getfixturevalue(request.param)


def get(twin, path):
    r = twin.session().get(twin.url(path))
    assert r.status_code == 200, r.text
    return r.json()


def lab_node(name: str) -> dict:
    return yaml.safe_load((INVENTORY / "host_vars" / f"{name}.yml").read_text())["lab_node"]


def condition(obj: dict, type_: str) -> dict:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def test_three_ready_nodes_with_harvester_labels_on_the_inventory_addresses(any_twin):
    nodes = get(any_twin, "/api/v1/nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == NODES
    mgmt = ipaddress.ip_network("10.10.10.0/24")
    for node in nodes:
        name, labels = node["metadata"]["name"], node["metadata"]["labels"]
        assert condition(node, "Ready")["status"] == "True"
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        assert ipaddress.ip_address(ip) in mgmt and ip == lab_node(name)["mgmt_ip"]
        assert labels["kubernetes.io/hostname"] == name
        assert labels["harvesterhci.io/managed"] == "true" and labels[f"{NET}/mgmt"] == "true"
        assert labels["node-role.kubernetes.io/control-plane"] == "true"
        assert node["spec"]["providerID"] == f"rke2://{name}"
        assert node["status"]["nodeInfo"]["osImage"].startswith("Harvester v1.8")


def test_the_built_in_mgmt_cluster_network_is_ready(any_twin):
    mgmt = get(any_twin, f"/apis/{NET}/v1beta1/clusternetworks/mgmt")
    assert condition(mgmt, "ready")["status"] == "True"
    assert mgmt["metadata"]["annotations"][f"{NET}/uplink-mtu"] == "1500"
    assert [c["metadata"]["name"] for c in get(any_twin, f"/apis/{NET}/v1beta1/clusternetworks")["items"]] == ["mgmt"]


def test_link_monitors_report_the_bond_nics_enslaved_to_mgmt_bo_and_up(any_twin):
    nic = get(any_twin, f"/apis/{NET}/v1beta1/linkmonitors/nic")["status"]["linkStatus"]
    mgmt = get(any_twin, f"/apis/{NET}/v1beta1/linkmonitors/mgmt")["status"]["linkStatus"]
    assert sorted(nic) == NODES and sorted(mgmt) == NODES
    for name in NODES:
        plan = lab_node(name)
        bond, bridge = mgmt[name]
        assert (bond["name"], bond["type"], bond["state"]) == ("mgmt-bo", "bond", "up")
        assert (bridge["name"], bridge["type"], bridge["state"]) == ("mgmt-br", "bridge", "up")
        assert bond["masterIndex"] == bridge["index"]
        ports = {e["name"]: e for e in nic[name]}
        for planned in plan["bond_nics"]:
            port = ports[planned["name"]]
            assert (port["mac"], port["state"], port["masterIndex"]) == (planned["mac"], "up", bond["index"])
        oob = ports[plan["oob_nic"]["name"]]
        assert oob["masterIndex"] == 0 and oob["mac"] == plan["oob_nic"]["mac"]


def test_the_namespaces_exist_and_are_active(any_twin):
    names = {n["metadata"]["name"]: n for n in get(any_twin, "/api/v1/namespaces")["items"]}
    for name in ("default", "harvester-system", "longhorn-system", "cattle-system"):
        assert names[name]["status"]["phase"] == "Active", name


def test_harvester_longhorn_is_the_default_storage_class(any_twin):
    classes = get(any_twin, "/apis/storage.k8s.io/v1/storageclasses")["items"]
    default = [c["metadata"]["name"] for c in classes
               if (c["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert default == ["harvester-longhorn"]
    sc = get(any_twin, "/apis/storage.k8s.io/v1/storageclasses/harvester-longhorn")
    assert sc["provisioner"] == "driver.longhorn.io" and sc["parameters"]["numberOfReplicas"] == "3"
    out = any_twin.kubectl("get", "storageclass").stdout
    assert "harvester-longhorn (default)" in out


def test_longhorn_nodes_are_ready_and_schedulable_with_one_disk_each(any_twin):
    items = get(any_twin, "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes")["items"]
    assert [n["metadata"]["name"] for n in items] == NODES
    for node in items:
        assert condition(node, "Ready")["status"] == "True" and condition(node, "Schedulable")["status"] == "True"
        (disk,) = node["spec"]["disks"].values()
        assert disk["allowScheduling"] is True and disk["path"] == "/var/lib/harvester/defaultdisk"
        # the inventory's Longhorn data disk is an NVMe drive
        assert "/nvme-" in lab_node(node["metadata"]["name"])["data_disk"]


def test_two_vms_run_so_the_running_vm_guards_can_fire(any_twin):
    vmis = get(any_twin, "/apis/kubevirt.io/v1/virtualmachineinstances")["items"]
    running = sorted((v["metadata"]["namespace"], v["metadata"]["name"], v["status"]["nodeName"])
                     for v in vmis if v["status"]["phase"] == "Running")
    assert len(running) >= 2, running
    assert {node for _, _, node in running} <= set(NODES)
    vms = {v["metadata"]["name"]: v for v in get(any_twin, "/apis/kubevirt.io/v1/virtualmachines")["items"]}
    for _, name, _ in running:
        assert vms[name]["status"]["printableStatus"] == "Running"
    assert any(v["status"]["printableStatus"] == "Stopped" for v in vms.values())  # and one to start
