"""VirtualMachine admission: Harvester's VM mutator and validator and KubeVirt's VM validator,
the rules Harvester's users and this collection meet most.

Order, as the apiserver runs them: mutating webhooks (Harvester's `mutator.harvesterhci.io`;
KubeVirt's own defaulting mutator is not modelled), then the schema, then the validating
webhooks (`validator.harvesterhci.io`, then `virtualmachine-validator.kubevirt.io`; a real
apiserver calls them in parallel and reports whichever refusal it collects first).

How each webhook refuses (the code and reason the apiserver relays, message prefixed with
`admission webhook "<name>" denied the request: `):

* Harvester (harvester v1.8.2 pkg/webhook/types/admission.go): an error built with
  `werror.NewInvalidError` is 422 Invalid with one FieldValueInvalid cause, `werror.NewBadRequest`
  400, and any other error -- a Kubernetes NotFound from a cache, an `fmt.Errorf` -- becomes 500
  InternalError with the error's text.
* KubeVirt (kubevirt v1.7.0 pkg/util/webhooks `ToAdmissionResponse`): 422 Invalid, every cause
  listed (reason FieldValueInvalid or FieldValueRequired), the message the causes' messages joined
  by ", ".

Harvester mutator (pkg/webhook/resources/virtualmachine/mutator.go), on CREATE and UPDATE of
`virtualmachines` (not /status), applying its JSON patch operations in upstream order:
resource overcommit (`requests.cpu` = limits.cpu x 100 / overcommit cpu, `requests.memory` =
limits.memory x 100 / overcommit memory truncated to MiB, `memory.guest` = limits.memory less the
reserved memory -- the `harvesterhci.io/reservedMemory` annotation, else 100Mi unless the
additional-guest-memory-overhead-ratio setting is set --, `cpu.maxSockets: 1`; on UPDATE only when
limits or the annotation changed), default CPU topology (1/1/1 for what is missing), the run
strategy a start restores (UPDATE from Halted to anything else without `spec.running`: the
`harvesterhci.io/vmRunStrategy` annotation, else RerunOnFailure), node affinity for each multus
network's cluster network (the NetworkAttachmentDefinition must exist: its NotFound is a 500),
`terminationGracePeriodSeconds` from the default-vm-termination-grace-period-seconds setting and a
random locally administered MAC for each interface without one.

Harvester validator (validator.go `Create`/`Update`, also on /status): the volumeClaimTemplates
annotation must parse and name every PVC (422), golden-image PVCs (422), a PVC another VM uses
(422), negative terminationGracePeriodSeconds (422), no guest memory and no memory limit (422),
the reserved-memory annotation against limits.memory (422), duplicate MAC addresses on one
cluster network (500), an invalid maintenance-mode strategy label (422), an empty or hotplugged
CD-ROM not on the SATA bus (500); on UPDATE also stopping
or restarting a VM with a backup in progress (400) and the annotation's PVCs shrinking (422) or
changing StorageClass (500).

KubeVirt validator (vms-admitter.go `ValidateVirtualMachineSpec`, vmi-create-admitter.go,
pkg/network/admitter): a template is required; `running` and `runStrategy` are mutually
exclusive, one of them is required and the strategy must be known; memory and CPU requests must
not be negative nor exceed their limits, memory requests at least 1M; networks and interfaces must
pair by name, be unique, one pod network at most, a multus network needs a networkName.

Images are not checked by these webhooks upstream: a VM whose volumeClaimTemplates name a missing
image is admitted (Harvester's VM controller then skips that PVC).
"""
from __future__ import annotations

import json
import random
from fractions import Fraction

from .. import errors, gojson_errors, quantity
from ..errors import ApiError
from . import Request, denied

MUTATOR = "mutator.harvesterhci.io"
VALIDATOR = "validator.harvesterhci.io"
KUBEVIRT = "virtualmachine-validator.kubevirt.io"

ANN_RESERVED_MEMORY = "harvesterhci.io/reservedMemory"
ANN_VOLUME_CLAIM_TEMPLATES = "harvesterhci.io/volumeClaimTemplates"
ANN_RUN_STRATEGY = "harvesterhci.io/vmRunStrategy"
ANN_MAC_ADDRESS = "harvesterhci.io/mac-address"
ANN_HOTPLUG = "harvesterhci.io/enableCPUAndMemoryHotplug"
ANN_GOLDEN_IMAGE = "harvesterhci.io/goldenImage"
LABEL_MAINTAIN_STRATEGY = "harvesterhci.io/maintain-mode-strategy"
LABEL_CLUSTER_NETWORK = "network.harvesterhci.io/clusternetwork"
NETWORK_GROUP = "network.harvesterhci.io"
CPU_MANAGER = "cpumanager"
MAINTAIN_STRATEGIES = ("Migrate", "ShutdownAndRestartAfterEnable", "ShutdownAndRestartAfterDisable", "Shutdown")
RUN_STRATEGIES = ("Halted", "Manual", "Always", "RerunOnFailure", "Once")
LONGHORN = "driver.longhorn.io"

