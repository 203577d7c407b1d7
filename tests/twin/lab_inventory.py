"""The seeded lab shaped by an Ansible inventory (`python -m tests.twin --lab PATH`).

PATH is an inventory directory like inventory/lab (or its hosts.yml / hosts.yaml). It is read as
plain YAML, without Ansible: hosts.yml, group_vars/{all,harvester_nodes}(.yml|/*.yml) and
host_vars/<host>(.yml|/*.yml). `!vault` (and any other `!tag`) values are opaque, files encrypted
whole with ansible-vault are skipped, Jinja strings are kept as written.

From it come the objects of lab/ that are per node; everything else of lab/ stays as it is:

- the core Nodes: one per host of group `harvester_nodes`, in inventory order, InternalIP
  `lab_node.mgmt_ip` (else `ansible_host`); the first three are control-plane/etcd/master as in
  lab/10-nodes.yaml, the others workers;
- LinkMonitor `nic` (per node: `lab_node.bond_nics`, enslaved to the mgmt bond, then
  `lab_node.oob_nic`, all up) and LinkMonitor `mgmt` (per node: `mgmt-bo` and `mgmt-br`);
- the Longhorn Nodes with their default disk: a node of lab/30-longhorn.yaml keeps its object
  (the seeded replicas name its disk), a new one gets a fresh disk with nothing scheduled;
- the mgmt ClusterNetwork's uplink MTU annotation from `lab_bond.mtu`;
- the addresses of lab/'s Longhorn replicas (`status.ip`, `storageIP`): their node's `mgmt_ip`;
- the world outside the API, as a `LabEnvironment` document the seeder puts into the store's
  environment (`/_twin/environment`): `dhcp_leases`, what a DHCP client is answered on every
  VLAN of `lab_vlans` that has a gateway (its cidr and gateway; the VM networks' `auto` routes and
  CAPHV's DHCP addresses come from it), in place of lab/dhcp-leases.yml.

For inventory/lab itself the objects are exactly lab/ (tests/twin/tests/test_lab_inventory.py), plus
that environment. Other objects of lab/ that name a node (the VMIs, Longhorn volumes) are kept
unchanged.
"""
from __future__ import annotations

import copy
import hashlib
import uuid
from pathlib import Path

import yaml

from . import lab

GROUP = "harvester_nodes"
CONTROL_PLANE_NODES = 3
ROLE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/etcd", "node-role.kubernetes.io/master")
BOND_INDEX, BRIDGE_INDEX, FIRST_NIC_INDEX = 10, 11, 2


class LabInventoryError(ValueError):
    """The inventory cannot be read or lacks what the lab needs; the message names the file."""


class Opaque(str):
    """A value behind a YAML tag (`!vault`, `!unsafe`): kept, never interpreted."""


class _Loader(yaml.SafeLoader):
    pass


def _opaque(loader: yaml.Loader, _tag_suffix: str, node: yaml.Node) -> Opaque:
    return Opaque(loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else "")


_Loader.add_multi_constructor("!", _opaque)


