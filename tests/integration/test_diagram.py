# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/diagram.yml as users run it: `ansible-playbook -i inventory/lab playbooks/diagram.yml`
draws the committed picture (docs/lab.dot, docs/lab.svg, shown in the README), a four-node
inventory with other VLANs and Talos clusters draws another, and a broken plan writes nothing.
No twin: the playbook reads the inventory only. Without Graphviz the SVG checks skip."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from tests.integration.playbooks import ROOT, ansible_playbook, playbook_env

pytestmark = [pytest.mark.integration]

LAB = ROOT / "inventory" / "lab"
DIAGRAM = ROOT / "playbooks" / "diagram.yml"
DOT = shutil.which("dot")
needs_graphviz = pytest.mark.skipif(DOT is None, reason="Graphviz is not installed (Debian package graphviz, bindep.txt)")


def draw(inventory, dest):
    env = playbook_env(drop=("ANSIBLE_", "K8S_AUTH_"), ANSIBLE_NOCOLOR="1")
    return ansible_playbook(["-i", inventory, DIAGRAM, "-e", f"diagram_dir={dest}"], cwd=ROOT, env=env)


def graphviz_version(text):
    found = re.search(r"graphviz version (\S+)", text)
    return found.group(1) if found else None


@pytest.fixture
def four_node_inventory(tmp_path):
    """inventory/lab with a fourth MS-02 and, besides mgmt, other VLANs with a Talos cluster on them."""
    inventory = tmp_path / "inventory"
    shutil.copytree(LAB, inventory)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    hosts["all"]["children"]["harvester_nodes"]["hosts"]["ms02-4"] = {"ansible_host": "10.10.10.14"}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    node = yaml.safe_load((inventory / "host_vars" / "ms02-3.yml").read_text())["lab_node"]
    node.update(mgmt_ip="10.10.10.14", role="join",
                bond_nics=[{"name": "enp2s0f0np0", "mac": "58:47:ca:7b:04:a0"}, {"name": "enp2s0f1np1", "mac": "58:47:ca:7b:04:a1"}],
                oob_nic={"name": "enp5s0", "mac": "58:47:ca:7b:04:b0"},
                install_disk="/dev/disk/by-id/nvme-OS_4", data_disk="/dev/disk/by-id/nvme-DATA_4",
                amt=dict(node["amt"], host="10.10.10.34"))
    (inventory / "host_vars" / "ms02-4.yml").write_text(yaml.safe_dump({"lab_node": node}))
    plan_file = inventory / "group_vars" / "all" / "lab.yml"
    plan = yaml.safe_load(plan_file.read_text())
    plan["lab_vlans"] = [plan["lab_vlans"][0],
                         {"name": "apps", "id": 130, "cidr": "10.10.130.0/24", "gateway": "10.10.130.1",
                          "purpose": "Application clusters", "vm_network": True},
                         {"name": "replication", "id": 160, "cidr": "10.10.160.0/24", "gateway": None,
                          "purpose": "Longhorn replication", "vm_network": False}]
    plan["lab_clusters"] = [{"name": "apps", "namespace": "capi-apps", "kubernetes_version": "v1.33.4", "talos_version": "v1.11",
                             "control_plane": {"replicas": 3, "networks": ["default/apps"]},
                             "workers": [{"name": "workers", "replicas": 2}]}]
    plan_file.write_text(yaml.safe_dump(plan))
    return inventory


def test_the_readme_shows_the_committed_picture():
    assert "](docs/lab.svg)" in (ROOT / "README.md").read_text()
    assert (ROOT / "docs" / "lab.svg").read_text().lstrip().startswith("<?xml")


def test_the_lab_inventory_draws_the_committed_picture(tmp_path):
    """docs/lab.dot is what the playbook draws from inventory/lab today (regenerate it with
    `ansible-playbook -i inventory/lab playbooks/diagram.yml -e diagram_dir=docs`)."""
    proc = draw(LAB, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dot = (tmp_path / "lab.dot").read_text()
    assert dot == (ROOT / "docs" / "lab.dot").read_text(), "docs/lab.dot is out of date: regenerate it (see the docstring)"
    for name in ("ms02-1", "ms02-2", "ms02-3", "VLAN 10 &middot; mgmt", "VLAN 60 &middot; storage", "VIP 10.10.10.5", "NAS 10.10.10.20"):
        assert name in dot
    if DOT is None:
        assert not (tmp_path / "lab.svg").exists() and "Graphviz is not installed" in proc.stdout
        pytest.skip("Graphviz is not installed: the SVG was not rendered")
    svg = (tmp_path / "lab.svg").read_text()
    committed = (ROOT / "docs" / "lab.svg").read_text()
    if graphviz_version(svg) == graphviz_version(committed):
        assert svg == committed, "docs/lab.svg is out of date: regenerate it (see the docstring)"
    assert ">ms02&#45;3</text>" in svg


@needs_graphviz
def test_a_four_node_lab_with_other_vlans_draws_another_picture(tmp_path, four_node_inventory):
    proc = draw(four_node_inventory, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dot, svg = (tmp_path / "lab.dot").read_text(), (tmp_path / "lab.svg").read_text()
    assert dot != (ROOT / "docs" / "lab.dot").read_text()
    assert "<b>ms02-4</b>" in dot and dot.count('-> "switch"') == 8
    assert "802.1Q tagged: VLAN 10, 130, 160" in dot and '"vlan:platform"' not in dot
    assert '"vlan:apps" -> "talos:apps"' in dot
    for text in (">ms02&#45;4</text>", "VLAN 130 · apps", "VLAN 160 · replication", "Talos cluster apps", "58:47:ca:7b:04:b0"):
        assert text in svg, text
    assert "VLAN 30 · platform" not in svg


def test_a_broken_plan_fails_and_writes_nothing(tmp_path, four_node_inventory):
    host_vars = four_node_inventory / "host_vars" / "ms02-4.yml"
    host_vars.write_text(host_vars.read_text().replace("10.10.10.14", "10.10.10.12"))  # ms02-2's address
    dest = tmp_path / "out"
    proc = draw(four_node_inventory, dest)
    assert proc.returncode == 2, proc.stdout
    assert "lab_diagram: the lab plan has problems, nothing drawn" in proc.stdout and "lab_node (ms02-4)" in proc.stdout
    assert not dest.exists()
