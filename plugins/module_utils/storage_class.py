# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Harvester StorageClass is (``SPEC``, converged by ``reconcile``), and how the cluster
default moves between classes: the one step that is not ``reconcile``'s, because it writes other
classes too.

Facts (k8s pkg/apis/storage/validation; harvester pkg/webhook/resources/storageclass
validator.go, deploy/charts/harvester/templates/harvester-storageclass.yaml; Longhorn's
StorageClass parameters):

- kube-apiserver refuses any update of ``parameters``, ``provisioner``, ``reclaimPolicy`` and
  ``volumeBindingMode``: those parts are immutable here, and a change needs ``recreate``. The
  annotations and ``allowVolumeExpansion`` change in place (one merge patch).
- Harvester refuses a second class annotated ``storageclass.kubernetes.io/is-default-class:
  "true"`` ("default storage class X already exists, please reset it first"), so making a class
  the default first sets the annotation to ``"false"`` on the current default, then ``"true"``
  on ours. It refuses ``dataLocality: strict-local`` (a volume that keeps its single replica on
  the VM's node can neither live-migrate nor let the node drain) and deleting a reserved class
  (``harvester-longhorn``, annotated ``harvesterhci.io/is-reserved-storageclass: "true"``) or
  one that images are built on.
- Longhorn parameters are strings: ``numberOfReplicas`` (1-20), ``staleReplicaTimeout``
  (minutes), ``migratable`` (needed for live migration), ``dataLocality``, and the disk and node
  tag lists ``diskSelector``/``nodeSelector`` (comma-separated). The chart's class also carries
  ``fromBackup: ""`` and ``baseImage: ""``.

Only the parameters the module is given (the typed options and ``parameters``) are compared:
other keys of a live class, such as those the chart or Longhorn wrote, never count as a change,
and an empty value is the same as no value.
"""

from __future__ import annotations

import copy
import dataclasses

from . import kinds, validate
from .kind_spec import KindSpec
from .reconcile import Field, converge, converge_present, managed_view, merge_patch, set_path
from .retry import on_conflict
from .validate import ValidationError
from .vm_network import ANNOTATION_DESCRIPTION, DESCRIPTION

KIND = kinds.STORAGE_CLASS
LONGHORN = "driver.longhorn.io"
ANNOTATION_DEFAULT = "storageclass.kubernetes.io/is-default-class"
ANNOTATION_RESERVED = "harvesterhci.io/is-reserved-storageclass"
RECLAIM_DEFAULT, BINDING_DEFAULT = "Delete", "Immediate"
MIN_REPLICAS, MAX_REPLICAS = 1, 20
DATA_LOCALITIES = ("disabled", "best-effort")
STRICT_LOCAL = "strict-local"
UNSET = "<unset>"
# typed option -> (Longhorn parameter, value with the Longhorn provisioner when not given)
LONGHORN_OPTIONS = {
    "replicas": ("numberOfReplicas", 3),
    "stale_replica_timeout": ("staleReplicaTimeout", 30),
    "migratable": ("migratable", True),
    "data_locality": ("dataLocality", None),
    "disk_selector": ("diskSelector", None),
    "node_selector": ("nodeSelector", None),
}


# --- values -------------------------------------------------------------------------------
def text(value):
    """A parameter value as Kubernetes stores it: bools lower-case, lists comma-joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def is_longhorn(params):
    return params.get("provisioner") == LONGHORN


# --- input ------------------------------------------------------------------------------
def _provisioner(value):
    text_value = "" if value is None else str(value)
    if not text_value:
        raise ValidationError("provisioner", "must not be empty")
    try:
        validate.label_key(text_value.lower(), "provisioner")  # the apiserver's IsQualifiedName
    except ValidationError:
        raise ValidationError("provisioner", f"{text_value!r} is not a valid provisioner name "
                                             "(a CSI driver name such as driver.longhorn.io)") from None


def _tags(value, option):
    for tag in value:
        tag = str(tag)
        if not tag or "," in tag or any(c.isspace() for c in tag):
            raise ValidationError(option, f"{tag!r} is not a Longhorn tag (non-empty, no commas or spaces)")


def _replicas(value, option):
    try:
        count = int(str(value)) if not isinstance(value, bool) else None
    except ValueError:
        count = None
    if count is None or not MIN_REPLICAS <= count <= MAX_REPLICAS:
        raise ValidationError(option, f"{value} is not in {MIN_REPLICAS}-{MAX_REPLICAS} (Longhorn keeps 1 to 20 "
                                      "replicas of a volume)")


def _data_locality(value, option):
    if value == STRICT_LOCAL:
        raise ValidationError(option, "strict-local is refused by Harvester: a strict-local volume keeps its one "
                                      "replica on the VM's node, so the VM cannot be live-migrated and the node "
                                      "cannot be drained; use disabled or best-effort")
    if value not in DATA_LOCALITIES:
        raise ValidationError(option, f"{value!r} is not one of {', '.join(DATA_LOCALITIES)}")


def _check_typed(params):
    given = [option for option in LONGHORN_OPTIONS if params.get(option) is not None]
    if given and not is_longhorn(params):
        raise ValidationError(given[0], f"is a Longhorn parameter, and provisioner is {params['provisioner']}; "
                                        "give that provisioner's parameters in parameters")
    if params.get("replicas") is not None:
        validate.int_range(params["replicas"], "replicas", MIN_REPLICAS, MAX_REPLICAS)
    if params.get("stale_replica_timeout") is not None:
        validate.positive(params["stale_replica_timeout"], "stale_replica_timeout")
    if params.get("data_locality") is not None:
        _data_locality(params["data_locality"], "data_locality")
    for option in ("disk_selector", "node_selector"):
        if params.get(option) is not None:
            _tags(params[option], option)


def _check_parameters(params):
    extra = params.get("parameters")
    if extra is None:
        return
    if not isinstance(extra, dict):
        raise ValidationError("parameters", f"must be a dict of parameter name to value, got {type(extra).__name__}")
    typed = {key: option for option, (key, dummy) in LONGHORN_OPTIONS.items() if params.get(option) is not None}
    for key, value in extra.items():
        if not isinstance(key, str) or not key:
            raise ValidationError("parameters", "has an empty parameter name")
        if value is None or isinstance(value, (dict, list)):
            raise ValidationError(f"parameters.{key}", "must be a string (or a number or boolean, written as text)")
        if key in typed:
            raise ValidationError("parameters", f"{key} is also set by the {typed[key]} option; give it one way")
    if is_longhorn(params):
        if "numberOfReplicas" in extra:
            _replicas(extra["numberOfReplicas"], "parameters.numberOfReplicas")
        if "dataLocality" in extra:
            _data_locality(text(extra["dataLocality"]), "parameters.dataLocality")


def check(params):
    """Every input check of the module, before any request (raises ``ValidationError``)."""
    validate.subdomain(params["name"], "name")
    if params.get("state", "present") == "absent":
        return
    _provisioner(params.get("provisioner"))
    _check_typed(params)
    _check_parameters(params)


# --- building -----------------------------------------------------------------------------
def parameter_options(params):
    """``{parameter: option}``: every parameter the params describe and the option that sets it
    (a typed option, or ``parameters.<key>``), in the order they are written."""
    out = {}
    if is_longhorn(params):
        for option, (key, fallback) in LONGHORN_OPTIONS.items():
            if params.get(option) is not None or fallback is not None:
                out[key] = option
    for key in params.get("parameters") or {}:
        out[key] = f"parameters.{key}"
    return out


def parameters(params):
    """The parameters to write: the typed Longhorn options (their defaults when not given),
    then ``parameters`` over them."""
    out = {}
    if is_longhorn(params):
        for option, (key, fallback) in LONGHORN_OPTIONS.items():
            value = params.get(option)
            value = fallback if value is None else value
            if value is not None:
                out[key] = text(value)
    for key, value in (params.get("parameters") or {}).items():
        out[key] = text(value)
    return out


def desired(params, default=None):
    """The StorageClass the params describe; ``default`` is the value of the default-class
    annotation to write (``None``: none)."""
    annotations = {}
    if params.get("description"):
        annotations[ANNOTATION_DESCRIPTION] = params["description"]
    if default is not None:
        annotations[ANNOTATION_DEFAULT] = default
    metadata = {"name": params["name"]}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": KIND.api_version, "kind": KIND.kind, "metadata": metadata,
            "provisioner": params["provisioner"], "parameters": parameters(params),
            "reclaimPolicy": params["reclaim_policy"], "volumeBindingMode": params["volume_binding_mode"],
            "allowVolumeExpansion": params["allow_volume_expansion"]}


