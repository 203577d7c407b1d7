#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tinkerbell_machine
short_description: Describe a bare-metal node to Tinkerbell - its Hardware, BMC Secret and Rufio Machine
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Writes, on the Kubernetes cluster that runs Tinkerbell, the three objects that let Tinkerbell boot a node and
    Rufio power it - a C(tinkerbell.org/v1alpha1) Hardware, a Secret C(<name>-bmc) with the AMT credentials
    (keys C(username) and C(password)), and a C(bmc.tinkerbell.org/v1alpha1) Machine.
  - The Hardware has one interface - the node's PXE port (O(mac), lower-cased), DHCP on UEFI C(x86_64) (Harvester v1.8
    PXE-installs on UEFI only), netboot allowed and O(ipxe_url) as its custom iPXE script, which Smee chains to; its
    C(bmcRef) names the Machine.
  - The Machine reaches the node's Intel AMT - C(providerOptions.intelAMT) with the port and C(https) or C(http), and
    C(IntelAMT) first in C(preferredOrder).
  - Each object is created, or patched in the fields this module manages; the Secret's values are compared as
    fingerprints and never returned or shown.
extends_documentation_fragment:
  - homelab.harvester.api.tinkerbell
  - homelab.harvester.state
attributes:
  diff_mode:
    details: The managed fields of each object; the Secret's values as fingerprints.
options:
  name:
    description: The node, the name of the Hardware and the Machine (the Secret is C(<name>-bmc)).
    type: str
    required: true
  namespace:
    description: Namespace of the three objects.
    type: str
    default: tink-system
  state:
    description: V(present) writes them; V(absent) deletes them (the Hardware first).
  mac:
    description: MAC of the node's PXE port (its out-of-band NIC). Required with O(state=present).
    type: str
  ip:
    description: The address Smee hands out in its C(reservation) DHCP mode; leave it out when another DHCP server
      gives addresses (Smee's C(proxy) mode).
    type: dict
    suboptions:
      address:
        description: IPv4 address.
        type: str
      netmask:
        description: Subnet mask.
        type: str
      gateway:
        description: Default gateway.
        type: str
  hostname:
    description: Hostname Smee hands out. Defaults to O(name).
    type: str
  ipxe_url:
    description: URL of the node's iPXE script (Smee chains to it). Required with O(state=present).
    type: str
  amt:
    description: The node's Intel AMT, as Rufio reaches it. Required with O(state=present).
    type: dict
    suboptions:
      host:
        description: Its address.
        type: str
        required: true
      port:
        description: Its WS-Management port. Defaults to C(16993) with O(amt.tls=true), else C(16992).
        type: int
      tls:
        description: HTTPS (C(hostScheme) C(https)).
        type: bool
        default: true
      user:
        description: AMT user.
        type: str
        default: admin
      password:
        description: AMT password; goes into the Secret, never shown.
        type: str
        required: true
      validate_certs:
        description: Whether Rufio should verify the certificate (the Machine's C(insecureTLS) is its opposite).
        type: bool
        default: false
seealso:
  - module: homelab.harvester.rufio_job
  - module: homelab.harvester.amt_power
"""

EXAMPLES = r"""
- name: Tell Tinkerbell about ms02-1
  homelab.harvester.tinkerbell_machine:
    kubeconfig: ~/.kube/tinkerbell.yaml
    name: ms02-1
    mac: "58:47:ca:7b:01:b0"
    ipxe_url: http://10.10.10.20/harvester/ms02-1.ipxe
    amt:
      host: 10.10.10.31
      password: "{{ vault_amt_password }}"
"""

RETURN = r"""
hardware:
  description: The Hardware as the API answered (null after a delete).
  returned: always
  type: dict
machine:
  description: The Rufio Machine as the API answered (null after a delete).
  returned: always
  type: dict
secret:
  description: The Secret's metadata and C(data_keys), never its data (null after a delete).
  returned: always
  type: dict
"""

from ansible_collections.homelab.harvester.plugins.module_utils import amt, tinkerbell
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module
from ansible_collections.homelab.harvester.plugins.module_utils.option_groups import STATE_ARGS

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "tink-system"},
    **STATE_ARGS,
    "mac": {"type": "str"},
    "ip": {"type": "dict", "options": {
        "address": {"type": "str"},
        "netmask": {"type": "str"},
        "gateway": {"type": "str"},
    }},
    "hostname": {"type": "str"},
    "ipxe_url": {"type": "str"},
    "amt": {"type": "dict", "options": amt.access_args(validate_certs=False)},
}

DEFINITION = ModuleDefinition(ARGUMENT_SPEC, tinkerbell.run)


if __name__ == "__main__":
    run_module(DEFINITION)
