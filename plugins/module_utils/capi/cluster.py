# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``capi_cluster``: one Talos cluster on Harvester through Cluster API, from input to done.

present: check input -> pre-flight on Harvester (reads) -> apply the object set in dependency
order (``capi/render.py``) -> wait for what really means done (``capi/status.py``) -> remove templates
no machine uses any more -> write the workload kubeconfig.
absent: delete only the Cluster (CAPI deletes machines, control plane and infrastructure in its
order), wait until it is gone, then the templates and, last, the identity Secret.

Only the fields we manage are compared; what controllers write (controlPlaneEndpoint, defaults,
status, owner references) never counts as a change. Check mode is the client's
(``client.dry_run``): every write goes with ``dryRun=All`` and nothing is waited for
(``wait.should_wait``); when the namespace itself does not exist yet, objects inside it are
reported as to be created without a request (the API would answer 404 for a dry-run create there).
"""

from __future__ import annotations

import os
import tempfile

from .. import harvester_identity, kinds
from ..errors import HarvesterError, NotFound
from ..reconcile import Field, ensure_absent, ensure_present, get_path, managed_view
from ..wait import should_wait, until
from . import options, preflight, render, status, storage


class PausedCluster(HarvesterError):
    pass


def _ref_view(value):
    """References compared by group/kind/name only (CAPI re-derives versions and namespaces)."""
    if not isinstance(value, dict):
        return value
    group = value.get("apiGroup") or (value.get("apiVersion") or "").rpartition("/")[0]
    return {"group": group, "kind": value.get("kind"), "name": value.get("name")}


def _labels_fields(obj):
    return [Field(("metadata", "labels", key)) for key in sorted(obj["metadata"].get("labels") or {})]


FIELDS = {
    kinds.SECRET: lambda obj: [Field(("data", "kubeconfig"), normalise=harvester_identity.fingerprint)] + _labels_fields(obj),
    kinds.HARVESTER_CLUSTER: lambda obj: [Field(("spec", key)) for key in
                                          ("targetNamespace", "identitySecret", "loadBalancerConfig", "vmNetworkConfig")],
    kinds.HARVESTER_MACHINE_TEMPLATE: lambda obj: [],  # content-named: never patched
    kinds.TALOS_CONFIG_TEMPLATE: lambda obj: [],
    kinds.TALOS_CONTROL_PLANE: lambda obj: [
        Field(("spec", "version")), Field(("spec", "replicas")),
        Field(("spec", "infrastructureTemplate"), normalise=_ref_view),
        Field(("spec", "controlPlaneConfig", "controlplane"))],
    kinds.CAPI_CLUSTER: lambda obj: [
        Field(("spec", "clusterNetwork")), Field(("spec", "controlPlaneRef"), normalise=_ref_view),
        Field(("spec", "infrastructureRef"), normalise=_ref_view)] + _labels_fields(obj),
    kinds.MACHINE_DEPLOYMENT: lambda obj: [
        Field(("spec", "replicas")), Field(("spec", "template", "spec", "version")),
        Field(("spec", "template", "spec", "bootstrap", "configRef"), normalise=_ref_view),
        Field(("spec", "template", "spec", "infrastructureRef"), normalise=_ref_view)],
}


class Run:
    """One module run: the clients, what changed, the diff."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changes = []  # [{"kind", "name", "action"}]
        self.before = {}
        self.after = {}

    @property
    def client(self):  # built on first use: the input checks come first
        return self.module.client

    def record(self, kind_name, name, action, before, after):
        key = f"{kind_name}/{name}"
        self.before[key], self.after[key] = before, after
        self.changes.append({"kind": kind_name, "name": name, "action": action})

    def apply(self, kind, desired, namespace_missing, fields=None):
        """Create or patch one object; ``namespace_missing`` (check mode only) skips the request."""
        fields = FIELDS[kind](desired) if fields is None else fields
        name = desired["metadata"]["name"]
        if namespace_missing:
            self.record(kind.kind, name, "create", {}, managed_view(desired, fields) or {"metadata": {"name": name}})
            return desired
        changed, before, after, diff = ensure_present(self.client, kind, desired, fields=fields)
        if changed:
            self.record(kind.kind, name, "update" if before is not None else "create",
                        diff["before"] if before is not None else {}, diff["after"] or {"metadata": {"name": name}})
        return after

    def noted(self, kind_name, name, action, diff):
        """A ``record`` for changes made elsewhere (``capi/storage.py`` on Harvester)."""
        self.record(kind_name, name, action, diff["before"] if action != "create" else {}, diff["after"] or {"metadata": {"name": name}})

    def delete(self, kind, obj, wait=False):
        meta = obj["metadata"]
        changed, dummy, dummy2, diff = ensure_absent(self.client, kind, meta.get("namespace"), meta["name"], wait=wait,
                                                     delete_timeout=self.params["wait_timeout"])
        if changed:
            self.record(kind.kind, meta["name"], "delete", {"metadata": {"name": meta["name"]}}, {})
        return changed

    @property
    def changed(self):
        return bool(self.changes)

    def diff(self):
        return {"before": self.before, "after": self.after}