# --- comparison ---------------------------------------------------------------------------
def _empty_is_none(value):
    return None if value in (None, "") else value


def _or(fallback):
    return lambda value: value or fallback


def default_flag(value):
    """The default-class annotation as Kubernetes reads it: only ``"true"`` makes a default."""
    return "true" if value == "true" else "false"


PROVISIONER = Field(("provisioner",))
RECLAIM_POLICY = Field(("reclaimPolicy",), normalise=_or(RECLAIM_DEFAULT))
BINDING_MODE = Field(("volumeBindingMode",), normalise=_or(BINDING_DEFAULT))
ALLOW_EXPANSION = Field(("allowVolumeExpansion",), normalise=bool)
DEFAULT = Field(("metadata", "annotations", ANNOTATION_DEFAULT), normalise=default_flag)
ALL_PARAMETERS = Field(("parameters",))
ALL_FIELDS = (PROVISIONER, ALL_PARAMETERS, RECLAIM_POLICY, BINDING_MODE, ALLOW_EXPANSION, DESCRIPTION, DEFAULT)


def parameter_field(key):
    return Field(("parameters", key), normalise=_empty_is_none)


def _immutable_parts(params):
    """``[(option, field)]`` of the parts kube-apiserver does not let change."""
    parts = [("provisioner", PROVISIONER)]
    parts += [(option, parameter_field(key)) for key, option in parameter_options(params).items()]
    return parts + [("reclaim_policy", RECLAIM_POLICY), ("volume_binding_mode", BINDING_MODE)]


