"""CAPHV (cluster-api-provider-harvester v0.10.1): the HarvesterCluster and HarvesterMachine
reconcilers. The twin is both clusters, so "on Harvester" means the same store: the target
namespace, the placeholder load balancer Service, the images, networks and key pairs.

HarvesterCluster: waits for its owner Cluster; Paused; the identity Secret's kubeconfig must
parse and must reach THIS twin with its token (probed over HTTPS: GET /api/v1/namespaces/
kube-system, whose uid must be ours); the target namespace; the placeholder LB Service
`<ns>-<name>-lb` gets an address (dhcp: a fake lease, pool: the pool's rangeStart) that becomes
spec.controlPlaneEndpoint; then ready. Deletion removes the Service, then the finalizer.

HarvesterMachine: waits for its owner Machine and the Machine's bootstrap data; checks the
Harvester-side references; allocates a VM IP from the HarvesterCluster's vmNetworkConfig.ipPool
(else a DHCP lease); "creates" and "starts" the VM (no KubeVirt object is made); providerID,
addresses, ready.

DHCP addresses come from the VLAN of the VM network (the machine's first network; for the load
balancer, the first network of the cluster's machine templates): the DHCP server's answer for that
VLAN (network.dhcp_leases: with --lab, the inventory's VLANs), host 100-199 of its cidr for VMs,
200-239 for load balancers; 10.10.30.x when the VLAN has no DHCP answer.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import ssl
import uuid
from urllib.parse import urlsplit

import aiohttp
import yaml

from ..loopback_guard import is_loopback
from ..registry import Kind
from .capi_support import CAPI, CLUSTER_NAME, INFRA, PAUSED, Reconciler, annotations, deleting, labels, owner_of_kind, set_v1beta2_condition, split_ref
from .network import dhcp_leases

HC_FINALIZER = "harvester.infrastructure.cluster.x-k8s.io/finalizer"
HM_FINALIZER = "harvestermachine.infrastructure.cluster.x-k8s.io/finalizer"
IDENTITY_KEY = "kubeconfig"
API_PORT = 6443
LB_DELAY = 1.0  # the LB controller answering with an address
VM_CREATE_DELAY = 1.0
VM_BOOT_DELAY = 1.5
RETRY = 3.0
DHCP_LB_RANGE = (ipaddress.ip_address("10.10.30.200"), ipaddress.ip_address("10.10.30.239"))
DHCP_VM_RANGE = (ipaddress.ip_address("10.10.30.100"), ipaddress.ip_address("10.10.30.199"))
DHCP_VM_HOSTS, DHCP_LB_HOSTS = (100, 199), (200, 239)  # host numbers in the VLAN's cidr

# CAPHV reaches Harvester as a client of its own; the request log tells its requests from a test's.
CONTROLLER_AGENT = "twin (caphv controller)"


def dhcp_range(store, nad: dict | None, hosts: tuple[int, int], default: tuple) -> tuple:
    """(first, last) address DHCP hands out on the VLAN of VM network ``nad``: ``hosts`` of the
    VLAN's cidr as its DHCP server answers it (the range clipped to the subnet), else ``default``."""
    try:
        vlan = json.loads(((nad or {}).get("spec") or {}).get("config") or "{}").get("vlan")
    except ValueError:
        vlan = None
    lease = dhcp_leases(store).get(int(vlan)) if isinstance(vlan, int) else None
    if not lease:
        return default
    net = ipaddress.ip_network(lease["cidr"], strict=False)
    last = net.broadcast_address - 1
    first = min(net.network_address + hosts[0], last)
    return first, min(net.network_address + hosts[1], last)


def nad_of(ctrl, ref: str, namespace: str) -> dict | None:
    """The VM network (NetworkAttachmentDefinition) a CAPHV network reference names."""
    ns, name = split_ref(ref, namespace)
    return ctrl.get(ctrl.kind("k8s.cni.cncf.io", "network-attachment-definitions"), ns, name)


def _ip_range(start, end):
    ip = start
    while ip <= end:
        yield ip
        ip += 1


def _paused(cluster: dict | None, obj: dict) -> bool:
    return bool(((cluster or {}).get("spec") or {}).get("paused")) or PAUSED in annotations(obj)


