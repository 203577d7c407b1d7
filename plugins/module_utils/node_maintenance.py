# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Harvester node maintenance mode and cordon, the flow of ``harvester_node``::

    result = node_maintenance.run(module.client, params, warn=module.warn)

Check mode is the client's (``client.dry_run``): Kubernetes writes go as dry runs; Steve's node
actions have no dry run, so ``Maintenance.action`` sends only the read-only ones then, and the
result says what would happen (which VMs would be shut down or started again).

Facts (shared/reference/harvester-api.md §4, §11.12; harvester v1.8 pkg/api/node,
pkg/util/drainhelper, pkg/controller/master/nodedrain and node/maintain_controller.go,
pkg/webhook/resources/node/validator.go; longhorn-capi.md §2):

- Entering maintenance is a request: the Steve action ``enableMaintenanceMode`` (body
  ``{"force": "true"|"false"}``, 204) first runs ``DrainPossible`` and then only sets the Node
  annotation ``harvesterhci.io/drain-requested: "true"`` (and ``harvesterhci.io/drain-forced``);
  the same annotation written through the Kubernetes API is the pure-Kubernetes way.
- Harvester's node-drain controller then stops the VMs labelled with a shutdown
  ``harvesterhci.io/maintain-mode-strategy``, cordons and drains the node (VMIs live-migrate
  away), sets ``harvesterhci.io/maintain-status: running`` and removes the request; the maintain
  controller flips it to ``completed`` once no VMI is left. When the drain is impossible (another
  control-plane node in maintenance, or, without force, a VM that cannot be live-migrated) the
  controller only removes the annotations again: the **silent drop**, seen here as the request
  disappearing without ``maintain-status``.
- ``DrainPossible``: a control-plane/etcd node needs exactly three control-plane/etcd nodes
  without ``maintain-status`` (so one at a time, and never in a single-control-plane cluster).
  The Node webhook refuses to cordon, or to put into maintenance, the last available node.
- Leaving: the Steve action ``disableMaintenanceMode`` uncordons, removes the ``kubevirt.io/drain``
  taint and the annotations, and starts the ShutdownAndRestartAfterDisable VMs; through the
  Kubernetes API it is the same node patch, and this module starts those VMs itself.
- Longhorn: the node's instance manager goes with the drain, so its replicas fail and the
  volumes with a replica there degrade; when the node is back Longhorn rebuilds them. A replica
  is healthy when ``spec.healthyAt`` is set and ``spec.failedAt`` is empty; a volume's
  ``status.robustness`` means something only while it is attached.

