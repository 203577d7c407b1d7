# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt VirtualMachines as the modules see them: which VMs a task selects (one name, a list
of names, a label selector, a namespace or all of them), how they are read (one list of VMs and
one of VMIs per namespace asked), and what state one is in. ``harvester_vm_power``,
``harvester_vm_info``, ``harvester_storage_network``, ``harvester_vm_backup`` and the inventory
plugin share it, so all of them pick and judge VMs the same way.

Facts (KubeVirt ``VM.RunStrategy()``, ``printableStatus``; harvester pkg/util/virtualmachine
``IsVMStopped``; the ``harvesterhci.io/vmRunStrategy`` annotation of Harvester's VM controller):
see ``vm_power.py`` for how the run strategy starts and stops a VM.
"""

from __future__ import annotations

import re

from . import kinds, validate
from .errors import HarvesterError
from .validate import ValidationError

KIND = kinds.VIRTUAL_MACHINE
VMI_KIND = kinds.VMI
ANNOTATION = "harvesterhci.io/vmRunStrategy"
HALTED, ALWAYS, RERUN_ON_FAILURE = "Halted", "Always", "RerunOnFailure"
# strategies that make virt-controller create a VMI when a VM leaves Halted (Manual waits for a
# start request; Once is not offered by Harvester)
STARTABLE = (ALWAYS, RERUN_ON_FAILURE)
DEFAULT_START = RERUN_ON_FAILURE  # Harvester's default (mutator and UI)
FINAL_PHASES = ("Succeeded", "Failed")
STOPPED, RUNNING = "Stopped", "Running"
# keys of one returned ``vms`` entry of harvester_vm_power; ``names`` takes such entries back
ENTRY_KEYS = ("namespace", "name", "before", "after", "changed")
SHOWN = 10  # VMs named in one message


class VmsRefused(HarvesterError):
    """Some selected VMs cannot be handled as asked (unknown, or not startable this way); raised
    before any write. ``vms``: their ``namespace/name``."""

    def __init__(self, message, vms):
        super().__init__(message)
        self.vms = list(vms)

    def as_dict(self):
        return {"vms": self.vms}


# --- input ---------------------------------------------------------------------------------
_NAME = r"[^\s=!(),<>]+"
_EXISTS = re.compile(rf"^(!?)\s*({_NAME})$")
_EQUALS = re.compile(rf"^({_NAME})\s*(==|=|!=)\s*({_NAME})?$")
_SET = re.compile(rf"^({_NAME})\s+(in|notin)\s*\(([^()]*)\)$")


def _split_requirements(text):
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


def label_selector(text, option="label_selector"):
    """A Kubernetes label selector (``key``, ``!key``, ``key=value``, ``key!=value``, ``key in
    (a,b)``, ``key notin (a,b)``, comma-separated), checked as the apiserver parses it."""
    text = "" if text is None else str(text)
    if not text.strip():
        raise ValidationError(option, "must not be empty (leave it out to select every VM)")
    for part in _split_requirements(text):
        req = part.strip()
        found = _EXISTS.match(req) or _EQUALS.match(req) or _SET.match(req)
        if not found:
            raise ValidationError(option, f"{req!r} is not a label selector requirement "
                                          "(key, !key, key=value, key!=value, key in (a,b), key notin (a,b))")
        if found.re is _EXISTS:
            validate.label_key(found.group(2), option)
            continue
        validate.label_key(found.group(1), option)
        values = [v.strip() for v in found.group(3).split(",")] if found.re is _SET else [found.group(3) or ""]
        if found.re is _SET and values == [""]:
            raise ValidationError(option, f"{req!r} needs at least one value in the parentheses")
        for value in values:
            validate.label_value(value, option)
    return text


def _target(item, namespace, option):
    """One ``names`` element -> ``(namespace, name)``: ``name``, ``namespace/name``, or a dict
    with ``name`` (and ``namespace``), such as an entry of this module's ``vms``."""
    if isinstance(item, dict):
        unknown = sorted(set(item) - set(ENTRY_KEYS))
        if unknown:
            raise ValidationError(option, f"has unknown key {unknown[0]!r} (a VM is given by name and namespace)")
        if not item.get("name"):
            raise ValidationError(option, "needs a name")
        ns, name = item.get("namespace") or namespace, item["name"]
    elif isinstance(item, str):
        ns, slash, name = item.rpartition("/")
        ns = ns if slash else namespace
    else:
        raise ValidationError(option, f"must be a VM name, namespace/name or a dict with name and namespace, "
                                      f"got {type(item).__name__}")
    return validate.name(ns, f"{option} namespace"), validate.subdomain(name, option)


def targets(params):
    """The VMs named by ``name`` or ``names`` as sorted ``(namespace, name)`` pairs, or ``None``
    when a selector (or nothing, meaning every VM) picks them."""
    if params.get("name") is not None:
        return [_target(params["name"], params["namespace"], "name")]
    if params.get("names") is None:
        return None
    return sorted({_target(item, params["namespace"], f"names[{i}]") for i, item in enumerate(params["names"])})


# --- reading a VM ----------------------------------------------------------------------------
def key(obj):
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta["name"]


def ref(vm_key):
    return f"{vm_key[0]}/{vm_key[1]}"


def run_strategy(vm):
    """The effective strategy, as KubeVirt's ``VM.RunStrategy()``: ``spec.runStrategy``, else
    ``spec.running`` (true = Always), else Halted."""
    spec = (vm or {}).get("spec") or {}
    if spec.get("runStrategy"):
        return spec["runStrategy"]
    if spec.get("running") is not None:
        return ALWAYS if spec["running"] else HALTED
    return HALTED


def remembered(vm):
    """The strategy Harvester remembered for the next start (the annotation), or ``None``."""
    return ((vm.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION) or None


def _phase(vmi):
    return ((vmi or {}).get("status") or {}).get("phase") or ""


def is_live(vmi):
    """A VMI that exists, is not being deleted and has not finished."""
    return vmi is not None and not (vmi.get("metadata") or {}).get("deletionTimestamp") and _phase(vmi) not in FINAL_PHASES


def printable(vm):
    """What ``kubectl get vm`` shows in STATUS (``Running``, ``Stopped``, ``Stopping``, ...)."""
    return ((vm or {}).get("status") or {}).get("printableStatus") or "Unknown"


def is_stopped(vm, vmi):
    """Stopped as Harvester's storage-network guard sees it: printableStatus Stopped and no
    VMI that still runs."""
    return printable(vm) == STOPPED and not is_live(vmi)


def is_running(vm, vmi):
    """Running: the VMI is in phase Running and the VM reports ready."""
    return vmi is not None and _phase(vmi) == RUNNING and ((vm.get("status") or {}).get("ready") is True)


def reached(state, vm, vmi):
    return is_stopped(vm, vmi) if state == "stopped" else is_running(vm, vmi)


def describe(vm, vmi):
    """One VM's state for messages: printableStatus and the VMI's phase."""
    if vmi is None:
        return f"{printable(vm)}, no VMI"
    deleting = " (deleting)" if (vmi.get("metadata") or {}).get("deletionTimestamp") else ""
    return f"{printable(vm)}, VMI {_phase(vmi) or 'without phase'}{deleting}"


# --- reading the cluster -------------------------------------------------------------------------
def read(client, scopes, label=None):
    """``{key: vm}`` and ``{key: vmi}`` of the scopes (a namespace, or ``None`` for all)."""
    vms, vmis = {}, {}
    for ns in scopes:
        for vm in client.list(KIND.path(ns), label_selector=label):
            vms[key(vm)] = vm
        for vmi in client.list(VMI_KIND.path(ns)):
            vmis[key(vmi)] = vmi
    return vms, vmis


def shown(keys):
    names = [ref(k) for k in keys]
    return ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def select(client, params, writes=True):
    """The selected VMs as sorted ``[(key, vm, vmi)]``. Named VMs that do not exist fail here,
    all of them in one message, before anything is written (``writes``: the caller would write,
    and the message says that nothing was)."""
    wanted = targets(params)
    if wanted is None:
        scope = None if params.get("all_namespaces") else params["namespace"]
        vms, vmis = read(client, [scope], params.get("label_selector"))
        return [(k, vms[k], vmis.get(k)) for k in sorted(vms)]
    vms, vmis = read(client, sorted({ns for ns, dummy in wanted}))
    missing = [k for k in wanted if k not in vms]
    if missing:
        raise VmsRefused(f"VirtualMachine {shown(missing)} not found" + ("; nothing was changed" if writes else ""),
                         [ref(k) for k in missing])
    return [(k, vms[k], vmis.get(k)) for k in wanted]
