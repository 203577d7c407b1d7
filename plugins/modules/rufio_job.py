#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rufio_job
short_description: Run BMC actions on a bare-metal node through Tinkerbell's Rufio and follow them to the end
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates a C(bmc.tinkerbell.org/v1alpha1) Job for a Rufio Machine - its tasks, one per O(actions) entry, run one
    after another - and follows it until its C(Completed) or C(Failed) condition, reporting each Task as it starts
    and ends.
  - A Job runs once. An existing Job with the same tasks is followed, or left alone when it completed (changed
    false). A Job that failed, or one with other tasks, is deleted (its Tasks with it) and created again, so a re-run
    retries and never repeats what completed.
  - A failed Job fails the task with the Job's message and each failed Task's own.
  - On an Intel AMT Machine, Rufio (bmclib's AMT provider) does V(on), V(off), V(cycle) and V(boot:pxe) only.
extends_documentation_fragment:
  - homelab.harvester.api.tinkerbell
  - homelab.harvester.state
attributes:
  diff_mode:
    details: The Job's C(spec) before and after.
options:
  name:
    description: Name of the Job.
    type: str
    required: true
  namespace:
    description: Namespace of the Job.
    type: str
    default: tink-system
  state:
    description: V(present) runs the Job (see above); V(absent) deletes it and its Tasks.
  machine:
    description: The Rufio Machine to act on. Required with O(state=present).
    type: str
  machine_namespace:
    description: Its namespace. Defaults to O(namespace).
    type: str
  actions:
    description:
      - The tasks, in order - a power action (V(on), V(off), V(soft), V(status), V(cycle), V(reset)) or a one-time boot
        device C(boot:<device>) (V(boot:pxe), V(boot:disk), V(boot:bios), V(boot:cdrom), V(boot:safe)).
      - For example V([boot:pxe, on]) - boot from the network once, power on (a node that is on stays on).
    type: list
    elements: str
  efi_boot:
    description: The one-time boot device boots UEFI (C(efiBoot); Harvester v1.8 installs on UEFI only).
    type: bool
    default: true
  wait:
    description: Whether to follow the Job to its end.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to follow it (Rufio fails a Task after 10 minutes).
    type: float
    default: 900
seealso:
  - module: homelab.harvester.tinkerbell_machine
"""

EXAMPLES = r"""
- name: Boot ms02-1 from the network once and power it on
  homelab.harvester.rufio_job:
    kubeconfig: ~/.kube/tinkerbell.yaml
    name: ms02-1-install
    machine: ms02-1
    actions: ["boot:pxe", "on"]
"""

RETURN = r"""
job:
  description: The Job as last read (null after a delete).
  returned: always
  type: dict
state:
  description: V(completed), V(failed), V(running), V(pending), V(created) (not followed), or V(absent).
  returned: always
  type: str
  sample: completed
tasks:
  description: The Job's Tasks, in order, each with C(name), C(action), C(state) and C(message).
  returned: always
  type: list
  elements: dict
  sample: [{name: ms02-1-install-task-0, action: boot pxe, state: completed, message: ""}]
"""

from ansible_collections.homelab.harvester.plugins.module_utils import rufio_job
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import STATE_ARGS

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "tink-system"},
    **STATE_ARGS,
    "machine": {"type": "str"},
    "machine_namespace": {"type": "str"},
    "actions": {"type": "list", "elements": "str"},
    "efi_boot": {"type": "bool", "default": True},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 900},
}

DEFINITION = ModuleDefinition(ARGUMENT_SPEC, rufio_job.run)


if __name__ == "__main__":
    run_module(DEFINITION)
