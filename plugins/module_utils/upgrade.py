# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upgrading Harvester through its Upgrade object, the way the UI does it, with Harvester's
pre-flight done first and the progress followed to the end. The flow of ``harvester_upgrade``:

    result = upgrade.run(module.client, params)

Check mode is the client's (``client.dry_run``): the writes are dry runs and nothing is followed.

Facts (harvester-api.md §6; harvester pkg/webhook/resources/upgrade/validator.go,
pkg/controller/master/upgrade, pkg/webhook/resources/version/validator.go):

- An upgrade is an ``Upgrade`` in ``harvester-system`` made with ``generateName: hvst-upgrade-``
  and ``spec.version`` (a ``Version`` of that namespace: ``isoURL``, ``isoChecksum`` as lower-case
  SHA-512, ``releaseDate``, ``minUpgradableVersion``) or ``spec.image`` (``<ns>/<name>`` of a
  VirtualMachineImage holding the ISO), and ``spec.logEnabled``.
- Harvester's webhook refuses the create while another Upgrade is not Succeeded or Failed (label
  ``harvesterhci.io/upgradeState``), while one waits for its post-upgrade cleanup (label
  ``harvesterhci.io/upgradeCleanup: Pending``), with a degraded Longhorn volume (3+ nodes), a
  VirtualMachineBackup in progress, a node not Ready or unschedulable (cordoned, in maintenance),
  or a single-replica volume; one refusal at a time. This module checks all of them first and
  names every blocker in one message, before any write.
- The controller moves the state label through PreparingLoggingInfra, LoggingInfraPrepared,
  PreparingRepo, RepoPrepared, PreparingNodes, UpgradingSystemServices, UpgradingNodes to
  Succeeded or Failed; ``status.nodeStatuses[node].state`` goes "Images preloading", "Images
  preloaded", "Pre-draining", "Pre-drained", "Post-draining", "Waiting Reboot", "Succeeded" (or
  "Failed", "Node-upgrade paused"). ``Completed`` True is success; False is failure, caused by
  ImageReady, RepoReady, SystemServicesUpgraded or NodesUpgraded False (their reason and message
  say why) or carrying the error itself in its reason.
- The ``server-version`` setting is the version Harvester runs.

Following: a watch on the one Upgrade, read event by event as the server sends them, in windows
of ``WATCH_WINDOW`` seconds (so no state is missed, however short); each event's state label and
node states are reported to ``client.progress`` the moment it arrives.
"""

from __future__ import annotations

import contextlib
import re
import time

from . import kinds, validate
from .errors import Gone, HarvesterError
from .image import checksum as sha512_checksum
from .image import url as http_url
from .objects import condition, metadata
from .validate import ValidationError
from .wait import should_wait, until

KIND = kinds.UPGRADE
VERSION_KIND = kinds.VERSION
NAMESPACE = kinds.HARVESTER_NAMESPACE
GENERATE_NAME = "hvst-upgrade-"
STATE = "harvesterhci.io/upgradeState"
CLEANUP = "harvesterhci.io/upgradeCleanup"
LATEST = "harvesterhci.io/latestUpgrade"
MAINTAIN_STATUS = "harvesterhci.io/maintain-status"
SUCCEEDED, FAILED, PENDING = "Succeeded", "Failed", "Pending"
TERMINAL = (SUCCEEDED, FAILED)
FAILURE_CONDITIONS = ("ImageReady", "RepoReady", "NodesPrepared", "SystemServicesUpgraded", "NodesUpgraded")
WATCH_WINDOW = 30  # seconds per watch request while following (events are read as they arrive)
SHOWN = 10  # objects named per kind of blocker


class PreflightFailed(HarvesterError):
    """Harvester would refuse the upgrade; ``blockers`` says every reason. Raised before any write."""

    def __init__(self, message, blockers):
        super().__init__(message)
        self.blockers = list(blockers)

    def as_dict(self):
        return {"blockers": self.blockers}


class UpgradeFailed(HarvesterError):
    """The upgrade failed or could not be followed to its end; ``result`` holds what was seen."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = dict(result)

    def as_dict(self):
        return self.result


# --- input ---------------------------------------------------------------------------------
def image_ref(value, option="image"):
    """``<namespace>/<name>`` of a VirtualMachineImage."""
    text = "" if value is None else str(value)
    ns, slash, name = text.partition("/")
    if not slash or "/" in name:
        raise ValidationError(option, f"{text!r} is not <namespace>/<name> of a VirtualMachineImage")
    validate.name(ns, f"{option} namespace")
    validate.subdomain(name, option)
    return text


