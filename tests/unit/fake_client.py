# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one stand-in for ``plugins/module_utils/client.py``'s ``Client`` in unit tests.

Objects are stored by API path (``objects``). The methods have the real client's signatures;
reads answer from the store, writes change it (unless dry run: then they answer what would be
stored and keep nothing). Every call is recorded as a ``Call`` of one shape. Per-test answers
replace the store for one (method, path): ``answers[(op, path)]`` is a value, an exception
(raised), a callable ``f(client, call)`` (its result, or it raises), ``NORMAL`` (do what the
store does) or a ``Seq`` of those, one per call (the last one repeats). ``after[op]`` is called
as ``f(client, object_path)`` after a stored write of that op: a test plays a controller there.

Unit tests only: the twin (tests/twin) is the stand-in that follows the apiserver."""

from __future__ import annotations

import copy
from collections import namedtuple
from types import SimpleNamespace

from ansible_collections.homelab.harvester.plugins.module_utils.errors import AlreadyExists, Conflict, Invalid, NotFound
from ansible_collections.homelab.harvester.plugins.module_utils.progress import Progress
from ansible_collections.homelab.harvester.plugins.module_utils.retry import RetryPolicy

# op: the Client method called; method: the HTTP verb it sends; dry_run: the effective dry run of
# a write (None for a read); options: the other keyword arguments the caller gave (retry, ...).
Call = namedtuple("Call", "op method path query body dry_run options")

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
NORMAL = object()  # an answer meaning "as the store does"
GENERATED_SUFFIX = "x1y2z"  # what generateName gets (the apiserver adds 5 random characters)


class Seq(list):
    """Answers of one (op, path), one per call; the last one repeats."""


def resolve(answer, client, call):
    """What one per-test answer gives ``call``: a ``Seq``'s next, an exception raised, a callable's
    result, or (a copy of) the value; ``NORMAL`` stays ``NORMAL``."""
    if isinstance(answer, Seq):
        answer = answer.pop(0) if len(answer) > 1 else answer[0]
    if isinstance(answer, BaseException):
        raise answer
    if callable(answer):
        answer = answer(client, call)
    return copy.deepcopy(answer) if answer is not NORMAL else NORMAL


def merge_patch(target, patch):
    """RFC 7386: a dict patch merges key by key (``None`` removes a key), anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def json_patch(target, operations):
    """RFC 6902 add, remove, replace and test; a failed ``test`` or a missing path is a 422 as
    the apiserver answers it."""
    doc = copy.deepcopy(target)
    for op in operations:
        *parents, last = _pointer(op["path"])
        node = doc
        try:
            for key in parents:
                node = node[int(key)] if isinstance(node, list) else node[key]
            if op["op"] == "test":
                current = node[int(last)] if isinstance(node, list) else node[last]
                if current != op["value"]:
                    raise Invalid(422, "Invalid", f"the test of {op['path']} failed")
            elif op["op"] == "remove":
                node.pop(int(last) if isinstance(node, list) else last)
            elif op["op"] in ("add", "replace"):
                if isinstance(node, list):
                    index = len(node) if last == "-" else int(last)
                    node.insert(index, op["value"]) if op["op"] == "add" else node.__setitem__(index, op["value"])
                else:
                    if op["op"] == "replace" and last not in node:
                        raise KeyError(last)
                    node[last] = copy.deepcopy(op["value"])
            else:
                raise Invalid(422, "Invalid", f"unsupported JSON patch op {op['op']!r}")
        except (KeyError, IndexError, ValueError, TypeError):
            raise Invalid(422, "Invalid", f"the path {op['path']} does not exist") from None
    return doc


def _requirement_matches(text, labels):
    text = text.strip()
    for word, negate in ((" notin ", True), (" in ", False)):
        if word in text:
            key, values = text.split(word, 1)
            found = labels.get(key.strip()) in {v.strip() for v in values.strip().strip("()").split(",")}
            return found != negate
    for sep, negate in (("!=", True), ("==", False), ("=", False)):
        if sep in text:
            key, value = text.split(sep, 1)
            return (labels.get(key.strip()) == value.strip()) != negate
    if text.startswith("!"):
        return text[1:] not in labels
    return text in labels


