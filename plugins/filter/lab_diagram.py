# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``homelab.harvester.lab_diagram``: the lab plan drawn as a Graphviz DOT graph.

It reads the same data as ``homelab.harvester.lab_plan_errors`` (lab_vlans, the nodes' lab_node,
the management VLAN, VIP, NFS and bond) plus lab_clusters, checks it with the same
``validate_lab_plan`` and draws only a sound plan. Pure text out: rendering (``dot -Tsvg``) is
the playbook's business (playbooks/diagram.yml).

Documentation: the sidecar file lab_diagram.yml next to this one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.harvester.plugins.plugin_utils.lab_plan import (
    HAS_NETADDR,
    MGMT_VLAN_NAME,
    find_vlan,
    is_list,
    optional_section,
    parse_cidr,
    parse_ip,
    validate_lab_plan,
)

FONT = "Helvetica"
PURPOSE_WIDTH = 38
COLOURS = {
    "cluster": "#f4f7fb",
    "node": "#dbe8f6",
    "mgmt": "#cfe3f7",
    "vm_network": "#d9f0d3",
    "vlan": "#ececec",
    "switch": "#fff2cc",
    "oob": "#f8e1d4",
    "nas": "#e8dff5",
    "talos": "#fde9c9",
    "unknown": "#ffffff",
}


def quote(identifier):
    """A DOT ID in double quotes (any text is a valid ID that way)."""
    return '"' + str(identifier).replace("\\", "\\\\").replace('"', '\\"') + '"'


def html(text):
    """Text for a Graphviz HTML-like label (its own markup characters escaped)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def lines(*parts):
    """HTML-like label lines: each part escaped, joined with <br/>; None parts left out."""
    return "<br/>".join(html(part) for part in parts if part is not None)


def small(text):
    return f'<font point-size="8">{html(text)}</font>'


def wrapped(text):
    return textwrap.wrap(str(text), PURPOSE_WIDTH) if text else []


@optional_section("lab_clusters", "a list of cluster entries", is_list)
def cluster_problems(clusters):
    """Messages for entries of lab_clusters the diagram cannot read (empty when all are fine)."""
    problems = []
    for index, cluster in enumerate(clusters):
        where = f"lab_clusters[{index}]"
        if not isinstance(cluster, Mapping):
            problems.append(f"{where}: must be a dict of capi_cluster options, got {type(cluster).__name__}")
            continue
        if not isinstance(cluster.get("name"), str) or not cluster["name"]:
            problems.append(f"{where}: name is required")
            continue
        where = f"{where} ({cluster['name']})"
        pools = [("control_plane", cluster.get("control_plane"))]
        workers = cluster.get("workers")
        if workers is not None and not is_list(workers):
            problems.append(f"{where}: workers must be a list of pools")
        elif workers:
            pools += [(f"workers[{i}]", pool) for i, pool in enumerate(workers)]
        for field, pool in pools:
            if pool is not None and not isinstance(pool, Mapping):
                problems.append(f"{where}: {field} must be a dict")
            elif pool and pool.get("networks") is not None and not (
                    is_list(pool["networks"]) and all(isinstance(n, str) and n for n in pool["networks"])):
                problems.append(f"{where}: {field}.networks must be a list of VM networks (namespace/name)")
    return problems


def cluster_networks(cluster):
    """The VM networks (namespace/name) the machines of a cluster are on, in order, each once.
    Worker pools without networks take the control plane's (as capi_cluster does)."""
    control_plane = cluster.get("control_plane") or {}
    default = list(control_plane.get("networks") or [])
    found = []
    for network in default + [n for pool in cluster.get("workers") or [] for n in (pool.get("networks") or default)]:
        if network not in found:
            found.append(network)
    return found


def network_vlan(network, vlans):
    """The lab_vlans entry whose name is the VM network's name (the vlans role names them so)."""
    dummy_index, vlan = find_vlan(vlans, str(network).rpartition("/")[2])
    return vlan if vlan and vlan.get("vm_network") else None


def vlan_of_address(address, vlans):
    """The lab_vlans entry whose subnet holds the IP address, or None (a host name, or routed)."""
    ip = parse_ip(address)
    for vlan in vlans:
        network = parse_cidr(vlan.get("cidr"))
        if ip is not None and network is not None and ip in network:
            return vlan
    return None


def in_order(ids, indent):
    """DOT lines that keep these nodes on one row in the given order (Graphviz would reorder them)."""
    if len(ids) < 2:
        return []
    return [f"{indent}{{ rank=same; " + " -> ".join(quote(i) for i in ids) + " [style=invis]; }"]


