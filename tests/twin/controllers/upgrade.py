"""Controller of the upgrade area: what Harvester's upgrade controllers do with an Upgrade in
harvester-system (H:pkg/controller/master/upgrade: upgrade_controller.go OnChanged/OnRemove,
common.go markComplete and setNodeUpgradeStatus, image_controller.go, plan_controller.go,
job_controller.go, node_controller.go, deployment/pod controllers for the repo).

One driver task per Upgrade walks the phases, each step one write through the main resource (the
kind has no status subresource), with delays on the `--speed` clock:

1. initStatus: other Upgrades lose `harvesterhci.io/latestUpgrade`; this one gets it,
   `harvesterhci.io/upgradeState: PreparingLoggingInfra`, `status.previousVersion` = the
   server-version setting and `Completed` Unknown. `logEnabled: false`: `LogReady` False, reason
   "Disabled", message "Upgrade observability is administratively disabled", state
   LoggingInfraPrepared at once; otherwise `LogReady` Unknown, then True and LoggingInfraPrepared
   (the twin has no UpgradeLog kind or logging stack: `status.upgradeLog` stays unset).
2. The upgrade image: with `spec.version`, the Version's ISO becomes VirtualMachineImage
   `harvester-system/<upgrade name>` (label `harvesterhci.io/upgrade`, owner reference to the
   Upgrade, displayName `<upgrade>-<version>`, sourceType download, the Version's isoURL and
   isoChecksum, retry 3). Upstream v1.8 imports it with the CDI backend into a StorageClass of its
   own; the twin has no CDI, so the image keeps the default backing-image backend and the twin's
   image controller really downloads the URL (and checks the SHA-512). With `spec.image`
   (`<ns>/<name>`) that image is labelled. `status.imageID` is set and `ImageReady` is Unknown
   until the image's `Imported` is True (ImageReady True) or False (ImageReady False with the
   image's reason and message: the upgrade fails). The state label stays LoggingInfraPrepared
   meanwhile, as in upstream's current code (CreatingUpgradeImage is an older initial state).
3. The repo: state PreparingRepo, `RepoReady` Unknown, then True and state RepoPrepared.
4. Node preparation (state PreparingNodes, `NodesPrepared` Unknown, `status.repoInfo`,
   `status.singleNode` on a one-node cluster): `upgrade-config`'s imagePreloadOption strategy
   `skip` marks every node "Images preloaded" at once, `sequential` (the default) preloads one node
   at a time, `parallel` `concurrency` at a time (0 = all): "Images preloading" then
   "Images preloaded"; then `NodesPrepared` True. A Version's `minUpgradableVersion` above the
   current version fails the upgrade here (unless annotation `harvesterhci.io/skip-version-check`
   is true) with "The current version <c> is less than the minimum upgradable version <m>."
5. System services: state UpgradingSystemServices, `SystemServicesUpgraded` Unknown, then True.
   The new Harvester pods then report the new version: the server-version setting's `value`
   becomes the target version here (not at the very end), as on a real cluster, where the new
   image's HARVESTER_SERVER_VERSION is written into `value` at start-up (settings register.go
   SetAll); its `default` stays settings.go's "dev".
6. Nodes, one at a time in name order (state UpgradingNodes, `NodesUpgraded` Unknown): a node
   paused in annotation `harvesterhci.io/node-upgrade-pause-map` shows "Node-upgrade paused"
   until it is unpaused; then "Pre-draining", "Pre-drained" (RKE2 drains it: the node is cordoned),
   "Post-draining", "Waiting Reboot" (annotation `harvesterhci.io/pendingOSImage`), and after the
   reboot `nodeInfo.osImage` is `Harvester <version>`, the node is uncordoned and "Succeeded".
   Running VMIs are not moved off a cordoned node (the twin has no live migration here).
7. markComplete: `SystemServicesUpgraded` and `NodesUpgraded` True make `Completed` True and the
   state Succeeded; any of ImageReady, RepoReady, SystemServicesUpgraded, NodesUpgraded False
   makes `Completed` False and the state Failed (a failure of another kind -- Version gone,
   eligibility -- sets `Completed` False with the error text as its *reason*, as
   setUpgradeCompletedCondition does). Both set `harvesterhci.io/upgradeCleanup: Pending`; the
   post-upgrade cleanup of the latest Upgrade (the image made from the Version deleted, cordons
   lifted) then sets it to Succeeded.

Deleting an Upgrade: the wrangler finalizer `wrangler.cattle.io/harvester-upgrade-controller` stays
until the same cleanup has run (the driver stops where it is).

Injected failures, through `/_twin/environment`: `{"upgrade_failures": {KEY: "message" or
{"reason": ..., "message": ...}}}`, read when the phase is about to finish. KEY `PreparingRepo`
(RepoReady False), `PreparingNodes` (the first node being preloaded: node state Failed, NodesUpgraded
False), `UpgradingSystemServices` (SystemServicesUpgraded False), a node name (that node fails while
"Pre-draining": state Failed, NodesUpgraded False), `cleanup` (the cleanup fails: upgradeCleanup
stays Pending). The default reason is "BackoffLimitExceeded", what a failed Kubernetes Job reports.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re

from ..registry import Kind
from . import Controller, condition, set_condition

log = logging.getLogger("twin.controllers.upgrade")

GROUP = "harvesterhci.io"
NAMESPACE = "harvester-system"
FINALIZER = "wrangler.cattle.io/harvester-upgrade-controller"
STATE = "harvesterhci.io/upgradeState"
LATEST = "harvesterhci.io/latestUpgrade"
CLEANUP = "harvesterhci.io/upgradeCleanup"
UPGRADE_LABEL = "harvesterhci.io/upgrade"
PAUSE_MAP = "harvesterhci.io/node-upgrade-pause-map"
PENDING_OS = "harvesterhci.io/pendingOSImage"
SKIP_VERSION_CHECK = "harvesterhci.io/skip-version-check"
SUCCEEDED, FAILED, PENDING = "Succeeded", "Failed", "Pending"
FAILURES = "upgrade_failures"
DEFAULT_REASON = "BackoffLimitExceeded"
LOG_DISABLED = "Upgrade observability is administratively disabled"

# seconds, scaled by --speed
LOG_READY = 2.0
POLL = 0.5
REPO = 3.0
PRELOAD = 2.0
SYSTEM_SERVICES = 4.0
PRE_DRAIN = 2.0
DRAIN = 2.0
POST_DRAIN = 2.0
REBOOT = 3.0
CLEANUP_DELAY = 2.0

FAILURE_CONDITIONS = ("ImageReady", "RepoReady", "SystemServicesUpgraded", "NodesUpgraded")
VERSION_RE = re.compile(r"v\d+\.\d+\.\d+(?:-(?:rc|beta|alpha|dev)\d*)?")


class _Stop(Exception):
    """The Upgrade is gone, being deleted, or finished: the driver ends."""


def _true(obj: dict, type_: str) -> bool:
    return (condition(obj, type_) or {}).get("status") == "True"


def _false(obj: dict, type_: str) -> bool:
    return (condition(obj, type_) or {}).get("status") == "False"


def mark_complete(o: dict, now: str) -> None:
    """common.go markComplete, with the upgradeCleanup label of harvester#9264."""
    labels = o["metadata"].setdefault("labels", {})
    if _true(o, "SystemServicesUpgraded") and _true(o, "NodesUpgraded"):
        set_condition(o, "Completed", "True", now=now)
        labels[STATE] = SUCCEEDED
        labels[CLEANUP] = PENDING
    if any(_false(o, t) for t in FAILURE_CONDITIONS):
        current = condition(o, "Completed") or {}
        set_condition(o, "Completed", "False", current.get("reason", ""), current.get("message", ""), now=now)
        labels[STATE] = FAILED
        labels[CLEANUP] = PENDING


