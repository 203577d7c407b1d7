#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_upgrade
short_description: Upgrade Harvester to a version, with Harvester's pre-flight first and the progress followed
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Upgrades the Harvester cluster the way its UI does, by creating an C(Upgrade) in C(harvester-system) with
    C(generateName) C(hvst-upgrade-) for a Version (O(version)) or an uploaded ISO image (O(image)), then follows
    it, phase by phase and node by node, until it has succeeded or failed.
  - Nothing is written when the cluster already runs O(version) (its C(server-version) setting). An upgrade to the
    same version or image that is already under way is followed, never started twice.
  - Before any write, the module checks what Harvester's webhook would refuse, all at once, and fails naming every
    blocker. Another upgrade in progress, an upgrade waiting for its post-upgrade cleanup, a node that is not
    Ready, cordoned or in maintenance mode, a degraded Longhorn volume, a single-replica volume and a
    VirtualMachineBackup in progress all block. So do a missing Version without O(iso_url), a downgrade, and a
    Version whose C(minUpgradableVersion) is above the running version.
  - With O(iso_url), a missing Version is created first (C(isoURL), C(isoChecksum), C(releaseDate)). An existing
    Version is never changed; one that differs from the options is a blocker.
  - A failed upgrade fails the task with the message of the condition that failed (C(ImageReady), C(RepoReady),
    C(SystemServicesUpgraded), C(NodesUpgraded) or C(Completed)), and the failing node.
  - A module cannot stream its output. The progress is returned as RV(progress), the list of phases and node states
    seen, with the time each was seen, for the playbook to print.
  - Check mode runs the pre-flight and sends the Version and Upgrade creates with C(dryRun=All), so Harvester's
    webhook judges them and nothing is stored. Without a Version to build on, only the Version's create is sent.
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
attributes:
  check_mode:
    details: Check mode reports what would block the upgrade by failing with every blocker, like a real run.
  diff_mode:
    details: The diff shows the server version before and after (or, with O(state=absent), the Upgrades deleted).
options:
  version:
    description:
      - The Harvester version to upgrade to, the name of a Version in C(harvester-system) such as C(v1.8.3).
      - Harvester creates Versions itself when C(upgrade-checker-enabled) is on; otherwise give O(iso_url).
      - Exactly one of O(version) and O(image).
    type: str
  image:
    description:
      - C(<namespace>/<name>) of a VirtualMachineImage that holds the Harvester ISO (uploaded or downloaded), for an
        upgrade without a Version, for example air-gapped.
      - The version it brings is only known once Harvester has read the ISO. The task is unchanged when the latest
        upgrade from this image succeeded.
      - Exactly one of O(version) and O(image).
    type: str
  iso_url:
    description:
      - The http(s) URL of the ISO of O(version), to create the Version when it is missing.
      - Only with O(version).
    type: str
  iso_checksum:
    description:
      - The SHA-512 of the ISO (128 hexadecimal digits, as C(sha512sum) prints; upper case is lowered), stored as the
        Version's C(isoChecksum). Longhorn checks the download against it.
      - Only with O(iso_url).
    type: str
  release_date:
    description:
      - The release date stored in the created Version (C(releaseDate), such as C(20260806)).
      - Only with O(iso_url).
    type: str
  log_enabled:
    description:
      - Let Harvester collect the upgrade's logs (C(spec.logEnabled)). With V(false), its C(LogReady) condition is
        C(False), reason C(Disabled).
    type: bool
    default: true
  state:
    description:
      - V(present) starts the upgrade, or follows the one under way, and waits for its end.
      - V(absent) deletes the Upgrades of O(version) or O(image), finished ones or a running one. Harvester then
        cleans up (repo, upgrade image). It refuses while nodes are being upgraded.
  wait:
    description:
      - With O(state=present), follow the upgrade until it has succeeded or failed. Without it, the task ends once
        the Upgrade is created.
      - With O(state=absent), wait until the Upgrades are gone.
      - Not done in check mode.
  wait_timeout:
    description:
      - Seconds to wait for O(wait). An upgrade of a three-node cluster takes about an hour.
    default: 7200
notes:
  - Input is checked before any request. Nothing is sent when a check fails.
  - The pre-flight does not cover Harvester's checks the Kubernetes API cannot show, such as the disk space of
    each node, the expiry of the RKE2 certificates and the Rancher provisioning objects. Harvester's webhook still
    runs them when the Upgrade is created, and its refusal fails the task.
  - The post-upgrade cleanup runs after the upgrade has succeeded or failed. RV(cleanup) shows where it was when
    the task ended. Until it is C(Succeeded), Harvester refuses the next upgrade.
seealso:
  - name: Harvester upgrades
    description: Harvester documentation on upgrading a cluster.
    link: https://docs.harvesterhci.io/v1.8/upgrade/automatic
  - name: Upgrade troubleshooting
    description: The phases of an upgrade and what to look at when one fails.
    link: https://docs.harvesterhci.io/v1.8/upgrade/troubleshooting
"""

EXAMPLES = r"""
- name: Upgrade to v1.8.3, creating its Version from the ISO on the NAS
  homelab.harvester.harvester_upgrade:
    version: v1.8.3
    iso_url: http://10.10.10.20/isos/harvester-v1.8.3-amd64.iso
    iso_checksum: "{{ harvester_v183_sha512 }}"
  register: upgraded

- name: Print what happened, phase by phase and node by node
  ansible.builtin.debug:
    msg: "{{ item.time }} {{ item.node | default('cluster') }}: {{ item.state }}"
  loop: "{{ upgraded.progress }}"