def read_yaml(path: Path):
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        return None  # encrypted whole: opaque
    try:
        with open(path, encoding="utf-8") as f:  # a file stream: the error's mark names the file and line
            return yaml.load(f, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise LabInventoryError(f"{path}: not parsable as YAML: {e}") from None


def _vars_files(folder: Path, name: str) -> list[Path]:
    files = [folder / f"{name}{ext}" for ext in (".yml", ".yaml", "") if (folder / f"{name}{ext}").is_file()]
    if (folder / name).is_dir():
        files += sorted(p for p in (folder / name).iterdir() if p.is_file() and p.suffix in (".yml", ".yaml"))
    return files


def _read_vars(files: list[Path]) -> dict:
    merged: dict = {}
    for path in files:
        data = read_yaml(path)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise LabInventoryError(f"{path}: expected a mapping of variables, got {type(data).__name__}")
        merged.update(data)
    return merged


def _group_hosts(group: dict | None, path: Path) -> dict[str, dict]:
    """Hosts of an inventory group and of its child groups, in file order."""
    if group is None:
        return {}
    if not isinstance(group, dict):
        raise LabInventoryError(f"{path}: group {GROUP} is not a mapping")
    hosts: dict[str, dict] = {}
    for name, hvars in (group.get("hosts") or {}).items():
        hosts[str(name)] = hvars if isinstance(hvars, dict) else {}
    for child in (group.get("children") or {}).values():
        hosts.update(_group_hosts(child, path))
    return hosts


def _find_group(group: dict, name: str) -> dict | None:
    for child_name, child in (group.get("children") or {}).items():
        if child_name == name:
            return child or {}
        if isinstance(child, dict) and (found := _find_group(child, name)) is not None:
            return found
    return None


def load(path: Path) -> list[dict]:
    """[{name, mgmt_ip, bond_nics: [{name, mac}], oob_nic: {name, mac}, lab_node: {...}}] for every
    node, plus the plan-wide values (group_vars/all, the vault file included) in the first entry's
    `_all` (lab_bond, lab_nfs, vault_amt_password)."""
    path = Path(path)
    if path.is_file():
        hosts_file, folder = path, path.parent
    elif path.is_dir():
        folder = path
        hosts_file = next((folder / n for n in ("hosts.yml", "hosts.yaml") if (folder / n).is_file()), None)
        if hosts_file is None:
            raise LabInventoryError(f"{path}: no hosts.yml or hosts.yaml (a YAML inventory) in it")
    else:
        raise LabInventoryError(f"{path}: no such inventory")
    inventory = read_yaml(hosts_file)
    if not isinstance(inventory, dict) or not isinstance(inventory.get("all"), dict):
        raise LabInventoryError(f"{hosts_file}: not a YAML inventory (no top-level `all` group)")
    group = _find_group(inventory["all"], GROUP)
    hosts = _group_hosts(group, hosts_file)
    if not hosts:
        raise LabInventoryError(f"{hosts_file}: group {GROUP} has no hosts")
    all_vars = _read_vars(_vars_files(folder / "group_vars", "all"))
    group_vars = {**all_vars, **_read_vars(_vars_files(folder / "group_vars", GROUP))}
    nodes = []
    for name, inline in hosts.items():
        host_files = _vars_files(folder / "host_vars", name)
        hvars = {**group_vars, **inline, **_read_vars(host_files)}
        where = host_files[0] if host_files else hosts_file
        node = hvars.get("lab_node")
        if not isinstance(node, dict):
            raise LabInventoryError(f"{where}: host {name} has no lab_node mapping")
        mgmt_ip = node.get("mgmt_ip") or hvars.get("ansible_host")
        if not mgmt_ip:
            raise LabInventoryError(f"{where}: host {name} has no lab_node.mgmt_ip (nor ansible_host)")
        bond_nics = node.get("bond_nics") or []
        oob = node.get("oob_nic")
        if not isinstance(bond_nics, list) or not all(isinstance(n, dict) and n.get("name") for n in bond_nics):
            raise LabInventoryError(f"{where}: host {name}: lab_node.bond_nics must be a list of {{name, mac}}")
        if oob is not None and not (isinstance(oob, dict) and oob.get("name")):
            raise LabInventoryError(f"{where}: host {name}: lab_node.oob_nic must be a mapping {{name, mac}}")
        nodes.append({"name": name, "mgmt_ip": str(mgmt_ip), "bond_nics": bond_nics, "oob_nic": oob, "lab_node": node})
    if nodes:
        nodes[0]["_all"] = all_vars
    return nodes


# ----------------------------------------------------------------------------------------------
def mac_of(nic: dict, node_no: int, slot: str) -> str:
    mac = nic.get("mac")
    if isinstance(mac, str) and not isinstance(mac, Opaque) and mac:
        return mac.lower()
    return f"58:47:ca:7b:{node_no:02x}:{slot}"  # the lab's placeholder pattern


def core_node(template: dict, i: int, node: dict) -> dict:
    doc = copy.deepcopy(template)
    name, ip, no = node["name"], node["mgmt_ip"], i + 1
    meta = doc["metadata"]
    meta["name"] = name
    meta["labels"]["kubernetes.io/hostname"] = name
    for label in ROLE_LABELS:
        if i < CONTROL_PLANE_NODES:
            meta["labels"][label] = "true"
        else:
            meta["labels"].pop(label, None)
    meta["annotations"].update({"rke2.io/internal-ip": ip, "rke2.io/hostname": name, "harvesterhci.io/host-custom-name": name})
    doc["spec"].update(podCIDR=f"10.52.{i}.0/24", podCIDRs=[f"10.52.{i}.0/24"], providerID=f"rke2://{name}")
    doc["status"]["addresses"] = [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]
    doc["status"]["nodeInfo"].update(machineID=f"{no:032x}", systemUUID=f"{no:08x}-0000-4000-8000-{no:012x}",
                                     bootID=f"b007{no:03x}0-0000-4000-8000-000000000000")
    return doc


def longhorn_node(template: dict, node: dict) -> dict:
    """A Longhorn Node for a node lab/ does not have: its default disk, nothing scheduled yet."""
    doc = copy.deepcopy(template)
    old, name = template["metadata"]["name"], node["name"]
    digest = hashlib.sha256(name.encode()).hexdigest()
    (old_disk, spec_disk), = template["spec"]["disks"].items()
    disk = f"default-disk-{digest[:16]}"
    doc["metadata"].update(name=name, labels={"longhornnode": name})
    doc["spec"]["name"] = name
    doc["spec"]["disks"] = {disk: copy.deepcopy(spec_disk)}
    st = copy.deepcopy(template["status"]["diskStatus"][old_disk])
    st.update(diskName=disk, diskUUID=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.longhorn-disk")),
              instanceManagerName=f"instance-manager-{digest[16:36]}", storageScheduled=0, scheduledReplica={},
              storageAvailable=st["storageAvailable"] + st["storageScheduled"])
    for cond in st["conditions"]:
        cond["message"] = cond["message"].replace(old_disk, disk).replace(f"node {old} ", f"node {name} ")
    doc["status"]["diskStatus"] = {disk: st}
    for cond in doc["status"]["conditions"]:
        cond["message"] = cond["message"].replace(f"Node {old} ", f"Node {name} ")
    return doc


def link_status(nodes: list[dict]) -> tuple[dict, dict]:
    nic, mgmt = {}, {}
    for i, node in enumerate(nodes):
        no, entries, index = i + 1, [], FIRST_NIC_INDEX
        for j, bnic in enumerate(node["bond_nics"]):
            entries.append({"name": bnic["name"], "index": index, "type": "device", "mac": mac_of(bnic, no, f"a{j:x}"),
                            "promiscuous": False, "state": "up", "masterIndex": BOND_INDEX})
            index += 1
        if node["oob_nic"]:
            entries.append({"name": node["oob_nic"]["name"], "index": index, "type": "device",
                            "mac": mac_of(node["oob_nic"], no, "b0"), "promiscuous": False, "state": "up", "masterIndex": 0})
        nic[node["name"]] = entries
        bond_mac = entries[0]["mac"] if node["bond_nics"] else f"58:47:ca:7b:{no:02x}:a0"
        mgmt[node["name"]] = [
            {"name": "mgmt-bo", "index": BOND_INDEX, "type": "bond", "mac": bond_mac, "promiscuous": True, "state": "up",
             "masterIndex": BRIDGE_INDEX},
            {"name": "mgmt-br", "index": BRIDGE_INDEX, "type": "bridge", "mac": bond_mac, "promiscuous": False, "state": "up",
             "masterIndex": 0}]
    return nic, mgmt


def _is(doc: dict, api_version: str, kind: str, name: str | None = None) -> bool:
    return (doc.get("apiVersion") == api_version and doc.get("kind") == kind
            and (name is None or doc.get("metadata", {}).get("name") == name))


def documents(path: Path, base: list[dict] | None = None) -> list[dict]:
    """lab/'s documents (or `base`) with the per-node objects made from the inventory at path."""
    nodes = load(path)
    base = lab.documents() if base is None else base
    core_nodes = [d for d in base if _is(d, "v1", "Node")]
    lh_nodes = {d["metadata"]["name"]: d for d in base if _is(d, "longhorn.io/v1beta2", "Node")}
    nic_status, mgmt_status = link_status(nodes)
    bond = nodes[0]["_all"].get("lab_bond")
    mtu = bond.get("mtu") if isinstance(bond, dict) else None
    addresses = {n["name"]: n["mgmt_ip"] for n in nodes}
    out: list[dict] = []
    for doc in base:
        if _is(doc, "v1", "Node"):
            if doc is core_nodes[0]:
                out += [core_node(core_nodes[0], i, n) for i, n in enumerate(nodes)]
        elif _is(doc, "longhorn.io/v1beta2", "Node"):
            if doc is next(iter(lh_nodes.values())):
                first = doc
                out += [copy.deepcopy(lh_nodes[n["name"]]) if n["name"] in lh_nodes else longhorn_node(first, n)
                        for n in nodes]
        elif _is(doc, "network.harvesterhci.io/v1beta1", "LinkMonitor", "nic"):
            out.append(_with_link_status(doc, nic_status))
        elif _is(doc, "network.harvesterhci.io/v1beta1", "LinkMonitor", "mgmt"):
            out.append(_with_link_status(doc, mgmt_status))
        elif _is(doc, "network.harvesterhci.io/v1beta1", "ClusterNetwork", "mgmt") and isinstance(mtu, int):
            doc = copy.deepcopy(doc)
            doc["metadata"].setdefault("annotations", {})["network.harvesterhci.io/uplink-mtu"] = str(mtu)
            out.append(doc)
        elif _is(doc, "longhorn.io/v1beta2", "Replica") or _is(doc, "longhorn.io/v1beta2", "Engine"):
            out.append(_with_node_addresses(doc, addresses))
        else:
            out.append(copy.deepcopy(doc))
    return out + [environment(nodes[0]["_all"])]


def _with_node_addresses(doc: dict, addresses: dict[str, str]) -> dict:
    """A Longhorn Replica or Engine of lab/ with the address of the node it runs on."""
    status = doc.get("status") or {}
    ip = addresses.get(status.get("ownerID") or (doc.get("spec") or {}).get("nodeID") or "")
    if not ip or not status.get("ip"):
        return copy.deepcopy(doc)
    doc = copy.deepcopy(doc)
    doc["status"].update(ip=ip, storageIP=ip)
    return doc


def environment(all_vars: dict) -> dict:
    """The LabEnvironment document: DHCP answers per routed VLAN of lab_vlans."""
    leases = {}
    for vlan in all_vars.get("lab_vlans") or []:
        if not isinstance(vlan, dict) or not vlan.get("gateway") or not vlan.get("cidr"):
            continue
        try:
            vid = int(vlan.get("id"))
        except (TypeError, ValueError):
            continue
        leases[str(vid)] = {"cidr": str(vlan["cidr"]), "gateway": str(vlan["gateway"]), "serverIPAddr": str(vlan["gateway"])}
    return {"apiVersion": lab.ENVIRONMENT_API_VERSION, "kind": lab.ENVIRONMENT_KIND, "data": {"dhcp_leases": leases}}


def _with_link_status(doc: dict, link_status: dict) -> dict:
    doc = copy.deepcopy(doc)
    doc.setdefault("status", {})["linkStatus"] = link_status
    return doc
