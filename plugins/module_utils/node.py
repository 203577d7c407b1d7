# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Harvester node looks like to an operator: Kubernetes readiness and schedulability,
roles, maintenance mode, the bonds of its cluster networks with their member NICs, and its
Longhorn node and disks. Pure functions over API objects (``summary``), plus ``gather`` that
reads everything with one request per kind -- never one per node.

Facts (shared/reference/harvester-api.md §2.1, §2.3, §4; longhorn-capi.md §2):

- roles: the labels ``node-role.kubernetes.io/<role>`` (and Harvester's
  ``node-role.harvesterhci.io/<role>``, e.g. ``witness``), as kubectl shows them.
- maintenance: annotation ``harvesterhci.io/maintain-status`` = ``running`` (entering) or
  ``completed`` (in maintenance); absent = not in maintenance.
- bonds: LinkMonitor ``<cn>`` holds each node's ``<cn>-bo`` entry; its ``index`` is the
  ``masterIndex`` of the member NICs in LinkMonitor ``nic``. A NIC named in the VlanConfig that
  covers the node (annotation ``network.harvesterhci.io/matched-nodes``) but not enslaved to the
  bond is reported ``missing``. ``mgmt`` has no VlanConfig, so only its enslaved NICs are known.
- Longhorn: ``nodes.longhorn.io/<node>`` conditions (``Ready``, ``Schedulable``, ...) and
  ``status.diskStatus[<disk>].conditions`` (``Ready``, ``Schedulable``).
"""

from __future__ import annotations

import json

from . import kinds
from .errors import ConnectionFailure, HarvesterError, NotFound
from .objects import metadata

ROLE_PREFIXES = ("node-role.kubernetes.io/", "node-role.harvesterhci.io/")
ANNOTATION_MAINTAIN = "harvesterhci.io/maintain-status"
ANNOTATION_MATCHED_NODES = "network.harvesterhci.io/matched-nodes"
ANNOTATION_UPLINK_MTU = "network.harvesterhci.io/uplink-mtu"
DEFAULT_MTU = 1500
NIC_MONITOR = "nic"
BOND_SUFFIX = "-bo"
CN_LABEL_PREFIX = "network.harvesterhci.io/"
MISSING = "missing"


class NodeNotFound(HarvesterError):
    """The node asked for does not exist."""

    def __init__(self, name):
        super().__init__(f"node {name!r} not found")
        self.node = name

    def as_dict(self):
        return {"node": self.node}


# --- small readers ------------------------------------------------------------------------
def _status(obj):
    return (obj or {}).get("status") or {}


def conditions(items):
    """A condition list as ``{type: {status, reason, message}}`` (last one of a type wins)."""
    out = {}
    for c in items or []:
        if isinstance(c, dict) and c.get("type"):
            out[c["type"]] = {"status": str(c.get("status", "Unknown")), "reason": c.get("reason") or "",
                              "message": c.get("message") or ""}
    return out


def _is_true(conds, kind):
    return (conds.get(kind) or {}).get("status") == "True"


def roles(node):
    """Sorted role names from the node-role labels (``control-plane``, ``etcd``, ``witness``...)."""
    found = set()
    for key, value in (metadata(node).get("labels") or {}).items():
        for prefix in ROLE_PREFIXES:
            if key.startswith(prefix) and key[len(prefix):] and str(value).lower() != "false":
                found.add(key[len(prefix):])
    return sorted(found)


def internal_ip(node):
    for address in _status(node).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address")
    return (metadata(node).get("annotations") or {}).get("rke2.io/internal-ip")


def link_status(monitor, node_name):
    """The entries of one node in a LinkMonitor (``[]`` when the node is not reported)."""
    return list((_status(monitor).get("linkStatus") or {}).get(node_name) or [])


def expected_nics(vlan_configs, cluster_network, node_name):
    """The uplink NICs of the VlanConfig of ``cluster_network`` that covers the node, or
    ``None`` when no VlanConfig covers it (``mgmt``, or a node the network does not reach)."""
    for vc in vlan_configs or []:
        spec = vc.get("spec") or {}
        if spec.get("clusterNetwork") != cluster_network:
            continue
        try:
            matched = json.loads((metadata(vc).get("annotations") or {}).get(ANNOTATION_MATCHED_NODES) or "[]")
        except ValueError:
            matched = []
        if node_name in matched:
            return list(((spec.get("uplink") or {}).get("nics")) or [])
    return None


def uplink_mtus(cluster_networks):
    """``{cluster network: MTU}`` from the ``network.harvesterhci.io/uplink-mtu`` annotation the
    network controller keeps on each ClusterNetwork (``mgmt``: the MTU it was installed with);
    1500, Harvester's default, when it gives none."""
    out = {}
    for cn in cluster_networks or []:
        text = (metadata(cn).get("annotations") or {}).get(ANNOTATION_UPLINK_MTU)
        try:
            out[metadata(cn).get("name")] = int(text) if text else DEFAULT_MTU
        except ValueError:
            out[metadata(cn).get("name")] = None
    return out


