"""The Harvester cluster the installed nodes make, in the twin's store.

Before the create node is installed there is no cluster: the store holds only what the
Tinkerbell side needs (its namespaces), and the API at the VIP does not answer (server.py).
When the create node has booted Harvester OS, the cluster exists: the objects of a freshly
installed Harvester v1.8 (lab/ without the per-node objects and without the lived-in lab's
workloads: no VMs, VMIs, volumes, replicas, PVCs or VM networks) are created, then the node's
own objects, and the API starts answering. Each node that joins adds its objects, as the --lab
seed describes it (lab_inventory.py): the Node (Ready, control-plane/etcd for the first three
nodes of the inventory, InternalIP the install config's static address), its NICs and bond in
LinkMonitors `nic` and `mgmt`, its Longhorn Node with an empty default disk.

A join node joins when the cluster exists, its `server_url` is `https://<the create node's
vip>:443` and its `token` is the create node's; otherwise it keeps retrying and never joins
(the reason, ours, is in the twin's log).
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from .. import errors, lab, lab_inventory
from ..clock import rfc3339

if TYPE_CHECKING:
    from ..store import Store
    from . import Metal
    from .machine import Machine

ACTOR = "system:seed"
TINKERBELL_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease", "tink-system"]
NOT_IN_A_FRESH_CLUSTER = {("v1", "Node"), ("longhorn.io/v1beta2", "Node"), ("longhorn.io/v1beta2", "Volume"),
                          ("longhorn.io/v1beta2", "Replica"), ("v1", "PersistentVolumeClaim"),
                          ("kubevirt.io/v1", "VirtualMachine"), ("kubevirt.io/v1", "VirtualMachineInstance"),
                          ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition")}
LINK_MONITORS = {"nic": 0, "mgmt": 1}


def _key(doc: dict) -> tuple[str, str]:
    return doc.get("apiVersion", ""), doc.get("kind", "")


class Cluster:
    def __init__(self, metal: Metal, store: Store, inventory: list[dict], lab_docs: list[dict]):
        self.metal, self.store = metal, store
        self.inventory = inventory
        base = lab.documents()
        self.node_template = next(d for d in base if _key(d) == ("v1", "Node"))
        self.longhorn_template = next(d for d in base if _key(d) == ("longhorn.io/v1beta2", "Node"))
        self.fresh_docs = []
        for doc in lab_docs:
            if _key(doc) in NOT_IN_A_FRESH_CLUSTER:
                continue
            if _key(doc) == ("network.harvesterhci.io/v1beta1", "LinkMonitor"):
                doc = copy.deepcopy(doc)
                doc.setdefault("status", {})["linkStatus"] = {}
            self.fresh_docs.append(doc)
        self.link_status = lab_inventory.link_status(inventory)
        self.reset()

    def reset(self) -> None:
        self.token = self.vip = self.creator = None
        self.members: dict[str, str] = {}  # hostname -> machine name

    def snapshot(self) -> dict:
        return {"token": self.token, "vip": self.vip, "creator": self.creator, "members": dict(self.members)}

    def restore(self, snap: dict) -> None:
        self.token, self.vip, self.creator = snap["token"], snap["vip"], snap["creator"]
        self.members = dict(snap["members"])

    @property
    def exists(self) -> bool:
        return self.creator is not None

    # ------------------------------------------------------------------ seeding
    def seed_start(self) -> None:
        """The store before any install: the Tinkerbell cluster's namespaces."""
        docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in TINKERBELL_NAMESPACES]
        self._seed(docs)

    def _seed(self, docs: list[dict]) -> None:
        for doc in docs:
            group, _, version = doc["apiVersion"].rpartition("/")
            kind = self.store.registry.by_kind(group, doc["kind"])
            if kind is None:
                continue
            if kind.served(version) is None:
                version = kind.storage_version
                doc = dict(doc, apiVersion=kind.api_version(version))
            meta = doc.get("metadata") or {}
            if self.store.peek(kind, meta.get("namespace", ""), meta.get("name", "")) is not None:
                continue
            status = doc.get("status")
            created = self.store.create(kind, version, doc, actor=ACTOR).obj
            if status is not None and created.get("status") != status:
                created["status"] = status
                sub = "status" if kind.versions[version].status else ""
                self.store.update(kind, version, created, subresource=sub, actor=ACTOR)

    # ------------------------------------------------------------------ joining
    def admit(self, m: Machine) -> str | None:
        """None when the node is (now) a member; else why it cannot join yet."""
        disk = m.disk
        if self.members.get(disk.hostname) == m.name:
            return None
        if disk.mode == "create":
            if self.exists:
                return (f"a cluster made by {self.creator} already holds the VIP {self.vip} "
                        "(a second create node is not modelled)")
            self.token, self.vip, self.creator = disk.token, disk.vip, m.name
            self._seed(self.fresh_docs)
            self._add(m)
            self.metal.api_up = True
            return None
        server = f"https://{self.vip}:443" if self.exists else None
        if not self.exists:
            return f"rancherd: waiting for {disk.server_url}: no cluster answers there yet"
        if disk.server_url != server:
            return f"rancherd: no Harvester cluster answers at {disk.server_url} (the cluster's VIP is {self.vip})"
        if disk.token != self.token:
            return f"rancherd: the cluster at {server} refuses the join token (not the create node's token)"
        if disk.hostname in self.members:
            return f"a node named {disk.hostname} is already in the cluster ({self.members[disk.hostname]})"
        self._add(m)
        return None

    def _add(self, m: Machine) -> None:
        disk = m.disk
        inv = next(n for n in self.inventory if n["name"] == m.name)
        node = dict(inv, name=disk.hostname, mgmt_ip=disk.ip)
        now = rfc3339()
        core = lab_inventory.core_node(self.node_template, m.index, node)
        for cond in core["status"]["conditions"]:
            cond["lastHeartbeatTime"] = cond["lastTransitionTime"] = now
        longhorn = lab_inventory.longhorn_node(self.longhorn_template, node)
        self._seed([core, longhorn])
        nic_status, mgmt_status = self.link_status
        for name, status in (("nic", nic_status), ("mgmt", mgmt_status)):
            self._link(name, disk.hostname, status.get(m.name) or [])
        self.members[disk.hostname] = m.name

    def _link(self, monitor: str, node: str, entries: list[dict]) -> None:
        kind = self.store.registry.by_kind("network.harvesterhci.io", "LinkMonitor")
        if kind is None:
            return
        version = kind.storage_version
        try:
            live = self.store.get(kind, "", monitor)
        except errors.ApiError:
            return
        live.setdefault("status", {}).setdefault("linkStatus", {})[node] = copy.deepcopy(entries)
        sub = "status" if kind.versions[version].status else ""
        self.store.update(kind, version, live, subresource=sub, actor=ACTOR)
