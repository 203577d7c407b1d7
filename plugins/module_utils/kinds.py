# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds this collection talks to, as data: group, version, plural, kind, scope. No API
discovery, ever -- a request goes straight to ``Kind.path(...)``; discovery would cost one to
three extra round trips and ~0.2 s of imports per task (see the peers' notes on kubernetes.core).

Versions are the ones Harvester v1.8 serves (storage versions of the CRDs in tests/twin/crds and
the upstream CRDs): CAPHV ``infrastructure.cluster.x-k8s.io/v1beta1``, CAPI
``cluster.x-k8s.io/v1beta2``, Talos ``v1alpha3``, Longhorn ``v1beta2``.

    from ansible_collections.homelab.harvester.plugins.module_utils import kinds
    client.get(kinds.NAD.path("default", "platform"))
    client.list(kinds.LONGHORN_SETTING.path("longhorn-system"))
"""

from __future__ import annotations

from urllib.parse import quote

LONGHORN_NAMESPACE = "longhorn-system"
HARVESTER_NAMESPACE = "harvester-system"


def _segment(value, what):
    value = str(value)
    if not value or value in (".", ".."):
        raise ValueError(f"empty or relative {what}: {value!r}")
    return quote(value, safe="")


class Kind:
    """One API resource: ``path(namespace, name, subresource)`` builds its URL path."""

    __slots__ = ("group", "version", "plural", "kind", "namespaced")

    def __init__(self, group, version, plural, kind, namespaced):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced

    @property
    def api_version(self):
        """``apiVersion`` as written in objects: ``group/version``, or ``v1`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self):
        """``plural.group`` as the apiserver names it in messages and RBAC."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def __repr__(self):
        return f"Kind({self.api_version} {self.kind}, {self.plural}, {'namespaced' if self.namespaced else 'cluster'})"

    def __eq__(self, other):
        return isinstance(other, Kind) and (self.group, self.version, self.plural) == (other.group, other.version, other.plural)

    def __hash__(self):
        return hash((self.group, self.version, self.plural))

    def base(self):
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace=None, name=None, subresource=None):
        """The URL path. Namespaced kinds: with a namespace, that namespace's collection or
        object; without one, the collection across all namespaces (lists only). Cluster-scoped
        kinds refuse a namespace."""
        parts = [self.base()]
        if self.namespaced:
            if namespace:
                parts += ["namespaces", _segment(namespace, "namespace")]
            elif name:
                raise ValueError(f"{self.kind} is namespaced: a namespace is needed to address {name!r}")
        elif namespace:
            raise ValueError(f"{self.kind} is cluster-scoped: no namespace ({namespace!r})")
        parts.append(self.plural)
        if name:
            parts.append(_segment(name, "name"))
            if subresource:
                parts.append(_segment(subresource, "subresource"))
        elif subresource:
            raise ValueError("a subresource needs an object name")
        return "/".join(parts)

    def new(self, name, namespace=None, **fields):
        """A skeleton object of this kind: apiVersion, kind, metadata (name, namespace) + fields."""
        metadata = {"name": name}
        if self.namespaced:
            metadata["namespace"] = namespace or "default"
        obj = {"apiVersion": self.api_version, "kind": self.kind, "metadata": metadata}
        obj.update(fields)
        return obj


# --- Kubernetes core ---------------------------------------------------------------------
NODE = Kind("", "v1", "nodes", "Node", False)
NAMESPACE = Kind("", "v1", "namespaces", "Namespace", False)
SECRET = Kind("", "v1", "secrets", "Secret", True)
CONFIG_MAP = Kind("", "v1", "configmaps", "ConfigMap", True)
PVC = Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True)
SERVICE_ACCOUNT = Kind("", "v1", "serviceaccounts", "ServiceAccount", True)
STORAGE_CLASS = Kind("storage.k8s.io", "v1", "storageclasses", "StorageClass", False)
ROLE_BINDING = Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True)

# --- Multus / Harvester networking ----------------------------------------------------------
NAD = Kind("k8s.cni.cncf.io", "v1", "network-attachment-definitions", "NetworkAttachmentDefinition", True)
CLUSTER_NETWORK = Kind("network.harvesterhci.io", "v1beta1", "clusternetworks", "ClusterNetwork", False)
VLAN_CONFIG = Kind("network.harvesterhci.io", "v1beta1", "vlanconfigs", "VlanConfig", False)
VLAN_STATUS = Kind("network.harvesterhci.io", "v1beta1", "vlanstatuses", "VlanStatus", False)
LINK_MONITOR = Kind("network.harvesterhci.io", "v1beta1", "linkmonitors", "LinkMonitor", False)

# --- Harvester -----------------------------------------------------------------------------
HARVESTER_SETTING = Kind("harvesterhci.io", "v1beta1", "settings", "Setting", False)
VM_IMAGE = Kind("harvesterhci.io", "v1beta1", "virtualmachineimages", "VirtualMachineImage", True)
VERSION = Kind("harvesterhci.io", "v1beta1", "versions", "Version", True)
UPGRADE = Kind("harvesterhci.io", "v1beta1", "upgrades", "Upgrade", True)
VM_BACKUP = Kind("harvesterhci.io", "v1beta1", "virtualmachinebackups", "VirtualMachineBackup", True)
VM_RESTORE = Kind("harvesterhci.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore", True)
KEY_PAIR = Kind("harvesterhci.io", "v1beta1", "keypairs", "KeyPair", True)
CLOUD_INIT = Kind("node.harvesterhci.io", "v1beta1", "cloudinits", "CloudInit", False)

# --- Longhorn (objects live in longhorn-system) ---------------------------------------------
LONGHORN_SETTING = Kind("longhorn.io", "v1beta2", "settings", "Setting", True)
LONGHORN_VOLUME = Kind("longhorn.io", "v1beta2", "volumes", "Volume", True)
LONGHORN_REPLICA = Kind("longhorn.io", "v1beta2", "replicas", "Replica", True)
LONGHORN_NODE = Kind("longhorn.io", "v1beta2", "nodes", "Node", True)
LONGHORN_BACKUP_TARGET = Kind("longhorn.io", "v1beta2", "backuptargets", "BackupTarget", True)

# --- KubeVirt ------------------------------------------------------------------------------
VIRTUAL_MACHINE = Kind("kubevirt.io", "v1", "virtualmachines", "VirtualMachine", True)
VMI = Kind("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", True)

# --- Cluster API, CAPHV, Talos ----------------------------------------------------------------
CAPI_CLUSTER = Kind("cluster.x-k8s.io", "v1beta2", "clusters", "Cluster", True)
MACHINE_DEPLOYMENT = Kind("cluster.x-k8s.io", "v1beta2", "machinedeployments", "MachineDeployment", True)
MACHINE = Kind("cluster.x-k8s.io", "v1beta2", "machines", "Machine", True)
HARVESTER_CLUSTER = Kind("infrastructure.cluster.x-k8s.io", "v1beta1", "harvesterclusters", "HarvesterCluster", True)
HARVESTER_MACHINE = Kind("infrastructure.cluster.x-k8s.io", "v1beta1", "harvestermachines", "HarvesterMachine", True)
HARVESTER_MACHINE_TEMPLATE = Kind("infrastructure.cluster.x-k8s.io", "v1beta1", "harvestermachinetemplates",
                                  "HarvesterMachineTemplate", True)
TALOS_CONTROL_PLANE = Kind("controlplane.cluster.x-k8s.io", "v1alpha3", "taloscontrolplanes", "TalosControlPlane", True)
TALOS_CONFIG_TEMPLATE = Kind("bootstrap.cluster.x-k8s.io", "v1alpha3", "talosconfigtemplates", "TalosConfigTemplate", True)
TALOS_CONFIG = Kind("bootstrap.cluster.x-k8s.io", "v1alpha3", "talosconfigs", "TalosConfig", True)
CLUSTER_RESOURCE_SET = Kind("addons.cluster.x-k8s.io", "v1beta2", "clusterresourcesets", "ClusterResourceSet", True)

# --- Tinkerbell and its BMC controller Rufio (on the Tinkerbell cluster) --------------------------
HARDWARE = Kind("tinkerbell.org", "v1alpha1", "hardware", "Hardware", True)
RUFIO_MACHINE = Kind("bmc.tinkerbell.org", "v1alpha1", "machines", "Machine", True)
RUFIO_JOB = Kind("bmc.tinkerbell.org", "v1alpha1", "jobs", "Job", True)
RUFIO_TASK = Kind("bmc.tinkerbell.org", "v1alpha1", "tasks", "Task", True)

ALL = (NODE, NAMESPACE, SECRET, CONFIG_MAP, PVC, SERVICE_ACCOUNT, STORAGE_CLASS, ROLE_BINDING,
       NAD, CLUSTER_NETWORK, VLAN_CONFIG, VLAN_STATUS, LINK_MONITOR,
       HARVESTER_SETTING, VM_IMAGE, VERSION, UPGRADE, VM_BACKUP, VM_RESTORE, KEY_PAIR, CLOUD_INIT,
       LONGHORN_SETTING, LONGHORN_VOLUME, LONGHORN_REPLICA, LONGHORN_NODE, LONGHORN_BACKUP_TARGET,
       VIRTUAL_MACHINE, VMI,
       CAPI_CLUSTER, MACHINE_DEPLOYMENT, MACHINE, HARVESTER_CLUSTER, HARVESTER_MACHINE, HARVESTER_MACHINE_TEMPLATE,
       TALOS_CONTROL_PLANE, TALOS_CONFIG_TEMPLATE, TALOS_CONFIG, CLUSTER_RESOURCE_SET,
       HARDWARE, RUFIO_MACHINE, RUFIO_JOB, RUFIO_TASK)

_BY_API_KIND = {(k.api_version, k.kind): k for k in ALL}


def lookup(api_version, kind):
    """The known ``Kind`` for an object's ``apiVersion`` and ``kind``; ``KeyError`` naming the
    known kinds of that group when there is none (no discovery to fall back on)."""
    try:
        return _BY_API_KIND[(api_version, kind)]
    except KeyError:
        group = api_version.rpartition("/")[0]
        known = sorted(f"{k.api_version} {k.kind}" for k in ALL if k.group == group)
        raise KeyError(f"unknown kind {api_version} {kind}" + (f"; known in this group: {', '.join(known)}" if known else "")) from None


def of(obj):
    """The ``Kind`` of an object dict (by its apiVersion and kind)."""
    return lookup(obj.get("apiVersion", ""), obj.get("kind", ""))


def object_path(obj, subresource=None):
    """The path of an object dict, from its apiVersion, kind, namespace and name."""
    meta = obj.get("metadata") or {}
    k = of(obj)
    return k.path(meta.get("namespace") if k.namespaced else None, meta.get("name"), subresource)
