#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: longhorn_setting
short_description: Set one or many Longhorn settings of a Harvester cluster
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Sets the C(value) of Longhorn 1.12 settings (C(settings.longhorn.io) in C(longhorn-system)), one with O(name)
    and O(value), or many in one task with O(settings).
  - Values are given naturally (an integer, a boolean, a string, or a mapping of data engine to value for the
    settings Longhorn keeps per data engine) and normalised the way Longhorn's mutating webhook does before they
    are compared or written, so V(2), V("2") and a stored C({"v1":"2","v2":"2"}) are one value and never a
    change.
  - Settings are never created or deleted (Longhorn creates every one); only C(value) is changed, with one merge
    patch per differing setting.
  - Unknown names are refused with the closest known names; names that no longer exist say what replaced them;
    settings Harvester writes from one of its own settings (C(storage-network), C(storage-over-provisioning-percentage),
    C(guaranteed-instance-manager-cpu), C(v2-data-engine), C(backup-target), ...) are refused with the Harvester
    setting to use instead (see M(homelab.harvester.harvester_setting)).
  - Names, the type of each value and the per-engine form are checked before any request. Longhorn's webhooks
    judge the values; every change is first sent with C(dryRun=All), and when Longhorn refuses any setting of
    the task none is written and the task fails with every refusal, each naming its setting.
extends_documentation_fragment:
  - homelab.harvester.api
attributes:
  check_mode:
    details: The patches are sent with C(dryRun=All), so Longhorn's webhooks judge them and nothing is stored.
  diff_mode:
    details: The diff shows the normalised values of the changed settings only; per-engine values parsed.
options:
  name:
    description:
      - Name of one Longhorn setting, for example C(default-replica-count). Use O(settings) for several.
    type: str
  value:
    description:
      - The value of O(name). An integer, a boolean, a string, or for a per-data-engine setting either one value
        for every engine or a mapping naming every engine it supports, for example C({"v1":2,"v2":2}).
    type: raw
  settings:
    description:
      - Several settings at once, name -> value (values as for O(value)); one task, one process.
    type: dict
  wait_applied:
    description:
      - Wait until Longhorn reports each changed setting applied (C(status.applied)).
      - The danger-zone settings (C(taint-toleration), C(system-managed-components-node-selector),
        C(priority-class); C(endpoint-network-for-rwx-volume) for RWX volumes) are applied only once all volumes
        are detached, in Harvester once the VMs using them are stopped. While volumes are attached, the change is
        stored and reported as pending (RV(pending) and a warning), not as a failure.
      - Not done in check mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each setting with O(wait_applied).
    type: int
    default: 120
notes:
  - O(name) and O(settings) are mutually exclusive; one of them is required.
  - Settings Harvester lists in its C(longhorn-default-setting) ConfigMap are accepted with a warning, as Longhorn
    writes the ConfigMap's value back when its manager restarts or Harvester is upgraded.
seealso:
  - name: Longhorn settings reference
    description: Every Longhorn 1.12 setting, its type and default.
    link: https://longhorn.io/docs/1.12.0/references/settings/
  - module: homelab.harvester.harvester_setting
"""

EXAMPLES = r"""
- name: Two replicas for new volumes, on every data engine
  homelab.harvester.longhorn_setting:
    name: default-replica-count
    value: 2

- name: Several settings in one task
  homelab.harvester.longhorn_setting:
    settings:
      default-replica-count:
        v1: 2
        v2: 2
      replica-auto-balance: best-effort
      storage-minimal-available-percentage: 15
      upgrade-checker: false

- name: A danger-zone setting (pending until the VMs are stopped)
  homelab.harvester.longhorn_setting:
    name: taint-toleration
    value: "nodetype=storage:NoSchedule"
  register: toleration

- name: Say when it applies
  ansible.builtin.debug:
    msg: "{{ toleration.pending }}"
  when: toleration.pending
"""

RETURN = r"""
settings:
  description:
    - Per setting named in the task, the setting after the task (in check mode, the server's dry-run answer).
    - C(value) is the stored string (per-engine settings as Longhorn stores them, C({"v1":"2","v2":"2"})),
      C(applied) Longhorn's C(status.applied), C(changed) whether this task changed it.
  returned: always
  type: dict
  sample:
    default-replica-count: {value: '{"v1":"2","v2":"2"}', applied: true, changed: true}
changed_settings:
  description: Names of the settings this task changed (or would change, in check mode), in task order.
  returned: always
  type: list
  elements: str
  sample: [default-replica-count]
pending:
  description:
    - Changed settings Longhorn has accepted but not applied yet, name -> why (danger-zone settings while
      volumes are attached). Empty when everything is applied, and in check mode or without O(wait_applied).
  returned: always
  type: dict
  sample:
    taint-toleration: "pending until all Longhorn volumes are detached (in Harvester: until the VMs using them are stopped); attached now: pvc-1"
diff:
  description: The normalised values of the changed settings before and after. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {default-replica-count: {v1: "3", v2: "3"}}
    after: {default-replica-count: {v1: "2", v2: "2"}}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import setting_objects as so
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "value": {"type": "raw"},
    "settings": {"type": "dict"},
    "wait_applied": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 120},
}


DEFINITION = ModuleDefinition(
    ARGUMENT_SPEC, so.longhorn_task,
    mutually_exclusive=[("name", "settings"), ("value", "settings")], required_one_of=[("name", "settings")])


if __name__ == "__main__":
    run_module(DEFINITION)
