#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: capi_cluster
short_description: Manage a Talos Kubernetes cluster on Harvester through Cluster API
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates, updates or deletes one workload cluster on the management (Platform) cluster that runs Cluster API
    with the Harvester infrastructure provider (CAPHV) and the Talos bootstrap and control plane providers.
  - "It renders the object set of one cluster: the identity Secret CAPHV reads the Harvester kubeconfig from
    (data key C(kubeconfig)), a HarvesterCluster, HarvesterMachineTemplates for the control plane and each worker
    pool, a TalosConfigTemplate per pool, a TalosControlPlane, the Cluster (C(cluster.x-k8s.io/v1beta2)) and a
    MachineDeployment per pool; and applies it in dependency order."
  - Before any write it checks the input and, on Harvester, that every image, VM network and the KeyPair exist and
    that address pools lie inside their VM network's subnet. Nothing is written when a check fails.
  - "Changes: replicas scale in place; a changed machine shape or Talos worker config is a new template (its name
    ends in a hash of its content) and the reference is repointed, which rolls the machines; templates no machine
    was cloned from any more are removed after a waited run. A Kubernetes version bump updates the control plane,
    waits until it runs the new version, then the workers."
  - Waits (O(wait_for)) on what really means done, not C(phase=Provisioned). A condition that says the cluster
    cannot get there (C(HarvesterConnectionReady=False), C(VMIPAllocated=False) with C(VMIPPoolExhausted),
    C(VMProvisioningReady=False), C(InvalidControlPlaneConfig)) ends the wait with its message once it has held
    for 15 s (a provider marks such a condition on one failed attempt and tries again).
  - A paused cluster (C(spec.paused)) is reported with a warning, never waited on.
  - "O(state=absent) deletes only the Cluster (CAPI deletes machines, control plane and infrastructure in its
    order), waits until it is gone, then removes the templates and, last, the identity Secret."
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
  - homelab.harvester.namespace
attributes:
  check_mode:
    details: Writes are sent with C(dryRun=All). Objects in a namespace that does not exist yet are reported without a request.
  diff_mode:
    details: Per object, the managed fields only; the identity kubeconfig is shown as a fingerprint, never its content.
notes:
  - The connection options (O(kubeconfig), O(host), ...) reach the management cluster where Cluster API runs.
    O(harvester) reaches the Harvester cluster. In a lab where one API serves both, give both the same kubeconfig.
  - The Talos providers speak the CAPI v1beta1 contract and CAPHV the v1beta2 one; CAPI 1.11 to 1.15 serve both.
