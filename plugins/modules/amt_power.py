#!/usr/bin/python
# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: amt_power
short_description: Power a host on, off, cycle or reset it through Intel AMT, with a one-time PXE boot
version_added: 0.1.0
author:
  - Homelab platform team (@homelab)
description:
  - Talks to the host's Intel AMT (vPro) over WS-Management, C(https://<host>:16993/wsman) (TLS) or
    C(http://<host>:16992/wsman), with HTTP Digest authentication. Not to the Harvester API.
  - Reads the power state (C(CIM_AssociatedPowerManagementService)) and, when it differs from O(state), changes it
    with C(CIM_PowerManagementService.RequestPowerStateChange) - 2 to power on, 8 to power off, 5 to power cycle,
    10 to reset.
  - Idempotent - a host that is on stays on with O(state=on) (no write, no PXE), an off host stays off with
    O(state=off). O(state=cycle) and O(state=reset) always act; on a host that is off they power it on.
  - "With O(pxe=true) the boot this task makes goes to the network once - C(AMT_BootSettingData) cleared,
    C(ChangeBootOrder) to the C(Force PXE Boot) source, C(SetBootConfigRole) next boot only - set right before
    the power change. Unattended PXE needs AMT in Admin Control Mode (set up in MEBx); in Client Control Mode AMT asks
    for user consent."
  - Fails with a message that says what to check - credentials refused, nothing listening (AMT not provisioned, or
    the wrong port), TLS certificate not trusted or handshake failed, no answer, a SOAP fault or a method's return
    value, by name.
extends_documentation_fragment:
  - homelab.harvester.attributes.standalone
attributes:
  check_mode:
    details: Reads the power state only; nothing that changes the host is sent.
  diff_mode:
    details: The power state before and after, and the one-time network boot.
  action:
    details:
      - On a local connection it runs inside the ansible-playbook worker; on any other connection it runs as an ordinary
        module on that host (which must reach the AMT address).
options:
  host:
    description: The AMT address of the host (its out-of-band port's IP address or name), without scheme or port.
    type: str
    required: true
  port:
    description: The WS-Management port. Defaults to C(16993) with O(tls=true), C(16992) without.
    type: int
  tls:
    description:
      - Whether to use HTTPS. AMT on recent platforms (CSME 16.1 and later remotely, CSME 19 always) accepts TLS only.
    type: bool
    default: true
  user:
    description: The AMT user.
    type: str
    default: admin
  password:
    description: The AMT password of O(user) (set in MEBx). Never shown.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify AMT's TLS certificate. AMT's default certificate is self-signed - give its CA as O(ca_cert), or
        set this to V(false).
    type: bool
    default: true
  ca_cert:
    description: CA certificate file (PEM) that signed AMT's TLS certificate.
    type: path
  timeout:
    description: Seconds to wait for a connection and for each answer.
    type: float
    default: 30
  state:
    description:
      - V(on), V(off) - the power state wanted. V(cycle), V(reset) - power cycle or reset a running host (power on a
        host that is off). V(status) - only read the power state.
    type: str
    choices: ['on', 'off', cycle, reset, status]
    default: status
  pxe:
    description: Boot from the network, once, for the boot this task makes (with O(state) V(on), V(cycle), V(reset)).
    type: bool
    default: false
  wait:
    description: Whether to wait until AMT reports the power state asked for after the change.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for it.
    type: float
    default: 60
seealso:
  - name: Intel AMT - change system power state
    description: The power state values and the remote power actions.
    link: https://software.intel.com/sites/manageability/AMT_Implementation_and_Reference_Guide/WordDocuments/changesystempowerstate.htm
"""

EXAMPLES = r"""
- name: Power ms02-1 on, booting its installer from the network once
  homelab.harvester.amt_power:
    host: 10.10.10.31
    password: "{{ vault_amt_password }}"
    validate_certs: false
    state: 'on'
    pxe: true

- name: Read the power state over plain HTTP
  homelab.harvester.amt_power:
    host: 10.10.10.32
    tls: false
    password: "{{ vault_amt_password }}"
  register: power

- name: Power it off
  homelab.harvester.amt_power:
    host: 10.10.10.32
    password: "{{ vault_amt_password }}"
    ca_cert: /etc/pki/amt-ca.pem
    state: 'off'
"""

RETURN = r"""
power_state:
  description: The power state after the task (V(on), V(off), or what AMT reports otherwise); in check mode, the one it would be.
  returned: always
  type: str
  sample: 'on'
power_state_code:
  description: AMT's C(PowerState) value after the task (2 on, 8 off...).
  returned: always
  type: int
  sample: 2
pxe:
  description: Whether a one-time network boot was set (in check mode, would be).
  returned: always
  type: bool
  sample: true
actions:
  description: What was done (in check mode, would be), in order.
  returned: always
  type: list
  elements: str
  sample: [one-time PXE boot, power on (2)]
endpoint:
  description: The WS-Management URL talked to.
  returned: always
  type: str
  sample: https://10.10.10.31:16993/wsman
diff:
  description: The power state before and after, and the one-time network boot. Only in diff mode, when something changes.
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.homelab.harvester.plugins.module_utils import amt, amt_power
from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleDefinition, run_module

ARGUMENT_SPEC = {
    **amt.access_args(validate_certs=True),
    "ca_cert": {"type": "path"},
    "timeout": {"type": "float", "default": 30},
    "state": {"type": "str", "default": "status", "choices": ["on", "off", "cycle", "reset", "status"]},
    "pxe": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 60},
}

DEFINITION = ModuleDefinition(ARGUMENT_SPEC, amt_power.run, connection=False)


if __name__ == "__main__":
    run_module(DEFINITION)
