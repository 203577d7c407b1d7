# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make one object look like the desired one, touching only the fields we manage.

A module says which fields it manages with ``Field``s: a path into the object, how to
normalise a value for comparison (JSON carried in strings is parsed, server-injected parts are
dropped) and, when needed, how to build the value to write from the desired and live values.
Everything else -- status, labels a controller adds, defaults, finalizers, resourceVersion --
is the server's and never counts as drift::

    fields = [Field(("spec", "config"), normalise=parse_json), Field(("metadata", "annotations", "x/y"))]
    changed, before, after, diff = ensure_present(client, kinds.NAD, desired, fields=fields)

Writes: POST when missing; otherwise one merge patch of only the differing fields, carrying the
live ``resourceVersion`` (a 409 re-reads and re-applies through ``retry.on_conflict``). A create
that meets AlreadyExists (made meanwhile, or our own whose answer was lost) compares and patches
the object as it exists; a write whose answer was lost and whose repeat met a 409 still counts as
a change when the re-read shows it stored. The
client adds ``dryRun=All`` in check mode, so the answer is the server's (webhooks run) and
nothing is stored. ``diff`` is ``{"before": ..., "after": ...}`` of the managed fields only,
normalised, as nested dicts.

A module that manages one object describes its kind once (``kind_spec.KindSpec``) and
``converge(client, spec, params)`` runs the whole flow from it.

