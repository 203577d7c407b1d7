# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters ``homelab.harvester.drift_report``: what a check-mode run of the roles would change,
one entry per differing field of each object, from the results the roles registered; and
``homelab.harvester.drift_steps``: those results found by their names (``<role>_<what>_result``),
each told how to read from what it holds.

Documentation: the sidecar files drift_report.yml and drift_steps.yml next to this one.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

ABSENT = "(absent)"
HIDDEN = "(hidden)"
MAX_VALUE = 120


def _show(value, secret):
    if secret:
        return HIDDEN
    if value is ABSENT:
        return ABSENT
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def leaf_changes(before, after, path=()):
    """``[(path, before, after)]`` for every leaf that differs between two nested dicts; a key
    missing on one side is ``ABSENT`` there. Lists and scalars are compared whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            changes += leaf_changes(before.get(key, ABSENT), after.get(key, ABSENT), path + (str(key),))
        return changes
    if isinstance(before, dict) and after is ABSENT:
        return leaf_changes(before, {}, path) or [(path, before, after)]
    if before is ABSENT and isinstance(after, dict):
        return leaf_changes({}, after, path) or [(path, before, after)]
    return [] if before == after else [(path, before, after)]


def _object_name(result, label_key):
    """The object a loop item is about: its ``label_key`` (``namespace/name`` when it has a namespace)."""
    loop_var = result.get("ansible_loop_var")
    item = result.get(loop_var) if loop_var else result.get("item")
    if isinstance(item, dict):
        name = item.get(label_key)
        namespace = item.get("namespace")
        if name is not None:
            return f"{namespace}/{name}" if namespace else str(name)
        return json.dumps(item, sort_keys=True, default=str)
    return None if item is None else str(item)


def _diffs(result):
    diff = result.get("diff")
    return diff if isinstance(diff, list) else ([diff] if isinstance(diff, dict) else [])


def _file_entries(result, step):
    """A files result (``harvester_install_files``): its diff is keyed by file name, with the
    content (or a fingerprint) as the value and ``<name> mode`` for a mode change. One entry per
    file: its content differs (never shown: install configs hold the token), or its mode."""
    entries = []
    for diff in _diffs(result):
        before, after = diff.get("before") or {}, diff.get("after") or {}
        for name in sorted(set(before) | set(after), key=str):
            if name.endswith(" mode"):
                text = f"{step}: {name[:-5]}: mode {before.get(name)} -> {after.get(name)}"
                entries.append({"step": step, "object": name[:-5], "path": "mode", "before": before.get(name),
                                "after": after.get(name), "text": text})
            else:
                what = "missing" if before.get(name) is None else "content differs"
                entries.append({"step": step, "object": name, "path": None, "before": None, "after": None,
                                "text": f"{step}: {name}: {what}"})
    return entries


def _entries_of(result, step, obj, secret, keys_are_objects, files=False):
    """The entries of one task result (a loop item or a single task)."""
    if result.get("skipped"):
        return []
    if result.get("failed"):
        message = result.get("msg") or "failed"
        return [{"step": step, "object": obj, "path": None, "before": None, "after": None,
                 "text": f"{step}: {obj}: not as planned: {message}"}]
    if not result.get("changed"):
        return []
    if files:
        return _file_entries(result, step)
    file_path = result.get("dest") or result.get("path")
    entries = []
    for diff in _diffs(result):
        before, after = diff.get("before", ABSENT), diff.get("after", ABSENT)
        if isinstance(before, str) or isinstance(after, str) or "before_header" in diff:
            # file content: may hold secrets (install configs carry the cluster token), so never shown
            where = diff.get("before_header") or file_path or obj
            entries.append({"step": step, "object": str(where), "path": None, "before": None, "after": None,
                            "text": f"{step}: {where}: content differs"})
            continue
        for path, old, new in leaf_changes(before, after):
            target = obj
            if keys_are_objects and path:
                target, path = path[0], path[1:]
            dotted = ".".join(path)
            old_text, new_text = _show(old, secret), _show(new, secret)
            entries.append({"step": step, "object": target, "path": dotted or None, "before": old_text,
                            "after": new_text,
                            "text": f"{step}: {target}{': ' + dotted if dotted else ''}: {old_text} -> {new_text}"})
    if not entries:
        entries.append({"step": step, "object": str(file_path or obj), "path": None, "before": None, "after": None,
                        "text": f"{step}: {file_path or obj}: would change (the module gives no diff)"})
    return entries


def drift_report(steps):
    """``steps``: a list of ``{step, result, object?, label?, secret?, keys_are_objects?}``, where
    ``result`` is what a task registered (a single result or a loop's ``results``), ``object`` names
    the object of a single-task result, ``label`` the key of a loop item that names its object
    (default ``name``), ``secret`` hides values, ``keys_are_objects`` says the diff's top-level
    keys are the objects (settings modules), and ``files`` that they are files whose content is
    never shown (``harvester_install_files``). Returns one entry per difference:
    ``{step, object, path, before, after, text}``."""
    if not isinstance(steps, list):
        raise AnsibleFilterError(f"drift_report expects a list of steps, got {type(steps).__name__}")
    entries = []
    for index, spec in enumerate(steps):
        if not isinstance(spec, dict) or "step" not in spec:
            raise AnsibleFilterError(f"drift_report: steps[{index}] must be a dict with a 'step' key")
        result = spec.get("result")
        if not isinstance(result, dict):
            continue  # the task did not run (condition false, or its block was not reached)
        step, secret, keys = spec["step"], bool(spec.get("secret")), bool(spec.get("keys_are_objects"))
        files = bool(spec.get("files"))
        if isinstance(result.get("results"), list):
            for item in result["results"]:
                if isinstance(item, dict):
                    entries += _entries_of(item, step, _object_name(item, spec.get("label", "name")), secret, keys, files)
        else:
            entries += _entries_of(result, step, spec.get("object") or step, secret, keys, files)
    return entries


RESULT_SUFFIX = "_result"


def _named_object(result):
    """``Kind namespace/name`` of the object a module returned (``storage_class``, ``keypair``, ...)."""
    for value in result.values():
        meta = value.get("metadata") if isinstance(value, dict) else None
        if isinstance(meta, dict) and meta.get("name"):
            name = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])
            return f"{value['kind']} {name}" if value.get("kind") else name
    return None


def drift_steps(results):
    """``results``: registered variable name -> what the task registered, for every variable named
    ``<step>_<what>_result`` (the roles' convention). Returns the steps ``drift_report`` takes, each
    told from the result itself: ``step`` from the name's first part, ``files`` for an install-files
    result (its ``written`` list), ``keys_are_objects`` for a settings result (its
    ``changed_settings``), ``object`` the object a module returned (``StorageClass lab-longhorn``)
    else the name without ``_result`` (``storage-network``). Other names are refused, so no list
    has to be kept in step with the roles: every task that registers ``<role>_..._result`` reports."""
    if not isinstance(results, dict):
        raise AnsibleFilterError(f"drift_steps expects a mapping of registered results, got {type(results).__name__}")
    steps = []
    for name in sorted(results):
        step, sep, rest = str(name).partition("_")
        if not sep or not rest.endswith(RESULT_SUFFIX) or rest == RESULT_SUFFIX[1:]:
            raise AnsibleFilterError(f"drift_steps: {name!r} is not named <step>_<what>_result")
        result = results[name]
        spec = {"step": step, "result": result, "object": str(name)[:-len(RESULT_SUFFIX)].replace("_", "-")}
        if isinstance(result, dict):
            spec["files"] = isinstance(result.get("written"), list) and isinstance(result.get("files"), list)
            spec["keys_are_objects"] = isinstance(result.get("changed_settings"), list)
            spec["object"] = _named_object(result) or spec["object"]
        steps.append(spec)
    return steps


class FilterModule:
    """Drift report filters."""

    def filters(self):
        return {"drift_report": drift_report, "drift_steps": drift_steps}
