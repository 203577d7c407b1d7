# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow of ``amt_power``: read the host's power state through AMT, decide what to change, set
a one-time PXE boot right before the power change that boots, change the power state, and wait
until AMT reports the state asked for.

What each ``state`` does (the values Intel lists for remote power actions without an OS agent):

- ``on``: off -> RequestPowerStateChange 2; already on -> nothing (no write, no PXE);
- ``off``: on -> 8 (off, hard); already off -> nothing;
- ``cycle``: on -> 5 (power cycle); off -> 2 (it boots either way, as bmclib's PowerCycle does);
- ``reset``: on -> 10 (master bus reset); off -> 2;
- ``status``: reads only.

``pxe``: AMT_BootSettingData cleared, ChangeBootOrder to "Intel(r) AMT: Force PXE Boot",
SetBootConfigRole 1 (next boot only), immediately before the power change: AMT applies it to
the boot it makes itself and forgets it afterwards, so it is set every time, never "kept".

Check mode reads the power state and says what would change; nothing is sent that changes the
host.
"""

from __future__ import annotations

import os
import re

from . import amt, wait
from .validate import ValidationError

BOOTING_STATES = ("on", "cycle", "reset")
ON, OFF_HARD, CYCLE, RESET = 2, 8, 5, 10
CODES = {ON: "on", OFF_HARD: "off", CYCLE: "cycle", RESET: "reset"}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def check(params):
    """Input checks before any request; returns the port to use."""
    host = (params.get("host") or "").strip()
    if not host:
        raise ValidationError("host", "must not be empty")
    if _SCHEME.match(host) or "/" in host:
        raise ValidationError("host", f"{host!r} is a URL; give the address only (port and tls choose the URL)")
    port = params.get("port")
    if port is None:
        port = amt.TLS_PORT if params["tls"] else amt.HTTP_PORT
    if not 1 <= int(port) <= 65535:
        raise ValidationError("port", f"{port} is not in 1-65535")
    if not params.get("password"):
        raise ValidationError("password", "must not be empty")
    if not params.get("user"):
        raise ValidationError("user", "must not be empty")
    if params["pxe"] and params["state"] not in BOOTING_STATES:
        raise ValidationError("pxe", f"a one-time PXE boot applies to the boot AMT makes: use it with state on, cycle or "
                                     f"reset, not {params['state']}")
    ca = params.get("ca_cert")
    if ca:
        if not params["tls"]:
            raise ValidationError("ca_cert", "is for TLS: set tls true (port 16993) or leave ca_cert out")
        if not os.path.isfile(ca):
            raise ValidationError("ca_cert", f"{ca} is not a file")
    for option in ("timeout", "wait_timeout"):
        if params[option] is not None and params[option] <= 0:
            raise ValidationError(option, f"{params[option]:g} must be more than 0")
    return int(port)


def plan(state, current):
    """The RequestPowerStateChange value for ``state`` from ``current`` (a PowerState), or ``None``."""
    if state == "on":
        return None if current.on else ON
    if state == "off":
        return OFF_HARD if current.on else None
    if state == "cycle":
        return CYCLE if current.on else ON
    if state == "reset":
        return RESET if current.on else ON
    return None


def _refuse_unavailable(client, code, current):
    """AMT lists the changes it accepts from the current state; asking for another one is answered
    with an error code, so say it plainly before sending."""
    if current.available and code not in current.available:
        offered = ", ".join(f"{c} ({amt.POWER_STATES.get(c, 'unknown')})" for c in current.available)
        raise amt.AmtError(f"AMT at {client.endpoint} offers no change to {code} ({amt.POWER_STATES.get(code)}) while the "
                           f"host is {current.name} (state {current.code}); it offers: {offered}", client.endpoint)


def target(state):
    return "off" if state == "off" else "on"


def client_for(params, port):
    return amt.AmtClient(params["host"], port, tls=params["tls"], user=params["user"], password=params["password"],
                         verify=params["validate_certs"], ca_file=params.get("ca_cert"), timeout=params["timeout"])


def run(module):
    params = module.params
    port = check(params)
    module.hide([params["password"]])
    client = client_for(params, port)
    try:
        return _run(module, client)
    finally:
        client.close()


def _run(module, client):
    params = module.params
    state = params["state"]
    current = client.power_state()
    result = {"changed": False, "endpoint": client.endpoint, "power_state": current.name,
              "power_state_code": current.code, "pxe": False, "actions": []}
    code = plan(state, current)
    if code is None:
        return result
    _refuse_unavailable(client, code, current)
    pxe = bool(params["pxe"])
    result.update(changed=True, pxe=pxe)
    actions = (["one-time PXE boot"] if pxe else []) + [f"power {CODES[code]} ({code})"]
    after = {"power_state": target(state)}
    if pxe:
        after["next_boot"] = "network (PXE), once"
    if state in ("cycle", "reset") and current.on:
        after["action"] = state
    result["diff"] = {"before": {"power_state": current.name}, "after": after}
    result["actions"] = actions
    if module.check_mode:  # WS-Management has no dry run: check mode stops at the prediction ("would power on")
        result["power_state"] = target(state)
        return result
    if pxe:
        client.one_time_pxe()
        module.progress.report(f"AMT {params['host']}: one-time PXE boot set", key="amt")
    client.request_power_state_change(code)
    module.progress.report(f"AMT {params['host']}: power {CODES[code]} ({code}) requested", key="amt")
    if params["wait"]:
        want_on = target(state) == "on"
        final = wait.until(client.power_state, lambda s: s.on == want_on, timeout=params["wait_timeout"],
                           what=f"AMT {params['host']} to report power {target(state)}",
                           describe=lambda s: f"power state {s.code} ({s.name})")
    else:
        final = amt.PowerState(ON if target(state) == "on" else OFF_HARD)
    result.update(power_state=final.name, power_state_code=final.code)
    return result
