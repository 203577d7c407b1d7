# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One health report of a Harvester cluster, as an operator reads it before and after
maintenance: nodes and their bonds (``node``), Longhorn volumes, the settings that carry state
(backup target, storage network, version), images, the latest upgrade and the Cluster API
clusters. One list request per kind; every part is a pure function of what was read, and every
problem is one sentence starting with what it is about.

Facts (shared/reference/longhorn-capi.md §2, harvester-api.md §1.1, §1.2, §6, §11):

- Longhorn volume ``status.robustness``: ``healthy``, ``degraded`` (fewer healthy replicas than
  ``numberOfReplicas``), ``faulted`` (no healthy replica), ``unknown`` (detached, so nothing to
  say); ``status.kubernetesStatus`` names the PVC.
- Setting ``configured`` condition: False with a message when Harvester could not apply the value.
- Image: condition ``Imported`` True when done; ``RetryLimitExceeded`` once Harvester gave up.
- Upgrade: label ``harvesterhci.io/upgradeState`` on the one labelled ``harvesterhci.io/latestUpgrade``.
- Cluster API Cluster (v1beta2): condition ``Available``; ``spec.paused``. Cluster API may not be
  installed on the cluster asked (it runs on the management cluster): then the section is empty.
"""

from __future__ import annotations

from . import harvester_settings, image, kinds, node
from .errors import NotFound
from .objects import condition, metadata

SECTIONS = ("nodes", "volumes", "settings", "images", "upgrade", "clusters")
STATE_SETTINGS = ("server-version", "backup-target", "storage-network")
LABEL_UPGRADE_STATE = "harvesterhci.io/upgradeState"
LABEL_LATEST_UPGRADE = "harvesterhci.io/latestUpgrade"
UPGRADE_DONE = ("Succeeded", "Failed")


def _list(client, kind, namespace=None, label_selector=None):
    """The items, or ``None`` when the kind is not served there (a 404 for the collection)."""
    try:
        return client.list(kind.path(namespace), label_selector=label_selector)
    except NotFound:
        return None


# --- Longhorn scheduling -------------------------------------------------------------------
def scheduling_problems(nodes):
    """One sentence when no Longhorn node takes new replicas (each node's own problem names it too)."""
    longhorn = [n["longhorn"] for n in nodes if n.get("longhorn") is not None]
    if longhorn and all(lh["allow_scheduling"] is False for lh in longhorn):
        return [f"Longhorn: scheduling is disabled on every node ({len(longhorn)}): no volume can get a new replica"]
    return []


# --- volumes ------------------------------------------------------------------------------
def volume(obj):
    status = obj.get("status") or {}
    k8s = status.get("kubernetesStatus") or {}
    pvc = f"{k8s['namespace']}/{k8s['pvcName']}" if k8s.get("namespace") and k8s.get("pvcName") else None
    return {"name": metadata(obj).get("name"), "pvc": pvc, "state": status.get("state"),
            "robustness": status.get("robustness"), "node": status.get("currentNodeID") or None,
            "replicas": (obj.get("spec") or {}).get("numberOfReplicas"), "size": (obj.get("spec") or {}).get("size")}


def volume_problems(info):
    what = f"volume {info['name']}" + (f" (PVC {info['pvc']})" if info["pvc"] else "")
    if info["robustness"] in ("degraded", "faulted"):
        return [f"{what} is {info['robustness']}"]
    if info["state"] == "attached" and info["robustness"] != "healthy":
        return [f"{what} is attached but {info['robustness'] or 'of unknown robustness'}"]
    return []


# --- settings -----------------------------------------------------------------------------
def setting(obj):
    name = metadata(obj).get("name")
    cond = condition(obj, "configured")
    value = obj.get("value") or ""
    default = obj.get("default", "")
    return {"name": name, "value": harvester_settings.mask(name, value), "default": default,
            "effective": harvester_settings.mask(name, value or default),
            "configured": cond.get("status"), "message": cond.get("message") or None}


def setting_problems(info):
    if info["configured"] == "False" and info["message"]:
        return [f"setting {info['name']} is not applied: {info['message']}"]
    return []


# --- images -------------------------------------------------------------------------------
def image_info(obj):
    meta, spec, status = metadata(obj), obj.get("spec") or {}, obj.get("status") or {}
    return {"namespace": meta.get("namespace"), "name": meta.get("name"), "display_name": spec.get("displayName"),
            "imported": image.is_imported(obj), "progress": status.get("progress", 0), "failure": image.failed(obj)}


def image_problems(info):
    return [f"image {info['namespace']}/{info['name']} failed: {info['failure']}"] if info["failure"] else []


# --- upgrade ------------------------------------------------------------------------------
def upgrade(obj):
    if obj is None:
        return None
    meta, spec, status = metadata(obj), obj.get("spec") or {}, obj.get("status") or {}
    return {"name": meta.get("name"), "version": spec.get("version"), "state": (meta.get("labels") or {}).get(LABEL_UPGRADE_STATE),
            "previous_version": status.get("previousVersion"), "message": condition(obj, "Completed").get("message")}


def upgrade_problems(info):
    if info is None:
        return []
    if info["state"] == "Failed":
        return [f"upgrade {info['name']} to {info['version']} failed: {info['message'] or 'no message'}"]
    if info["state"] not in UPGRADE_DONE:
        return [f"upgrade {info['name']} to {info['version']} is in progress ({info['state'] or 'starting'})"]
    return []


# --- Cluster API clusters -----------------------------------------------------------------
def cluster(obj):
    meta, spec, status = metadata(obj), obj.get("spec") or {}, obj.get("status") or {}
    available = condition(obj, "Available")
    return {"namespace": meta.get("namespace"), "name": meta.get("name"), "phase": status.get("phase"),
            "available": available.get("status") == "True", "paused": bool(spec.get("paused")),
            "message": available.get("message") or None}


def cluster_problems(info):
    if info["paused"]:
        return [f"cluster {info['namespace']}/{info['name']} is paused"]
    if not info["available"]:
        detail = f": {info['message']}" if info["message"] else ""
        return [f"cluster {info['namespace']}/{info['name']} is not available (phase {info['phase'] or 'unknown'}){detail}"]
    return []


# --- the report ---------------------------------------------------------------------------
def _latest_upgrade(client):
    items = _list(client, kinds.UPGRADE, kinds.HARVESTER_NAMESPACE, label_selector=f"{LABEL_LATEST_UPGRADE}=true") or []
    return max(items, key=lambda u: metadata(u).get("creationTimestamp") or "", default=None)


def gather(client, sections=SECTIONS):
    """``(report, problems)``: the sections asked for (see ``SECTIONS``) and every problem found."""
    report, problems = {}, []
    if "nodes" in sections:
        report["nodes"] = node.gather(client)
        problems += [f"node {n['name']}: {p}" for n in report["nodes"] for p in n["problems"]]
        problems += scheduling_problems(report["nodes"])
    if "volumes" in sections:
        report["volumes"] = sorted((volume(v) for v in _list(client, kinds.LONGHORN_VOLUME, kinds.LONGHORN_NAMESPACE) or []),
                                   key=lambda v: v["name"] or "")
        problems += [p for v in report["volumes"] for p in volume_problems(v)]
    if "settings" in sections:
        found = {metadata(s).get("name"): s for s in _list(client, kinds.HARVESTER_SETTING) or []}
        infos = [setting(obj) for obj in found.values()]
        report["settings"] = {i["name"]: i for i in infos if i["name"] in STATE_SETTINGS}
        problems += [p for i in sorted(infos, key=lambda i: i["name"] or "") for p in setting_problems(i)]
    if "images" in sections:
        report["images"] = sorted((image_info(i) for i in _list(client, kinds.VM_IMAGE) or []),
                                  key=lambda i: (i["namespace"] or "", i["name"] or ""))
        problems += [p for i in report["images"] for p in image_problems(i)]
    if "upgrade" in sections:
        report["upgrade"] = upgrade(_latest_upgrade(client))
        problems += upgrade_problems(report["upgrade"])
    if "clusters" in sections:
        report["clusters"] = sorted((cluster(c) for c in _list(client, kinds.CAPI_CLUSTER) or []),
                                    key=lambda c: (c["namespace"] or "", c["name"] or ""))
        problems += [p for c in report["clusters"] for p in cluster_problems(c)]
    return report, problems
