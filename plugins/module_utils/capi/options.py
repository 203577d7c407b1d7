# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input of ``capi_cluster`` checked before any request: one ``ValidationError`` naming the
option (``workers[1].replicas: ...``) for the first problem found. Returns the options with
defaults filled in and versions in their canonical form, which is what rendering reads.

Pure Python; nothing here knows the API. Harvester-side checks (does the image exist?) are
``capi/preflight.py``'s.
"""

from __future__ import annotations

import ipaddress
import os
import re

from .. import validate
from ..connection import nested_args
from ..validate import ValidationError

KUBERNETES_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.+-]+)?$")
TALOS_VERSION = re.compile(r"^v?(\d+)\.(\d+)(\.\d+)?$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
NAMESPACED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
PATCH_OPS = ("add", "remove", "replace", "copy", "move", "test")
WAIT_FOR = ("infrastructure", "control_plane", "ready")
HASH_SUFFIX = 9  # "-" and 8 hex digits of the content hash on template names
MAX_NAME = 63
# capi_cluster's ``harvester`` suboptions: the module's own connection options, for the Harvester cluster.
HARVESTER_OPTIONS = nested_args()


def kubernetes_version(value, option="kubernetes_version"):
    text = str(value or "")
    if not KUBERNETES_VERSION.match(text):
        raise ValidationError(option, f"{text!r} is not a Kubernetes version such as v1.33.4")
    return text if text.startswith("v") else "v" + text


def talos_version(value, option="talos_version"):
    text = str(value or "")
    match = TALOS_VERSION.match(text)
    if not match:
        raise ValidationError(option, f"{text!r} is not a Talos version such as v1.11 or v1.11.5")
    # CABPT's talosVersion selects the config format by minor version: v1.11
    return f"v{match.group(1)}.{match.group(2)}"


def quantity(value, option):
    text = str(value or "")
    if not QUANTITY.match(text):
        raise ValidationError(option, f"{text!r} is not a Kubernetes quantity such as 4Gi")
    return text


def ref(value, option):
    """A Harvester object as ``namespace/name`` (or ``name``, in the HarvesterCluster's namespace)."""
    text = str(value or "")
    if not NAMESPACED_NAME.match(text):
        raise ValidationError(option, f"{text!r} is not a Harvester object reference such as default/talos-1-11")
    return text


def count(value, option, low=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(option, f"{value} must be a whole number, at least {low}")
    return value


def config_patches(value, option):
    patches = []
    for i, patch in enumerate(value or []):
        where = f"{option}[{i}]"
        if not isinstance(patch, dict):
            raise ValidationError(where, "must be a JSON patch operation {op, path, value}")
        op, path = patch.get("op"), patch.get("path")
        if op not in PATCH_OPS:
            raise ValidationError(f"{where}.op", f"{op!r} is not one of {', '.join(PATCH_OPS)}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValidationError(f"{where}.path", f"{path!r} must be a JSON pointer starting with '/'")
        if op in ("add", "replace", "test") and "value" not in patch:
            raise ValidationError(f"{where}.value", f"is required for op {op}")
        extra = set(patch) - {"op", "path", "value", "from"}
        if extra:
            raise ValidationError(where, f"unknown keys {sorted(extra)}")
        patches.append(dict(patch))
    return patches


def machines(value, option, defaults=None):
    """The machine shape shared by the control plane and the worker pools."""
    defaults = defaults or {}
    out = {}
    out["cpu"] = validate.positive(value.get("cpu") or defaults.get("cpu"), f"{option}.cpu")
    out["memory"] = quantity(value.get("memory") or defaults.get("memory"), f"{option}.memory")
    out["disk_size"] = quantity(value.get("disk_size") or defaults.get("disk_size"), f"{option}.disk_size")
    image = value.get("image") or defaults.get("image")
    if not image:
        raise ValidationError(f"{option}.image", "is required (namespace/name of a Harvester image)")
    out["image"] = ref(image, f"{option}.image")
    networks = value.get("networks") or defaults.get("networks")
    if not networks:
        raise ValidationError(f"{option}.networks", "at least one Harvester VM network (namespace/name) is needed")
    out["networks"] = [ref(n, f"{option}.networks[{i}]") for i, n in enumerate(networks)]
    out["config_patches"] = config_patches(value.get("config_patches"), f"{option}.config_patches")
    return out


def _ipv4_network(value, option):
    network = validate.cidr(value, option)
    if network.version != 4:
        raise ValidationError(option, f"{value!r} is not an IPv4 CIDR")
    return network


def address_pool(value, option, default_network):
    """A pool of addresses on a Harvester VM network: ``subnet``, ``gateway``, ``range_start``,
    ``range_end`` (default: the whole subnet without network, broadcast and gateway), ``network``."""
    value = value or {}
    for key in ("subnet", "gateway"):
        if not value.get(key):
            raise ValidationError(f"{option}.{key}", "is required")
    subnet = _ipv4_network(value["subnet"], f"{option}.subnet")
    gateway = validate.gateway_in(value["gateway"], subnet, f"{option}.gateway", f"{option}.subnet")
    hosts = subnet.num_addresses - 2 if subnet.prefixlen < 31 else subnet.num_addresses
    first = subnet.network_address + (1 if subnet.prefixlen < 31 else 0)
    start = validate.gateway_in(value.get("range_start") or first, subnet, f"{option}.range_start", f"{option}.subnet")
    end = validate.gateway_in(value.get("range_end") or first + hosts - 1, subnet, f"{option}.range_end", f"{option}.subnet")
    if int(start) > int(end):
        raise ValidationError(f"{option}.range_end", f"{end} is before range_start {start}")
    size = int(end) - int(start) + 1 - (1 if start <= gateway <= end else 0)
    network = ref(value.get("network") or default_network, f"{option}.network")
    return {"subnet": str(subnet), "gateway": str(gateway), "range_start": str(start), "range_end": str(end), "network": network, "size": size,
            "netmask": str(subnet.netmask), "dns_servers": [str(validate.ip(d, f"{option}.dns_servers[{i}]"))
                                                            for i, d in enumerate(value.get("dns_servers") or [])]}


def check(params):
    """The checked options of a ``state: present`` run (see the module's documentation)."""
    name = validate.name(params["name"], "name")
    validate.name(params["namespace"], "namespace")
    spec = {"name": name, "namespace": params["namespace"]}
    spec["kubernetes_version"] = kubernetes_version(params.get("kubernetes_version"))
    spec["talos_version"] = talos_version(params.get("talos_version"))
    spec["target_namespace"] = validate.name(params.get("target_namespace") or params["namespace"], "target_namespace")
    if not params.get("ssh_keypair"):
        raise ValidationError("ssh_keypair", "is required: CAPHV needs a Harvester KeyPair (namespace/name) for every VM")
    if params.get("kubeconfig_dest"):  # the workload kubeconfig is written at the very end
        validate.writable_directory(os.path.dirname(os.path.abspath(params["kubeconfig_dest"])), "kubeconfig_dest")
    spec["ssh_keypair"] = ref(params["ssh_keypair"], "ssh_keypair")

    cp = params.get("control_plane") or {}
    replicas = count(cp.get("replicas", 3), "control_plane.replicas", low=1)
    if replicas % 2 == 0:
        raise ValidationError("control_plane.replicas", f"{replicas} is even; etcd needs an odd number (1, 3, 5)")
    spec["control_plane"] = dict(machines(cp, "control_plane", defaults={"cpu": 2, "memory": "4Gi", "disk_size": "20Gi"}),
                                 replicas=replicas)
    pools, seen = [], set()
    for i, pool in enumerate(params.get("workers") or []):
        where = f"workers[{i}]"
        pool_name = validate.name(pool.get("name"), f"{where}.name")
        if pool_name in seen:
            raise ValidationError(f"{where}.name", f"{pool_name!r} is given twice")
        seen.add(pool_name)
        if pool_name == "cp":
            raise ValidationError(f"{where}.name", "'cp' is the control plane's name suffix")
        shaped = machines(pool, where, defaults=spec["control_plane"])
        pools.append(dict(shaped, name=pool_name, replicas=count(pool.get("replicas", 1), f"{where}.replicas")))
    spec["workers"] = pools
    longest = max([len("cp")] + [len(p["name"]) for p in pools])
    if len(name) + 1 + longest + HASH_SUFFIX > MAX_NAME:
        raise ValidationError("name", f"{name!r} is too long: '<name>-<pool>-<hash>' template names must fit in {MAX_NAME} "
                                      f"characters (at most {MAX_NAME - 1 - longest - HASH_SUFFIX} for these pools)")

    net = params.get("cluster_network") or {}
    pods = _ipv4_network(net.get("pods_cidr") or "10.244.0.0/16", "cluster_network.pods_cidr")
    services = _ipv4_network(net.get("services_cidr") or "10.96.0.0/12", "cluster_network.services_cidr")
    if pods.overlaps(services):
        raise ValidationError("cluster_network.services_cidr", f"{services} overlaps pods_cidr {pods}")
    spec["cluster_network"] = {"pods_cidr": str(pods), "services_cidr": str(services)}

    lb = params.get("load_balancer") or {}
    ipam = lb.get("ipam") or "dhcp"
    spec["load_balancer"] = {"ipam": ipam}
    if ipam == "pool":
        spec["load_balancer"]["pool"] = address_pool(lb.get("pool"), "load_balancer.pool", spec["control_plane"]["networks"][0])
    elif lb.get("pool"):
        raise ValidationError("load_balancer.pool", "only with load_balancer.ipam pool")
    spec["machine_ip_pool"] = None
    if params.get("machine_ip_pool"):
        pool = address_pool(params["machine_ip_pool"], "machine_ip_pool", spec["control_plane"]["networks"][0])
        wanted = machine_count(spec)
        if pool["size"] < wanted:
            raise ValidationError("machine_ip_pool", f"{pool['range_start']}-{pool['range_end']} holds {pool['size']} addresses; "
                                                     f"{wanted} are needed ({replicas} control plane + "
                                                     f"{sum(p['replicas'] for p in pools)} workers + 1 for rolling updates)")
        spec["machine_ip_pool"] = pool
    spec["labels"] = dict(params.get("labels") or {})
    spec["storage"] = storage(params.get("storage"))
    return spec


def storage(value):
    """The guest cluster's Harvester CSI: the manifests file is read here, before any request."""
    if not value or not value.get("csi_manifests"):
        return None
    target = value.get("cloud_config_secret") or "kube-system/cloud-config"
    namespace, slash, name = target.partition("/")
    if not slash:
        raise ValidationError("storage.cloud_config_secret", f"{target!r} is not namespace/name")
    validate.name(namespace, "storage.cloud_config_secret")
    validate.name(name, "storage.cloud_config_secret", max_length=253)
    try:
        with open(value["csi_manifests"], encoding="utf-8") as f:
            manifests = f.read()
    except OSError as e:
        raise ValidationError("storage.csi_manifests", f"{value['csi_manifests']}: {e.strerror or e}") from None
    if not manifests.strip():
        raise ValidationError("storage.csi_manifests", f"{value['csi_manifests']} is empty")
    return {"manifests": manifests, "cloud_config_secret": target}


def machine_count(spec):
    """Machines that can exist at once: every replica plus the one a rolling update adds."""
    return spec["control_plane"]["replicas"] + sum(p["replicas"] for p in spec["workers"]) + 1


def check_absent(params):
    validate.name(params["name"], "name")
    validate.name(params["namespace"], "namespace")
    return {"name": params["name"], "namespace": params["namespace"]}


def same_network(a, b):
    return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
