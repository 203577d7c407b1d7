#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_vm_restore
short_description: Restore a Harvester VM from a backup or snapshot (VirtualMachineRestore)
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Restores a backup or snapshot made by M(homelab.harvester.harvester_vm_backup) (or the Harvester UI), either as
    a new VM (O(new_vm=true)) or over the existing, stopped VM it names (O(new_vm=false)). Harvester creates new
    volumes from the backup, creates or rewrites the VM and starts it. Waits until Harvester reports the restore
    complete.
  - Before any write, refuses what Harvester would refuse, naming the option and saying what to do, a backup that
    is not ready, a new VM whose name is taken, a VM to replace that does not exist or still runs, and what a
    snapshot cannot do.
  - A restore is done once. Running the task again with the same name and options changes nothing; a restore of
    that name with other options fails naming the option.
  - Check mode sends the create with C(dryRun=All), so Harvester's webhook judges it and nothing is stored.
extends_documentation_fragment:
  - homelab.harvester.api
  - homelab.harvester.wait
  - homelab.harvester.namespace
attributes:
  diff_mode:
    details: The diff shows the restore's spec.
options:
  name:
    description:
      - Name of the restore (the VirtualMachineRestore), a DNS-1123 subdomain.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the restore and of the VM restored.
  backup:
    description:
      - Name of the backup or snapshot to restore.
    type: str
    required: true
  backup_namespace:
    description:
      - Namespace of the backup. When not given, O(namespace). A snapshot can only be restored in its own namespace.
    type: str
  vm:
    description:
      - The VM restored, Harvester's C(spec.target). With O(new_vm=true) a VM of this name must not exist; with
        O(new_vm=false) it is the VM replaced, which must exist and be stopped
        (M(homelab.harvester.harvester_vm_power) O(homelab.harvester.harvester_vm_power#module:state=stopped)).
    type: str
    required: true
    aliases: [target]
  new_vm:
    description:
      - V(true) creates a new VM from the backup; V(false) replaces the existing VM O(vm).
    type: bool
    default: false
  deletion_policy:
    description:
      - When replacing a VM, what happens to its old volumes once the restored VM runs, Harvester's
        C(spec.deletionPolicy). V(retain) keeps them, V(delete) deletes them.
      - Harvester deletes them when no policy is set; this module keeps them unless told otherwise.
      - A snapshot cannot replace a VM with V(delete).
    type: str
    choices: [retain, delete]
    default: retain
  keep_mac_address:
    description:
      - With O(new_vm=true), give the new VM the MAC addresses of the backed-up one (only when that VM is gone).
    type: bool
    default: false
  wait:
    description:
      - Wait until Harvester reports the restore complete (C(status.complete)), which includes the VM running.
        Fails at once with Harvester's message when it reports an error.
      - Not done in check mode.
  wait_timeout:
    default: 1800
notes:
  - Input is checked before any request. Nothing is sent when a check fails.
  - Harvester starts the restored VM, also one that was stopped to be replaced.
  - Harvester refuses to delete a restore while its VM exists; deleting the VM removes the restore.
seealso:
  - module: homelab.harvester.harvester_vm_backup
  - module: homelab.harvester.harvester_vm_power
  - name: Harvester VM backup, snapshot and restore
    description: Harvester documentation on restoring VMs.
    link: https://docs.harvesterhci.io/v1.8/vm/backup-restore
"""

EXAMPLES = r"""
- name: Restore last night's backup of lab-router as a new VM
  homelab.harvester.harvester_vm_restore:
    name: lab-router-copy
    backup: lab-router-nightly
    vm: lab-router-copy
    new_vm: true

- name: Stop lab-builder
  homelab.harvester.harvester_vm_power:
    name: lab-builder
    state: stopped

- name: Put lab-builder back to its snapshot, keeping its current volume
  homelab.harvester.harvester_vm_restore:
    name: lab-builder-rollback
    backup: lab-builder-before-upgrade
    vm: lab-builder
"""

RETURN = r"""
restore:
  description:
    - The VirtualMachineRestore as last read, with the status Harvester set once O(wait) is done (the new volumes in
      C(status.restores), the old ones deleted in C(status.deletedVolumes), the VM's UID in C(status.targetUID)).
    - In check mode, the server's dry-run answer for a new restore.
  returned: always
  type: dict
  sample:
    apiVersion: harvesterhci.io/v1beta1
    kind: VirtualMachineRestore
    metadata: {name: lab-router-copy, namespace: default}
    spec:
      target: {apiGroup: kubevirt.io, kind: VirtualMachine, name: lab-router-copy}
      virtualMachineBackupName: lab-router-nightly
      virtualMachineBackupNamespace: default
      newVM: true
      deletionPolicy: retain
      keepMacAddress: false
    status:
      complete: true
      progress: 100
      conditions:
        - {type: InProgress, status: "False", message: Operation complete}
        - {type: Ready, status: "True", message: Operation complete}
complete:
  description: Whether Harvester reports the restore complete (false in check mode and with O(wait=false)).
  returned: always
  type: bool
  sample: true
diff:
  description: The restore's spec before and after. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {}
    after:
      spec:
        target: {name: lab-router-copy}
        virtualMachineBackupName: lab-router-nightly
        virtualMachineBackupNamespace: default
        newVM: true
        deletionPolicy: retain
        keepMacAddress: false
"""

from ansible_collections.homelab.harvester.plugins.module_utils import vm_restore
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import NAMESPACE_ARGS, wait_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    **wait_args(1800),
    **NAMESPACE_ARGS,
    "backup": {"type": "str", "required": True},
    "backup_namespace": {"type": "str"},
    "vm": {"type": "str", "required": True, "aliases": ["target"]},
    "new_vm": {"type": "bool", "default": False},
    "deletion_policy": {"type": "str", "choices": ["retain", "delete"], "default": "retain"},
    "keep_mac_address": {"type": "bool", "default": False},
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, vm_restore.task)


if __name__ == "__main__":
    run_module(DEFINITION)