# --- present ---------------------------------------------------------------------------------
def _harvester_connection(run, spec):
    """The Harvester connection and the identity Secret we manage (or None)."""
    params = run.params
    if params.get("identity_secret"):
        where = f"identity_secret {spec['namespace']}/{params['identity_secret']}"
        secret = run.client.get(kinds.SECRET.path(spec["namespace"], params["identity_secret"]), missing_ok=True)
        if secret is None:
            raise harvester_identity.IdentityError(f"{where} not found on the management cluster")
        doc = harvester_identity.from_secret(secret, where)
        conn = harvester_identity.connection({"kubeconfig": doc})
        run.module.hide(conn.secret_values())
        return conn, None
    conn = harvester_identity.connection(params.get("harvester"))
    text = harvester_identity.kubeconfig_text(conn)
    identity = render.identity_secret(spec, text)
    run.module.hide(conn.secret_values() | {text, identity["data"]["kubeconfig"]})
    return conn, identity


def _namespace(run, namespace, client=None, label="Namespace"):
    """Ensure the namespace; True when it is missing and check mode could not create it."""
    client = client or run.client
    live = client.get(kinds.NAMESPACE.path(None, namespace), missing_ok=True)
    if live is not None:
        return False
    client.create(kinds.NAMESPACE.path(), kinds.NAMESPACE.new(namespace))
    run.record(label, namespace, "create", {}, {"metadata": {"name": namespace}})
    return client.dry_run  # check mode: the namespace was only dry-run, so what goes in it is reported, not sent


def _storage(run, spec, conn):
    """The guest cluster's CSI: the Harvester side now, the management objects for ``_apply_all``
    (``[(kind, object, fields, known)]``; ``known`` is False in check mode before a token exists)."""
    harvester = run.client.sibling(conn)
    if _namespace(run, spec["target_namespace"], client=harvester, label="Harvester Namespace"):
        token = None  # check mode, target namespace still to be created: nothing to ask there
        for entry in storage.harvester_objects(spec):
            name = entry[1]["metadata"]["name"]
            run.record(f"Harvester {entry[0].kind}", name, "create", {}, {"metadata": {"name": name}})
    else:
        token = storage.ensure_harvester_side(harvester, spec, run.noted)
    if token is None:
        placeholder = storage.management_objects(spec, spec["storage"], "", spec["storage"]["manifests"])
        return [(kind, obj, fields, False) for kind, obj, fields in placeholder]
    text, secret = storage.cloud_config(conn, token, spec["target_namespace"])
    run.module.hide({text, secret})
    built = storage.management_objects(spec, spec["storage"], text, spec["storage"]["manifests"])
    run.module.hide([built[0][1]["data"]["cloud-config.yaml"]])
    return [(kind, obj, fields, True) for kind, obj, fields in built]