def node_table(number, name, node):
    """One node as an HTML-like table: name, role and address, its bond NICs and its OOB NIC, each
    NIC a port (n<number>b<i>, n<number>oob) the edges to the switch and the OOB plane start from."""
    nics = node["bond_nics"]
    bond_cells = "".join(f'<td port="n{number}b{i}">{html(nic["name"])}<br/>{small(nic["mac"])}</td>' for i, nic in enumerate(nics))
    oob = node["oob_nic"]
    return ('<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="white">'
            f'<tr><td colspan="{len(nics)}" bgcolor="{COLOURS["node"]}"><b>{html(name)}</b><br/>'
            f'{html(node["role"])} &middot; {html(node["mgmt_ip"])}</td></tr>'
            f'<tr>{bond_cells}</tr>'
            f'<tr><td colspan="{len(nics)}" port="n{number}oob">OOB {html(oob["name"])}<br/>{small(oob["mac"])}</td></tr>'
            "</table>")


def harvester_label(bond_title, nodes):
    """The Harvester cluster as one table of node tables, so the nodes keep the inventory's order."""
    cells = "".join(f"<td>{node_table(number, name, node)}</td>" for number, (name, node) in enumerate(nodes.items()))
    return (f'<<table border="1" color="#8da9c4" style="rounded" cellspacing="10" cellborder="0" bgcolor="{COLOURS["cluster"]}">'
            f'<tr><td colspan="{len(nodes)}"><b>Harvester cluster</b><br/>{html(bond_title)}</td></tr><tr>{cells}</tr></table>>')


def vlan_label(vlan, mgmt_vlan_name):
    gateway = f"gw {vlan['gateway']}" if vlan.get("gateway") else "L2 only"
    roles = []
    if vlan.get("name") == mgmt_vlan_name:
        roles.append("host management")
    if vlan.get("vm_network"):
        roles.append("VM network")
    parts = [f"<b>VLAN {html(vlan['id'])} &middot; {html(vlan['name'])}</b>", f"{html(vlan['cidr'])} &middot; {html(gateway)}"]
    parts += [html(line) for line in wrapped(vlan.get("purpose"))]
    if roles:
        parts.append(f"<i>{html(', '.join(roles))}</i>")
    return "<" + "<br/>".join(parts) + ">"


def vlan_colour(vlan, mgmt_vlan_name):
    if vlan.get("name") == mgmt_vlan_name:
        return COLOURS["mgmt"]
    return COLOURS["vm_network"] if vlan.get("vm_network") else COLOURS["vlan"]


def talos_label(cluster):
    control_plane = cluster.get("control_plane") or {}
    versions = " &middot; ".join(html(f"{what} {cluster[key]}") for what, key in (("Kubernetes", "kubernetes_version"), ("Talos", "talos_version"))
                                 if cluster.get(key))
    workers = ", ".join(f"{pool.get('name', '?')} &times;{html(pool.get('replicas', 1))}" for pool in cluster.get("workers") or [])
    parts = [f"<b>Talos cluster {html(cluster['name'])}</b>", f"namespace {html(cluster.get('namespace', 'default'))}"]
    if versions:
        parts.append(versions)
    parts.append(f"control plane &times;{html(control_plane.get('replicas', 3))}")
    if workers:
        parts.append(f"worker pools {workers}")
    return "<" + "<br/>".join(parts) + ">"


