"""The bare-metal lab (`python -m tests.twin --bare --lab INVENTORY`): the nodes of the inventory
before Harvester is on them, each with its Intel AMT, and the install that makes them a cluster.

- At start no node is installed: no Node, LinkMonitor or Longhorn Node, and nothing listens at the
  VIP, the port the kubeconfig names (listener.py: connection refused). `/_twin/*` hooks answer on the
  twin's own port (`hooks-url` next to the kubeconfig), where API requests are closed without an
  answer while the API is down. The store holds only the Tinkerbell side's namespaces.
- Each node of `harvester_nodes` has an AMT endpoint on its own 127.0.0.1 port (amt.py), plain
  HTTP or, with `--amt-tls`, HTTPS with its own self-signed certificate. Digest user `admin`,
  password `vault_amt_password` of the inventory's group_vars/all (a host's
  `lab_node.amt.password_var` names another variable), or `--amt-password` when the vault value
  cannot be read (`!vault`).
- `<dir of --kubeconfig>/amt-endpoints.yml` (written before the kubeconfig) says where:
  `lab_amt_endpoints: {<node>: {host: 127.0.0.1, port: N, tls: bool}}`; with `--amt-tls`,
  `amt-certs/<node>.pem` next to it holds each endpoint's certificate.
- `tinkerbell-kubeconfig` next to the kubeconfig reaches the same store on a second port that
  answers from the start: the Tinkerbell cluster's API (Hardware, Rufio Machine/Job/Task,
  Secrets) is up while the Harvester API is not.
- A node powered on (or reset) by AMT with a one-time PXE boot set boots from its OOB port,
  runs `--pxe-url` (default `http://<lab_nfs.server>/harvester/boot.ipxe`) and what it chains to,
  and installs (machine.py, pxe.py, installer.py); the create node brings the API up; joins
  follow (cluster.py). One log line per step (logger `twin.metal`), also kept for
  `GET /_twin/metal`.

`GET /_twin/metal`: {api_up, pxe_url, nodes: {name: {power, stage, reason, boot, installed,
joined, amt_provisioned, amt_calls, amt: {host, port, tls}}}, steps: [...]}; `amt_calls`
lists each request the node's AMT answered (`<operation> <class> <HTTP status>`, `- 401` for a
challenge).
`PATCH /_twin/metal` {"nodes": {"<node>": {"amt_provisioned": false}}}: that AMT stops
listening (connection refused), as an AMT that was never provisioned; true brings it back.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .. import lab_inventory
from ..tls import make_self_signed
from .amt import AmtEndpoint
from .cluster import Cluster
from .machine import Machine, Runner

if TYPE_CHECKING:
    from ..server import Twin

log = logging.getLogger("twin.metal")
ENDPOINTS_FILE = "amt-endpoints.yml"
CERTS_DIR = "amt-certs"


class MetalError(ValueError):
    """The inventory cannot describe the bare-metal lab (the message names what is missing)."""


def amt_password(inventory: list[dict], path: Path, node: dict, given: str | None) -> str:
    """The AMT password of a node: --amt-password, else the vault variable the inventory names."""
    if given:
        return given
    all_vars = inventory[0].get("_all") or {}
    var = ((node.get("lab_node") or {}).get("amt") or {}).get("password_var") or "vault_amt_password"
    value = all_vars.get(var)
    where = Path(path) / "group_vars" / "all" / "vault.yml"
    if value is None:
        raise MetalError(f"{where}: no {var} (the AMT password of {node['name']}); set it or give --amt-password")
    if isinstance(value, lab_inventory.Opaque) or not isinstance(value, str):
        raise MetalError(f"{where}: {var} is vault-encrypted and cannot be read; give --amt-password")
    return value


class Metal:
    def __init__(self, twin: Twin, inventory_path: Path, *, amt_tls: bool = False, amt_password_flag: str | None = None,
                 pxe_url: str | None = None):
        self.twin = twin
        self.clock, self.store, self.outside = twin.clock, twin.store, twin.outside
        self.inventory_path = Path(inventory_path)
        try:
            inventory = lab_inventory.load(self.inventory_path)
            lab_docs = lab_inventory.documents(self.inventory_path)
        except lab_inventory.LabInventoryError as e:
            raise MetalError(str(e)) from None
        self.amt_tls = amt_tls
        self.pxe_url = pxe_url or f"http://{self.outside.nas_host}/harvester/boot.ipxe"
        self.machines: dict[str, Machine] = {}
        self.passwords: dict[str, str] = {}
        for i, node in enumerate(inventory):
            self.machines[node["name"]] = self._machine(i, node)
            self.passwords[node["name"]] = amt_password(inventory, self.inventory_path, node, amt_password_flag)
        self.initial = {name: m.snapshot() for name, m in self.machines.items()}
        self.cluster = Cluster(self, self.store, inventory, lab_docs)
        self.runner = Runner(self)
        self.endpoints: dict[str, AmtEndpoint] = {}
        self.certs: dict[str, bytes] = {}
        self.vip = None  # listener.SwitchedListener, set by __main__ before the first request
        self._api_up = False
        self.steps: list[str] = []

    @property
    def api_up(self) -> bool:
        return self._api_up

    @api_up.setter
    def api_up(self, up: bool) -> None:
        """The API comes up (the create node installed) or goes (reset, restore): the VIP listens
        or not. Set from the event loop (a request, a machine's install)."""
        self._api_up = up
        if self.vip is not None:
            asyncio.get_running_loop().create_task(self.vip.listen(up))

    @staticmethod
    def _machine(i: int, node: dict) -> Machine:
        no, lab_node = i + 1, node.get("lab_node") or {}
        ports = [(n["name"], lab_inventory.mac_of(n, no, f"a{j:x}")) for j, n in enumerate(node["bond_nics"])]
        oob = node.get("oob_nic")
        if not oob:
            raise MetalError(f"host {node['name']}: lab_node.oob_nic is needed (the port it PXE-boots from)")
        oob_mac = lab_inventory.mac_of(oob, no, "b0")
        ports.append((oob["name"], oob_mac))
        disks = {str(d) for d in (lab_node.get("install_disk"), lab_node.get("data_disk")) if d}
        amt = lab_node.get("amt") if isinstance(lab_node.get("amt"), dict) else {}
        return Machine(name=node["name"], index=i, ports=ports, oob_mac=oob_mac, disks=disks,
                       mgmt_ip=node["mgmt_ip"], amt_host=str(amt.get("host") or ""))

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start every AMT endpoint (on the running event loop)."""
        for name, m in self.machines.items():
            ctx = None
            if self.amt_tls:
                cert = make_self_signed(f"iAMT {name}", ("127.0.0.1",))
                self.certs[name] = cert.cert_pem
                ctx = cert.ssl_context()
            endpoint = AmtEndpoint(self, m, self.passwords[name], ctx)
            await endpoint.start()
            self.endpoints[name] = endpoint

    async def stop(self) -> None:
        for m in self.machines.values():
            m.cancel()
        for endpoint in self.endpoints.values():
            await endpoint.stop()
        if self.vip is not None:
            await self.vip.stop()

    def write_files(self, folder: Path) -> Path:
        """amt-endpoints.yml (and the certificates) in folder; its path."""
        folder.mkdir(parents=True, exist_ok=True)
        doc = {"lab_amt_endpoints": {name: {"host": "127.0.0.1", "port": e.port, "tls": e.tls}
                                     for name, e in self.endpoints.items()}}
        path = folder / ENDPOINTS_FILE
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text("# Written by the twin (--bare): where each node's simulated AMT answers.\n"
                       + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        tmp.replace(path)
        if self.certs:
            (folder / CERTS_DIR).mkdir(exist_ok=True)
            for name, pem in self.certs.items():
                (folder / CERTS_DIR / f"{name}.pem").write_bytes(pem)
        return path

    def seed(self) -> None:
        self.cluster.seed_start()

    def reset(self) -> None:
        """All nodes off and empty again, no cluster, the API down (the AMT ports stay)."""
        for name, m in self.machines.items():
            m.restore(self.initial[name])
        self.cluster.reset()
        self.api_up = False
        self.steps = []

    async def sync_listening(self) -> None:
        """After a reset or restore: each AMT listens exactly when its machine is provisioned, and
        the VIP when the API is up (done here, not only in the background, before the hook answers)."""
        for endpoint in self.endpoints.values():
            await endpoint.set_provisioned(endpoint.machine.amt_provisioned)
        if self.vip is not None:
            await self.vip.listen(self._api_up)

    def snapshot(self) -> dict:
        return {"machines": {n: m.snapshot() for n, m in self.machines.items()}, "cluster": self.cluster.snapshot(),
                "api_up": self.api_up, "steps": list(self.steps)}

    def restore(self, snap: dict) -> None:
        for name, m in self.machines.items():
            m.restore(snap["machines"][name])
        self.cluster.restore(snap["cluster"])
        self.api_up = snap["api_up"]
        self.steps = list(snap["steps"])
        for m in self.machines.values():  # a node that was part-way through a start starts again
            if m.power == 2 and m.stage not in ("running", "no-os", "stuck", "off"):
                m.stage = "off"
                self.runner.start(m, pxe_boot=False)

    # ------------------------------------------------------------------ the log and the hook
    def step(self, line: str) -> None:
        self.steps.append(line)
        log.info("%s", line)

    def state(self) -> dict:
        return {"api_up": self.api_up, "pxe_url": self.pxe_url,
                "nodes": {name: {**m.state(), "amt": {"host": "127.0.0.1", "port": self.endpoints[name].port
                                                      if name in self.endpoints else 0, "tls": self.amt_tls}}
                          for name, m in self.machines.items()},
                "steps": list(self.steps)}

    async def patch(self, body: dict) -> None:
        nodes = body.get("nodes") if isinstance(body, dict) else None
        if not isinstance(nodes, dict):
            raise ValueError('expected {"nodes": {"<node>": {"amt_provisioned": true|false}}}')
        for name, change in nodes.items():
            if name not in self.machines:
                raise ValueError(f"no node {name!r} in the inventory")
            if not isinstance(change, dict) or set(change) - {"amt_provisioned"}:
                raise ValueError("only amt_provisioned can be changed")
            if "amt_provisioned" in change:
                await self.endpoints[name].set_provisioned(bool(change["amt_provisioned"]))

