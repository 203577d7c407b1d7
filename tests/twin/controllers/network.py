"""Controllers of the network area: what harvester-network-controller's manager and its per-node
agent do after a write (network-controller-harvester pkg/controller/{manager,agent}).

- NadController (manager nad controller): finalizer; labels clusternetwork/type/vlan-id/ready
  from the config; an `auto` route is answered by "DHCP on the VLAN" (lab/dhcp-leases.yml: VLAN
  id -> cidr/gateway; no entry: connectivity "DHCP failed"), then the gateway is "pinged"
  (connectivity "true", or "ping failed" for a manual gateway the VLAN does not have).
- ClusterNetworkController (manager cn controller): finalizer; LinkMonitor `<cn>` once ready,
  deleted with the cluster network; NADs' `ready` label follows the `ready` condition.
- VlanConfigManager (manager vlanconfig controller, on VlanConfigs and VlanStatuses, one
  finalizer name for both): ClusterNetwork annotations uplink-mtu/mtu-source-vc; ClusterNetwork
  `ready` True as soon as a VlanStatus exists, False when the last one goes.
- VlanConfigAgent (the agent of every node, one serial actor): per matched node it builds the bond
  `<cn>-bo` over the uplink NICs and the bridge `<cn>-br`, writes the VlanStatus and node labels,
  tears them down when the node stops matching or the VlanConfig goes. The `nic` LinkMonitor
  status is the hardware: the agent only ever moves NICs' masterIndex (into a bond, back to 0),
  never their state. Bonds and bridges it made are its "kernel" (in memory, empty at start like
  the seeded lab has no custom bonds) and are reported in LinkMonitor `<cn>`: a bond is up while
  any of its NICs is up.
- LinkMonitorController (agent link-monitor controller): its finalizer on LinkMonitors.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..admission import network as net
from ..registry import Kind
from . import WRANGLER, Controller, condition, set_condition

GROUP = net.GROUP
NAD_GROUP = net.NAD_GROUP
LEASES = Path(__file__).resolve().parents[1] / "lab" / "dhcp-leases.yml"

# delays, in real seconds (scaled by --speed)
LABEL_DELAY = 0.3  # manager reacting to a new NAD
DHCP_DELAY = 1.0  # the DHCP helper Job on the VLAN
PING_DELAY = 0.5  # pinging the gateway
AGENT_DELAY = 1.0  # the agent building or tearing down a bond


def dhcp_leases(store=None) -> dict[int, dict]:
    """VLAN id -> {cidr, gateway, serverIPAddr}: what a DHCP client on that lab VLAN is answered;
    the seeded environment's (``--lab``: every routed VLAN of the inventory), else lab/dhcp-leases.yml."""
    seeded = (store.environment.get("dhcp_leases") if store is not None else None) or None
    if seeded is not None:
        return {int(k): v for k, v in seeded.items()}
    try:
        with open(LEASES, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
    except OSError:
        return {}
    return {int(k): v for k, v in (doc.get("vlans") or {}).items()}


def _labels(obj: dict) -> dict:
    return obj["metadata"].get("labels") or {}


# ================================================================================== NAD
class NadController(Controller):
    name = "harvester-network-manager-nad-controller"
    watches = ((NAD_GROUP, "network-attachment-definitions"),)
    finalizer = WRANGLER + name

    def start(self) -> None:
        self._probing: set[tuple] = set()
        super().start()

    async def on_change(self, kind: Kind, obj: dict) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        try:
            conf = net.decode_config(obj)
            wanted = net.network_labels(conf, _labels(obj))
        except ValueError:
            return
        cn = self.get(self.kind(GROUP, "clusternetworks"), "", wanted[net.KEY_CN])
        wanted[net.KEY_READY] = "true" if net.is_kube_ovn(conf) or net.is_ready(cn) else "false"
        if wanted != _labels(obj):
            await self.clock.sleep(LABEL_DELAY)

            def relabel(o):
                o["metadata"]["labels"] = {**(o["metadata"].get("labels") or {}), **wanted}
                if net.KEY_VLAN not in wanted:
                    o["metadata"]["labels"].pop(net.KEY_VLAN, None)
            self.mutate(kind, ns, name, relabel)
        self._route(kind, obj, conf)

    # ---------------------------------------------------------------- route (L3 info of the VLAN)
    def _route(self, kind: Kind, obj: dict, conf: dict) -> None:
        meta = obj["metadata"]
        text = (meta.get("annotations") or {}).get(net.KEY_ROUTE)
        if not text or net.is_kube_ovn(conf):
            return
        try:
            route = net.parse_route(text)
        except ValueError:
            return
        mode, vlan = route.get("mode") or "", conf.get("vlan") or 0
        if mode == "auto":
            needed = route.get("outdated") or (not (route.get("cidr") and route.get("gateway"))
                                               and route.get("connectivity") != "DHCP failed") \
                or (route.get("cidr") and route.get("gateway") and not route.get("connectivity"))
        elif mode == "manual":
            needed = not route.get("connectivity")
        else:
            needed = False
        key = (meta["uid"], vlan, text)
        if needed and key not in self._probing:
            self._probing.add(key)
            self.spawn(self._probe(kind, meta["namespace"], meta["name"], vlan, route, key))

    async def _probe(self, kind: Kind, ns: str, name: str, vlan: int, route: dict, key: tuple) -> None:
        try:
            lease = dhcp_leases(self.store).get(vlan) if vlan else None
            if route.get("mode") == "auto" and (route.get("outdated") or not (route.get("cidr") and route.get("gateway"))):
                await self.clock.sleep(DHCP_DELAY)
                route = {k: v for k, v in route.items() if k not in ("cidr", "gateway", "connectivity", "outdated")}
                if lease is None:
                    route["connectivity"] = "DHCP failed"
                    self._write_route(kind, ns, name, route)
                    return
                route.update(cidr=lease["cidr"], gateway=lease["gateway"])
                self._write_route(kind, ns, name, route)
            await self.clock.sleep(PING_DELAY)
            reachable = lease is not None and route.get("gateway") == lease.get("gateway")
            route["connectivity"] = "true" if reachable else "ping failed"
            self._write_route(kind, ns, name, route)
        finally:
            self._probing.discard(key)

    def _write_route(self, kind: Kind, ns: str, name: str, route: dict) -> None:
        order = ("mode", "serverIPAddr", "cidr", "gateway", "connectivity", "outdated")
        text = json.dumps({k: route[k] for k in order if route.get(k) not in (None, "", False)}, separators=(",", ":"))

        def write(o):
            o["metadata"].setdefault("annotations", {})[net.KEY_ROUTE] = text
        self.mutate(kind, ns, name, write)


# ================================================================================== ClusterNetwork
class ClusterNetworkController(Controller):
    name = "harvester-network-manager-cn-controller"
    watches = ((GROUP, "clusternetworks"),)
    finalizer = WRANGLER + name

    async def on_change(self, kind: Kind, obj: dict) -> None:
        cn = obj["metadata"]["name"]
        ready = net.is_ready(obj)
        if ready:
            lms = self.kind(GROUP, "linkmonitors")
            if self.get(lms, "", cn) is None:
                self.create(lms, {"apiVersion": f"{GROUP}/v1beta1", "kind": "LinkMonitor", "metadata": {"name": cn},
                                  "spec": {"targetLinkRule": {"nameRule": f"{cn}(-br|-bo)"}}})
        self._nad_ready(cn, "true" if ready else "false")

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        cn = obj["metadata"]["name"]
        self._nad_ready(cn, "false")
        lms = self.kind(GROUP, "linkmonitors")
        if self.get(lms, "", cn) is not None:
            self.delete(lms, "", cn)

    def _nad_ready(self, cn: str, value: str) -> None:
        nads = self.kind(NAD_GROUP, "network-attachment-definitions")
        for nad in self.store.list(nads):
            labels = _labels(nad)
            if labels.get(net.KEY_CN) != cn or labels.get(net.KEY_READY) == value:
                continue
            if nad["metadata"].get("deletionTimestamp"):
                continue

            def mark(o):
                o["metadata"].setdefault("labels", {})[net.KEY_READY] = value
            self.mutate(nads, nad["metadata"]["namespace"], nad["metadata"]["name"], mark)


# ================================================================================== VlanConfig (manager)
class VlanConfigManager(Controller):
    name = "harvester-network-manager-vlanconfig-controller"
    watches = ((GROUP, "vlanconfigs"), (GROUP, "vlanstatuses"))
    finalizer = WRANGLER + name

    async def on_change(self, kind: Kind, obj: dict) -> None:
        cns = self.kind(GROUP, "clusternetworks")
        if kind.kind == "VlanConfig":
            cn = (obj.get("spec") or {}).get("clusterNetwork", "")
            mtu = net.mtu_of_vlanconfig(obj)
            target = str(mtu if net.valid_mtu(mtu) and mtu else net.DEFAULT_MTU)
            live = self.get(cns, "", cn)
            if live is None or (live["metadata"].get("annotations") or {}).get(net.KEY_UPLINK_MTU) == target:
                return

            def annotate(o):
                ann = o["metadata"].setdefault("annotations", {})
                ann[net.KEY_UPLINK_MTU] = target
                ann[net.KEY_MTU_SOURCE] = obj["metadata"]["name"]
            self.mutate(cns, "", cn, annotate)
        else:
            cn = (obj.get("status") or {}).get("clusterNetwork", "")
            live = self.get(cns, "", cn)
            if live is not None and not net.is_ready(live):
                self.mutate(cns, "", cn, lambda o: set_condition(o, "ready", "True", now=self.clock.now()))

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        cns = self.kind(GROUP, "clusternetworks")
        if kind.kind == "VlanStatus":
            cn = (obj.get("status") or {}).get("clusterNetwork", "")
            others = [v for v in self.store.list(kind) if _labels(v).get(net.KEY_CN) == cn
                      and v["metadata"]["name"] != obj["metadata"]["name"]]
            live = self.get(cns, "", cn)
            if not others and live is not None and net.is_ready(live):
                self.mutate(cns, "", cn, lambda o: set_condition(o, "ready", "False", now=self.clock.now()))
            return
        # a VlanConfig goes: hand the MTU source to another VlanConfig, or drop the annotations
        cn = (obj.get("spec") or {}).get("clusterNetwork", "")
        live = self.get(cns, "", cn)
        if live is None or (live["metadata"].get("annotations") or {}).get(net.KEY_MTU_SOURCE) != obj["metadata"]["name"]:
            return
        candidates = [v for v in self.store.list(kind) if _labels(v).get(net.KEY_CN) == cn
                      and v["metadata"]["name"] != obj["metadata"]["name"] and not v["metadata"].get("deletionTimestamp")
                      and net.valid_mtu(net.mtu_of_vlanconfig(v))]
        best = next((v for v in candidates if net.mtu_of_vlanconfig(v)), candidates[0] if candidates else None)

        def hand_over(o):
            ann = o["metadata"].setdefault("annotations", {})
            if best is None:
                ann.pop(net.KEY_UPLINK_MTU, None)
                ann.pop(net.KEY_MTU_SOURCE, None)
            else:
                ann[net.KEY_UPLINK_MTU] = str(net.mtu_of_vlanconfig(best) or net.DEFAULT_MTU)
                ann[net.KEY_MTU_SOURCE] = best["metadata"]["name"]
        self.mutate(cns, "", cn, hand_over)


# ================================================================================== VlanConfig (agent)
class _Once:
    """The agent's one settle delay per reconcile, taken only when there is something to do."""

    def __init__(self, clock):
        self.clock, self.done = clock, False

    async def __call__(self) -> None:
        if not self.done:
            self.done = True
            await self.clock.sleep(AGENT_DELAY)


class VlanConfigAgent(Controller):
    name = "harvester-network-vlanconfig-controller"
    watches = ((GROUP, "vlanconfigs"), (GROUP, "linkmonitors"))
    finalizer = WRANGLER + name

    def start(self) -> None:
        self.kernel: dict[str, dict[str, dict]] = {}  # node -> link name -> LinkMonitor-style entry
        super().start()

    async def dispatch(self, kind: Kind, type_: str, obj: dict) -> None:
        if kind.kind != "LinkMonitor":
            await super().dispatch(kind, type_, obj)
            return
        if type_ == "DELETED" or obj["metadata"].get("deletionTimestamp"):
            return
        name = obj["metadata"]["name"]
        if name == "nic":  # the hardware changed: retry what failed, report bond states again
            vcs = self.kind(GROUP, "vlanconfigs")
            for vc in self.store.list(vcs):
                if not vc["metadata"].get("deletionTimestamp") and self.finalizer in (vc["metadata"].get("finalizers") or []):
                    await self.reconcile(vc)
            for cn in {k.rsplit("-", 1)[0] for links in self.kernel.values() for k in links}:
                self.sync_link_monitor(cn)
        else:
            self.sync_link_monitor(name)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        await self.reconcile(obj)

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        once = _Once(self.clock)
        for vs in self._statuses_of(obj["metadata"]["name"]):
            await once()
            self.teardown(vs)

    # ---------------------------------------------------------------- reading
    def _statuses_of(self, vc_name: str) -> list[dict]:
        return [v for v in self.store.list(self.kind(GROUP, "vlanstatuses"))
                if _labels(v).get(net.KEY_VLANCONFIG) == vc_name]

    def _nic_links(self, node: str) -> list[dict]:
        lm = self.get(self.kind(GROUP, "linkmonitors"), "", "nic")
        return list((((lm or {}).get("status") or {}).get("linkStatus") or {}).get(node) or [])

    def _bond(self, cn: str, node: str) -> dict | None:
        return self.kernel.get(node, {}).get(f"{cn}-bo")

    def _new_index(self, node: str) -> int:
        used = {0}
        for lm in self.store.list(self.kind(GROUP, "linkmonitors")):
            for e in ((lm.get("status") or {}).get("linkStatus") or {}).get(node) or []:
                master = e.get("masterIndex") or 0
                # a NIC's master is a bond whose bridge may not be reported yet: keep master+1 free too
                used |= {e.get("index") or 0, master, master + 1 if master and e.get("type") == "device" else 0}
        for e in self.kernel.get(node, {}).values():
            used |= {e["index"], e["masterIndex"]}
        return max(used) + 1

    # ---------------------------------------------------------------- reconcile
    async def reconcile(self, vc: dict) -> None:
        name = vc["metadata"]["name"]
        cn = (vc.get("spec") or {}).get("clusterNetwork", "")
        try:
            nodes = net.matched_nodes(vc) or set()
        except ValueError:
            return
        once = _Once(self.clock)
        for vs in self._statuses_of(name):
            status = vs.get("status") or {}
            if status.get("node") not in nodes or status.get("clusterNetwork") != cn:
                await once()
                self.teardown(vs)
        for node in sorted(nodes):
            await self.setup(vc, cn, node, once)

    async def setup(self, vc: dict, cn: str, node: str, once: _Once) -> None:
        vc_name = vc["metadata"]["name"]
        vss = self.kind(GROUP, "vlanstatuses")
        vs_name = net.vlan_status_name(cn, node)
        vs = self.get(vss, "", vs_name)
        if vs is not None and ((vs.get("status") or {}).get("vlanConfig") != vc_name or vs["metadata"].get("deletionTimestamp")):
            return  # another VlanConfig's network on this node (the webhook refuses overlaps)
        uplink = (vc.get("spec") or {}).get("uplink") or {}
        wanted = list(uplink.get("nics") or [])
        bond = self._bond(cn, node)
        links = {e.get("name"): e for e in self._nic_links(node)}
        error = None
        for nic in wanted:
            link = links.get(nic)
            if link is None:
                error = f"get link {nic} failed, error: Link not found"
                break
            master = link.get("masterIndex") or 0
            if master and (bond is None or master != bond["index"]):
                error = f"{nic} has been enslaved by the link with index {master}"
                break
        ready = condition(vs, "ready") if vs else None
        if error is None:
            changes = bond is None or any((links[n].get("masterIndex") or 0) != bond["index"] for n in wanted) or \
                any(e.get("masterIndex") == bond["index"] and e.get("name") not in wanted for e in links.values())
            if changes or ready is None or ready.get("status") != "True":
                await once()
                bond = self._build(cn, node, wanted, links)
                self._write_status(vc, cn, node, vs, None)
                self.sync_link_monitor(cn)
            self._label_node(node, cn, vc_name)
        elif ready is None or ready.get("status") != "False" or ready.get("message") != error:
            await once()
            self._write_status(vc, cn, node, vs, error)

    def _build(self, cn: str, node: str, wanted: list[str], links: dict[str, dict]) -> dict:
        """Create (or keep) the bond and bridge, move the uplink NICs into the bond and NICs no
        longer in the uplink out of it (masterIndex only: the NICs' state is the hardware's)."""
        table = self.kernel.setdefault(node, {})
        bond = table.get(f"{cn}-bo")
        if bond is None:
            index = self._new_index(node)
            mac = links[wanted[0]].get("mac", "") if wanted else ""
            bond = {"name": f"{cn}-bo", "index": index, "type": "bond", "mac": mac, "promiscuous": True,
                    "state": "down", "masterIndex": index + 1}
            table[bond["name"]] = bond
            table[f"{cn}-br"] = {"name": f"{cn}-br", "index": index + 1, "type": "bridge", "mac": mac,
                                 "promiscuous": False, "state": "down", "masterIndex": 0}
        self._set_masters(node, {n: bond["index"] for n in wanted}, release=bond["index"])
        return bond

    def _set_masters(self, node: str, masters: dict[str, int], release: int) -> None:
        lms = self.kind(GROUP, "linkmonitors")

        def move(o):
            for e in ((o.get("status") or {}).get("linkStatus") or {}).get(node) or []:
                if e.get("name") in masters:
                    e["masterIndex"] = masters[e["name"]]
                elif release and e.get("masterIndex") == release:
                    e["masterIndex"] = 0
        self.mutate(lms, "", "nic", move, status=True)

    def _write_status(self, vc: dict, cn: str, node: str, vs: dict | None, error: str | None) -> None:
        vss = self.kind(GROUP, "vlanstatuses")
        vc_name = vc["metadata"]["name"]
        labels = {net.KEY_CN: cn, net.KEY_VLANCONFIG: vc_name, net.KEY_NODE: node}
        now = self.clock.now()

        def fill(o):
            o["metadata"]["labels"] = {**(o["metadata"].get("labels") or {}), **labels}
            st = o.setdefault("status", {})
            st.update(clusterNetwork=cn, vlanConfig=vc_name, linkMonitor=cn, node=node)
            if error is None:
                set_condition(o, "ready", "True", now=now)
                st.setdefault("localAreas", [])
            else:
                set_condition(o, "ready", "False", message=error, now=now)
        if vs is None:
            obj = {"apiVersion": f"{GROUP}/v1beta1", "kind": "VlanStatus",
                   "metadata": {"name": net.vlan_status_name(cn, node), "ownerReferences": [{
                       "apiVersion": f"{GROUP}/v1beta1", "kind": "VlanConfig", "name": vc_name,
                       "uid": vc["metadata"]["uid"]}]}}
            fill(obj)
            self.create(vss, obj)
        else:
            self.mutate(vss, "", vs["metadata"]["name"], fill, status=True)

    def _label_node(self, node: str, cn: str, vc_name: str) -> None:
        key = f"{GROUP}/{cn}"
        nodes = self.kind("", "nodes")

        def label(o):
            labels = o["metadata"].setdefault("labels", {})
            labels[key] = "true"
            labels[net.KEY_VLANCONFIG] = vc_name
        live = self.get(nodes, "", node)
        if live is not None and (_labels(live).get(key) != "true" or _labels(live).get(net.KEY_VLANCONFIG) != vc_name):
            self.mutate(nodes, "", node, label)

    def teardown(self, vs: dict) -> None:
        """removeVLAN: node labels off, bond and bridge deleted (NICs released), VlanStatus deleted."""
        status = vs.get("status") or {}
        cn, node, vc_name = status.get("clusterNetwork", ""), status.get("node", ""), status.get("vlanConfig", "")
        key = f"{GROUP}/{cn}"
        nodes = self.kind("", "nodes")
        live = self.get(nodes, "", node)
        if live is not None and (_labels(live).get(key) == "true" or _labels(live).get(net.KEY_VLANCONFIG) == vc_name):
            def unlabel(o):
                labels = o["metadata"].get("labels") or {}
                labels.pop(key, None)
                labels.pop(net.KEY_VLANCONFIG, None)
            self.mutate(nodes, "", node, unlabel)
        bond = self.kernel.get(node, {}).pop(f"{cn}-bo", None)
        self.kernel.get(node, {}).pop(f"{cn}-br", None)
        if bond is not None:
            self._set_masters(node, {}, release=bond["index"])
        self.delete(self.kind(GROUP, "vlanstatuses"), "", vs["metadata"]["name"])
        self.sync_link_monitor(cn)

    def sync_link_monitor(self, cn: str) -> None:
        """LinkMonitor `<cn>`: each node's `<cn>-bo` and `<cn>-br` as the kernel has them; a bond
        is up while one of its NICs is up, the bridge follows the bond."""
        lms = self.kind(GROUP, "linkmonitors")
        lm = self.get(lms, "", cn)
        if lm is None or lm["metadata"].get("deletionTimestamp") or cn in ("nic", "mgmt"):
            return
        wanted: dict[str, list] = {}
        for node, table in self.kernel.items():
            bond, bridge = table.get(f"{cn}-bo"), table.get(f"{cn}-br")
            if bond is None:
                continue
            up = any(e.get("state") == "up" for e in self._nic_links(node) if e.get("masterIndex") == bond["index"])
            bond["state"] = bridge["state"] = "up" if up else "down"
            wanted[node] = [dict(bond), dict(bridge)]

        def report(o):
            o.setdefault("status", {})["linkStatus"] = wanted
            if not wanted:
                o["status"].pop("linkStatus")
        if ((lm.get("status") or {}).get("linkStatus") or {}) != wanted:
            self.mutate(lms, "", cn, report, status=True)


class LinkMonitorController(Controller):
    name = "harvester-network-link-monitor-controller"
    watches = ((GROUP, "linkmonitors"),)
    finalizer = WRANGLER + name


CONTROLLERS: list = [NadController, ClusterNetworkController, VlanConfigManager, VlanConfigAgent,
                     LinkMonitorController]
