# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab inventory (inventory/lab) as Ansible resolves it: layout, plan and secrets.

Runs the venv's `ansible-inventory -i inventory/lab --list` and checks the result with the same
validate_lab_plan the roles use through the homelab.harvester.lab_plan_errors filter.
`ansible-inventory --list` does not render templates, so the plan's values must be literal (and
the vault references show up as the "{{ vault_... }}" strings they are).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.homelab.harvester.plugins.plugin_utils.lab_plan import validate_lab_plan

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventory" / "lab"
VAULT_FILE = Path("group_vars", "all", "vault.yml")
PLAN_FILE = Path("group_vars", "all", "lab.yml")
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"

NODE_HOSTS = ["ms02-1", "ms02-2", "ms02-3"]
API_HOST = "harvester-lab"
# name: (id, cidr, routed, vm_network) -- the VLAN table of the building block.
EXPECTED_VLANS = {
    "mgmt": (10, "10.10.10.0/24", True, False),
    "platform": (30, "10.10.30.0/24", True, True),
    "cluster": (40, "10.10.40.0/24", True, True),
    "storage": (60, "10.10.60.0/24", False, False),
}
SECRET_NAME = re.compile(r"(token|password|passphrase|secret)", re.IGNORECASE)
VAULT_REFERENCE = re.compile(r"^\{\{\s*(vault_[a-z0-9_]+)\s*\}\}$")


def _is_encrypted(path):
    return path.read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT")


def copy_inventory(destination):
    """A copy of inventory/lab; an encrypted vault file is left out (the plan does not need it)."""
    shutil.copytree(INVENTORY, destination)
    if _is_encrypted(destination / VAULT_FILE):
        (destination / VAULT_FILE).unlink()
    return destination


