"""Webhooks of the upgrade area: Harvester's Upgrade mutator and validator and its Version
validator (v1.8).

Modelled on harvester/harvester pkg/webhook/resources/upgrade (validator.go, mutator.go) and
pkg/webhook/resources/version/validator.go; the answers use Harvester's werror helpers
(NewBadRequest = 400, NewConflict = 409, NewInvalidError(msg, "") = 422 with one cause):

Upgrade, CREATE (in this order, the first refusal wins, as upstream returns at the first error):
- neither `spec.version` nor `spec.image`: 400 "version or image field are not specified.";
- only `spec.version`: the Version must exist in the Upgrade's namespace, else 400
  "version <v> is not found";
- another Upgrade of the namespace whose `harvesterhci.io/upgradeState` label is not Succeeded
  or Failed (a missing label counts, as a NotIn selector matches it): 409 "cannot proceed until
  previous upgrade "<name>" completes";
- an Upgrade whose `harvesterhci.io/upgradeCleanup` label is Pending (harvester/harvester#9264,
  v1.7+): 409. The exact wording of that refusal was not found in the stored upstream sources; the
  twin words it like the previous one: "cannot proceed until previous upgrade "<name>" cleanup
  completes";
- annotation `harvesterhci.io/skipWebhook: "true"` (any case) skips the rest;
- `checkResources`: a degraded Longhorn volume (only with 3 or more nodes): 400 "there are
  degraded volumes, please check all volumes are healthy"; a VirtualMachineBackup in progress
  (no `status.error`, `readyToUse` not true): 400 "please wait until all vmbackups are stopped,
  for example <ns>/<name> is under processing"; per node (in name order) not Ready: 400 "node <n>
  is not ready, please wait for it to be ready", cordoned: 400 "node <n> is unschedulable, please
  wait for it to be schedulable"; single-replica volumes (not on a one-node cluster): 422
  "Following PVCs with single-replica volume, even the volume is detached, upgrade may have
  potential data integrity concerns: <ns/pvc>, ..." (with annotation
  `harvesterhci.io/skipSingleReplicaDetachedVol`: only attached/attaching/creating ones, "Following
  PVCs with active single-replica volume, please consider shutdown the corresponding workload before
  upgrade: ...").
  Not modelled (the twin has no such objects or endpoints): the fleet-local/local provisioning
  Cluster phase, ScheduleVMBackups, ManagedCharts, the kubelet image-GC disk-space projection,
  fleet-local CAPI Machines and their node matching, non-live-migratable VMs
  (`upgrade-config.restoreVM` false) and the kube-apiserver certificate expiry.

Upgrade, DELETE: skipped with the skipWebhook annotation; refused while `NodesUpgraded` is Unknown
(400 "node upgrade is in progressing, please wait for it to be provisioned"). The fleet-local
cluster "provisioning" refusal is not modelled.

Upgrade mutator, CREATE: when the `upgrade-config` setting's `nodeUpgradeOption.strategy.mode` is
`manual`, annotation `harvesterhci.io/node-upgrade-pause-map` = JSON `{node: "pause"}` for the
configured `pauseNodes` that exist, or every node when none are configured.

Version, CREATE and UPDATE: annotation `harvesterhci.io/skipGarbageCollectionThresholdCheck` must
parse as a Go bool and `harvesterhci.io/minCertsExpirationInDay` as an int above 0 (400 "invalid
value <v> for annotation <a>[, it should be greater than 0]"); `spec.isoChecksum`, when set, must
be lower-case SHA-512 hex (400 "invalid isoChecksum <c>").
"""
from __future__ import annotations

import json
import re

from . import Chain, Request, denied

GROUP = "harvesterhci.io"
VALIDATOR = "validator.harvesterhci.io"
MUTATOR = "mutator.harvesterhci.io"

