# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a Cluster API cluster is, read from the objects that know (not ``phase: Provisioned``,
which only means infrastructure and endpoint exist), and waiting until it is where asked:

- ``infrastructure``: HarvesterCluster ready with an endpoint, Cluster infrastructure provisioned;
- ``control_plane``: and the TalosControlPlane initialized with the ``<cluster>-kubeconfig`` Secret;
- ``ready``: and every control plane and worker replica ready and the Cluster ``Available``.

A condition that says the cluster cannot get there (bad Harvester identity, VM IP pool exhausted,
a VM that cannot be provisioned, an invalid Talos config) ends the wait with its message once it
has held for STUCK_AFTER seconds: the providers set such a condition on one failed attempt and try
again (CAPHV marks HarvesterConnectionReady False on a 500 from Harvester, then True on the next
reconcile), so only one that does not change for a while means stuck.
A paused cluster is reported, never waited on.
"""

from __future__ import annotations

from .. import kinds
from ..errors import NotFound
from ..objects import condition
from ..wait import until
from . import render

STEPS = ("infrastructure", "control_plane", "ready")
STUCK_AFTER = 15.0  # seconds a failure condition must hold (see above)

# (kind, condition type, reasons that mean "stuck") -- None: any False status of that type.
FAILURES = (
    ("HarvesterCluster", "HarvesterConnectionReady", None),
    ("HarvesterCluster", "TargetNamespaceReady", None),
    ("HarvesterMachine", "VMIPAllocated", ("VMIPPoolExhausted",)),
    ("HarvesterMachine", "VMProvisioningReady", ("VMProvisioningFailed",)),
    ("TalosControlPlane", "Available", ("InvalidControlPlaneConfig",)),
    ("TalosControlPlane", "MachinesCreated", ("InfrastructureTemplateCloningFailed", "BootstrapTemplateCloningFailed",
                                              "MachineGenerationFailed")),
)


def is_true(obj, type_name):
    cond = condition(obj, type_name)
    return bool(cond) and cond.get("status") == "True"


def _list(client, kind, namespace, selector):
    try:
        return client.list(kind.path(namespace), label_selector=selector)
    except NotFound:
        return []


def observe(client, spec):
    """One look at every object that tells where the cluster is (a handful of GETs)."""
    ns, name = spec["namespace"], spec["name"]
    cluster = client.get(kinds.CAPI_CLUSTER.path(ns, name), missing_ok=True)
    infra = client.get(kinds.HARVESTER_CLUSTER.path(ns, name), missing_ok=True)
    cp = client.get(kinds.TALOS_CONTROL_PLANE.path(ns, render.control_plane_name(spec)), missing_ok=True)
    deployments = _list(client, kinds.MACHINE_DEPLOYMENT, ns, f"{render.LABEL}={name}")
    machines = _list(client, kinds.HARVESTER_MACHINE, ns, f"cluster.x-k8s.io/cluster-name={name}")
    initialized = bool(((cp or {}).get("status") or {}).get("initialized"))
    kubeconfig = client.get(kinds.SECRET.path(ns, f"{name}-kubeconfig"), missing_ok=True) if initialized else None
    return {"cluster": cluster, "infra": infra, "control_plane": cp, "deployments": deployments, "machines": machines,
            "kubeconfig": kubeconfig, "paused": bool(((cluster or {}).get("spec") or {}).get("paused")),
            "spec": spec}


def _status(obj):
    return (obj or {}).get("status") or {}


def infrastructure_ready(state):
    infra, cluster = state["infra"], state["cluster"]
    endpoint = ((infra or {}).get("spec") or {}).get("controlPlaneEndpoint") or {}
    provisioned = (_status(cluster).get("initialization") or {}).get("infrastructureProvisioned")
    return bool(_status(infra).get("ready") and endpoint.get("host") and provisioned)


def control_plane_initialized(state):
    return bool(_status(state["control_plane"]).get("initialized") and state["kubeconfig"] is not None)


def _replicas_ready(obj, desired):
    status = _status(obj)
    return (status.get("readyReplicas") or 0) >= desired and (status.get("replicas") or 0) == desired


def everything_ready(state):
    spec = state["spec"]
    if not _replicas_ready(state["control_plane"], spec["control_plane"]["replicas"]):
        return False
    by_name = {d["metadata"]["name"]: d for d in state["deployments"]}
    for pool in spec["workers"]:
        deployment = by_name.get(render.deployment_name(spec, pool["name"]))
        if deployment is None or not _replicas_ready(deployment, pool["replicas"]):
            return False
        if (_status(deployment).get("upToDateReplicas") or 0) < pool["replicas"]:
            return False  # still rolling to a new template or version
    return is_true(state["cluster"], "Available")


def reached(state, step):
    checks = {"infrastructure": (infrastructure_ready,),
              "control_plane": (infrastructure_ready, control_plane_initialized),
              "ready": (infrastructure_ready, control_plane_initialized, everything_ready)}[step]
    return all(check(state) for check in checks)


def failure(state):
    """The message of a condition that says the cluster cannot get there, or None."""
    objects = [("HarvesterCluster", state["infra"]), ("TalosControlPlane", state["control_plane"])]
    objects += [("HarvesterMachine", m) for m in state["machines"]]
    for kind, obj in objects:
        for want_kind, type_name, reasons in FAILURES:
            cond = condition(obj, type_name) if kind == want_kind else None
            if cond and cond.get("status") == "False" and (reasons is None or cond.get("reason") in reasons):
                if reasons is None and cond.get("reason") in (None, "", "Waiting", "Pending"):
                    continue  # not decided yet
                return (f"{kind} {obj['metadata']['name']}: {type_name} is False ({cond.get('reason')}): "
                        f"{cond.get('message') or 'no message'}")
    return None


def summary(state):
    """What the task returns about the cluster (no secrets: the kubeconfig is only named)."""
    if state is None or state["cluster"] is None:
        return None
    cluster, cp = state["cluster"], state["control_plane"]
    status = _status(cluster)
    spec = state["spec"]
    out = {"phase": status.get("phase"), "paused": state["paused"],
           "infrastructure_ready": infrastructure_ready(state), "control_plane_initialized": control_plane_initialized(state),
           "available": is_true(cluster, "Available"),
           "control_plane_endpoint": ((state["infra"] or {}).get("spec") or {}).get("controlPlaneEndpoint"),
           "control_plane": {"replicas": _status(cp).get("replicas", 0), "ready_replicas": _status(cp).get("readyReplicas", 0),
                             "version": _status(cp).get("version")},
           "workers": {}, "kubeconfig_secret": f"{spec['name']}-kubeconfig" if state["kubeconfig"] is not None else None}
    for deployment in state["deployments"]:
        st = _status(deployment)
        out["workers"][deployment["metadata"]["name"]] = {
            "replicas": st.get("replicas", 0), "ready_replicas": st.get("readyReplicas", 0),
            "up_to_date_replicas": st.get("upToDateReplicas", 0)}
    out["conditions"] = {c["type"]: c["status"] for c in status.get("conditions") or [] if "type" in c}
    return out


def describe(state):
    s = summary(state)
    if s is None:
        return "no Cluster yet"
    workers = ", ".join(f"{k} {v['ready_replicas']}/{v['replicas']}" for k, v in s["workers"].items()) or "none"
    return (f"phase {s['phase']}, infrastructure ready {s['infrastructure_ready']}, control plane initialized "
            f"{s['control_plane_initialized']} ({s['control_plane']['ready_replicas']}/{s['control_plane']['replicas']} ready), "
            f"workers {workers}, Available {s['available']}")


def stage(state):
    """What a wait on a cluster reports: its phase and how many machines are ready, at the time of
    the cluster's newest condition change."""
    s = summary(state)
    if s is None:
        return None
    spec = state["spec"]
    wanted = spec["control_plane"]["replicas"] + sum(pool["replicas"] for pool in spec["workers"])
    ready = s["control_plane"]["ready_replicas"] + sum(w["ready_replicas"] for w in s["workers"].values())
    label = f"cluster {spec['namespace']}/{spec['name']}: phase {s['phase'] or 'Pending'}, machines ready {ready}/{wanted}"
    if s["available"]:
        label += ", Available"
    times = [c.get("lastTransitionTime") for obj in (state["cluster"], state["control_plane"], *state["deployments"])
             for c in _status(obj).get("conditions") or [] if c.get("lastTransitionTime")]
    return (label, max(times) if times else None)


