"""`--lab PATH`: the twin seeds its nodes, their addresses, NICs, bonds and Longhorn disks from an
Ansible inventory. A copy of inventory/lab with a fourth node (ms02-4, other NIC names), other
NIC names on ms02-2 and vaulted secrets gives a cluster that matches it, through the API and through
harvester_node_info; without --lab the seed is lab/ as it always was; inventory/lab itself
gives exactly lab/; an unreadable inventory stops the twin at start, naming the file."""
from __future__ import annotations

import copy
import shutil

import pytest
import yaml

from tests.integration.playbooks import run_tasks

from .. import lab, lab_inventory
from .conftest import ROOT, TEST_CRDS, own_twin, start_twin
from .conftest import read as get

pytestmark = pytest.mark.twin

INVENTORY = ROOT / "inventory" / "lab"
LM_PATH = "/apis/network.harvesterhci.io/v1beta1/linkmonitors"
LH_NODES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes"
FOUR = ["ms02-1", "ms02-2", "ms02-3", "ms02-4"]
MS02_4_NICS = [("eno1np0", "aa:bb:cc:00:04:01"), ("eno2np1", "aa:bb:cc:00:04:02")]
MS02_2_NICS = ["ens1f0", "ens1f1"]


def four_node_inventory(dest):
    """inventory/lab copied to dest, with ms02-4 (10.10.10.14, eno1np0/eno2np1 + eno3) and ms02-2's
    bond over ens1f0/ens1f1."""
    inv = dest / "lab"
    shutil.copytree(INVENTORY, inv)
    hosts_file = inv / "hosts.yml"
    hosts = yaml.safe_load(hosts_file.read_text())
    hosts["all"]["children"]["harvester_nodes"]["hosts"]["ms02-4"] = {"ansible_host": "10.10.10.14"}
    hosts_file.write_text(yaml.safe_dump(hosts, sort_keys=False))
    node3 = yaml.safe_load((inv / "host_vars" / "ms02-3.yml").read_text())
    node4 = copy.deepcopy(node3)
    node4["lab_node"].update(mgmt_ip="10.10.10.14", bond_nics=[{"name": n, "mac": m} for n, m in MS02_4_NICS],
                             oob_nic={"name": "eno3", "mac": "aa:bb:cc:00:04:03"})
    (inv / "host_vars" / "ms02-4.yml").write_text(yaml.safe_dump(node4, sort_keys=False))
    node2_file = inv / "host_vars" / "ms02-2.yml"
    node2 = yaml.safe_load(node2_file.read_text())
    for nic, name in zip(node2["lab_node"]["bond_nics"], MS02_2_NICS, strict=True):
        nic["name"] = name
    node2_file.write_text(yaml.safe_dump(node2, sort_keys=False))
    # secrets as a real inventory has them: a `!vault` value and a file encrypted whole
    (inv / "group_vars" / "all" / "vault.yml").write_text(
        "vault_harvester_token: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132333435\n")
    (inv / "group_vars" / "all" / "secret.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n3132333435363738\n")
    return inv


@pytest.fixture(scope="module")
def four_inventory(tmp_path_factory):
    return four_node_inventory(tmp_path_factory.mktemp("inventory"))


@pytest.fixture(scope="module")
def four_twin_process(tmp_path_factory, four_inventory):
    yield from own_twin(tmp_path_factory.mktemp("twin-lab4"), [TEST_CRDS], extra=["--lab", str(four_inventory)])


@pytest.fixture
def four_twin(four_twin_process):
    four_twin_process.reset()
    return four_twin_process


def internal_ip(node):
    return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")


