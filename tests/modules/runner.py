"""A module of the collection called from a test the way its action plugin calls it in the
ansible-playbook worker: the real in-process runner (plugins/plugin_utils/in_process.py), the real
Client, a real twin. What comes back is shaped as a playbook registers it (no ``invocation``,
``failed`` always there, ``warnings`` when any), with the API requests the call made."""
from __future__ import annotations

import contextlib
import os

from ansible_collections.homelab.harvester.plugins.plugin_utils import in_process

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@contextlib.contextmanager
def _without_outside_credentials():
    """Connection settings of the developer's shell must not leak into a test."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(("K8S_AUTH_", "KUBECONFIG", "HOMELAB_HARVESTER_"))}
    try:
        yield
    finally:
        os.environ.update(saved)


def registered(raw, warnings):
    """What ``register:`` would hold for this module result."""
    result = {k: v for k, v in raw.items() if k != "invocation"}
    result.setdefault("failed", False)
    if warnings:
        result["warnings"] = list(warnings)
    return result


def run(twin, module, args, *, check=False, diff=False, env=None, kubeconfig=True):
    """``(result, requests)``: one task of ``homelab.harvester.<module>`` with ``args``, the twin's
    kubeconfig as ``K8S_AUTH_KUBECONFIG`` (unless ``kubeconfig`` is false) plus ``env`` as the
    task's environment."""
    warnings = []
    task_env = {"K8S_AUTH_KUBECONFIG": str(twin.kubeconfig)} if kubeconfig else {}
    task_env.update(env or {})
    since = twin.last_seq()
    with _without_outside_credentials():
        raw = in_process.run(f"homelab.harvester.{module}", args, check_mode=check, diff=diff, warn=warnings.append,
                             task_env=task_env)
    requests = [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]
    return registered(raw, warnings), requests


def run_tasks(twin, module, tasks, **kwargs):
    """``(results, requests)`` of several tasks in a row (as one playbook would run them)."""
    since = twin.last_seq()
    results = [run(twin, module, args, **kwargs)[0] for args in tasks]
    return results, [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]


def writes(requests):
    return [r for r in requests if r["method"] in WRITES]


def accepted_writes(requests):
    """Writes but those refused with 409 Conflict, which the client re-reads and applies again: a
    controller that updates the object at the same moment (as on a real cluster) costs a retry."""
    return [r for r in writes(requests) if r["status"] != 409]


def stored_writes(requests):
    """Writes that were not dry runs: what check mode must never send."""
    return [r for r in writes(requests) if "dryRun=All" not in (r.get("query") or "")]


def assert_all_refused_without_a_request(catalogue, results, requests):
    """Every (args, message) of a module's BAD_INPUTS failed with its message, and no request at all
    reached the API: input is checked before anything is sent."""
    for (args, message), result in zip(catalogue, results, strict=True):
        assert result.get("failed") and message in result["msg"], (args, result)
    assert requests == []
