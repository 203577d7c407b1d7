# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Harvester cluster network is: a ``ClusterNetwork`` (name only, no spec) plus one
``VlanConfig`` per group of nodes with the same uplink NICs, and the per-node ``VlanStatus``
objects the network agent writes. Per-kind knowledge only; the flow is in ``cluster_network_flow.py``.

Facts (shared/reference/harvester-api.md §1.5, §2.1; network-controller-harvester):

- ClusterNetwork name at most 12 characters (``<cn>-br``/``<cn>-bo`` fit 15); ``mgmt`` is built
  in and no VlanConfig may target it. ClusterNetwork DELETE is refused while VlanConfigs exist.
- VlanConfig spec: ``clusterNetwork``, ``nodeSelector``, ``uplink{nics, bondOptions{mode,
  miimon}, linkAttributes{mtu}}``. The mutating webhook adds label
  ``network.harvesterhci.io/clusternetwork`` and annotation ``network.harvesterhci.io/matched-nodes``
  (the JSON list of nodes it covers): both are the server's.
- The agent writes a VlanStatus per matched node with labels clusternetwork/vlanconfig/node
  and condition ``ready`` True, or False with its error (e.g. ``<nic> has been enslaved by the
  link with index 10``). The ClusterNetwork's ``ready`` turns True as soon as any VlanStatus
  exists, so per-node health is only in the VlanStatuses.
