#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_node
short_description: Put a Harvester node into maintenance mode and take it out again, or cordon it
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Enters or leaves Harvester's maintenance mode on one node (O(maintenance)), or only cordons or uncordons it
    (O(cordon)), the way Harvester does it, and waits until the node is there.
  - Entering maintenance, Harvester's node-drain controller stops the VMs labelled with a shutdown
    C(harvesterhci.io/maintain-mode-strategy), cordons the node and live-migrates every other VM to another
    node; the node then shows C(harvesterhci.io/maintain-status) C(running), then C(completed) once no VM is
    left. The module waits for C(completed) and returns the VMs that left the node (RV(migrated_vms),
    RV(stopped_vms)).
  - Before any write it refuses, with the reason, when another control-plane node is already in maintenance
    mode (or asked for it), when Harvester's rule of exactly three control-plane/etcd nodes out of maintenance
    does not hold, when the node is the last available one (Harvester's node webhook would refuse it), and when
    a Longhorn volume with a replica on the node has no healthy replica on another node (the volume is named).
    With the Harvester API it also asks Harvester's own checks, C(maintenancePossible) and C(listUnhealthyVM);
    VMs that cannot be live-migrated (a CD-ROM or container disk, a non-shared volume, the last healthy replica
    of a volume on this node, placement rules no other node meets) refuse the task unless O(force=true).
  - Harvester drops an impossible maintenance request silently; its controller only removes the request
    annotation again. The module sees the request disappear without C(maintain-status) and fails with that
    reason.
  - Leaving maintenance makes the node schedulable again, removes the C(kubevirt.io/drain) taint and the
    maintenance annotations, starts the VMs labelled C(ShutdownAndRestartAfterDisable) that the maintenance
    stopped, and waits until Longhorn has rebuilt every attached volume with a replica on the node to
    C(healthy) (a timeout names the volumes still degraded).
  - Nothing is written when the node already is as asked (in maintenance, out of it, cordoned, uncordoned).
    A maintenance already on its way (requested or C(running)) is not asked for again; the module only waits.
extends_documentation_fragment:
  - homelab.harvester.api
  - homelab.harvester.wait
attributes:
  check_mode:
    details:
      - With O(method=annotation) the writes are sent as dry runs (C(dryRun=All)).
      - The Harvester API's actions have no dry run, so with O(method=steve) the module runs every check
        (Harvester's C(maintenancePossible) and C(listUnhealthyVM) included, which only read) and predicts the
        result without sending the action.
  diff_mode:
    details: The diff shows the node's maintenance status and schedulability before and after.
options:
  name:
    description:
      - The node, by its Kubernetes node name.
      - The task fails when the node does not exist.
    type: str
    required: true
  maintenance:
    description:
      - V(true) enters maintenance mode and waits for C(completed); V(false) leaves it and waits for Longhorn to
        rebuild the node's volumes.
      - A node that is only cordoned (not in maintenance) counts as out of maintenance; use O(cordon=false).
      - Exactly one of O(maintenance) and O(cordon) is required.
    type: bool
  cordon:
    description:
      - V(true) cordons the node (C(spec.unschedulable)), V(false) uncordons it, without maintenance mode and
        without moving any VM.
      - Uncordoning a node in maintenance mode is refused; use O(maintenance=false).
    type: bool
  force:
    description:
      - Only with O(maintenance=true). Lets Harvester shut down the VMs that cannot be live-migrated instead of
        refusing (Harvester's "force" in its maintenance dialog). They are not started again.
    type: bool
    default: false
  method:
    description:
      - How to ask Harvester.
      - V(steve) uses the Harvester API actions (C(POST /v1/harvester/nodes/<name>?action=...)), with Harvester's
        own checks before entering maintenance.
      - V(annotation) uses only the Kubernetes API, the way the actions do it underneath (the
        C(harvesterhci.io/drain-requested) annotation; C(spec.unschedulable) for O(cordon)). Harvester's VM checks
        then happen in its controller only, so a VM that cannot be migrated shows as a dropped request.
        Leaving maintenance this way, the module starts the C(ShutdownAndRestartAfterDisable) VMs itself.
      - V(auto) uses V(steve) when the Harvester API answers, else V(annotation).
      - The Harvester API is looked for under the same server URL as the Kubernetes API, path included, which
        is where it is for the kubeconfig of the Harvester UI (C(https://<VIP>/k8s/clusters/local)) and for a
        Rancher-proxied cluster (C(https://<rancher>/k8s/clusters/<id>)). An RKE2 kubeconfig pointing at
        kube-apiserver (C(https://<VIP>:6443)) has no Harvester API behind it.
    type: str
    choices: [auto, steve, annotation]
    default: auto
  wait:
    description:
      - Wait until the node is in maintenance mode (C(completed)), or, leaving it, until Longhorn has rebuilt
        the node's volumes.
      - With V(false) the module returns right after the request.
  wait_timeout:
    description:
      - Seconds for the whole task, waits included. A timeout fails the task with the last state seen.
    default: 900
notes:
  - Only one control-plane node may be in maintenance mode at a time. A rolling maintenance runs this module
    with O(maintenance=true), does its work, then O(maintenance=false) before the next node (C(serial=1)).
  - VMs labelled C(harvesterhci.io/maintain-mode-strategy) (on the VM and its template, so the VMI carries it)
    with C(ShutdownAndRestartAfterEnable), C(ShutdownAndRestartAfterDisable) or C(Shutdown) are stopped instead
    of migrated; the first are started again on another node once the node is in maintenance, the second when
    it leaves maintenance.
seealso:
  - module: homelab.harvester.harvester_node_info
  - name: Harvester host management
    description: Harvester documentation on maintenance mode.
    link: https://docs.harvesterhci.io/v1.8/host/
"""

EXAMPLES = r"""
- name: Enter maintenance mode (VMs live-migrate away)
  homelab.harvester.harvester_node:
    name: ms02-1
    maintenance: true
  register: maintenance

- name: Show where the VMs went
  ansible.builtin.debug:
    var: maintenance.migrated_vms

- name: Leave maintenance mode and wait for Longhorn to be healthy again
  homelab.harvester.harvester_node:
    name: ms02-1
    maintenance: false
    wait_timeout: 1800

- name: Only cordon a node, through the Kubernetes API
  homelab.harvester.harvester_node:
    name: ms02-2
    cordon: true
    method: annotation

- name: Uncordon it again
  homelab.harvester.harvester_node:
    name: ms02-2
    cordon: false
"""

RETURN = r"""
node:
  description:
    - The node after the task, as M(homelab.harvester.harvester_node_info) returns one entry of its C(nodes)
      (roles, readiness, schedulability, maintenance, bonds, Longhorn node, problems).
    - In check mode, the node as it is (not as predicted).
  returned: always
  type: dict
  sample: {name: ms02-1, ready: true, schedulable: false, maintenance: completed, healthy: false}
maintenance:
  description:
    - The maintenance status after the task (predicted in check mode), C(running), C(completed), C(requested) (the
      request is set, Harvester has not started yet) or null (not in maintenance).
  returned: always
  type: str
  sample: completed
method:
  description: How Harvester was asked, V(steve) or V(annotation); null when nothing had to be asked.
  returned: always
  type: str
  sample: steve
migrated_vms:
  description: The VMs that left the node by live migration while it entered maintenance mode, sorted.
  returned: always
  type: list
  elements: dict
  sample: [{namespace: default, name: lab-router, from_node: ms02-1, to_node: ms02-3}]
  contains:
    namespace:
      description: Namespace of the VM.
      type: str
    name:
      description: Name of the VM (and of its VirtualMachineInstance).
      type: str
    from_node:
      description: The node put into maintenance.
      type: str
    to_node:
      description: The node the VM runs on now.
      type: str
stopped_vms:
  description:
    - The VMs that left the node by being shut down (maintain-mode strategy, or O(force)), as C(namespace/name).
  returned: always
  type: list
  elements: str
  sample: [default/lab-builder]
restarted_vms:
  description: Leaving maintenance, the C(ShutdownAndRestartAfterDisable) VMs started again, as C(namespace/name).
  returned: always
  type: list
  elements: str
  sample: []
non_migratable:
  description:
    - With O(force=true) and the Harvester API, Harvester's C(listUnhealthyVM) answer, the VMs it shuts down
      because they cannot be migrated, one entry per reason.
  returned: always
  type: list
  elements: dict
  sample: [{message: "The following VMs cannot be migrated due to CDRomOrContainerDiskPresent condition", vms: [default/lab-cd]}]
volumes:
  description:
    - Leaving maintenance, each Longhorn volume with a replica on the node and its state once waited for,
      C(healthy), or C(detached) (a detached volume is rebuilt when it is attached again).
  returned: always
  type: dict
  sample: {pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10: healthy}
waited:
  description: What the module waited for, in order, with the seconds since the task started.
  returned: always
  type: list
  elements: dict
  sample: [{what: maintain-status running, seconds: 2.1}, {what: maintain-status completed, seconds: 2.4}]
"""

from ansible_collections.homelab.harvester.plugins.module_utils import node_maintenance
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import wait_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "maintenance": {"type": "bool"},
    "cordon": {"type": "bool"},
    "force": {"type": "bool", "default": False},
    "method": {"type": "str", "choices": list(node_maintenance.METHODS), "default": "auto"},
    **wait_args(900),
}
MUTUALLY_EXCLUSIVE = [["maintenance", "cordon"]]
REQUIRED_ONE_OF = [["maintenance", "cordon"]]


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, node_maintenance.task, mutually_exclusive=MUTUALLY_EXCLUSIVE, required_one_of=REQUIRED_ONE_OF)


if __name__ == "__main__":
    run_module(DEFINITION)
