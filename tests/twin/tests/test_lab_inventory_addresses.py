"""`--lab PATH` with a second lab whose addresses are nothing like inventory/lab's: management on
VLAN 110 (192.168.110.0/24), VM networks on VLANs 130 and 140, storage on 160. What the twin derives
from the inventory besides the nodes: the DHCP answers of every routed VLAN (so a VM network's
`auto` route is learned and its gateway answers), the Longhorn replicas' addresses (their nodes'),
and the addresses CAPHV hands out by DHCP (VMs and the load balancer on the VM network's VLAN)."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from . import capi_manifests as m
from .conftest import ROOT, own_twin, wait_for
from .conftest import read as get

pytestmark = pytest.mark.twin

NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
REPLICAS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/replicas"
MGMT_IPS = {"ms02-1": "192.168.110.11", "ms02-2": "192.168.110.12", "ms02-3": "192.168.110.13"}


def second_lab(dest):
    inv = dest / "lab"
    shutil.copytree(ROOT / "inventory" / "lab", inv)
    plan_file = inv / "group_vars" / "all" / "lab.yml"
    plan = yaml.safe_load(plan_file.read_text())
    plan["lab_vlans"] = [
        {"name": "mgmt", "id": 110, "cidr": "192.168.110.0/24", "gateway": "192.168.110.1", "purpose": "hosts",
         "vm_network": False},
        {"name": "platform", "id": 130, "cidr": "192.168.130.0/24", "gateway": "192.168.130.1", "purpose": "VMs",
         "vm_network": True},
        {"name": "cluster", "id": 140, "cidr": "192.168.140.0/24", "gateway": "192.168.140.254", "purpose": "Talos",
         "vm_network": True},
        {"name": "storage", "id": 160, "cidr": "192.168.160.0/24", "gateway": None, "purpose": "Longhorn",
         "vm_network": False}]
    plan_file.write_text(yaml.safe_dump(plan, sort_keys=False))
    hosts_file = inv / "hosts.yml"
    hosts = yaml.safe_load(hosts_file.read_text())
    for name, ip in MGMT_IPS.items():
        hosts["all"]["children"]["harvester_nodes"]["hosts"][name] = {"ansible_host": ip}
        node_file = inv / "host_vars" / f"{name}.yml"
        node = yaml.safe_load(node_file.read_text())
        node["lab_node"]["mgmt_ip"] = ip
        node_file.write_text(yaml.safe_dump(node, sort_keys=False))
    hosts_file.write_text(yaml.safe_dump(hosts, sort_keys=False))
    return inv


@pytest.fixture(scope="module")
def second_twin_process(tmp_path_factory):
    inv = second_lab(tmp_path_factory.mktemp("second-lab"))
    yield from own_twin(tmp_path_factory.mktemp("twin-second-lab"), extra=["--lab", str(inv)])


@pytest.fixture
def second_twin(second_twin_process):
    second_twin_process.reset()
    return second_twin_process


def vm_network(twin, name, vlan):
    config = {"cniVersion": "0.3.1", "name": name, "type": "bridge", "bridge": "mgmt-br", "promiscMode": True,
              "vlan": vlan, "ipam": {}}
    body = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": "default",
                         "annotations": {"network.harvesterhci.io/route": json.dumps({"mode": "auto"})}},
            "spec": {"config": json.dumps(config)}}
    twin.session().post(twin.url(NADS), json=body).raise_for_status()


def route(twin, name):
    nad = get(twin, f"{NADS}/{name}")
    return json.loads(nad["metadata"]["annotations"]["network.harvesterhci.io/route"])


def test_every_routed_vlan_of_the_inventory_answers_dhcp(second_twin):
    for name, vlan in (("platform", 130), ("cluster", 140), ("unplanned", 150)):
        vm_network(second_twin, name, vlan)
    for name in ("platform", "cluster", "unplanned"):
        wait_for(lambda n=name: route(second_twin, n).get("connectivity"), f"the route of {name} probed")
    assert {k: route(second_twin, "platform").get(k) for k in ("cidr", "gateway", "connectivity")} == {
        "cidr": "192.168.130.0/24", "gateway": "192.168.130.1", "connectivity": "true"}
    assert {k: route(second_twin, "cluster").get(k) for k in ("cidr", "gateway", "connectivity")} == {
        "cidr": "192.168.140.0/24", "gateway": "192.168.140.254", "connectivity": "true"}
    assert route(second_twin, "unplanned")["connectivity"] == "DHCP failed"  # no VLAN 150 in the plan
    leases = get(second_twin, "/_twin/environment")["dhcp_leases"]
    assert sorted(leases) == ["110", "130", "140"]  # 160 (storage) is L2 only


def test_longhorn_replicas_run_on_their_nodes_addresses(second_twin):
    replicas = [r for r in get(second_twin, REPLICAS)["items"] if r["status"].get("ip")]  # a stopped one has none
    assert len(replicas) >= 6
    for replica in replicas:
        node = replica["spec"]["nodeID"]
        assert (replica["status"]["ip"], replica["status"]["storageIP"]) == (MGMT_IPS[node], MGMT_IPS[node]), node


def test_caphv_dhcp_addresses_are_on_the_vlan_of_the_vm_network(second_twin):
    vm_network(second_twin, "platform", 130)
    items = m.object_set(second_twin.kubeconfig.read_text(), cp_replicas=1, workers=1)
    for _collection, body in items:
        if body["kind"] == "HarvesterMachineTemplate":
            body["spec"]["template"]["spec"]["networks"] = ["default/platform"]
    m.create_all(second_twin.session(), second_twin.server, items)

    def addresses():
        hms = get(second_twin, m.path(m.INFRA_V, "harvestermachines"))["items"]
        ips = [h.get("status", {}).get("allocatedIPAddress") for h in hms]
        return ips if len(ips) == 2 and all(ips) else None
    vm_ips = wait_for(addresses, "both machines to get an address", timeout=20)
    assert all(ip.startswith("192.168.130.") and 100 <= int(ip.rsplit(".", 1)[1]) <= 199 for ip in vm_ips), vm_ips
    hc = wait_for(lambda: (get(second_twin, m.path(m.INFRA_V, "harvesterclusters", "demo")).get("spec") or {})
                  .get("controlPlaneEndpoint", {}).get("host"), "the load balancer address", timeout=20)
    assert hc.startswith("192.168.130.") and 200 <= int(hc.rsplit(".", 1)[1]) <= 239, hc
