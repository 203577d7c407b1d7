#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_cluster_network
short_description: Manage a Harvester cluster network and its uplinks (ClusterNetwork and VlanConfigs)
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates, updates or deletes a Harvester cluster network, the C(ClusterNetwork) object, and one C(VlanConfig)
    per entry of O(uplinks). Each VlanConfig bonds the given NICs into C(<name>-bo), bridged as C(<name>-br),
    on the nodes its O(uplinks[].node_selector) selects.
  - VlanConfigs of the cluster network that are not in O(uplinks) are deleted, so the cluster network converges
    to exactly the uplinks given.
  - Only the fields this module manages are compared (cluster network, node selector, NICs, bond mode, and
    miimon and MTU when given). What Harvester adds itself (the C(matched-nodes) annotation, the cluster network
    label, the MTU annotations of the ClusterNetwork, statuses) never counts as a change.
  - With O(wait), waits until the ClusterNetwork is C(ready) and the network agent of every node each VlanConfig
    covers reports its VlanStatus C(ready). A VlanStatus that reports an error (for example a NIC already enslaved
    by another bond) fails the task at once with the agent's message.
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
attributes:
  check_mode:
    details:
      - Writes are sent with C(dryRun=All), so Harvester's webhooks judge them and nothing is stored.
      - When the ClusterNetwork does not exist yet, the VlanConfigs are not sent (the webhook would refuse them for a
        cluster network that does not exist); they are reported as to be created.
  diff_mode:
    details: The diff shows whether the ClusterNetwork exists and the managed fields of each VlanConfig.
options:
  name:
    description:
      - Name of the cluster network, a DNS-1123 label of at most 12 characters (its bond C(<name>-bo) and bridge
        C(<name>-br) must fit Linux's 15-character device names).
      - C(mgmt) is refused; the management network's uplink is set at install time.
    type: str
    required: true
  uplinks:
    description:
      - One entry per group of nodes with the same NICs; each becomes a VlanConfig.
      - Required with O(state=present).
      - Two uplinks may not cover the same node; an empty O(uplinks[].node_selector) covers every node.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the VlanConfig, a DNS-1123 label.
        type: str
        required: true
      nics:
        description:
          - Names of the NICs to bond on each covered node, for example C(enp5s0).
          - A NIC already in another bond (C(mgmt-bo) for instance) makes the agent fail on that node.
        type: list
        elements: str
        required: true
      bond_mode:
        description:
          - Linux bonding mode of C(<name>-bo).
        type: str
        choices: [balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb]
        default: 802.3ad
      miimon:
        description:
          - Link monitoring interval of the bond in milliseconds; V(-1) lets the agent use its default (100).
          - Omit it to leave the live value alone.
        type: int
      mtu:
        description:
          - MTU of the bond, V(0) (meaning 1500) or 576 to 9000. Every uplink of one cluster network needs the same MTU.
          - Omit it to leave the live value alone.
        type: int
      node_selector:
        description:
          - Labels the nodes must carry to be covered by this uplink, for example C(kubernetes.io/hostname=ms02-1).
          - Omit it to cover every node (witness nodes excluded).
        type: dict
  state:
    description:
      - V(present) creates or updates the cluster network and its uplinks; V(absent) deletes its VlanConfigs, then
        the ClusterNetwork.
      - Harvester refuses to delete a cluster network that VM networks still use, and to change or delete an uplink
        while VMs on its networks run on the affected nodes.
  wait:
    description:
      - With O(state=present), wait until the ClusterNetwork is ready and every covered node's VlanStatus is ready.
      - With O(state=absent), wait until the VlanConfigs and the ClusterNetwork are gone.
      - Not done in check mode.
  wait_timeout:
    default: 120
notes:
  - Input is checked before any request; nothing is sent when a check fails.
  - The module is not in the C(homelab.harvester.harvester) action group until meta/runtime.yml lists it.
seealso:
  - module: homelab.harvester.harvester_network
  - module: homelab.harvester.harvester_node_info
  - name: Harvester cluster networks
    description: Harvester documentation on cluster networks and network configurations.
    link: https://docs.harvesterhci.io/v1.8/networking/clusternetwork
"""

EXAMPLES = r"""
- name: A storage network on the free NIC of every node
  homelab.harvester.harvester_cluster_network:
    name: data
    uplinks:
      - name: data-all
        nics: [enp5s0]
        bond_mode: active-backup
        mtu: 9000

- name: Different NICs on different nodes
  homelab.harvester.harvester_cluster_network:
    name: data
    uplinks:
      - name: data-ms02-1
        nics: [enp5s0]
        node_selector:
          kubernetes.io/hostname: ms02-1
      - name: data-others
        nics: [enp6s0]
        node_selector:
          homelab/rack: b

- name: Remove the cluster network (its VM networks must be gone first)
  homelab.harvester.harvester_cluster_network:
    name: data
    state: absent
"""

RETURN = r"""
cluster_network:
  description: The ClusterNetwork as last read (in check mode, the server's dry-run answer or the object to be created).
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: network.harvesterhci.io/v1beta1
    kind: ClusterNetwork
    metadata:
      name: data
      annotations:
        network.harvesterhci.io/uplink-mtu: "9000"
    status:
      conditions:
        - {type: ready, status: "True"}
vlan_configs:
  description: The VlanConfigs of O(uplinks), in order, as the API returned them.
  returned: when O(state=present)
  type: list
  elements: dict
vlan_statuses:
  description: The agent's report for each covered node, after O(wait).
  returned: when O(state=present) and O(wait) and not in check mode
  type: list
  elements: dict
  sample:
    - {name: data-ms02-1-5d1b8a4c, node: ms02-1, vlan_config: data-all, ready: true, message: ""}
diff:
  description: Whether the ClusterNetwork exists, and the managed fields of each VlanConfig, before and after. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {cluster_network: {}, vlan_configs: {}}
    after:
      cluster_network: {name: data}
      vlan_configs:
        data-all:
          spec: {clusterNetwork: data, uplink: {nics: [enp5s0], bondOptions: {mode: active-backup}}}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import cluster_network as cnet
from ansible_collections.homelab.harvester.plugins.module_utils import cluster_network_flow
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import STATE_ARGS, wait_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "uplinks": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True},
        "nics": {"type": "list", "elements": "str", "required": True},
        "bond_mode": {"type": "str", "choices": list(cnet.BOND_MODES), "default": "802.3ad"},
        "miimon": {"type": "int"},
        "mtu": {"type": "int"},
        "node_selector": {"type": "dict"},
    }},
    **STATE_ARGS,
    **wait_args(120),
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, cluster_network_flow.run)


if __name__ == "__main__":
    run_module(DEFINITION)
