#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_image
short_description: Manage a Harvester VM image (VirtualMachineImage)
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates, updates or deletes a Harvester VM image, the VirtualMachineImage that VM disks are cloned from.
  - A V(download) image is fetched by Harvester from O(url) and checked against O(checksum); the module waits
    until Harvester reports it imported and fails with Harvester's own message when the import fails for good.
  - Only the fields this module manages are compared and changed (display name, source, URL, checksum,
    description, storage class and the labels given). What Harvester adds by itself (the backend, the
    C(harvesterhci.io/imageDisplayName) label, the default storage class, the storage class parameters and the
    whole status) never counts as a change.
  - An existing image is changed with one merge patch of the differing fields. Check mode sends the same
    requests with C(dryRun=All), so Harvester's webhooks judge them and nothing is stored.
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
  - homelab.harvester.namespace
  - homelab.harvester.labels
  - homelab.harvester.description
attributes:
  diff_mode:
    details: The diff shows the managed fields only.
options:
  name:
    description:
      - Name of the VirtualMachineImage, a DNS-1123 subdomain (lower-case letters, digits, C(-) and C(.)).
      - VM disks refer to it as C(<namespace>/<name>).
    type: str
    required: true
  display_name:
    description:
      - The name shown in the Harvester UI, unique among the images of the namespace. It must be a valid
        Kubernetes label value (at most 63 letters, digits, C(-), C(_) and C(.)), because Harvester copies it
        into the C(harvesterhci.io/imageDisplayName) label.
      - Defaults to O(name).
      - Cannot be changed on an existing image; see O(recreate).
    type: str
  source_type:
    description:
      - V(download) lets Harvester fetch the image from O(url).
      - V(upload) only creates the image object, ready to receive an upload through the Harvester UI or API;
        this module does not send the bytes.
      - Cannot be changed on an existing image; see O(recreate).
    type: str
    choices: [download, upload]
    default: download
  url:
    description:
      - The http or https URL Harvester downloads the image from. Required with O(source_type=download),
        refused with V(upload).
      - Cannot be changed on an existing image; see O(recreate).
    type: str
  checksum:
    description:
      - The sha512 checksum of the image file, 128 lower-case hexadecimal digits as C(sha512sum) prints them.
        Harvester (Longhorn) fails the import when the downloaded file does not match.
      - Only with O(source_type=download). Omit it to leave an existing checksum alone.
    type: str
  storage_class:
    description:
      - The StorageClass whose parameters (replicas, node and disk selectors...) the image's backing image and
        the disks made from it use (annotation C(harvesterhci.io/storageClassName)).
      - Omit it to use the cluster's default StorageClass at creation and leave an existing image alone.
      - Cannot be changed on an existing image; see O(recreate).
    type: str
  description:
    description:
      - Description shown in the Harvester UI (C(spec.description)).
      - Omit it to leave an existing description alone; an empty string removes it.
  labels:
    description:
      - Labels to set on the image. Only the keys given are managed; other labels stay.
      - A key with a null value removes that label.
      - C(harvesterhci.io/imageDisplayName) is refused, Harvester sets it from O(display_name).
  state:
    description:
      - V(present) creates or updates the image, V(absent) deletes it.
      - Harvester refuses to delete an image that a VM template, a volume or a VM backup still uses.
  recreate:
    description:
      - When an immutable part differs (O(display_name), O(source_type), O(url) or O(storage_class)), delete the
        image and create it again (which downloads it again) instead of failing.
      - Deleting fails while volumes or VM templates use the image.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present) and O(source_type=download), wait until Harvester reports the image imported
        (condition C(Imported) true). The task fails with Harvester's message as soon as the import has failed
        for good (condition C(RetryLimitExceeded)).
      - With O(source_type=upload), wait until the image is initialized (ready for an upload).
      - With O(state=absent), wait until the image is gone (its finalizer removed).
      - Not done in check mode.
  wait_timeout:
    description:
      - Seconds to wait for O(wait). A large image over a slow link needs more.
    default: 600
notes:
  - Harvester retries a failed download a few times (C(spec.retry), default 3) about 10 seconds apart before it
    gives up, so a wrong URL or checksum fails the task after roughly half a minute.
  - The display name, source type, URL and storage class cannot change on an existing image (Harvester's image
    webhook refuses it); the module fails naming the option, unless O(recreate=true). The storage class parameters
    are derived by Harvester from the storage class and change only with it.
  - Input is checked before any request; nothing is sent when a check fails.
seealso:
  - name: Harvester VM images
    description: Harvester documentation on uploading and downloading images.
    link: https://docs.harvesterhci.io/v1.8/upload-image
