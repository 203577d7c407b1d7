#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: harvester_keypair
short_description: Manage a Harvester SSH key pair (KeyPair)
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Creates or deletes a Harvester SSH key pair, the KeyPair object whose public key VMs and guest clusters
    (CAPHV's C(sshKeyPair)) put into cloud-init.
  - The public key is checked before any request, stricter than Harvester does it, so a typo never reaches the
    cluster.
  - Keys are compared by type and key data. The comment is stored as given, but a different comment alone is not
    a change.
  - Harvester computes the key's fingerprint once. It accepts a changed key but keeps the old fingerprint, so this
    module treats the key as immutable. A different key fails, naming both fingerprints, unless O(recreate=true).
  - Check mode sends the same requests with C(dryRun=All), so Harvester's webhook judges them and nothing is
    stored.
extends_documentation_fragment:
  - homelab.harvester.api.managed_object
  - homelab.harvester.namespace
attributes:
  diff_mode:
    details: The diff shows the key's type and data, without the comment.
options:
  name:
    description:
      - Name of the key pair, a DNS-1123 subdomain (lower-case letters, digits, C(-) and C(.), at most 253
        characters).
      - VMs and CAPHV machine templates refer to it as C(<namespace>/<name>).
    type: str
    required: true
  public_key:
    description:
      - One OpenSSH public key line, C(<type> <base64 key data> [comment]), such as the content of
        C(~/.ssh/id_ed25519.pub). Surrounding whitespace and the trailing newline are removed.
      - "Supported types: C(ssh-ed25519), C(ssh-rsa), C(ecdsa-sha2-nistp256), C(ecdsa-sha2-nistp384),
        C(ecdsa-sha2-nistp521), C(sk-ssh-ed25519@openssh.com) and C(sk-ecdsa-sha2-nistp256@openssh.com).
        The type must match the type inside the key data."
      - Required with O(state=present).
    type: str
  state:
    description:
      - V(present) creates the key pair (a different key fails unless O(recreate=true)), V(absent) deletes it.
  recreate:
    description:
      - When the existing key pair holds a different key, delete it and create it again instead of failing.
      - VMs that already use the old key keep it. The key pair only feeds new cloud-init data.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until Harvester has validated the key (condition C(validated) is C(True)) and
        set its fingerprint. Fails with Harvester's message if it refuses the key.
      - With O(state=absent), wait until the key pair is gone.
      - Not done in check mode.
  wait_timeout:
    default: 60
notes:
  - Input is checked before any request. Nothing is sent when a check fails.
seealso:
  - name: Harvester SSH keys
    description: Harvester documentation on SSH key pairs.
    link: https://docs.harvesterhci.io/v1.8/vm/access-to-the-vm
"""

EXAMPLES = r"""
- name: The operators' key
  homelab.harvester.harvester_keypair:
    name: ops
    public_key: "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
  register: ops_key

- name: Show its fingerprint
  ansible.builtin.debug:
    msg: "{{ ops_key.fingerprint }}"

- name: Rotate a key (delete the key pair and create it again)
  homelab.harvester.harvester_keypair:
    name: capi
    namespace: platform
    public_key: "{{ new_capi_public_key }}"
    recreate: true

- name: Remove a key pair
  homelab.harvester.harvester_keypair:
    name: old-laptop
    state: absent
"""

RETURN = r"""
keypair:
  description:
    - The KeyPair as the API returned it after the change (in check mode, the server's dry-run answer), with the
      status Harvester set once O(wait) is done.
    - Not returned with O(state=absent).
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: harvesterhci.io/v1beta1
    kind: KeyPair
    metadata:
      name: ops
      namespace: default
    spec:
      publicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINIo/2HGpPL7GjBFJsVI7cMISvAndq+HWkTUGcr4VPsi ops@lab
    status:
      fingerPrint: af:b2:31:64:25:41:11:b8:0e:7f:f0:03:35:bd:c5:74
      conditions:
        - {type: validated, status: "True", lastUpdateTime: "2026-01-01T00:00:00Z"}
fingerprint:
  description:
    - The key's MD5 fingerprint as Harvester shows it (C(status.fingerPrint); C(ssh-keygen -l -E md5) without
      C(MD5:)).
    - Before Harvester has set it (check mode, O(wait=false)), the same fingerprint computed by the module.
  returned: when O(state=present)
  type: str
  sample: af:b2:31:64:25:41:11:b8:0e:7f:f0:03:35:bd:c5:74
diff:
  description: The key (type and data) before and after. Only in diff mode.
  returned: when diff mode is on
  type: dict
  sample:
    before: {}
    after:
      spec: {publicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINIo/2HGpPL7GjBFJsVI7cMISvAndq+HWkTUGcr4VPsi}
"""

from ansible_collections.homelab.harvester.plugins.module_utils import keypair, reconcile
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module

ARGUMENT_SPEC = {
    **reconcile.object_args(60),
    "public_key": {"type": "str", "no_log": False},
}


def run(module):
    return reconcile.run(module, keypair.SPEC)


DEFINITION = ModuleDefinition(ARGUMENT_SPEC, run)


if __name__ == "__main__":
    run_module(DEFINITION)