STATE_LABEL = "harvesterhci.io/upgradeState"
CLEANUP_LABEL = "harvesterhci.io/upgradeCleanup"
SKIP_WEBHOOK = "harvesterhci.io/skipWebhook"
SKIP_SINGLE_REPLICA = "harvesterhci.io/skipSingleReplicaDetachedVol"
PAUSE_MAP = "harvesterhci.io/node-upgrade-pause-map"
SKIP_GC_CHECK = "harvesterhci.io/skipGarbageCollectionThresholdCheck"
MIN_CERTS_DAYS = "harvesterhci.io/minCertsExpirationInDay"
TERMINAL = ("Succeeded", "Failed")
PENDING = "Pending"
SHA512 = re.compile(r"^[a-f0-9]{128}$")
GO_BOOLS = ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False")
GO_INT = re.compile(r"^[+-]?[0-9]+$")
ACTIVE_VOLUME_STATES = ("creating", "attached", "attaching")


def _list(req: Request, group: str, plural: str, namespace: str | None = None) -> list[dict]:
    kind = req.store.registry.by_plural(group, plural)
    return req.store.list(kind, namespace) if kind is not None else []


def _labels(obj: dict) -> dict:
    return obj["metadata"].get("labels") or {}


def _annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def _by_name(objs: list[dict]) -> list[dict]:
    return sorted(objs, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def condition_status(obj: dict, type_: str) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c.get("status") or ""
    return ""


def _skipped(obj: dict) -> bool:
    return str(_annotations(obj).get(SKIP_WEBHOOK, "")).lower() == "true"


# ---------------------------------------------------------------------------------- Upgrade
def validate_upgrade(req: Request) -> None:
    if req.operation == "CREATE" and req.obj is not None:
        _validate_create(req, req.obj)
    elif req.operation == "DELETE" and req.old is not None:
        _validate_delete(req.old)


def _validate_create(req: Request, upgrade: dict) -> None:
    spec = upgrade.get("spec") or {}
    if not spec.get("version") and not spec.get("image"):
        raise denied(VALIDATOR, "version or image field are not specified.")
    if spec.get("version") and not spec.get("image"):
        names = {v["metadata"]["name"] for v in _list(req, GROUP, "versions", req.namespace)}
        if spec["version"] not in names:
            raise denied(VALIDATOR, f"version {spec['version']} is not found")
    others = _by_name(_list(req, GROUP, "upgrades", req.namespace))
    running = [u for u in others if _labels(u).get(STATE_LABEL) not in TERMINAL]
    if running:
        raise denied(VALIDATOR, f'cannot proceed until previous upgrade "{running[0]["metadata"]["name"]}" completes',
                     code=409, reason="Conflict")
    pending = [u for u in others if _labels(u).get(CLEANUP_LABEL) == PENDING]
    if pending:
        raise denied(VALIDATOR, f'cannot proceed until previous upgrade "{pending[0]["metadata"]["name"]}" cleanup completes',
                     code=409, reason="Conflict")
    if _skipped(upgrade):
        return
    _check_resources(req, upgrade)


def _check_resources(req: Request, upgrade: dict) -> None:
    nodes = _by_name(_list(req, "", "nodes"))
    volumes = _by_name(_list(req, "longhorn.io", "volumes", "longhorn-system"))
    if len(nodes) >= 3 and any((v.get("status") or {}).get("robustness") == "degraded" for v in volumes):
        raise denied(VALIDATOR, "there are degraded volumes, please check all volumes are healthy")
    for backup in _by_name(_list(req, GROUP, "virtualmachinebackups")):
        if backup_in_progress(backup):
            meta = backup["metadata"]
            raise denied(VALIDATOR, "please wait until all vmbackups are stopped, for example "
                                    f"{meta.get('namespace')}/{meta['name']} is under processing")
    for node in nodes:
        name = node["metadata"]["name"]
        if condition_status(node, "Ready") not in ("", "True"):
            raise denied(VALIDATOR, f"node {name} is not ready, please wait for it to be ready")
        if (node.get("spec") or {}).get("unschedulable"):
            raise denied(VALIDATOR, f"node {name} is unschedulable, please wait for it to be schedulable")
    if len(nodes) != 1:
        _check_single_replica_volumes(upgrade, volumes)


def backup_in_progress(backup: dict) -> bool:
    """Harvester's IsBackupProgressing: no error, and readyToUse not (yet) true."""
    status = backup.get("status") or {}
    return not status.get("error") and status.get("readyToUse") is not True


def _check_single_replica_volumes(upgrade: dict, volumes: list[dict]) -> None:
    single = [v for v in volumes if str((v.get("spec") or {}).get("numberOfReplicas", "")) == "1"]
    if _annotations(upgrade).get(SKIP_SINGLE_REPLICA):
        single = [v for v in single if (v.get("status") or {}).get("state") in ACTIVE_VOLUME_STATES]
        text = "Following PVCs with active single-replica volume, please consider shutdown the corresponding workload before upgrade"
    else:
        text = ("Following PVCs with single-replica volume, even the volume is detached, upgrade may have potential data "
                "integrity concerns")
    if single:
        names = []
        for v in single:
            ks = (v.get("status") or {}).get("kubernetesStatus") or {}
            names.append(f"{ks.get('namespace', '')}/{ks.get('pvcName', '')}")
        raise denied(VALIDATOR, f"{text}: {', '.join(names)}", code=422, reason="Invalid", field="")


def _validate_delete(upgrade: dict) -> None:
    if _skipped(upgrade):
        return
    if condition_status(upgrade, "NodesUpgraded") == "Unknown":
        raise denied(VALIDATOR, "node upgrade is in progressing, please wait for it to be provisioned")


def mutate_upgrade(req: Request) -> None:
    """patchPauseNodeAnnotations: in the manual node-upgrade mode, pause the configured nodes
    (or all of them)."""
    if req.operation != "CREATE" or req.obj is None:
        return
    config = _upgrade_config(req)
    strategy = ((config.get("nodeUpgradeOption") or {}).get("strategy") or {})
    if strategy.get("mode") != "manual":
        return
    nodes = sorted(n["metadata"]["name"] for n in _list(req, "", "nodes"))
    wanted = strategy.get("pauseNodes") or []
    paused = [n for n in nodes if n in wanted] if wanted else nodes
    if paused:
        meta = req.obj["metadata"]
        meta["annotations"] = dict(meta.get("annotations") or {},
                                   **{PAUSE_MAP: json.dumps(dict.fromkeys(paused, "pause"), separators=(",", ":"))})


def _upgrade_config(req: Request) -> dict:
    for s in _list(req, GROUP, "settings"):
        if s["metadata"]["name"] == "upgrade-config":
            try:
                value = json.loads(s.get("value") or s.get("default") or "{}")
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}