def bond(cluster_network, monitor, nic_monitor, node_name, vlan_configs=None, mtu=None):
    """The bond ``<cn>-bo`` of a node with its members (and the cluster network's ``mtu``), or
    ``None`` when the node has no such bond and is not expected to have one."""
    bond_name = cluster_network + BOND_SUFFIX
    entry = next((e for e in link_status(monitor, node_name) if e.get("name") == bond_name), None)
    expected = expected_nics(vlan_configs, cluster_network, node_name)
    if entry is None and expected is None:
        return None
    members = []
    if entry is not None and entry.get("index"):
        for nic in link_status(nic_monitor, node_name):
            if nic.get("masterIndex") == entry["index"]:
                members.append({"name": nic.get("name"), "state": nic.get("state") or "unknown", "mac": nic.get("mac")})
    names = {m["name"] for m in members}
    for nic_name in expected or []:
        if nic_name not in names:
            members.append({"name": nic_name, "state": MISSING, "mac": None})
    members.sort(key=lambda m: m["name"] or "")
    up = sum(1 for m in members if m["state"] == "up")
    state = (entry.get("state") or "unknown") if entry is not None else MISSING
    return {"name": bond_name, "state": state, "index": entry.get("index") if entry is not None else None,
            "members": members, "members_up": up, "members_total": len(members), "mtu": mtu,
            "healthy": state == "up" and bool(members) and up == len(members)}


def bonds(node_name, monitors, vlan_configs=None, mtus=None):
    """``{cluster network: bond}`` for every cluster network LinkMonitor that reports a bond
    on the node (or whose VlanConfig covers it); ``mtus`` from ``uplink_mtus``."""
    by_name = {metadata(m).get("name"): m for m in monitors or []}
    nic_monitor = by_name.get(NIC_MONITOR)
    cluster_networks = {n for n in by_name if n and n != NIC_MONITOR}
    cluster_networks.update((vc.get("spec") or {}).get("clusterNetwork") for vc in vlan_configs or [])
    out = {}
    for cn in sorted(c for c in cluster_networks if c):
        found = bond(cn, by_name.get(cn), nic_monitor, node_name, vlan_configs, (mtus or {}).get(cn))
        if found is not None:
            out[cn] = found
    return out


def longhorn(lh_node):
    """Longhorn's view of a node: conditions and disk health (``None`` without a Longhorn node)."""
    if lh_node is None:
        return None
    spec, status = lh_node.get("spec") or {}, _status(lh_node)
    conds = conditions(status.get("conditions"))
    disk_specs, disk_status = spec.get("disks") or {}, status.get("diskStatus") or {}
    disks = []
    for disk_name in sorted(set(disk_specs) | set(disk_status)):
        ds, st = disk_specs.get(disk_name) or {}, disk_status.get(disk_name) or {}
        dconds = conditions(st.get("conditions"))
        disks.append({
            "name": disk_name,
            "path": ds.get("path") or st.get("diskPath"),
            "disk_type": ds.get("diskType") or st.get("diskType"),
            "allow_scheduling": ds.get("allowScheduling"),
            "eviction_requested": ds.get("evictionRequested"),
            "ready": _is_true(dconds, "Ready"),
            "schedulable": _is_true(dconds, "Schedulable"),
            "storage_maximum": st.get("storageMaximum"),
            "storage_available": st.get("storageAvailable"),
            "storage_scheduled": st.get("storageScheduled"),
            "storage_reserved": ds.get("storageReserved"),
            "conditions": dconds,
        })
    return {"ready": _is_true(conds, "Ready"), "schedulable": _is_true(conds, "Schedulable"),
            "allow_scheduling": spec.get("allowScheduling"), "eviction_requested": spec.get("evictionRequested"),
            "conditions": conds, "disks": disks}


