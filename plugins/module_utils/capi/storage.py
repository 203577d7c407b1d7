# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage for a guest cluster: the Harvester CSI driver, delivered by Cluster API.

On Harvester (the seed: "Harvester CCM provides CSI storage"): a ServiceAccount ``<cluster>-csi``
in the target namespace, bound to Harvester's ClusterRole ``harvesterhci.io:csi-driver`` by a
RoleBinding there (so the guest cluster can touch volumes of its own namespace only), and a
token Secret the token controller fills. Its token, the Harvester server and CA become the
cloud-config kubeconfig.

On the management cluster: a Secret of type ``addons.cluster.x-k8s.io/resource-set`` holding
the manifest of the guest cluster's cloud-config Secret, a ConfigMap holding the CSI driver
manifests the user rendered (``helm template harvester-csi-driver ...``), and a
ClusterResourceSet that applies both, once, to the Cluster (selected by our label). The cloud
provider's LoadBalancer is not used: Cilium BGP serves LoadBalancers in this lab.
"""

from __future__ import annotations

import base64
import json

from .. import harvester_identity, kinds
from ..reconcile import Field, ensure_absent, ensure_present
from ..wait import until
from . import render

CSI_CLUSTER_ROLE = "harvesterhci.io:csi-driver"
TOKEN_TYPE = "kubernetes.io/service-account-token"
RESOURCE_SET_TYPE = "addons.cluster.x-k8s.io/resource-set"
TOKEN_TIMEOUT = 30


def account_name(spec):
    return f"{spec['name']}-csi"


def harvester_objects(spec):
    """ServiceAccount, RoleBinding and token Secret on Harvester, in the target namespace."""
    ns, name = spec["target_namespace"], account_name(spec)
    labels = {render.LABEL: spec["name"]}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns, "labels": dict(labels)}}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CSI_CLUSTER_ROLE},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]}
    token = {"apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
             "metadata": {"name": f"{name}-token", "namespace": ns, "labels": dict(labels),
                          "annotations": {"kubernetes.io/service-account.name": name}}}
    return [(kinds.SERVICE_ACCOUNT, account, []), (kinds.ROLE_BINDING, binding, [Field(("subjects",))]),
            (kinds.SECRET, token, [])]


def cloud_config(conn, token_secret, namespace):
    """The kubeconfig the CSI driver reads: Harvester's server, the CA the token Secret carries,
    the ServiceAccount token, and the target namespace as the context's namespace."""
    data = token_secret.get("data") or {}
    token = base64.b64decode(data["token"]).decode("utf-8")
    cluster = {"server": conn.server}
    if data.get("ca.crt"):
        cluster["certificate-authority-data"] = data["ca.crt"]
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "harvester",
           "clusters": [{"name": "harvester", "cluster": cluster}], "users": [{"name": "harvester", "user": {"token": token}}],
           "contexts": [{"name": "harvester", "context": {"cluster": "harvester", "user": "harvester", "namespace": namespace}}]}
    return json.dumps(doc, sort_keys=True, indent=1) + "\n", token


def management_objects(spec, storage, config_text, manifests):
    """The resource-set Secret, the manifests ConfigMap and the ClusterResourceSet."""
    ns, cluster = spec["namespace"], spec["name"]
    labels = {render.LABEL: cluster}
    target_ns, target_name = storage["cloud_config_secret"].split("/", 1)
    guest_secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": target_name, "namespace": target_ns},
                    "type": "Opaque", "stringData": {"cloud-config": config_text}}
    encoded = base64.b64encode(json.dumps(guest_secret, sort_keys=True).encode("utf-8")).decode("ascii")
    secret = {"apiVersion": "v1", "kind": "Secret", "type": RESOURCE_SET_TYPE,
              "metadata": {"name": f"{cluster}-harvester-cloud-config", "namespace": ns, "labels": dict(labels)},
              "data": {"cloud-config.yaml": encoded}}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": f"{cluster}-harvester-csi", "namespace": ns, "labels": dict(labels)},
                  "data": {"harvester-csi-driver.yaml": manifests}}
    crs = {"apiVersion": kinds.CLUSTER_RESOURCE_SET.api_version, "kind": kinds.CLUSTER_RESOURCE_SET.kind,
           "metadata": {"name": f"{cluster}-harvester-csi", "namespace": ns, "labels": dict(labels)},
           "spec": {"clusterSelector": {"matchLabels": dict(labels)}, "strategy": "ApplyOnce",
                    "resources": [{"kind": "Secret", "name": secret["metadata"]["name"]},
                                  {"kind": "ConfigMap", "name": config_map["metadata"]["name"]}]}}
    return [(kinds.SECRET, secret, [Field(("data", "cloud-config.yaml"), normalise=harvester_identity.fingerprint)]),
            (kinds.CONFIG_MAP, config_map, [Field(("data", "harvester-csi-driver.yaml"), normalise=harvester_identity.fingerprint)]),
            (kinds.CLUSTER_RESOURCE_SET, crs, [Field(("spec", "clusterSelector")), Field(("spec", "resources"))])]


def ensure_harvester_side(client, spec, record):
    """Create or update the Harvester objects; the token Secret once filled (None in check mode
    while it does not exist yet)."""
    token = None
    for kind, obj, fields in harvester_objects(spec):
        changed, before, after, diff = ensure_present(client, kind, obj, fields=fields,
                                                      immutable={"roleRef": lambda o: o.get("roleRef")}
                                                      if kind == kinds.ROLE_BINDING else None, recreate=True)
        if changed:
            record(f"Harvester {kind.kind}", obj["metadata"]["name"], "update" if before else "create", diff)
        token = after if kind == kinds.SECRET else token
    if client.dry_run:  # check mode: no controller fills a dry-run token Secret; use one only if it is stored
        return token if ((token or {}).get("data") or {}).get("token") else None
    path = kinds.SECRET.path(spec["target_namespace"], f"{account_name(spec)}-token")
    return until(lambda: client.get(path, missing_ok=True), lambda s: bool(((s or {}).get("data") or {}).get("token")),
                 first=token, timeout=TOKEN_TIMEOUT, what=f"the token of ServiceAccount {spec['target_namespace']}/{account_name(spec)}",
                 describe=lambda s: "no token yet" if s else "no token Secret")


def remove_harvester_side(client, spec, record):
    for entry in reversed(harvester_objects(spec)):
        kind, meta = entry[0], entry[1]["metadata"]
        changed, dummy, dummy2, diff = ensure_absent(client, kind, meta["namespace"], meta["name"], wait=False)
        if changed:
            record(f"Harvester {kind.kind}", meta["name"], "delete", diff)
