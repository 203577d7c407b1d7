"""The seeded lab: the objects a freshly installed three-node Harvester v1.8 cluster has,
as data (the YAML files next to this one, loaded in name order), matching inventory/lab.

Objects are created through the store like any client would (as actor `system:seed`, so the
webhooks' user-only rules do not apply), then their status is written, through /status where
the kind has that subresource.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .. import errors
from ..registry import YAML_LOADER
from ..store import Store

HERE = Path(__file__).resolve().parent
ACTOR = "system:seed"
# Not an API object: the world outside the API the seeded lab lives in (lab_inventory.environment),
# put into the store's environment (what /_twin/environment shows), seeded again on every reset.
ENVIRONMENT_API_VERSION, ENVIRONMENT_KIND = "twin.homelab.local/v1", "LabEnvironment"


def documents(folder: Path = HERE) -> list[dict]:
    docs = []
    for path in sorted(folder.glob("*.yaml")):
        with open(path, encoding="utf-8") as f:
            docs += [d for d in yaml.load_all(f, Loader=YAML_LOADER) if d]
    return docs


def seed(store: Store, docs: list[dict] | None = None) -> int:
    count = 0
    for doc in documents() if docs is None else docs:
        if doc.get("kind") == ENVIRONMENT_KIND and doc.get("apiVersion") == ENVIRONMENT_API_VERSION:
            store.environment.update(doc.get("data") or {})
            continue
        group, _, version = doc["apiVersion"].rpartition("/")
        kind = store.registry.by_kind(group, doc["kind"])
        if kind is None:
            continue  # e.g. a kind whose CRD a --crds folder replaced without it
        if kind.served(version) is None:
            version = kind.storage_version
            doc = dict(doc, apiVersion=kind.api_version(version))
        status = doc.get("status")
        try:
            created = store.create(kind, version, doc, actor=ACTOR).obj
        except errors.ApiError as e:
            raise RuntimeError(f"seeding {doc['kind']} {doc['metadata'].get('name')}: {e.message}") from None
        if status is not None and created.get("status") != status:
            created["status"] = status
            sub = "status" if kind.versions[version].status else ""
            store.update(kind, version, created, subresource=sub, actor=ACTOR)
        count += 1
    return count