MEMORY_100M, MEMORY_10M = 104857600, 10485760
MIB = 1048576


# ------------------------------------------------------------------------------------ helpers
def _spec(vm: dict) -> dict:
    return vm.get("spec") or {}


def _template_spec(vm: dict) -> dict:
    return ((_spec(vm).get("template") or {}).get("spec")) or {}


def _domain(vm: dict) -> dict:
    return _template_spec(vm).get("domain") or {}


def _resources(vm: dict, which: str) -> dict:
    return (_domain(vm).get("resources") or {}).get(which) or {}


def _annotations(vm: dict) -> dict:
    return (vm.get("metadata") or {}).get("annotations") or {}


def run_strategy(vm: dict) -> str | None:
    """VirtualMachine.RunStrategy(): None when running and runStrategy are both set (an error)."""
    spec = _spec(vm)
    if spec.get("running") is not None and spec.get("runStrategy") is not None:
        return None
    if spec.get("running") is not None:
        return "Always" if spec["running"] else "Halted"
    return spec.get("runStrategy") or "Halted"


def _setting(store, name: str) -> str | None:
    """A Harvester setting's value, else its default; None when the setting does not exist."""
    kind = store.registry.by_plural("harvesterhci.io", "settings")
    obj = store.peek(kind, "", name) if kind else None
    if obj is None:
        return None
    return obj.get("value") or obj.get("default") or ""


def _internal(webhook: str, message: str) -> ApiError:
    return denied(webhook, message, code=500, reason="InternalError")


def _invalid(message: str, field: str) -> ApiError:
    return denied(VALIDATOR, message, code=422, reason="Invalid", field=field)


def _nad(store, namespace: str, name: str) -> dict:
    kind = store.registry.by_plural("k8s.cni.cncf.io", "network-attachment-definitions")
    obj = store.peek(kind, namespace, name) if kind else None
    if obj is None:
        raise errors.not_found("k8s.cni.cncf.io", "network-attachment-definitions", name)
    return obj


def _split_network(name: str, default_namespace: str) -> tuple[str, str]:
    words = name.split("/")
    if len(words) == 1:
        return default_namespace, words[0]
    if len(words) == 2:
        return words[0], words[1]
    raise ValueError(f"invalid network name {name}")


class _PatchError(Exception):
    pass


def _replace(obj: dict, pointer: str, value) -> None:
    """A JSON patch `replace` the way the apiserver's json-patch (v4) applies it: a missing key in
    an existing object is set, a missing parent is an error."""
    parts = pointer.strip("/").split("/")
    node = obj
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else \
            node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None
        if node is None:
            raise _PatchError(f"replace operation does not apply: doc is missing path: {pointer}")
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


# ------------------------------------------------------------------------------------ mutator
def _overcommit(store) -> dict | None:
    value = _setting(store, "overcommit-config")
    if not value:
        return None
    return json.loads(value)


def _guest_overhead_ratio_set(store) -> bool:
    """AdditionalGuestMemoryOverheadRatioConfig: set and non-zero (an unparsable value counts as
    unset: the mutator logs it and falls back to reserving memory)."""
    value = _setting(store, "additional-guest-memory-overhead-ratio")
    if not value:
        return False
    try:
        ratio = float(value)
    except ValueError:
        return False
    return ratio != 0.0


def _dedicated_cpu(vm: dict) -> bool:
    return bool((_domain(vm).get("cpu") or {}).get("dedicatedCpuPlacement"))


def _host_devices(vm: dict) -> bool:
    devices = _domain(vm).get("devices") or {}
    return bool(devices.get("hostDevices") or devices.get("gpus"))


def _hotplug(vm: dict) -> bool:
    return str(_annotations(vm).get(ANN_HOTPLUG, "")).lower() == "true"


