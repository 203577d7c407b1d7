#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_storage_class
short_description: Manage a Harvester StorageClass, and which class is the cluster default
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates, updates or deletes a StorageClass, by default a Longhorn one (provisioner C(driver.longhorn.io)) with
    typed options for Longhorn's parameters, and can make it the cluster's default StorageClass.
  - Only what this module is given is compared. Of the parameters, only the keys it writes (the typed Longhorn
    options, their defaults, and O(parameters)) count; other keys of a live class, such as C(fromBackup) and
    C(baseImage) that the Harvester chart writes, never make a change, and an empty value equals no value.
  - Kubernetes does not let the parameters, the provisioner, the reclaim policy or the volume binding mode of a
    StorageClass change. A difference in one of them fails, naming the option, unless O(recreate=true). The
    description, O(allow_volume_expansion) and the default flag change in place with one merge patch.
  - Check mode sends the same requests with C(dryRun=All), so the API server and Harvester's webhook judge them
    and nothing is stored.
extends_documentation_fragment:
  - homelab.harvester.api
  - homelab.harvester.state
  - homelab.harvester.description
attributes:
  check_mode:
    details:
      - When O(default=true) takes the default from another class, that class is demoted with a dry run, and this
        class's promotion is predicted without a request, because Harvester would refuse a second default while
        the first one keeps its flag.
  diff_mode:
    details:
      - The diff shows the managed fields only.
      - When another class loses its default, the diff is a list, this class first, then one entry per other class
        with its name and default flag.