def test_nodes_follow_the_inventory(four_twin):
    nodes = get(four_twin, "/api/v1/nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == FOUR
    assert [internal_ip(n) for n in nodes] == ["10.10.10.11", "10.10.10.12", "10.10.10.13", "10.10.10.14"]
    control_plane = [n["metadata"]["name"] for n in nodes if n["metadata"]["labels"].get("node-role.kubernetes.io/control-plane")]
    assert control_plane == FOUR[:3]
    ms02_4 = nodes[3]
    assert ms02_4["metadata"]["annotations"]["rke2.io/internal-ip"] == "10.10.10.14"
    assert ms02_4["spec"]["providerID"] == "rke2://ms02-4"
    assert {c["type"]: c["status"] for c in ms02_4["status"]["conditions"]}["Ready"] == "True"
    # kubectl sees the same cluster
    out = four_twin.kubectl("get", "nodes", "-o", "name").stdout.split()
    assert out == [f"node/{n}" for n in FOUR]


def test_link_monitors_follow_the_inventory(four_twin):
    nic = get(four_twin, f"{LM_PATH}/nic")["status"]["linkStatus"]
    assert sorted(nic) == FOUR
    assert [(e["name"], e["mac"], e["state"], e["masterIndex"]) for e in nic["ms02-4"]] == [
        ("eno1np0", "aa:bb:cc:00:04:01", "up", 10), ("eno2np1", "aa:bb:cc:00:04:02", "up", 10), ("eno3", "aa:bb:cc:00:04:03", "up", 0)]
    assert [e["name"] for e in nic["ms02-2"] if e["masterIndex"] == 10] == MS02_2_NICS
    assert [e["name"] for e in nic["ms02-1"] if e["masterIndex"] == 10] == ["enp2s0f0np0", "enp2s0f1np1"]
    mgmt = get(four_twin, f"{LM_PATH}/mgmt")["status"]["linkStatus"]
    assert sorted(mgmt) == FOUR
    assert [(e["name"], e["index"], e["state"]) for e in mgmt["ms02-4"]] == [("mgmt-bo", 10, "up"), ("mgmt-br", 11, "up")]
    assert mgmt["ms02-4"][0]["mac"] == "aa:bb:cc:00:04:01"


def test_longhorn_nodes_follow_the_inventory(four_twin):
    items = {n["metadata"]["name"]: n for n in get(four_twin, LH_NODES)["items"]}
    assert sorted(items) == FOUR
    (disk4,) = items["ms02-4"]["status"]["diskStatus"].values()
    assert {c["type"]: c["status"] for c in disk4["conditions"]} == {"Ready": "True", "Schedulable": "True"}
    assert disk4["scheduledReplica"] == {} and disk4["diskPath"] == "/var/lib/harvester/defaultdisk"
    # the lab's nodes keep their disks: the seeded replicas name them
    (disk1,) = items["ms02-1"]["status"]["diskStatus"].values()
    assert disk1["diskUUID"] == "3f1c9a2e-5b7d-4e08-9c61-0a2b3c4d5e01"
    assert disk4["diskUUID"] not in {d["diskUUID"] for n in FOUR[:3] for d in items[n]["status"]["diskStatus"].values()}


def test_reset_reseeds_from_the_same_inventory(four_twin):
    four_twin.kubectl("delete", "node", "ms02-4")
    assert four_twin.kubectl("get", "node", "ms02-4", check=False).returncode != 0
    four_twin.reset()
    nodes = get(four_twin, "/api/v1/nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == FOUR


def test_node_info_reports_the_fourth_node_healthy_with_its_bond(four_twin, tmp_path):
    (everything,), _reqs, stdout = run_tasks(four_twin, tmp_path, "homelab.harvester.harvester_node_info", [{}])
    assert not everything.get("failed"), stdout
    by_name = {n["name"]: n for n in everything["nodes"]}
    assert sorted(by_name) == FOUR
    ms02_4 = by_name["ms02-4"]
    assert ms02_4["internal_ip"] == "10.10.10.14"
    assert [(m["name"], m["state"]) for m in ms02_4["bonds"]["mgmt"]["members"]] == [(n, "up") for n, _mac in MS02_4_NICS]
    assert ms02_4["bonds"]["mgmt"]["healthy"] is True
    assert ms02_4["healthy"] is True and ms02_4["problems"] == [], ms02_4["problems"]
    assert [m["name"] for m in by_name["ms02-2"]["bonds"]["mgmt"]["members"]] == MS02_2_NICS


def test_without_lab_the_seed_is_the_fixed_one(twin):
    nodes = get(twin, "/api/v1/nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == FOUR[:3]
    fixed = {d["metadata"]["name"]: d for d in lab.documents() if d["kind"] == "LinkMonitor"}
    nic = get(twin, f"{LM_PATH}/nic")["status"]["linkStatus"]
    assert nic == fixed["nic"]["status"]["linkStatus"]
    assert [e["name"] for e in nic["ms02-2"]] == ["enp2s0f0np0", "enp2s0f1np1", "enp5s0"]


def objects(docs):
    """The API objects of a seed (without the LabEnvironment document)."""
    return [d for d in docs if d["kind"] != lab.ENVIRONMENT_KIND]


def test_inventory_lab_gives_exactly_the_fixed_seed_and_its_dhcp_answers():
    docs = lab_inventory.documents(INVENTORY)
    assert objects(docs) == lab.documents()
    (env,) = [d for d in docs if d["kind"] == lab.ENVIRONMENT_KIND]
    assert env["data"]["dhcp_leases"] == {  # every routed VLAN of lab_vlans; storage (60) is L2 only
        "10": {"cidr": "10.10.10.0/24", "gateway": "10.10.10.1", "serverIPAddr": "10.10.10.1"},
        "30": {"cidr": "10.10.30.0/24", "gateway": "10.10.30.1", "serverIPAddr": "10.10.30.1"},
        "40": {"cidr": "10.10.40.0/24", "gateway": "10.10.40.1", "serverIPAddr": "10.10.40.1"}}


def test_four_nodes_change_only_the_per_node_objects(four_inventory):
    def key(d):
        return d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]
    fixed = {key(d): d for d in lab.documents()}
    changed = {key(d) for d in objects(lab_inventory.documents(four_inventory)) if fixed.get(key(d)) != d}
    assert changed == {("Node", None, "ms02-4"), ("Node", "longhorn-system", "ms02-4"),
                       ("LinkMonitor", None, "nic"), ("LinkMonitor", None, "mgmt")}


def test_an_unparsable_inventory_stops_the_twin_naming_the_file(tmp_path):
    inv = four_node_inventory(tmp_path)
    broken = inv / "host_vars" / "ms02-4.yml"
    broken.write_text("lab_node:\n  mgmt_ip: 10.10.10.14\n  bond_nics: [ {name: eno1\n")
    with pytest.raises(RuntimeError) as err:
        start_twin(tmp_path / "twin", extra=["--lab", str(inv)])
    assert f"--lab {inv}: {broken}: not parsable as YAML" in str(err.value)


def test_a_host_without_lab_node_stops_the_twin_naming_the_file(tmp_path):
    inv = four_node_inventory(tmp_path)
    (inv / "host_vars" / "ms02-4.yml").write_text("other: 1\n")
    with pytest.raises(RuntimeError) as err:
        start_twin(tmp_path / "twin", extra=["--lab", str(inv)])
    assert f"{inv / 'host_vars' / 'ms02-4.yml'}: host ms02-4 has no lab_node mapping" in str(err.value)
