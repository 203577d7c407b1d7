# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the lab_diagram filter (plugins/filter/lab_diagram.py): what the DOT text draws
for a three-node lab shaped like inventory/lab and for a four-node variant with other VLANs and
Talos clusters, and the refusals of a broken plan. When Graphviz's dot is installed, the text is
also checked to be a graph dot renders."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.harvester.plugins.filter.lab_diagram import FilterModule, lab_diagram

MGMT = {"name": "mgmt", "id": 10, "cidr": "10.10.10.0/24", "gateway": "10.10.10.1",
        "purpose": "Harvester host management, cluster VIP and the NAS", "vm_network": False}
VLANS = [
    MGMT,
    {"name": "platform", "id": 30, "cidr": "10.10.30.0/24", "gateway": "10.10.30.1", "purpose": "Platform cluster VMs",
     "vm_network": True},
    {"name": "cluster", "id": 40, "cidr": "10.10.40.0/24", "gateway": "10.10.40.1", "purpose": "Downstream Talos clusters",
     "vm_network": True},
    {"name": "storage", "id": 60, "cidr": "10.10.60.0/24", "gateway": None, "purpose": "Longhorn replication",
     "vm_network": False},
]
# The variant: a fourth node, and other VLANs besides mgmt.
OTHER_VLANS = [
    MGMT,
    {"name": "apps", "id": 130, "cidr": "10.10.130.0/24", "gateway": "10.10.130.1", "purpose": "Application clusters",
     "vm_network": True},
    {"name": "edge", "id": 150, "cidr": "10.10.150.0/24", "gateway": "10.10.150.1", "purpose": "Edge cluster & <ingress>",
     "vm_network": True},
    {"name": "replication", "id": 160, "cidr": "10.10.160.0/24", "gateway": None, "purpose": "Longhorn replication",
     "vm_network": False},
]
NFS = {"server": "10.10.10.20", "images_export": "/volume1/harvester-images", "backups_export": "/volume1/harvester-backups"}
BOND = {"mode": "802.3ad", "miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast", "mtu": 1500}
CLUSTERS = [
    {"name": "platform", "namespace": "capi-platform", "kubernetes_version": "v1.33.4", "talos_version": "v1.11",
     "control_plane": {"replicas": 3, "networks": ["default/apps"]},
     "workers": [{"name": "workers", "replicas": 2}, {"name": "edge", "replicas": 1, "networks": ["default/edge"]}]},
    {"name": "lab", "control_plane": {"replicas": 1, "networks": ["tools/handmade"]}},
]


def node(index, role="join"):
    return {
        "mgmt_ip": f"10.10.10.1{index}",
        "role": role,
        "bond_nics": [{"name": "enp2s0f0np0", "mac": f"58:47:ca:7b:0{index}:a0"},
                      {"name": "enp2s0f1np1", "mac": f"58:47:ca:7b:0{index}:a1"}],
        "oob_nic": {"name": "enp5s0", "mac": f"58:47:ca:7b:0{index}:b0"},
        "install_disk": f"/dev/disk/by-id/nvme-OS_{index}",
        "data_disk": f"/dev/disk/by-id/nvme-DATA_{index}",
    }


def nodes(count):
    return {f"ms02-{i}": node(i, "create" if i == 1 else "join") for i in range(1, count + 1)}


def three_node_lab(**overrides):
    return lab_diagram(VLANS, nodes(3), **{"vip": "10.10.10.5", "nfs": NFS, "bond": BOND, "clusters": [], **overrides})


def four_node_lab(**overrides):
    return lab_diagram(OTHER_VLANS, nodes(4), **{"vip": "10.10.10.5", "nfs": NFS, "bond": BOND, "clusters": CLUSTERS,
                                                 **overrides})


def edges(dot, head):
    """The tails of the edges into DOT node `head`, in order."""
    return re.findall(rf'^\s*(\S+) -> "{re.escape(head)}"', dot, re.MULTILINE)