# ---------------------------------------------------------------------------------- Version
def validate_version(req: Request) -> None:
    if req.operation not in ("CREATE", "UPDATE") or req.obj is None:
        return
    annotations = _annotations(req.obj)
    if SKIP_GC_CHECK in annotations and annotations[SKIP_GC_CHECK] not in GO_BOOLS:
        raise denied(VALIDATOR, f"invalid value {annotations[SKIP_GC_CHECK]} for annotation {SKIP_GC_CHECK}")
    if MIN_CERTS_DAYS in annotations:
        value = annotations[MIN_CERTS_DAYS]
        if not GO_INT.match(value):
            raise denied(VALIDATOR, f"invalid value {value} for annotation {MIN_CERTS_DAYS}")
        if int(value) <= 0:
            raise denied(VALIDATOR, f"invalid value {value} for annotation {MIN_CERTS_DAYS}, it should be greater than 0")
    checksum = (req.obj.get("spec") or {}).get("isoChecksum") or ""
    if checksum and not SHA512.match(checksum):
        raise denied(VALIDATOR, f"invalid isoChecksum {checksum}")


def register(chain: Chain) -> None:
    chain.mutate_with(GROUP, "Upgrade", mutate_upgrade)
    chain.validate_with(GROUP, "Upgrade", validate_upgrade)
    chain.validate_with(GROUP, "Version", validate_version)
