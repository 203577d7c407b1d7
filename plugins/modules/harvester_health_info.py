#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_health_info
short_description: One health report of a Harvester cluster
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Reads, in one list request per kind, what an operator checks before and after maintenance or an upgrade, and
    returns it with one sentence per problem found.
  - C(nodes) - readiness, schedulability, maintenance mode, the bonds of each cluster network and their NICs, the
    Longhorn node and disks (as M(homelab.harvester.harvester_node_info) reports them).
  - C(volumes) - every Longhorn volume with its PVC, state, robustness and node. A degraded or faulted volume, or an
    attached one that is not healthy, is a problem; a detached volume's C(unknown) robustness is not.
  - C(settings) - C(server-version), C(backup-target) (secrets masked) and C(storage-network); any Harvester
    setting whose C(configured) condition is False is a problem.
  - C(images) - every VM image, imported or not, with Harvester's message once it gave up.
  - C(upgrade) - the latest Harvester upgrade and its state; one that failed or is still running is a problem.
  - C(clusters) - the Cluster API clusters (when Cluster API is installed on the cluster asked); a paused or not
    available cluster is a problem.
  - Never changes anything.
extends_documentation_fragment:
  - homelab.harvester.api.info_module
options:
  sections:
    description:
      - The parts of the report to read; the others are left out (and cost no request).
    type: list
    elements: str
    choices: [nodes, volumes, settings, images, upgrade, clusters]
    default: [nodes, volumes, settings, images, upgrade, clusters]
notes:
  - Always returns C(changed=false). The module does not fail on problems; assert on RV(healthy) or RV(problems).
seealso:
  - module: homelab.harvester.harvester_node_info
"""

EXAMPLES = r"""
- name: Read the health of the cluster
  homelab.harvester.harvester_health_info:
  register: health

- name: Stop when anything is unhealthy
  ansible.builtin.assert:
    that: health.healthy
    fail_msg: "{{ health.problems }}"

- name: Only the storage, before a node goes into maintenance
  homelab.harvester.harvester_health_info:
    sections: [volumes]
  register: storage

- name: Show the volumes that are not healthy
  ansible.builtin.debug:
    msg: "{{ storage.volumes | rejectattr('robustness', 'in', ['healthy', 'unknown']) | map(attribute='name') | list }}"
"""

RETURN = r"""
healthy:
  description: True when RV(problems) is empty.
  returned: always
  type: bool
  sample: false
problems:
  description: One sentence per problem, starting with what it is about, in section order.
  returned: always
  type: list
  elements: str
  sample:
    - "node ms02-2: NIC enp2s0f1np1 of bond mgmt-bo is down"
    - "volume pvc-0b6f (PVC default/lab-router-rootdisk) is degraded"
nodes:
  description: The nodes, as M(homelab.harvester.harvester_node_info) returns them.
  returned: when C(nodes) is in O(sections)
  type: list
  elements: dict
volumes:
  description: The Longhorn volumes, sorted by name.
  returned: when C(volumes) is in O(sections)
  type: list
  elements: dict
  contains:
    name:
      description: Longhorn volume name (the PV name).
      type: str
    pvc:
      description: C(<namespace>/<name>) of its PVC, null when Longhorn knows none.
      type: str
    state:
      description: C(attached) or C(detached) (or a transition).
      type: str
    robustness:
      description: C(healthy), C(degraded), C(faulted) or C(unknown).
      type: str
    node:
      description: The node it is attached to, null when detached.
      type: str
    replicas:
      description: The number of replicas it should have.
      type: int
    size:
      description: Size in bytes (a string, as Longhorn keeps it).
      type: str
settings:
  description:
    - The settings C(server-version), C(backup-target) and C(storage-network), by name, each with C(value) (as
      stored, secrets masked), C(default), C(effective) (the value, else the default), C(configured) (the status of
      the C(configured) condition, null when none) and C(message).
  returned: when C(settings) is in O(sections)
  type: dict
  sample:
    server-version: {name: server-version, value: v1.8.2, default: dev, effective: v1.8.2, configured: null, message: null}
images:
  description: The VM images, sorted by namespace and name.
  returned: when C(images) is in O(sections)
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the image.
      type: str
    name:
      description: Name of the image.
      type: str
    display_name:
      description: Its display name.
      type: str
    imported:
      description: Whether condition C(Imported) is True.
      type: bool
    progress:
      description: Import progress in percent.
      type: int
    failure:
      description: Harvester's message once the import can no longer succeed, else null.
      type: str
upgrade:
  description: The latest Harvester upgrade (C(name), C(version), C(state), C(previous_version), C(message)), null when none.
  returned: when C(upgrade) is in O(sections)
  type: dict
clusters:
  description:
    - The Cluster API clusters (C(namespace), C(name), C(phase), C(available), C(paused), C(message)), sorted.
    - Empty when Cluster API is not installed on this cluster.
  returned: when C(clusters) is in O(sections)
  type: list
  elements: dict
"""

from ansible_collections.homelab.harvester.plugins.module_utils import health
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module

ARGUMENT_SPEC = {
    "sections": {"type": "list", "elements": "str", "choices": list(health.SECTIONS), "default": list(health.SECTIONS)},
}


def run(module):
    report, problems = health.gather(module.client, module.params["sections"])
    return {"changed": False, "healthy": not problems, "problems": problems, **report}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, run)


if __name__ == "__main__":
    run_module(DEFINITION)