def attrs(dot, node_id):
    found = re.search(rf'^\s*"{re.escape(node_id)}" \[(.*)\];$', dot, re.MULTILINE)
    assert found, f"no node {node_id} in the diagram"
    return found.group(1)


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"lab_diagram": lab_diagram}


def test_every_node_is_drawn_with_its_role_address_bond_nics_and_oob_nic_in_order():
    dot = three_node_lab()
    cluster = attrs(dot, "harvester")
    assert [m.group(1) for m in re.finditer(r"<b>(ms02-\d)</b>", cluster)] == ["ms02-1", "ms02-2", "ms02-3"]
    assert "create &middot; 10.10.10.11" in cluster and "join &middot; 10.10.10.13" in cluster
    for index in (1, 2, 3):
        for mac in (f"58:47:ca:7b:0{index}:a0", f"58:47:ca:7b:0{index}:a1", f"58:47:ca:7b:0{index}:b0"):
            assert mac in cluster
    assert "bond mgmt-bo: 802.3ad, layer3+4, lacp fast, MTU 1500" in cluster


def test_each_node_has_two_bond_links_to_the_switch_and_one_oob_link():
    dot = three_node_lab()
    assert edges(dot, "switch") == [f'"harvester":n{n}b{b}:s' for n in range(3) for b in range(2)]
    assert edges(dot, "oob") == [f'"harvester":n{n}oob:s' for n in range(3)]
    assert re.search(r'port="n2oob">OOB enp5s0', attrs(dot, "harvester"))


def test_the_switch_trunk_carries_every_vlan_tagged_and_each_vlan_shows_subnet_gateway_and_purpose():
    dot = three_node_lab()
    assert "802.1Q tagged: VLAN 10, 30, 40, 60" in attrs(dot, "switch")
    assert "one LACP trunk per node (3)" in attrs(dot, "switch")
    assert edges(dot, "vlan:platform") == ['"switch"']
    platform = attrs(dot, "vlan:platform")
    assert "VLAN 30 &middot; platform" in platform and "10.10.30.0/24 &middot; gw 10.10.30.1" in platform
    assert "Platform cluster VMs" in platform and "<i>VM network</i>" in platform
    assert "10.10.60.0/24 &middot; L2 only" in attrs(dot, "vlan:storage")
    assert "<i>host management</i>" in attrs(dot, "vlan:mgmt")


def test_an_untagged_management_vlan_is_drawn_so():
    switch = attrs(three_node_lab(mgmt_vlan_tagged=False), "switch")
    assert "802.1Q tagged: VLAN 30, 40, 60" in switch and "untagged: VLAN 10 (mgmt)" in switch


def test_the_vip_and_the_nas_hang_off_the_vlan_that_holds_their_address():
    dot = three_node_lab()
    assert edges(dot, "vip") == ['"vlan:mgmt"'] and "VIP 10.10.10.5" in attrs(dot, "vip")
    assert edges(dot, "nas") == ['"vlan:mgmt"']
    assert "NFS /volume1/harvester-backups" in attrs(dot, "nas")
    on_storage = three_node_lab(nfs={**NFS, "server": "10.10.60.20"})
    assert edges(on_storage, "nas") == ['"vlan:storage"']
    routed = three_node_lab(nfs={**NFS, "server": "nas.example.org"})
    assert re.search(r'"vlan:mgmt" -> "nas" \[style=dashed, label="routed"\]', routed)


def test_without_vip_nfs_and_clusters_they_are_not_drawn():
    dot = lab_diagram(VLANS, nodes(3))
    assert '"vip"' not in dot and '"nas"' not in dot and "talos:" not in dot


def test_talos_clusters_are_drawn_on_the_vlans_of_their_vm_networks():
    dot = four_node_lab()
    platform = attrs(dot, "talos:platform")
    assert "Talos cluster platform" in platform and "Kubernetes v1.33.4 &middot; Talos v1.11" in platform
    assert "control plane &times;3" in platform and "workers &times;2, edge &times;1" in platform
    # the pool without networks takes the control plane's (apps), the edge pool its own
    assert edges(dot, "talos:platform") == ['"vlan:apps"', '"vlan:edge"']


