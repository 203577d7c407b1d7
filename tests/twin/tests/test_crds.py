"""Checks on the twin's own CRD files (tests/twin/crds/*.yaml).

* every file parses and every document is a plausible apiextensions.k8s.io/v1 CRD with a
  structural schema;
* every kind the twin must serve is present exactly once;
* subset check against the unmodified upstream CRDs in ../shared/reference/crds (skipped when
  that folder is absent, e.g. in a fresh clone): anything valid under our schema must be valid
  under upstream's -- same names/scope/served versions/subresources, and walking our schema,
  every property exists upstream with the same type, enums are subsets, bounds are no wider,
  default/format/pattern/nullable/int-or-string/list and map markers/preserve-unknown-fields and
  CEL rules are identical, and `required` is a superset of upstream's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CRD_DIR = Path(__file__).resolve().parents[1] / "crds"
REF_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "crds"

# (group, kind) -> file it must live in
EXPECTED = {
    ("harvesterhci.io", "Setting"): "harvester.yaml",
    ("harvesterhci.io", "VirtualMachineImage"): "harvester.yaml",
    ("harvesterhci.io", "Version"): "harvester.yaml",
    ("harvesterhci.io", "Upgrade"): "harvester.yaml",
    ("harvesterhci.io", "VirtualMachineBackup"): "harvester.yaml",
    ("harvesterhci.io", "VirtualMachineRestore"): "harvester.yaml",
    ("harvesterhci.io", "KeyPair"): "harvester.yaml",
    ("node.harvesterhci.io", "CloudInit"): "harvester.yaml",
    ("network.harvesterhci.io", "ClusterNetwork"): "network.yaml",
    ("network.harvesterhci.io", "VlanConfig"): "network.yaml",
    ("network.harvesterhci.io", "VlanStatus"): "network.yaml",
    ("network.harvesterhci.io", "LinkMonitor"): "network.yaml",
    ("k8s.cni.cncf.io", "NetworkAttachmentDefinition"): "cni.yaml",
    ("longhorn.io", "Setting"): "longhorn.yaml",
    ("longhorn.io", "Volume"): "longhorn.yaml",
    ("longhorn.io", "Replica"): "longhorn.yaml",
    ("longhorn.io", "Node"): "longhorn.yaml",
    ("longhorn.io", "BackupTarget"): "longhorn.yaml",
    ("kubevirt.io", "VirtualMachine"): "kubevirt.yaml",
    ("kubevirt.io", "VirtualMachineInstance"): "kubevirt.yaml",
    ("kubevirt.io", "VirtualMachineInstanceMigration"): "kubevirt.yaml",
    ("cluster.x-k8s.io", "Cluster"): "capi.yaml",
    ("cluster.x-k8s.io", "MachineDeployment"): "capi.yaml",
    ("cluster.x-k8s.io", "Machine"): "capi.yaml",
    ("infrastructure.cluster.x-k8s.io", "HarvesterCluster"): "caphv.yaml",
    ("infrastructure.cluster.x-k8s.io", "HarvesterMachine"): "caphv.yaml",
    ("infrastructure.cluster.x-k8s.io", "HarvesterMachineTemplate"): "caphv.yaml",
    ("controlplane.cluster.x-k8s.io", "TalosControlPlane"): "talos.yaml",
    ("bootstrap.cluster.x-k8s.io", "TalosConfig"): "talos.yaml",
    ("bootstrap.cluster.x-k8s.io", "TalosConfigTemplate"): "talos.yaml",
    ("addons.cluster.x-k8s.io", "ClusterResourceSet"): "addons.yaml",
    # the Tinkerbell cluster's kinds: in folders of their own, loaded only with --crds (not by default)
    ("bmc.tinkerbell.org", "Machine"): "rufio/rufio.yaml",
    ("bmc.tinkerbell.org", "Job"): "rufio/rufio.yaml",
    ("bmc.tinkerbell.org", "Task"): "rufio/rufio.yaml",
    ("tinkerbell.org", "Hardware"): "tinkerbell/tinkerbell.yaml",
}
# Kinds written without an upstream file in the reference folder (see crds/README.md).
NO_UPSTREAM = {
    ("harvesterhci.io", "KeyPair"),
    ("longhorn.io", "Replica"),
    ("kubevirt.io", "VirtualMachine"),
    ("kubevirt.io", "VirtualMachineInstance"),
    ("addons.cluster.x-k8s.io", "ClusterResourceSet"),
}
WITH_UPSTREAM = sorted(set(EXPECTED) - NO_UPSTREAM)

CRD_FILES = sorted(CRD_DIR.glob("*.yaml")) + sorted(CRD_DIR.glob("*/*.yaml"))

# Schema keywords that must be identical to upstream's wherever we keep a field.
EXACT = (
    "default",
    "format",
    "pattern",
    "nullable",
    "anyOf",
    "allOf",
    "oneOf",
    "not",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "uniqueItems",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations",
)
LOWER = ("minimum", "minLength", "minItems", "minProperties")  # ours must be >= upstream's
UPPER = ("maximum", "maxLength", "maxItems", "maxProperties")  # ours must be <= upstream's
HANDLED = (
    set(EXACT)
    | set(LOWER)
    | set(UPPER)
    | {
        "type",
        "enum",
        "required",
        "properties",
        "items",
        "additionalProperties",
        "description",
        "title",
    }
)


def _docs(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


@pytest.fixture(scope="module")
def ours() -> dict[tuple[str, str], list[tuple[str, dict]]]:
    """(group, kind) -> [(file name, CRD document), ...] over all our files."""
    index: dict[tuple[str, str], list[tuple[str, dict]]] = {}
    for path in CRD_FILES:
        for doc in _docs(path):
            key = (doc["spec"]["group"], doc["spec"]["names"]["kind"])
            index.setdefault(key, []).append((path.relative_to(CRD_DIR).as_posix(), doc))
    return index


@pytest.fixture(scope="module")
def upstream() -> dict[tuple[str, str], dict]:
    """(group, kind) -> the unmodified upstream CRD document; skips without the reference."""
    if not REF_DIR.is_dir():
        pytest.skip(f"upstream reference CRDs not available ({REF_DIR})")
    index = {}
    for path in sorted(REF_DIR.glob("*/*.yaml")):
        for doc in _docs(path):
            if doc.get("kind") == "CustomResourceDefinition":
                index[(doc["spec"]["group"], doc["spec"]["names"]["kind"])] = doc
    return index


# ------------------------------------------------------------------ shape
def test_crd_folder_has_files():
    assert CRD_FILES, f"no CRD files in {CRD_DIR}"
    assert (CRD_DIR / "README.md").is_file()


@pytest.mark.parametrize("path", CRD_FILES, ids=lambda p: p.name)
def test_file_is_valid_crds(path: Path):
    docs = _docs(path)
    assert docs, f"{path.name}: no documents"
    for doc in docs:
        name = doc.get("metadata", {}).get("name", "?")
        where = f"{path.name}: {name}"
        assert doc.get("apiVersion") == "apiextensions.k8s.io/v1", where
        assert doc.get("kind") == "CustomResourceDefinition", where
        spec = doc["spec"]
        names = spec["names"]
        for key in ("kind", "plural"):
            assert isinstance(names.get(key), str) and names[key], f"{where}: names.{key}"
        # listKind/singular may be omitted (the API server defaults them; the upstream NAD CRD
        # has no listKind); when given they must look right.
        assert names.get("listKind", names["kind"] + "List") == names["kind"] + "List", where
        singular = names.get("singular", names["kind"].lower())
        assert singular and singular == singular.lower(), f"{where}: names.singular"
        assert names["plural"] == names["plural"].lower(), where
        assert name == f"{names['plural']}.{spec['group']}", f"{where}: metadata.name"
        assert spec["scope"] in ("Namespaced", "Cluster"), where
        versions = spec["versions"]
        assert versions, f"{where}: no versions"
        assert len({v["name"] for v in versions}) == len(versions), f"{where}: duplicate version"
        storage = [v["name"] for v in versions if v.get("storage")]
        assert len(storage) == 1, f"{where}: storage versions {storage}"
        for v in versions:
            assert isinstance(v.get("served"), bool) and isinstance(v.get("storage"), bool), where
            if v["storage"]:
                assert v["served"], f"{where}: storage version {v['name']} not served"
            root = v["schema"]["openAPIV3Schema"]
            assert root.get("type") == "object", f"{where} {v['name']}: root type"
            errors = _structural(root, f"{name} {v['name']}: $")
            assert not errors, "\n".join(errors)


def _structural(node, path: str) -> list[str]:
    """Minimal structural-schema rules (what apiextensions would refuse)."""
    if not isinstance(node, dict):
        return [f"{path}: not a mapping"]
    errs = []
    typ = node.get("type")
    special = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    if typ is None and not special:
        errs.append(f"{path}: no type")
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        errs.append(f"{path}: anyOf outside int-or-string")
    if "properties" in node:
        if typ != "object":
            errs.append(f"{path}: properties on type {typ}")
        for req in node.get("required", []):
            if req not in node["properties"]:
                errs.append(f"{path}: required {req!r} has no property")
        for n, child in node["properties"].items():
            errs += _structural(child, f"{path}.{n}")
    if typ == "array":
        if "items" not in node:
            errs.append(f"{path}: array without items")
        else:
            errs += _structural(node["items"], f"{path}[]")
    elif "items" in node:
        errs.append(f"{path}: items on type {typ}")
    if isinstance(node.get("additionalProperties"), dict):
        if "properties" in node:
            errs.append(f"{path}: both properties and additionalProperties")
        errs += _structural(node["additionalProperties"], f"{path}{{}}")
    return errs


def test_expected_kinds_present_once(ours):
    problems = []
    for key, fname in sorted(EXPECTED.items()):
        found = ours.get(key, [])
        if len(found) != 1:
            problems.append(f"{key}: found {len(found)} times in {[f for f, _ in found]}")
        elif found[0][0] != fname:
            problems.append(f"{key}: in {found[0][0]}, expected {fname}")
    names = [doc["metadata"]["name"] for docs in ours.values() for _, doc in docs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        problems.append(f"duplicate CRD names {sorted(dupes)}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ subset check
def _subset(our: dict, up: dict, path: str) -> list[str]:
    """Errors where `our` schema node would accept something `up` refuses."""
    errs = []
    if our.get("type") != up.get("type"):
        return [f"{path}: type {our.get('type')!r} != upstream {up.get('type')!r}"]
    for k in our:
        if k not in HANDLED and our[k] != up.get(k):
            errs.append(f"{path}: unexpected keyword {k}={our[k]!r}")
    for k in EXACT:
        if our.get(k) != up.get(k):
            errs.append(f"{path}: {k} {our.get(k)!r} != upstream {up.get(k)!r}")
    if "enum" in up:
        extra = [e for e in our.get("enum", [None]) if e not in up["enum"]]
        if "enum" not in our or extra:
            errs.append(f"{path}: enum {our.get('enum')!r} not within upstream {up['enum']!r}")
    for k in LOWER:
        if k in up and not (k in our and our[k] >= up[k]):
            errs.append(f"{path}: {k} {our.get(k)!r} wider than upstream {up[k]!r}")
    for k in UPPER:
        if k in up and not (k in our and our[k] <= up[k]):
            errs.append(f"{path}: {k} {our.get(k)!r} wider than upstream {up[k]!r}")
    missing = set(up.get("required", [])) - set(our.get("required", []))
    if missing:
        errs.append(f"{path}: required misses upstream's {sorted(missing)}")
    if "properties" in our:
        up_props = up.get("properties")
        if up_props is None:
            errs.append(f"{path}: properties where upstream has none")
        else:
            for name, child in our["properties"].items():
                if name not in up_props:
                    errs.append(f"{path}.{name}: not in upstream")
                else:
                    errs += _subset(child, up_props[name], f"{path}.{name}")
    if "items" in our or "items" in up:
        if "items" not in our or "items" not in up:
            errs.append(f"{path}: items present on one side only")
        else:
            errs += _subset(our["items"], up["items"], f"{path}[]")
    our_ap, up_ap = our.get("additionalProperties"), up.get("additionalProperties")
    if isinstance(our_ap, dict) or isinstance(up_ap, dict):
        if not (isinstance(our_ap, dict) and isinstance(up_ap, dict)):
            errs.append(f"{path}: additionalProperties {our_ap!r} vs upstream {up_ap!r}")
        else:
            errs += _subset(our_ap, up_ap, f"{path}{{}}")
    elif our_ap != up_ap:
        errs.append(f"{path}: additionalProperties {our_ap!r} != upstream {up_ap!r}")
    return errs


def _columns(cols):
    return [{k: v for k, v in c.items() if k != "description"} for c in cols or []]


@pytest.mark.parametrize("key", WITH_UPSTREAM, ids=lambda k: f"{k[1]}.{k[0]}")
def test_subset_of_upstream(key, ours, upstream):
    assert key in upstream, f"{key}: no upstream CRD in {REF_DIR}"
    assert len(ours.get(key, [])) == 1, f"{key}: not present exactly once"
    our, up = ours[key][0][1], upstream[key]
    name = our["metadata"]["name"]
    errs = []
    for field in ("group", "names", "scope"):
        if our["spec"][field] != up["spec"][field]:
            errs.append(f"{name}: spec.{field} {our['spec'][field]!r} != {up['spec'][field]!r}")
    our_v = {v["name"]: v for v in our["spec"]["versions"]}
    up_v = {v["name"]: v for v in up["spec"]["versions"] if v["served"]}
    if set(our_v) != set(up_v):
        errs.append(f"{name}: versions {sorted(our_v)} != upstream served {sorted(up_v)}")
    for vname in sorted(set(our_v) & set(up_v)):
        ov, uv = our_v[vname], up_v[vname]
        where = f"{name} {vname}"
        for field in ("served", "storage"):
            if ov[field] != uv[field]:
                errs.append(f"{where}: {field} {ov[field]} != upstream {uv[field]}")
        if bool(ov.get("deprecated")) != bool(uv.get("deprecated")):
            errs.append(f"{where}: deprecated flag differs")
        if (ov.get("subresources") or {}) != (uv.get("subresources") or {}):
            errs.append(f"{where}: subresources {ov.get('subresources')!r} != {uv.get('subresources')!r}")
        if _columns(ov.get("additionalPrinterColumns")) != _columns(uv.get("additionalPrinterColumns")):
            errs.append(f"{where}: additionalPrinterColumns differ")
        errs += _subset(ov["schema"]["openAPIV3Schema"], uv["schema"]["openAPIV3Schema"], f"{where}: $")
    assert not errs, "\n".join(errs)


def test_kubevirt_specs_within_embedded_vm_schema(ours, upstream):
    """No KubeVirt CRD upstream here; check the specs against the VM schema Harvester embeds
    in VirtualMachineBackup status.source (the source of truth named in README.md)."""
    backup = upstream[("harvesterhci.io", "VirtualMachineBackup")]
    root = backup["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    vm_spec_up = root["properties"]["status"]["properties"]["source"]["properties"]["spec"]
    vmi_spec_up = vm_spec_up["properties"]["template"]["properties"]["spec"]
    errs = []
    for kind, up_spec in (("VirtualMachine", vm_spec_up), ("VirtualMachineInstance", vmi_spec_up)):
        ((_, doc),) = ours[("kubevirt.io", kind)]
        for v in doc["spec"]["versions"]:
            spec = v["schema"]["openAPIV3Schema"]["properties"]["spec"]
            errs += _subset(spec, up_spec, f"{doc['metadata']['name']} {v['name']}: $.spec")
    assert not errs, "\n".join(errs)


def test_subset_check_catches_widening():
    """The checker itself: each kind of widening is reported, with the path."""
    up = {
        "type": "object",
        "required": ["a"],
        "properties": {
            "a": {"type": "string", "enum": ["x", "y"]},
            "n": {"type": "integer", "minimum": 0, "maximum": 10},
            "m": {"type": "object", "properties": {"k": {"type": "string"}}},
        },
    }
    assert _subset(up, up, "$") == []
    narrower = {
        "type": "object",
        "required": ["a", "n"],
        "properties": {
            "a": {"type": "string", "enum": ["x"]},
            "n": {"type": "integer", "minimum": 1, "maximum": 5},
        },
    }
    assert _subset(narrower, up, "$") == []
    cases = {
        "enum": {"a": {"type": "string", "enum": ["x", "z"]}},
        "type": {"a": {"type": "integer"}},
        "maximum": {"n": {"type": "integer", "minimum": 0, "maximum": 11}},
        "not in upstream": {"zzz": {"type": "string"}},
        "x-kubernetes-preserve-unknown-fields": {"m": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    for needle, props in cases.items():
        wide = {"type": "object", "required": ["a"], "properties": props}
        errs = _subset(wide, up, "$")
        assert any(needle in e for e in errs), (needle, errs)
    assert any("required" in e for e in _subset({"type": "object"}, up, "$"))
