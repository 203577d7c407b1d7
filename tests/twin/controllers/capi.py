"""Cluster API core v1.12: the Cluster, MachineDeployment and Machine reconcilers, writing the
v1beta2 (storage) status: metav1 conditions, status.initialization, replica counters, phases.

Cluster: finalizer, owner references onto its infrastructure cluster and control plane, the
endpoint copied from the infrastructure cluster, phase, initialization, conditions, counters;
Paused stops everything (deletion too); deletion in CAPI's order: MachineDeployments and worker
Machines, then the control plane, then the infrastructure cluster, then the finalizer.
MachineDeployment: no MachineSet is modelled; it owns its Machines directly (each with a
HarvesterMachine and a TalosConfig cloned from the template refs), scales, rolls with maxSurge
1 / maxUnavailable 0, and waits for the control plane to be initialized.
Machine: Pending -> Provisioning (bootstrap data) -> Provisioned (infrastructure) -> Running
(nodeRef after a short delay); deletion deletes its HarvesterMachine and TalosConfig first.
"""
from __future__ import annotations

from ..registry import Kind
from .capi_support import (
    BOOTSTRAP,
    CAPI,
    CLONED_FROM_NAME,
    CLUSTER_NAME,
    CONTROL_PLANE,
    CONTROLPLANE,
    DEPLOYMENT_NAME,
    INFRA,
    PAUSED,
    CloneFailed,
    Reconciler,
    annotations,
    by_age,
    condition_status,
    create_machine,
    deleting,
    ensure_owner,
    group_of,
    labels,
    machine_running,
    owned_by,
    owner_of_kind,
    owner_ref,
    random_suffix,
    set_v1beta2_condition,
    short_hash,
)

CLUSTER_FINALIZER = "cluster.cluster.x-k8s.io"
MACHINE_FINALIZER = "machine.cluster.x-k8s.io"
NODE_DELAY = 1.5  # from infrastructure provisioned to the Node joining and being Ready
WAIT = 1.0


def _paused(cluster: dict | None, obj: dict) -> bool:
    return bool(((cluster or {}).get("spec") or {}).get("paused")) or PAUSED in annotations(obj)


def _set_paused(o: dict, paused: bool, now: str) -> None:
    set_v1beta2_condition(o, "Paused", "True" if paused else "False", "Paused" if paused else "NotPaused", now=now)


def _ref_kind(ctrl: Reconciler, ref: dict) -> Kind | None:
    return ctrl.registry.by_kind(group_of(ref), ref.get("kind", "")) if ref else None


def _cluster(ctrl: Reconciler, obj: dict) -> dict | None:
    """The Cluster named by obj's spec.clusterName, in obj's namespace."""
    name = (obj.get("spec") or {}).get("clusterName", "")
    return ctrl.get(ctrl.kind(CAPI, "clusters"), obj["metadata"]["namespace"], name)


def _ref_ready_condition(o: dict, type_: str, ref_obj: dict | None, ref: dict, ready: bool, field: str,
                         now: str) -> None:
    """A Machine condition mirroring a referenced object: missing, ready, or `<field> is false`."""
    if ref_obj is None:
        set_v1beta2_condition(o, type_, "False", "ObjectDoesNotExist", f"{ref.get('kind')} does not exist", now=now)
    else:
        set_v1beta2_condition(o, type_, "True" if ready else "False", "Ready" if ready else "NotReady",
                              "" if ready else f"{ref_obj['kind']} {field} is false", now=now)


def _get_ref(ctrl: Reconciler, ns: str, ref: dict | None) -> dict | None:
    kind = _ref_kind(ctrl, ref or {})
    return ctrl.get(kind, ns, ref["name"]) if kind else None


