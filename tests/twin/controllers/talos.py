"""The Talos providers: CABPT v0.6 (TalosConfig -> bootstrap data) and CACPPT v0.5
(TalosControlPlane -> control plane Machines, the cluster's kubeconfig). Their conditions are
CAPI v1beta1 style (with severity).

TalosConfig: once its Machine's Cluster has infrastructure (workers: once the control plane is
initialized) it writes the cluster secrets `<c>-ca`, `<c>-talos`, `<c>-talosconfig` (owned by
the Cluster) and the Machine's `<machine>-bootstrap-data`, then ready/dataSecretName.

TalosControlPlane: after the Cluster says infrastructure provisioned, one Machine at a time
(`<tcp>-<5 random>`, HarvesterMachine cloned from infrastructureTemplate, TalosConfig from
controlPlaneConfig.controlplane); after the first is Running: bootstrapped, initialized and the
`<c>-kubeconfig` Secret; scale and roll one machine at a time (new first, maxSurge 1);
deletion deletes its Machines first.
"""
from __future__ import annotations

import base64
import hashlib

import yaml

from ..registry import Kind
from .capi_support import (
    BOOTSTRAP,
    CAPI,
    CLUSTER_NAME,
    CONTROL_PLANE,
    CONTROLPLANE,
    INFRA,
    PAUSED,
    SECRET_TYPE,
    CloneFailed,
    Reconciler,
    annotations,
    by_age,
    create_machine,
    deleting,
    labels,
    machine_running,
    owned_by,
    owner_of_kind,
    owner_ref,
    random_suffix,
    set_v1beta1_condition,
)

TCP_FINALIZER = "talos.controlplane.cluster.x-k8s.io"
BOOTSTRAP_DELAY = 0.5
WAIT = 0.5
PATCH_OPS = ("add", "replace", "remove", "copy", "move", "test")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _fake_pem(label: str, seed: str) -> str:
    body = base64.b64encode(hashlib.sha512(f"{label}:{seed}".encode()).digest() * 3).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


def _cluster_of(ctrl: Reconciler, obj: dict, machine: dict | None = None) -> dict | None:
    name = labels(obj).get(CLUSTER_NAME) or ((machine or {}).get("spec") or {}).get("clusterName", "")
    return ctrl.get(ctrl.kind(CAPI, "clusters"), obj["metadata"]["namespace"], name) if name else None


def _paused(cluster: dict, obj: dict) -> bool:
    return bool((cluster.get("spec") or {}).get("paused")) or PAUSED in annotations(obj)


def _initialization(cluster: dict) -> dict:
    return (cluster.get("status") or {}).get("initialization") or {}


# The top-level keys of a generated Talos v1alpha1 machine config: an RFC 6902 operation whose
# path starts anywhere else meets a missing parent, which json-patch refuses.
CONFIG_ROOTS = ("version", "debug", "persist", "machine", "cluster")


def patch_errors(config: dict) -> list[str]:
    """RFC 6902 checks Talos applies to configPatches: the operation, the pointer, and that the
    pointer starts in the generated config (the deeper shape is not modelled)."""
    errs = []
    for i, patch in enumerate(config.get("configPatches") or []):
        op, path = patch.get("op"), str(patch.get("path", ""))
        if op not in PATCH_OPS:
            errs.append(f"configPatches[{i}]: unsupported operation {op!r}")
        if not path.startswith("/"):
            errs.append(f"configPatches[{i}]: path {patch.get('path')!r} must start with \"/\"")
        elif path.count("/") > 1 and path.split("/")[1] not in CONFIG_ROOTS:
            parent = path.rsplit("/", 1)[0]
            errs.append(f"configPatches[{i}]: {op} operation does not apply: doc is missing path: \"{parent}\": missing value")
    return errs


