"""The kinds the twin serves: from CRD files (ours, then any --crds folders) and the core kinds.

A kind is keyed by (group, kind). A later CRD for the same kind takes the place of an earlier
one, which is how upstream CRDs given with --crds replace ours.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import gojson
from .schema import Schema

HERE = Path(__file__).resolve().parent
OUR_CRDS = HERE / "crds"
# libyaml's parser is ~10x faster than the pure-Python one: CAPI CRDs are 100-230 KB each
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CORE_KINDS = HERE / "core"
RETURNS_DELETED_OBJECT = "twin.homelab/return-deleted-object"  # annotation of a core kind in core/core.yaml
# --without-provider NAME: the API groups each Cluster API provider installs (clusterctl init
# --core cluster-api / --infrastructure harvester / --bootstrap talos / --control-plane talos)
PROVIDER_GROUPS = {
    "cluster-api": ("cluster.x-k8s.io", "addons.cluster.x-k8s.io"),
    "caphv": ("infrastructure.cluster.x-k8s.io",),
    "cabpt": ("bootstrap.cluster.x-k8s.io",),
    "cacppt": ("controlplane.cluster.x-k8s.io",),
}


@dataclass
class Version:
    name: str
    served: bool
    storage: bool
    schema: Schema | None
    status: bool = False
    scale: dict | None = None
    printer_columns: list[dict] = field(default_factory=list)
    go_json: gojson.Encoder | None = None  # built-in kinds: how their Go type writes them back
    deprecation_warning: str = ""  # a `deprecated: true` version: the Warning every request to it gets


@dataclass
class Kind:
    group: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    versions: dict[str, Version]
    short_names: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    list_kind: str = ""
    core: bool = False  # built-in kinds: strategic merge patch, unconditional update
    source: str = ""
    # the registry's ReturnDeletedObject: an immediate DELETE answers the object, not a Status
    # (custom resources never; core kinds as core/core.yaml says)
    returns_deleted_object: bool = False

    @property
    def storage_version(self) -> str:
        return next(v.name for v in self.versions.values() if v.storage)

    def served(self, version: str) -> Version | None:
        v = self.versions.get(version)
        return v if v and v.served else None

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)


def kind_from_crd(doc: dict, *, core: bool = False, source: str = "") -> Kind:
    spec = doc["spec"]
    names = spec["names"]
    versions = {}
    for v in spec["versions"]:
        sub = v.get("subresources") or {}
        schema_doc = (v.get("schema") or {}).get("openAPIV3Schema")
        versions[v["name"]] = Version(
            name=v["name"], served=bool(v.get("served", True)), storage=bool(v.get("storage", False)),
            schema=Schema(schema_doc) if schema_doc else None,
            status="status" in sub, scale=sub.get("scale"),
            printer_columns=v.get("additionalPrinterColumns") or [],
            go_json=gojson.compile_schema(schema_doc) if core else None,
            deprecation_warning=(v.get("deprecationWarning") or _default_deprecation_warning(v["name"], spec))
            if v.get("deprecated") else "")
    return Kind(
        group=spec["group"], kind=names["kind"], plural=names["plural"],
        singular=names.get("singular") or names["kind"].lower(),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced", versions=versions,
        short_names=list(names.get("shortNames") or []), categories=list(names.get("categories") or []),
        list_kind=names.get("listKind") or names["kind"] + "List", core=core, source=source,
        returns_deleted_object=core and (doc["metadata"].get("annotations") or {}).get(RETURNS_DELETED_OBJECT) == "true")


class Registry:
    def __init__(self):
        self._by_kind: dict[tuple[str, str], Kind] = {}
        self._by_plural: dict[tuple[str, str], Kind] = {}

    # loading ---------------------------------------------------------------------------------
    def add(self, kind: Kind) -> None:
        old = self._by_kind.get((kind.group, kind.kind))
        if old is not None:
            self._by_plural.pop(old.key, None)
        self._by_kind[(kind.group, kind.kind)] = kind
        self._by_plural[kind.key] = kind

    def load_file(self, path: Path, *, core: bool = False) -> int:
        count = 0
        with open(path, encoding="utf-8") as f:
            for doc in yaml.load_all(f, Loader=YAML_LOADER):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                self.add(kind_from_crd(doc, core=core, source=str(path)))
                count += 1
        return count

    def load_dir(self, folder: Path, *, core: bool = False) -> int:
        return sum(self.load_file(p, core=core) for p in sorted(Path(folder).glob("*.yaml")))

    @classmethod
    def default(cls, extra_dirs: list[Path] = (), without_groups: tuple[str, ...] = ()) -> Registry:
        """Core kinds, our CRDs, then each extra folder's; minus every kind of `without_groups`
        (--without-provider: a management cluster missing a provider)."""
        reg = cls()
        reg.load_dir(CORE_KINDS, core=True)
        reg.load_dir(OUR_CRDS)
        for folder in extra_dirs:
            reg.load_dir(Path(folder))
        for group in without_groups:
            reg.drop_group(group)
        return reg

    def drop_group(self, group: str) -> None:
        for key in [k for k in self._by_kind if k[0] == group]:
            kind = self._by_kind.pop(key)
            self._by_plural.pop(kind.key, None)

    # lookups ---------------------------------------------------------------------------------
    def kinds(self) -> list[Kind]:
        return list(self._by_kind.values())

    def by_plural(self, group: str, plural: str) -> Kind | None:
        return self._by_plural.get((group, plural))

    def by_kind(self, group: str, kind: str) -> Kind | None:
        return self._by_kind.get((group, kind))

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions, preferred first (Kubernetes version priority: v1 > v1beta2 > v1alpha1)."""
        out: dict[str, set[str]] = {}
        for k in self._by_kind.values():
            out.setdefault(k.group, set()).update(v.name for v in k.versions.values() if v.served)
        return {g: sorted(vs, key=version_priority) for g, vs in out.items()}


def _default_deprecation_warning(deprecated: str, spec: dict) -> str:
    """apiextensions-apiserver's text for a deprecated version without `deprecationWarning`: the
    newest served, non-deprecated version of higher priority is named, when there is one."""
    text = f"{spec['group']}/{deprecated} {spec['names']['kind']} is deprecated"
    newer = [v["name"] for v in spec["versions"] if v.get("served", True) and not v.get("deprecated")
             and version_priority(v["name"]) < version_priority(deprecated)]
    if newer:
        text += f"; use {spec['group']}/{min(newer, key=version_priority)} {spec['names']['kind']}"
    return text


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(name: str) -> tuple:
    """Sort key: GA before beta before alpha, higher numbers first, non-Kubernetes names last."""
    m = _VERSION.match(name)
    if not m:
        return (3, 0, 0, name)
    major, track, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return ({None: 0, "beta": 1, "alpha": 2}[track], -major, -minor, name)
