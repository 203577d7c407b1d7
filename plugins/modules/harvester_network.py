#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_network
short_description: Manage a Harvester VM network (NetworkAttachmentDefinition)
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates, updates or deletes a Harvester VM network, the NetworkAttachmentDefinition that VMs attach to,
    with the bridge CNI configuration the Harvester UI writes (C(type=bridge), bridge C(<cluster_network>-br),
    optional VLAN tag, no IPAM).
  - Only the fields this module manages are compared and changed (the CNI configuration, the route, the
    description and the labels given). What Harvester adds by itself, the labels of the network controller, the MTU the network
    webhook injects, the route's C(connectivity), and the CIDR and gateway an C(auto) route learns by DHCP,
    never counts as a change.
  - An existing network is changed with one merge patch of the differing fields. Check mode sends the same
    requests with C(dryRun=All), so Harvester's webhooks judge them and nothing is stored.
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
  - homelab.harvester.namespace
  - homelab.harvester.labels
  - homelab.harvester.description
attributes:
  diff_mode:
    details: The diff shows the managed fields only, with JSON strings parsed.
options:
  name:
    description:
      - Name of the VM network, a DNS-1123 label (lower-case letters, digits and C(-), at most 63 characters).
      - VMs refer to it as C(<namespace>/<name>).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the VM network.
  cluster_network:
    description:
      - The cluster network whose bridge (C(<cluster_network>-br)) carries the VM network, at most 12 characters.
      - It must exist (C(mgmt) always does); another is read once and, when missing, the task fails before any write.
      - Cannot be changed on an existing network; see O(recreate).
    type: str
    default: mgmt
  vlan_id:
    description:
      - VLAN tag, 1 to 4094.
      - Omit it for an untagged network.
    type: int
  route:
    description:
      - Layer 3 information of the VLAN (the C(network.harvesterhci.io/route) annotation), used by Harvester's
        load balancers and DHCP checks. Needs O(vlan_id).
      - Omit it to leave an existing route as it is.
    type: dict
    suboptions:
      mode:
        description:
          - V(auto) lets Harvester learn the CIDR and gateway by DHCP on the VLAN.
          - V(manual) takes O(route.cidr) and O(route.gateway).
        type: str
        choices: [auto, manual]
        required: true
      cidr:
        description:
          - The VLAN's network, for example C(10.10.30.0/24). Required with O(route.mode=manual), refused with V(auto).
        type: str
      gateway:
        description:
          - The VLAN's gateway, inside O(route.cidr). Required with O(route.mode=manual), refused with V(auto).
        type: str
      dhcp_server:
        description:
          - Address of the DHCP server to ask in V(auto) mode (C(serverIPAddr)).
        type: str
  labels:
    description:
      - Labels to set on the network, for example to mark the networks a role manages so that it can find and
        remove the ones dropped from its plan (see M(homelab.harvester.harvester_network_info)).
      - Only the keys given are managed; other labels stay. A V(null) value removes that label.
      - The labels of Harvester's network controller (C(network.harvesterhci.io/clusternetwork), C(type),
        C(vlan-id), C(ready)) are refused.
  state:
    description:
      - V(present) creates or updates the network, V(absent) deletes it.
      - Harvester refuses to delete a network that a VM still lists, even a stopped one.
  recreate:
    description:
      - When an immutable part differs (O(cluster_network), or the CNI type of a network not made by this module),
        delete the network and create it again instead of failing.
      - Deleting fails while VMs use the network.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until the network controller labels the network ready
        (C(network.harvesterhci.io/ready=true)), which happens once its cluster network is ready.
      - With O(state=absent), wait until the network is gone (its finalizers removed).
      - Not done in check mode.
  wait_timeout:
    default: 120
notes:
  - The bridge type and the cluster network cannot change on an existing network (Harvester's network webhook
    refuses it); the module fails naming the option, unless O(recreate=true).
  - A configuration change is refused by Harvester while a running VM uses the network.
  - Input is checked before any request; nothing is sent when a check fails.
seealso:
  - name: Harvester VM networks
    description: Harvester documentation on VM networks.
    link: https://docs.harvesterhci.io/v1.8/networking/harvester-network
"""

EXAMPLES = r"""
- name: A VLAN network on the bond's cluster network, with the route learned by DHCP
  homelab.harvester.harvester_network:
    name: platform
    vlan_id: 30
    route:
      mode: auto
    description: Talos control planes

- name: A VLAN network with a manual route
  homelab.harvester.harvester_network:
    name: cluster
    namespace: default
    cluster_network: mgmt
    vlan_id: 40
    route:
      mode: manual
      cidr: 10.10.40.0/24
      gateway: 10.10.40.1
    labels:
      app.kubernetes.io/managed-by: homelab.harvester.vlans

- name: An untagged network
  homelab.harvester.harvester_network:
    name: flat

- name: Connection options once for every module of the collection
  module_defaults:
    group/homelab.harvester.harvester:
      kubeconfig: ~/harvester.yaml
  block:
    - name: Move a network to another cluster network (delete and create again)
      homelab.harvester.harvester_network:
        name: flat
        cluster_network: mgmt
        recreate: true

    - name: Remove a network
      homelab.harvester.harvester_network:
        name: flat
        state: absent
"""

RETURN = r"""
network:
  description:
    - The NetworkAttachmentDefinition as the API returned it after the change (in check mode, the server's
      dry-run answer), including the labels the controller set once O(wait) is done.
    - Not returned with O(state=absent).
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: k8s.cni.cncf.io/v1
    kind: NetworkAttachmentDefinition
    metadata:
      name: platform
      namespace: default
      labels:
        network.harvesterhci.io/clusternetwork: mgmt
        network.harvesterhci.io/ready: "true"
        network.harvesterhci.io/type: L2VlanNetwork
        network.harvesterhci.io/vlan-id: "30"
      annotations:
        network.harvesterhci.io/route: '{"mode":"auto","cidr":"10.10.30.0/24","gateway":"10.10.30.1","connectivity":"true"}'
    spec:
      config: '{"cniVersion":"0.3.1","name":"platform","type":"bridge","bridge":"mgmt-br","promiscMode":true,"vlan":30,"ipam":{}}'
diff:
  description: The managed fields before and after, JSON strings parsed. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before:
      spec:
        config: {cniVersion: 0.3.1, name: platform, type: bridge, bridge: mgmt-br, promiscMode: true, vlan: 30, ipam: {}}
    after:
      spec:
        config: {cniVersion: 0.3.1, name: platform, type: bridge, bridge: mgmt-br, promiscMode: true, vlan: 31, ipam: {}}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import reconcile, vm_network
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import DESCRIPTION_ARGS, LABELS_ARGS

ARGUMENT_SPEC = {
    **reconcile.object_args(120),
    **LABELS_ARGS,
    "cluster_network": {"type": "str", "default": "mgmt"},
    "vlan_id": {"type": "int"},
    "route": {"type": "dict", "options": {
        "mode": {"type": "str", "choices": ["auto", "manual"], "required": True},
        "cidr": {"type": "str"},
        "gateway": {"type": "str"},
        "dhcp_server": {"type": "str"},
    }},
    **DESCRIPTION_ARGS,
}


def run(module):
    return reconcile.run(module, vm_network.SPEC)


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, run)


if __name__ == "__main__":
    run_module(DEFINITION)