# ---------------------------------------------------------------------------------- Cluster
class ClusterController(Reconciler):
    name = "capi-cluster-controller"
    primary = (CAPI, "clusters")
    watches = ((CAPI, "clusters"), (INFRA, "harvesterclusters"), (CONTROLPLANE, "taloscontrolplanes"),
               (CAPI, "machinedeployments"), (CAPI, "machines"))
    finalizer = CLUSTER_FINALIZER

    def map_event(self, kind: Kind, obj: dict):
        ns = obj["metadata"]["namespace"]
        if kind.plural in ("harvesterclusters", "taloscontrolplanes"):
            for c in self.store.list(self.primary_kind(), ns):
                for ref in ((c.get("spec") or {}).get("infrastructureRef"), (c.get("spec") or {}).get("controlPlaneRef")):
                    if ref and ref.get("kind") == obj["kind"] and ref.get("name") == obj["metadata"]["name"]:
                        yield ns, c["metadata"]["name"]
        elif kind.plural == "machinedeployments":
            yield ns, (obj.get("spec") or {}).get("clusterName", "")
        elif kind.plural == "machines":
            yield ns, labels(obj).get(CLUSTER_NAME) or (obj.get("spec") or {}).get("clusterName", "")

    def _status(self, kind: Kind, obj: dict, change) -> dict | None:
        return self.mutate(kind, obj["metadata"]["namespace"], obj["metadata"]["name"], change, status=True)

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        now = self.clock.now()
        meta, spec = obj["metadata"], obj.get("spec") or {}
        ns = meta["namespace"]
        if _paused(obj, obj):
            self._status(kind, obj, lambda o: _set_paused(o, True, now))
            return
        infra_ref, cp_ref = spec.get("infrastructureRef"), spec.get("controlPlaneRef")
        infra, cp = _get_ref(self, ns, infra_ref), _get_ref(self, ns, cp_ref)
        for dependent, ref in ((infra, infra_ref), (cp, cp_ref)):
            if dependent is not None and not owned_by(dependent, meta["uid"]) and not deleting(dependent):
                self.mutate(_ref_kind(self, ref), ns, ref["name"], lambda o: ensure_owner(o, owner_ref(obj)))
        endpoint = ((infra or {}).get("spec") or {}).get("controlPlaneEndpoint") or {}
        if endpoint.get("host") and not (spec.get("controlPlaneEndpoint") or {}).get("host"):
            def copy(o):
                o["spec"]["controlPlaneEndpoint"] = dict(endpoint)
            obj = self.mutate(kind, ns, meta["name"], copy) or obj
        mds = [md for md in self.store.list(self.kind(CAPI, "machinedeployments"), ns)
               if (md.get("spec") or {}).get("clusterName") == meta["name"]]
        cp_machines = [m for m in self.store.list(self.kind(CAPI, "machines"), ns)
                       if labels(m).get(CLUSTER_NAME) == meta["name"] and CONTROL_PLANE in labels(m) and not deleting(m)]
        self._status(kind, obj, lambda o: self._write_status(o, infra, cp, mds, cp_machines, now))

    def _write_status(self, o: dict, infra: dict | None, cp: dict | None, mds: list[dict], cp_machines: list[dict],
                      now: str) -> None:
        spec, status = o.get("spec") or {}, o.setdefault("status", {})
        _set_paused(o, False, now)
        init = status.setdefault("initialization", {})
        infra_ready = bool(infra and (((infra.get("status") or {}).get("initialization") or {}).get("provisioned")
                                      or (infra.get("status") or {}).get("ready")))
        cp_status = (cp or {}).get("status") or {}
        cp_init = bool(cp_status.get("initialized"))
        init["infrastructureProvisioned"] = infra_ready or init.get("infrastructureProvisioned", False)
        init["controlPlaneInitialized"] = cp_init or init.get("controlPlaneInitialized", False)
        ref_kind = lambda r: (r or {}).get("kind", "")  # noqa: E731
        if spec.get("infrastructureRef") and infra is None:
            set_v1beta2_condition(o, "InfrastructureReady", "False", "ObjectDoesNotExist",
                                  f"{ref_kind(spec['infrastructureRef'])} does not exist", now=now)
        elif infra is not None:
            set_v1beta2_condition(o, "InfrastructureReady", "True" if infra_ready else "False",
                                  "Ready" if infra_ready else "NotReady",
                                  "" if infra_ready else f"{infra['kind']} status.initialization.provisioned is false", now=now)
        if spec.get("controlPlaneRef") and cp is None:
            for t in ("ControlPlaneInitialized", "ControlPlaneAvailable"):
                set_v1beta2_condition(o, t, "False", "ObjectDoesNotExist", f"{ref_kind(spec['controlPlaneRef'])} does not exist", now=now)
        elif cp is not None:
            set_v1beta2_condition(o, "ControlPlaneInitialized", "True" if init["controlPlaneInitialized"] else "False",
                                  "Initialized" if init["controlPlaneInitialized"] else "NotInitialized",
                                  "" if init["controlPlaneInitialized"] else "Control plane not yet initialized", now=now)
            desired = (cp.get("spec") or {}).get("replicas", 1)
            available = bool(cp_status.get("ready")) and cp_status.get("readyReplicas", 0) >= desired
            set_v1beta2_condition(o, "ControlPlaneAvailable", "True" if available else "False",
                                  "Available" if available else "NotAvailable",
                                  "" if available else f"{cp_status.get('readyReplicas', 0)} of {desired} control plane replicas are ready",
                                  now=now)
            version = (cp.get("spec") or {}).get("version")
            status["controlPlane"] = {
                "desiredReplicas": desired, "replicas": cp_status.get("replicas", 0),
                "readyReplicas": cp_status.get("readyReplicas", 0), "availableReplicas": cp_status.get("readyReplicas", 0),
                "upToDateReplicas": sum(1 for m in cp_machines if (m.get("spec") or {}).get("version") == version)}
        workers = {"desiredReplicas": 0, "replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "upToDateReplicas": 0}
        for md in mds:
            md_status = md.get("status") or {}
            workers["desiredReplicas"] += (md.get("spec") or {}).get("replicas", 0)
            for k in ("replicas", "readyReplicas", "availableReplicas", "upToDateReplicas"):
                workers[k] += md_status.get(k, 0)
        status["workers"] = workers
        if not mds:
            set_v1beta2_condition(o, "WorkersAvailable", "True", "NoWorkers", now=now)
        else:
            not_available = sorted(md["metadata"]["name"] for md in mds if condition_status(md, "Available") != "True")
            set_v1beta2_condition(o, "WorkersAvailable", "False" if not_available else "True",
                                  "NotAvailable" if not_available else "Available",
                                  f"MachineDeployments {', '.join(not_available)} are not available" if not_available else "",
                                  now=now)
        set_v1beta2_condition(o, "RemoteConnectionProbe", "True" if init["controlPlaneInitialized"] else "False",
                              "ProbeSucceeded" if init["controlPlaneInitialized"] else "ProbeFailed",
                              "" if init["controlPlaneInitialized"] else "Remote connection not established yet", now=now)
        summary = ("InfrastructureReady", "ControlPlaneAvailable", "WorkersAvailable", "RemoteConnectionProbe")
        failing = [t for t in summary if condition_status(o, t) != "True"]
        set_v1beta2_condition(o, "Available", "False" if failing else "True", "NotAvailable" if failing else "Available",
                              f"{', '.join(failing)} not True" if failing else "", now=now)
        set_v1beta2_condition(o, "Deleting", "False", "NotDeleting", now=now)
        endpoint = spec.get("controlPlaneEndpoint") or {}
        if init["infrastructureProvisioned"] and endpoint.get("host") and endpoint.get("port"):
            status["phase"] = "Provisioned"
        elif spec.get("infrastructureRef") or spec.get("controlPlaneRef"):
            status["phase"] = "Provisioning"
        else:
            status["phase"] = "Pending"
        status["observedGeneration"] = o["metadata"].get("generation", 1)

    async def finalize(self, kind: Kind, obj: dict) -> bool:
        now = self.clock.now()
        meta, spec = obj["metadata"], obj.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        if _paused(obj, obj):
            self._status(kind, obj, lambda o: _set_paused(o, True, now))
            return False  # the pause check comes before the delete path: deletion waits

        def progress(reason: str, message: str):
            def change(o):
                o.setdefault("status", {})["phase"] = "Deleting"
                _set_paused(o, False, now)
                set_v1beta2_condition(o, "Deleting", "True", reason, message, now=now)
            self._status(kind, obj, change)
        md_kind, machine_kind = self.kind(CAPI, "machinedeployments"), self.kind(CAPI, "machines")
        mds = [md for md in self.store.list(md_kind, ns) if (md.get("spec") or {}).get("clusterName") == name]
        workers = [m for m in self.store.list(machine_kind, ns)
                   if labels(m).get(CLUSTER_NAME) == name and CONTROL_PLANE not in labels(m)]
        for md in mds:
            if not deleting(md):
                self.delete(md_kind, ns, md["metadata"]["name"])
        for m in workers:
            if not deleting(m) and not owner_of_kind(m, "MachineDeployment"):
                self.delete(machine_kind, ns, m["metadata"]["name"])
        if mds or workers:
            progress("WaitingForWorkersDeletion", f"{len(mds)} MachineDeployments and {len(workers)} worker Machines still exist")
            return False
        for ref, reason in ((spec.get("controlPlaneRef"), "WaitingForControlPlaneDeletion"),
                            (spec.get("infrastructureRef"), "WaitingForInfrastructureDeletion")):
            dependent = _get_ref(self, ns, ref)
            if dependent is not None:
                if not deleting(dependent):
                    self.delete(_ref_kind(self, ref), ns, ref["name"])
                progress(reason, f"{ref['kind']} {ref['name']} is being deleted")
                return False
        progress("DeletionCompleted", "")
        return True


# ---------------------------------------------------------------------------------- MachineDeployment
class MachineDeploymentController(Reconciler):
    name = "capi-machinedeployment-controller"
    primary = (CAPI, "machinedeployments")
    watches = ((CAPI, "machinedeployments"), (CAPI, "machines"), (CAPI, "clusters"))

    def map_event(self, kind: Kind, obj: dict):
        ns = obj["metadata"]["namespace"]
        if kind.plural == "machines":
            ref = owner_of_kind(obj, "MachineDeployment")
            if ref:
                yield ns, ref["name"]
        else:
            for md in self.store.list(self.primary_kind(), ns):
                if (md.get("spec") or {}).get("clusterName") == obj["metadata"]["name"]:
                    yield ns, md["metadata"]["name"]

    def _machines(self, md: dict) -> list[dict]:
        ns, uid = md["metadata"]["namespace"], md["metadata"]["uid"]
        return by_age([m for m in self.store.list(self.kind(CAPI, "machines"), ns) if owned_by(m, uid)])

    def _up_to_date(self, md: dict, machine: dict) -> bool:
        tspec = ((md.get("spec") or {}).get("template") or {}).get("spec") or {}
        ns = machine["metadata"]["namespace"]
        if (machine.get("spec") or {}).get("version") != tspec.get("version"):
            return False
        hm = self.get(self.kind(INFRA, "harvestermachines"), ns, machine["metadata"]["name"])
        if hm is not None and annotations(hm).get(CLONED_FROM_NAME) != (tspec.get("infrastructureRef") or {}).get("name"):
            return False
        tc = self.get(self.kind(BOOTSTRAP, "talosconfigs"), ns, machine["metadata"]["name"])
        config_ref = (tspec.get("bootstrap") or {}).get("configRef") or {}
        return tc is None or annotations(tc).get(CLONED_FROM_NAME) == config_ref.get("name")

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        now = self.clock.now()
        meta, spec = obj["metadata"], obj.get("spec") or {}
        ns, key = meta["namespace"], (meta["namespace"], meta["name"])
        cluster, status = _cluster(self, obj), self.status_writer(kind, obj)
        if cluster is None:
            return
        if _paused(cluster, obj) or spec.get("paused"):
            status(lambda o: _set_paused(o, True, now))
            return
        desired = spec.get("replicas", 1)
        machines = self._machines(obj)
        alive = [m for m in machines if not deleting(m)]
        outdated = [m for m in alive if not self._up_to_date(obj, m)]
        ready = [m for m in alive if machine_running(m)]
        cp_initialized = (((cluster.get("status") or {}).get("initialization") or {}).get("controlPlaneInitialized"))
        strategy = (spec.get("rollout") or {}).get("strategy") or {}
        clone_error = ""
        if cp_initialized:
            try:
                if outdated and strategy.get("type", "RollingUpdate") == "RollingUpdate":
                    # maxSurge 1, maxUnavailable 0: add one new machine, then retire an old one once
                    # every machine is ready
                    if len(ready) == len(alive) == len(machines):
                        if len(alive) < desired + 1:
                            self._create(obj, cluster)
                        else:
                            self.delete(self.kind(CAPI, "machines"), ns, outdated[0]["metadata"]["name"])
                elif len(alive) < desired:
                    for _ in range(desired - len(alive)):
                        self._create(obj, cluster)
                elif len(alive) > desired:
                    for m in (outdated + [m for m in reversed(alive) if m not in outdated])[:len(alive) - desired]:
                        self.delete(self.kind(CAPI, "machines"), ns, m["metadata"]["name"])
            except CloneFailed as e:
                clone_error = str(e)
        machines = self._machines(obj)
        status(lambda o: self._write_status(o, machines, desired, now, clone_error))
        if len([m for m in machines if not deleting(m)]) != desired or any(not machine_running(m) for m in machines):
            self.requeue(key, WAIT * 2)

    def _create(self, md: dict, cluster: dict) -> None:
        template = md["spec"].get("template") or {}
        tspec = template.get("spec") or {}
        config_ref = (tspec.get("bootstrap") or {}).get("configRef") or {}
        ns = md["metadata"]["namespace"]
        config_template = _get_ref(self, ns, config_ref)
        if config_template is None:
            raise CloneFailed(f"{config_ref.get('kind')} {ns}/{config_ref.get('name')} not found")
        # the MachineSet name: the MD name plus a hash of the template, as CAPI names machine sets
        set_hash = short_hash(repr(sorted(tspec.items())))
        create_machine(self, owner=md, name=f"{md['metadata']['name']}-{set_hash}-{random_suffix()}",
                       cluster_name=cluster["metadata"]["name"],
                       machine_labels=dict(((template.get("metadata") or {}).get("labels") or {}),
                                           **{DEPLOYMENT_NAME: md["metadata"]["name"]}),
                       version=tspec.get("version"), infra_template_ref=tspec.get("infrastructureRef") or {},
                       bootstrap_spec=((config_template.get("spec") or {}).get("template") or {}).get("spec") or {},
                       bootstrap_template=config_template)

    def _write_status(self, o: dict, machines: list[dict], desired: int, now: str, clone_error: str) -> None:
        status = o.setdefault("status", {})
        alive = [m for m in machines if not deleting(m)]
        ready = [m for m in alive if machine_running(m)]
        up_to_date = [m for m in alive if self._up_to_date(o, m)]
        status.update(replicas=len(alive), readyReplicas=len(ready), availableReplicas=len(ready),
                      upToDateReplicas=len(up_to_date), observedGeneration=o["metadata"].get("generation", 1),
                      selector=",".join(f"{k}={v}" for k, v in sorted((((o.get("spec") or {}).get("selector") or {})
                                                                        .get("matchLabels") or {}).items())))
        status["phase"] = "ScalingUp" if len(alive) < desired else "ScalingDown" if len(alive) > desired else "Running"
        _set_paused(o, False, now)
        available = len(ready) >= desired
        set_v1beta2_condition(o, "Available", "True" if available else "False", "Available" if available else "NotAvailable",
                              "" if available else f"{len(ready)} available replicas, at least {desired} required "
                              f"(spec.strategy.rollout.maxUnavailable is 0, spec.replicas is {desired})", now=now)
        if not alive:
            set_v1beta2_condition(o, "MachinesReady", "True", "NoReplicas", now=now)
        else:
            waiting = [m["metadata"]["name"] for m in alive if not machine_running(m)]
            set_v1beta2_condition(o, "MachinesReady", "False" if waiting else "True", "NotReady" if waiting else "Ready",
                                  f"Machines {', '.join(waiting)} are not ready" if waiting else "", now=now)
        stale = len(alive) - len(up_to_date)
        set_v1beta2_condition(o, "MachinesUpToDate", "False" if stale else "True", "NotUpToDate" if stale else "UpToDate",
                              f"{stale} Machines are not up to date" if stale else "", now=now)
        set_v1beta2_condition(o, "RollingOut", "True" if stale else "False", "RollingOut" if stale else "NotRollingOut",
                              f"Rolling out changes to {stale} Machines" if stale else "", now=now)
        set_v1beta2_condition(o, "ScalingUp", "True" if len(alive) < desired else "False",
                              "ScalingUp" if len(alive) < desired else "NotScalingUp",
                              f"Scaling up from {len(alive)} to {desired} replicas" if len(alive) < desired else "",
                              now=now)
        set_v1beta2_condition(o, "ScalingDown", "True" if len(alive) > desired else "False",
                              "ScalingDown" if len(alive) > desired else "NotScalingDown",
                              f"Scaling down from {len(alive)} to {desired} replicas" if len(alive) > desired else "",
                              now=now)
        if clone_error:
            set_v1beta2_condition(o, "ScalingUp", "True", "ScalingUp", f"failed to create Machine: {clone_error}", now=now)


# ---------------------------------------------------------------------------------- Machine
class MachineController(Reconciler):
    name = "capi-machine-controller"
    primary = (CAPI, "machines")
    watches = ((CAPI, "machines"), (INFRA, "harvestermachines"), (BOOTSTRAP, "talosconfigs"), (CAPI, "clusters"))
    finalizer = MACHINE_FINALIZER

    def map_event(self, kind: Kind, obj: dict):
        ns = obj["metadata"]["namespace"]
        if kind.plural == "clusters":
            for m in self.store.list(self.primary_kind(), ns):
                if labels(m).get(CLUSTER_NAME) == obj["metadata"]["name"]:
                    yield ns, m["metadata"]["name"]
        else:
            ref = owner_of_kind(obj, "Machine")
            if ref:
                yield ns, ref["name"]

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        now = self.clock.now()
        meta, spec = obj["metadata"], obj.get("spec") or {}
        ns, key = meta["namespace"], (meta["namespace"], meta["name"])
        cluster, status = _cluster(self, obj), self.status_writer(kind, obj)
        if _paused(cluster, obj):
            status(lambda o: _set_paused(o, True, now))
            return
        boot_ref = (spec.get("bootstrap") or {}).get("configRef") or {}
        infra_ref = spec.get("infrastructureRef") or {}
        boot, infra = _get_ref(self, ns, boot_ref), _get_ref(self, ns, infra_ref)
        for dependent, ref in ((boot, boot_ref), (infra, infra_ref)):
            if dependent is not None and not owned_by(dependent, meta["uid"]):
                self.mutate(_ref_kind(self, ref), ns, ref["name"],
                            lambda o: ensure_owner(o, owner_ref(obj, controller=True)))
        boot_status, infra_status = (boot or {}).get("status") or {}, (infra or {}).get("status") or {}
        data_secret = boot_status.get("dataSecretName") if boot_status.get("ready") else None
        infra_ready = bool(infra_status.get("ready") or (infra_status.get("initialization") or {}).get("provisioned"))
        provider_id = (infra.get("spec") or {}).get("providerID") if infra_ready else None
        if (data_secret and spec.get("bootstrap", {}).get("dataSecretName") != data_secret) or \
                (provider_id and spec.get("providerID") != provider_id):
            def spec_change(o):
                if data_secret:
                    o["spec"]["bootstrap"]["dataSecretName"] = data_secret
                if provider_id:
                    o["spec"]["providerID"] = provider_id
            obj = self.mutate(kind, ns, meta["name"], spec_change) or obj
        node_ready = infra_ready and bool(provider_id) and self.due(key, "node", meta["uid"], NODE_DELAY)
        status(lambda o: self._write_status(o, boot, infra, boot_ref, infra_ref, bool(data_secret), infra_ready,
                                            node_ready, infra_status, now))

    def _write_status(self, o: dict, boot, infra, boot_ref, infra_ref, boot_ready: bool, infra_ready: bool,
                      node_ready: bool, infra_status: dict, now: str) -> None:
        status = o.setdefault("status", {})
        _set_paused(o, False, now)
        status["initialization"] = {"bootstrapDataSecretCreated": boot_ready, "infrastructureProvisioned": infra_ready}
        _ref_ready_condition(o, "BootstrapConfigReady", boot, boot_ref, boot_ready, "status.ready", now)
        _ref_ready_condition(o, "InfrastructureReady", infra, infra_ref, infra_ready,
                             "status.initialization.provisioned", now)
        if infra_status.get("addresses"):
            status["addresses"] = infra_status["addresses"]
        if node_ready:
            status["nodeRef"] = {"name": o["metadata"]["name"]}
        has_node = bool((status.get("nodeRef") or {}).get("name"))
        set_v1beta2_condition(o, "NodeReady", "True" if has_node else "Unknown", "NodeReady" if has_node else "NodeDoesNotExist",
                              "" if has_node else "Waiting for a Node with spec.providerID to exist", now=now)
        set_v1beta2_condition(o, "NodeHealthy", "True" if has_node else "Unknown", "NodeHealthy" if has_node else "NodeDoesNotExist",
                              now=now)
        ready = has_node and boot_ready and infra_ready
        set_v1beta2_condition(o, "Ready", "True" if ready else "False", "Ready" if ready else "NotReady", now=now)
        set_v1beta2_condition(o, "Available", "True" if ready else "False", "Available" if ready else "NotReady", now=now)
        set_v1beta2_condition(o, "Deleting", "False", "NotDeleting", now=now)
        status["phase"] = ("Running" if has_node else "Provisioned" if infra_ready
                           else "Provisioning" if boot_ready else "Pending")
        status["observedGeneration"] = o["metadata"].get("generation", 1)

    async def finalize(self, kind: Kind, obj: dict) -> bool:
        meta, spec = obj["metadata"], obj.get("spec") or {}
        ns = meta["namespace"]
        cluster = self.get(self.kind(CAPI, "clusters"), ns, spec.get("clusterName", ""))
        if _paused(cluster, obj):
            return False
        remaining = 0
        for ref in ((spec.get("bootstrap") or {}).get("configRef"), spec.get("infrastructureRef")):
            dependent = _get_ref(self, ns, ref)
            if dependent is not None:
                remaining += 1
                if not deleting(dependent):
                    self.delete(_ref_kind(self, ref), ns, ref["name"])
        if remaining:
            def change(o):
                o.setdefault("status", {})["phase"] = "Deleting"
                set_v1beta2_condition(o, "Deleting", "True", "WaitingForInfrastructureDeletion",
                                      "waiting for the HarvesterMachine and TalosConfig to be deleted", now=self.clock.now())
            self.mutate(kind, ns, meta["name"], change, status=True)
            return not any(_get_ref(self, ns, r) for r in ((spec.get("bootstrap") or {}).get("configRef"),
                                                            spec.get("infrastructureRef")))
        return True


CONTROLLERS: list = [ClusterController, MachineDeploymentController, MachineController]
