#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_vm_power
short_description: Stop and start Harvester virtual machines
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Stops or starts KubeVirt VirtualMachines on Harvester, selected by name, by a list of names or by a label
    selector, or every VM of a namespace or of the cluster, and waits until each has reached the state.
  - A VM is stopped the way Harvester's Stop does it, by setting its run strategy to C(Halted), and started by
    setting the run strategy it had before. One merge patch per VM on the VirtualMachine, with the live
    resourceVersion. The KubeVirt C(start) and C(stop) subresources are not used, so check mode can send the
    same patches with C(dryRun=All).
  - Harvester remembers a VM's run strategy in the annotation C(harvesterhci.io/vmRunStrategy) and restores it
    when the VM starts. The stop patch writes the current strategy there too, so a later start restores exactly
    it.
  - A VM already in the state, or on its way there (Stopping, Starting), is not written. Every selected VM is
    checked before the first write, so an unknown name or a VM this module cannot start fails the task with
    nothing changed.
  - Harvester refuses the C(storage-network) setting while any VM runs. Stop every VM, apply the setting, then
    start the same VMs again from the registered RV(vms) (see the examples).
extends_documentation_fragment:
  - homelab.harvester.api
  - homelab.harvester.wait
  - homelab.harvester.namespace
attributes:
  diff_mode:
    details: The diff shows, per VM written, its run strategy and the remembered one before and after.
options:
  name:
    description:
      - One VM, by name in O(namespace) or as C(<namespace>/<name>).
      - Mutually exclusive with O(names) and O(label_selector).
    type: str
  names:
    description:
      - Several VMs. Each element is a name in O(namespace), a C(<namespace>/<name>) string, or a dict with
        C(name) and C(namespace), such as an entry of the RV(vms) this module returns.
      - Must not be empty. Skip the task when there is nothing to stop or start.
      - Mutually exclusive with O(name) and O(label_selector).
    type: list
    elements: raw
  label_selector:
    description:
      - The VMs whose labels match this Kubernetes label selector, such as C(harvesterhci.io/creator=harvester) or
        C(tier in (dev,test)), in O(namespace) or, with O(all_namespaces=true), in every namespace.
      - Without O(name), O(names) and O(label_selector), every VM of O(namespace) (or of the cluster) is selected.
    type: str
  namespace:
    description:
      - Namespace of the VMs given by O(name), O(names) (without their own namespace) or O(label_selector).
  all_namespaces:
    description:
      - Select in every namespace instead of O(namespace). Only with O(label_selector) or without O(name) and
        O(names).
    type: bool
    default: false
  state:
    description:
      - V(stopped) sets the run strategy to C(Halted). KubeVirt shuts the guest down and deletes its
        VirtualMachineInstance.
      - A VM shut down from inside the guest (printable status C(Stopped), no running instance) counts as stopped,
        as Harvester counts it, and is not written.
      - V(running) sets the run strategy to O(run_strategy), or to the one Harvester remembered, or to
        C(RerunOnFailure), Harvester's default.
    type: str
    choices: [stopped, running]
    required: true
  run_strategy:
    description:
      - The run strategy a stopped VM starts with. By default the one Harvester remembered in the annotation
        C(harvesterhci.io/vmRunStrategy), else C(RerunOnFailure).
      - The annotation is set to the same value, because Harvester's VM webhook replaces the run strategy of a
        starting VM with the remembered one.
      - A VM that already runs keeps its run strategy.
      - C(Manual) and C(Once) are not offered. C(Manual) starts nothing by itself. A VM that remembers one of them
        fails with O(state=running) unless O(run_strategy) is given.
      - Only with O(state=running).
    type: str
    choices: [Always, RerunOnFailure]
  wait:
    description:
      - Wait until every selected VM has reached the state. Stopped means printable status C(Stopped) and no
        running VirtualMachineInstance. Running means the instance is in phase C(Running) and the VM is ready.
      - Not done in check mode.
  wait_timeout:
    description:
      - Seconds to wait for all VMs together. A guest gets Harvester's termination grace period (120 seconds by
        default) to shut down.
    default: 300
