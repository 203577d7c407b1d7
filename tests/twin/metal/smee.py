"""What a booting node's DHCP answer and first iPXE script are when Tinkerbell serves it
(../shared/reference/tinkerbell.md §3: Smee, tinkerbell/tinkerbell v0.25.0
smee/internal/dhcp/handler/reservation/option.go, smee/internal/ipxe/script/{ipxe,custom}.go).

With the Tinkerbell CRDs loaded, a Hardware whose `interfaces[].dhcp.mac` is the node's OOB MAC
decides: `netboot.allowPXE` not true -> the DHCP reply's filename is `/netboot-not-allowed` and
the node does not boot from the network; `netboot.ipxe.url` (http or https; it wins over
`contents`) -> Smee's custom script chains to it; `netboot.ipxe.contents` -> Smee's custom script
runs it; neither -> Smee's HookOS script (Tinkerbell workflows: not modelled). Without such a
Hardware the lab's DHCP hands out the twin's --pxe-url.
"""
from __future__ import annotations

from urllib.parse import urlsplit

SCRIPT_URL = "http://smee:7080/ipxe/script/{mac}/auto.ipxe"


class NoNetboot(Exception):
    """The node gets no iPXE script (the reason, for the twin's log)."""


def _hardware_for(store, mac: str) -> dict | None:
    kind = store.registry.by_kind("tinkerbell.org", "Hardware")
    if kind is None:
        return None
    for hw in store.list(kind):
        for iface in (hw.get("spec") or {}).get("interfaces") or []:
            if ((iface.get("dhcp") or {}).get("mac") or "").lower() == mac.lower():
                return {"hardware": hw, "interface": iface}
    return None


def boot_script(store, mac: str, default_url: str) -> tuple[str, str | None]:
    """(url, script): the DHCP filename to chain, or Smee's script served at url."""
    found = _hardware_for(store, mac)
    if found is None:
        return default_url, None
    hw, iface = found["hardware"], found["interface"]
    where = f"Tinkerbell Hardware {hw['metadata'].get('namespace')}/{hw['metadata']['name']}"
    netboot = iface.get("netboot") or {}
    if not netboot.get("allowPXE"):
        raise NoNetboot(f"DHCP filename /netboot-not-allowed ({where}: netboot.allowPXE is not true)")
    ipxe = netboot.get("ipxe") or {}
    url = SCRIPT_URL.format(mac=mac)
    if ipxe.get("url"):
        if urlsplit(ipxe["url"]).scheme not in ("http", "https"):
            raise NoNetboot(f"{url}... HTTP 500 (invalid URL scheme in {where} netboot.ipxe.url)")
        return url, f"#!ipxe\n\necho Loading custom Tinkerbell iPXE script...\nchain --autofree {ipxe['url']}\n"
    if ipxe.get("contents"):
        return url, f"#!ipxe\n\necho Loading custom Tinkerbell iPXE script...\n{ipxe['contents']}\n"
    raise NoNetboot(f"{url}: Smee's HookOS script ({where} has no netboot.ipxe url or contents): "
                    "Tinkerbell workflows are not modelled")
