"""The resources of the pods each node runs, for the twin, which has no Pod objects: the lab's
system pods (lab/node-pods.yml, by node role) and one virt-launcher pod per VirtualMachineInstance
placed on the node, plus the target's pod on the target node while a live migration runs.

A virt-launcher pod's compute container is rendered as KubeVirt v1.7.0 (the release Harvester
v1.8.2 vendors) renders it for a VMI without dedicated CPUs, hugepages or host devices:
virt-api's VMI defaults (pkg/defaults/defaults.go setDefaultResourceRequests,
SetDefaultGuestCPUTopology), then pkg/virt-controller/services/template.go newResourceRenderer
and renderresources.go: WithEphemeralStorageRequest (+50M), WithVirtualizationResources
(devices.kubevirt.io/kvm, tun, vhost-net), WithMemoryRequests (overcommit 100),
WithoutDedicatedCPU (cpuAllocationRatio 10), WithMemoryOverhead (GetMemoryOverhead, multiplied by
KubeVirt's additionalGuestMemoryOverheadRatio, which Harvester syncs from its setting
additional-guest-memory-overhead-ratio); the apiserver then defaults each request missing for a
limit to the limit (core/v1 SetDefaults_Pod).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .quantity import Quantity, of, parse

DATA = Path(__file__).resolve().parent / "lab" / "node-pods.yml"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
CPU_ALLOCATION_RATIO = 10  # KubeVirt's default developerConfiguration.cpuAllocationRatio
EPHEMERAL_STORAGE_OVERHEAD = "50M"  # template.go ephemeralStorageOverheadSize
FIXED_OVERHEAD = ("25Mi", "100Mi", "25Mi", "40Mi", "30Mi")  # virt-launcher-monitor, virt-launcher, virtlogd, virtqemud, qemu
PER_VCPU = "8Mi"
IOTHREAD = "8Mi"
VIDEO_RAM = "32Mi"
TPM = "53Mi"
PLACED = ("Scheduled", "Running")  # phases whose pod is bound to status.nodeName


@dataclass
class Pod:
    name: str
    requests: dict[str, Quantity] = field(default_factory=dict)
    limits: dict[str, Quantity] = field(default_factory=dict)
    count: int = 1  # the lab's system pods: one entry with their sums, standing for `count` pods


@lru_cache(maxsize=1)
def _system() -> dict:
    try:
        with open(DATA, encoding="utf-8") as f:
            return (yaml.safe_load(f) or {}).get("roles") or {}
    except OSError:
        return {}


def system_pods(node: dict) -> Pod:
    labels = node["metadata"].get("labels") or {}
    role = _system().get("control-plane" if labels.get(CONTROL_PLANE) == "true" else "worker") or {}
    return Pod("system", {k: parse(v) for k, v in (role.get("requests") or {}).items()},
               {k: parse(v) for k, v in (role.get("limits") or {}).items()}, int(role.get("pods") or 0))


# ------------------------------------------------------------------------------------------ virt-launcher
def _vcpus(cpu: dict) -> int:
    """hardware.GetNumberOfVCPUs."""
    vcpus = int(cpu.get("cores") or 0)
    for key in ("sockets", "threads"):
        n = int(cpu.get(key) or 0)
        if n:
            vcpus = n if vcpus == 0 else vcpus * n
    return vcpus


def _go_g(value: float) -> str:
    """fmt.Sprintf("%g") of the small floats WithoutDedicatedCPU formats: the shortest repr."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def memory_overhead(domain: dict, requests: dict[str, Quantity], vcpus: int, ratio: str | None) -> Quantity:
    """renderresources.go GetMemoryOverhead for an x86_64 VMI (no VFIO, SEV, probes or
    downward metrics)."""
    request = requests.get("memory", of(0))
    overhead = of(0) + of((request.scaled_kilo() * 1000) // 512)  # page tables: one bit per 512 bytes
    for part in FIXED_OVERHEAD:
        overhead = overhead + parse(part)
    overhead = overhead + Quantity(parse(PER_VCPU).value * max(vcpus, 1), "BinarySI")
    overhead = overhead + parse(IOTHREAD)
    devices = domain.get("devices") or {}
    if devices.get("autoattachGraphicsDevice") in (None, True):
        overhead = overhead + parse(VIDEO_RAM)
    tpm = devices.get("tpm")
    if isinstance(tpm, dict) and tpm.get("enabled", True) is not False:
        overhead = overhead + parse(TPM)
    if ratio:
        # multiplyMemory: float64(ScaledValue(Kilo)) * (ratio - 1), truncated, in kilobytes
        addition = int(float(overhead.scaled_kilo()) * (float(ratio) - 1.0))
        overhead = overhead + of(addition * 1000)
    return overhead


def virt_launcher(vmi: dict, ratio: str | None) -> Pod:
    """The virt-launcher pod of a VMI: its compute container's requests and limits."""
    spec = vmi.get("spec") or {}
    domain = spec.get("domain") or {}
    resources = domain.get("resources") or {}
    requests = {k: parse(v) for k, v in (resources.get("requests") or {}).items()}
    limits = {k: parse(v) for k, v in (resources.get("limits") or {}).items()}
    # virt-api's defaults on the VMI
    if limits.get("cpu", of(0)).value != 0 and requests.get("cpu", of(0)).value == 0:
        requests["cpu"] = limits["cpu"]
    cpu = domain.get("cpu") or {}
    if not any(cpu.get(k) for k in ("cores", "sockets", "threads")):
        source = limits.get("cpu") or requests.get("cpu")
        cpu = {"sockets": math.ceil(source.value) if source is not None else 1, "cores": 1, "threads": 1}
    vcpus = _vcpus(cpu)
    overhead = memory_overhead(domain, requests, vcpus, ratio)  # from the VMI's own requests
    pod_requests, pod_limits = dict(requests), dict(limits)
    # WithEphemeralStorageRequest
    pod_requests["ephemeral-storage"] = pod_requests.get("ephemeral-storage", of(0, "")) + \
        parse(EPHEMERAL_STORAGE_OVERHEAD)
    if "ephemeral-storage" in pod_limits:
        pod_limits["ephemeral-storage"] = pod_limits["ephemeral-storage"] + parse(EPHEMERAL_STORAGE_OVERHEAD)
    # WithVirtualizationResources (getRequiredResources; emulation is not allowed)
    devices = domain.get("devices") or {}
    interfaces = devices.get("interfaces") or []
    if interfaces or devices.get("autoattachPodInterface") in (None, True):
        pod_limits["devices.kubevirt.io/tun"] = parse("1")
    if any((i or {}).get("model", "virtio") in ("", "virtio") for i in interfaces):
        pod_limits["devices.kubevirt.io/vhost-net"] = parse("1")
    pod_limits["devices.kubevirt.io/kvm"] = parse("1")
    # WithMemoryRequests, only when the VMI requests no memory
    if "memory" not in requests or requests["memory"].value == 0:
        if pod_limits.get("memory", of(0)).value != 0:
            pod_requests["memory"] = pod_limits["memory"]
        elif (domain.get("memory") or {}).get("guest"):
            pod_requests["memory"] = parse(domain["memory"]["guest"])
    # WithoutDedicatedCPU: a calculated request, which an explicit one overrides
    if vcpus and "cpu" not in pod_requests:
        value = vcpus / CPU_ALLOCATION_RATIO
        pod_requests["cpu"] = parse(_go_g(value) if value >= 1 else _go_g(value * 1000) + "m")
    # WithMemoryOverhead
    pod_requests["memory"] = pod_requests.get("memory", of(0, "")) + overhead
    if "memory" in pod_limits:
        pod_limits["memory"] = pod_limits["memory"] + overhead
    for name, limit in pod_limits.items():  # SetDefaults_Pod: a limit without a request requests it
        pod_requests.setdefault(name, limit)
    meta = vmi["metadata"]
    return Pod(f"virt-launcher-{meta['name']}", pod_requests, pod_limits)


def pods_on(node: dict, vmis: list[dict], render) -> list[Pod]:
    """The pods bound to the node: its system pods, then the virt-launcher pods (sorted by VMI),
    `render(vmi, role)` giving a VMI's pod as rendered when it was created ("source" or "target")."""
    name = node["metadata"]["name"]
    pods = [system_pods(node)]
    for vmi in sorted(vmis, key=lambda v: (v["metadata"].get("namespace", ""), v["metadata"]["name"])):
        status = vmi.get("status") or {}
        if status.get("phase") in PLACED and status.get("nodeName") == name:
            pods.append(render(vmi, "source"))
        migration = status.get("migrationState") or {}
        if migration.get("targetNode") == name and migration.get("targetNode") != status.get("nodeName") \
                and not migration.get("completed") and not migration.get("failed"):
            pods.append(render(vmi, "target"))
    return pods