def problems(info):
    """Short sentences for what is not healthy on a node (``[]`` when all is well)."""
    out = []
    if not info["ready"]:
        out.append(f"node is not Ready ({info['ready_reason'] or 'no Ready condition'})")
    if not info["schedulable"]:
        out.append("node is cordoned (spec.unschedulable)")
    if info["maintenance"]:
        out.append(f"maintenance mode {info['maintenance']}")
    for cn, b in info["bonds"].items():
        if b["state"] != "up":
            out.append(f"bond {b['name']} of cluster network {cn} is {b['state']}")
        if not b["members"]:
            out.append(f"bond {b['name']} has no member NICs")
        for m in b["members"]:
            if m["state"] != "up":
                out.append(f"NIC {m['name']} of bond {b['name']} is {m['state']}")
    lh = info["longhorn"]
    if lh is None:
        out.append("no Longhorn node")
    else:
        for kind in ("Ready", "Schedulable"):
            c = lh["conditions"].get(kind)
            if c is None or c["status"] != "True":
                why = (c or {}).get("message") or (c or {}).get("reason") or "no condition"
                out.append(f"Longhorn node not {kind}: {why}")
        # Longhorn's Schedulable condition only follows the Kubernetes cordon; an operator's
        # "disable scheduling" is spec.allowScheduling, which no condition shows.
        if lh["allow_scheduling"] is False:
            out.append("Longhorn node has scheduling disabled (spec.allowScheduling false): no new replica goes there")
        for d in lh["disks"]:
            if d["allow_scheduling"] is False:
                out.append(f"Longhorn disk {d['name']} has scheduling disabled (allowScheduling false)")
            for kind in ("Ready", "Schedulable"):
                c = d["conditions"].get(kind)
                if c is None or c["status"] != "True":
                    why = (c or {}).get("message") or (c or {}).get("reason") or "no condition"
                    out.append(f"Longhorn disk {d['name']} not {kind}: {why}")
    return out


def summary(node, monitors=(), lh_node=None, vlan_configs=(), mtus=None):
    """Everything the module returns for one Kubernetes Node object."""
    meta = metadata(node)
    name = meta.get("name")
    conds = conditions(_status(node).get("conditions"))
    ready = conds.get("Ready") or {}
    info = {
        "name": name,
        "roles": roles(node),
        "ready": ready.get("status") == "True",
        "ready_reason": ready.get("reason") or "",
        "schedulable": not bool((node.get("spec") or {}).get("unschedulable")),
        "maintenance": (meta.get("annotations") or {}).get(ANNOTATION_MAINTAIN),
        "internal_ip": internal_ip(node),
        "kubelet_version": (_status(node).get("nodeInfo") or {}).get("kubeletVersion"),
        "os_image": (_status(node).get("nodeInfo") or {}).get("osImage"),
        "bonds": bonds(name, monitors, vlan_configs, mtus),
        "longhorn": longhorn(lh_node),
    }
    info["problems"] = problems(info)
    info["healthy"] = not info["problems"]
    return info


def summaries(nodes, monitors=(), lh_nodes=(), vlan_configs=(), mtus=None):
    """``summary`` of each node, sorted by name; Longhorn nodes matched by name."""
    by_name = {metadata(n).get("name"): n for n in lh_nodes or []}
    return [summary(n, monitors, by_name.get(metadata(n).get("name")), vlan_configs, mtus)
            for n in sorted(nodes, key=lambda n: metadata(n).get("name") or "")]


# --- reading ----------------------------------------------------------------------------------
def _list_or_empty(client, path):
    """A list that is empty when the kind is not served (no Longhorn, older network controller)."""
    try:
        return client.list(path)
    except NotFound:
        return []


def gather_if_reachable(client, name=None, unreachable_ok=False):
    """harvester_node_info's result: ``gather``'s nodes with ``reachable`` true; with
    ``unreachable_ok``, an API that nothing takes the connection for (``nothing_listens``) is
    ``reachable`` false with no nodes, found with one attempt (a refused connection is not retried)."""
    if unreachable_ok:
        client.retry_policy = client.retry_policy.replace(retry_refused=False)
    try:
        nodes = gather(client, name)
    except ConnectionFailure as e:
        if not (unreachable_ok and e.nothing_listens):
            raise
        return {"changed": False, "reachable": False, "nodes": [], "msg": str(e)}
    return {"changed": False, "reachable": True, "nodes": nodes}


def gather(client, name=None):
    """Read what ``summaries`` needs with one request per kind: nodes (or the one node),
    LinkMonitors, VlanConfigs, ClusterNetworks, Longhorn nodes (or the one). Raises ``NodeNotFound``."""
    if name:
        node = client.get(kinds.NODE.path(None, name), missing_ok=True)
        if node is None:
            raise NodeNotFound(name)
        nodes = [node]
        try:
            lh = client.get(kinds.LONGHORN_NODE.path(kinds.LONGHORN_NAMESPACE, name), missing_ok=True)
        except NotFound:
            lh = None
        lh_nodes = [lh] if lh else []
    else:
        nodes = client.list(kinds.NODE.path())
        lh_nodes = _list_or_empty(client, kinds.LONGHORN_NODE.path(kinds.LONGHORN_NAMESPACE))
    monitors = _list_or_empty(client, kinds.LINK_MONITOR.path())
    vlan_configs = _list_or_empty(client, kinds.VLAN_CONFIG.path())
    mtus = uplink_mtus(_list_or_empty(client, kinds.CLUSTER_NETWORK.path()))
    return summaries(nodes, monitors, lh_nodes, vlan_configs, mtus)