def check(params):
    """Every input check, before any request (raises ``ValidationError``)."""
    version, image = params.get("version"), params.get("image")
    if version is not None:
        validate.subdomain(version, "version")
    if image is not None:
        image_ref(image)
    for option in ("iso_url", "iso_checksum", "release_date"):
        if params.get(option) is not None and version is None:
            raise ValidationError(option, "only with version (it describes the Version to create)")
        if params.get(option) is not None and params.get("state") == "absent":
            raise ValidationError(option, "only with state=present")
    if params.get("iso_url") is not None:
        http_url(params["iso_url"], "iso_url")
    if params.get("iso_checksum") is not None:
        if params.get("iso_url") is None:
            raise ValidationError("iso_checksum", "only with iso_url (it is the checksum of that ISO)")
        sha512_checksum(str(params["iso_checksum"]).strip().lower(), "iso_checksum")
    if params.get("release_date") is not None and params.get("iso_url") is None:
        raise ValidationError("release_date", "only with iso_url")
    validate.wait_timeout(params)


# --- reading an Upgrade ---------------------------------------------------------------------
def _labels(obj):
    return metadata(obj).get("labels") or {}


def name_of(obj):
    return metadata(obj).get("name") or ""


def state(obj):
    """The ``harvesterhci.io/upgradeState`` label ('' before the controller set it)."""
    return _labels(obj).get(STATE) or ""


def cleanup(obj):
    return _labels(obj).get(CLEANUP) or ""


def is_terminal(obj):
    return state(obj) in TERMINAL


def node_statuses(obj):
    """``{node: {state, reason, message}}`` as the Upgrade shows them."""
    out = {}
    for node, st in (((obj or {}).get("status") or {}).get("nodeStatuses") or {}).items():
        st = st or {}
        out[node] = {"state": st.get("state") or "", "reason": st.get("reason") or "", "message": st.get("message") or ""}
    return out


def completed(obj):
    """True (Succeeded), False (Failed) or None (not finished)."""
    c = condition(obj, "Completed") or {}
    if c.get("status") == "True" or state(obj) == SUCCEEDED:
        return True
    if c.get("status") == "False" or state(obj) == FAILED:
        return False
    return None


def target_of(obj):
    """The version an Upgrade goes to: ``spec.version``, or for an image the release its repo
    info names."""
    spec = (obj or {}).get("spec") or {}
    if spec.get("version"):
        return spec["version"]
    found = re.search(r"harvester:\s*(\S+)", ((obj or {}).get("status") or {}).get("repoInfo") or "")
    return found.group(1).strip("'\"") if found else ""


def failure(obj):
    """Why a finished Upgrade failed, in Harvester's words: the first failing condition's
    message (or reason), else Completed's, else a failed node's."""
    for type_ in FAILURE_CONDITIONS:
        c = condition(obj, type_) or {}
        if c.get("status") == "False" and (c.get("message") or c.get("reason")):
            text = c.get("message") or c.get("reason")
            failed = [n for n, st in node_statuses(obj).items() if st["state"] == FAILED]
            if type_ == "NodesUpgraded" and failed:
                return f"{type_}: node {failed[0]}: {text}"
            return f"{type_}: {text}"
    c = condition(obj, "Completed") or {}
    if c.get("message") or c.get("reason"):
        return f"Completed: {c.get('message') or c.get('reason')}"
    for node, st in node_statuses(obj).items():
        if st["state"] == FAILED:
            return f"node {node}: {st['message'] or st['reason'] or 'failed'}"
    return "the upgrade failed without a message"


def summary(obj):
    """One line for messages: state and the node states."""
    if obj is None:
        return "no upgrade"
    nodes = ", ".join(f"{n} {st['state']}" for n, st in sorted(node_statuses(obj).items()))
    return f"state {state(obj) or '<not set yet>'}" + (f"; nodes: {nodes}" if nodes else "")


def matches(obj, params):
    """The Upgrade goes where the params ask (same version, or same image)."""
    spec = (obj or {}).get("spec") or {}
    if params.get("image"):
        return spec.get("image") == params["image"]
    return spec.get("version") == params.get("version") and not spec.get("image")