def lab_diagram(vlans, nodes, mgmt_vlan_name=MGMT_VLAN_NAME, vip=None, nfs=None, bond=None, clusters=None,
                cluster_network="mgmt", mgmt_vlan_tagged=True, title="Harvester lab"):
    """The lab as a Graphviz DOT digraph (text)."""
    if not HAS_NETADDR:
        raise AnsibleFilterError(
            "The homelab.harvester.lab_diagram filter needs the Python library 'netaddr' on the "
            "Ansible controller (or in the execution environment): pip install netaddr"
        )
    problems = validate_lab_plan(vlans, nodes, mgmt_vlan_name=mgmt_vlan_name, vip=vip, nfs=nfs, bond=bond)
    problems += cluster_problems(clusters)
    if problems:
        raise AnsibleFilterError("lab_diagram: the lab plan has problems, nothing drawn: " + "; ".join(problems))
    nodes = dict(nodes) if isinstance(nodes, Mapping) else {node["name"]: node for node in nodes}
    clusters = list(clusters or [])
    dummy_index, mgmt = find_vlan(vlans, mgmt_vlan_name)

    out = [
        "digraph lab {",
        f'  graph [label={quote(title)}, labelloc=t, fontsize=18, fontname="{FONT}", rankdir=TB, nodesep=0.35, ranksep=0.8];',
        f'  node [fontname="{FONT}", fontsize=10, shape=box, style="rounded,filled", fillcolor="#ffffff"];',
        f'  edge [fontname="{FONT}", fontsize=9, dir=none];',
        "",
    ]

    # The Harvester cluster: its nodes (bond NICs and OOB NIC as ports) and their bond.
    bond = bond or {}
    bond_parts = (bond.get("mode"), bond.get("xmit_hash_policy"),
                  f"lacp {bond['lacp_rate']}" if bond.get("lacp_rate") else None,
                  f"MTU {bond['mtu']}" if bond.get("mtu") else None)
    bond_text = ", ".join(str(part) for part in bond_parts if part)
    bond_title = f"bond {cluster_network}-bo" + (f": {bond_text}" if bond_text else "")
    out += [f"  \"harvester\" [shape=plain, style=\"\", label={harvester_label(bond_title, nodes)}];", ""]

    # The switch: every node's bond is an LACP trunk carrying the VLANs tagged.
    tagged = [str(v["id"]) for v in vlans if mgmt_vlan_tagged or v["name"] != mgmt_vlan_name]
    switch_lines = ["Switch", f"one LACP trunk per node ({len(nodes)})", "802.1Q tagged: VLAN " + ", ".join(tagged)]
    if not mgmt_vlan_tagged:
        switch_lines.append(f"untagged: VLAN {mgmt['id']} ({mgmt_vlan_name})")
    out.append(f"  \"switch\" [shape=box, fillcolor=\"{COLOURS['switch']}\", label=<{lines(*switch_lines)}>];")
    out.append(f"  \"oob\" [fillcolor=\"{COLOURS['oob']}\", label=<{lines('OOB plane', 'vPro/AMT console, PXE boot')}>];")
    for number, node in enumerate(nodes.values()):
        for index in range(len(node["bond_nics"])):
            out.append(f"  \"harvester\":n{number}b{index}:s -> \"switch\" [penwidth=2];")
        out.append(f"  \"harvester\":n{number}oob:s -> \"oob\" [style=dashed];")
    out.append("")

    # The VLANs on the trunk, and what lives on them.
    for vlan in vlans:
        vid = quote("vlan:" + vlan["name"])
        out.append(f"  {vid} [fillcolor=\"{vlan_colour(vlan, mgmt_vlan_name)}\", label={vlan_label(vlan, mgmt_vlan_name)}];")
        out.append(f"  \"switch\" -> {vid};")
    out += in_order([f"vlan:{vlan['name']}" for vlan in vlans], "  ")
    if vip:
        out.append(f"  \"vip\" [shape=ellipse, fillcolor=\"{COLOURS['mgmt']}\", label=<{lines('VIP ' + str(vip), 'Harvester API and UI')}>];")
        out.append(f"  {quote('vlan:' + mgmt_vlan_name)} -> \"vip\";")
    if nfs:
        out.append(f"  \"nas\" [shape=cylinder, fillcolor=\"{COLOURS['nas']}\", "
                   f"label=<{lines('NAS ' + str(nfs['server']), *('NFS ' + str(nfs[key]) for key in ('images_export', 'backups_export') if nfs.get(key)))}>];")
        home = vlan_of_address(nfs["server"], vlans)
        if home:
            out.append(f"  {quote('vlan:' + home['name'])} -> \"nas\";")
        else:
            out.append(f"  {quote('vlan:' + mgmt_vlan_name)} -> \"nas\" [style=dashed, label=\"routed\"];")
    for cluster in clusters:
        cid = quote("talos:" + cluster["name"])
        out.append(f"  {cid} [fillcolor=\"{COLOURS['talos']}\", label={talos_label(cluster)}];")
        for network in cluster_networks(cluster):
            vlan = network_vlan(network, vlans)
            if vlan:
                out.append(f"  {quote('vlan:' + vlan['name'])} -> {cid};")
            else:  # a VM network made outside the plan: drawn, and said so
                nid = quote("network:" + network)
                out.append(f"  {nid} [style=\"rounded,dashed\", fillcolor=\"{COLOURS['unknown']}\", "
                           f"label=<{lines('VM network ' + network, 'not a VM network of lab_vlans')}>];")
                out.append(f"  {nid} -> {cid} [style=dashed];")
    out.append("}")
    return "\n".join(out) + "\n"


class FilterModule:
    """Lab diagram filter."""

    def filters(self):
        return {"lab_diagram": lab_diagram}
