# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``harvester_vm_info`` says about a VM: its state as ``kubectl get vm`` shows it, where
its VMI runs and its addresses, its run strategy and labels. The selection (one name, a label
selector, a namespace or all of them) and the reading are ``vm``'s, so every module picks
the same VMs the same way: one list of VMs and one of VMIs per namespace asked.

Facts (KubeVirt VirtualMachine / VirtualMachineInstance status; harvester-api.md §11): the VMI's
``status.nodeName`` is where it runs, ``status.interfaces[].ipAddresses`` what the guest agent
or DHCP reported, ``status.migrationState`` set while it moves.
"""

from __future__ import annotations

from . import validate
from . import vm as kubevirt
from .validate import ValidationError


def check(params):
    """Every input check, before any request (raises ``ValidationError``)."""
    validate.name(params["namespace"], "namespace")
    if params.get("name") is not None:
        kubevirt.targets(params)
        if params.get("all_namespaces"):
            raise ValidationError("all_namespaces", "not with name (name takes namespace/name)")
        if params.get("label_selector") is not None:
            raise ValidationError("label_selector", "not with name")
    if params.get("label_selector") is not None:
        kubevirt.label_selector(params["label_selector"])


def entry(vm_key, vm, vmi):
    status = (vmi or {}).get("status") or {}
    migration = status.get("migrationState") or {}
    addresses = [a for i in status.get("interfaces") or [] for a in (i.get("ipAddresses") or [i.get("ipAddress")]) if a]
    return {
        "namespace": vm_key[0], "name": vm_key[1],
        "status": kubevirt.printable(vm),
        "running": kubevirt.is_running(vm, vmi),
        "node": status.get("nodeName") or None,
        "ip_addresses": addresses,
        "migrating": bool(migration) and not migration.get("completed"),
        "run_strategy": kubevirt.run_strategy(vm),
        "labels": (vm.get("metadata") or {}).get("labels") or {},
    }


def gather(client, params):
    selection = dict(params, names=None)
    return [entry(vm_key, vm, vmi) for vm_key, vm, vmi in kubevirt.select(client, selection, writes=False)]