def ansible_inventory(path):
    """`ansible-inventory -i path --list` as a dict; fails the test with Ansible's stderr on error."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="0")
    proc = subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(path), "--list"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300, check=False,
    )
    assert proc.returncode == 0, f"ansible-inventory -i {path} --list failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def group_hosts(inventory, group):
    return inventory.get(group, {}).get("hosts", [])


def plan_errors(inventory):
    """validate_lab_plan over the plan as resolved for the API host, as the roles call it."""
    hostvars = inventory["_meta"]["hostvars"]
    plan = hostvars[API_HOST]
    nodes = {host: hostvars[host].get("lab_node") for host in group_hosts(inventory, "harvester_nodes")}
    return validate_lab_plan(
        plan.get("lab_vlans"),
        nodes,
        mgmt_vlan_name=plan["lab_mgmt"]["vlan"],
        vip=plan.get("lab_vip"),
        nfs=plan.get("lab_nfs"),
        bond=plan.get("lab_bond"),
        dns_servers=plan.get("lab_dns_servers"),
        ntp_servers=plan.get("lab_ntp_servers"),
    )


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    path = INVENTORY
    if _is_encrypted(INVENTORY / VAULT_FILE):
        path = copy_inventory(tmp_path_factory.mktemp("inventory") / "lab")
    return ansible_inventory(path)


@pytest.fixture(scope="module")
def hostvars(inventory):
    return inventory["_meta"]["hostvars"]


# ----------------------------------------------------------------------------------------- layout


def test_groups_and_hosts(inventory):
    assert group_hosts(inventory, "harvester_nodes") == NODE_HOSTS
    assert group_hosts(inventory, "harvester_api") == [API_HOST]


def test_api_host_is_the_controller(hostvars):
    api = hostvars[API_HOST]
    assert api["ansible_connection"] == "local"
    assert api["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"
    assert "lab_node" not in api


@pytest.mark.parametrize("host", NODE_HOSTS)
def test_node_hardware(hostvars, host):
    node = hostvars[host]["lab_node"]
    assert hostvars[host]["ansible_host"] == node["mgmt_ip"], "ansible_host must be the node's mgmt_ip"
    assert len(node["bond_nics"]) == 2
    for nic in [*node["bond_nics"], node["oob_nic"]]:
        assert set(nic) == {"name", "mac"}, nic
    assert node["role"] == ("create" if host == "ms02-1" else "join")
    assert node["install_disk"].startswith("/dev/disk/by-id/")
    assert node["data_disk"].startswith("/dev/disk/by-id/")


# ------------------------------------------------------------------------------------------- plan


def test_plan_is_sound(inventory):
    assert plan_errors(inventory) == []


def test_plan_matches_the_building_block(hostvars):
    plan = hostvars[API_HOST]
    vlans = {vlan["name"]: (vlan["id"], vlan["cidr"], vlan["gateway"] is not None, vlan["vm_network"])
             for vlan in plan["lab_vlans"]}
    assert vlans == EXPECTED_VLANS
    assert plan["lab_mgmt"]["vlan"] == "mgmt"
    assert plan["lab_domain"] == "lab.local"
    assert plan["lab_harvester_fqdn"] == "harvester.{{ lab_domain }}"  # derived: the UI's name is in the lab's domain
    assert plan["lab_bond"]["mode"] == "802.3ad"
    assert set(plan["lab_nfs"]) == {"server", "images_export", "backups_export"}


def test_plan_is_shared_by_every_host(hostvars):
    """The plan lives in group_vars/all: nodes and the API host see the same values."""
    names = [name for name in hostvars[API_HOST] if name.startswith("lab_")]
    for host in NODE_HOSTS:
        assert {name: hostvars[host][name] for name in names} == {name: hostvars[API_HOST][name] for name in names}


# ---------------------------------------------------------------------------------------- secrets


def test_secrets_are_vault_references(hostvars):
    secrets = {name: value for name, value in hostvars[API_HOST].items()
               if SECRET_NAME.search(name) and not name.startswith("vault_")}
    assert {"lab_harvester_token", "lab_harvester_os_password"} <= set(secrets)
    for name, value in secrets.items():
        assert isinstance(value, str) and VAULT_REFERENCE.match(value), (
            f"{name} must reference a vault_* variable, e.g. '{{{{ vault_{name.removeprefix('lab_')} }}}}'")


def test_vault_file_holds_only_vault_variables():
    vault = INVENTORY / VAULT_FILE
    if _is_encrypted(vault):
        pytest.skip(f"{vault} is encrypted")
    data = yaml.safe_load(vault.read_text(encoding="utf-8"))
    assert data, f"{vault} defines no secrets"
    assert all(name.startswith("vault_") for name in data), sorted(data)
    assert "ansible-vault encrypt" in vault.read_text(encoding="utf-8"), "say how to encrypt it"
    # Unencrypted, it may only hold placeholders: real secrets must be encrypted first.
    for name, value in data.items():
        assert "CHANGE-ME" in str(value), f"{name} looks like a real secret in an unencrypted {vault}"


def test_vault_variables_are_referenced_not_inlined():
    vault = INVENTORY / VAULT_FILE
    if _is_encrypted(vault):
        pytest.skip(f"{vault} is encrypted")
    secrets = yaml.safe_load(vault.read_text(encoding="utf-8"))
    plain_files = [path for path in INVENTORY.rglob("*.yml") if path != vault]
    plain_text = {path: path.read_text(encoding="utf-8") for path in plain_files}
    for name, value in secrets.items():
        assert any(f"{{{{ {name} }}}}" in text for text in plain_text.values()), f"{name} is never referenced"
        for path, text in plain_text.items():
            assert str(value) not in text, f"the value of {name} is inlined in {path.relative_to(REPO)}"
            assert not re.search(rf"^\s*{name}\s*:", text, re.MULTILINE), f"{name} is defined in {path}"


# -------------------------------------------------------------------------------- a broken copy


def test_broken_copy_is_caught(tmp_path):
    lab = copy_inventory(tmp_path / "lab")
    plan_file = lab / PLAN_FILE
    plan = yaml.safe_load(plan_file.read_text(encoding="utf-8"))
    storage = next(index for index, vlan in enumerate(plan["lab_vlans"]) if vlan["name"] == "storage")
    cluster = next(index for index, vlan in enumerate(plan["lab_vlans"]) if vlan["name"] == "cluster")
    plan["lab_vlans"][storage]["cidr"] = "10.10.40.0/23"  # swallows the cluster VLAN's 10.10.40.0/24
    plan_file.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")

    first = yaml.safe_load((lab / "host_vars" / "ms02-1.yml").read_text(encoding="utf-8"))
    second_file = lab / "host_vars" / "ms02-2.yml"
    second = yaml.safe_load(second_file.read_text(encoding="utf-8"))
    second["lab_node"]["bond_nics"][1]["mac"] = first["lab_node"]["bond_nics"][0]["mac"]
    second_file.write_text(yaml.safe_dump(second, sort_keys=False), encoding="utf-8")

    errors = plan_errors(ansible_inventory(lab))
    mac = first["lab_node"]["bond_nics"][0]["mac"].lower()
    assert errors == [
        f"lab_vlans[{storage}] (storage): cidr 10.10.40.0/23 overlaps lab_vlans[{cluster}] (cluster) 10.10.40.0/24",
        f"lab_node (ms02-2): bond_nics[1].mac {mac} is already used by ms02-1 bond_nics[0]",
    ]


# What acts on the lab: the roles and the playbooks that configure or check it (the diagram only draws).
CONSUMERS = [p for p in sorted((REPO / "roles").glob("*/*/*.yml")) + sorted((REPO / "roles").glob("*/templates/*"))
             + sorted((REPO / "playbooks").glob("*.yml")) if p.name != "diagram.yml"]


def test_every_value_of_the_plan_is_read_by_a_role_or_a_playbook():
    """A value the inventory documents but nothing reads (lab_harvester_url, lab_nfs.images_export,
    lab_domain were) misleads whoever edits it."""
    text = "\n".join(p.read_text() for p in CONSUMERS)
    plan = yaml.safe_load((INVENTORY / PLAN_FILE).read_text())
    unread = [name for name in plan if name not in text]
    # a value derived from another one (lab_harvester_fqdn from lab_domain) is read through it
    derived = {name for name, value in plan.items() if isinstance(value, str) and "{{" in value}
    unread = [name for name in unread if not any(name in str(plan[d]) for d in derived if d not in unread)]
    unread += [f"lab_nfs.{key}" for key in plan["lab_nfs"] if key not in text]
    assert unread == []


# ------------------------------------------------------- issue 15: AMT, images, key, Talos cluster


@pytest.mark.parametrize("host", NODE_HOSTS)
def test_each_node_has_its_amt_endpoint(hostvars, host):
    """What the bootstrap role powers the node on with (amt_power): TLS on 16993, user admin, the
    password from the vault (one for the lab), an address of its own on the OOB segment."""
    amt = hostvars[host]["lab_node"]["amt"]
    assert amt == {"host": amt["host"], "port": 16993, "tls": True, "user": "admin", "validate_certs": False}
    addresses = {hostvars[h]["lab_node"]["amt"]["host"] for h in NODE_HOSTS}
    assert len(addresses) == len(NODE_HOSTS)
    assert hostvars[API_HOST]["lab_amt_password"] == "{{ vault_amt_password }}"


def test_the_image_library_is_on_the_nas(hostvars):
    plan = hostvars[API_HOST]
    images = {image["name"]: image for image in plan["lab_images"]}
    assert set(images) == {"talos-1-11-nocloud", "talos-1-11-metal-iso"}
    for image in images.values():
        assert image["url"].startswith(f"http://{plan['lab_nfs']['server']}/"), image
    assert images["talos-1-11-metal-iso"]["url"].endswith(".iso")


def test_the_vms_ssh_key_is_a_public_key(hostvars):
    (key,) = hostvars[API_HOST]["lab_ssh_authorized_keys"]
    kind, data, comment = key.split()
    assert kind == "ssh-ed25519" and comment == "lab-vms@homelab.harvester"
    assert "PRIVATE" not in key and not list(INVENTORY.rglob("*ed25519")), "only the public half is committed"


def test_the_downstream_talos_cluster_is_on_the_cluster_vlan(hostvars):
    plan = hostvars[API_HOST]
    (cluster,) = plan["lab_clusters"]
    assert cluster["control_plane"]["replicas"] == 3
    assert [pool["replicas"] for pool in cluster["workers"]] == [2]
    assert cluster["control_plane"]["networks"] == ["default/cluster"]
    assert cluster["control_plane"]["image"] == "default/" + plan["lab_images"][0]["name"]
    assert plan["lab_capi_management_kubeconfig"] == ""  # the twin plays Harvester and the Platform cluster