# --- progress -------------------------------------------------------------------------------
def report(progress, obj):
    """One look at the Upgrade into ``progress`` (``progress.Progress``): each new phase (state
    label) and each node's new state, with the time the module saw it. The phase comes after the
    node states when it is the end: Harvester finishes the last node before the upgrade."""
    name = name_of(obj)
    phase = [(f"upgrade {name}: {state(obj)}", "phase", {"state": state(obj)})] if state(obj) else []
    nodes = []
    for node, st in sorted(node_statuses(obj).items()):
        if st["state"]:
            extra = {k: st[k] for k in ("reason", "message") if st[k]}
            why = f" ({': '.join(extra.values())})" if extra else ""
            nodes.append((f"upgrade {name}: node {node} {st['state']}{why}", f"node/{node}",
                          dict(node=node, state=st["state"], **extra)))
    for message, key, fields in (nodes + phase if is_terminal(obj) else phase + nodes):
        progress.report(message, key=key, **fields)


# --- reading the cluster --------------------------------------------------------------------
def server_version(client):
    setting = client.get(kinds.HARVESTER_SETTING.path(name="server-version"), missing_ok=True) or {}
    return setting.get("value") or setting.get("default") or ""


def list_upgrades(client):
    return sorted(client.list(KIND.path(NAMESPACE)), key=lambda u: (metadata(u).get("creationTimestamp") or "", name_of(u)))


def latest(upgrades, params=None):
    """The newest Upgrade (the one labelled latest first), optionally only among those going
    where the params ask."""
    pool = [u for u in upgrades if params is None or matches(u, params)]
    labelled = [u for u in pool if _labels(u).get(LATEST) == "true"]
    return (labelled or pool or [None])[-1]


def _ready(node):
    c = condition(node, "Ready")
    return not c or c.get("status") == "True"


def _parse_version(text):
    found = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(text or ""))
    return tuple(int(x) for x in found.groups()) if found else None


def _shown(names):
    names = list(names)
    return ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _volume_label(volume):
    ks = ((volume.get("status") or {}).get("kubernetesStatus") or {})
    pvc = f" (PVC {ks.get('namespace')}/{ks.get('pvcName')})" if ks.get("pvcName") else ""
    return f"{name_of(volume)}{pvc}"


def _backup_in_progress(backup):
    status = backup.get("status") or {}
    return not status.get("error") and status.get("readyToUse") is not True


def version_blockers(params, version, current):
    """What is wrong with the Version (missing without iso_url, different from the options,
    a downgrade or below its minimum upgradable version)."""
    name = params["version"]
    if version is None:
        if params.get("iso_url") is None:
            return [f"Version {name} does not exist in {NAMESPACE}; give iso_url (and iso_checksum) to create it"]
        spec = {"minUpgradableVersion": None}
    else:
        spec = version.get("spec") or {}
        problems = []
        if params.get("iso_url") is not None and spec.get("isoURL") != params["iso_url"]:
            problems.append(f"Version {name} exists with isoURL {spec.get('isoURL')}, not {params['iso_url']} "
                            "(this module does not change Versions)")
        wanted = str(params["iso_checksum"]).strip().lower() if params.get("iso_checksum") else None
        if wanted and (spec.get("isoChecksum") or "") != wanted:
            problems.append(f"Version {name} exists with another isoChecksum (this module does not change Versions)")
        if problems:
            return problems
    problems = []
    target, running = _parse_version(name), _parse_version(current)
    if target and running and target < running:
        problems.append(f"{name} is older than the running {current}; Harvester refuses downgrades")
    minimum = spec.get("minUpgradableVersion")
    if minimum and running and _parse_version(minimum) and running < _parse_version(minimum) and current != minimum:
        problems.append(f"The current version {current} is less than the minimum upgradable version {minimum}.")
    return problems


