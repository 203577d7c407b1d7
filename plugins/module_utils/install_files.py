# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Harvester nodes PXE-boot and install from, rendered from the lab plan, and written
into the directory an HTTP server publishes. The flow of ``harvester_install_files``.

Facts (harvester/harvester-installer v1.8 ``pkg/config``: ``HarvesterConfig``, ``Install``,
``Network``; the iPXE boot of the Harvester docs' "PXE Boot Installation"):

- one config per node: ``scheme_version: 1``, ``token`` (the same on every node), ``os``
  (hostname, DNS and NTP servers, the ``rancher`` user's password and SSH keys), ``install``
  (``mode`` create or join, ``automatic``, ``device``, ``data_disk``, ``iso_url``,
  ``management_interface``); the create node carries ``install.vip`` and ``vip_mode: static``,
  a join node ``server_url: https://<vip>:443``; ``sans`` adds the UI/API name;
- ``management_interface``: ``interfaces`` (``name``, ``hwAddr``), ``method: static``, ``ip``,
  ``subnet_mask``, ``gateway``, ``bond_options`` (a ``map[string]string``: every value a string),
  ``mtu``, ``vlan_id`` (0 untagged);
- the node's iPXE script boots the kernel and initrd of the release with
  ``harvester.install.automatic=true`` and ``harvester.install.config_url``, from the port whose
  MAC is the node's out-of-band NIC; ``boot.ipxe`` (the DHCP filename) chains to the script of the
  node whose OOB MAC booted.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile

from . import validate
from .errors import HarvesterError
from .harvester_identity import fingerprint
from .validate import ValidationError

HEADER = "# Managed by homelab.harvester (harvester_install_files): changes here are overwritten."
HASH_POLICY_MODES = ("802.3ad", "balance-xor", "balance-tlb", "balance-alb")


# --- rendering ---------------------------------------------------------------------------------
def bond_options(bond):
    """The installer's ``bond_options``: strings only; the hash policy where the mode uses one,
    the LACP rate with 802.3ad."""
    options = {"mode": str(bond["mode"]), "miimon": str(bond["miimon"])}
    if bond.get("xmit_hash_policy") and bond["mode"] in HASH_POLICY_MODES:
        options["xmit_hash_policy"] = str(bond["xmit_hash_policy"])
    if bond.get("lacp_rate") and bond["mode"] == "802.3ad":
        options["lacp_rate"] = str(bond["lacp_rate"])
    return options


def management_interface(node, params):
    mgmt = ipaddress.ip_network(params["mgmt"]["cidr"], strict=False)
    return {"interfaces": [{"name": nic["name"], "hwAddr": nic["mac"]} for nic in node["bond_nics"]],
            "bond_options": bond_options(params["bond"]), "mtu": int(params["bond"]["mtu"]),
            "vlan_id": int(params["mgmt"].get("vlan_id") or 0), "method": "static", "ip": node["mgmt_ip"],
            "subnet_mask": str(mgmt.netmask), "gateway": params["mgmt"]["gateway"]}


def install_config(node, params):
    """The harvester-installer configuration of one node, in the installer's key order."""
    os_part = {"hostname": node["name"], "dns_nameservers": list(params["dns_servers"]),
               "ntp_servers": list(params["ntp_servers"])}
    if params.get("os_password"):
        os_part["password"] = params["os_password"]
    if params.get("ssh_authorized_keys"):
        os_part["ssh_authorized_keys"] = list(params["ssh_authorized_keys"])
    install = {"mode": node["role"], "automatic": True, "device": node["install_disk"], "data_disk": node["data_disk"],
               "iso_url": f"{artifacts(params)}-amd64.iso", "management_interface": management_interface(node, params)}
    if node["role"] == "create":
        install.update(vip=params["vip"], vip_mode="static")
    config = {"scheme_version": 1}
    if node["role"] == "join":
        config["server_url"] = f"https://{params['vip']}:443"
    config.update(token=str(params["token"]), sans=[s for s in (params.get("fqdn"), params["vip"]) if s], os=os_part,
                  install=install)
    return config


def artifacts(params):
    """The release files' common prefix, ``<artifacts_url>/harvester-<version>``."""
    base = params.get("artifacts_url") or f"{params['http_url']}/{params['version']}"
    return f"{base.rstrip('/')}/harvester-{params['version']}"


def node_ipxe(node, params):
    """The node's iPXE script: DHCP on the port with its OOB MAC, then the release's kernel."""
    base, version = artifacts(params), params["version"]
    mac = node["oob_nic"]["mac"].lower()
    kernel = " ".join([f"kernel {base}-vmlinuz-amd64", f"initrd=harvester-{version}-initrd-amd64", "ip=dhcp",
                       "BOOTIF=01-" + mac.replace(":", "-"), "net.ifnames=1", "rd.cos.disable", "rd.noverifyssl",
                       "console=tty1", f"root=live:{base}-rootfs-amd64.squashfs", "harvester.install.automatic=true",
                       f"harvester.install.config_url={params['http_url'].rstrip('/')}/{node['name']}.yaml",
                       *(params.get("kernel_args") or [])])
    return "\n".join([
        "#!ipxe", HEADER,
        f"# {node['name']}: Harvester {version} install, mode {node['role']}.",
        f"# Boots from the OOB port {node['oob_nic']['name']} ({mac}).",
        f"set oob-mac {mac}", "set idx:int32 0",
        ":find_oob", "isset ${net${idx}/mac} || goto no_oob", "iseq ${net${idx}/mac} ${oob-mac} && goto oob_found ||",
        "inc idx", "goto find_oob",
        ":no_oob", f"echo No network port with MAC ${{oob-mac}}: this is not {node['name']}'s OOB port.", "shell",
        ":oob_found", "ifconf --configurator dhcp net${idx} || goto no_oob",
        kernel, f"initrd {base}-initrd-amd64", "boot", ""])


def boot_ipxe(nodes, params):
    """The entry script (the DHCP filename): chains to the script of the node whose OOB MAC booted."""
    url = params["http_url"].rstrip("/")
    chains = [f"iseq ${{mac}} {n['oob_nic']['mac'].lower()} && chain {url}/{n['name']}.ipxe ||" for n in nodes]
    return "\n".join(["#!ipxe", HEADER, "# Entry script (DHCP filename): chains to the script of the node whose OOB port "
                      "booted.", *chains, "echo No Harvester node has the OOB MAC ${mac}.", "shell", ""])


def nodes(params):
    """``params["nodes"]`` (name -> node) as a list of nodes with their ``name``."""
    return [dict(node, name=name) for name, node in params["nodes"].items()]


def files(params):
    """``[(file name, text, mode, secret)]``: each node's install config (0600: it holds the
    token and the password) and iPXE script, then ``boot.ipxe``."""
    out = []
    for node in nodes(params):
        config = install_config(node, params)
        # JSON is YAML: the installer reads it with a YAML parser; key order kept
        text = HEADER + "\n" + json.dumps(config, indent=2) + "\n"
        out.append((f"{node['name']}.yaml", text, 0o600, True))
        out.append((f"{node['name']}.ipxe", node_ipxe(node, params), 0o644, False))
    out.append(("boot.ipxe", boot_ipxe(nodes(params), params), 0o644, False))
    return out


# --- input ----------------------------------------------------------------------------------------
def check(params):
    """What the installer would refuse or what cannot be rendered or written, before anything is."""
    validate.writable_directory(params["dest"], "dest", create=True)
    if not params["nodes"]:
        raise ValidationError("nodes", "at least one node is needed")
    try:
        mgmt = ipaddress.ip_network(params["mgmt"]["cidr"], strict=False)
    except ValueError:
        raise ValidationError("mgmt.cidr", f"{params['mgmt']['cidr']!r} is not a CIDR") from None
    mtu = params["bond"]["mtu"]
    if not 576 <= mtu <= 9000:
        raise ValidationError("bond.mtu", f"{mtu} is not in 576-9000")
    if not str(params.get("token") or ""):
        raise ValidationError("token", "must not be empty (the cluster token, the same on every node)")
    if not params.get("os_password") and not params.get("ssh_authorized_keys"):
        raise ValidationError("os_password", "give os_password or ssh_authorized_keys: the installer needs a login "
                                             "for the rancher user")
    creates = []
    for name, node in params["nodes"].items():
        where = f"nodes.{name}"
        if not isinstance(node, dict):
            raise ValidationError(where, "must describe the node (role, mgmt_ip, install_disk, data_disk, bond_nics, oob_nic)")
        for key in ("role", "mgmt_ip", "install_disk", "data_disk", "bond_nics", "oob_nic"):
            if node.get(key) in (None, "", [], {}):
                raise ValidationError(f"{where}.{key}", "is required")
        if node["role"] not in ("create", "join"):
            raise ValidationError(f"{where}.role", f"{node['role']!r} is not create or join")
        if node["role"] == "create":
            creates.append(name)
        try:
            ip = ipaddress.ip_address(node["mgmt_ip"])
        except ValueError:
            raise ValidationError(f"{where}.mgmt_ip", f"{node['mgmt_ip']!r} is not an IP address") from None
        if ip not in mgmt:
            raise ValidationError(f"{where}.mgmt_ip", f"{ip} is not inside mgmt.cidr {mgmt}")
        if not isinstance(node["bond_nics"], list) or len(node["bond_nics"]) != 2:
            raise ValidationError(f"{where}.bond_nics", "must list the two NICs of the bond")
        for j, nic in enumerate(node["bond_nics"]):
            _check_nic(nic, f"{where}.bond_nics[{j}]")
        _check_nic(node["oob_nic"], f"{where}.oob_nic")
    if len(creates) != 1:
        raise ValidationError("nodes", f"exactly one node creates the cluster (role create), not {len(creates)}"
                                       + (f": {', '.join(creates)}" if creates else ""))


def _check_nic(nic, where):
    if not isinstance(nic, dict):
        raise ValidationError(where, "must have name and mac")
    for key in ("name", "mac"):
        if not str(nic.get(key) or "").strip():
            raise ValidationError(f"{where}.{key}", "is required")
    parts = str(nic["mac"]).split(":")
    if len(parts) != 6 or not all(len(x) == 2 and all(c in "0123456789abcdefABCDEF" for c in x) for x in parts):
        raise ValidationError(f"{where}.mac", f"{nic['mac']!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")


# --- publishing ---------------------------------------------------------------------------------
def _current(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text, os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None, None


def publish(dest, rendered, check_mode=False):
    """Writes each file whose content or mode differs (atomically: a temp file renamed over it);
    returns ``(changed names, diff)``. The diff shows a secret file by a fingerprint of its content.
    Local files, no API client: check mode is the module's here (nothing is written, the diff says
    what would be)."""
    changed, before, after = [], {}, {}
    if not check_mode:
        try:
            os.makedirs(dest, mode=0o755, exist_ok=True)
        except OSError as e:
            raise HarvesterError(f"dest: cannot create {dest}: {e.strerror or e}") from None
    for name, text, mode, secret in rendered:
        path = os.path.join(dest, name)
        old, old_mode = _current(path)
        if old == text and old_mode == mode:
            continue
        changed.append(name)
        before[name] = None if old is None else (fingerprint(old) if secret else old)
        after[name] = fingerprint(text) if secret else text
        if old_mode is not None and old_mode != mode:
            before[name + " mode"], after[name + " mode"] = oct(old_mode), oct(mode)
        if check_mode:
            continue
        _write(dest, name, path, text, mode)
    return changed, {"before": before, "after": after}


def _write(dest, name, path, text, mode):
    """A temp file renamed over ``path``: readers see the old file or the new one, never half."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise HarvesterError(f"dest: cannot write {path}: {e.strerror or e}") from None


def run(module):
    p = module.params
    check(p)
    rendered = files(p)
    changed, diff = publish(p["dest"], rendered, check_mode=module.check_mode)
    return {"changed": bool(changed), "files": [os.path.join(p["dest"], name) for name, *rest in rendered],
            "written": [os.path.join(p["dest"], name) for name in changed], "diff": diff}