def ensure_cluster_secrets(ctrl: Reconciler, cluster: dict) -> None:
    """<c>-ca (Kubernetes CA), <c>-talos (the secrets bundle), <c>-talosconfig (talosctl's
    client config), owned by the Cluster."""
    secrets = ctrl.kind("", "secrets")
    ns, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
    meta = {"namespace": ns, "labels": {CLUSTER_NAME: name}, "ownerReferences": [owner_ref(cluster)]}
    endpoint = (cluster.get("spec") or {}).get("controlPlaneEndpoint") or {}
    wanted = {
        f"{name}-ca": ("kubernetes.io/tls", {"tls.crt": _b64(_fake_pem("CERTIFICATE", name + "-ca")),
                                             "tls.key": _b64(_fake_pem("EC PRIVATE KEY", name + "-ca"))}),
        f"{name}-talos": (SECRET_TYPE, {"bundle": _b64(yaml.safe_dump({
            "cluster": {"id": hashlib.sha256(name.encode()).hexdigest()[:32], "secret": _b64(name)},
            "secrets": {"bootstraptoken": f"{random_suffix(6)}.{random_suffix(16)}"}}))}),
        f"{name}-talosconfig": (SECRET_TYPE, {"talosconfig": _b64(yaml.safe_dump({
            "context": name,
            "contexts": {name: {"endpoints": [endpoint.get("host", "")] if endpoint.get("host") else [],
                                "ca": _b64(_fake_pem("CERTIFICATE", name + "-os")),
                                "crt": _b64(_fake_pem("CERTIFICATE", name + "-admin")),
                                "key": _b64(_fake_pem("ED25519 PRIVATE KEY", name + "-admin"))}}}))}),
    }
    for secret_name, (type_, data) in wanted.items():
        if ctrl.get(secrets, ns, secret_name) is None:
            ctrl.create(secrets, {"apiVersion": "v1", "kind": "Secret", "type": type_,
                                  "metadata": dict(meta, name=secret_name), "data": data})


# ---------------------------------------------------------------------------------- CABPT
class TalosConfigController(Reconciler):
    name = "cabpt-talosconfig-controller"
    primary = (BOOTSTRAP, "talosconfigs")
    watches = ((BOOTSTRAP, "talosconfigs"), (CAPI, "clusters"))

    def map_event(self, kind: Kind, obj: dict):
        ns = obj["metadata"]["namespace"]
        for tc in self.store.list(self.primary_kind(), ns):
            if labels(tc).get(CLUSTER_NAME) == obj["metadata"]["name"] and not (tc.get("status") or {}).get("ready"):
                yield ns, tc["metadata"]["name"]

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        now = self.clock.now()
        meta, spec = obj["metadata"], obj.get("spec") or {}
        ns, key = meta["namespace"], (meta["namespace"], meta["name"])
        if (obj.get("status") or {}).get("ready"):
            return
        machine_ref = owner_of_kind(obj, "Machine")
        if machine_ref is None:
            return  # CABPT waits for the Machine to own its config
        machine = self.get(self.kind(CAPI, "machines"), ns, machine_ref["name"])
        cluster = _cluster_of(self, obj, machine) if machine else None
        if cluster is None or _paused(cluster, obj):
            return
        status = self.status_writer(kind, obj)

        if not _initialization(cluster).get("infrastructureProvisioned"):
            status(lambda o: set_v1beta1_condition(o, "DataSecretAvailable", "False", "WaitingForClusterInfrastructure",
                                                   severity="Info", now=now))
            return
        worker = spec.get("generateType") in ("worker", "join")
        if worker and not _initialization(cluster).get("controlPlaneInitialized"):
            status(lambda o: set_v1beta1_condition(o, "DataSecretAvailable", "False", "WaitingForControlPlaneInitialization",
                                                   severity="Info", now=now))
            return
        errs = patch_errors(spec)
        if errs:
            message = "failed to generate machine config: " + "; ".join(errs)

            def failed(o):
                o.setdefault("status", {})["failureReason"] = "DataSecretGenerationFailed"
                o.setdefault("status", {})["failureMessage"] = message
                set_v1beta1_condition(o, "DataSecretAvailable", "False", "DataSecretGenerationFailed", message,
                                      severity="Error", now=now)
            status(failed)
            return
        ensure_cluster_secrets(self, cluster)
        if not self.due(key, "data", meta["uid"], BOOTSTRAP_DELAY):
            return
        secret_name = f"{machine['metadata']['name']}-bootstrap-data"
        secrets = self.kind("", "secrets")
        if self.get(secrets, ns, secret_name) is None:
            self.create(secrets, {
                "apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
                "metadata": {"name": secret_name, "namespace": ns,
                             "labels": {CLUSTER_NAME: cluster["metadata"]["name"]},
                             "ownerReferences": [owner_ref(obj, controller=True)]},
                "data": {"value": _b64(self._machine_config(cluster, machine, spec)), "format": _b64("yaml")}})

        def ready(o):
            o.setdefault("status", {}).update(ready=True, dataSecretName=secret_name, observedGeneration=meta.get("generation", 1))
            o.setdefault("status", {}).pop("failureReason", None)
            o.setdefault("status", {}).pop("failureMessage", None)
            set_v1beta1_condition(o, "DataSecretAvailable", "True", now=now)
            set_v1beta1_condition(o, "ClientConfigAvailable", "True", now=now)
        status(ready)

    def _machine_config(self, cluster: dict, machine: dict, spec: dict) -> str:
        """A stand-in for the generated Talos machine config: its type, the endpoint, the patches."""
        endpoint = (cluster.get("spec") or {}).get("controlPlaneEndpoint") or {}
        doc = {"version": "v1alpha1",
               "machine": {"type": "controlplane" if spec.get("generateType") in ("controlplane", "init") else "worker",
                           "network": {"hostname": machine["metadata"]["name"]}},
               "cluster": {"clusterName": cluster["metadata"]["name"],
                           "controlPlane": {"endpoint": f"https://{endpoint.get('host', '')}:{endpoint.get('port', 6443)}"}},
               "talosVersion": spec.get("talosVersion", ""),
               "configPatches": spec.get("configPatches") or [],
               "strategicPatches": spec.get("strategicPatches") or []}
        return yaml.safe_dump(doc, sort_keys=False)


