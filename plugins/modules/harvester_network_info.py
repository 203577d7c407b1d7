#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_network_info
short_description: List Harvester VM networks (NetworkAttachmentDefinitions)
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Returns the Harvester VM networks of a namespace (or of every namespace), optionally only those with given
    labels or on one cluster network, each in the terms of M(homelab.harvester.harvester_network) (cluster network,
    VLAN, route, description) plus what Harvester's network controller reports (type, ready).
  - One list request, however many networks there are. Never changes anything.
  - With the labels a role puts on the networks it manages, this is how it finds the ones dropped from its plan.
extends_documentation_fragment:
  - homelab.harvester.api.info_module
  - homelab.harvester.listing
options:
  cluster_network:
    description:
      - Only networks on this cluster network (bridge C(<cluster_network>-br)).
    type: str
notes:
  - Always returns C(changed=false).
seealso:
  - module: homelab.harvester.harvester_network
"""

EXAMPLES = r"""
- name: The VM networks in the default namespace
  homelab.harvester.harvester_network_info:
  register: vm_networks

- name: The networks the vlans role manages
  homelab.harvester.harvester_network_info:
    label_selector: app.kubernetes.io/managed-by=homelab.harvester.vlans
  register: managed

- name: Every VLAN id used on the mgmt cluster network, in any namespace
  homelab.harvester.harvester_network_info:
    namespace:
    cluster_network: mgmt
  register: on_mgmt

- name: Show them
  ansible.builtin.debug:
    msg: "{{ on_mgmt.networks | map(attribute='vlan_id') | list }}"
"""

RETURN = r"""
networks:
  description: One entry per network, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the network.
      type: str
      sample: platform
    namespace:
      description: Its namespace.
      type: str
      sample: default
    cluster_network:
      description: The cluster network whose bridge carries it (null when the config names no bridge).
      type: str
      sample: mgmt
    vlan_id:
      description: The VLAN tag; null for an untagged network.
      type: int
      sample: 30
    type:
      description: What Harvester's network controller calls it (label C(network.harvesterhci.io/type)), null until it has looked.
      type: str
      sample: L2VlanNetwork
    ready:
      description: Whether the controller labelled it ready.
      type: bool
      sample: true
    route:
      description: The parsed route annotation (C(mode), C(cidr), C(gateway), C(connectivity), ...), null without one.
      type: dict
      sample: {mode: manual, cidr: 10.10.30.0/24, gateway: 10.10.30.1, connectivity: "true"}
    description:
      description: The description shown in the Harvester UI, null without one.
      type: str
    labels:
      description: All labels of the network.
      type: dict
    deleting:
      description: Whether the network is being deleted (waiting for its finalizers).
      type: bool
"""

from ansible_collections.homelab.harvester.plugins.module_utils import listing, vm_network
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import LISTING_ARGS

ARGUMENT_SPEC = {
    **LISTING_ARGS,
    "cluster_network": {"type": "str"},
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, listing.info_run("networks", vm_network.check_info, vm_network.list_networks))


if __name__ == "__main__":
    run_module(DEFINITION)