notes:
  - Input is checked before any request. Nothing is sent when a check fails.
  - A VM that was shut down from inside the guest while its run strategy is not C(Halted), or whose run strategy is
    C(Manual), only starts through KubeVirt's start request. O(state=running) fails for it before any write; start
    it from the Harvester UI or with C(virtctl start).
seealso:
  - name: KubeVirt run strategies
    description: What each run strategy makes KubeVirt do.
    link: https://kubevirt.io/user-guide/compute/run_strategies/
  - name: Harvester storage network
    description: Why every VM must be stopped before the storage-network setting changes.
    link: https://docs.harvesterhci.io/v1.8/advanced/storagenetwork
"""

EXAMPLES = r"""
- name: Stop every VM of the cluster (Harvester refuses storage-network while any runs)
  homelab.harvester.harvester_vm_power:
    all_namespaces: true
    state: stopped
  register: stopped_vms

- name: Configure the storage network
  homelab.harvester.harvester_setting:
    name: storage-network
    value:
      vlan: 60
      clusterNetwork: mgmt
      range: 10.10.60.0/24

- name: Start exactly the VMs the first task stopped, with the run strategy each had
  homelab.harvester.harvester_vm_power:
    names: "{{ stopped_vms.vms | selectattr('changed') | list }}"
    state: running
  when: stopped_vms.vms | selectattr('changed') | list | length > 0

- name: Connection options once for every module of the collection
  module_defaults:
    group/homelab.harvester.harvester:
      kubeconfig: ~/harvester.yaml
  block:
    - name: Stop the lab's Harvester-made VMs in the default namespace, without waiting
      homelab.harvester.harvester_vm_power:
        label_selector: harvesterhci.io/creator=harvester
        state: stopped
        wait: false

    - name: Start one VM so that it always restarts, whatever it remembered
      homelab.harvester.harvester_vm_power:
        name: default/lab-router
        state: running
        run_strategy: Always
"""

RETURN = r"""
vms:
  description:
    - Every selected VM, sorted by namespace and name.
    - Give the ones with C(changed) to O(names) to reverse exactly this run.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the VM.
      type: str
      sample: default
    name:
      description: Name of the VM.
      type: str
      sample: lab-router
    before:
      description: The VM's printable status (C(kubectl get vm) STATUS) before this run.
      type: str
      sample: Running
    after:
      description:
        - The printable status once the wait is done.
        - In check mode and with O(wait=false), a VM this run wrote shows the state it is headed to (C(Stopped) or
          C(Running)), and the others their status before the run.
      type: str
      sample: Stopped
    changed:
      description: Whether this run wrote the VM (in check mode, would write it).
      type: bool
      sample: true
  sample:
    - {namespace: default, name: lab-builder, before: Stopped, after: Stopped, changed: false}
    - {namespace: default, name: lab-dns, before: Running, after: Stopped, changed: true}
    - {namespace: default, name: lab-router, before: Running, after: Stopped, changed: true}
diff:
  description:
    - Per VM written (C(<namespace>/<name>)), its run strategy (and a legacy C(spec.running)) and the remembered
      run strategy annotation, before and after. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before:
      default/lab-router: {spec: {runStrategy: RerunOnFailure}, metadata: {annotations: {harvesterhci.io/vmRunStrategy: RerunOnFailure}}}
    after:
      default/lab-router: {spec: {runStrategy: Halted}, metadata: {annotations: {harvesterhci.io/vmRunStrategy: RerunOnFailure}}}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import vm_power
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import NAMESPACE_ARGS, wait_args

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "names": {"type": "list", "elements": "raw"},
    "label_selector": {"type": "str"},
    **wait_args(300),
    **NAMESPACE_ARGS,
    "all_namespaces": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["stopped", "running"], "required": True},
    "run_strategy": {"type": "str", "choices": ["Always", "RerunOnFailure"]},
}
MUTUALLY_EXCLUSIVE = [["name", "names", "label_selector"]]


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, vm_power.task, mutually_exclusive=MUTUALLY_EXCLUSIVE)


if __name__ == "__main__":
    run_module(DEFINITION)