# ---------------------------------------------------------------------------------- CACPPT
class TalosControlPlaneController(Reconciler):
    name = "cacppt-taloscontrolplane-controller"
    primary = (CONTROLPLANE, "taloscontrolplanes")
    watches = ((CONTROLPLANE, "taloscontrolplanes"), (CAPI, "machines"), (CAPI, "clusters"))
    finalizer = TCP_FINALIZER

    def claims(self, obj: dict) -> bool:
        return owner_of_kind(obj, "Cluster") is not None

    def map_event(self, kind: Kind, obj: dict):
        ns = obj["metadata"]["namespace"]
        if kind.plural == "machines":
            ref = owner_of_kind(obj, "TalosControlPlane")
            if ref:
                yield ns, ref["name"]
        elif kind.plural == "clusters":
            ref = (obj.get("spec") or {}).get("controlPlaneRef") or {}
            if ref.get("kind") == "TalosControlPlane":
                yield ns, ref["name"]

    def _machines(self, tcp: dict) -> list[dict]:
        ns, uid = tcp["metadata"]["namespace"], tcp["metadata"]["uid"]
        return by_age([m for m in self.store.list(self.kind(CAPI, "machines"), ns)
                       if CONTROL_PLANE in labels(m) and owned_by(m, uid)])

    def _up_to_date(self, tcp: dict, machine: dict) -> bool:
        spec = tcp.get("spec") or {}
        ns = machine["metadata"]["namespace"]
        if (machine.get("spec") or {}).get("version") != spec.get("version"):
            return False
        hm = self.get(self.kind(INFRA, "harvestermachines"), ns, machine["metadata"]["name"])
        if hm is not None and annotations(hm).get("cluster.x-k8s.io/cloned-from-name") != (spec.get("infrastructureTemplate") or {}).get("name"):
            return False
        tc = self.get(self.kind(BOOTSTRAP, "talosconfigs"), ns, machine["metadata"]["name"])
        return tc is None or (tc.get("spec") or {}) == ((spec.get("controlPlaneConfig") or {}).get("controlplane") or {})

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        now = self.clock.now()
        meta, spec = obj["metadata"], obj.get("spec") or {}
        ns, key = meta["namespace"], (meta["namespace"], meta["name"])
        cluster_ref = owner_of_kind(obj, "Cluster")
        if cluster_ref is None:
            return  # waits for the Cluster controller to set the owner reference
        cluster = self.get(self.kind(CAPI, "clusters"), ns, cluster_ref["name"])
        if cluster is None or _paused(cluster, obj):
            return
        cluster_name = cluster["metadata"]["name"]
        desired = spec.get("replicas", 1)
        config = (spec.get("controlPlaneConfig") or {}).get("controlplane") or {}
        status = self.status_writer(kind, obj)

        errs = patch_errors(config)
        if errs:
            message = "invalid control plane config: " + "; ".join(errs)

            def invalid(o):
                set_v1beta1_condition(o, "Available", "False", "InvalidControlPlaneConfig", message, "Error", now=now)
                set_v1beta1_condition(o, "Ready", "False", "InvalidControlPlaneConfig", message, "Error", now=now)
                o.setdefault("status", {})["observedGeneration"] = meta.get("generation", 1)
            status(invalid)
            return
        if not _initialization(cluster).get("infrastructureProvisioned"):
            status(lambda o: self._summary(o, obj, cluster, [], desired, now))
            return

        machines = self._machines(obj)
        alive = [m for m in machines if not deleting(m)]
        running = [m for m in alive if machine_running(m)]
        outdated = [m for m in alive if not self._up_to_date(obj, m)]
        strategy = spec.get("rolloutStrategy") or {}
        surge = int((strategy.get("rollingUpdate") or {}).get("maxSurge", 1) or 0)
        clone_error = ""
        busy = len(alive) != len(machines) or len(running) != len(alive)
        if not busy:
            try:
                if outdated and strategy.get("type", "RollingUpdate") == "RollingUpdate":
                    if len(alive) < desired + surge:
                        self._create(obj, cluster_name)
                    else:
                        self._delete(outdated[0])
                elif len(alive) < desired:
                    self._create(obj, cluster_name)
                elif len(alive) > desired:
                    self._delete((outdated or alive)[0])
            except CloneFailed as e:
                clone_error = str(e)
        if running:
            ensure_kubeconfig(self, cluster, obj)
        machines = self._machines(obj)
        obj = status(lambda o: self._summary(o, obj, cluster, machines, desired, now, clone_error)) or obj
        if busy or len([m for m in machines if not deleting(m)]) != desired:
            self.requeue(key, WAIT * 4)

    def _create(self, tcp: dict, cluster_name: str) -> None:
        spec = tcp["spec"]
        create_machine(self, owner=tcp, name=f"{tcp['metadata']['name']}-{random_suffix()}", cluster_name=cluster_name,
                       machine_labels={CONTROL_PLANE: ""}, version=spec.get("version"),
                       infra_template_ref=spec.get("infrastructureTemplate") or {},
                       bootstrap_spec=(spec.get("controlPlaneConfig") or {}).get("controlplane") or {})

    def _delete(self, machine: dict) -> None:
        self.delete(self.kind(CAPI, "machines"), machine["metadata"]["namespace"], machine["metadata"]["name"])

    def _summary(self, o: dict, tcp: dict, cluster: dict, machines: list[dict], desired: int, now: str,
                 clone_error: str = "") -> None:
        status = o.setdefault("status", {})
        alive = [m for m in machines if not deleting(m)]
        running = [m for m in alive if machine_running(m)]
        outdated = [m for m in alive if not self._up_to_date(tcp, m)]
        if running:
            status["bootstrapped"] = True
            status["initialized"] = True
        initialized = bool(status.get("initialized"))
        status.update(replicas=len(alive), readyReplicas=len(running), unavailableReplicas=len(alive) - len(running),
                      ready=len(running) >= 1, initialized=initialized, version=tcp["spec"].get("version"),
                      selector=f"{CLUSTER_NAME}={cluster['metadata']['name']},{CONTROL_PLANE}",
                      observedGeneration=tcp["metadata"].get("generation", 1))
        if initialized:
            set_v1beta1_condition(o, "Available", "True", now=now)
        else:
            set_v1beta1_condition(o, "Available", "False", "WaitingForTalosBoot", "waiting for the first control plane machine to boot",
                                  "Info", now=now)
        if clone_error:
            set_v1beta1_condition(o, "MachinesCreated", "False", "InfrastructureTemplateCloningFailed", clone_error, "Error", now=now)
        elif machines:
            set_v1beta1_condition(o, "MachinesCreated", "True", now=now)
        if alive and len(running) == len(alive):
            set_v1beta1_condition(o, "MachinesReady", "True", now=now)
        elif alive:
            set_v1beta1_condition(o, "MachinesReady", "False", "WaitingForMachines",
                                  f"{len(alive) - len(running)} of {len(alive)} machines are not ready", "Info", now=now)
            set_v1beta1_condition(o, "MachinesBootstrapped", "False", "WaitingForMachines", severity="Info", now=now)
        if running:
            set_v1beta1_condition(o, "MachinesBootstrapped", "True", now=now)
        if len(alive) < desired:
            set_v1beta1_condition(o, "Resized", "False", "ScalingUp",
                                  f"Scaling up control plane to {desired} replicas (actual {len(alive)})", "Warning", now=now)
        elif len(alive) > desired:
            set_v1beta1_condition(o, "Resized", "False", "ScalingDown",
                                  f"Scaling down control plane to {desired} replicas (actual {len(alive)})", "Warning", now=now)
        else:
            set_v1beta1_condition(o, "Resized", "True", now=now)
        if outdated:
            set_v1beta1_condition(o, "MachinesSpecUpToDate", "False", "RollingUpdateInProgress",
                                  f"Rolling {len(alive)} replicas with outdated spec ({len(alive) - len(outdated)} replicas up to date)",
                                  "Warning", now=now)
        elif alive:
            set_v1beta1_condition(o, "MachinesSpecUpToDate", "True", now=now)
        summary = [c for c in status["conditions"] if c["type"] in ("Available", "MachinesCreated", "MachinesReady", "Resized")]
        failing = next((c for c in summary if c["status"] != "True"), None)
        if failing is None and len(summary) == 4:
            set_v1beta1_condition(o, "Ready", "True", now=now)
        elif failing is not None:
            set_v1beta1_condition(o, "Ready", "False", failing.get("reason", ""), failing.get("message", ""),
                                  failing.get("severity", "Info"), now=now)

    async def finalize(self, kind: Kind, obj: dict) -> bool:
        """Delete the control plane Machines first; the finalizer stays until they are gone."""
        machines = self._machines(obj)
        for m in machines:
            if not deleting(m):
                self._delete(m)
        return not self._machines(obj)