def _resource_overcommit(vm: dict, store) -> list[tuple[str, object]]:
    """patchResourceOvercommit + generateMemoryPatch: the replace operations, in upstream order."""
    ops: list[tuple[str, object]] = []
    limits, requests = _resources(vm, "limits"), _resources(vm, "requests")
    cpu, mem = quantity.parse_or_zero(limits.get("cpu")), quantity.parse_or_zero(limits.get("memory"))
    requests_missing = not requests
    to_mutate: dict[str, str] = {}
    try:
        overcommit = _overcommit(store)
    except ValueError as e:
        raise _internal(MUTATOR, str(e)) from None
    if not overcommit:
        return ops
    base = "/spec/template/spec/domain"
    if cpu:
        millis = quantity.milli(cpu) if _dedicated_cpu(vm) else quantity.milli(cpu) * 100 // int(overcommit["cpu"])
        text = str(quantity.Quantity(Fraction(millis, 1000), cpu.format))
        if requests_missing:
            to_mutate["cpu"] = text
        else:
            ops.append((f"{base}/resources/requests/cpu", text))
    if mem:
        mem_value = quantity.whole(mem)
        new_request = mem_value * 100 // int(overcommit["memory"]) // MIB * MIB
        request = quantity.Quantity(Fraction(new_request), mem.format)
        hotplug = _hotplug(vm)
        reserved = Fraction(MEMORY_100M)
        use_reserved = True
        annotation = _annotations(vm).get(ANN_RESERVED_MEMORY, "")
        if annotation:
            try:
                reserved = quantity.parse(annotation).value
            except quantity.QuantityError:
                raise _internal(MUTATOR, f"annotation {annotation} can't be converted to memory unit") from None
            if quantity.whole(quantity.Quantity(reserved, "BinarySI")) >= mem_value:
                raise _internal(MUTATOR, "reservedMemory can't be equal or greater than limits.memory  "
                                         f"{quantity.whole(quantity.Quantity(reserved, 'BinarySI'))} {mem_value}")
        elif _guest_overhead_ratio_set(store):
            use_reserved = False
        memory = _domain(vm).get("memory")
        guest = mem.value
        if hotplug and memory and memory.get("guest"):
            guest = quantity.parse(memory["guest"]).value
        if use_reserved:
            guest -= reserved
        guest_q = quantity.Quantity(guest, mem.format)
        if quantity.whole(guest_q) < MEMORY_10M:
            raise _internal(MUTATOR, "guest memory is under the minimum requirement (10 Mi), original: "
                                     f"{mem_value}, final: {quantity.whole(guest_q)}")
        if _dedicated_cpu(vm):
            request = mem
        elif _host_devices(vm):
            request = guest_q
        if requests_missing:
            to_mutate["memory"] = str(request)
        else:
            ops.append((f"{base}/resources/requests/memory", str(request)))
        if memory is None:
            ops.append((f"{base}/memory", {"guest": str(guest_q)}))
        elif not hotplug:
            ops.append((f"{base}/memory/guest", str(guest_q)))
        if not hotplug:
            ops.append((f"{base}/cpu/maxSockets", 1))
    if to_mutate:
        ops.append((f"{base}/resources/requests", dict(sorted(to_mutate.items()))))
    return ops


def _resource_overcommit_needed(old: dict, new: dict) -> bool:
    """needUpdateResourceOvercommit."""
    def of(vm):
        limits = _resources(vm, "limits")
        return (quantity.parse_or_zero(limits.get("cpu")), quantity.parse_or_zero(limits.get("memory")),
                _annotations(vm).get(ANN_RESERVED_MEMORY, ""), _dedicated_cpu(vm))
    new_cpu, new_mem, new_reserved, new_dedicated = of(new)
    old_cpu, old_mem, old_reserved, old_dedicated = of(old)
    if new_cpu and (not old_cpu or new_cpu.value != old_cpu.value):
        return True
    if new_mem and (not old_mem or new_mem.value != old_mem.value):
        return True
    if new_reserved != old_reserved or new_dedicated != old_dedicated:
        return True
    old_devices, new_devices = _domain(old).get("devices") or {}, _domain(new).get("devices") or {}
    return len(old_devices.get("hostDevices") or []) != len(new_devices.get("hostDevices") or []) or \
        len(old_devices.get("gpus") or []) != len(new_devices.get("gpus") or [])


def _default_cpu(vm: dict) -> list[tuple[str, object]]:
    cpu = _domain(vm).get("cpu")
    base = "/spec/template/spec/domain/cpu"
    if cpu is None:
        return [(base, {"cores": 1, "sockets": 1, "threads": 1})]
    return [(f"{base}/{k}", 1) for k in ("cores", "sockets", "threads") if not cpu.get(k)]


def _requirement_string(req: dict) -> str:
    return json.dumps([req.get("key"), req.get("operator"), req.get("values") or []])