Immutable parts (``immutable={"cluster_network": getter}``): a change is refused with a message
naming it, or, with ``recreate=True``, the object is deleted (waiting for its finalizers) and
created again.
"""

from __future__ import annotations

from . import validate
from .client import Found
from .errors import AlreadyExists, Conflict, HarvesterError
from .option_groups import NAMESPACE_ARGS, STATE_ARGS, wait_args
from .retry import on_conflict
from .wait import should_wait, until

DELETE_TIMEOUT = 120.0


class ImmutableFieldError(HarvesterError):
    """The desired object differs from the live one in a part that cannot change in place."""

    def __init__(self, message, field):
        super().__init__(message)
        self.field = field

    def as_dict(self):
        return {"field": self.field}


def _same(value):
    return value


def _keep_desired(desired, live):
    return desired


def empty_is_none(value):
    """A normaliser: an empty value is no value (``''`` and absent compare equal)."""
    return value or None


class Field:
    """A managed field. ``path``: keys from the object root, e.g. ``("metadata", "annotations",
    "field.cattle.io/description")``. ``normalise(value)``: the comparable form (``None`` means
    absent). ``to_write(desired, live)``: what to send (default: the desired value; a field may
    carry server-owned parts of the live value over, e.g. a webhook-injected MTU). A desired
    ``None`` removes the field (merge patch ``null``)."""

    __slots__ = ("path", "normalise", "to_write")

    def __init__(self, path, normalise=None, to_write=None):
        self.path = tuple(path)
        self.normalise = normalise or _same
        self.to_write = to_write or _keep_desired

    def __repr__(self):
        return f"Field({'.'.join(self.path)})"

    def value(self, obj):
        return get_path(obj, self.path)

    def view(self, obj):
        return None if obj is None else self.normalise(self.value(obj))


def _label_text(value):
    return None if value is None else str(value)


def label_field(key):
    """The managed field of one label (compared as a string; ``None`` removes it)."""
    return Field(("metadata", "labels", key), normalise=_label_text)


def label_fields(labels):
    """The managed fields of the label keys given (only those: other labels are not ours)."""
    return [label_field(key) for key in sorted(labels or {})]


def fields_given(params, always, when_given):
    """The fields one call manages: ``always``, then each of ``when_given`` (``{option: Field}``)
    whose option is given (an omitted option leaves the live value alone), then the label keys
    given."""
    out = list(always)
    out.extend(field for option, field in when_given.items() if params.get(option) is not None)
    out.extend(label_fields(params.get("labels")))
    return out


def set_labels(metadata, labels):
    """Put the labels to set (values as strings; ``None`` ones left out) into ``metadata``."""
    wanted = {key: str(value) for key, value in (labels or {}).items() if value is not None}
    if wanted:
        metadata["labels"] = wanted


def get_path(obj, path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def set_path(obj, path, value):
    for key in path[:-1]:
        obj = obj.setdefault(key, {})
    obj[path[-1]] = value


def managed_view(obj, fields):
    """The managed fields of ``obj`` in their normalised form, as nested dicts (absent ones left
    out): what ``diff`` shows and what comparison looks at."""
    view = {}
    if obj is None:
        return view
    for field in fields:
        value = field.view(obj)
        if value is not None:
            set_path(view, field.path, value)
    return view


def differing(desired, live, fields):
    """The fields whose normalised desired and live values differ."""
    return [f for f in fields if f.view(desired) != f.view(live)]


def merge_patch(desired, live, fields):
    """A merge patch of only ``fields``, with the live ``resourceVersion`` (safe to retry: a
    stale patch answers 409 instead of overwriting someone else's change)."""
    patch = {"metadata": {"resourceVersion": live["metadata"]["resourceVersion"]}}
    for field in fields:
        set_path(patch, field.path, field.to_write(field.value(desired), field.value(live)))
    return patch


def immutable_changes(desired, live, immutable):
    """``[(name, live value, desired value)]`` for immutable parts that differ."""
    changes = []
    for label, getter in (immutable or {}).items():
        want, have = getter(desired), getter(live)
        if want != have:
            changes.append((label, have, want))
    return changes


def _ref(kind, obj):
    meta = obj.get("metadata") or {}
    return f"{kind.kind} {meta['namespace']}/{meta['name']}" if meta.get("namespace") else f"{kind.kind} {meta.get('name')}"


def _object_path(kind, obj):
    meta = obj["metadata"]
    return kind.path(meta.get("namespace"), meta["name"])


def _wait_gone(client, path, what, timeout, sleep):
    return until(lambda: client.get(path, missing_ok=True), lambda o: o is None, timeout=timeout,
                 what=f"{what} to be deleted", describe=_describe_deleting, sleep=sleep)


def _describe_deleting(obj):
    meta = (obj or {}).get("metadata") or {}
    return f"still there with finalizers {meta.get('finalizers') or []}" if obj else "gone"


def ensure_present(client, kind, desired, *, fields, immutable=None, recreate=False, delete_timeout=DELETE_TIMEOUT,
                   sleep=None):
    """Create ``desired`` or patch the live object's managed ``fields`` to match it.

    Returns ``(changed, before, after, diff)``: the live object before (``None`` when missing),
    the server's answer after (the live object when unchanged; in check mode the dry-run
    answer), and the managed-field diff."""
    path = _object_path(kind, desired)
    collection = kind.path(desired["metadata"].get("namespace") if kind.namespaced else None)
    what = _ref(kind, desired)
    result = {"written": False}

    def attempt():
        live = client.get(path, missing_ok=True)
        if live is not None and live["metadata"].get("deletionTimestamp"):
            if client.dry_run:  # check mode: a dry-run create would meet the object still stored; no answer to give
                raise HarvesterError(f"{what} is being deleted; run again once it is gone")
            _wait_gone(client, path, what, delete_timeout, sleep)
            live = None
        if "before" not in result:  # what the object was before this task, whatever the retries saw
            result["before"] = live
        if live is None:
            try:
                created = client.create(collection, desired)
            except AlreadyExists:
                return attempt()  # made since the read (by someone else): it exists, so compare
            result["written"] = True
            if not isinstance(created, Found):
                result["after"] = created
                return True
            live = created  # our create was stored, its answer lost: compare what is stored
        changes = immutable_changes(desired, live, immutable)
        if changes:
            if not recreate:
                label, have, want = changes[0]
                raise ImmutableFieldError(f"{label} of {what} cannot be changed in place ({have} -> {want}); "
                                          "set recreate=true to delete and create it again", field=label)
            return _recreate(client, path, collection, desired, what, delete_timeout, sleep, result)
        todo = differing(desired, live, fields)
        if not todo:
            result["after"] = live
            return result["written"]  # a write of an earlier attempt, stored though its answer was lost
        try:
            result["after"] = client.merge_patch(path, merge_patch(desired, live, todo))
        except Conflict as e:
            result["written"] = result["written"] or e.maybe_stored
            raise
        result["written"] = True
        return True

    changed = on_conflict(attempt, sleep=sleep)
    before, after = result["before"], result["after"]
    diff = {"before": managed_view(before, fields), "after": managed_view(desired if changed else before, fields)}
    return changed, before, after, diff


def _recreate(client, path, collection, desired, what, delete_timeout, sleep, result):
    client.delete(path)
    if client.dry_run:  # the delete was only checked; a create would meet the still-stored object
        result["after"] = desired
        return True
    _wait_gone(client, path, what, delete_timeout, sleep)
    result["after"] = client.create(collection, desired)
    return True


def ensure_absent(client, kind, namespace, name, *, fields=(), wait=True, delete_timeout=DELETE_TIMEOUT, sleep=None):
    """Delete the object if it exists (and, with ``wait``, until its finalizers let it go).
    An object already being deleted counts as unchanged. Returns ``(changed, before, None, diff)``."""
    path = kind.path(namespace if kind.namespaced else None, name)
    live = client.get(path, missing_ok=True)
    diff = {"before": managed_view(live, fields), "after": {}}
    if live is None:
        return False, None, None, diff
    changed = not live["metadata"].get("deletionTimestamp")
    if changed:
        client.delete(path, missing_ok=True)
    if wait and not client.dry_run:  # a dry-run delete leaves the object stored
        _wait_gone(client, path, _ref(kind, live), delete_timeout, sleep)
    return changed, live, None, diff


def converge(client, spec, params):
    """The whole flow of a module that manages one object, from its ``kind_spec.KindSpec``:
    ``state: absent`` deletes it (waiting for its finalizers with ``wait``); ``present`` runs
    ``spec.precheck``, creates or patches the object (immutable parts: refused, or recreated with
    ``recreate``) and, with ``wait`` and a ``spec.ready``, polls until it holds, stopping early on
    ``spec.failed`` or the object's deletion and reporting ``spec.stage`` to ``client.progress``.
    Check mode is the client's (``client.dry_run``): the writes are dry runs, and nothing stored
    can become ready, so there is no wait.
    Uses ``params`` ``namespace`` (namespaced kinds), ``name``, ``state``, ``recreate``, ``wait``,
    ``wait_timeout``. Returns the module result: ``changed``, ``diff`` and, for present,
    ``spec.returned(obj, params)``."""
    if params.get("state", "present") == "absent":
        namespace = params.get("namespace") if spec.kind.namespaced else None
        changed, dummy, dummy2, diff = ensure_absent(client, spec.kind, namespace, params["name"],
                                                     fields=spec.all_fields, wait=should_wait(client, params),
                                                     delete_timeout=params.get("wait_timeout") or DELETE_TIMEOUT)
        return {"changed": changed, "diff": diff}
    changed, dummy, obj, diff = converge_present(client, spec, params)
    return dict(spec.returned(obj, params), changed=changed, diff=diff)


def converge_present(client, spec, params):
    """``converge``'s ``state: present`` half, for a flow that writes more than the one object
    (harvester_storage_class moves the cluster default): ``spec.precheck``, create or patch, the
    wait. Returns ``(changed, before, after, diff)`` as ``ensure_present`` does, ``after`` the object
    once the wait is done."""
    namespace = params.get("namespace") if spec.kind.namespaced else None
    name, timeout = params["name"], params.get("wait_timeout") or DELETE_TIMEOUT
    spec.precheck(client, params)
    changed, before, obj, diff = ensure_present(client, spec.kind, spec.desired(params), fields=spec.fields(params),
                                                immutable=spec.immutable(params),
                                                recreate=params.get("recreate", False), delete_timeout=timeout)
    if spec.ready is not None and should_wait(client, params):
        ref = f"{namespace}/{name}" if namespace else name
        obj = until(lambda: client.get(spec.kind.path(namespace, name), missing_ok=True),
                    lambda o: o is not None and spec.ready(o), first=obj,
                    timeout=timeout, what=f"{spec.noun} {ref} to be {spec.goal(params)}",
                    failed=lambda o: f"the {spec.noun} was deleted" if o is None else spec.failed(o),
                    describe=lambda o: f"no such {spec.noun}" if o is None else spec.summary(o),
                    progress=client.progress, stage=spec.stage)
    return changed, before, obj, diff


def object_args(wait_timeout):
    """The options ``converge`` reads, as an argument spec: ``name``, ``state``, ``wait`` and
    ``wait_timeout`` (default ``wait_timeout`` seconds), ``namespace`` and ``recreate``. A module
    merges them into its spec, documents ``name`` and ``recreate`` (what they mean for its kind) and
    lists the state, wait and namespace fragments."""
    return {"name": {"type": "str", "required": True}, **STATE_ARGS, **wait_args(wait_timeout), **NAMESPACE_ARGS,
            "recreate": {"type": "bool", "default": False}}


def check_object_args(params):
    """The input checks of ``object_args`` for a kind named by a DNS-1123 subdomain: ``name``,
    ``namespace``, a positive ``wait_timeout``."""
    validate.subdomain(params["name"], "name")
    validate.name(params["namespace"], "namespace")
    validate.wait_timeout(params)


def run(module, spec):
    """A single-object module's whole ``run(module)``: the input checks of ``spec.check`` before
    the client exists (bad input makes no request), then ``converge``."""
    spec.check(module.params)
    return converge(module.client, spec, module.params)
