"""The inventory changes and site.yml follows: other VLAN ids and subnets, a renamed VLAN (the
old VM network removed), other NIC names and a fourth node (against a twin seeded from the
changed inventory), each converging and then idempotent. The plan changes start from the
converged lab (tests/integration/conftest.py)."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.roles import copy_inventory, get, nads, run_site
from tests.twin.tests.conftest import start_twin, stop_twin

# one worker runs the whole file, so the lab converges once (conftest.py: converged_lab)
pytestmark = [pytest.mark.twin, pytest.mark.integration, pytest.mark.xdist_group("test_site_plan_changes")]

TWIN_ARGS = ["--speed", "20"]
NODES = "/api/v1/nodes"
LINKMONITORS = "/apis/network.harvesterhci.io/v1beta1/linkmonitors"
LONGHORN_NODES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes"


def route(nad):
    return json.loads(nad["metadata"]["annotations"]["network.harvesterhci.io/route"])


def vlan(nad):
    return json.loads(nad["spec"]["config"]).get("vlan")


def new_vlan_plan(lab, hosts):
    """platform moves to VLAN 31 / 10.10.31.0/24; cluster is renamed tenants on VLAN 45, and the Talos
    clusters on it follow it (their machines' VM network)."""
    platform, cluster = lab["lab_vlans"][1], lab["lab_vlans"][2]
    platform.update(id=31, cidr="10.10.31.0/24", gateway="10.10.31.1")
    cluster.update(name="tenants", id=45, cidr="10.10.45.0/24", gateway="10.10.45.1")
    for talos in lab.get("lab_clusters") or []:
        talos["control_plane"]["networks"] = [n.replace("default/cluster", "default/tenants")
                                              for n in talos["control_plane"]["networks"]]


def test_other_vlan_ids_subnets_and_names_converge(converged, tmp_path):
    twin = converged
    assert {"platform", "cluster"} <= set(nads(twin))

    inventory = copy_inventory(tmp_path, new_vlan_plan)
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc == 0 and recap["failed"] == 0, out
    networks = nads(twin)
    assert "cluster" not in networks, "the VM network dropped from the plan is removed"
    assert (vlan(networks["platform"]), route(networks["platform"])["cidr"], route(networks["platform"])["gateway"]) == (
        31, "10.10.31.0/24", "10.10.31.1")
    assert (vlan(networks["tenants"]), route(networks["tenants"])["cidr"]) == (45, "10.10.45.0/24")
    assert networks["tenants"]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "homelab.harvester.vlans"
    assert "lab-uplink" in networks, "a network the role did not make is never pruned"

    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc == 0 and recap["changed"] == 0, out


def test_vlans_prune_false_keeps_the_dropped_network(converged, tmp_path):
    twin = converged
    inventory = copy_inventory(tmp_path, new_vlan_plan)
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory, tags=["vlans"], extra_vars={"vlans_prune": False})
    assert rc == 0, out
    assert {"cluster", "tenants", "platform"} <= set(nads(twin))


def other_nics_and_a_fourth_node(lab, hosts):
    first = hosts["ms02-1"]["lab_node"]
    first["bond_nics"] = [{"name": "ens1f0np0", "mac": "58:47:ca:7b:01:a0"}, {"name": "ens1f1np1", "mac": "58:47:ca:7b:01:a1"}]
    fourth = json.loads(json.dumps(hosts["ms02-3"]))
    fourth["lab_node"].update(
        mgmt_ip="10.10.10.14", role="join",
        bond_nics=[{"name": "enp3s0f0", "mac": "58:47:ca:7b:04:a0"}, {"name": "enp3s0f1", "mac": "58:47:ca:7b:04:a1"}],
        oob_nic={"name": "eno1", "mac": "58:47:ca:7b:04:b0"},
        install_disk="/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_1TB_S7KHNJ0W401244G",
        data_disk="/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0W501344H",
        amt=dict(fourth["lab_node"]["amt"], host="10.10.10.34"))
    hosts["ms02-4"] = fourth


@pytest.fixture
def grown_lab(tmp_path):
    """An inventory with other NIC names on ms02-1 and a fourth node, and a twin seeded from it."""
    inventory = copy_inventory(tmp_path, other_nics_and_a_fourth_node)
    running = start_twin(tmp_path / "twin", extra=["--lab", str(inventory)])
    yield running, inventory
    stop_twin(running)


def test_other_nic_names_and_a_fourth_node_converge(grown_lab, tmp_path):
    twin, inventory = grown_lab
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc == 0 and recap["failed"] == 0, out

    # the install config of every node, the fourth joining, with the bond of its own NICs
    config = yaml.safe_load((tmp_path / "pxe" / "ms02-4.yaml").read_text())
    assert config["install"]["mode"] == "join" and config["server_url"] == "https://10.10.10.5:443"
    assert [i["name"] for i in config["install"]["management_interface"]["interfaces"]] == ["enp3s0f0", "enp3s0f1"]
    assert config["install"]["management_interface"]["ip"] == "10.10.10.14"
    first = yaml.safe_load((tmp_path / "pxe" / "ms02-1.yaml").read_text())
    assert [i["name"] for i in first["install"]["management_interface"]["interfaces"]] == ["ens1f0np0", "ens1f1np1"]
    assert "ms02-4" in (tmp_path / "pxe" / "boot.ipxe").read_text()

    # the cluster it converged against: four Ready nodes, the bonds of the inventory's NICs
    nodes = {n["metadata"]["name"]: n for n in get(twin, NODES)["items"]}
    assert sorted(nodes) == ["ms02-1", "ms02-2", "ms02-3", "ms02-4"]
    assert len(get(twin, LONGHORN_NODES)["items"]) == 4
    nic = get(twin, f"{LINKMONITORS}/nic")
    assert "ens1f0np0" in json.dumps(nic) and "enp3s0f1" in json.dumps(nic)
    bond_check = out.partition("Check that both bond NICs of every node are up")[2].partition("TASK [")[0]
    assert "ok: [harvester-lab] => (item=ms02-4)" in bond_check and "failed" not in bond_check, out

    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc == 0 and recap["changed"] == 0, out