"""

EXAMPLES = r"""
- name: Download an image and wait until Harvester has imported it
  homelab.harvester.harvester_image:
    name: talos-1-11
    display_name: talos-v1.11.5
    url: http://127.0.0.1:8000/disk.img
    checksum: "{{ lookup('ansible.builtin.file', 'disk.img.sha512') }}"
    description: Talos nocloud image
    labels:
      os: talos
  register: talos

- name: Use the image's StorageClass for a disk
  ansible.builtin.debug:
    msg: "{{ talos.image.status.storageClassName }} ({{ talos.image.status.size }} bytes)"

- name: An image on a two-replica StorageClass, created without waiting for the download
  homelab.harvester.harvester_image:
    name: ubuntu-24.04
    url: http://127.0.0.1:8000/noble-server-cloudimg-amd64.img
    storage_class: harvester-longhorn
    wait: false

- name: An empty image object to upload into from the UI
  homelab.harvester.harvester_image:
    name: windows-iso
    display_name: Windows-Server-2025
    source_type: upload

- name: Connection options once for every module of the collection
  module_defaults:
    group/homelab.harvester.harvester:
      kubeconfig: ~/harvester.yaml
  block:
    - name: Point an image at a new URL (delete it and download again)
      homelab.harvester.harvester_image:
        name: talos-1-11
        display_name: talos-v1.11.5
        url: http://127.0.0.1:8000/disk-v2.img
        recreate: true

    - name: Remove an image
      homelab.harvester.harvester_image:
        name: talos-1-11
        state: absent
"""

RETURN = r"""
image:
  description:
    - The VirtualMachineImage as the API returned it after the change (in check mode, the server's dry-run answer),
      with the status Harvester reported once O(wait) is done, in particular C(status.progress), C(status.size),
      C(status.virtualSize) and C(status.storageClassName), the StorageClass a VM disk made from the image must
      use.
    - Not returned with O(state=absent).
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: harvesterhci.io/v1beta1
    kind: VirtualMachineImage
    metadata:
      name: talos-1-11
      namespace: default
      labels:
        harvesterhci.io/imageDisplayName: talos-v1.11.5
        os: talos
      annotations:
        harvesterhci.io/storageClassName: harvester-longhorn
    spec:
      backend: backingimage
      displayName: talos-v1.11.5
      sourceType: download
      url: http://127.0.0.1:8000/disk.img
      checksum: 5d1ac5d6e4a0e9bb0e9d30fb9f4a0e1f0d4cf5d3f0e3b8e6a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7
      storageClassParameters: {migratable: "true", numberOfReplicas: "3", staleReplicaTimeout: "30"}
      targetStorageClassName: harvester-longhorn
    status:
      progress: 100
      size: 327680
      virtualSize: 327680
      storageClassName: lh-3f1c9a52-8d2e-4b61-a0f7-6c5e4d3b2a19
      conditions:
        - {type: Initialized, status: "True", reason: Initialized}
        - {type: Imported, status: "True", reason: Imported}
        - {type: RetryLimitExceeded, status: "False"}
percent:
  description: The import progress in percent (C(status.progress); 100 once imported).
  returned: when O(state=present)
  type: int
  sample: 100
progress:
  description:
    - What the wait saw, in order, one entry per change (the import percent, then imported). Run in the worker (a
      local connection), each entry is also printed as it happens.
  returned: when the module waited
  type: list
  elements: dict
  contains:
    time:
      description: When it happened, C(YYYY-MM-DDTHH:MM:SSZ) (the condition's time when Harvester gives one).
      type: str
    msg:
      description: What happened.
      type: str
  sample:
    - {time: "2026-12-06T18:01:02Z", msg: "image default/talos-1-11: 45%"}
    - {time: "2026-12-06T18:01:09Z", msg: "image default/talos-1-11: imported"}
size:
  description: The size of the image file in bytes (C(status.size)), once Harvester knows it.
  returned: when O(state=present)
  type: int
  sample: 327680
storage_class_name:
  description: The StorageClass a VM disk made from this image must use (C(status.storageClassName)), once initialized.
  returned: when O(state=present)
  type: str
  sample: lh-3f1c9a52-8d2e-4b61-a0f7-6c5e4d3b2a19
diff:
  description: The managed fields before and after. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {}
    after:
      spec: {displayName: talos-v1.11.5, sourceType: download, url: http://127.0.0.1:8000/disk.img}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import image, reconcile
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import DESCRIPTION_ARGS, LABELS_ARGS

ARGUMENT_SPEC = {
    **reconcile.object_args(600),
    **LABELS_ARGS,
    "display_name": {"type": "str"},
    "source_type": {"type": "str", "choices": list(image.SOURCE_TYPES), "default": "download"},
    "url": {"type": "str"},
    "checksum": {"type": "str"},
    "storage_class": {"type": "str"},
    **DESCRIPTION_ARGS,
}


def run(module):
    return reconcile.run(module, image.SPEC)


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, run)


if __name__ == "__main__":
    run_module(DEFINITION)
