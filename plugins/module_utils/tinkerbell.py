# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bare-metal node as Tinkerbell knows it: a Hardware (its PXE port, netboot allowed, the iPXE
script it boots), a Secret with its BMC credentials and a Rufio Machine (how Rufio reaches its
Intel AMT). The flow of ``tinkerbell_machine``.

Facts (tinkerbell/tinkerbell v0.25.0 CRDs and code, ../shared/reference/tinkerbell.md):

- Hardware ``spec.interfaces[].dhcp.mac`` must be lower-case colon form; Smee finds the machine
  by it; ``netboot.allowPXE`` gates both the DHCP boot answer and the iPXE script;
  ``netboot.ipxe.url`` (http/https) makes Smee's script ``chain`` to it; ``spec.bmcRef`` names
  the Machine (kind ``Machine``, apiGroup ``bmc.tinkerbell.org``);
- the Machine's ``spec.connection`` needs ``host`` and ``insecureTLS`` (required by the CRD, not
  read by Rufio v0.25.0); ``authSecretRef`` names a Secret with keys ``username`` and ``password``;
  ``providerOptions.intelAMT{port, hostScheme}`` is what Rufio's AMT provider uses (an omitted
  port becomes 0, so it is always set); ``preferredOrder: [IntelAMT]`` puts that provider first;
- UEFI: Harvester v1.8 PXE-installs on UEFI only (``dhcp.uefi: true``, arch ``x86_64``).

The Secret's data is compared and shown as a fingerprint, never returned.
"""

from __future__ import annotations

import base64
import re

from . import kinds, validate
from .harvester_identity import fingerprint
from .reconcile import Field, ensure_absent, ensure_present
from .validate import ValidationError

MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
MACHINE_GROUP = "bmc.tinkerbell.org"


def secret_name(name):
    return f"{name}-bmc"


def _b64(text):
    return base64.b64encode(str(text).encode("utf-8")).decode("ascii")


def check(params):
    """Input checks before any request."""
    validate.name(params["name"], "name")
    validate.name(params["namespace"], "namespace")
    if params["state"] == "absent":
        return
    for option in ("mac", "ipxe_url", "amt"):
        if not params.get(option):
            raise ValidationError(option, "is required when state is present")
    mac = str(params["mac"]).lower()
    if not MAC.match(mac):
        raise ValidationError("mac", f"{params['mac']!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    if not re.match(r"^https?://[^/\s]+", params["ipxe_url"]):
        raise ValidationError("ipxe_url", f"{params['ipxe_url']!r} is not an http(s) URL (Smee chains to http and https only)")
    amt = params["amt"]
    if not amt.get("host"):
        raise ValidationError("amt.host", "must not be empty")
    if not amt.get("password"):
        raise ValidationError("amt.password", "must not be empty")
    if amt.get("port") is not None and not 1 <= amt["port"] <= 65535:
        raise ValidationError("amt.port", f"{amt['port']} is not in 1-65535")
    ip = params.get("ip") or {}
    for key in ("address", "netmask", "gateway"):
        if ip.get(key):
            validate.ip(ip[key], f"ip.{key}")


def hardware(params):
    dhcp = {"mac": str(params["mac"]).lower(), "hostname": params["hostname"] or params["name"], "arch": "x86_64",
            "uefi": True}
    ip = {k: v for k, v in (params.get("ip") or {}).items() if v}
    if ip:
        dhcp["ip"] = dict(ip, family=4)
    interface = {"dhcp": dhcp, "netboot": {"allowPXE": True, "allowWorkflow": False, "ipxe": {"url": params["ipxe_url"]}}}
    return kinds.HARDWARE.new(params["name"], params["namespace"], spec={
        "interfaces": [interface],
        "bmcRef": {"apiGroup": MACHINE_GROUP, "kind": "Machine", "name": params["name"]},
    })


def secret(params):
    amt = params["amt"]
    return kinds.SECRET.new(secret_name(params["name"]), params["namespace"], type="Opaque", data={
        "username": _b64(amt.get("user") or "admin"), "password": _b64(amt["password"])})


def machine(params):
    amt = params["amt"]
    tls = amt.get("tls", True)
    port = amt.get("port") or (16993 if tls else 16992)
    return kinds.RUFIO_MACHINE.new(params["name"], params["namespace"], spec={"connection": {
        "host": amt["host"],
        "insecureTLS": not amt.get("validate_certs", False),
        "authSecretRef": {"name": secret_name(params["name"]), "namespace": params["namespace"]},
        "providerOptions": {"preferredOrder": ["IntelAMT"],
                            "intelAMT": {"port": int(port), "hostScheme": "https" if tls else "http"}},
    }})


def _interfaces(value):
    """The interfaces as compared: the keys this module sets, not the ones the CRD's schema defaults
    (``disableDhcp``, ...)."""
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        dhcp = (item or {}).get("dhcp") or {}
        netboot = (item or {}).get("netboot") or {}
        out.append({"dhcp": {k: dhcp.get(k) for k in ("mac", "hostname", "arch", "uefi", "ip") if dhcp.get(k) is not None},
                    "netboot": {"allowPXE": netboot.get("allowPXE"), "allowWorkflow": netboot.get("allowWorkflow"),
                                "ipxe": {"url": (netboot.get("ipxe") or {}).get("url")}}})
    return out


HARDWARE_FIELDS = [Field(("spec", "interfaces"), normalise=_interfaces), Field(("spec", "bmcRef"))]
SECRET_FIELDS = [Field(("data", "username"), normalise=fingerprint), Field(("data", "password"), normalise=fingerprint)]
MACHINE_FIELDS = [Field(("spec", "connection", key)) for key in ("host", "insecureTLS", "authSecretRef", "providerOptions")]


def _without_data(obj):
    """A Secret as it may be shown: its keys, never their values."""
    if not obj:
        return obj
    out = {k: v for k, v in obj.items() if k != "data"}
    out["data_keys"] = sorted(obj.get("data") or {})
    return out


def run(module):
    params = module.params
    check(params)
    module.hide([(params.get("amt") or {}).get("password")])
    client = module.client
    ns, name = params["namespace"], params["name"]
    parts = (("secret", kinds.SECRET, secret, SECRET_FIELDS, secret_name(name)),
             ("machine", kinds.RUFIO_MACHINE, machine, MACHINE_FIELDS, name),
             ("hardware", kinds.HARDWARE, hardware, HARDWARE_FIELDS, name))
    result = {"changed": False}
    before, after = {}, {}
    if params["state"] == "absent":
        for label, kind, _build, fields, obj_name in reversed(parts):  # the Hardware first: nothing boots from it any more
            changed, dummy2, dummy3, diff = ensure_absent(client, kind, ns, obj_name, fields=fields, wait=False)
            result["changed"] |= changed
            before[label], after[label] = diff["before"], diff["after"]
            result[label] = None
    else:
        for label, kind, build, fields, _obj_name in parts:  # the Secret first: the Machine names it
            desired = build(params)
            module.hide([desired.get("data", {}).get("password")])
            changed, dummy2, obj, diff = ensure_present(client, kind, desired, fields=fields)
            result["changed"] |= changed
            before[label], after[label] = diff["before"], diff["after"]
            result[label] = _without_data(obj) if kind is kinds.SECRET else obj
    result["diff"] = {"before": before, "after": after}
    return result