def _shown(field):
    return lambda obj: UNSET if field.view(obj) is None else field.view(obj)


def immutable(params):
    """The immutable parts by option name, for ``reconcile.ensure_present``."""
    return {option: _shown(field) for option, field in _immutable_parts(params)}


def fields(params, manage_default=True):
    """The fields this call manages: the immutable parts (only ever compared: a difference
    stops before any patch), ``allowVolumeExpansion``, the description when given, the default
    flag when ``default`` is given (and ``manage_default``)."""
    out = [field for dummy, field in _immutable_parts(params)] + [ALLOW_EXPANSION]
    if params.get("description") is not None:
        out.append(DESCRIPTION)
    if params.get("default") is not None and manage_default:
        out.append(DEFAULT)
    return out


def is_default(obj):
    return DEFAULT.view(obj) == "true"


def _name(obj):
    return obj["metadata"]["name"]


def summary(obj):
    return f"provisioner {obj.get('provisioner')}, default {default_flag(DEFAULT.value(obj))}"


# SPEC's desired writes no default annotation: ensure binds each call's flag, which depends on the
# other classes (and, with recreate, on the live class), so it is read before the class is written.
SPEC = KindSpec(kind=KIND, noun="storage_class", check=check, desired=desired, fields=fields, all_fields=ALL_FIELDS,
                immutable=immutable, summary=summary)


# --- the flow -----------------------------------------------------------------------------
def set_default_flag(client, name, value, first=None):
    """Set the default-class annotation of one class (a merge patch carrying the live
    resourceVersion; a 409 re-reads). ``first``: the live object already read. Returns the
    server's answer (in check mode, the dry-run answer)."""
    path = KIND.path(None, name)
    seen = {"live": first}

    def attempt():
        live = seen.pop("live", None) or client.get(path)
        return client.merge_patch(path, merge_patch(
            {"metadata": {"annotations": {ANNOTATION_DEFAULT: value}}}, live, [DEFAULT]))

    return on_conflict(attempt)


def _flag_diff(name, before, after):
    def view(value):
        return {"metadata": {"name": name, "annotations": {ANNOTATION_DEFAULT: value}}}
    return {"before": view(before), "after": view(after)}


def _default_to_write(client, params, takes_default):
    """The default annotation a create (or recreate) writes."""
    wanted = params.get("default")
    if wanted is True:
        return None if takes_default else "true"
    if wanted is False:
        return "false"
    if params["recreate"]:  # default not managed: a recreated class keeps its flag
        return DEFAULT.value(client.get(KIND.path(None, params["name"]), missing_ok=True))
    return None


def task(module):
    """harvester_storage_class's ``run(module)``: ``check`` before the client exists (bad input
    makes no request), then ``ensure``."""
    check(module.params)
    return ensure(module.client, module.params)


def ensure(client, params):
    """``state: absent`` deletes the class; ``present`` creates it or patches its mutable
    fields (immutable ones: refused naming the option, or recreated with ``recreate``) and,
    with ``default: true``, takes the default from any other default class: its annotation is
    set to ``"false"``, then ours to ``"true"`` (in check mode, where the other class keeps its
    default, ours is predicted instead of sent: Harvester would refuse a second default).
    Returns the result: ``changed``, ``storage_class``, ``previous_default``, ``diff`` (a list
    when other classes lose their default: ours first)."""
    name = params["name"]
    if params["state"] == "absent":
        return converge(client, SPEC, params)
    others = []
    if params.get("default"):
        others = sorted((sc for sc in client.list(KIND.path()) if _name(sc) != name and is_default(sc)), key=_name)
    takes_default = bool(others)
    wanted = desired(params, _default_to_write(client, params, takes_default))
    this_call = dataclasses.replace(SPEC, desired=lambda p: wanted, fields=lambda p: fields(p, not takes_default))
    changed, before, obj, dummy = converge_present(client, this_call, params)
    diffs = []
    for other in others:
        set_default_flag(client, _name(other), "false", first=other)
        diffs.append(_flag_diff(_name(other), "true", "false"))
    if takes_default and not is_default(obj):
        if client.dry_run:  # predicted: see above
            obj = copy.deepcopy(obj)
            set_path(obj, DEFAULT.path, "true")
        else:
            obj = set_default_flag(client, name, "true")
        changed = True
    # the diff covers the default flag too, also when it was set by its own patch
    wanted_flag = params.get("default")
    final = wanted if wanted_flag is None else desired(params, "true" if wanted_flag else "false")
    managed = fields(params)
    diff = {"before": managed_view(before, managed), "after": managed_view(final if changed else before, managed)}
    return {"changed": changed or bool(others), "storage_class": obj,
            "previous_default": _name(others[0]) if others else None, "diff": [diff] + diffs if diffs else diff}
