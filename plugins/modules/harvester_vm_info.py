#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_vm_info
short_description: List Harvester VMs with their state, node and addresses
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Returns the VirtualMachines of a namespace (or of every namespace), optionally only those matching a label
    selector, or one VM, each with its state as C(kubectl get vm) shows it, the node its VMI runs on, the addresses
    the VMI reports, whether it is migrating, its run strategy and its labels.
  - The selection works as in M(homelab.harvester.harvester_vm_power), so a playbook can list what it will stop,
    start or back up. One list of VMs and one of VMIs per namespace asked. Never changes anything.
extends_documentation_fragment:
  - homelab.harvester.api.info_module
  - homelab.harvester.info_filters
options:
  name:
    description:
      - One VM, C(name) (in O(namespace)) or C(namespace/name). The task fails when it does not exist.
    type: str
  namespace:
    description: Namespace of the VMs.
  all_namespaces:
    description: List the VMs of every namespace (not with O(name)).
    type: bool
    default: false
  label_selector:
    description: Only VMs whose labels match, in Kubernetes selector syntax, for example C(homelab.harvester/backup=nightly).
notes:
  - Always returns C(changed=false).
seealso:
  - module: homelab.harvester.harvester_vm_power
  - module: homelab.harvester.harvester_vm_backup
"""

EXAMPLES = r"""
- name: The VMs labelled for the nightly backup, in every namespace
  homelab.harvester.harvester_vm_info:
    all_namespaces: true
    label_selector: homelab.harvester/backup=nightly
  register: nightly_vms

- name: Where lab-router runs
  homelab.harvester.harvester_vm_info:
    name: default/lab-router
  register: router

- name: Show it
  ansible.builtin.debug:
    msg: "{{ router.vms[0].node }} {{ router.vms[0].ip_addresses }}"
"""

RETURN = r"""
vms:
  description: The VMs selected, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the VM.
      type: str
    name:
      description: Name of the VM.
      type: str
    status:
      description: Its printable status (C(Running), C(Stopped), C(Starting), C(Migrating), ...).
      type: str
    running:
      description: Whether its VMI is Running and the VM reports ready.
      type: bool
    node:
      description: The node its VMI runs on, null when it has none.
      type: str
    ip_addresses:
      description: The addresses its VMI reports.
      type: list
      elements: str
    migrating:
      description: Whether a live migration of its VMI is under way.
      type: bool
    run_strategy:
      description: Its effective run strategy (C(spec.runStrategy), or C(Always)/C(Halted) from the legacy C(spec.running)).
      type: str
    labels:
      description: Its labels.
      type: dict
  sample:
    - {namespace: default, name: lab-router, status: Running, running: true, node: ms02-1, ip_addresses: [10.10.10.50],
       migrating: false, run_strategy: RerunOnFailure, labels: {harvesterhci.io/creator: harvester}}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import listing, vm_info
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import INFO_FILTER_ARGS

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    **INFO_FILTER_ARGS,
    "all_namespaces": {"type": "bool", "default": False},
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, listing.info_run("vms", vm_info.check, vm_info.gather))


if __name__ == "__main__":
    run_module(DEFINITION)