"""

from __future__ import annotations

import json

from . import kinds, validate
from .reconcile import Field

GROUP = "network.harvesterhci.io"
LABEL_CLUSTER_NETWORK = GROUP + "/clusternetwork"
LABEL_VLAN_CONFIG = GROUP + "/vlanconfig"
LABEL_NODE = GROUP + "/node"
ANNOTATION_MATCHED_NODES = GROUP + "/matched-nodes"
MGMT = "mgmt"
BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")
MIN_MTU, MAX_MTU = 576, 9000
CLUSTER_NETWORK = kinds.CLUSTER_NETWORK
VLAN_CONFIG = kinds.VLAN_CONFIG
VLAN_STATUS = kinds.VLAN_STATUS


# --- input ------------------------------------------------------------------------------
def check(params):
    """Every input check, before any request (raises ``ValidationError``)."""
    name = params["name"]
    validate.name(name, "name", validate.MAX_CLUSTER_NETWORK, why=" (its bond <name>-bo and bridge <name>-br must fit 15 characters)")
    if name == MGMT:
        raise validate.ValidationError("name", "mgmt is the built-in management network; its uplink is set at install time")
    validate.wait_timeout(params)
    uplinks = params.get("uplinks") or []
    if params.get("state", "present") == "present" and not uplinks:
        raise validate.ValidationError("uplinks", "at least one uplink is needed with state present")
    seen = set()
    for i, uplink in enumerate(uplinks):
        where = f"uplinks[{i}]"
        validate.name(uplink.get("name"), f"{where}.name")
        if uplink["name"] in seen:
            raise validate.ValidationError(f"{where}.name", f"{uplink['name']!r} is given twice")
        seen.add(uplink["name"])
        nics = uplink.get("nics") or []
        if not nics:
            raise validate.ValidationError(f"{where}.nics", "at least one NIC is needed")
        for nic in nics:
            if not nic or not str(nic).strip() or len(str(nic)) > 15 or "/" in str(nic) or " " in str(nic):
                raise validate.ValidationError(f"{where}.nics", f"{nic!r} is not a network interface name")
        if len(set(nics)) != len(nics):
            raise validate.ValidationError(f"{where}.nics", "a NIC is listed twice")
        if uplink.get("miimon") is not None and uplink["miimon"] < -1:
            raise validate.ValidationError(f"{where}.miimon", f"{uplink['miimon']} must be -1 or more")
        mtu = uplink.get("mtu")
        if mtu is not None and mtu != 0 and not MIN_MTU <= mtu <= MAX_MTU:
            raise validate.ValidationError(f"{where}.mtu", f"{mtu} is not 0 or in {MIN_MTU}-{MAX_MTU}")
    mtus = {_mtu(u.get("mtu")) for u in uplinks if u.get("mtu") is not None}
    if len(mtus) > 1:
        raise validate.ValidationError("uplinks", "all uplinks of one cluster network need the same mtu")


def _mtu(value):
    return 1500 if not value else int(value)


# --- building ---------------------------------------------------------------------------
def desired_cluster_network(name):
    return {"apiVersion": CLUSTER_NETWORK.api_version, "kind": CLUSTER_NETWORK.kind, "metadata": {"name": name}}


def desired_vlan_config(cluster_network, uplink):
    bond = {"mode": uplink.get("bond_mode") or "802.3ad"}
    if uplink.get("miimon") is not None:
        bond["miimon"] = int(uplink["miimon"])
    spec = {"clusterNetwork": cluster_network, "uplink": {"nics": list(uplink["nics"]), "bondOptions": bond}}
    if uplink.get("mtu") is not None:
        spec["uplink"]["linkAttributes"] = {"mtu": int(uplink["mtu"])}
    if uplink.get("node_selector"):
        spec["nodeSelector"] = {str(k): str(v) for k, v in uplink["node_selector"].items()}
    return {"apiVersion": VLAN_CONFIG.api_version, "kind": VLAN_CONFIG.kind, "metadata": {"name": uplink["name"]}, "spec": spec}


def _selector(value):
    return value or None


def _mtu_view(value):
    return None if value is None else _mtu(value)


def vlan_config_fields(uplink):
    """The managed fields of one uplink's VlanConfig: what the user gave (miimon and mtu only
    when given; the node selector always, empty meaning every node)."""
    fields = [Field(("spec", "clusterNetwork")), Field(("spec", "nodeSelector"), normalise=_selector),
              Field(("spec", "uplink", "nics")), Field(("spec", "uplink", "bondOptions", "mode"))]
    if uplink.get("miimon") is not None:
        fields.append(Field(("spec", "uplink", "bondOptions", "miimon")))
    if uplink.get("mtu") is not None:
        fields.append(Field(("spec", "uplink", "linkAttributes", "mtu"), normalise=_mtu_view))
    return fields


ALL_VLAN_CONFIG_FIELDS = [Field(("spec", "clusterNetwork")), Field(("spec", "nodeSelector"), normalise=_selector),
                          Field(("spec", "uplink", "nics")), Field(("spec", "uplink", "bondOptions", "mode")),
                          Field(("spec", "uplink", "bondOptions", "miimon")),
                          Field(("spec", "uplink", "linkAttributes", "mtu"))]


# --- reading ----------------------------------------------------------------------------
def of_cluster_network(vlan_configs, name):
    """The VlanConfigs of cluster network ``name`` (by spec, not the server-written label)."""
    return [vc for vc in vlan_configs if (vc.get("spec") or {}).get("clusterNetwork") == name]


def matched_nodes(vc):
    raw = ((vc or {}).get("metadata") or {}).get("annotations", {}).get(ANNOTATION_MATCHED_NODES)
    try:
        return sorted(json.loads(raw)) if raw else []
    except ValueError:
        return []


def ready_condition(obj):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "ready":
            return c
    return None


def ready(obj):
    return (ready_condition(obj) or {}).get("status") == "True"


def status_summary(vs):
    st = vs.get("status") or {}
    c = ready_condition(vs) or {}
    return {"name": vs["metadata"]["name"], "node": st.get("node"), "vlan_config": st.get("vlanConfig"),
            "ready": c.get("status") == "True", "message": c.get("message") or ""}


class Health:
    """One look at the cluster network: the ClusterNetwork, and the VlanStatus of every node
    each VlanConfig covers (``expected``: ``{vlanconfig: [nodes]}``). Its roles have the names of
    a ``kind_spec.KindSpec``'s: ``ready``, ``failed``, ``summary``."""

    def __init__(self, cluster_network, statuses, expected):
        self.cluster_network = cluster_network
        self.statuses = [status_summary(v) for v in statuses]
        self.expected = expected

    def _status(self, vc_name, node):
        return next((s for s in self.statuses if s["vlan_config"] == vc_name and s["node"] == node), None)

    def missing(self):
        return [(vc, n) for vc, nodes in self.expected.items() for n in nodes if self._status(vc, n) is None]

    def failed(self):
        """A message for the first VlanStatus that reports an error, else ``None``."""
        for vc, nodes in self.expected.items():
            for n in nodes:
                s = self._status(vc, n)
                if s is not None and not s["ready"] and s["message"]:
                    return f"VlanStatus {s['name']} of VlanConfig {vc} on node {n}: {s['message']}"
        return None

    def ready(self):
        needs_cn = any(self.expected.values())
        if needs_cn and not ready(self.cluster_network):
            return False
        return all((self._status(vc, n) or {}).get("ready") for vc, nodes in self.expected.items() for n in nodes)

    def summary(self):
        cn = "ready" if ready(self.cluster_network) else "not ready" if self.cluster_network else "missing"
        parts = [f"ClusterNetwork {cn}"]
        for vc, nodes in self.expected.items():
            for n in nodes:
                s = self._status(vc, n)
                parts.append(f"{vc}/{n}: " + ("no VlanStatus" if s is None else "ready" if s["ready"] else
                                              f"not ready ({s['message'] or 'no message'})"))
        return "; ".join(parts)