def preflight(client, params, upgrades, current):
    """Every reason Harvester would refuse (or soon fail) this upgrade, read from the cluster:
    ``(blockers, version object or None)``."""
    blockers, version = [], None
    for u in upgrades:
        if not is_terminal(u):
            blockers.append(f"upgrade {name_of(u)} to {target_of(u) or 'an image'} is in progress ({summary(u)})")
        elif cleanup(u) == PENDING:
            blockers.append(f"upgrade {name_of(u)} waits for its post-upgrade cleanup (harvesterhci.io/upgradeCleanup=Pending)")
    if params.get("version"):
        version = client.get(VERSION_KIND.path(NAMESPACE, params["version"]), missing_ok=True)
        blockers += version_blockers(params, version, current)
    else:
        ns, dummy, image_name = params["image"].partition("/")
        if client.get(kinds.VM_IMAGE.path(ns, image_name), missing_ok=True) is None:
            blockers.append(f"VirtualMachineImage {params['image']} does not exist")
    nodes = sorted(client.list(kinds.NODE.path()), key=name_of)
    for node in nodes:
        if not _ready(node):
            blockers.append(f"node {name_of(node)} is not Ready")
        if (node.get("spec") or {}).get("unschedulable"):
            maintenance = (metadata(node).get("annotations") or {}).get(MAINTAIN_STATUS)
            why = f"in maintenance mode (maintain-status {maintenance})" if maintenance else "cordoned (unschedulable)"
            blockers.append(f"node {name_of(node)} is {why}")
    volumes = sorted(client.list(kinds.LONGHORN_VOLUME.path(kinds.LONGHORN_NAMESPACE)), key=name_of)
    degraded = [_volume_label(v) for v in volumes if (v.get("status") or {}).get("robustness") == "degraded"]
    if degraded and len(nodes) >= 3:
        blockers.append(f"Longhorn volume {_shown(degraded)} is degraded")
    single = [_volume_label(v) for v in volumes if str((v.get("spec") or {}).get("numberOfReplicas", "")) == "1"]
    if single and len(nodes) != 1:
        blockers.append(f"Longhorn volume {_shown(single)} has a single replica")
    backups = [f"{metadata(b).get('namespace')}/{name_of(b)}" for b in client.list(kinds.VM_BACKUP.path())
               if _backup_in_progress(b)]
    if backups:
        blockers.append(f"VirtualMachineBackup {_shown(sorted(backups))} is in progress")
    return blockers, version


# --- writing ----------------------------------------------------------------------------------
def version_object(params):
    spec = {"isoURL": params["iso_url"]}
    if params.get("iso_checksum"):
        spec["isoChecksum"] = str(params["iso_checksum"]).strip().lower()
    if params.get("release_date"):
        spec["releaseDate"] = str(params["release_date"])
    return VERSION_KIND.new(params["version"], NAMESPACE, spec=spec)


def upgrade_object(params):
    spec = {"image": params["image"]} if params.get("image") else {"version": params["version"]}
    spec["logEnabled"] = bool(params.get("log_enabled", True))
    return {"apiVersion": KIND.api_version, "kind": KIND.kind,
            "metadata": {"generateName": GENERATE_NAME, "namespace": NAMESPACE}, "spec": spec}


# --- following ------------------------------------------------------------------------------
class _Expired(Exception):
    """The watch's resourceVersion is too old (410 or an ERROR event): read the object again."""


def follow(client, obj, timeout, clock=None):
    """Watch the Upgrade until it has Completed (True or False); the last version seen. Each event
    is reported the moment it arrives. Raises ``UpgradeFailed`` when it is deleted or the time is up."""
    clock = clock or time.monotonic
    name = name_of(obj)
    path = KIND.path(NAMESPACE)
    rv = metadata(obj).get("resourceVersion")
    deadline = clock() + timeout
    progress = client.progress
    report(progress, obj)
    while completed(obj) is None:
        remaining = deadline - clock()
        if remaining <= 0:
            raise UpgradeFailed(f"timed out after {timeout:g} s following upgrade {name}; last seen: {summary(obj)}",
                                result_of(obj, progress))
        window = max(1, min(WATCH_WINDOW, int(remaining + 0.999)))
        query = {"fieldSelector": f"metadata.name={name}", "timeoutSeconds": window}
        if rv:
            query["resourceVersion"] = rv
        try:
            with contextlib.closing(client.watch(path, query=query, timeout=window + 30)) as events:
                for event in events:
                    if event.get("type") == "ERROR":
                        raise _Expired()
                    if event.get("type") == "DELETED":
                        obj = None
                        break
                    obj = event.get("object") or {}
                    rv = metadata(obj).get("resourceVersion") or rv
                    report(progress, obj)
                    if completed(obj) is not None:
                        break
        except (Gone, _Expired):
            obj = client.get(KIND.path(NAMESPACE, name), missing_ok=True)
            if obj is not None:
                rv = metadata(obj).get("resourceVersion")
                report(progress, obj)
        if obj is None:
            raise UpgradeFailed(f"upgrade {name} was deleted while it was followed", {"name": name, "progress": progress.events})
    return obj