def wait(client, spec, step, timeout):
    what = f"Cluster {spec['namespace']}/{spec['name']} to reach {step}"
    return until(lambda: observe(client, spec), lambda s: s["paused"] or reached(s, step), timeout=timeout, what=what,
                 failed=failure, failed_for=STUCK_AFTER, describe=describe, progress=client.progress, stage=stage)


def wait_control_plane_version(client, spec, timeout):
    """Until the control plane runs ``kubernetes_version`` on every replica."""
    def done(state):
        status = _status(state["control_plane"])
        ready = _replicas_ready(state["control_plane"], spec["control_plane"]["replicas"])
        return ready and status.get("version") == spec["kubernetes_version"]
    return until(lambda: observe(client, spec), done, timeout=timeout, failed=failure, failed_for=STUCK_AFTER,
                 describe=describe,
                 what=f"the control plane of {spec['namespace']}/{spec['name']} to run {spec['kubernetes_version']}",
                 progress=client.progress, stage=stage)


def describe_deleting(obj):
    if obj is None:
        return "gone"
    conds = {c.get("type"): c for c in _status(obj).get("conditions") or []}
    deleting = conds.get("Deleting") or {}
    return f"phase {_status(obj).get('phase')}, {deleting.get('reason') or 'deleting'}: {deleting.get('message') or ''}".strip()