- name: What would block an upgrade to v1.8.3 (check mode writes nothing)
  homelab.harvester.harvester_upgrade:
    version: v1.8.3
  check_mode: true
  register: preflight
  ignore_errors: true

- name: Show the blockers
  ansible.builtin.debug:
    var: preflight.blockers
  when: preflight is failed

- name: Upgrade from an uploaded ISO without waiting
  homelab.harvester.harvester_upgrade:
    image: harvester-public/harvester-v1-8-3-iso
    wait: false

- name: Delete (and so cancel) an upgrade that is stuck downloading its ISO
  homelab.harvester.harvester_upgrade:
    version: v1.8.3
    state: absent
"""

RETURN = r"""
upgrade:
  description:
    - The Upgrade as last seen (in check mode, the server's dry-run answer; without a Version to build on, the object
      that would be created). C(null) when the cluster already ran O(version) and no Upgrade to it exists.
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: harvesterhci.io/v1beta1
    kind: Upgrade
    metadata:
      name: hvst-upgrade-7xk2p
      namespace: harvester-system
      labels: {harvesterhci.io/upgradeState: Succeeded, harvesterhci.io/latestUpgrade: "true", harvesterhci.io/upgradeCleanup: Pending}
    spec: {version: v1.8.3, logEnabled: true}
    status:
      previousVersion: v1.8.2
      imageID: harvester-system/hvst-upgrade-7xk2p
      nodeStatuses: {ms02-1: {state: Succeeded}, ms02-2: {state: Succeeded}, ms02-3: {state: Succeeded}}
      conditions:
        - {type: Completed, status: "True"}
name:
  description: Name of the Upgrade (empty when there was none, and in check mode without a Version to build on).
  returned: when O(state=present)
  type: str
  sample: hvst-upgrade-7xk2p
state:
  description:
    - The Upgrade's C(harvesterhci.io/upgradeState) label as last seen, C(Succeeded) at the end of a successful run.
    - Empty when there was no Upgrade, and in check mode.
  returned: when O(state=present)
  type: str
  sample: Succeeded
version:
  description: The version upgraded to (O(version), or the release the repo of O(image) named).
  returned: when O(state=present)
  type: str
  sample: v1.8.3
previous_version:
  description: The version the cluster ran when the Upgrade started (C(status.previousVersion)).
  returned: when O(state=present)
  type: str
  sample: v1.8.2
server_version:
  description: The C(server-version) setting when the task ended (before the run in check mode and without O(wait)).
  returned: when O(state=present)
  type: str
  sample: v1.8.3
node_statuses:
  description: The state of each node in the Upgrade (C(status.nodeStatuses)), with the reason and message of a failure.
  returned: when O(state=present)
  type: dict
  sample:
    ms02-1: {state: Succeeded, reason: "", message: ""}
    ms02-2: {state: Failed, reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}
progress:
  description:
    - Every phase (state label) and node state seen while the module followed the upgrade, in order, with the time
      (UTC) the module saw it. The module watches the Upgrade in windows of a few seconds, so no state is missed and
      a time is at most that late.
    - Also returned, with what was seen, when the upgrade fails or the wait times out.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    time:
      description: When the module saw the transition, C(YYYY-MM-DDTHH:MM:SSZ).
      type: str
    msg:
      description: The transition in words, as printed while the task runs in the worker (a local connection).
      type: str
    state:
      description: The new phase, or (with C(node)) the node's new state.
      type: str
    node:
      description: The node, for a node state.
      type: str
    reason:
      description: The node state's reason, when Harvester gave one.
      type: str
    message:
      description: The node state's message, when Harvester gave one.
      type: str
  sample:
    - {time: "2026-11-20T10:00:01Z", state: PreparingLoggingInfra}
    - {time: "2026-11-20T10:01:12Z", state: PreparingNodes}
    - {time: "2026-11-20T10:01:12Z", node: ms02-1, state: Images preloading}
    - {time: "2026-11-20T10:20:40Z", node: ms02-1, state: Pre-draining}
    - {time: "2026-11-20T11:02:09Z", state: Succeeded}
cleanup:
  description: The Upgrade's C(harvesterhci.io/upgradeCleanup) label (C(Pending) or C(Succeeded)) when the task ended.
  returned: when O(state=present)
  type: str
  sample: Pending
version_created:
  description: Whether the module created (in check mode, would create) the Version.
  returned: when O(state=present)
  type: bool
  sample: true
blockers:
  description:
    - Every reason Harvester would refuse the upgrade, found by the pre-flight. The task fails when there is any;
      empty otherwise.
  returned: when O(state=present)
  type: list
  elements: str
  sample:
    - node ms02-2 is cordoned (unschedulable)
    - Longhorn volume pvc-0b6f1d2c (PVC default/lab-router-disk-0) is degraded
deleted:
  description: The Upgrades deleted (in check mode, that would be deleted).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [hvst-upgrade-7xk2p]
diff:
  description: The server version before and after, or the Upgrades deleted. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {server_version: v1.8.2}
    after: {server_version: v1.8.3}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import upgrade
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import STATE_ARGS, wait_args

ARGUMENT_SPEC = {
    "version": {"type": "str"},
    "image": {"type": "str"},
    "iso_url": {"type": "str"},
    "iso_checksum": {"type": "str"},
    "release_date": {"type": "str"},
    "log_enabled": {"type": "bool", "default": True},
    **STATE_ARGS,
    **wait_args(7200),
}
MUTUALLY_EXCLUSIVE = [["version", "image"]]
REQUIRED_ONE_OF = [["version", "image"]]


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, upgrade.task, mutually_exclusive=MUTUALLY_EXCLUSIVE, required_one_of=REQUIRED_ONE_OF)


if __name__ == "__main__":
    run_module(DEFINITION)
