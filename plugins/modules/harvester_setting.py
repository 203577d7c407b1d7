#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_setting
short_description: Set one or many Harvester settings
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Sets the C(value) of Harvester settings (C(settings.harvesterhci.io), cluster-scoped), one with O(name) and
    O(value), or many in one task with O(settings).
  - Settings are never created or deleted (Harvester creates every one at start); only C(value) is changed, with
    one merge patch per differing setting. O(state=absent) empties C(value), so Harvester uses the setting's
    C(default) again.
  - Values are compared the way Harvester reads them, not as raw strings. JSON settings are compared parsed; for
    settings Harvester decodes into a structure a missing member equals its zero value; the S3 keys Harvester
    moves out of C(backup-target) (and the registry credentials of C(containerd-registry)) into a Secret never
    count as a difference, so a second run is unchanged although the stored value has them blanked.
  - Secrets (S3 keys, registry passwords, the TLS private key, a proxy password) are masked in the diff, the
    return values and any message.
  - Names, read-only settings and the shape of each value are checked before any request. Harvester's setting
    webhook judges the values; every change is first sent with C(dryRun=All), and when Harvester refuses any
    setting of the task none is written and the task fails with every refusal, each naming its setting.
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
attributes:
  check_mode:
    details: The patches are sent with C(dryRun=All), so Harvester's webhook judges them and nothing is stored.
  diff_mode:
    details: The diff shows the values of the changed settings only, JSON parsed and secrets masked.
options:
  name:
    description:
      - Name of one setting, for example C(overcommit-config). Use O(settings) for several.
      - Unknown names are refused with the closest known names; settings Harvester writes itself
        (C(server-version), C(upgradable-versions), ...) are refused.
    type: str
  value:
    description:
      - The value of O(name) with O(state=present).
      - A string is stored as it is. A mapping or a list is stored as JSON with sorted keys and no spaces, so the
        stored text does not depend on the order of the inventory's keys. A boolean becomes C(true)/C(false), a
        number its decimal text.
      - An empty string resets the setting to its default, like O(state=absent).
    type: raw
  settings:
    description:
      - Several settings at once, name -> value (values as for O(value)); one task, one process, one request per
        setting read and one per setting changed.
      - With O(state=absent) only the names are used; give them with null values.
    type: dict
  state:
    description:
      - V(present) sets the value(s), V(absent) resets them to their default (an empty C(value)).
  wait:
    description:
      - Wait until Harvester has configured each changed setting that a Harvester controller acts on (its
        C(configured) condition and its hash annotation; for C(backup-target), until the S3 keys are in their
        Secret; for C(storage-network), until the network change is C(Completed)).
      - A controller error fails the task with Harvester's message.
      - Not done in check mode.
  wait_timeout:
    description:
      - Seconds to wait for each setting with O(wait).
    default: 120
notes:
  - O(name) and O(settings) are mutually exclusive; one of them is required.
  - Harvester refuses a C(storage-network) change while VMs run; the module fails with the webhook's message.
    M(homelab.harvester.harvester_storage_network) owns that change, stopping and starting the VMs when allowed.
  - A change of only the S3 keys of C(backup-target) is not seen (Harvester does not keep them in the setting);
    change them together with another field, or reset and set the setting again.
seealso:
  - name: Harvester settings
    description: Harvester documentation on its settings.
    link: https://docs.harvesterhci.io/v1.8/advanced/index
  - module: homelab.harvester.longhorn_setting
  - module: homelab.harvester.harvester_storage_network
"""

EXAMPLES = r"""
- name: Overcommit and the log level in one task
  homelab.harvester.harvester_setting:
    settings:
      overcommit-config:
        cpu: 1600
        memory: 150
        storage: 200
      log-level: debug

- name: Backups to S3 (the keys end up in a Secret; a second run is unchanged)
  homelab.harvester.harvester_setting:
    name: backup-target
    value:
      type: s3
      endpoint: https://s3.lab.example:9000
      bucketName: harvester-backups
      bucketRegion: us-east-1
      accessKeyId: "{{ vault_s3_access_key }}"
      secretAccessKey: "{{ vault_s3_secret_key }}"

- name: One plain setting
  homelab.harvester.harvester_setting:
    name: upgrade-checker-enabled
    value: "false"

- name: Back to the defaults
  homelab.harvester.harvester_setting:
    settings:
      log-level:
      overcommit-config:
    state: absent
"""

RETURN = r"""
settings:
  description:
    - Per setting named in the task, the setting after the task (in check mode, the server's dry-run answer).
    - C(value) is the stored string, secrets masked; C(default) Harvester's default; C(configured) the status of
      the C(configured) condition (null when Harvester reports none); C(changed) whether this task changed it.
  returned: always
  type: dict
  sample:
    log-level: {value: debug, default: info, configured: "True", changed: true}
    backup-target:
      value: '{"accessKeyId":"","bucketName":"harvester-backups","secretAccessKey":"","type":"s3"}'
      default: ""
      configured: "True"
      changed: false
changed_settings:
  description: Names of the settings this task changed (or would change, in check mode), in task order.
  returned: always
  type: list
  elements: str
  sample: [log-level]
diff:
  description: The values of the changed settings before and after, JSON parsed, secrets masked. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {log-level: info, overcommit-config: {cpu: 1000, memory: 150, storage: 100}}
    after: {log-level: debug, overcommit-config: {cpu: 1600, memory: 150, storage: 200}}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import setting_objects as so
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import STATE_ARGS, wait_args

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "value": {"type": "raw"},
    "settings": {"type": "dict"},
    **STATE_ARGS,
    **wait_args(120),
}


DEFINITION = ModuleDefinition(
    ARGUMENT_SPEC, so.harvester_task,
    mutually_exclusive=[("name", "settings"), ("value", "settings")], required_one_of=[("name", "settings")])


if __name__ == "__main__":
    run_module(DEFINITION)