def result_of(obj, progress, **extra):
    """The module's return values for one Upgrade."""
    result = {"upgrade": obj, "name": name_of(obj), "state": state(obj), "cleanup": cleanup(obj),
              "previous_version": ((obj or {}).get("status") or {}).get("previousVersion") or "",
              "node_statuses": node_statuses(obj), "progress": list(progress.events) if progress else []}
    result.update(extra)
    return result


# --- the flow ---------------------------------------------------------------------------------
def present(client, params, clock=None):
    """Start (or follow) the upgrade and wait for its end; the module result."""
    current = server_version(client)
    upgrades = list_upgrades(client)
    progress = client.progress
    wanted = params.get("version")
    running = [u for u in upgrades if not is_terminal(u) and matches(u, params)]
    if running:  # started before (by this module or anyone): follow it, never a second one
        return _finish(client, running[-1], params, progress, changed=False, clock=clock, before=current)
    last = latest(upgrades, params)
    if (wanted and current == wanted and completed(last) is not False) or (params.get("image") and completed(last) is True):
        result = result_of(last, None, changed=False, version=wanted or target_of(last), server_version=current,
                           version_created=False, blockers=[])
        result["diff"] = {"before": {"server_version": current}, "after": {"server_version": current}}
        return result
    blockers, version = preflight(client, params, upgrades, current)
    if blockers:
        raise PreflightFailed(f"cannot upgrade to {wanted or params['image']}: {'; '.join(blockers)}; nothing was changed",
                              blockers)
    created_version = False
    if wanted and version is None:
        client.create(VERSION_KIND.path(NAMESPACE), version_object(params))
        created_version = True
    if client.dry_run and created_version:
        # check mode: the Version was only dry-run, so a dry run of the Upgrade would be refused for want
        # of it; report the Upgrade that would be created instead
        obj = upgrade_object(params)
    else:
        obj = client.create(KIND.path(NAMESPACE), upgrade_object(params))
    return _finish(client, obj, params, progress, changed=True, clock=clock, version_created=created_version,
                   before=current)


def _finish(client, obj, params, progress, *, changed, clock, before, version_created=False):
    following = should_wait(client, params)
    if following:
        try:
            obj = follow(client, obj, params.get("wait_timeout") or 7200, clock=clock)
        except UpgradeFailed as e:  # timed out or deleted: still say what this run wrote
            e.result.update(changed=changed, version_created=version_created)
            raise
    else:
        report(progress, obj)
    target = params.get("version") or target_of(obj)
    after = server_version(client) if following else before
    result = result_of(obj, progress, changed=changed, version=target, server_version=after,
                       version_created=version_created, blockers=[])
    if completed(obj) is False:
        raise UpgradeFailed(f"upgrade {name_of(obj)} to {target or params.get('image')} failed: {failure(obj)}", result)
    result["diff"] = {"before": {"server_version": before},
                      "after": {"server_version": after if following else (target or after)}}
    return result


def absent(client, params, clock=None, sleep=None):
    """Delete the Upgrades going where the params ask (a running one is cancelled: Harvester
    cleans up; it refuses while nodes are being upgraded), waiting until they are gone."""
    names = [name_of(u) for u in list_upgrades(client) if matches(u, params)]
    for name in names:
        client.delete(KIND.path(NAMESPACE, name), missing_ok=True)
    if names and should_wait(client, params):
        until(lambda: [n for n in names if client.get(KIND.path(NAMESPACE, n), missing_ok=True) is not None],
              lambda left: not left, timeout=params.get("wait_timeout") or 7200, what=f"upgrade {_shown(names)} to be deleted",
              describe=lambda left: f"still there: {_shown(left)}", clock=clock, sleep=sleep)
    return {"changed": bool(names), "deleted": names, "diff": {"before": {"upgrades": names}, "after": {"upgrades": []}}}


def task(module):
    """harvester_upgrade's ``run(module)``: ``check`` before the client exists (bad input makes no
    request), then ``run``."""
    check(module.params)
    return run(module.client, module.params)


def run(client, params, clock=None, sleep=None):
    check(params)
    if params.get("state") == "absent":
        return absent(client, params, clock=clock, sleep=sleep)
    return present(client, params, clock=clock)