def _split_selector(selector):
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and not depth:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def selects(selector, obj):
    """Whether a label selector (equality- and set-based, as the apiserver reads them) selects ``obj``."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(_requirement_matches(r, labels) for r in _split_selector(selector or "") if r.strip())


def _collection_of(path):
    """The collection paths an object path is listed under: its own and the all-namespaces one."""
    parent = path.rsplit("/", 1)[0]
    found = {parent}
    if "/namespaces/" in parent:
        head, rest = parent.split("/namespaces/", 1)
        if "/" in rest:
            found.add(head + "/" + rest.split("/", 1)[1])
    return found


class FakeClient:
    """``Client`` for unit tests: see the module's doc."""

    def __init__(self, objects=None, dry_run=False, answers=None, after=None):
        self.objects = copy.deepcopy(dict(objects or {}))
        self.dry_run = bool(dry_run)
        self.answers = dict(answers or {})
        self.after = dict(after or {})
        self.calls = []
        self.progress = Progress(now=lambda: 0)
        self.connection = SimpleNamespace(server="https://harvester.example", timeout=30)
        self.retry_policy = RetryPolicy(random=lambda: 0.5)
        self._version = 0

    # --- the record -------------------------------------------------------------------------
    def ops(self):
        return [c.op for c in self.calls]

    def writes(self):
        """The calls that would change the cluster (dry runs included: they reached the server)."""
        return [c for c in self.calls if c.method in WRITE_METHODS]

    def _record(self, op, method, path, query=None, body=None, dry_run=None, **options):
        call = Call(op, method, path, dict(query or {}), copy.deepcopy(body),
                    None if method not in WRITE_METHODS else self.dry_run if dry_run is None else bool(dry_run),
                    {k: v for k, v in options.items() if v is not None})
        self.calls.append(call)
        return call

    def _answer(self, call):
        """The per-test answer of ``call``, or ``NORMAL``."""
        return resolve(self.answers.get((call.op, call.path), NORMAL), self, call)

    def _stored(self, path, method):
        if path not in self.objects:
            raise NotFound(404, "NotFound", f"{path} not found", path=path, method=method)
        return self.objects[path]

    def _next_version(self):
        self._version += 1
        return str(self._version)

    def _keep(self, call, path, obj):
        """Store ``obj`` at ``path`` unless the call is a dry run; then run ``after``."""
        if call.dry_run:
            return copy.deepcopy(obj)
        self.objects[path] = obj
        if call.op in self.after:
            self.after[call.op](self, path)
        return copy.deepcopy(self.objects.get(path, obj))

    # --- reads ------------------------------------------------------------------------------
    def get(self, path, query=None, timeout=None, missing_ok=False):
        call = self._record("get", "GET", path, query)
        try:
            answer = self._answer(call)
            return copy.deepcopy(self._stored(path, "GET")) if answer is NORMAL else answer
        except NotFound:
            if missing_ok:
                return None
            raise

    def list(self, path, query=None, label_selector=None, field_selector=None, limit=500, timeout=None):
        query = dict(query or {})
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        call = self._record("list", "GET", path, query)
        answer = self._answer(call)
        if answer is not NORMAL:
            return answer
        return [copy.deepcopy(obj) for p, obj in sorted(self.objects.items())
                if path in _collection_of(p) and selects(label_selector, obj)]

    def version(self, timeout=None):
        return self.get("/version", timeout=timeout)

    def watch(self, path, query=None, timeout=None):
        """The events of one watch window: ``answers[("watch", path)]`` (a list of events; ``None``:
        a window that ends with none)."""
        call = self._record("watch", "GET", path, query)
        answer = self._answer(call)
        yield from [] if answer is NORMAL else answer or []

    # --- writes -----------------------------------------------------------------------------
    def create(self, path, body, dry_run=None, timeout=None, query=None):
        call = self._record("create", "POST", path, query, body, dry_run)
        answer = self._answer(call)
        if answer is not NORMAL:
            return answer
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + GENERATED_SUFFIX
        where = f"{path.rstrip('/')}/{meta['name']}"
        if where in self.objects:
            raise AlreadyExists(409, "AlreadyExists", f"{meta['name']} already exists", path=path, method="POST")
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta["resourceVersion"] = self._next_version()
        return self._keep(call, where, obj)

    def replace(self, path, body, dry_run=None, timeout=None, query=None):
        call = self._record("replace", "PUT", path, query, body, dry_run)
        answer = self._answer(call)
        if answer is not NORMAL:
            return answer
        self._stored(path, "PUT")
        return self._keep(call, path, copy.deepcopy(body))

    def merge_patch(self, path, patch, dry_run=None, timeout=None, query=None, subresource_status=False, retry=None):
        call = self._record("merge_patch", "PATCH", path, query, patch, dry_run, retry=retry,
                            subresource_status=subresource_status or None)
        answer = self._answer(call)
        if answer is not NORMAL:
            return answer
        return self._keep(call, path, merge_patch(self._stored(path, "PATCH"), patch))

    def json_patch(self, path, operations, dry_run=None, timeout=None, query=None):
        if not isinstance(operations, list):
            raise TypeError("a JSON patch is a list of operations")
        call = self._record("json_patch", "PATCH", path, query, operations, dry_run)
        answer = self._answer(call)
        if answer is not NORMAL:
            return answer
        return self._keep(call, path, json_patch(self._stored(path, "PATCH"), operations))

    def delete(self, path, propagation_policy=None, dry_run=None, timeout=None, missing_ok=False, preconditions=None,
               grace_period_seconds=None):
        call = self._record("delete", "DELETE", path, None, None, dry_run, propagation_policy=propagation_policy,
                            preconditions=preconditions, grace_period_seconds=grace_period_seconds)
        try:
            answer = self._answer(call)
            if answer is not NORMAL:
                return answer
            gone = copy.deepcopy(self._stored(path, "DELETE"))
        except NotFound:
            if missing_ok:
                return None
            raise
        if not call.dry_run:
            del self.objects[path]
            if "delete" in self.after:
                self.after["delete"](self, path)
        return gone

    def request(self, method, path, query=None, body=None, content_type=None, dry_run=None, timeout=None, retry=None):
        """Any other call (Steve actions, subresources): the per-test answer; without one a GET
        reads the store and anything else answers ``None``."""
        call = self._record("request", method.upper(), path, query, body, dry_run, retry=retry)
        answer = self._answer(call)
        if answer is not NORMAL:
            return answer
        return copy.deepcopy(self._stored(path, "GET")) if call.method == "GET" else None


def conflict(path="", message="the object has been modified; please apply your changes to the latest version"):
    """The apiserver's 409 for a stale resourceVersion."""
    return Conflict(409, "Conflict", message, path=path, method="PATCH")
