#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_vm_backup_info
short_description: List the backups and snapshots of Harvester VMs
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Returns the VirtualMachineBackups (backups and snapshots) of a namespace, or of every namespace, newest first,
    optionally only those of one VM, of one type, or with given labels.
  - With O(keep), also returns the ones a retention rule lets go, so that a playbook keeps the newest backups of
    each VM and deletes the rest with M(homelab.harvester.harvester_vm_backup) O(homelab.harvester.harvester_vm_backup#module:state=absent).
  - One list request. Never changes anything.
extends_documentation_fragment:
  - homelab.harvester.api.info_module
  - homelab.harvester.info_filters
options:
  all_namespaces:
    description:
      - List the backups of every namespace (O(namespace) is then ignored).
    type: bool
    default: false
  vm:
    description:
      - Only the backups of this VM.
    type: str
  type:
    description:
      - Only backups (V(backup)) or only snapshots (V(snapshot)).
    type: str
    choices: [backup, snapshot]
  keep:
    description:
      - Return in RV(expired), per VM, every backup older than its O(keep) newest ready ones (ready or failed; a
        backup still in progress is never listed, and a failure newer than those is kept in view).
      - V(0) lists every backup that is not in progress.
    type: int
notes:
  - Always returns C(changed=false).
  - Backups are ordered by their creation time, newest first (then by name, last first).
seealso:
  - module: homelab.harvester.harvester_vm_backup
"""

EXAMPLES = r"""
- name: The nightly backups, with those beyond the three newest of each VM
  homelab.harvester.harvester_vm_backup_info:
    label_selector: homelab.harvester/backup=nightly
    type: backup
    keep: 3
  register: nightly

- name: Delete them
  homelab.harvester.harvester_vm_backup:
    name: "{{ item.name }}"
    namespace: "{{ item.namespace }}"
    vm: "{{ item.vm }}"
    state: absent
  loop: "{{ nightly.expired }}"
  loop_control:
    label: "{{ item.name }}"

- name: The newest backup of lab-router
  ansible.builtin.debug:
    msg: "{{ nightly.by_vm['default/lab-router'] | first }}"
"""

RETURN = r"""
backups:
  description: The backups selected, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the backup.
      type: str
    namespace:
      description: Its namespace (that of the VM).
      type: str
    vm:
      description: The VM it is of.
      type: str
    type:
      description: V(backup) or V(snapshot).
      type: str
    state:
      description: V(ready), V(in_progress) or V(failed).
      type: str
    ready_to_use:
      description: Whether Harvester reports it ready to use.
      type: bool
    progress:
      description: Harvester's progress in percent (backups only; V(null) for snapshots or before it starts).
      type: int
    error:
      description: Harvester's failure message, with the volumes' own errors, or V(null).
      type: str
    created:
      description: When the backup object was created (C(metadata.creationTimestamp)).
      type: str
    ready_at:
      description: When it became ready (C(status.creationTime)), or V(null).
      type: str
    labels:
      description: Its labels.
      type: dict
    backup_target:
      description: The endpoint of the backup target it was taken to, or V(null) for a snapshot.
      type: str
  sample:
    - name: lab-router-20260102
      namespace: default
      vm: lab-router
      type: backup
      state: ready
      ready_to_use: true
      progress: 100
      error: null
      created: "2026-01-02T03:00:00Z"
      ready_at: "2026-01-02T03:04:10Z"
      labels: {homelab.harvester/backup: nightly}
      backup_target: "nfs://10.10.10.20:/volume1/harvester-backups"
by_vm:
  description: The names of the backups selected, per C(<namespace>/<vm>), newest first.
  returned: always
  type: dict
  sample:
    default/lab-router: [lab-router-20260102, lab-router-20260101]
expired:
  description: The backups O(keep) lets go, in the form of RV(backups), newest first.
  returned: when O(keep) is given
  type: list
  elements: dict
  sample:
    - {name: lab-router-20251230, namespace: default, vm: lab-router, type: backup, state: ready}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import vm_backup
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import INFO_FILTER_ARGS

ARGUMENT_SPEC = {
    **INFO_FILTER_ARGS,
    "all_namespaces": {"type": "bool", "default": False},
    **vm_backup.SERIES_ARGS,
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, vm_backup.info_task)


if __name__ == "__main__":
    run_module(DEFINITION)