def parse_version(text: str) -> tuple[int, ...] | None:
    m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", text or "")
    return tuple(int(x) for x in m.groups()) if m else None


class UpgradeController(Controller):
    name = "harvester-upgrade-controller"
    watches = ((GROUP, "upgrades"),)
    finalizer = FINALIZER

    def __init__(self, twin):
        super().__init__(twin)
        self._drivers: dict[str, asyncio.Task] = {}
        self._cleanups: dict[str, asyncio.Task] = {}
        self._cordoned: dict[str, set[str]] = {}

    def start(self) -> None:
        self._drivers, self._cleanups, self._cordoned = {}, {}, {}
        super().start()

    # ------------------------------------------------------------------ hooks
    async def on_change(self, kind: Kind, obj: dict) -> None:
        meta = obj["metadata"]
        if meta.get("namespace") != NAMESPACE:
            return  # the controller only looks at its own namespace
        uid = meta["uid"]
        if condition(obj, "Completed") is None:
            if uid not in self._drivers:
                self._drivers[uid] = self.spawn(self._drive(kind, uid, meta["name"]))
            return
        completed = (condition(obj, "Completed") or {}).get("status")
        labels = meta.get("labels") or {}
        if completed in ("True", "False") and labels.get(LATEST) == "true" and labels.get(CLEANUP) == PENDING \
                and uid not in self._cleanups:
            self._cleanups[uid] = self.spawn(self._post_cleanup(kind, uid, meta["name"]))

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        uid = obj["metadata"]["uid"]
        self._cancel(uid)
        self._cleanup_resources(obj)

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        self._cancel(obj["metadata"]["uid"])

    def _cancel(self, uid: str) -> None:
        for tasks in (self._drivers, self._cleanups):
            task = tasks.pop(uid, None)
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    # ------------------------------------------------------------------ writing the Upgrade
    def _kind(self) -> Kind:
        return self.kind(GROUP, "upgrades")

    def _live(self, uid: str, name: str) -> dict:
        live = self.get(self._kind(), NAMESPACE, name)
        if live is None or live["metadata"]["uid"] != uid or live["metadata"].get("deletionTimestamp"):
            raise _Stop
        return live

    def _write(self, uid: str, name: str, change) -> dict:
        """Apply change(o, now) to the live Upgrade, then markComplete; _Stop when it is gone or
        has just become terminal."""
        def guarded(o):
            if o["metadata"]["uid"] == uid and not o["metadata"].get("deletionTimestamp"):
                now = self.clock.now()
                change(o, now)
                mark_complete(o, now)
        result = self.mutate(self._kind(), NAMESPACE, name, guarded)
        if result is None or result["metadata"]["uid"] != uid or result["metadata"].get("deletionTimestamp"):
            raise _Stop
        if (condition(result, "Completed") or {}).get("status") in ("True", "False"):
            raise _Stop
        return result

    def _fail_completed(self, uid: str, name: str, reason: str) -> None:
        """setUpgradeCompletedCondition(Failed, False, err.Error(), "")."""
        def change(o, now):
            o["metadata"].setdefault("labels", {})[STATE] = FAILED
            o["metadata"]["labels"][CLEANUP] = PENDING
            set_condition(o, "Completed", "False", reason, now=now)
        self._write(uid, name, change)

    def _failure(self, key: str) -> tuple[str, str] | None:
        entry = (self.store.environment.get(FAILURES) or {}).get(key)
        if entry is None:
            return None
        if isinstance(entry, dict):
            return str(entry.get("reason") or DEFAULT_REASON), str(entry.get("message") or "")
        return DEFAULT_REASON, str(entry)

    # ------------------------------------------------------------------ the phases
    async def _drive(self, kind: Kind, uid: str, name: str) -> None:
        try:
            upgrade = self._initialize(uid, name)
            if (upgrade.get("spec") or {}).get("logEnabled", True):
                await self.clock.sleep(LOG_READY)

                def log_ready(o, now):
                    set_condition(o, "LogReady", "True", now=now)
                    o["metadata"]["labels"][STATE] = "LoggingInfraPrepared"
                self._write(uid, name, log_ready)
            target = await self._image(uid, name)
            await self._repo(uid, name)
            await self._prepare_nodes(uid, name, target)
            await self._system_services(uid, name, target)
            await self._upgrade_nodes(uid, name, target)
        except _Stop:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("upgrade %s failed in the twin", name)
        finally:
            if self._drivers.get(uid) is asyncio.current_task():
                self._drivers.pop(uid, None)

    def _initialize(self, uid: str, name: str) -> dict:
        kind = self._kind()
        for other in self.store.list(kind, NAMESPACE):
            if other["metadata"]["name"] != name and (other["metadata"].get("labels") or {}).get(LATEST) == "true":
                self.mutate(kind, NAMESPACE, other["metadata"]["name"],
                            lambda o: o["metadata"].get("labels", {}).pop(LATEST, None))
        previous = self._server_version()

        def change(o, now):
            labels = o["metadata"].setdefault("labels", {})
            labels.update({STATE: "PreparingLoggingInfra", LATEST: "true"})
            o.setdefault("status", {})["previousVersion"] = previous
            set_condition(o, "Completed", "Unknown", now=now)
            if not (o.get("spec") or {}).get("logEnabled", True):
                set_condition(o, "LogReady", "False", "Disabled", LOG_DISABLED, now=now)
                labels[STATE] = "LoggingInfraPrepared"
            else:
                set_condition(o, "LogReady", "Unknown", now=now)
        return self._write(uid, name, change)

    def _server_version(self) -> str:
        setting = self.get(self.kind(GROUP, "settings"), "", "server-version") or {}
        return setting.get("value") or setting.get("default") or ""

    async def _image(self, uid: str, name: str) -> str:
        """Create or label the upgrade image, wait for it; the target version."""
        upgrade = self._live(uid, name)
        spec = upgrade.get("spec") or {}
        image_kind = self.kind(GROUP, "virtualmachineimages")
        if not spec.get("image"):
            version = self.get(self.kind(GROUP, "versions"), NAMESPACE, spec.get("version") or "")
            if version is None:
                self._fail_completed(uid, name, f'versions.harvesterhci.io "{spec.get("version")}" not found')
            image_ns, image_name = NAMESPACE, name
            if self.get(image_kind, NAMESPACE, name) is None:
                self.create(image_kind, self._iso_image(upgrade, version))
            target = spec["version"]
        else:
            parts = spec["image"].split("/")
            if len(parts) != 2:
                self._fail_completed(uid, name, f"invalid image format {spec['image']}")
            image_ns, image_name = parts
            image = self.get(image_kind, image_ns, image_name)
            if image is None:
                self._fail_completed(uid, name, f'virtualmachineimages.harvesterhci.io "{image_name}" not found')
            self.mutate(image_kind, image_ns, image_name,
                        lambda o: o["metadata"].setdefault("labels", {}).update({UPGRADE_LABEL: name}))
            found = VERSION_RE.search(" ".join(str(x) for x in ((image.get("spec") or {}).get("displayName"),
                                                                 (image.get("spec") or {}).get("url")) if x))
            target = found.group(0) if found else (upgrade.get("status") or {}).get("previousVersion", "")

        def started(o, now):
            o.setdefault("status", {})["imageID"] = f"{image_ns}/{image_name}"
            set_condition(o, "ImageReady", "Unknown", now=now)
        self._write(uid, name, started)
        while True:
            await self.clock.sleep(POLL)
            self._live(uid, name)
            image = self.get(image_kind, image_ns, image_name)
            imported = condition(image or {}, "Imported") or {}
            if imported.get("status") == "True":
                self._write(uid, name, lambda o, now: set_condition(o, "ImageReady", "True", now=now))
                return target
            if imported.get("status") == "False":
                self._write(uid, name, lambda o, now, c=imported: set_condition(
                    o, "ImageReady", "False", c.get("reason", ""), c.get("message", ""), now=now))

    def _iso_image(self, upgrade: dict, version: dict) -> dict:
        meta, vspec = upgrade["metadata"], version.get("spec") or {}
        spec = {"displayName": f"{meta['name']}-{upgrade['spec']['version']}", "sourceType": "download",
                "url": vspec.get("isoURL", ""), "retry": 3}
        if vspec.get("isoChecksum"):
            spec["checksum"] = vspec["isoChecksum"]
        return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
                "metadata": {"name": meta["name"], "namespace": NAMESPACE, "labels": {UPGRADE_LABEL: meta["name"]},
                             "ownerReferences": [{"apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade",
                                                  "name": meta["name"], "uid": meta["uid"]}]},
                "spec": spec}

    def _begin(self, uid: str, name: str, state: str, cond: str) -> None:
        def change(o, now):
            o["metadata"]["labels"][STATE] = state
            set_condition(o, cond, "Unknown", now=now)
        self._write(uid, name, change)

    async def _phase(self, uid: str, name: str, state: str, cond: str, delay: float, *, done_state: str = "",
                     on_success=None) -> None:
        """A phase that takes `delay`: state label and condition Unknown, then the condition True
        (or False with an injected failure for `state`)."""
        self._begin(uid, name, state, cond)
        await self.clock.sleep(delay)
        failure = self._failure(state)
        if failure is None and on_success is not None:
            on_success()

        def done(o, now):
            if failure:
                set_condition(o, cond, "False", failure[0], failure[1], now=now)
                return
            if done_state:
                o["metadata"]["labels"][STATE] = done_state
            set_condition(o, cond, "True", now=now)
        self._write(uid, name, done)

    async def _repo(self, uid: str, name: str) -> None:
        await self._phase(uid, name, "PreparingRepo", "RepoReady", REPO, done_state="RepoPrepared")

    def _nodes(self) -> list[str]:
        return sorted(n["metadata"]["name"] for n in self.store.list(self.kind("", "nodes")))

    def _eligibility(self, upgrade: dict, target: str) -> str | None:
        if str((upgrade["metadata"].get("annotations") or {}).get(SKIP_VERSION_CHECK, "")).lower() == "true":
            return None
        spec = upgrade.get("spec") or {}
        version = self.get(self.kind(GROUP, "versions"), NAMESPACE, spec.get("version") or "") if spec.get("version") else None
        minimum = ((version or {}).get("spec") or {}).get("minUpgradableVersion") or ""
        current = (upgrade.get("status") or {}).get("previousVersion") or ""
        if minimum and current != minimum and parse_version(current) and parse_version(minimum) \
                and parse_version(current) < parse_version(minimum):
            return f"The current version {current} is less than the minimum upgradable version {minimum}."
        return None

    def _preload_config(self) -> tuple[str, int]:
        setting = self.get(self.kind(GROUP, "settings"), "", "upgrade-config") or {}
        try:
            config = json.loads(setting.get("value") or setting.get("default") or "{}")
        except ValueError:
            config = {}
        strategy = ((config.get("imagePreloadOption") or {}).get("strategy") or {}) if isinstance(config, dict) else {}
        return strategy.get("type") or "sequential", int(strategy.get("concurrency") or 0)

    async def _prepare_nodes(self, uid: str, name: str, target: str) -> None:
        upgrade = self._live(uid, name)
        nodes = self._nodes()
        reason = self._eligibility(upgrade, target)
        if reason:
            self._fail_completed(uid, name, reason)
        current_k8s = self._kubelet_version(nodes)
        repo_info = (f"release:\n  harvester: {target}\n  harvesterChart: {target.lstrip('v')}\n  os: Harvester {target}\n"
                     f"  kubernetes: {current_k8s}\n")
        strategy, concurrency = self._preload_config()

        def preparing(o, now):
            st = o.setdefault("status", {})
            st["repoInfo"] = repo_info
            if len(nodes) == 1:
                st["singleNode"] = nodes[0]
            o["metadata"]["labels"][STATE] = "PreparingNodes"
            if strategy == "skip":
                for n in nodes:
                    self._node_state(o, n, "Images preloaded")
                set_condition(o, "NodesPrepared", "True", now=now)
            else:
                set_condition(o, "NodesPrepared", "Unknown", now=now)
        self._write(uid, name, preparing)
        if strategy == "skip":
            return
        size = 1 if strategy != "parallel" else (concurrency if 0 < concurrency <= len(nodes) else len(nodes))
        for i in range(0, len(nodes), size):
            batch = nodes[i:i + size]
            self._write(uid, name, lambda o, now, b=batch: [self._node_state(o, n, "Images preloading") for n in b])
            await self.clock.sleep(PRELOAD)
            failure = self._failure("PreparingNodes")

            def preloaded(o, now, b=batch, failure=failure):
                for n in b:
                    if failure and n == b[0]:
                        self._node_state(o, n, FAILED, *failure)
                        set_condition(o, "NodesUpgraded", "False", failure[0], failure[1], now=now)
                    else:
                        self._node_state(o, n, "Images preloaded")
            self._write(uid, name, preloaded)
        self._write(uid, name, lambda o, now: set_condition(o, "NodesPrepared", "True", now=now))

    def _kubelet_version(self, nodes: list[str]) -> str:
        for n in nodes:
            node = self.get(self.kind("", "nodes"), "", n) or {}
            version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")
            if version:
                return version
        return ""

    @staticmethod
    def _node_state(o: dict, node: str, state: str, reason: str = "", message: str = "") -> None:
        entry = {"state": state}
        if reason:
            entry["reason"] = reason
        if message:
            entry["message"] = message
        o.setdefault("status", {}).setdefault("nodeStatuses", {})[node] = entry

    async def _system_services(self, uid: str, name: str, target: str) -> None:
        await self._phase(uid, name, "UpgradingSystemServices", "SystemServicesUpgraded", SYSTEM_SERVICES,
                          on_success=lambda: self._set_server_version(target) if target else None)

    def _set_server_version(self, target: str) -> None:
        def change(o):
            o["value"] = target
        self.mutate(self.kind(GROUP, "settings"), "", "server-version", change)

    def _paused(self, uid: str, name: str, node: str) -> bool:
        upgrade = self._live(uid, name)
        try:
            pause = json.loads((upgrade["metadata"].get("annotations") or {}).get(PAUSE_MAP) or "{}")
        except ValueError:
            return False
        return isinstance(pause, dict) and pause.get(node) == "pause"

    async def _upgrade_nodes(self, uid: str, name: str, target: str) -> None:
        self._begin(uid, name, "UpgradingNodes", "NodesUpgraded")
        nodes = self._nodes()
        for node in nodes:
            if self._paused(uid, name, node):
                self._write(uid, name, lambda o, now, n=node: self._node_state(o, n, "Node-upgrade paused"))
                while self._paused(uid, name, node):
                    await self.clock.sleep(POLL)
            self._write(uid, name, lambda o, now, n=node: self._node_state(o, n, "Pre-draining"))
            await self.clock.sleep(PRE_DRAIN)
            failure = self._failure(node)
            if failure:
                def failed(o, now, n=node, f=failure):
                    self._node_state(o, n, FAILED, *f)
                    set_condition(o, "NodesUpgraded", "False", f[0], f[1], now=now)
                self._write(uid, name, failed)
            self._write(uid, name, lambda o, now, n=node: self._node_state(o, n, "Pre-drained"))
            self._cordon(uid, node, True)
            await self.clock.sleep(DRAIN)
            self._write(uid, name, lambda o, now, n=node: self._node_state(o, n, "Post-draining"))
            await self.clock.sleep(POST_DRAIN)
            os_image = f"Harvester {target}"
            self._annotate_node(node, {PENDING_OS: os_image})
            self._write(uid, name, lambda o, now, n=node: self._node_state(o, n, "Waiting Reboot"))
            await self.clock.sleep(REBOOT)
            self._rebooted(node, os_image)
            self._cordon(uid, node, False)
            last = node == nodes[-1]

            def succeeded(o, now, n=node, last=last):
                self._node_state(o, n, SUCCEEDED)
                if last and all(s.get("state") == SUCCEEDED for s in o["status"]["nodeStatuses"].values()):
                    set_condition(o, "NodesUpgraded", "True", now=now)
            self._write(uid, name, succeeded)

    # ------------------------------------------------------------------ nodes
    def _cordon(self, uid: str, node: str, on: bool) -> None:
        def change(o):
            o.setdefault("spec", {})
            if on:
                o["spec"]["unschedulable"] = True
            else:
                o["spec"].pop("unschedulable", None)
        self.mutate(self.kind("", "nodes"), "", node, change)
        cordoned = self._cordoned.setdefault(uid, set())
        (cordoned.add if on else cordoned.discard)(node)

    def _annotate_node(self, node: str, annotations: dict) -> None:
        self.mutate(self.kind("", "nodes"), "", node,
                    lambda o: o["metadata"].setdefault("annotations", {}).update(annotations))

    def _rebooted(self, node: str, os_image: str) -> None:
        """The node comes back with the new OS (its kubelet reports it in status.nodeInfo)."""
        node_kind = self.kind("", "nodes")
        self.mutate(node_kind, "", node, lambda o: o["metadata"].get("annotations", {}).pop(PENDING_OS, None))
        self.mutate(node_kind, "", node, lambda o: o.setdefault("status", {}).setdefault("nodeInfo", {}).update(osImage=os_image),
                    status=True)

    # ------------------------------------------------------------------ cleanup
    def _cleanup_resources(self, upgrade: dict) -> None:
        """Repo.Cleanup and the rest of cleanup(): the image made from the Version, cordons this
        twin put on nodes, the pending OS annotation."""
        meta = upgrade["metadata"]
        image_kind = self.kind(GROUP, "virtualmachineimages")
        image = self.get(image_kind, NAMESPACE, meta["name"])
        if image is not None and any(r.get("uid") == meta["uid"] for r in image["metadata"].get("ownerReferences") or []):
            self.delete(image_kind, NAMESPACE, meta["name"])
        for node in sorted(self._cordoned.pop(meta["uid"], set())):
            def lift(o):
                o.get("spec", {}).pop("unschedulable", None)
                o["metadata"].get("annotations", {}).pop(PENDING_OS, None)
            self.mutate(self.kind("", "nodes"), "", node, lift)

    async def _post_cleanup(self, kind: Kind, uid: str, name: str) -> None:
        try:
            await self.clock.sleep(CLEANUP_DELAY)
            live = self.get(kind, NAMESPACE, name)
            if live is None or live["metadata"]["uid"] != uid or live["metadata"].get("deletionTimestamp"):
                return
            if self._failure("cleanup"):
                log.info("%s: post-upgrade cleanup of %s failed (injected); upgradeCleanup stays Pending", self.name, name)
                return
            self._cleanup_resources(live)

            def done(o):
                if o["metadata"]["uid"] == uid:
                    o["metadata"].setdefault("labels", {})[CLEANUP] = SUCCEEDED
            self.mutate(kind, NAMESPACE, name, done)
        finally:
            if self._cleanups.get(uid) is asyncio.current_task():
                self._cleanups.pop(uid, None)


CONTROLLERS: list = [UpgradeController]
