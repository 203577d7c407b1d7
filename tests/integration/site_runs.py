"""site.yml under faults and interruptions, and the end state it leaves, shared by the suite
(tests/integration/test_faults.py: a few seeds and two interruptions) and the tools that run the
whole matrix once (tools/fault_runs.py: 20 seeds at each rate; tools/interrupt_runs.py: a Ctrl-C
after every task).

- ``end_state(twin)``: what the site manages, read back through the API and normalised (no
  resourceVersions, uids, times, status; generated names by their prefix), so two converged labs
  compare equal exactly when they hold the same objects with the same managed content, the same
  number of each (no duplicate), and the same VMs running.
- ``faulty_run``: site.yml with seeded random faults at a rate of the API calls (409, 429 with
  Retry-After, 500, 503, resets before and after the write is stored), then what the faults did.
- ``interrupted_run``: site.yml sent SIGINT, as Ctrl-C sends it (to the whole process group:
  ansible-playbook and the worker running the task), the moment ``trigger`` says so.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.integration.playbooks import PLAYBOOK, ansible_playbook, playbook_env
from tests.integration.roles import LAB_INVENTORY, SITE, recap, site_vars

STOP_VMS = {"lab_storage_network_stop_vms": True}  # the storage role may stop and start the VMs
RANDOM_FAULTS = ["409", "429", "500", "503", "reset", "reset_after"]
# What site.yml manages (and what the storage network touches), all namespaces.
KINDS = {
    "NetworkAttachmentDefinition": "/apis/k8s.cni.cncf.io/v1/network-attachment-definitions",
    "Setting": "/apis/harvesterhci.io/v1beta1/settings",
    "LonghornSetting": "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings",
    "StorageClass": "/apis/storage.k8s.io/v1/storageclasses",
    "VirtualMachine": "/apis/kubevirt.io/v1/virtualmachines",
    "VirtualMachineImage": "/apis/harvesterhci.io/v1beta1/virtualmachineimages",
    "KeyPair": "/apis/harvesterhci.io/v1beta1/keypairs",
    "ClusterNetwork": "/apis/network.harvesterhci.io/v1beta1/clusternetworks",
    "VlanConfig": "/apis/network.harvesterhci.io/v1beta1/vlanconfigs",
}
VMIS = "/apis/kubevirt.io/v1/virtualmachineinstances"
# Annotations that name generated objects or times: never part of the comparison.
VOLATILE_ANNOTATIONS = ("storage-network.settings.harvesterhci.io/net-attach-def",
                        "storage-network.settings.harvesterhci.io/old-net-attach-def",
                        "kubectl.kubernetes.io/last-applied-configuration")


def _get(twin, path):
    r = twin.session().get(twin.url(path))
    r.raise_for_status()
    return r.json()


def _normalised(obj):
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if meta.get("generateName"):
        name = meta["generateName"] + "*"
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in VOLATILE_ANNOTATIONS}
    body = {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
    return f"{meta.get('namespace') or ''}/{name}", {"labels": meta.get("labels") or {}, "annotations": annotations, **body}


def end_state(twin):
    """``{kind: {"<namespace>/<name>": normalised object}}`` plus ``running VMIs`` and the count
    of each kind's objects (duplicates of a generated name show up there)."""
    state = {}
    # objects Harvester names after an image's uid (its StorageClass lh-<uid>, backingImage vmi-<uid>)
    # are compared by the image they belong to: uids differ from run to run
    images = _get(twin, KINDS["VirtualMachineImage"])["items"]
    by_uid = {i["metadata"]["uid"]: f"<image {i['metadata']['namespace']}/{i['metadata']['name']}>" for i in images}
    for kind, path in KINDS.items():
        items = _get(twin, path)["items"]
        entries = {}
        for obj in items:
            key, value = _by_image(_normalised(obj), by_uid)
            entries.setdefault(key, []).append(value)
        state[kind] = {k: v[0] if len(v) == 1 else v for k, v in sorted(entries.items())}
        state[f"{kind} count"] = len(items)
    state["running VMIs"] = sorted(f"{v['metadata']['namespace']}/{v['metadata']['name']}" for v in _get(twin, VMIS)["items"]
                                   if (v.get("status") or {}).get("phase") == "Running")
    return state


