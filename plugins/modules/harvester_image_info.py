#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_image_info
short_description: List Harvester VM images
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Returns the Harvester VM images (VirtualMachineImages) of a namespace (or of every namespace), optionally only
    those with given labels, each in the terms of M(homelab.harvester.harvester_image) (display name, source,
    URL, StorageClass, labels) plus what Harvester reports (imported, progress, failure).
  - One list request, however many images there are. Never changes anything.
  - With the labels a role puts on the images it manages, this is how it finds the ones dropped from its list.
extends_documentation_fragment:
  - homelab.harvester.api.info_module
  - homelab.harvester.listing
notes:
  - Always returns C(changed=false).
seealso:
  - module: homelab.harvester.harvester_image
"""

EXAMPLES = r"""
- name: The images the storage role manages
  homelab.harvester.harvester_image_info:
    namespace:
    label_selector: app.kubernetes.io/managed-by=homelab.harvester.storage
  register: managed

- name: Show those not imported yet
  ansible.builtin.debug:
    msg: "{{ managed.images | rejectattr('imported') | map(attribute='name') | list }}"
"""

RETURN = r"""
images:
  description: One entry per image, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the image.
      type: str
      sample: talos-1-11
    namespace:
      description: Its namespace.
      type: str
      sample: default
    ref:
      description: C(<namespace>/<name>).
      type: str
      sample: default/talos-1-11
    display_name:
      description: The name shown in the Harvester UI.
      type: str
      sample: talos-v1.11.5
    source_type:
      description: C(download) or C(upload).
      type: str
      sample: download
    url:
      description: Where a downloaded image comes from, null for an upload.
      type: str
      sample: http://10.10.10.20/images/talos-1.11.5.raw.xz
    storage_class:
      description: The StorageClass its backing image is built on.
      type: str
      sample: lab-longhorn
    labels:
      description: All labels of the image.
      type: dict
    imported:
      description: Whether Harvester reports it imported (C(Imported) condition true).
      type: bool
      sample: true
    progress:
      description: The import progress in percent.
      type: int
      sample: 100
    failure:
      description: Harvester's message when the import can no longer succeed, else null.
      type: str
    deleting:
      description: Whether the image is being deleted.
      type: bool
"""

from ansible_collections.homelab.harvester.plugins.module_utils import image, listing
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import LISTING_ARGS

ARGUMENT_SPEC = {**LISTING_ARGS}


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, listing.info_run("images", image.check_info, image.list_images))


if __name__ == "__main__":
    run_module(DEFINITION)
