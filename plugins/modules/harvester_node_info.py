#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_node_info
short_description: Read the health of Harvester nodes, their bonds and their Longhorn disks
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Returns, for every node of the Harvester cluster (or the one named by O(name)), its roles, readiness,
    schedulability, maintenance mode, internal IP, the bond of each cluster network with its member NICs and
    their link state, and the Longhorn node with its conditions and disks.
  - Bond health comes from the network controller's LinkMonitors, as the Harvester UI reads it. LinkMonitor
    C(<cluster network>) gives the index of the node's C(<cluster network>-bo) bond; the entries of
    LinkMonitor C(nic) whose C(masterIndex) is that index are the bond's members.
  - A NIC that the VlanConfig covering the node names but that is not in the bond is reported with state
    C(missing). The built-in C(mgmt) cluster network has no VlanConfig, so only its enslaved NICs are known.
  - Reads one list per kind (nodes, LinkMonitors, VlanConfigs, Longhorn nodes), never one request per node.
    Never changes anything.
extends_documentation_fragment:
  - homelab.harvester.api.info_module
options:
  name:
    description:
      - Name of one node. Omit it for every node.
      - The task fails when the node does not exist.
    type: str
  unreachable_ok:
    description:
      - When nothing takes the connection at the API's address (refused, not made within O(request_timeout), host
        unreachable), return RV(reachable=false) and no nodes after that one attempt, instead of retrying and failing.
      - For bootstrapping, where no answer at the VIP means no cluster is installed yet. A connection reset, a TLS or
        credentials failure, or an error the API answers with still fails the task (something is there).
    type: bool
    default: false
notes:
  - Always returns C(changed=false).
  - A node without a Longhorn node (a witness node, or Longhorn not installed) has RV(nodes[].longhorn=null).
seealso:
  - name: Harvester host management
    description: Harvester documentation on hosts, maintenance mode and disks.
    link: https://docs.harvesterhci.io/v1.8/host/
"""

EXAMPLES = r"""
- name: Read every node
  homelab.harvester.harvester_node_info:
  register: harvester_nodes

- name: Every bond member of every node is up
  ansible.builtin.assert:
    that:
      - harvester_nodes.nodes | map(attribute='bonds') | map(attribute='mgmt') | map(attribute='healthy') is all
    fail_msg: "{{ harvester_nodes.nodes | map(attribute='problems') | flatten }}"

- name: One node, before putting it into maintenance mode
  homelab.harvester.harvester_node_info:
    name: ms02-2
    kubeconfig: ~/harvester.yaml
  register: node

- name: Show what is not healthy on it
  ansible.builtin.debug:
    var: node.nodes[0].problems

- name: Is a cluster installed yet? (no answer at the VIP is "no")
  homelab.harvester.harvester_node_info:
    unreachable_ok: true
  register: members
"""

RETURN = r"""
reachable:
  description: Whether the API answered. False only with O(unreachable_ok), when nothing took the connection.
  returned: always
  type: bool
  sample: true
msg:
  description: Why the API is not reachable (the connection failure), when RV(reachable) is false.
  returned: when RV(reachable) is false
  type: str
  sample: "GET nodes: cannot connect to https://10.10.10.5:6443: connection refused"
nodes:
  description: One entry per node, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
      sample: ms02-1
    roles:
      description: Role names from the C(node-role.kubernetes.io/*) and C(node-role.harvesterhci.io/*) labels, sorted.
      type: list
      elements: str
      sample: [control-plane, etcd, master]
    ready:
      description: Whether the node's C(Ready) condition is C(True).
      type: bool
      sample: true
    ready_reason:
      description: Reason of the C(Ready) condition.
      type: str
      sample: KubeletReady
    schedulable:
      description: False when the node is cordoned (C(spec.unschedulable)).
      type: bool
      sample: true
    maintenance:
      description:
        - Maintenance mode from the C(harvesterhci.io/maintain-status) annotation, C(running) while entering it,
          C(completed) once in it; null when the node is not in maintenance mode.
      type: str
      sample: null
    internal_ip:
      description: The node's C(InternalIP) address.
      type: str
      sample: 10.10.10.11
    kubelet_version:
      description: Kubelet version.
      type: str
      sample: v1.34.2+rke2r1
    os_image:
      description: OS image, which names the Harvester version.
      type: str
      sample: Harvester v1.8.2
    bonds:
      description:
        - Cluster network name to the node's bond C(<cluster network>-bo) on it.
        - A cluster network that does not reach the node is not listed.
      type: dict
      sample:
        mgmt:
          name: mgmt-bo
          state: up
          index: 10
          healthy: true
          members_up: 2
          members_total: 2
          mtu: 1500
          members:
            - {name: enp2s0f0np0, state: up, mac: "58:47:ca:7b:01:a0"}
            - {name: enp2s0f1np1, state: up, mac: "58:47:ca:7b:01:a1"}
      contains:
        name:
          description: Bond device name.
          type: str
        state:
          description: Bond link state (C(up), C(down), C(unknown)), or C(missing) when a VlanConfig covers the node but no bond is reported.
          type: str
        index:
          description: Kernel link index of the bond.
          type: int
        members:
          description: Member NICs, sorted by name; C(state) is C(up), C(down), C(unknown), or C(missing) for a NIC of the VlanConfig not in the bond.
          type: list
          elements: dict
        members_up:
          description: Number of members that are up.
          type: int
        members_total:
          description: Number of members, missing ones included.
          type: int
        mtu:
          description:
            - The MTU of the cluster network's uplink, from the ClusterNetwork's C(network.harvesterhci.io/uplink-mtu)
              annotation (for C(mgmt) the MTU it was installed with), 1500 when it gives none.
          type: int
        healthy:
          description: The bond is up, has members, and every member is up.
          type: bool
    longhorn:
      description: The Longhorn node, or null when there is none.
      type: dict
      contains:
        ready:
          description: Longhorn C(Ready) condition is C(True).
          type: bool
        schedulable:
          description: Longhorn C(Schedulable) condition is C(True).
          type: bool
        allow_scheduling:
          description: C(spec.allowScheduling).
          type: bool
        eviction_requested:
          description: C(spec.evictionRequested).
          type: bool
        conditions:
          description: Condition type to C(status), C(reason), C(message).
          type: dict
        disks:
          description:
            - One entry per disk, sorted by name, with C(name), C(path), C(disk_type), C(allow_scheduling),
              C(eviction_requested), C(ready), C(schedulable), C(storage_maximum), C(storage_available),
              C(storage_scheduled), C(storage_reserved) (bytes) and C(conditions).
          type: list
          elements: dict
    problems:
      description:
        - Short sentences for what is not healthy (not ready, cordoned, maintenance, bond or NIC not up,
          Longhorn node or disk not ready or not schedulable).
      type: list
      elements: str
      sample: ["NIC enp2s0f1np1 of bond mgmt-bo is down"]
    healthy:
      description: True when RV(nodes[].problems) is empty.
      type: bool
      sample: true
"""

from ansible_collections.homelab.harvester.plugins.module_utils import node, validate
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "unreachable_ok": {"type": "bool", "default": False},
}


def run(module):
    name = module.params.get("name")
    if name is not None and not name.strip():
        raise validate.ValidationError("name", "must not be empty (omit it for every node)")
    return node.gather_if_reachable(module.client, name, module.params["unreachable_ok"])


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, run)


if __name__ == "__main__":
    run_module(DEFINITION)