def test_a_vm_network_outside_the_plan_is_drawn_dashed_and_said_so():
    dot = four_node_lab()
    assert "not a VM network of lab_vlans" in attrs(dot, "network:tools/handmade")
    assert re.search(r'"network:tools/handmade" -> "talos:lab" \[style=dashed\]', dot)
    # a VLAN of the plan that gets no VM network (vm_network false) is not one either
    on_replication = four_node_lab(clusters=[{"name": "x", "control_plane": {"networks": ["default/replication"]}}])
    assert edges(on_replication, "talos:x") == ['"network:default/replication"']


def test_the_four_node_variant_draws_a_different_lab():
    three, four = three_node_lab(), four_node_lab()
    assert three != four
    assert "<b>ms02-4</b>" in four and "<b>ms02-4</b>" not in three
    assert len(edges(four, "switch")) == 8 and len(edges(four, "oob")) == 4
    assert "802.1Q tagged: VLAN 10, 130, 150, 160" in attrs(four, "switch")
    assert '"vlan:platform"' not in four and '"vlan:apps"' in four
    assert "VLAN 160 &middot; replication" in attrs(four, "vlan:replication")


def test_the_same_plan_gives_the_same_text():
    assert four_node_lab() == four_node_lab()


def test_text_is_escaped_for_labels_and_ids():
    dot = four_node_lab(title='The "lab"')
    assert 'label="The \\"lab\\""' in dot
    assert "Edge cluster &amp; &lt;ingress&gt;" in attrs(dot, "vlan:edge")


def test_nodes_may_be_a_list_with_names():
    listed = [{"name": name, **lab_node} for name, lab_node in nodes(3).items()]
    assert lab_diagram(VLANS, listed, vip="10.10.10.5") == lab_diagram(VLANS, nodes(3), vip="10.10.10.5")


def test_a_broken_plan_is_refused_with_every_problem_and_its_field():
    vlans = copy.deepcopy(VLANS)
    vlans[2]["id"] = 30
    broken = nodes(3)
    del broken["ms02-2"]["oob_nic"]
    with pytest.raises(AnsibleFilterError) as failed:
        lab_diagram(vlans, broken, vip="10.10.20.5")
    message = str(failed.value)
    assert message.startswith("lab_diagram: the lab plan has problems, nothing drawn: ")
    assert "lab_vlans[2] (cluster)" in message and "lab_vip" in message and "lab_node (ms02-2)" in message


@pytest.mark.parametrize("clusters, field", [
    ("platform", "lab_clusters: must be a list"),
    (["platform"], "lab_clusters[0]: must be a dict"),
    ([{"control_plane": {}}], "lab_clusters[0]: name is required"),
    ([{"name": "p", "control_plane": ["default/apps"]}], "lab_clusters[0] (p): control_plane must be a dict"),
    ([{"name": "p", "control_plane": {"networks": "default/apps"}}], "lab_clusters[0] (p): control_plane.networks must be a list"),
    ([{"name": "p", "workers": {"name": "w"}}], "lab_clusters[0] (p): workers must be a list"),
    ([{"name": "p", "workers": [{"name": "w", "networks": [""]}]}], "lab_clusters[0] (p): workers[0].networks must be a list"),
])
def test_a_cluster_entry_the_diagram_cannot_read_is_refused_naming_it(clusters, field):
    with pytest.raises(AnsibleFilterError, match=re.escape(field)):
        three_node_lab(clusters=clusters)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (Debian package graphviz, bindep.txt)")
@pytest.mark.parametrize("draw", [three_node_lab, four_node_lab], ids=["three nodes", "four nodes"])
def test_graphviz_renders_the_text(draw):
    proc = subprocess.run(["dot", "-Tsvg"], input=draw(), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    assert "<svg" in proc.stdout and ">ms02&#45;1</text>" in proc.stdout