Where Steve is: under the same server URL as the Kubernetes API, path included
(``https://<VIP>/v1/harvester/...``, ``https://<rancher>/k8s/clusters/<id>/v1/harvester/...``; the
client prefixes the kubeconfig server's path to every request). An RKE2 kubeconfig
(``https://<VIP>:6443``) reaches kube-apiserver only, which answers 404 there: ``method=auto``
then uses the annotation.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from . import kinds, validate
from . import node as node_info
from .errors import ApiError, ConnectionFailure, HarvesterError, NotFound
from .objects import metadata
from .retry import on_conflict
from .validate import ValidationError
from .wait import should_wait, until

DRAIN_REQUESTED = "harvesterhci.io/drain-requested"
DRAIN_FORCED = "harvesterhci.io/drain-forced"
MAINTAIN_STATUS = node_info.ANNOTATION_MAINTAIN
REQUESTED, RUNNING, COMPLETED = "requested", "running", "completed"
DRAIN_TAINT = "kubevirt.io/drain"
NODE_NAME_LABEL = "kubevirt.io/nodeName"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/etcd")
HA_CONTROL_PLANES = 3
STRATEGY_LABEL = "harvesterhci.io/maintain-mode-strategy"
STRATEGY_NODE_ANNOTATION = "harvesterhci.io/maintain-mode-strategy-node-name"
RUN_STRATEGY_ANNOTATION = "harvesterhci.io/vmRunStrategy"
RESTART_AFTER_DISABLE = "ShutdownAndRestartAfterDisable"
STEVE_NODES = "/v1/harvester/nodes"
METHODS = ("auto", "steve", "annotation")
LAST_AVAILABLE = "can't enable maintenance mode or cordon on the last available node"
HEALTHY, DEGRADED, DETACHED, MISSING = "healthy", "degraded", "detached", "missing"
# Steve's node handler answers its own refusals (DrainPossible, "already cordoned") as 500: only
# these statuses and a lost connection are transient for a node action.
TRANSIENT_STATUSES = (429, 502, 503, 504)


def transient(error):
    """A failure that says nothing about the action: worth another try."""
    if isinstance(error, ConnectionFailure):
        return error.cause in ("reset", "timeout", "refused")
    return isinstance(error, ApiError) and error.status in TRANSIENT_STATUSES


class MaintenanceRefused(HarvesterError):
    """The node cannot change as asked; raised before any write."""

    def __init__(self, message, node, volumes=(), vms=()):
        super().__init__(message)
        self.node = node
        self.volumes = list(volumes)
        self.vms = list(vms)

    def as_dict(self):
        out = {"node": self.node}
        if self.volumes:
            out["volumes"] = self.volumes
        if self.vms:
            out["vms"] = self.vms
        return out


class MaintenanceDropped(HarvesterError):
    """Harvester removed the maintenance request without entering maintenance mode."""

    def __init__(self, message, node):
        super().__init__(message)
        self.node = node

    def as_dict(self):
        return {"node": self.node}


# --- input -----------------------------------------------------------------------------------
def check(params):
    """Every input check, before any request (raises ``ValidationError``)."""
    validate.subdomain(params.get("name"), "name")
    if params.get("force") and params.get("maintenance") is not True:
        raise ValidationError("force", "only with maintenance=true (it forces the drain of a node entering maintenance mode)")
    validate.wait_timeout(params)


# --- reading nodes -----------------------------------------------------------------------------
def _annotations(obj):
    return metadata(obj).get("annotations") or {}


def state(node):
    """``completed``, ``running``, ``requested`` (drain-requested only) or ``None``."""
    ann = _annotations(node)
    if ann.get(MAINTAIN_STATUS):
        return ann[MAINTAIN_STATUS]
    return REQUESTED if DRAIN_REQUESTED in ann else None


def schedulable(node):
    return not bool(((node or {}).get("spec") or {}).get("unschedulable"))


def snapshot(node):
    """What the diff shows of a node."""
    return {"maintenance": state(node), "schedulable": schedulable(node)}


def is_control_plane(node):
    labels = metadata(node).get("labels") or {}
    return any(key in labels for key in CONTROL_PLANE_LABELS)


def control_plane_refusal(node, nodes):
    """Why Harvester will not put this control-plane node into maintenance (``DrainPossible``,
    plus a pending request elsewhere counted as maintenance), or ``None``."""
    if not is_control_plane(node):
        return None
    name = metadata(node).get("name")
    planes = [n for n in nodes if is_control_plane(n)]
    busy = [(metadata(n).get("name"), state(n)) for n in planes if metadata(n).get("name") != name and state(n)]
    if busy:
        names = ", ".join(f"{other} ({what})" for other, what in sorted(busy))
        return (f"another control-plane node is already in maintenance mode: {names}; Harvester allows one "
                "control-plane node in maintenance at a time")
    if len(planes) == 1:
        return "single control-plane cluster: Harvester cannot put its only control-plane node into maintenance mode"
    available = sum(1 for n in planes if MAINTAIN_STATUS not in _annotations(n))
    if available != HA_CONTROL_PLANES:
        return (f"Harvester puts a control-plane node into maintenance mode only while exactly {HA_CONTROL_PLANES} "
                f"control-plane/etcd nodes are out of maintenance; this cluster has {available}")
    return None


def last_available(node, nodes):
    """True when every other node is cordoned or in maintenance (the Node webhook's rule)."""
    name = metadata(node).get("name")
    return not any(metadata(n).get("name") != name and schedulable(n) and MAINTAIN_STATUS not in _annotations(n)
                   for n in nodes)


# --- Longhorn ---------------------------------------------------------------------------------
def replica_healthy(replica):
    spec = replica.get("spec") or {}
    return bool(spec.get("healthyAt")) and not spec.get("failedAt")


def _replica_node(replica):
    return (replica.get("spec") or {}).get("nodeID") or (metadata(replica).get("labels") or {}).get("longhornnode")


def _replica_volume(replica):
    return (replica.get("spec") or {}).get("volumeName") or (metadata(replica).get("labels") or {}).get("longhornvolume")


def volumes_on(node_name, replicas):
    """Names of the volumes with a replica on the node, sorted."""
    return sorted({_replica_volume(r) for r in replicas if _replica_node(r) == node_name and _replica_volume(r)})


def volumes_at_risk(node_name, replicas, lh_nodes):
    """Volumes with a replica on the node and no healthy replica on another node whose Longhorn
    node is Ready: maintenance would take their last good copy away."""
    ready = {metadata(n).get("name") for n in lh_nodes
             if (node_info.conditions((n.get("status") or {}).get("conditions")).get("Ready") or {}).get("status") == "True"}
    safe = {_replica_volume(r) for r in replicas
            if _replica_node(r) != node_name and _replica_node(r) in ready and replica_healthy(r)}
    return [v for v in volumes_on(node_name, replicas) if v not in safe]


def volume_state(volume):
    """``healthy``, ``degraded``, ``faulted``, ``unknown`` (attached) or ``detached`` / ``missing``."""
    if volume is None:
        return MISSING
    status = volume.get("status") or {}
    if status.get("state", "detached") == "detached":
        return DETACHED
    return status.get("robustness") or "unknown"


def volume_states(names, volumes):
    by_name = {metadata(v).get("name"): v for v in volumes}
    return {name: volume_state(by_name.get(name)) for name in names}


def rebuilt(states):
    """Every attached volume healthy (a detached volume rebuilds when it is attached again)."""
    return all(s in (HEALTHY, DETACHED, MISSING) for s in states.values())


# --- VMIs ---------------------------------------------------------------------------------------
def vmi_node(vmi):
    return (metadata(vmi).get("labels") or {}).get(NODE_NAME_LABEL) or (vmi.get("status") or {}).get("nodeName") or ""


def vmis_on(node_name, vmis):
    """``{(namespace, name): vmi}`` of the VMIs on the node."""
    return {(metadata(v).get("namespace", ""), metadata(v).get("name")): v for v in vmis if vmi_node(v) == node_name}


def departures(node_name, before, after):
    """How the VMIs that were on the node left it: ``(migrated, stopped)``; migrated entries
    ``{namespace, name, from_node, to_node}``, stopped ones ``namespace/name`` (a VM stopped and
    started again elsewhere has a new VMI, another uid: stopped, not migrated)."""
    now = {(metadata(v).get("namespace", ""), metadata(v).get("name")): v for v in after}
    migrated, stopped = [], []
    for ns, name in sorted(before):
        vmi = now.get((ns, name))
        if vmi is None or metadata(vmi).get("uid") != metadata(before[(ns, name)]).get("uid"):
            stopped.append(f"{ns}/{name}")
        elif vmi_node(vmi) != node_name:
            migrated.append({"namespace": ns, "name": name, "from_node": node_name, "to_node": vmi_node(vmi)})
    return migrated, stopped


def unhealthy_text(entries):
    """listUnhealthyVM's ``[{message, vms}]`` as one sentence."""
    return "; ".join(f"{(e.get('message') or '').rstrip(':')}: {', '.join(e.get('vms') or [])}" for e in entries)


# --- the flow -----------------------------------------------------------------------------------
class Maintenance:
    """One run of the module on one node."""

    def __init__(self, client, params, warn=None, clock=None, sleep=None):
        self.client = client
        self.params = params
        self.name = params["name"]
        self.warn = warn or (lambda message: None)
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self.method = None
        self.waited = []
        self.started = self.clock()

    # --- requests ---------------------------------------------------------------------------
    def node_path(self):
        return kinds.NODE.path(None, self.name)

    def steve_path(self):
        return f"{STEVE_NODES}/{quote(self.name, safe='')}"

    def read_nodes(self):
        nodes = self.client.list(kinds.NODE.path())
        target = next((n for n in nodes if metadata(n).get("name") == self.name), None)
        if target is None:
            raise node_info.NodeNotFound(self.name)
        return nodes, target

    def list_vmis(self):
        return node_info._list_or_empty(self.client, kinds.VMI.path())

    def longhorn(self, plural_kind):
        return node_info._list_or_empty(self.client, plural_kind.path(kinds.LONGHORN_NAMESPACE))

    def resolve_method(self):
        """``steve`` when /v1/harvester answers for the node, else ``annotation`` (``auto``);
        ``method=steve`` without Steve fails."""
        if self.method is None:
            wanted = self.params.get("method") or "auto"
            if wanted == "annotation":
                self.method = "annotation"
            else:
                try:
                    self.client.get(self.steve_path())
                    self.method = "steve"
                except NotFound:
                    if wanted == "steve":
                        raise HarvesterError(
                            f"method=steve: the Harvester API does not answer at {self.client.connection.server}"
                            f"{STEVE_NODES}/{self.name} (404); the kubeconfig must point at the Harvester VIP "
                            "(https://<VIP> or https://<VIP>/k8s/clusters/local) or a Rancher cluster URL, "
                            "not at kube-apiserver's port 6443; or use method=annotation") from None
                    self.method = "annotation"
        return self.method

    def action(self, action, body=None, done=None, read_only=False):
        """A Steve node action (POST with a JSON body). Steve's actions are not Kubernetes writes
        and know no dry run: in check mode only ``read_only`` ones are sent (as the client's
        dry-run writes), the others are not sent at all (``None``). A transient failure
        (``transient``) is tried again with the client's backoff; before that, ``done(node)`` on a
        fresh read of the node says whether an attempt whose answer was lost already took effect
        (then it is not sent again)."""
        if self.client.dry_run and not read_only:  # the one check-mode rule of Steve actions (see above)
            return None
        policy, attempt = self.client.retry_policy, 0
        while True:
            attempt += 1
            try:
                return self.client.request("POST", self.steve_path(), query={"action": action},
                                           body=body if body is not None else {}, retry=False)
            except (ApiError, ConnectionFailure) as e:
                if not transient(e) or attempt >= policy.max_attempts:
                    raise
                if done is not None and done(self.client.get(self.node_path())):
                    return None
                self.sleep(policy.delay(attempt, getattr(e, "retry_after", None)))

    def patch_node(self, build):
        """Merge patch of the node built from the live object (with its resourceVersion; a 409
        re-reads it)."""
        def attempt():
            live = self.client.get(self.node_path())
            patch = build(live)
            patch.setdefault("metadata", {})["resourceVersion"] = metadata(live).get("resourceVersion")
            return self.client.merge_patch(self.node_path(), patch)
        return on_conflict(attempt)

    def refuse(self, message, **extra):
        raise MaintenanceRefused(f"node {self.name}: {message}; nothing was changed", self.name, **extra)

    # --- waiting ------------------------------------------------------------------------------
    def note(self, what):
        self.waited.append({"what": what, "seconds": round(self.clock() - self.started, 1)})

    def timeout(self):
        return max(0.0, float(self.params.get("wait_timeout") or 900) - (self.clock() - self.started))

    # --- results --------------------------------------------------------------------------------
    def result(self, changed, before, after, **extra):
        out = {"changed": changed, "method": self.method, "maintenance": after["maintenance"],
               "node": node_info.gather(self.client, self.name)[0], "migrated_vms": [], "stopped_vms": [],
               "restarted_vms": [], "non_migratable": [], "volumes": {}, "waited": self.waited,
               "diff": {"before": before, "after": after}}
        out.update(extra)
        return out

    # --- enter maintenance ---------------------------------------------------------------------
    def enable(self):
        nodes, target = self.read_nodes()
        before = snapshot(target)
        current = state(target)
        if current == COMPLETED:
            return self.result(False, before, before)
        wrote, unhealthy = False, []
        vmis_before = vmis_on(self.name, self.list_vmis())
        if current is None:
            unhealthy = self.precheck_enable(target, nodes)
            self.request_maintenance()
            if self.client.dry_run:  # check mode: nothing stored; say what would be and which VMs would be shut down
                return self.result(True, before, {"maintenance": COMPLETED, "schedulable": False}, non_migratable=unhealthy)
            wrote = True
        if not should_wait(self.client, self.params):
            live = self.client.get(self.node_path())
            return self.result(wrote, before, snapshot(live), non_migratable=unhealthy)
        final = self.wait_enabled(vmis_before)
        migrated, stopped = departures(self.name, vmis_before, self.list_vmis())
        return self.result(wrote, before, snapshot(final), migrated_vms=migrated, stopped_vms=stopped,
                           non_migratable=unhealthy)

    def request_maintenance(self):
        """Ask Harvester for maintenance mode: Steve's action, or the drain-request annotations."""
        force = bool(self.params.get("force"))
        if self.resolve_method() == "steve":
            self.action("enableMaintenanceMode", {"force": "true" if force else "false"},
                        done=lambda live: state(live) is not None)
            return
        request = {DRAIN_REQUESTED: "true"}
        if force:
            request[DRAIN_FORCED] = "true"
        # the same annotations again change nothing more: safe to repeat after a lost answer
        self.client.merge_patch(self.node_path(), {"metadata": {"annotations": request}}, retry=True)

    def precheck_enable(self, target, nodes):
        """Every refusal before a write; returns Harvester's list of VMs that will be shut down
        (force) -- empty without Steve."""
        why = control_plane_refusal(target, nodes)
        if why:
            self.refuse(why)
        if last_available(target, nodes):
            self.refuse(f"it is the last available node (every other node is cordoned or in maintenance mode); "
                        f"Harvester's node webhook refuses it: {LAST_AVAILABLE}")
        at_risk = volumes_at_risk(self.name, self.longhorn(kinds.LONGHORN_REPLICA), self.longhorn(kinds.LONGHORN_NODE))
        if at_risk:
            self.refuse(f"Longhorn volume {', '.join(at_risk)} has no healthy replica on another node; maintenance would "
                        "take its last good copy away (let Longhorn rebuild it first)", volumes=at_risk)
        if self.resolve_method() != "steve":
            return []
        try:
            self.action("maintenancePossible", read_only=True)
        except ApiError as e:
            self.refuse(f"Harvester refuses maintenance mode: {e.message or e.reason}")
        unhealthy = self.action("listUnhealthyVM", read_only=True) or []
        if unhealthy and not self.params.get("force"):
            vms = sorted({vm for e in unhealthy for vm in e.get("vms") or []})
            self.refuse(f"{unhealthy_text(unhealthy)} (Harvester's listUnhealthyVM); force=true shuts them down", vms=vms)
        if unhealthy:
            self.warn(f"node {self.name}: force=true shuts down the VMs that cannot be migrated: {unhealthy_text(unhealthy)}")
        return unhealthy

    def wait_enabled(self, vmis_before):
        """Until ``maintain-status: completed``, reporting how many of the node's VMs have left it;
        a request that vanishes without a status is the silent drop."""
        seen = set()

        def read():  # the VMIs only while some were on the node: one request more per poll
            return self.client.get(self.node_path()), (self.list_vmis() if vmis_before else [])

        def done(observed):
            now = state(observed[0])
            if now in (RUNNING, COMPLETED) and RUNNING not in seen:
                seen.add(RUNNING)
                self.note(f"maintain-status {RUNNING}")
            if now == COMPLETED:
                self.note(f"maintain-status {COMPLETED}")
                return True
            return False

        def dropped(observed):
            if state(observed[0]) is None:
                raise MaintenanceDropped(
                    f"node {self.name}: Harvester dropped the maintenance request: its node-drain controller removed "
                    f"{DRAIN_REQUESTED} without setting {MAINTAIN_STATUS}, which it does when the drain is impossible "
                    "(another control-plane node in maintenance, or a VM that cannot be live-migrated while force is "
                    "false); the reason is in the harvester pod's log. The node was not changed", self.name)
            return None

        def stage(observed):
            live, vmis = observed
            left = len(vmis_before) - len(set(vmis_before) & set(vmis_on(self.name, vmis)))
            moved = f", VMs moved away {left}/{len(vmis_before)}" if vmis_before else ""
            return f"node {self.name}: maintenance {state(live) or 'requested'}{moved}"

        return until(read, done, failed=dropped, timeout=self.timeout(), what=f"node {self.name} to enter maintenance mode",
                     describe=lambda observed: describe(observed[0]), clock=self.clock, sleep=self.sleep,
                     progress=self.client.progress, stage=stage)[0]

    # --- leave maintenance -------------------------------------------------------------------
    def enable_or_disable(self):
        return self.enable() if self.params.get("maintenance") else self.disable()

    def disable(self):
        nodes, target = self.read_nodes()
        before = snapshot(target)
        if state(target) is None:
            return self.result(False, before, before)
        after = {"maintenance": None, "schedulable": True}
        names = volumes_on(self.name, self.longhorn(kinds.LONGHORN_REPLICA))
        restart = [vm for vm in node_info._list_or_empty(self.client, kinds.VIRTUAL_MACHINE.path())
                   if (metadata(vm).get("labels") or {}).get(STRATEGY_LABEL) == RESTART_AFTER_DISABLE
                   and _annotations(vm).get(STRATEGY_NODE_ANNOTATION) == self.name]
        refs = sorted(f"{metadata(vm).get('namespace', '')}/{metadata(vm).get('name')}" for vm in restart)
        if self.resolve_method() == "steve":
            self.action("disableMaintenanceMode", done=lambda live: state(live) is None and schedulable(live))
        else:
            self.patch_node(disable_patch)
            for vm in restart:
                self.client.merge_patch(kinds.VIRTUAL_MACHINE.path(metadata(vm).get("namespace"), metadata(vm).get("name")),
                                        restart_patch(vm))
        if self.client.dry_run:  # check mode: nothing stored; say what would be and which VMs would be started
            return self.result(True, before, after, restarted_vms=refs)
        live = self.client.get(self.node_path())
        self.note(f"node {self.name} schedulable")
        if not self.params.get("wait", True):
            return self.result(True, before, snapshot(live), restarted_vms=refs)
        states = self.wait_rebuilt(names)
        return self.result(True, before, snapshot(live), restarted_vms=refs, volumes=states)

    def wait_rebuilt(self, names):
        """Until every attached volume with a replica on the node is healthy again."""
        if not names:
            return {}

        def read():
            return volume_states(names, self.longhorn(kinds.LONGHORN_VOLUME))

        def waiting(states):
            return sorted(n for n, s in states.items() if s not in (HEALTHY, DETACHED, MISSING))

        def describe_states(states):
            return "still not healthy: " + ", ".join(f"{n} ({states[n]})" for n in waiting(states))

        def stage(states):
            return (f"node {self.name}: Longhorn volumes healthy {len(states) - len(waiting(states))}/{len(states)}"
                    + (f" (rebuilding {', '.join(waiting(states))})" if waiting(states) else ""))

        states = until(read, rebuilt, timeout=self.timeout(), describe=describe_states, clock=self.clock, sleep=self.sleep,
                       what=f"Longhorn to rebuild the volumes with a replica on {self.name}",
                       progress=self.client.progress, stage=stage)
        self.note("Longhorn volumes healthy: " + ", ".join(sorted(n for n, s in states.items() if s == HEALTHY)))
        return states

    # --- cordon ----------------------------------------------------------------------------------
    def cordon(self, want):
        nodes, target = self.read_nodes()
        before = snapshot(target)
        if schedulable(target) != want:  # already as asked: cordon=true and cordoned, or the other way round
            return self.result(False, before, before)
        if not want and state(target):
            self.refuse(f"it is in maintenance mode ({state(target)}); leave it with maintenance=false, "
                        "which also makes it schedulable")
        if want and last_available(target, nodes):
            self.refuse(f"it is the last available node; Harvester's node webhook refuses: {LAST_AVAILABLE}")
        after = dict(before, schedulable=not want)
        if self.resolve_method() == "steve":
            self.action("cordon" if want else "uncordon", done=lambda live: schedulable(live) != want)
        else:
            self.patch_node(lambda live: {"spec": {"unschedulable": want}})
        if self.client.dry_run:  # check mode: nothing stored; say what would be
            return self.result(True, before, after)
        return self.result(True, before, snapshot(self.client.get(self.node_path())))


def disable_patch(live):
    """disableMaintenanceMode's node change as a merge patch."""
    patch = {"spec": {"unschedulable": False},
             "metadata": {"annotations": {DRAIN_REQUESTED: None, DRAIN_FORCED: None, MAINTAIN_STATUS: None}}}
    taints = (live.get("spec") or {}).get("taints") or []
    kept = [t for t in taints if t.get("key") != DRAIN_TAINT]
    if len(kept) != len(taints):
        patch["spec"]["taints"] = kept or None
    return patch


def restart_patch(vm):
    """What disableMaintenanceMode does to a VM it shut down: started with its remembered strategy."""
    strategy = _annotations(vm).get(RUN_STRATEGY_ANNOTATION) or "RerunOnFailure"
    return {"metadata": {"annotations": {STRATEGY_NODE_ANNOTATION: None}, "resourceVersion": metadata(vm).get("resourceVersion")},
            "spec": {"runStrategy": strategy}}


def describe(live):
    ann = _annotations(live)
    what = state(live) or "no maintenance request"
    forced = " (forced)" if DRAIN_FORCED in ann else ""
    return f"maintenance {what}{forced}, {'schedulable' if schedulable(live) else 'cordoned'}"


def task(module):
    """harvester_node's ``run(module)``: ``check`` before the client exists (bad input makes no
    request), then ``run``."""
    check(module.params)
    return run(module.client, module.params, warn=module.warn)


def run(client, params, warn=None, clock=None, sleep=None):
    """The module's one call (after ``check``): maintenance on/off or cordon on/off, with waits; see
    ``Maintenance``."""
    flow = Maintenance(client, params, warn=warn, clock=clock, sleep=sleep)
    if params.get("cordon") is not None:
        return flow.cordon(params["cordon"])
    return flow.enable_or_disable()


__all__ = ["run", "check", "Maintenance", "MaintenanceRefused", "MaintenanceDropped"]
