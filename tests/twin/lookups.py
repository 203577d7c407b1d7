"""Questions webhooks and controllers of several areas ask about the cluster, answered through
the store's public reads (as real webhooks ask the API): which VMs run, on which nodes, with
which networks."""
from __future__ import annotations

from .store import Store

RUNNING_PHASES = {"Running", "Scheduling", "Scheduled", "Pending"}


def _list(store: Store, group: str, plural: str, namespace: str | None = None) -> list[dict]:
    kind = store.registry.by_plural(group, plural)
    return store.list(kind, namespace) if kind is not None else []


def nodes(store: Store) -> list[dict]:
    return _list(store, "", "nodes")


def node_names(store: Store, selector: dict | None = None, *, include_witness: bool = False) -> list[str]:
    """Names of nodes matching a matchLabels-style map (empty or None: all nodes)."""
    out = []
    for n in nodes(store):
        labels = n["metadata"].get("labels") or {}
        if not include_witness and "node-role.harvesterhci.io/witness" in labels:
            continue
        if all(labels.get(k) == v for k, v in (selector or {}).items()):
            out.append(n["metadata"]["name"])
    return sorted(out)


def virtual_machines(store: Store) -> list[dict]:
    return _list(store, "kubevirt.io", "virtualmachines")


def running_vmis(store: Store) -> list[dict]:
    """VirtualMachineInstances that exist and are not finished: what Harvester's guards call
    running VMs."""
    return [v for v in _list(store, "kubevirt.io", "virtualmachineinstances")
            if (v.get("status") or {}).get("phase", "Pending") in RUNNING_PHASES]


def multus_networks(vm_or_vmi: dict) -> list[str]:
    """`ns/name` of each multus network a VM (its template) or VMI uses; a bare name means
    `default/<name>`, as Harvester's VM mutator resolves it."""
    spec = vm_or_vmi.get("spec") or {}
    if "template" in spec:
        spec = (spec["template"] or {}).get("spec") or {}
    out = []
    for net in spec.get("networks") or []:
        name = ((net or {}).get("multus") or {}).get("networkName")
        if name:
            out.append(name if "/" in name else f"default/{name}")
    return out


def longhorn_nodes(store: Store) -> list[dict]:
    return _list(store, "longhorn.io", "nodes", "longhorn-system")