def _affinity(vm: dict, store) -> dict:
    """patchAffinity: the template's affinity without Harvester's own network/cpumanager terms,
    plus one requirement per multus network's cluster network (and cpumanager for dedicated CPUs)."""
    template = _template_spec(vm)
    affinity = json.loads(json.dumps(template.get("affinity") or {}))
    node_affinity = affinity.get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = []
    for term in required.get("nodeSelectorTerms") or []:
        kept = [e for e in term.get("matchExpressions") or []
                if not str(e.get("key", "")).startswith(NETWORK_GROUP) and e.get("key") != CPU_MANAGER]
        if kept:
            terms.append(dict(term, matchExpressions=kept))
    wanted = []
    namespace = (vm.get("metadata") or {}).get("namespace", "")
    for network in template.get("networks") or []:
        name = ((network or {}).get("multus") or {}).get("networkName")
        if not name:
            continue
        try:
            nad_ns, nad_name = _split_network(name, namespace)
        except ValueError as e:
            raise _internal(MUTATOR, str(e)) from None
        try:
            nad = _nad(store, nad_ns, nad_name)
        except ApiError as e:
            raise _internal(MUTATOR, e.message) from None
        cluster_network = ((nad.get("metadata") or {}).get("labels") or {}).get(LABEL_CLUSTER_NETWORK)
        if cluster_network is not None:
            wanted.append({"key": f"{NETWORK_GROUP}/{cluster_network}", "operator": "In", "values": ["true"]})
    if _dedicated_cpu(vm):
        wanted.append({"key": CPU_MANAGER, "operator": "In", "values": ["true"]})
    for requirement in wanted:
        for term in terms:
            if _requirement_string(requirement) not in map(_requirement_string, term["matchExpressions"]):
                term["matchExpressions"].append(requirement)
        if not terms:
            terms = [{"matchExpressions": [requirement]}]
    preferred = node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    if terms:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = dict(required, nodeSelectorTerms=terms)
    else:
        node_affinity.pop("requiredDuringSchedulingIgnoredDuringExecution", None)
    if not preferred:
        node_affinity.pop("preferredDuringSchedulingIgnoredDuringExecution", None)
    if node_affinity:
        affinity["nodeAffinity"] = node_affinity
    else:
        affinity.pop("nodeAffinity", None)
    return affinity


def _termination_grace(vm: dict, store) -> list[tuple[str, object]]:
    if _template_spec(vm).get("terminationGracePeriodSeconds") is not None:
        return []
    value = _setting(store, "default-vm-termination-grace-period-seconds")
    if value is None:
        return []
    return [("/spec/template/spec/terminationGracePeriodSeconds", json.loads(value))]


def _random_laa_mac() -> str:
    octets = [random.randint(0, 255) for _ in range(6)]
    octets[0] = (octets[0] | 0x02) & 0xFE  # locally administered, unicast
    return ":".join(f"{o:02x}" for o in octets)


def _mac_addresses(vm: dict) -> list[tuple[str, object]]:
    try:
        known = json.loads(_annotations(vm).get(ANN_MAC_ADDRESS) or "{}")
    except ValueError:
        known = {}
    ops = []
    interfaces = (_domain(vm).get("devices") or {}).get("interfaces") or []
    for i, iface in enumerate(interfaces):
        if not iface.get("macAddress") and iface.get("name") not in (known if isinstance(known, dict) else {}):
            ops.append((f"/spec/template/spec/domain/devices/interfaces/{i}/macAddress", _random_laa_mac()))
    return ops


def mutate(req: Request) -> None:
    try:
        _mutate(req)
    except quantity.QuantityError as e:  # the webhook cannot decode the VM (a Quantity field)
        raise _internal(MUTATOR, str(e)) from None


def _mutate(req: Request) -> None:
    if req.subresource or req.operation not in ("CREATE", "UPDATE"):
        return
    vm = req.obj
    if vm.get("metadata", {}).get("deletionTimestamp") or not _spec(vm).get("template"):
        return
    ops: list[tuple[str, object]] = []
    if req.operation == "CREATE" or _resource_overcommit_needed(req.old, vm):
        ops += _resource_overcommit(vm, req.store)
    ops += _default_cpu(vm)
    if req.operation == "UPDATE" and _spec(vm).get("running") is None \
            and run_strategy(req.old) == "Halted" and run_strategy(vm) not in ("Halted", None):
        ops.append(("/spec/runStrategy", _annotations(vm).get(ANN_RUN_STRATEGY) or "RerunOnFailure"))
    ops.append(("/spec/template/spec/affinity", _affinity(vm, req.store)))
    ops += _termination_grace(vm, req.store)
    ops += _mac_addresses(vm)
    try:
        for pointer, value in ops:
            _replace(vm, pointer, value)
    except _PatchError as e:  # the apiserver applying the webhook's patch (evanphx json-patch v4)
        raise errors.internal(f"{e}: missing value") from None


# ------------------------------------------------------------------------------------ Harvester validator
def _claim_templates(vm: dict) -> list[dict]:
    """UnmarshalVolumeClaimTemplates, with Go's decoding errors (GoJSONError)."""
    text = _annotations(vm).get(ANN_VOLUME_CLAIM_TEMPLATES, "")
    if not text:
        return []
    value = gojson_errors.unmarshal(text)
    if value is None:
        return []
    if not isinstance(value, list):
        raise gojson_errors.GoJSONError(f"json: cannot unmarshal {gojson_errors.go_type(value)} into Go value of type "
                                 "[]util.VolumeClaimTemplateEntry")
    for entry in value:
        if entry is not None and not isinstance(entry, dict):
            raise gojson_errors.GoJSONError(f"json: cannot unmarshal {gojson_errors.go_type(entry)} into Go value of type "
                                     "util.VolumeClaimTemplateEntry")
    return [e or {} for e in value]