options:
  name:
    description:
      - Name of the StorageClass, a DNS-1123 subdomain (lower-case letters, digits, C(-) and C(.), at most 253
        characters). VM volumes and images refer to it by this name.
    type: str
    required: true
  provisioner:
    description:
      - The CSI driver that provisions the volumes.
      - The typed options O(replicas), O(migratable), O(stale_replica_timeout), O(data_locality),
        O(disk_selector) and O(node_selector) are Longhorn's and only go with V(driver.longhorn.io). Give another
        driver's parameters in O(parameters).
      - Cannot be changed on an existing class; see O(recreate).
    type: str
    default: driver.longhorn.io
  replicas:
    description:
      - Number of replicas of each volume (Longhorn parameter C(numberOfReplicas)), 1 to 20.
      - With the Longhorn provisioner, 3 when not given.
    type: int
  migratable:
    description:
      - Whether volumes can be attached to two nodes during a live migration (Longhorn parameter C(migratable)).
        Harvester needs it to live-migrate VMs.
      - With the Longhorn provisioner, V(true) when not given.
    type: bool
  stale_replica_timeout:
    description:
      - Minutes before Longhorn gives up on a replica that stopped answering (parameter C(staleReplicaTimeout)).
      - With the Longhorn provisioner, 30 when not given.
    type: int
  data_locality:
    description:
      - Whether Longhorn tries to keep a replica on the node that uses the volume (parameter C(dataLocality)),
        V(disabled) or V(best-effort).
      - C(strict-local) is refused, because Harvester refuses it. Such a volume keeps its one replica on the VM's
        node, so the VM cannot be live-migrated and the node cannot be drained.
      - Not written when not given (Longhorn then uses its default-data-locality setting).
    type: str
  disk_selector:
    description:
      - Longhorn disk tags a replica's disk must have (parameter C(diskSelector), written comma-separated).
    type: list
    elements: str
  node_selector:
    description:
      - Longhorn node tags a replica's node must have (parameter C(nodeSelector), written comma-separated).
    type: list
    elements: str
  parameters:
    description:
      - Further StorageClass parameters, for example C(encrypted) and the C(csi.storage.k8s.io/*) secret
        parameters of an encrypted Longhorn class, or another provisioner's parameters.
      - Merged over the typed options; a key that a typed option given also sets is refused. Numbers and booleans
        are written as text (C(true), C(false)).
    type: dict
  reclaim_policy:
    description:
      - What happens to a volume when its claim is deleted.
      - Cannot be changed on an existing class; see O(recreate).
    type: str
    choices: [Delete, Retain]
    default: Delete
  volume_binding_mode:
    description:
      - When volumes are provisioned, V(Immediate) or when the first pod (VM) using the claim is scheduled.
      - Cannot be changed on an existing class; see O(recreate).
    type: str
    choices: [Immediate, WaitForFirstConsumer]
    default: Immediate
  allow_volume_expansion:
    description:
      - Whether volumes of this class can be grown.
    type: bool
    default: true
  default:
    description:
      - V(true) makes this class the cluster's default StorageClass (annotation
        C(storageclass.kubernetes.io/is-default-class)). Harvester allows one default, so any other default class
        first gets the annotation C("false"), then this one gets C("true"); RV(previous_default) names the class
        that lost it.
      - V(false) makes sure this class is not the default (the annotation set to C("false") if it is C("true")). The
        cluster may then have no default class.
      - Omitted, the annotation is left as it is; a new class is created without it, so it is not the default, and
        a class recreated by O(recreate) keeps the value it had.
    type: bool
  state:
    description:
      - V(present) creates or updates the class, V(absent) deletes it.
      - Harvester refuses to delete a reserved class (C(harvester-longhorn), or any class annotated
        C(harvesterhci.io/is-reserved-storageclass=true)) and a class that VM images are built on.
  recreate:
    description:
      - When an immutable part differs (O(provisioner), a parameter, O(reclaim_policy), O(volume_binding_mode)),
        delete the class and create it again instead of failing.
      - Existing volumes keep the parameters they were made with; only new volumes get the new ones. Annotations
        and labels this module does not manage are not carried over.
    type: bool
    default: false
notes:
  - Input is checked before any request. Nothing is sent when a check fails.
seealso:
  - name: Harvester StorageClass
    description: Harvester documentation on storage classes.
    link: https://docs.harvesterhci.io/v1.8/advanced/storageclass
  - name: Longhorn StorageClass parameters
    description: What each Longhorn parameter does.
    link: https://longhorn.io/docs/latest/references/storage-class-parameters/
"""

EXAMPLES = r"""
- name: The lab's default class, three replicas, migratable (taking the default from harvester-longhorn)
  homelab.harvester.harvester_storage_class:
    name: lab-default
    replicas: 3
    migratable: true
    description: Three replicas, live-migratable
    default: true
  register: lab_default

- name: Say which class was the default before
  ansible.builtin.debug:
    msg: "{{ lab_default.previous_default }}"

- name: A two-replica class on the NVMe disks, kept when its volumes are released
  homelab.harvester.harvester_storage_class:
    name: nvme-r2
    replicas: 2
    disk_selector: [nvme]
    data_locality: best-effort
    reclaim_policy: Retain

- name: Change the replica count of an existing class (delete and create it again)
  homelab.harvester.harvester_storage_class:
    name: nvme-r2
    replicas: 3
    disk_selector: [nvme]
    data_locality: best-effort
    reclaim_policy: Retain
    recreate: true

- name: Remove a class
  homelab.harvester.harvester_storage_class:
    name: nvme-r2
    state: absent
"""

RETURN = r"""
storage_class:
  description:
    - The StorageClass as the API returned it after the change (in check mode, the server's dry-run answer, with
      the default flag predicted when another class had to give it up first).
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: lab-default
      annotations:
        field.cattle.io/description: Three replicas, live-migratable
        storageclass.kubernetes.io/is-default-class: "true"
    provisioner: driver.longhorn.io
    parameters: {numberOfReplicas: "3", staleReplicaTimeout: "30", migratable: "true"}
    reclaimPolicy: Delete
    volumeBindingMode: Immediate
    allowVolumeExpansion: true
previous_default:
  description:
    - The class that was the cluster default before this task, when O(default=true) took the default from it.
    - V(null) when the default did not move (this class already had it, or O(default) is not V(true)).
  returned: when O(state=present)
  type: str
  sample: harvester-longhorn
diff:
  description:
    - The managed fields before and after. Only in diff mode.
    - A list when another class lost its default, this class first, then each other class with its name and
      default flag.
  returned: when diff mode is on
  type: raw
  sample:
    - before: {}
      after:
        provisioner: driver.longhorn.io
        parameters: {numberOfReplicas: "3", staleReplicaTimeout: "30", migratable: "true"}
        reclaimPolicy: Delete
        volumeBindingMode: Immediate
        allowVolumeExpansion: true
        metadata:
          annotations: {storageclass.kubernetes.io/is-default-class: "true"}
    - before:
        metadata:
          name: harvester-longhorn
          annotations: {storageclass.kubernetes.io/is-default-class: "true"}
      after:
        metadata:
          name: harvester-longhorn
          annotations: {storageclass.kubernetes.io/is-default-class: "false"}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import storage_class
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import DESCRIPTION_ARGS, STATE_ARGS

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "provisioner": {"type": "str", "default": storage_class.LONGHORN},
    "replicas": {"type": "int"},
    "migratable": {"type": "bool"},
    "stale_replica_timeout": {"type": "int"},
    "data_locality": {"type": "str"},
    "disk_selector": {"type": "list", "elements": "str"},
    "node_selector": {"type": "list", "elements": "str"},
    "parameters": {"type": "dict"},
    "reclaim_policy": {"type": "str", "choices": ["Delete", "Retain"], "default": "Delete"},
    "volume_binding_mode": {"type": "str", "choices": ["Immediate", "WaitForFirstConsumer"], "default": "Immediate"},
    "allow_volume_expansion": {"type": "bool", "default": True},
    **DESCRIPTION_ARGS,
    "default": {"type": "bool"},
    **STATE_ARGS,
    "recreate": {"type": "bool", "default": False},
}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, storage_class.task)


if __name__ == "__main__":
    run_module(DEFINITION)
