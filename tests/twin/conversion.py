"""Conversion between the served versions of a kind, what a CRD's conversion webhook does.

The twin keeps every object in its kind's storage version. `to_storage` converts an object
written in another served version; `from_storage` converts a stored object to the version a
client asked for. A kind without a converter converts by identity (only apiVersion changes), as a
CRD with `conversion.strategy: None` does. Converters are registered per (group, kind, version)
towards a hub version; they apply only while the hub is the kind's storage version (upstream CRDs
given with --crds keep CAPI's v1beta2 storage).

Object references in CAPI v1beta2 carry no version. Going back to v1beta1 the twin derives it
from its own registry: the storage version of the referenced group/kind. (Real CAPI reads the
referenced CRD's contract label; the twin's CAPHV and Talos CRDs carry those labels, but their
storage versions are what the twin's controllers write, so that is what a reader sees.)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import conversion_capi
from .registry import Kind, Registry

Convert = Callable[[dict, "Context"], dict]


@dataclass
class Context:
    namespace: str
    registry: Registry | None = None

    def ref_version(self, group: str, kind: str) -> str | None:
        """The version a v1beta1 reference to group/kind gets: the twin's storage version of it."""
        found = self.registry.by_kind(group, kind) if self.registry is not None else None
        return found.storage_version if found is not None else None


@dataclass(frozen=True)
class Converter:
    hub: str
    up: Convert    # from the spoke version to the hub
    down: Convert  # from the hub to the spoke version


_CONVERTERS: dict[tuple[str, str, str], Converter] = {}


def register(group: str, kind: str, version: str, converter: Converter) -> None:
    _CONVERTERS[(group, kind, version)] = converter


for (_group, _kind, _version), (_hub, _up, _down) in conversion_capi.CONVERTERS.items():
    register(_group, _kind, _version, Converter(_hub, _up, _down))


def converter_for(kind: Kind, version: str) -> Converter | None:
    found = _CONVERTERS.get((kind.group, kind.kind, version))
    return found if found is not None and found.hub == kind.storage_version else None


def _context(obj: dict, registry: Registry | None) -> Context:
    return Context((obj.get("metadata") or {}).get("namespace") or "", registry)


def to_storage(kind: Kind, version: str, obj: dict, registry: Registry | None = None) -> dict:
    """obj (in `version`) as the storage version. Identity conversion changes obj itself (the
    request path hands over its own copies); a converter returns a new object."""
    storage = kind.storage_version
    found = converter_for(kind, version) if version != storage else None
    if found is not None:
        obj = found.up(obj, _context(obj, registry))
    obj["apiVersion"] = kind.api_version(storage)
    obj.setdefault("kind", kind.kind)
    return obj


def from_storage(kind: Kind, version: str, obj: dict, registry: Registry | None = None) -> dict:
    """A stored obj as `version`. Like to_storage, identity changes obj itself (every read path
    already works on a copy of the stored object)."""
    found = converter_for(kind, version) if version != kind.storage_version else None
    if found is not None:
        obj = found.down(obj, _context(obj, registry))
    obj["apiVersion"] = kind.api_version(version)
    obj.setdefault("kind", kind.kind)
    return obj