def _by_image(entry, by_uid):
    text = json.dumps(entry)
    for uid, image in by_uid.items():
        text = text.replace(uid, image)
    return tuple(json.loads(text))


def differences(expected, actual, path=""):
    """Readable lines for every difference between two end states (``[]`` when equal)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                out.append(f"{where}: missing (expected {json.dumps(expected[key], default=str)[:200]})")
            elif key not in expected:
                out.append(f"{where}: unexpected {json.dumps(actual[key], default=str)[:200]}")
            else:
                out += differences(expected[key], actual[key], where)
        return out
    return [] if expected == actual else [f"{path}: {json.dumps(expected, default=str)[:200]} != "
                                          f"{json.dumps(actual, default=str)[:200]}"]


def fresh_files(cwd):
    """The run's published install files start empty each time (a fresh checkout's view)."""
    import shutil
    shutil.rmtree(Path(cwd) / "pxe", ignore_errors=True)


def _command(twin, cwd, playbook, extra_vars, inventory):
    environ = playbook_env(twin, drop=("K8S_AUTH_", "KUBECONFIG", "ANSIBLE_", "HOMELAB_HARVESTER_"), ANSIBLE_NOCOLOR="1",
                           ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
    vars_file = Path(cwd) / "extra-vars.json"
    vars_file.write_text(json.dumps(site_vars(cwd, inventory, extra_vars)))
    return ["-i", inventory, playbook, "-e", f"@{vars_file}"], environ


def site(twin, cwd, *, extra_vars=None, inventory=LAB_INVENTORY, playbook=SITE):
    """One site.yml run: (exit status, output, recap)."""
    args, environ = _command(twin, cwd, playbook, STOP_VMS if extra_vars is None else extra_vars, inventory)
    proc = ansible_playbook(args, cwd=cwd, env=environ, timeout=900)
    out = proc.stdout + proc.stderr
    return proc.returncode, out, recap(out)


def faulty_run(twin, cwd, rate, seed, *, extra_vars=None):
    """site.yml with seeded random faults at ``rate`` of the API calls; the faults are cleared
    afterwards. Returns ``{rc, recap, out, faults: {kind: count}, requests}``."""
    since = twin.last_seq()
    twin.fault(path="^/(api|apis|v1)/", ratio=rate, seed=seed, retry_after=1, random=RANDOM_FAULTS)
    started = time.monotonic()
    rc, out, counters = site(twin, cwd, extra_vars=extra_vars)
    seconds = time.monotonic() - started
    twin.session().delete(twin.url("/_twin/faults")).raise_for_status()
    log = [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]
    faults = {}
    for entry in log:
        if entry.get("fault"):
            faults[entry["fault"]] = faults.get(entry["fault"], 0) + 1
    return {"rc": rc, "recap": counters, "out": out, "faults": faults, "requests": len(log), "seconds": seconds}


def interrupted_run(twin, cwd, trigger, *, extra_vars=None, timeout=300.0, poll=0.02):
    """site.yml sent SIGINT (to its whole process group, as Ctrl-C does) the first time
    ``trigger(lines, twin)`` is true (``lines``: the output so far). Returns (exit status, output,
    whether the signal was sent)."""
    args, environ = _command(twin, cwd, SITE, STOP_VMS if extra_vars is None else extra_vars, LAB_INVENTORY)
    proc = subprocess.Popen([str(PLAYBOOK), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ, cwd=cwd,
                            start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    sent, deadline = False, time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if not sent and trigger(lines, twin):
            os.killpg(proc.pid, signal.SIGINT)
            sent = True
        time.sleep(poll)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(10)
    return proc.returncode, "".join(lines), sent


def after_request(method, path_end, since):
    """A trigger: the twin has served ``method`` on a path ending with ``path_end`` (stored)."""
    def trigger(lines, twin):
        return any(r["method"] == method and r["path"].endswith(path_end) and r["status"] < 400
                   and "dryRun=All" not in (r.get("query") or "") for r in twin.requests_log(since))
    return trigger


def at_task(number):
    """A trigger: the ``number``-th task (1-based) has started, i.e. every task before it is done."""
    def trigger(lines, twin):
        return sum(1 for line in lines if line.startswith("TASK [")) >= number
    return trigger


def task_names(out):
    """The task headers of a run's output, in order."""
    return [line.split("[", 1)[1].rsplit("]", 1)[0] for line in out.splitlines() if line.startswith("TASK [")]