def _apply_all(run, objects, addons=()):
    spec = objects.spec
    missing = _namespace(run, spec["namespace"])
    if objects.identity is not None:
        run.apply(kinds.SECRET, objects.identity, missing)
    for kind, obj, fields, known in addons:  # add-ons before the Cluster that selects them (CAPI's order)
        run.apply(kind, obj, missing or not known, fields=fields)
    run.apply(kinds.HARVESTER_CLUSTER, objects.harvester_cluster, missing)
    for kind, template in objects.templates:
        run.apply(kind, template, missing)
    live_cp = None if missing else run.client.get(kinds.TALOS_CONTROL_PLANE.path(spec["namespace"], objects.control_plane["metadata"]["name"]),
                                                  missing_ok=True)
    version_bump = live_cp is not None and get_path(live_cp, ("spec", "version")) != spec["kubernetes_version"]
    run.apply(kinds.TALOS_CONTROL_PLANE, objects.control_plane, missing)
    run.apply(kinds.CAPI_CLUSTER, objects.cluster, missing)
    if version_bump and should_wait(run.client, run.params):
        # CAPI's rule: the control plane moves first; workers follow once it runs the new version.
        status.wait_control_plane_version(run.client, spec, run.params["wait_timeout"])
    for deployment in objects.deployments:
        run.apply(kinds.MACHINE_DEPLOYMENT, deployment, missing)
    if not missing:
        _remove_stale_pools(run, objects)
    return missing


def _ours(run, kind, spec, extra=None):
    selector = f"{render.LABEL}={spec['name']}" + (f",{extra}" if extra else "")
    try:
        return run.client.list(kind.path(spec["namespace"]), label_selector=selector)
    except NotFound:  # the kind is not served there (e.g. no addons.cluster.x-k8s.io)
        return []


def _remove_stale_pools(run, objects):
    wanted = {d["metadata"]["name"] for d in objects.deployments}
    for deployment in _ours(run, kinds.MACHINE_DEPLOYMENT, objects.spec):
        if deployment["metadata"]["name"] not in wanted:
            run.delete(kinds.MACHINE_DEPLOYMENT, deployment)


def _cloned_from(run, kind, spec):
    """Template names the cluster's machines were cloned from (CAPI's cloned-from annotation)."""
    try:
        items = run.client.list(kind.path(spec["namespace"]), label_selector=f"cluster.x-k8s.io/cluster-name={spec['name']}")
    except NotFound:
        return set()
    return {((i["metadata"].get("annotations") or {}).get("cluster.x-k8s.io/cloned-from-name")) for i in items}


def _remove_unused_templates(run, objects):
    """Templates of this cluster that no spec points at and no machine was cloned from."""
    spec = objects.spec
    users = {kinds.HARVESTER_MACHINE_TEMPLATE: kinds.HARVESTER_MACHINE, kinds.TALOS_CONFIG_TEMPLATE: kinds.TALOS_CONFIG}
    for template_kind, clone_kind in users.items():
        keep = objects.wanted_names(template_kind) | _cloned_from(run, clone_kind, spec)
        for template in _ours(run, template_kind, spec):
            if template["metadata"]["name"] not in keep:
                run.delete(template_kind, template)


def _write_kubeconfig(run, spec, dest):
    """Write the workload kubeconfig (Secret ``<cluster>-kubeconfig``, key ``value``) with mode 0600.
    Only after a wait, so never in check mode (``should_wait``)."""
    secret = run.client.get(kinds.SECRET.path(spec["namespace"], f"{spec['name']}-kubeconfig"), missing_ok=True)
    value = ((secret or {}).get("data") or {}).get("value")
    if not value:
        return False
    import base64
    content = base64.b64decode(value)
    try:
        with open(dest, "rb") as f:
            if f.read() == content:
                return False
    except OSError:
        pass
    directory = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".kubeconfig-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, dest)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise HarvesterError(f"kubeconfig_dest {dest}: {e.strerror or e}") from None
    return True