def _check_claim_templates(vm: dict) -> None:
    try:
        entries = _claim_templates(vm)
    except gojson_errors.GoJSONError as e:
        raise _invalid(f"the volumeClaimTemplates annotaion is invalid: {e}", "metadata.annotations") from None
    if any(not (e.get("metadata") or {}).get("name") for e in entries):
        raise _invalid("the volumeClaimTemplates annotaion is invalid: PVC name is required", "metadata.annotations")


def _pvc(store, namespace: str, name: str) -> dict | None:
    kind = store.registry.by_plural("", "persistentvolumeclaims")
    return store.peek(kind, namespace, name) if kind else None


def _claims(vm: dict) -> list[str]:
    return [((v or {}).get("persistentVolumeClaim") or {}).get("claimName")
            for v in _template_spec(vm).get("volumes") or [] if ((v or {}).get("persistentVolumeClaim") or {}).get("claimName")]


def _provisioner(store, pvc: dict) -> str:
    annotations = (pvc.get("metadata") or {}).get("annotations") or {}
    provisioner = annotations.get("volume.beta.kubernetes.io/storage-provisioner") or \
        annotations.get("volume.kubernetes.io/storage-provisioner") or ""
    if not provisioner:
        sc_name = (pvc.get("spec") or {}).get("storageClassName")
        kind = store.registry.by_plural("storage.k8s.io", "storageclasses")
        sc = store.peek(kind, "", sc_name) if kind and sc_name else None
        provisioner = (sc or {}).get("provisioner", "")
    return provisioner


def _check_volumes(vm: dict, store) -> None:
    """checkGoldenImage and checkOccupiedPVCs."""
    meta = vm.get("metadata") or {}
    ns, name = meta.get("namespace", ""), meta.get("name", "")
    for claim in _claims(vm):
        pvc = _pvc(store, ns, claim)
        if pvc is None:
            continue
        if ((pvc.get("metadata") or {}).get("annotations") or {}).get(ANN_GOLDEN_IMAGE) == "true":
            raise _invalid(f"PVC {ns}/{claim} is a golden image, it can't be used as a volume in VM",
                           "spec.templates.spec.volumes")
    for claim in _claims(vm):
        pvc = _pvc(store, ns, claim)
        if pvc is None:
            continue
        if _provisioner(store, pvc) != LONGHORN and "ReadWriteMany" in ((pvc.get("spec") or {}).get("accessModes") or []):
            continue
        kind = store.registry.by_plural("kubevirt.io", "virtualmachines")
        if store.list(kind, ns, lambda o, claim=claim: o["metadata"]["name"] != name and claim in _claims(o)):
            raise _invalid(f"PVC {ns}/{claim} is already used by other VM, please use a shareable RWX volume.",
                           "spec.templates.spec.volumes")


def _check_memory(vm: dict) -> None:
    """checkTerminationGracePeriodSeconds, checkEmptyMemory, checkReservedMemoryAnnotation."""
    grace = _template_spec(vm).get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        raise _invalid("Termination grace period can't be negative", "spec.Template.Spec.TerminationGracePeriodSeconds")
    memory = _domain(vm).get("memory") or {}
    guest = quantity.parse_or_zero(memory.get("guest"))
    limit = quantity.parse_or_zero(_resources(vm, "limits").get("memory"))
    if not guest and not limit:
        raise _invalid("either memory.guest or resources.limits.memory must be set", "spec.template.spec.domain")
    annotation = _annotations(vm).get(ANN_RESERVED_MEMORY, "")
    if not limit or not annotation:
        return
    field = f"metadata.annotations[{ANN_RESERVED_MEMORY}]"
    try:
        reserved = quantity.parse(annotation)
    except quantity.QuantityError as e:
        raise _invalid(str(e), field) from None
    if reserved.value >= limit.value:
        raise _invalid("reservedMemory cannot be equal or greater than limits.memory", field)
    if memory.get("guest") and guest.value + reserved.value > limit.value:
        raise _invalid(f"guest memory {quantity.whole(guest)} plus reservedMemory {quantity.whole(reserved)} cannot be "
                       f"greater than limits.memory {quantity.whole(limit)}", field)
    if reserved.value < 0:
        raise _invalid("reservedMemory cannot be less than 0", field)