def _set_paused(o: dict, paused: bool, now: str) -> None:
    set_v1beta2_condition(o, "Paused", "True" if paused else "False", "Paused" if paused else "NotPaused", now=now)


def owner_cluster(ctrl: Reconciler, obj: dict) -> dict | None:
    ref = owner_of_kind(obj, "Cluster")
    if ref is None or not ref.get("apiVersion", "").startswith(CAPI + "/"):
        return None
    return ctrl.get(ctrl.kind(CAPI, "clusters"), obj["metadata"]["namespace"], ref["name"])


class HarvesterClusterController(Reconciler):
    name = "caphv-harvestercluster-controller"
    primary = (INFRA, "harvesterclusters")
    watches = ((INFRA, "harvesterclusters"), ("", "secrets"), (CAPI, "clusters"), ("", "services"))
    finalizer = HC_FINALIZER

    def claims(self, obj: dict) -> bool:
        return owner_of_kind(obj, "Cluster") is not None

    def __init__(self, twin):
        super().__init__(twin)
        self._probes: dict[tuple[str, str], tuple[str, str]] = {}  # (secret uid, rv) -> (reason, message)

    def map_event(self, kind: Kind, obj: dict):
        hcs = self.store.list(self.primary_kind())
        if kind.plural == "secrets":
            for hc in hcs:
                ident = (hc.get("spec") or {}).get("identitySecret") or {}
                if (ident.get("namespace"), ident.get("name")) == (obj["metadata"]["namespace"], obj["metadata"]["name"]):
                    yield hc["metadata"]["namespace"], hc["metadata"]["name"]
        elif kind.plural == "clusters":
            ref = (obj.get("spec") or {}).get("infrastructureRef") or {}
            if ref.get("kind") == "HarvesterCluster":
                yield obj["metadata"]["namespace"], ref["name"]
        elif kind.plural == "services":
            for hc in hcs:
                if lb_name(hc) == obj["metadata"]["name"] and (hc.get("spec") or {}).get("targetNamespace") == obj["metadata"]["namespace"]:
                    yield hc["metadata"]["namespace"], hc["metadata"]["name"]

    def _status(self, kind: Kind, obj: dict, change) -> dict | None:
        meta = obj["metadata"]
        return self.mutate(kind, meta["namespace"], meta["name"], change, status=True)

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        now = self.clock.now()
        cluster = owner_cluster(self, obj)
        if cluster is None:
            return  # "Waiting for Cluster Controller to set OwnerRef on HarvesterCluster"
        if _paused(cluster, obj):
            self._status(kind, obj, lambda o: _set_paused(o, True, now))
            return
        spec = obj.get("spec") or {}
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])

        reason, message = await self._connection(obj)
        if reason:
            def failed(o, reason=reason, message=message):
                _set_paused(o, False, now)
                set_v1beta2_condition(o, "HarvesterConnectionReady", "False", reason, message, now=now)
                set_v1beta2_condition(o, "InfrastructureReady", "False", reason, message, now=now)
            self._status(kind, obj, failed)
            self.requeue(key, RETRY)
            return

        target = spec.get("targetNamespace", "")
        ns_kind = self.kind("", "namespaces")
        if self.get(ns_kind, "", target) is None:
            self.create(ns_kind, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}})

        def connected(o):
            _set_paused(o, False, now)
            set_v1beta2_condition(o, "HarvesterConnectionReady", "True", "HarvesterConnectionReady", now=now)
            set_v1beta2_condition(o, "TargetNamespaceReady", "True", "TargetNamespaceReady",
                                  f"namespace {target} exists on Harvester", now=now)
        obj = self._status(kind, obj, connected) or obj

        ip, why = self._load_balancer(obj)
        if ip is None:
            def waiting(o):
                set_v1beta2_condition(o, "LoadBalancerReady", "False", "LoadBalancerNotReady", why, now=now)
                set_v1beta2_condition(o, "InfrastructureReady", "False", "LoadBalancerNotReady", why, now=now)
            self._status(kind, obj, waiting)
            self.requeue(key, LB_DELAY / 2)
            return
        if (spec.get("controlPlaneEndpoint") or {}).get("host") != ip:
            def endpoint(o):
                o["spec"]["controlPlaneEndpoint"] = {"host": ip, "port": API_PORT}
            obj = self.mutate(kind, *key, endpoint) or obj

        def ready(o):
            o.setdefault("status", {})["ready"] = True
            o.setdefault("status", {}).setdefault("initialization", {})["provisioned"] = True
            set_v1beta2_condition(o, "LoadBalancerReady", "True", "LoadBalancerReady",
                                  f"load balancer {target}/{lb_name(o)} has address {ip}", now=now)
            set_v1beta2_condition(o, "InfrastructureReady", "True", "InfrastructureReady", now=now)
        self._status(kind, obj, ready)

    # ------------------------------------------------------------------ the identity
    async def _connection(self, hc: dict) -> tuple[str, str]:
        """("", "") when the identity kubeconfig reaches this twin with its token, else the
        failing reason and why."""
        ident = (hc.get("spec") or {}).get("identitySecret") or {}
        ns, name = ident.get("namespace", ""), ident.get("name", "")
        secret = self.get(self.kind("", "secrets"), ns, name)
        if secret is None:
            return "HarvesterConnectionFailed", f'failed to get identity secret {ns}/{name}: secrets "{name}" not found'
        raw = (secret.get("data") or {}).get(IDENTITY_KEY)
        if not raw:
            return "HarvesterConnectionFailed", f'identity secret {ns}/{name} has no "{IDENTITY_KEY}" key'
        cache_key = (secret["metadata"]["uid"], secret["metadata"]["resourceVersion"])
        if cache_key in self._probes:
            return self._probes[cache_key]
        reason, message, settled = await self._probe(raw)
        if settled:  # an answer that a retry cannot change; a failed request is tried again on requeue
            self._probes[cache_key] = (reason, message)
        return reason, message

    async def _probe(self, raw: str) -> tuple[str, str, bool]:
        """(reason, message, settled): settled when a retry of the same identity cannot answer
        otherwise (a bad kubeconfig, refused credentials, another cluster, success)."""
        try:
            doc = yaml.safe_load(base64.b64decode(raw).decode())
            ctx_name = doc.get("current-context")
            contexts = {c["name"]: c["context"] for c in doc.get("contexts") or []}
            ctx = contexts.get(ctx_name) or next(iter(contexts.values()))
            cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
            user = next(u["user"] for u in doc.get("users") or [] if u["name"] == ctx.get("user"))
            server = cluster["server"]
        except Exception as e:  # noqa: BLE001 - any shape error is "cannot build a client"
            return "HarvesterConnectionFailed", f"failed to create Harvester client from identity secret: invalid kubeconfig: {e!r}", True
        try:
            if cluster.get("insecure-skip-tls-verify"):
                tls: ssl.SSLContext | bool = False
            else:
                ca = cluster.get("certificate-authority-data")
                tls = ssl.create_default_context(cadata=base64.b64decode(ca).decode() if ca else None)
        except (ValueError, ssl.SSLError) as e:
            return "HarvesterConnectionFailed", f"failed to create Harvester client from identity secret: {e}", True
        token = user.get("token", "")
        ns_kind = self.kind("", "namespaces")
        ours = (self.get(ns_kind, "", "kube-system") or {}).get("metadata", {}).get("uid")
        host = urlsplit(server).hostname or ""
        if not is_loopback(host):  # the twin reaches 127.0.0.1 only: any other server does not answer
            await self.clock.sleep(3)
            port = urlsplit(server).port or 443
            return "HarvesterAuthenticationFailed", (f"failed to reach Harvester at {server}: "
                                                     f"Cannot connect to host {host}:{port}: timed out"), True
        timeout = aiohttp.ClientTimeout(total=3)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.get(server.rstrip("/") + "/api/v1/namespaces/kube-system", ssl=tls,
                                headers={"Authorization": f"Bearer {token}", "User-Agent": CONTROLLER_AGENT}) as resp:
                if resp.status in (401, 403):
                    return ("HarvesterAuthenticationFailed",
                            f"failed to authenticate to Harvester at {server}: {resp.status} {resp.reason}", True)
                if resp.status != 200:  # a busy or failing API server: reported, and tried again
                    return "HarvesterAuthenticationFailed", f"failed to reach Harvester at {server}: {resp.status} {resp.reason}", False
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            return "HarvesterAuthenticationFailed", f"failed to reach Harvester at {server}: {e}", False
        if ((body or {}).get("metadata") or {}).get("uid") != ours:
            return "HarvesterAuthenticationFailed", f"{server} is not the Harvester cluster this provider manages", True
        return "", "", True

    # ------------------------------------------------------------------ the load balancer
    def _load_balancer(self, hc: dict) -> tuple[str | None, str]:
        """The placeholder LB Service's address, creating the Service and (after LB_DELAY) its
        address when missing."""
        spec = hc.get("spec") or {}
        target = spec.get("targetNamespace", "")
        svc_kind = self.kind("", "services")
        name = lb_name(hc)
        svc = self.get(svc_kind, target, name)
        if svc is None:
            svc = self.create(svc_kind, {
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": target,
                             "labels": {CLUSTER_NAME: _cluster_name(hc)}},
                "spec": {"type": "LoadBalancer", "ports": [{"name": "apiserver", "port": API_PORT, "targetPort": API_PORT}]},
            })
            if svc is None:
                return None, f"failed to create load balancer service {target}/{name}"
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if ingress and ingress[0].get("ip"):
            return ingress[0]["ip"], ""
        lb = spec.get("loadBalancerConfig") or {}
        if lb.get("ipamType") == "pool":
            pool = lb.get("ipPool") or {}
            ip = pool.get("rangeStart") or ""
            if not ip:
                # an ipPoolRef names a Harvester IPPool, which the twin does not serve
                return None, f"IP pool {lb.get('ipPoolRef', '')!r} has no address to give"
        else:
            ip = self._dhcp_lease(svc_kind, hc)
            if ip is None:
                return None, "no DHCP lease available for the load balancer"
        if not self.due((hc["metadata"]["namespace"], hc["metadata"]["name"]), "lb", svc["metadata"]["uid"], LB_DELAY):
            return None, f"waiting for an address for load balancer {target}/{name}"

        def address(o):
            o.setdefault("status", {})["loadBalancer"] = {"ingress": [{"ip": ip}]}
        self.mutate(svc_kind, target, name, address, status=True)
        return ip, ""

    def _dhcp_lease(self, svc_kind: Kind, hc: dict) -> str | None:
        used = {i.get("ip") for s in self.store.list(svc_kind)
                for i in ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []}
        ns = hc["metadata"]["namespace"]
        templates = self.store.list(self.kind(INFRA, "harvestermachinetemplates"), ns) if self.kind(
            INFRA, "harvestermachinetemplates") is not None else []
        networks = [n for t in templates for n in ((((t.get("spec") or {}).get("template") or {}).get("spec") or {})
                                                   .get("networks") or [])]
        target = (hc.get("spec") or {}).get("targetNamespace") or ns
        span = dhcp_range(self.store, nad_of(self, networks[0], target) if networks else None, DHCP_LB_HOSTS, DHCP_LB_RANGE)
        return next((str(ip) for ip in _ip_range(*span) if str(ip) not in used), None)

    async def finalize(self, kind: Kind, obj: dict) -> bool:
        target = (obj.get("spec") or {}).get("targetNamespace", "")
        svc_kind = self.kind("", "services")
        if self.get(svc_kind, target, lb_name(obj)) is not None:
            self.delete(svc_kind, target, lb_name(obj))
        return self.get(svc_kind, target, lb_name(obj)) is None


