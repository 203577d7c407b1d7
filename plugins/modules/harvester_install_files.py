#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_install_files
short_description: Render and publish the Harvester install configs and iPXE scripts of the lab's nodes
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Renders, for every node, the harvester-installer configuration (C(scheme_version) 1, the token, the OS user,
    DNS and NTP servers, the install and data disks, the static management address on the LACP bond) and the iPXE
    script that boots the release from the node's out-of-band port, plus C(boot.ipxe), the entry script that
    chains to the script of the node whose OOB MAC booted. Writes them into O(dest), which an HTTP server
    publishes as O(http_url).
  - The node whose C(role) is C(create) gets the VIP (C(install.vip), C(vip_mode) static); the C(join) nodes
    get C(server_url) C(https://<vip>:443).
  - A file is written only when its content or mode differs, atomically (a temporary file renamed over it). Install
    configs hold the token and the password; they are written mode 0600 and never shown (the diff gives a
    fingerprint of their content).
  - Talks to no API.
extends_documentation_fragment:
  - homelab.harvester.attributes.standalone
attributes:
  diff_mode:
    details: The iPXE scripts are shown whole; an install config by a fingerprint of its content (it holds secrets).
  action:
    details:
      - On a local connection it runs inside the ansible-playbook worker and writes on the controller; on any other
        connection it runs as an ordinary module and writes on that host.
options:
  dest:
    description: Directory to write the files to; created (mode 0755) when missing.
    type: path
    required: true
  version:
    description: The Harvester release to install, for example C(v1.8.2) (the file names of kernel, initrd, rootfs and ISO).
    type: str
    required: true
  http_url:
    description: URL under which the HTTP server publishes O(dest) (the install configs' C(config_url), the iPXE chain).
    type: str
    required: true
  artifacts_url:
    description: URL of the release files (C(harvester-<version>-vmlinuz-amd64), C(-initrd-amd64), C(-rootfs-amd64.squashfs),
      C(-amd64.iso)). Defaults to O(http_url)C(/<version>).
    type: str
  vip:
    description: The cluster's virtual IP on the management network.
    type: str
    required: true
  fqdn:
    description: The UI and API name, added to the certificate's C(sans).
    type: str
  token:
    description: The cluster token, the same on every node.
    type: str
    required: true
  os_password:
    description: Password of the nodes' C(rancher) user. O(os_password) or O(ssh_authorized_keys) is required.
    type: str
  ssh_authorized_keys:
    description: Public keys of the C(rancher) user.
    type: list
    elements: str
    default: []
  dns_servers:
    description: DNS servers of the nodes (the installer needs them with a static address).
    type: list
    elements: str
    required: true
  ntp_servers:
    description: NTP servers of the nodes.
    type: list
    elements: str
    default: []
  mgmt:
    description: The management network the node addresses and the VIP are on.
    type: dict
    required: true
    suboptions:
      cidr:
        description: Its network, for example C(10.10.10.0/24) (gives the subnet mask).
        type: str
        required: true
      gateway:
        description: Its gateway.
        type: str
        required: true
      vlan_id:
        description: Its VLAN on the bond; V(0) for untagged.
        type: int
        default: 0
  bond:
    description: The management bond of the two 10GbE ports (the installer's C(bond_options) and C(mtu)).
    type: dict
    default: {}
    suboptions:
      mode:
        description: Bonding mode.
        type: str
        default: 802.3ad
      miimon:
        description: Link check interval in milliseconds.
        type: int
        default: 100
      xmit_hash_policy:
        description: Transmit hash policy (with the modes that use one).
        type: str
      lacp_rate:
        description: LACP rate (802.3ad only).
        type: str
      mtu:
        description: MTU of the bond, 576 to 9000; it applies at install time.
        type: int
        default: 1500
  kernel_args:
    description: Extra kernel parameters on every node's iPXE kernel line, for example C(console=ttyS0,115200n8).
    type: list
    elements: str
    default: []
  nodes:
    description:
      - The nodes to install, in order, by hostname (also the file names C(<name>.yaml) and C(<name>.ipxe)). Each value
        describes the node as the inventory's C(lab_node) does; other keys are ignored.
      - C(role) - V(create) for the node that creates the cluster (exactly one), V(join) for the others.
      - C(mgmt_ip) - the node's static address, inside O(mgmt.cidr).
      - C(install_disk) - the disk Harvester is installed on, for example C(/dev/nvme0n1); C(data_disk) - the disk
        for VM data (Longhorn).
      - C(bond_nics) - the two NICs of the bond, each with C(name) and C(mac).
      - C(oob_nic) - the out-of-band NIC the node PXE-boots from, with C(name) and C(mac).
    type: dict
    required: true
seealso:
  - name: Harvester PXE boot installation
    description: The installer configuration and iPXE boot.
    link: https://docs.harvesterhci.io/v1.8/install/pxe-boot-install
"""

EXAMPLES = r"""
- name: Publish the install files of a one-node cluster, every value written out
  homelab.harvester.harvester_install_files:
    dest: /tmp/pxe
    version: v1.8.2
    http_url: http://10.10.10.20/harvester
    vip: 10.10.10.5
    fqdn: harvester.lab.local
    token: not-a-real-token
    os_password: not-a-real-password
    dns_servers: [10.10.10.1]
    ntp_servers: [10.10.10.1]
    mgmt: {cidr: 10.10.10.0/24, gateway: 10.10.10.1, vlan_id: 10}
    bond: {mode: 802.3ad, miimon: 100, xmit_hash_policy: layer3+4, lacp_rate: fast, mtu: 1500}
    nodes:
      ms02-1:
        role: create
        mgmt_ip: 10.10.10.11
        install_disk: /dev/nvme0n1
        data_disk: /dev/nvme1n1
        bond_nics: [{name: enp2s0f0np0, mac: "58:47:ca:00:01:10"}, {name: enp2s0f1np1, mac: "58:47:ca:00:01:11"}]
        oob_nic: {name: enp5s0, mac: "58:47:ca:00:01:20"}

- name: Publish them for every node of the inventory's harvester_nodes group (inventory/lab), each host's lab_node as above
  homelab.harvester.harvester_install_files:
    dest: /srv/pxe/harvester
    version: "{{ lab_harvester_version }}"
    http_url: http://10.10.10.20/harvester
    vip: "{{ lab_vip }}"
    fqdn: "{{ lab_harvester_fqdn }}"
    token: "{{ lab_harvester_token }}"
    os_password: "{{ lab_harvester_os_password }}"
    dns_servers: "{{ lab_dns_servers }}"
    ntp_servers: "{{ lab_ntp_servers }}"
    mgmt: {cidr: 10.10.10.0/24, gateway: 10.10.10.1, vlan_id: 10}
    bond: "{{ lab_bond }}"
    nodes: "{{ dict(groups['harvester_nodes'] | zip(groups['harvester_nodes'] | map('extract', hostvars, 'lab_node'))) }}"
  no_log: true  # the token and password are in the arguments
"""

RETURN = r"""
files:
  description: Every file of the set, written or already as wanted.
  returned: always
  type: list
  elements: str
  sample: [/tmp/pxe/ms02-1.yaml, /tmp/pxe/ms02-1.ipxe, /tmp/pxe/boot.ipxe]
written:
  description: The files written by this run (in check mode, that would be written).
  returned: always
  type: list
  elements: str
  sample: [/tmp/pxe/ms02-1.yaml]
diff:
  description: Each written file before and after (an install config as a fingerprint, C(sha256:...)). Only in diff mode.
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.homelab.harvester.plugins.module_utils import install_files
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "version": {"type": "str", "required": True},
    "http_url": {"type": "str", "required": True},
    "artifacts_url": {"type": "str"},
    "vip": {"type": "str", "required": True},
    "fqdn": {"type": "str"},
    "token": {"type": "str", "required": True, "no_log": True},
    "os_password": {"type": "str", "no_log": True},
    "ssh_authorized_keys": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "dns_servers": {"type": "list", "elements": "str", "required": True},
    "ntp_servers": {"type": "list", "elements": "str", "default": []},
    "mgmt": {"type": "dict", "required": True, "options": {
        "cidr": {"type": "str", "required": True},
        "gateway": {"type": "str", "required": True},
        "vlan_id": {"type": "int", "default": 0},
    }},
    "bond": {"type": "dict", "default": {}, "options": {
        "mode": {"type": "str", "default": "802.3ad"},
        "miimon": {"type": "int", "default": 100},
        "xmit_hash_policy": {"type": "str"},
        "lacp_rate": {"type": "str"},
        "mtu": {"type": "int", "default": 1500},
    }},
    "kernel_args": {"type": "list", "elements": "str", "default": []},
    # name -> the inventory's lab_node; its keys are checked by install_files.check (a dict of
    # dicts has no argument-spec form)
    "nodes": {"type": "dict", "required": True},
}

DEFINITION = ModuleDefinition(ARGUMENT_SPEC, install_files.run, connection=False)


if __name__ == "__main__":
    run_module(DEFINITION)
