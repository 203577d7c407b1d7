#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_storage_network
short_description: Set Harvester's storage network, stopping and starting the VMs it needs stopped
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Sets Harvester's C(storage-network) setting (the network Longhorn replicates over) to a VLAN of a cluster network
    and an address range, or disables it with O(state=absent), and waits until Harvester reports the change
    C(Completed).
  - Harvester refuses a storage-network change while any VM runs. Without O(stop_vms) the task then fails before
    any write with RV(refused_by=running_vms) and the running VMs in RV(vms).
  - With O(stop_vms=true), and only when the setting must change, the module stops every running VM, applies the
    setting (again while Longhorn still detaches the volumes of the VMs just stopped), waits until Harvester has
    finished, and starts those VMs again, each with the run strategy it had.
  - Safe to interrupt and to retry. Each VM is stopped with one patch that also marks it, the label
    C(homelab.harvester/stopped-for=storage-network) and the annotation C(homelab.harvester/restore-run-strategy)
    with its run strategy, so the VMs to start again are recorded on the cluster, not in memory. Every run first
    finishes what an earlier one left. Once the setting holds the planned value and Harvester reports it
    C(Completed), every marked VM is started and unmarked in one patch. A stop whose answer was lost, a Ctrl-C or a
    crash leaves no VM stopped for good.
  - When Harvester refuses the value itself after the VMs were stopped, they are started again at once and the
    task fails. When Harvester fails to configure a value it stored, the VMs stay stopped and marked (the message
    names them) and the next run starts them once the setting is C(Completed).
  - Input is checked before any request, as Harvester's webhook checks it where no cluster is needed (VLAN range,
    VLAN 0 and 1 on C(mgmt), a network address CIDR with prefix 16 or longer, excluded ranges inside it without
    overlaps).
extends_documentation_fragment:
  - homelab.harvester.api
  - homelab.harvester.state
attributes:
  check_mode:
    details:
      - The VM patches and the setting patch are sent with C(dryRun=All); nothing is stored and nothing is waited for.
      - While VMs run, Harvester would judge the value only once they are stopped, so that patch is then left out and
        the result says what would be done (RV(steps)).
  diff_mode:
    details: The diff shows the setting's value before and after.
options:
  vlan:
    description:
      - The VLAN ID of the storage network, 2 to 4094 on C(mgmt) (0 to 4094 on another cluster network).
      - Required with O(state=present).
    type: int
  cluster_network:
    description: The cluster network the VLAN is on (C(clusterNetwork)).
    type: str
    default: mgmt
  range:
    description:
      - The addresses Harvester hands out to Longhorn, a network CIDR (no host bits) with prefix length 16 or more,
        for example C(10.10.60.0/24). Harvester needs two per Longhorn node plus two per disk.
      - Required with O(state=present).
    type: str
  exclude:
    description: CIDRs inside O(range) Harvester must not hand out, without overlaps.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) sets the storage network, V(absent) disables it (Longhorn goes back to the management network).
  stop_vms:
    description:
      - Whether the module may stop every running VM of the cluster (and start them again) so that Harvester accepts
        the change. Only done when the setting must change. A maintenance window for every VM of the cluster.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for each step, the VMs to stop, the setting to be applied and C(Completed), the VMs to run.
    type: int
    default: 600
notes:
  - The annotation C(homelab.harvester/restore-run-strategy) holds the run strategy a VM is started with; C(Manual)
    and C(Once) cannot start a VM by themselves, so such a VM starts with C(RerunOnFailure), Harvester's default.
seealso:
  - name: Harvester storage network
    description: Harvester documentation on the storage network.
    link: https://docs.harvesterhci.io/v1.8/advanced/storagenetwork
  - module: homelab.harvester.harvester_vm_power
  - module: homelab.harvester.harvester_setting
"""

EXAMPLES = r"""
- name: Longhorn replication on VLAN 60, stopping and starting the VMs when it must change
  homelab.harvester.harvester_storage_network:
    vlan: 60
    cluster_network: mgmt
    range: 10.10.60.0/24
    stop_vms: true
  register: storage_network

- name: Only apply it when no VM runs; say so otherwise
  homelab.harvester.harvester_storage_network:
    vlan: 60
    range: 10.10.60.0/24
  register: storage_network
  failed_when: storage_network is failed and storage_network['refused_by'] | default('') != 'running_vms'

- name: Disable it again
  homelab.harvester.harvester_storage_network:
    state: absent
    stop_vms: true
"""

RETURN = r"""
value:
  description:
    - The setting's value after the task (in check mode, the planned one); null when disabled.
  returned: success
  type: dict
  sample: {vlan: 60, clusterNetwork: mgmt, range: 10.10.60.0/24, exclude: []}
configured:
  description: Whether Harvester reports the value configured (C(Completed)); null in check mode.
  returned: success
  type: bool
  sample: true
refused_by:
  description:
    - Why the change was refused before any write; V(running_vms), VMs run and O(stop_vms) is false.
  returned: when refused
  type: str
  sample: running_vms
vms:
  description:
    - The VMs this run stopped or started (in check mode, would). When refused, the names (C(<namespace>/<name>))
      of the VMs that run.
  returned: always
  type: list
  elements: raw
  sample:
    - {namespace: default, name: lab-router, stopped: true, started: true, run_strategy: RerunOnFailure}
steps:
  description:
    - What the run did, in order, each C({step}) with C(vms) for the VM steps. C(stop_vms) (stopped and marked),
      C(apply) (the setting written), C(configured) (Harvester reported it C(Completed)), C(start_vms) (started and
      unmarked, also VMs an earlier interrupted run stopped).
  returned: always
  type: list
  elements: dict
  sample:
    - {step: stop_vms, vms: [default/lab-router]}
    - {step: apply}
    - {step: configured}
    - {step: start_vms, vms: [default/lab-router]}
diff:
  description: The setting's value before and after (no C(value) when disabled). Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {}
    after: {value: {vlan: 60, clusterNetwork: mgmt, range: 10.10.60.0/24, exclude: []}}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import storage_network
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import STATE_ARGS

ARGUMENT_SPEC = {
    "vlan": {"type": "int"},
    "cluster_network": {"type": "str", "default": "mgmt"},
    "range": {"type": "str"},
    "exclude": {"type": "list", "elements": "str", "default": []},
    **STATE_ARGS,
    "stop_vms": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 600},
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, storage_network.task)


if __name__ == "__main__":
    run_module(DEFINITION)