def _cluster_networks(vm: dict, store) -> dict[str, str]:
    """interface name -> cluster network of its multus network (getVMInterfaceInfo)."""
    out = {}
    for network in _template_spec(vm).get("networks") or []:
        name = ((network or {}).get("multus") or {}).get("networkName")
        if not name:
            continue
        words = name.split("/")
        if len(words) > 2:
            raise _internal(VALIDATOR, f"invalid network name {name}")
        nad_ns, nad_name = ("default", words[0]) if len(words) == 1 else (words[0], words[1])
        try:
            nad = _nad(store, nad_ns, nad_name)
        except ApiError as e:
            raise _internal(VALIDATOR, e.message) from None
        out[network.get("name")] = ((nad.get("metadata") or {}).get("labels") or {}).get(LABEL_CLUSTER_NETWORK, "")
    return out


def _macs(vm: dict, store) -> dict[str, dict[str, str]]:
    """cluster network -> {mac: "<interface>+<ns>/<name>"}."""
    meta = vm.get("metadata") or {}
    networks = _cluster_networks(vm, store)
    out: dict[str, dict[str, str]] = {}
    for iface in (_domain(vm).get("devices") or {}).get("interfaces") or []:
        if iface.get("macAddress"):
            out.setdefault(networks.get(iface.get("name"), ""), {})[iface["macAddress"]] = \
                f"{iface.get('name')}+{meta.get('namespace', '')}/{meta.get('name', '')}"
    return out


def _check_duplicate_macs(vm: dict, store) -> None:
    mine = _macs(vm, store)
    if not mine:
        return
    wanted = {m for macs in mine.values() for m in macs}
    kind = store.registry.by_plural("kubevirt.io", "virtualmachines")
    others: dict[str, dict[str, str]] = {}
    def shares_a_mac(o):  # the VMByMacAddress index: only those VMs are read
        return bool(wanted & {i.get("macAddress") for i in (_domain(o).get("devices") or {}).get("interfaces") or []})
    for other in store.list(kind, None, shares_a_mac):
        for cn, macs in _macs(other, store).items():
            others.setdefault(cn, {}).update(macs)
    for cn, macs in mine.items():
        for mac, owner in macs.items():
            if mac in others.get(cn, {}) and others[cn][mac] != owner:
                raise _internal(VALIDATOR, f"duplicate mac address present for vm {vm['metadata'].get('name')} "
                                           f"for cluster network {cn}")


def _check_maintain_strategy(vm: dict, old: dict | None) -> None:
    new = ((vm.get("metadata") or {}).get("labels") or {}).get(LABEL_MAINTAIN_STRATEGY)
    if new is None:
        return
    before = ((old or {}).get("metadata") or {}).get("labels") or {}
    if old is not None and before.get(LABEL_MAINTAIN_STRATEGY) == new and new not in MAINTAIN_STRATEGIES:
        return  # an invalid strategy that did not change is only logged
    if new not in MAINTAIN_STRATEGIES:
        raise _invalid(f"invalid maintenance mode strategy: {new}", f"metadata.labels[{LABEL_MAINTAIN_STRATEGY}]")


def _check_cd_roms(vm: dict) -> None:
    """checkCdRomVolumeIsValid (SupportInsertCdRomVolume, SupportEjectCdRomVolume): an empty
    CD-ROM, or one backed by a hotpluggable volume, must use the SATA bus (500)."""
    volumes = _template_spec(vm).get("volumes") or []
    names = {v.get("name") for v in volumes}
    hotpluggable = {v.get("name") for v in volumes if ((v.get("persistentVolumeClaim") or {}).get("hotpluggable"))}
    for disk in (_domain(vm).get("devices") or {}).get("disks") or []:
        cdrom = disk.get("cdrom")
        if cdrom is not None and disk.get("name") not in names and cdrom.get("bus") != "sata":
            raise _internal(VALIDATOR, "empty cd-rom device should connect via SATA bus")
    for disk in (_domain(vm).get("devices") or {}).get("disks") or [] if hotpluggable else []:
        cdrom = disk.get("cdrom")
        if cdrom is not None and disk.get("name") in hotpluggable and cdrom.get("bus") != "sata":
            raise _internal(VALIDATOR, "hotpluggable cd-rom volume should connect via SATA bus")


def _stopping(old: dict, new: dict) -> bool:
    """checkVMStoppingStatus: Always -> Halted, or a stop request first in the queue."""
    if run_strategy(old) == "Always" and run_strategy(new) == "Halted":
        return True
    requests = (new.get("status") or {}).get("stateChangeRequests") or []
    return bool(requests) and requests[0].get("action") == "Stop"