def ensure_kubeconfig(ctrl: Reconciler, cluster: dict, tcp: dict) -> None:
    """<c>-kubeconfig: an admin kubeconfig for the workload cluster's endpoint, signed by <c>-ca."""
    secrets = ctrl.kind("", "secrets")
    ns, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
    if ctrl.get(secrets, ns, f"{name}-kubeconfig") is not None:
        return
    ca = ctrl.get(secrets, ns, f"{name}-ca")
    endpoint = (cluster.get("spec") or {}).get("controlPlaneEndpoint") or {}
    if ca is None or not endpoint.get("host"):
        return
    user = f"admin@{name}"
    doc = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": name, "cluster": {
               "server": f"https://{endpoint['host']}:{endpoint.get('port', 6443)}",
               "certificate-authority-data": ca["data"]["tls.crt"]}}],
           "users": [{"name": user, "user": {
               "client-certificate-data": _b64(_fake_pem("CERTIFICATE", user)),
               "client-key-data": _b64(_fake_pem("EC PRIVATE KEY", user))}}],
           "contexts": [{"name": f"{user}", "context": {"cluster": name, "user": user}}],
           "current-context": user}
    ctrl.create(secrets, {"apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
                          "metadata": {"name": f"{name}-kubeconfig", "namespace": ns,
                                       "labels": {CLUSTER_NAME: name},
                                       "ownerReferences": [owner_ref(tcp, controller=True)]},
                          "data": {"value": _b64(yaml.safe_dump(doc, sort_keys=False))}})


CONTROLLERS: list = [TalosConfigController, TalosControlPlaneController]