def lb_name(hc: dict) -> str:
    return f"{hc['metadata']['namespace']}-{hc['metadata']['name']}-lb"


def _cluster_name(obj: dict) -> str:
    return labels(obj).get(CLUSTER_NAME) or (owner_of_kind(obj, "Cluster") or {}).get("name", "")


# ---------------------------------------------------------------------------------- machines
class HarvesterMachineController(Reconciler):
    name = "caphv-harvestermachine-controller"
    primary = (INFRA, "harvestermachines")
    watches = ((INFRA, "harvestermachines"), (CAPI, "machines"), (CAPI, "clusters"))
    finalizer = HM_FINALIZER

    def claims(self, obj: dict) -> bool:
        return owner_of_kind(obj, "Machine") is not None

    def map_event(self, kind: Kind, obj: dict):
        if kind.plural == "machines":
            ref = (obj.get("spec") or {}).get("infrastructureRef") or {}
            if ref.get("kind") == "HarvesterMachine":
                yield obj["metadata"]["namespace"], ref["name"]
        elif kind.plural == "clusters":
            ns = obj["metadata"]["namespace"]
            for hm in self.store.list(self.primary_kind(), ns):
                if labels(hm).get(CLUSTER_NAME) == obj["metadata"]["name"]:
                    yield ns, hm["metadata"]["name"]

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        now = self.clock.now()
        meta = obj["metadata"]
        ns, key = meta["namespace"], (meta["namespace"], meta["name"])
        machine_ref = owner_of_kind(obj, "Machine")
        if machine_ref is None:
            return  # "Waiting for Machine Controller to set OwnerRef on HarvesterMachine"
        machine = self.get(self.kind(CAPI, "machines"), ns, machine_ref["name"])
        if machine is None:
            return
        cluster_name = labels(machine).get(CLUSTER_NAME) or (machine.get("spec") or {}).get("clusterName", "")
        cluster = self.get(self.kind(CAPI, "clusters"), ns, cluster_name)
        if cluster is None:
            return
        status = self.status_writer(kind, obj)

        if _paused(cluster, obj):
            status(lambda o: _set_paused(o, True, now))
            return
        if (obj.get("status") or {}).get("ready"):
            status(lambda o: _set_paused(o, False, now))
            return
        if not ((cluster.get("status") or {}).get("initialization") or {}).get("infrastructureProvisioned"):
            return
        if not ((machine.get("spec") or {}).get("bootstrap") or {}).get("dataSecretName"):
            def waiting(o):
                _set_paused(o, False, now)
                set_v1beta2_condition(o, "MachineCreated", "False", "WaitingForBootstrapData",
                                      "waiting for the Machine's bootstrap data secret", now=now)
            status(waiting)
            return
        hc_ref = (cluster.get("spec") or {}).get("infrastructureRef") or {}
        hc = self.get(self.kind(INFRA, "harvesterclusters"), ns, hc_ref.get("name", ""))
        if hc is None:
            return
        target = (hc.get("spec") or {}).get("targetNamespace", ns)

        missing = self._missing_refs(obj, target)
        if missing:
            def failed(o):
                _set_paused(o, False, now)
                set_v1beta2_condition(o, "VMProvisioningReady", "False", "VMProvisioningFailed", missing, now=now)
            status(failed)
            self.requeue(key, RETRY)
            return

        ip, pool, why = self._allocate(obj, hc)
        if ip is None:
            def exhausted(o):
                _set_paused(o, False, now)
                set_v1beta2_condition(o, "VMProvisioningReady", "True", "VMProvisioningReady", now=now)
                set_v1beta2_condition(o, "VMIPAllocated", "False", "VMIPPoolExhausted", why, now=now)
            status(exhausted)
            self.requeue(key, RETRY)
            return

        def allocated(o):
            _set_paused(o, False, now)
            o.setdefault("status", {})["allocatedIPAddress"] = ip
            if pool:
                o.setdefault("status", {})["allocatedPoolRef"] = pool
            set_v1beta2_condition(o, "VMProvisioningReady", "True", "VMProvisioningReady", now=now)
            set_v1beta2_condition(o, "VMIPAllocated", "True", "VMIPAllocated", f"allocated {ip}", now=now)
        obj = status(allocated) or obj
        if not self.due(key, "created", meta["uid"], VM_CREATE_DELAY):
            return

        def created(o):
            set_v1beta2_condition(o, "MachineCreated", "True", "MachineCreated",
                                  f"VM {target}/{meta['name']} created on Harvester", now=now)
        obj = status(created) or obj
        if not self.due(key, "running", meta["uid"], VM_CREATE_DELAY + VM_BOOT_DELAY):
            return
        provider_id = f"harvester://{uuid.uuid5(uuid.NAMESPACE_URL, meta['uid'])}"
        if (obj.get("spec") or {}).get("providerID") != provider_id:
            obj = self.mutate(kind, ns, meta["name"], lambda o: o["spec"].__setitem__("providerID", provider_id)) or obj

        def running(o):
            o.setdefault("status", {})["ready"] = True
            o.setdefault("status", {}).setdefault("initialization", {})["provisioned"] = True
            o.setdefault("status", {})["addresses"] = [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": meta["name"]}]
            set_v1beta2_condition(o, "VMRunning", "True", "VMRunning", now=now)
        status(running)

    def _missing_refs(self, hm: dict, target: str) -> str:
        spec = hm.get("spec") or {}
        checks = []
        for vol in spec.get("volumes") or []:
            if vol.get("volumeType") == "image" and vol.get("imageName"):
                checks.append(("harvesterhci.io", "virtualmachineimages", "VirtualMachineImage", vol["imageName"]))
            if vol.get("volumeType") == "storageClass" and vol.get("storageClass"):
                checks.append(("storage.k8s.io", "storageclasses", "StorageClass", vol["storageClass"]))
        for net in spec.get("networks") or []:
            checks.append(("k8s.cni.cncf.io", "network-attachment-definitions", "NetworkAttachmentDefinition", net))
        if spec.get("sshKeyPair"):
            checks.append(("harvesterhci.io", "keypairs", "KeyPair", spec["sshKeyPair"]))
        for group, plural, kind_name, ref in checks:
            k = self.registry.by_plural(group, plural)
            if k is not None and not k.namespaced:
                ns, name = "", ref
            else:
                ns, name = split_ref(ref, target)
            if k is None or self.get(k, ns, name) is None:
                where = f"{ns}/{name}" if ns else name
                return f"{kind_name} {where} not found on Harvester"
        return ""

    def _allocate(self, hm: dict, hc: dict) -> tuple[str | None, str, str]:
        """(ip, pool ref, why-not). Addresses in use are those other HarvesterMachines of the
        same HarvesterCluster hold."""
        current = (hm.get("status") or {}).get("allocatedIPAddress")
        if current:
            return current, (hm.get("status") or {}).get("allocatedPoolRef", ""), ""
        ns = hm["metadata"]["namespace"]
        cluster = labels(hm).get(CLUSTER_NAME, "")
        used = {(o.get("status") or {}).get("allocatedIPAddress") for o in self.store.list(self.primary_kind(), ns)
                if labels(o).get(CLUSTER_NAME) == cluster and not deleting(o)}
        # addresses Harvester's IPPool has already handed to VMs outside this API (a test sets
        # them through /_twin/environment: {"harvester_ips_in_use": ["10.10.40.100", ...]})
        used |= set(self.store.environment.get("harvester_ips_in_use") or [])
        cfg = (hc.get("spec") or {}).get("vmNetworkConfig") or {}
        pool = cfg.get("ipPool")
        if pool:
            try:
                net = ipaddress.ip_network(pool["subnet"], strict=False)
                start = ipaddress.ip_address(pool["rangeStart"]) if pool.get("rangeStart") else net.network_address + 1
                end = ipaddress.ip_address(pool["rangeEnd"]) if pool.get("rangeEnd") else net.broadcast_address - 1
            except (KeyError, ValueError) as e:
                return None, "", f"invalid IP pool: {e}"
            ref = f"{hc['metadata']['namespace']}/{hc['metadata']['name']}-vm-pool"
            for ip in _ip_range(start, end):
                if str(ip) not in used and str(ip) != pool.get("gateway"):
                    return str(ip), ref, ""
            return None, ref, f"IP pool {ref} is exhausted: no free address in {start}-{end}"
        refs = [r for r in [cfg.get("ipPoolRef"), *(cfg.get("ipPoolRefs") or [])] if r]
        if refs:
            return None, refs[0], f"IP pool {refs[0]} not found on Harvester"
        networks = (hm.get("spec") or {}).get("networks") or []
        target = (hc.get("spec") or {}).get("targetNamespace") or ns
        span = dhcp_range(self.store, nad_of(self, networks[0], target) if networks else None, DHCP_VM_HOSTS, DHCP_VM_RANGE)
        ip = next((str(i) for i in _ip_range(*span) if str(i) not in used), None)
        return (ip, "", "") if ip else (None, "", "no DHCP lease available")

    async def finalize(self, kind: Kind, obj: dict) -> bool:
        return True  # the VM and its IP go with the object (no KubeVirt object was made)


CONTROLLERS: list = [HarvesterClusterController, HarvesterMachineController]
