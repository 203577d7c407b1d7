#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_vm_backup
short_description: Back up or snapshot a Harvester VM (VirtualMachineBackup)
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates a backup of a VM, whose volumes Harvester copies to its backup target (the C(backup-target) setting, for
    example an NFS export), or a snapshot, kept inside the cluster as Longhorn snapshots. Waits until Harvester
    reports it ready to use, and fails with Harvester's message when the backup fails.
  - With O(state=absent), deletes it and waits until Harvester has removed its data from the backup target.
  - With O(keep), once the backup is ready, deletes the VM's older backups of the same type and O(labels) beyond the
    O(keep) newest ready ones (retention), and returns them in RV(expired).
  - A backup never changes. When one of that name exists for another VM or of the other type, the task fails
    naming the option (backups and snapshots share their names). Only its labels can be changed.
  - A backup needs a backup target. When the C(backup-target) setting is not set, the task fails before sending
    anything and says so.
  - Check mode sends the create or delete with C(dryRun=All), so Harvester's webhook judges it and nothing is
    stored.
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
  - homelab.harvester.namespace
  - homelab.harvester.labels
attributes:
  diff_mode:
    details: The diff shows the VM, the type and the labels given.
options:
  name:
    description:
      - Name of the backup, a DNS-1123 subdomain. Unique among the backups and snapshots of the namespace.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the VM, where the backup lives too.
  vm:
    description:
      - Name of the VM to back up. Required with O(state=present).
      - With O(state=absent), when given, the backup is only deleted if it is of this VM.
    type: str
  type:
    description:
      - V(backup) copies the volumes to the backup target; V(snapshot) keeps Longhorn snapshots in the cluster and
        needs no backup target.
      - When not given, V(backup). With O(state=absent), when given, the backup is only deleted if it is of this
        type.
    type: str
    choices: [backup, snapshot]
  labels:
    description:
      - Labels of the backup (a value of V(null) removes that label). Other labels are left alone.
      - Put the same labels on every backup a playbook makes, so that O(keep) (or
        M(homelab.harvester.harvester_vm_backup_info)) finds them to keep only the newest.
  state:
    description:
      - V(present) creates the backup (only its labels can change later), V(absent) deletes it.
  keep:
    description:
      - Retention. After the backup is ready, delete the backups of the same VM and type that carry every label of
        O(labels), beyond the O(keep) newest ready ones (older failed ones too; one still in progress is never
        deleted). Other backups of the VM are never touched. Needs O(labels), and only with O(state=present).
      - Nothing is deleted when the backup fails (the task fails first).
      - With O(wait=false) the new backup is not ready yet, so it does not count; a later run counts it.
      - In check mode the new backup counts as ready (as the real run would see it after its wait), so RV(expired)
        lists the backups the real run deletes; the deletes are sent with C(dryRun=All).
    type: int
  wait:
    description:
      - With O(state=present), wait until the backup is ready to use (C(status.readyToUse)). Fails at once with
        Harvester's message (C(status.error.message)) when the backup fails.
      - With O(state=absent), wait until the backup is gone, which takes its data off the backup target.
      - Not done in check mode.
  wait_timeout:
    default: 1800
notes:
  - Input is checked before any request. Nothing is sent when a check fails.
  - Harvester refuses to change the C(backup-target) setting while any backup is not ready, and to delete a backup
    while a restore of it runs.
seealso:
  - module: homelab.harvester.harvester_vm_backup_info
  - module: homelab.harvester.harvester_vm_restore
  - module: homelab.harvester.harvester_setting
  - name: Harvester VM backup, snapshot and restore
    description: Harvester documentation on VM backups.
    link: https://docs.harvesterhci.io/v1.8/vm/backup-restore
"""

EXAMPLES = r"""
- name: Back up lab-router to the NFS backup target
  homelab.harvester.harvester_vm_backup:
    name: lab-router-nightly
    vm: lab-router
    labels:
      homelab.harvester/backup: nightly
  register: router_backup

- name: Show where it went
  ansible.builtin.debug:
    msg: "{{ router_backup.backup.status.backupTarget.endpoint }}"

- name: Snapshot lab-dns before a change (no backup target needed)
  homelab.harvester.harvester_vm_backup:
    name: lab-dns-before-upgrade
    vm: lab-dns
    type: snapshot

- name: Back up lab-router and keep its seven newest nightly backups
  homelab.harvester.harvester_vm_backup:
    name: "lab-router-{{ now(utc=true, fmt='%Y%m%d-%H%M%S') }}"
    vm: lab-router
    labels:
      homelab.harvester/backup: nightly
    keep: 7
  register: nightly

- name: Show what retention deleted
  ansible.builtin.debug:
    msg: "{{ nightly.expired | map(attribute='name') }}"

- name: Delete an old backup (only if it is of lab-router)
  homelab.harvester.harvester_vm_backup:
    name: lab-router-nightly
    vm: lab-router
    state: absent
"""

RETURN = r"""
backup:
  description:
    - The VirtualMachineBackup as last read, with the status Harvester set once O(wait) is done (what it recorded of
      the VM in C(status.source), the volumes in C(status.volumeBackups), the target in C(status.backupTarget)).
    - In check mode, the server's dry-run answer for a new backup.
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: harvesterhci.io/v1beta1
    kind: VirtualMachineBackup
    metadata:
      name: lab-router-nightly
      namespace: default
      labels: {homelab.harvester/backup: nightly}
    spec:
      type: backup
      source: {apiGroup: kubevirt.io, kind: VirtualMachine, name: lab-router}
    status:
      readyToUse: true
      progress: 100
      backupTarget: {endpoint: "nfs://10.10.10.20:/volume1/harvester-backups"}
      conditions:
        - {type: InProgress, status: "False", message: Operation complete}
        - {type: Ready, status: "True", message: Operation complete}
ready_to_use:
  description: Whether Harvester reports the backup ready to use (false in check mode and with O(wait=false)).
  returned: when O(state=present)
  type: bool
  sample: true
expired:
  description:
    - With O(keep), the backups retention deleted (in check mode, would delete), newest first, in the shape of
      M(homelab.harvester.harvester_vm_backup_info)'s RV(homelab.harvester.harvester_vm_backup_info#module:backups).
  returned: when O(keep) is set
  type: list
  elements: dict
  sample:
    - {name: lab-router-20260101-020000, namespace: default, vm: lab-router, type: backup, state: ready}
diff:
  description: The VM, type and labels before and after. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {}
    after:
      metadata: {labels: {homelab.harvester/backup: nightly}}
      spec: {source: {name: lab-router}, type: backup}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import vm_backup
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import LABELS_ARGS, NAMESPACE_ARGS, STATE_ARGS, wait_args

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    **STATE_ARGS,
    **wait_args(1800),
    **NAMESPACE_ARGS,
    **LABELS_ARGS,
    **vm_backup.SERIES_ARGS,
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, vm_backup.task)


if __name__ == "__main__":
    run_module(DEFINITION)