def present(run):
    spec = options.check(run.params)
    if run.params.get("identity_secret"):
        spec["identity_secret"] = run.params["identity_secret"]
    conn, identity = _harvester_connection(run, spec)
    if run.params["preflight"]:
        preflight.check(run.client.sibling(conn, dry_run=True), spec)
    objects = render.ObjectSet(spec, identity)
    live = run.client.get(kinds.CAPI_CLUSTER.path(spec["namespace"], spec["name"]), missing_ok=True)
    if live is not None and live["metadata"].get("deletionTimestamp"):
        raise HarvesterError(f"Cluster {spec['namespace']}/{spec['name']} is being deleted; run again once it is gone")
    addons = _storage(run, spec, conn) if spec["storage"] else ()
    missing = _apply_all(run, objects, addons)
    result = {"objects": [f"{o['kind']}/{o['metadata']['name']}" for o in _in_order(objects)]}
    state = None if missing else status.observe(run.client, spec)
    if state is not None and state["paused"]:
        run.module.warn(f"Cluster {spec['namespace']}/{spec['name']} is paused (spec.paused): not waiting, not rolling templates")
    elif should_wait(run.client, run.params):
        state = status.wait(run.client, spec, run.params["wait_for"], run.params["wait_timeout"])
        if run.params["wait_for"] == "ready":
            _remove_unused_templates(run, objects)
        if run.params.get("kubeconfig_dest") and run.params["wait_for"] != "infrastructure":
            result["kubeconfig_written"] = _write_kubeconfig(run, spec, run.params["kubeconfig_dest"])
    result["cluster"] = status.summary(state) if state else None
    return result


def _in_order(objects):
    out = [objects.identity] if objects.identity else []
    out += [objects.harvester_cluster] + [t for k, t in objects.templates] + [objects.control_plane, objects.cluster]
    return out + objects.deployments


# --- absent ----------------------------------------------------------------------------------
def absent(run):
    spec = options.check_absent(run.params)
    path = kinds.CAPI_CLUSTER.path(spec["namespace"], spec["name"])
    live = run.client.get(path, missing_ok=True)
    if live is not None:
        if get_path(live, ("spec", "paused")) and not live["metadata"].get("deletionTimestamp"):
            raise PausedCluster(f"Cluster {spec['namespace']}/{spec['name']} is paused: CAPI does not delete a paused "
                                "cluster (its finalizer would hang); set spec.paused to false first")
        run.delete(kinds.CAPI_CLUSTER, live, wait=False)
        if not should_wait(run.client, run.params):
            pending = "the Cluster is being deleted; templates and the identity Secret are removed by a run that waits until it is gone"
            return {"cluster": None, "pending": pending}
        until(lambda: run.client.get(path, missing_ok=True), lambda o: o is None, timeout=run.params["wait_timeout"],
              what=f"Cluster {spec['namespace']}/{spec['name']} to be deleted", describe=status.describe_deleting)
    _remove_storage(run, spec)
    # What the Cluster does not own, or what a half-finished run left behind: dependants first.
    for kind in (kinds.MACHINE_DEPLOYMENT, kinds.TALOS_CONTROL_PLANE, kinds.HARVESTER_CLUSTER,
                 kinds.HARVESTER_MACHINE_TEMPLATE, kinds.TALOS_CONFIG_TEMPLATE, kinds.CLUSTER_RESOURCE_SET,
                 kinds.CONFIG_MAP, kinds.SECRET):
        for obj in _ours(run, kind, spec):
            run.delete(kind, obj, wait=kind in (kinds.TALOS_CONTROL_PLANE, kinds.HARVESTER_CLUSTER))
    return {"cluster": None}


def _remove_storage(run, spec):
    """The CSI ServiceAccount, RoleBinding and token on Harvester, reached through ``harvester``
    or our identity Secret (read before it is deleted); nothing to do when neither is there."""
    conn = None
    if run.params.get("harvester"):
        conn = harvester_identity.connection(run.params["harvester"])
    else:
        secret = run.client.get(kinds.SECRET.path(spec["namespace"], render.identity_secret_name(spec)), missing_ok=True)
        if secret is not None and (secret["metadata"].get("labels") or {}).get(render.LABEL) == spec["name"]:
            conn = harvester_identity.connection({"kubeconfig": harvester_identity.from_secret(secret, "identity Secret")})
    if conn is None:
        return
    run.module.hide(conn.secret_values())
    target = run.params.get("target_namespace") or spec["namespace"]
    storage.remove_harvester_side(run.client.sibling(conn), dict(spec, target_namespace=target), run.noted)


def run(module):
    """The module's flow: ``present`` or ``absent`` of one cluster, its changes and diff."""
    this = Run(module)
    result = present(this) if module.params["state"] == "present" else absent(this)
    result["changed"] = this.changed or bool(result.get("kubeconfig_written"))  # a (re)written kubeconfig is a change too
    result["changes"] = this.changes
    result["diff"] = this.diff()
    return result