def _check_backup_in_progress(vm: dict, store) -> None:
    kind = store.registry.by_plural("harvesterhci.io", "virtualmachinebackups")
    uid = (vm.get("metadata") or {}).get("uid")
    for backup in store.list(kind) if kind else []:
        status = backup.get("status") or {}
        if status.get("sourceUID") != uid:
            continue
        if status.get("error") or not status.get("readyToUse"):
            meta = vm["metadata"]
            raise denied(VALIDATOR, f"there is vmbackup in progress for vm {meta.get('namespace')}/{meta.get('name')}, "
                                    "please wait for the vmbackup or remove it before stop/restart the vm")


def _storage_class(pvc: dict) -> str | None:
    return (pvc.get("spec") or {}).get("storageClassName")


def _check_claim_template_changes(old: dict, new: dict) -> None:
    """checkVolumeAnnotations: a PVC of the annotation may grow (checked further by the PVC
    expansion rules, not modelled) but not shrink, and keeps its StorageClass."""
    old_text, new_text = _annotations(old).get(ANN_VOLUME_CLAIM_TEMPLATES, ""), \
        _annotations(new).get(ANN_VOLUME_CLAIM_TEMPLATES, "")
    if not old_text or not new_text or old_text == new_text:
        return
    field = f"metadata.annotations.{ANN_VOLUME_CLAIM_TEMPLATES}"
    try:
        before = {(e.get("metadata") or {}).get("name"): e for e in _claim_templates(old)}
    except gojson_errors.GoJSONError:
        raise _invalid(f"failed to unmarshal {old_text}", field) from None
    try:
        after = {(e.get("metadata") or {}).get("name"): e for e in _claim_templates(new)}
    except gojson_errors.GoJSONError:
        raise _invalid(f"failed to unmarshal {new_text}", field) from None
    changed = []
    for name, old_pvc in before.items():
        new_pvc = after.get(name)
        if new_pvc is None:
            continue
        size = lambda pvc: quantity.parse_or_zero(  # noqa: E731
            (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")).value
        if size(new_pvc) < size(old_pvc):
            raise _invalid(f"{name} PVC requests storage can't be less than previous value", field)
        if _storage_class(old_pvc) is not None and _storage_class(new_pvc) is not None \
                and _storage_class(old_pvc) != _storage_class(new_pvc):
            changed.append(f" new name {_storage_class(new_pvc)} in volume {name};")
    if changed:
        raise _internal(VALIDATOR, f"storage class names for the volumes in the {ANN_VOLUME_CLAIM_TEMPLATES} "
                                   f"annotation cannot be changed;{''.join(changed)}")


def validate_harvester(req: Request) -> None:
    try:
        _validate_harvester(req)
    except quantity.QuantityError as e:
        raise _internal(VALIDATOR, str(e)) from None


def _validate_harvester(req: Request) -> None:
    if req.operation not in ("CREATE", "UPDATE") or not _spec(req.obj).get("template"):
        return
    vm = req.obj
    _check_claim_templates(vm)
    _check_volumes(vm, req.store)
    _check_memory(vm)
    if req.operation == "CREATE":
        _check_duplicate_macs(vm, req.store)
        _check_maintain_strategy(vm, None)
        _check_cd_roms(vm)
        return
    if _stopping(req.old, vm):
        _check_backup_in_progress(vm, req.store)
    _check_claim_template_changes(req.old, vm)
    _check_maintain_strategy(vm, req.old)
    old_ifaces = (_domain(req.old).get("devices") or {}).get("interfaces")
    if old_ifaces == (_domain(vm).get("devices") or {}).get("interfaces"):
        return
    _check_duplicate_macs(vm, req.store)
    _check_cd_roms(vm)


# ------------------------------------------------------------------------------------ KubeVirt validator
def _cause(message: str, field: str, reason: str = "FieldValueInvalid") -> dict:
    return {"reason": reason, "message": message, "field": field}


def _resource_causes(spec: dict, field: str) -> list[dict]:
    resources = (spec.get("domain") or {}).get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    base = f"{field}.domain.resources"
    causes = []
    try:
        req_mem, lim_mem = quantity.parse_or_zero(requests.get("memory")), quantity.parse_or_zero(limits.get("memory"))
        req_cpu, lim_cpu = quantity.parse_or_zero(requests.get("cpu")), quantity.parse_or_zero(limits.get("cpu"))
    except quantity.QuantityError:
        return causes  # the schema's quantity format refuses it first
    if req_mem.value < 0:
        causes.append(_cause(f"{base}.requests.memory '{req_mem}': must be greater than or equal to 0.",
                             f"{base}.requests.memory"))
    elif req_mem.value > 0 and req_mem.value < 1000000:
        causes.append(_cause(f"{base}.requests.memory '{req_mem}': must be greater than or equal to 1M.",
                             f"{base}.requests.memory"))
    if lim_mem.value < 0:
        causes.append(_cause(f"{base}.limits.memory '{lim_mem}': must be greater than or equal to 0.",
                             f"{base}.limits.memory"))
    if lim_mem.value > 0 and quantity.whole(req_mem) > quantity.whole(lim_mem):
        causes.append(_cause(f"{base}.requests.memory '{req_mem}' is greater than {base}.limits.memory '{lim_mem}'",
                             f"{base}.requests.memory"))
    if req_cpu.value < 0:
        causes.append(_cause(f"{base}.requests.cpu '{req_cpu}': must be greater than or equal to 0.",
                             f"{base}.requests.cpu"))
    if quantity.milli(lim_cpu) > 0 and quantity.milli(req_cpu) > quantity.milli(lim_cpu):
        causes.append(_cause(f"{base}.requests.cpu '{req_cpu}' is greater than {base}.limits.cpu '{lim_cpu}'",
                             f"{base}.requests.cpu"))
    return causes


def _network_causes(spec: dict, field: str) -> list[dict]:
    """pkg/network/admitter Validator.Validate: the rules about names and sources."""
    networks = spec.get("networks") or []
    interfaces = ((spec.get("domain") or {}).get("devices") or {}).get("interfaces") or []
    causes = []
    pods = [n for n in networks if "pod" in (n or {})]
    if len(pods) > 1:
        causes.append(_cause(f"more than one interface is connected to a pod network in {field}.interfaces",
                             f"{field}.interfaces"))
    for i, network in enumerate(networks):
        sources = [k for k in ("pod", "multus") if k in (network or {})]
        if not sources:
            causes.append(_cause("should have a network type", f"{field}.networks[{i}]", "FieldValueRequired"))
        elif len(sources) > 1:
            causes.append(_cause("should have only one network type", f"{field}.networks[{i}]"))
        elif sources == ["multus"] and not (network["multus"] or {}).get("networkName"):
            causes.append(_cause("CNI delegating plugin must have a networkName", f"{field}.networks[{i}]"))
    seen = set()
    for i, network in enumerate(networks):
        if network.get("name") in seen:
            causes.append(_cause(f"Network with name {json.dumps(network.get('name'))} already exists, every network "
                                 "must have a unique name", f"{field}.networks[{i}].name"))
        seen.add(network.get("name"))
    iface_names = {i.get("name") for i in interfaces}
    for i, network in enumerate(networks):
        if network.get("name") not in iface_names:
            causes.append(_cause(f"{field}.networks[{i}].name '{network.get('name')}' not found.",
                                 f"{field}.networks[{i}].name", "FieldValueRequired"))
    seen = set()
    for i, iface in enumerate(interfaces):
        if iface.get("name") in seen:
            causes.append(_cause("Only one interface can be connected to one specific network",
                                 f"{field}.domain.devices.interfaces[{i}].name"))
        seen.add(iface.get("name"))
    network_names = {n.get("name") for n in networks}
    for i, iface in enumerate(interfaces):
        if iface.get("name") not in network_names:
            causes.append(_cause(f"{field}.domain.devices.interfaces[{i}].name '{iface.get('name')}' not found.",
                                 f"{field}.domain.devices.interfaces[{i}].name"))
    return causes


def _run_strategy_causes(spec: dict) -> list[dict]:
    causes = []
    running, strategy = spec.get("running"), spec.get("runStrategy")
    if running is not None and strategy is not None:
        causes.append(_cause("Running and RunStrategy are mutually exclusive. Note that Running is deprecated, please "
                             "use RunStrategy instead", "spec.running"))
    if running is None and strategy is None:
        causes.append(_cause("RunStrategy must be specified", "spec.running"))
    if strategy is not None and strategy not in RUN_STRATEGIES:
        causes.append(_cause(f"Invalid RunStrategy ({strategy})", "spec.runStrategy"))
    return causes


def validate_kubevirt(req: Request) -> None:
    if req.subresource or req.operation not in ("CREATE", "UPDATE"):
        return
    vm = req.obj
    if (vm.get("metadata") or {}).get("deletionTimestamp"):
        return
    spec = _spec(vm)
    if not spec.get("template"):
        causes = [_cause("missing virtual machine template.", "spec.template", "FieldValueRequired")]
    else:
        field = "spec.template.spec"
        template = spec["template"].get("spec") or {}
        causes = _resource_causes(template, field) + _network_causes(template, field) + _run_strategy_causes(spec)
    if causes:
        message = ", ".join(c["message"] for c in causes[:10])
        if len(causes) > 10:
            message += f", and {len(causes) - 10} more validation errors"
        raise ApiError(422, "Invalid", f'admission webhook "{KUBEVIRT}" denied the request: {message}',
                       details={"causes": causes[:10]})


def register(chain) -> None:
    chain.mutate_with("kubevirt.io", "VirtualMachine", mutate)
    chain.validate_with("kubevirt.io", "VirtualMachine", validate_harvester)
    chain.validate_with("kubevirt.io", "VirtualMachine", validate_kubevirt)
