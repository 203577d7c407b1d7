"""Discovery documents: /version, /api, /apis and the per-group-version resource lists.

Complete enough for kubectl (api-resources, short names, categories) and the kubernetes
Python dynamic client, which builds its resource map from these.
"""
from __future__ import annotations

from .registry import Kind, Registry

# Harvester v1.8 runs on RKE2; the exact patch level is not something clients depend on.
VERSION = {
    "major": "1", "minor": "34", "gitVersion": "v1.34.2+rke2r1", "gitCommit": "twin",
    "gitTreeState": "clean", "buildDate": "2026-08-01T00:00:00Z", "goVersion": "go1.24.9",
    "compiler": "gc", "platform": "linux/amd64",
}

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUB_VERBS = ["get", "patch", "update"]


def api_versions() -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}


def _group_doc(name: str, versions: list[str]) -> dict:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def api_group_list(registry: Registry) -> dict:
    groups = [_group_doc(g, vs) for g, vs in sorted(registry.groups().items()) if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict | None:
    versions = registry.groups().get(group)
    if not versions or not group:
        return None
    return dict(_group_doc(group, versions), kind="APIGroup", apiVersion="v1")


def _resources_of(kind: Kind, version: str) -> list[dict]:
    v = kind.served(version)
    if v is None:
        return []
    main = {"name": kind.plural, "singularName": kind.singular, "namespaced": kind.namespaced,
            "kind": kind.kind, "verbs": VERBS, "storageVersionHash": ""}
    if kind.short_names:
        main["shortNames"] = kind.short_names
    if kind.categories:
        main["categories"] = kind.categories
    out = [main]
    if v.status:
        out.append({"name": f"{kind.plural}/status", "singularName": "", "namespaced": kind.namespaced,
                    "kind": kind.kind, "verbs": SUB_VERBS})
    if v.scale is not None:
        out.append({"name": f"{kind.plural}/scale", "singularName": "", "namespaced": kind.namespaced,
                    "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": SUB_VERBS})
    return out


def api_resource_list(registry: Registry, group: str, version: str) -> dict | None:
    kinds = [k for k in registry.kinds() if k.group == group and k.served(version)]
    if not kinds:
        return None
    resources = [r for k in sorted(kinds, key=lambda k: k.plural) for r in _resources_of(k, version)]
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


# ---------------------------------------------------------------------------------------- OpenAPI v3
# kubectl reads /openapi/v3 to learn whether the server validates fields itself (a PATCH operation
# with a `fieldValidation` query parameter for the kind); when it does, `kubectl apply` sends
# fieldValidation=Strict and leaves validation to the server, as against a real cluster. Schemas
# are left out: kubectl then computes strategic merge patches from its built-in types.
QUERY_PARAMS = ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_root(registry: Registry) -> dict:
    paths = {}
    for group, versions in registry.groups().items():
        for v in versions:
            gv = _gv_path(group, v)
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash=twin"}
    return {"paths": paths}


def openapi_group_version(registry: Registry, group: str, version: str) -> dict | None:
    kinds = [k for k in registry.kinds() if k.group == group and k.served(version)]
    if not kinds:
        return None
    params = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in QUERY_PARAMS]
    paths = {}
    for k in kinds:
        base = "/" + _gv_path(group, version) + ("/namespaces/{namespace}" if k.namespaced else "")
        gvk = {"group": group, "version": version, "kind": k.kind}
        paths[f"{base}/{k.plural}/{{name}}"] = {
            "patch": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
                      "parameters": params, "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": {}}}