options:
  name:
    description:
      - Name of the cluster, a DNS-1123 label. Objects are named after it (C(<name>-cp), C(<name>-<pool>), ...).
    type: str
    required: true
  namespace:
    description:
      - Namespace on the management cluster that holds the cluster's objects; created when missing.
  state:
    description:
      - C(present) creates or updates the cluster; C(absent) deletes it.
  kubernetes_version:
    description:
      - Kubernetes version, such as C(v1.33.4) (the C(v) is added when missing). Required with O(state=present).
    type: str
  talos_version:
    description:
      - Talos version, such as C(v1.11) or C(v1.11.5); the config format is chosen by the minor version.
        Required with O(state=present).
    type: str
  control_plane:
    description:
      - The control plane machines.
    type: dict
    default: {}
    suboptions:
      replicas:
        description: Number of control plane machines; odd (etcd).
        type: int
        default: 3
      cpu:
        description: vCPUs per machine.
        type: int
        default: 2
      memory:
        description: Memory per machine, a Kubernetes quantity.
        type: str
        default: 4Gi
      disk_size:
        description: Boot disk size, a Kubernetes quantity.
        type: str
        default: 20Gi
      image:
        description: The Harvester image of the boot disk, C(namespace/name) (a name alone is looked up in O(target_namespace)).
        type: str
      networks:
        description: Harvester VM networks, C(namespace/name); the first one carries the cluster's traffic.
        type: list
        elements: str
      config_patches:
        description: Talos machine config patches, RFC 6902 operations C({op, path, value}).
        type: list
        elements: dict
        default: []
  workers:
    description:
      - Worker pools, one MachineDeployment each. A pool left out of the list is deleted.
      - Each option not given takes the control plane's value (C(cpu), C(memory), C(disk_size), C(image), C(networks)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Pool name, a DNS-1123 label (not C(cp)).
        type: str
        required: true
      replicas:
        description: Number of machines (0 is allowed).
        type: int
        default: 1
      cpu:
        description: vCPUs per machine.
        type: int
      memory:
        description: Memory per machine.
        type: str
      disk_size:
        description: Boot disk size.
        type: str
      image:
        description: Harvester image, C(namespace/name).
        type: str
      networks:
        description: Harvester VM networks, C(namespace/name).
        type: list
        elements: str
      config_patches:
        description: Talos machine config patches for this pool (RFC 6902).
        type: list
        elements: dict
        default: []
  cluster_network:
    description:
      - The workload cluster's pod and service networks.
    type: dict
    default: {}
    suboptions:
      pods_cidr:
        description: Pod network.
        type: str
        default: 10.244.0.0/16
      services_cidr:
        description: Service network; must not overlap O(cluster_network.pods_cidr).
        type: str
        default: 10.96.0.0/12
  load_balancer:
    description:
      - The address of the Kubernetes API endpoint, which CAPHV puts on a Harvester load balancer. LoadBalancer
        Services inside the cluster are not CAPHV's (Cilium BGP serves them in this lab).
    type: dict
    default: {}
    suboptions:
      ipam:
        description: C(dhcp) takes the address from DHCP on the VM network; C(pool) from O(load_balancer.pool).
        type: str
        choices: [dhcp, pool]
        default: dhcp
      pool:
        description: The pool CAPHV creates on Harvester for the endpoint address (with O(load_balancer.ipam=pool)).
        type: dict
        suboptions:
          subnet:
            description: CIDR of the VM network's subnet.
            type: str
          gateway:
            description: Gateway inside O(load_balancer.pool.subnet).
            type: str
          range_start:
            description: First address of the pool (default the subnet's first host).
            type: str
          range_end:
            description: Last address of the pool (default the subnet's last host).
            type: str
          network:
            description: The VM network, C(namespace/name) (default the control plane's first network).
            type: str
  machine_ip_pool:
    description:
      - Static machine addresses from a pool CAPHV creates on Harvester (its C(vmNetworkConfig)), instead of DHCP.
      - The pool must hold every replica plus one for rolling updates; checked before any write.
    type: dict
    suboptions:
      subnet:
        description: CIDR of the VM network's subnet.
        type: str
      gateway:
        description: Gateway inside the subnet.
        type: str
      range_start:
        description: First address.
        type: str
      range_end:
        description: Last address.
        type: str
      network:
        description: The VM network, C(namespace/name) (default the control plane's first network).
        type: str
      dns_servers:
        description: DNS servers for the machines.
        type: list
        elements: str
  ssh_keypair:
    description:
      - The Harvester KeyPair CAPHV puts on every VM, C(namespace/name). Required with O(state=present).
    type: str
  target_namespace:
    description:
      - Harvester namespace for the cluster's VMs and load balancer (default O(namespace)).
    type: str
  identity_secret:
    description:
      - Name of an existing Secret in O(namespace) whose data key C(kubeconfig) reaches Harvester. The module then
        neither creates nor deletes it, and uses it for the pre-flight checks.
      - Mutually exclusive with O(harvester).
    type: str
  harvester:
    description:
      - How to reach the Harvester cluster, for the pre-flight checks and for the identity Secret
        C(<name>-harvester-identity) the module writes (a self-contained kubeconfig with server, CA, token or client certificate).
      - Not read from C(K8S_AUTH_*) variables, which belong to the management cluster connection.
    type: dict
    suboptions:
      kubeconfig:
        description: Path of a kubeconfig file, or a kubeconfig as a dict.
        type: raw
      context:
        description: Context of the kubeconfig.
        type: str
      host:
        description: API server URL.
        type: str
      api_key:
        description: Bearer token.
        type: str
      validate_certs:
        description: Verify the API server's certificate.
        type: bool
        aliases: [verify_ssl]
      ca_cert:
        description: CA bundle file.
        type: path
        aliases: [ssl_ca_cert]
      client_cert:
        description: Client certificate file.
        type: path
        aliases: [cert_file]
      client_key:
        description: Client key file.
        type: path
        aliases: [key_file]
      proxy:
        description: HTTP(S) proxy URL.
        type: str
      request_timeout:
        description: Seconds per request.
        type: float
  labels:
    description:
      - Extra labels on the Cluster object (for example to select it with a ClusterResourceSet).
    type: dict
    default: {}
  storage:
    description:
      - Storage for the guest cluster through the Harvester CSI driver, delivered by a ClusterResourceSet when the
        cluster comes up. The cloud provider's load balancer is not used (LoadBalancer Services are Cilium BGP's here).
      - On Harvester, a ServiceAccount C(<name>-csi) in O(target_namespace), bound there to the ClusterRole
        C(harvesterhci.io:csi-driver), with a token Secret; its token, the Harvester server and CA become the cloud-config
        kubeconfig.
      - On the management cluster, a Secret of type C(addons.cluster.x-k8s.io/resource-set) holding the guest cluster's
        cloud-config Secret, a ConfigMap holding the CSI driver manifests, and a ClusterResourceSet C(<name>-harvester-csi)
        that applies both, once, to this cluster.
      - O(state=absent) removes them too (on Harvester through O(harvester) or the identity Secret).
    type: dict
    suboptions:
      csi_manifests:
        description:
          - Path of a file with the Harvester CSI driver manifests for the guest cluster, for example the output of
            C(helm template harvester-csi-driver harvester/harvester-csi-driver --namespace kube-system).
        type: path
      cloud_config_secret:
        description:
          - The Secret (C(namespace/name), key C(cloud-config)) the guest cluster gets; point the CSI driver at it.
        type: str
        default: kube-system/cloud-config
  preflight:
    description:
      - Run the pre-flight checks on Harvester before writing.
    type: bool
    default: true
  wait:
    description:
      - Wait until the cluster reaches O(wait_for) (present) or is gone (absent).
  wait_for:
    description:
      - C(infrastructure) - the HarvesterCluster is ready with an endpoint and the Cluster's infrastructure is provisioned.
      - C(control_plane) - also the control plane is initialized and the C(<name>-kubeconfig) Secret exists.
      - C(ready) - also every control plane and worker replica is ready and up to date and the Cluster is C(Available).
    type: str
    choices: [infrastructure, control_plane, ready]
    default: ready
  wait_timeout:
    description:
      - Seconds to wait.
    default: 900
  kubeconfig_dest:
    description:
      - Write the workload cluster's kubeconfig here (mode 0600) once the control plane is initialized.
        Needs O(wait) and O(wait_for) other than C(infrastructure).
    type: path
"""

EXAMPLES = r"""
- name: A Talos cluster with 3 control plane machines and 2 workers
  homelab.harvester.capi_cluster:
    name: platform
    namespace: capi-platform
    kubernetes_version: v1.33.4
    talos_version: v1.11
    control_plane:
      replicas: 3
      image: default/talos-1-11
      networks: [default/cluster]
    workers:
      - name: workers
        replicas: 2
        cpu: 4
        memory: 8Gi
    ssh_keypair: default/lab
    harvester:
      kubeconfig: "{{ lookup('env', 'K8S_AUTH_KUBECONFIG') }}"
    kubeconfig_dest: /tmp/platform.kubeconfig

- name: Scale the workers to 3
  homelab.harvester.capi_cluster:
    name: platform
    namespace: capi-platform
    kubernetes_version: v1.33.4
    talos_version: v1.11
    control_plane: {image: default/talos-1-11, networks: [default/cluster]}
    workers: [{name: workers, replicas: 3, cpu: 4, memory: 8Gi}]
    ssh_keypair: default/lab
    harvester:
      kubeconfig: "{{ lookup('env', 'K8S_AUTH_KUBECONFIG') }}"

- name: Delete it (Cluster first, then templates, then the identity Secret)
  homelab.harvester.capi_cluster:
    name: platform
    namespace: capi-platform
    state: absent
"""

RETURN = r"""
changes:
  description: What this run created, updated or deleted (in check mode, would), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "HarvesterMachineTemplate", "name": "platform-workers-1a2b3c4d", "action": "create"}]
objects:
  description: The objects of the cluster's object set, as C(Kind/name), in apply order.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["HarvesterCluster/platform", "TalosControlPlane/platform-cp", "Cluster/platform"]
cluster:
  description: Where the cluster is, read after the run (none in check mode for a new cluster, and after deletion).
  returned: always
  type: dict
  contains:
    phase:
      description: The Cluster's C(status.phase) (informational only).
      type: str
      sample: Provisioned
    paused:
      description: Whether the Cluster is paused.
      type: bool
    infrastructure_ready:
      description: HarvesterCluster ready with an endpoint and the Cluster's infrastructure provisioned.
      type: bool
    control_plane_initialized:
      description: The control plane is initialized and the kubeconfig Secret exists.
      type: bool
    available:
      description: The Cluster's C(Available) condition is C(True).
      type: bool
    control_plane_endpoint:
      description: The API endpoint CAPHV set (C(host), C(port)).
      type: dict
    control_plane:
      description: C(replicas), C(ready_replicas) and C(version) of the TalosControlPlane.
      type: dict
    workers:
      description: Per MachineDeployment, C(replicas), C(ready_replicas), C(up_to_date_replicas).
      type: dict
    kubeconfig_secret:
      description: Name of the Secret holding the workload kubeconfig (key C(value)), once it exists.
      type: str
    conditions:
      description: The Cluster's conditions, type to status.
      type: dict
kubeconfig_written:
  description: Whether O(kubeconfig_dest) was written (or, in check mode, would be).
  returned: when O(kubeconfig_dest) is set and the wait reached the control plane
  type: bool
pending:
  description: With O(state=absent) and O(wait=false), what is left for a later run.
  returned: when deletion was not waited on
  type: str
"""

from ansible_collections.homelab.harvester.plugins.module_utils.capi import cluster as capi_cluster
from ansible_collections.homelab.harvester.plugins.module_utils.capi.options import HARVESTER_OPTIONS
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import NAMESPACE_ARGS, STATE_ARGS, wait_args

MACHINE_OPTIONS = {
    "cpu": {"type": "int"},
    "memory": {"type": "str"},
    "disk_size": {"type": "str"},
    "image": {"type": "str"},
    "networks": {"type": "list", "elements": "str"},
    "config_patches": {"type": "list", "elements": "dict", "default": []},
}
POOL_OPTIONS = {
    "subnet": {"type": "str"},
    "gateway": {"type": "str"},
    "range_start": {"type": "str"},
    "range_end": {"type": "str"},
    "network": {"type": "str"},
}
ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    **STATE_ARGS,
    **wait_args(900),
    **NAMESPACE_ARGS,
    "kubernetes_version": {"type": "str"},
    "talos_version": {"type": "str"},
    "control_plane": {"type": "dict", "default": {}, "options": dict(MACHINE_OPTIONS, replicas={"type": "int", "default": 3},
                                                                     cpu={"type": "int", "default": 2},
                                                                     memory={"type": "str", "default": "4Gi"},
                                                                     disk_size={"type": "str", "default": "20Gi"})},
    "workers": {"type": "list", "elements": "dict", "default": [],
                "options": dict(MACHINE_OPTIONS, name={"type": "str", "required": True}, replicas={"type": "int", "default": 1})},
    "cluster_network": {"type": "dict", "default": {}, "options": {"pods_cidr": {"type": "str", "default": "10.244.0.0/16"},
                                                                   "services_cidr": {"type": "str", "default": "10.96.0.0/12"}}},
    "load_balancer": {"type": "dict", "default": {}, "options": {
        "ipam": {"type": "str", "choices": ["dhcp", "pool"], "default": "dhcp"},
        "pool": {"type": "dict", "options": POOL_OPTIONS}}},
    "machine_ip_pool": {"type": "dict", "options": dict(POOL_OPTIONS, dns_servers={"type": "list", "elements": "str"})},
    "ssh_keypair": {"type": "str", "no_log": False},  # a KeyPair's name, not a key
    "target_namespace": {"type": "str"},
    "identity_secret": {"type": "str", "no_log": False},  # a Secret's name, not its content
    "harvester": {"type": "dict", "options": HARVESTER_OPTIONS},
    "labels": {"type": "dict", "default": {}},
    "storage": {"type": "dict", "options": {
        "csi_manifests": {"type": "path"},
        "cloud_config_secret": {"type": "str", "default": "kube-system/cloud-config", "no_log": False},  # a Secret's name
    }},
    "preflight": {"type": "bool", "default": True},
    "wait_for": {"type": "str", "choices": ["infrastructure", "control_plane", "ready"], "default": "ready"},
    "kubeconfig_dest": {"type": "path"},
}


DEFINITION = ModuleDefinition(
    ARGUMENT_SPEC, capi_cluster.run,
    mutually_exclusive=[("identity_secret", "harvester")], required_if=[("state", "present", ("kubernetes_version", "talos_version", "ssh_keypair"))])


if __name__ == "__main__":
    run_module(DEFINITION)
