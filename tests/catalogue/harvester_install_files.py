"""Catalogue of homelab.harvester.harvester_install_files (see tests/catalogue/__init__.py)."""
from __future__ import annotations

NODE = {"role": "create", "mgmt_ip": "10.10.10.11", "install_disk": "/dev/nvme0n1", "data_disk": "/dev/nvme1n1",
        "bond_nics": [{"name": "enp2s0f0np0", "mac": "58:47:ca:00:01:10"}, {"name": "enp2s0f1np1", "mac": "58:47:ca:00:01:11"}],
        "oob_nic": {"name": "enp5s0", "mac": "58:47:ca:00:01:20"}}
JOIN = dict(NODE, role="join", mgmt_ip="10.10.10.12",
            oob_nic={"name": "enp5s0", "mac": "58:47:ca:00:02:20"})


def args(dest="/tmp/pxe-catalogue", **extra):
    """A valid two-node set; ``extra`` replaces top-level options."""
    out = {"dest": dest, "version": "v1.8.2", "http_url": "http://10.10.10.20/harvester", "vip": "10.10.10.5",
           "fqdn": "harvester.lab.local", "token": "catalogue-token-value", "os_password": "catalogue-password",
           "dns_servers": ["10.10.10.1"], "ntp_servers": ["10.10.10.1"],
           "mgmt": {"cidr": "10.10.10.0/24", "gateway": "10.10.10.1", "vlan_id": 10},
           "bond": {"mode": "802.3ad", "miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast", "mtu": 1500},
           "nodes": {"ms02-1": NODE, "ms02-2": JOIN}}
    out.update(extra)
    return out


BAD_INPUTS = [
    (args(nodes={}), "nodes: at least one node is needed"),
    (args(nodes={"ms02-1": JOIN}), "nodes: exactly one node creates the cluster (role create), not 0"),
    (args(nodes={"ms02-1": NODE, "ms02-2": dict(JOIN, role="create")}),
     "nodes: exactly one node creates the cluster (role create), not 2: ms02-1, ms02-2"),
    (args(nodes={"ms02-1": dict(NODE, mgmt_ip="10.10.20.11")}), "nodes.ms02-1.mgmt_ip: 10.10.20.11 is not inside mgmt.cidr 10.10.10.0/24"),
    (args(nodes={"ms02-1": dict(NODE, mgmt_ip="ten")}), "nodes.ms02-1.mgmt_ip: 'ten' is not an IP address"),
    (args(nodes={"ms02-1": dict(NODE, role="leader")}), "nodes.ms02-1.role: 'leader' is not create or join"),
    (args(nodes={"ms02-1": {k: v for k, v in NODE.items() if k != "data_disk"}}), "nodes.ms02-1.data_disk: is required"),
    (args(nodes={"ms02-1": dict(NODE, bond_nics=NODE["bond_nics"][:1])}), "nodes.ms02-1.bond_nics: must list the two NICs of the bond"),
    (args(nodes={"ms02-1": dict(NODE, oob_nic={"name": "enp5s0", "mac": "58:47:ca:00:01"})}),
     "nodes.ms02-1.oob_nic.mac: '58:47:ca:00:01' is not a MAC address"),
    (args(mgmt={"cidr": "10.10.10.0/33", "gateway": "10.10.10.1"}), "mgmt.cidr: '10.10.10.0/33' is not a CIDR"),
    (args(bond={"mtu": 9216}), "bond.mtu: 9216 is not in 576-9000"),
    (args(token=""), "token: must not be empty"),
    (args(os_password=None), "os_password: give os_password or ssh_authorized_keys"),
    ({k: v for k, v in args().items() if k != "vip"}, "missing required arguments: vip"),
    (args(dest="/etc/hostname/pxe"), "dest: /etc/hostname is a file, not a directory"),
    (args(dest="/proc/1/pxe"), "dest: directory /proc/1 is not writable"),
]


def steps(ctx):
    from tests.catalogue import Step
    dest = f"{ctx.scratch}/pxe"
    return [
        Step(args(dest), check=True, diff=True, name="check mode: would write every file"),
        Step(args(dest), diff=True, name="write"),
        Step(args(dest), name="no-op"),
        Step(args(dest, kernel_args=["console=ttyS0,115200n8"]), diff=True, name="change the iPXE scripts"),
        Step(args(dest, token="another-token-value"), diff=True, name="change the install configs (fingerprints only)"),
    ]
