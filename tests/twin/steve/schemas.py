"""Steve's types: one schema per kind the twin serves, named as rancher/steve v0.7.17 names them
(pkg/schema/converter/k8stonorman.go) and looked up as rancher/apiserver v0.7.3 does
(pkg/types/schemas.go `LookupSchema`).

* The schema id is `strings.ToLower(kind)` for the core group and `strings.ToLower(group + "." +
  kind)` otherwise -- singular, e.g. `node`, `persistentvolumeclaim`, `kubevirt.io.virtualmachine`,
  `harvesterhci.io.setting`, `k8s.cni.cncf.io.networkattachmentdefinition`. Resources carry it
  as `type`, collections as `resourceType`.
* The plural name is the resource for the core group and `group + "." + resource` otherwise,
  e.g. `nodes`, `harvesterhci.io.settings`, `k8s.cni.cncf.io.network-attachment-definitions`.
  Links are built from it.
* A URL's type is found by the exact id, else by the lower-cased id or plural name, so
  `harvesterhci.io.setting` (as Harvester's UI writes it) and `harvesterhci.io.settings` are the
  same type.
* Each schema serves its kind's preferred version (discovery's order: v1 before v1beta2 ...).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..registry import Kind, Registry, version_priority


@dataclass(frozen=True)
class SteveType:
    kind: Kind
    id: str
    plural: str
    version: str

    @property
    def namespaced(self) -> bool:
        return self.kind.namespaced

    def api_version(self) -> str:
        return self.kind.api_version(self.version)


def schema_id(group: str, kind: str) -> str:
    return (f"{group}.{kind}" if group else kind).lower()


def plural_name(group: str, resource: str) -> str:
    return f"{group}.{resource}" if group else resource


def preferred_version(kind: Kind) -> str:
    served = [name for name, v in kind.versions.items() if v.served]
    return sorted(served, key=version_priority)[0]


class Types:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.by_id: dict[str, SteveType] = {}
        self.index: dict[str, SteveType] = {}
        for kind in registry.kinds():
            if not any(v.served for v in kind.versions.values()):
                continue
            t = SteveType(kind, schema_id(kind.group, kind.kind), plural_name(kind.group, kind.plural),
                          preferred_version(kind))
            self.by_id[t.id] = t
            self.index[t.id.lower()] = t
            self.index[t.plural.lower()] = t

    def lookup(self, name: str) -> SteveType | None:
        return self.by_id.get(name) or self.index.get(name.lower())

    def of(self, group: str, kind: str) -> SteveType | None:
        return self.by_id.get(schema_id(group, kind))

    def for_api_version(self, api_version: str, kind: str) -> str:
        """The schema id of an apiVersion/kind pair (owner references, relationships)."""
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        return schema_id(group, kind)
