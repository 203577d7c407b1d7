"""Controllers of the settings area: what Harvester's setting handlers do after a Setting write.

- SettingController (H:pkg/controller/master/setting/handler.go): for settings with a syncer,
  when sha224(value + upgrade-patched annotation) differs from annotation `harvesterhci.io/hash`,
  run the syncer; on success store the hash and set `configured` True (False when the value is
  empty); on failure `configured` False with the error as message (and no hash).
  containerd-registry's syncer keeps the registry in Secret cattle-system/harvester-containerd-registry
  and rewrites `value` without the credentials.
- StorageNetworkController (H:pkg/controller/master/storagenetwork): on a new value creates the
  NAD `harvester-system/storagenetwork-<5>` (bridge `<cn>-br`, whereabouts range/exclude), records
  the `storage-network.settings.harvesterhci.io/{hash,net-attach-def,old-net-attach-def}`
  annotations (hash = sha1(value)), walks `configured` False "In Progress" through its messages,
  then True "Completed" and deletes the previous NAD.
- BackupTargetController (H:pkg/controller/master/backup/backup_target.go): S3 credentials go to
  Secret longhorn-system/harvester-backup-target-secret and `value` is rewritten with them blanked;
  the Longhorn BackupTarget `default` (when it exists) gets the URL, the credential secret and
  the poll interval; `configured` True, or False with the error.
"""
from __future__ import annotations

import base64
import hashlib
import json

import yaml

from ..admission import settings as rules
from ..goformat import go_duration
from ..registry import Kind
from . import Controller, condition, set_condition

GROUP = "harvesterhci.io"
HASH = "harvesterhci.io/hash"
UPGRADE_PATCHED = "harvesterhci.io/upgrade-patched"
SN = "storage-network.settings.harvesterhci.io"
SN_HASH, SN_NAD, SN_OLD_NAD = f"{SN}/hash", f"{SN}/net-attach-def", f"{SN}/old-net-attach-def"
NAD_NAMESPACE, NAD_PREFIX = "harvester-system", "storagenetwork-"
BACKUP_SECRET = "harvester-backup-target-secret"
REGISTRY_SECRET = "harvester-containerd-registry"

# Settings with a syncer in v1.8's setting controller (backup-target and the network settings
# have their own controllers).
SYNCED = ("additional-ca", "cluster-registration-url", "http-proxy", "log-level", "overcommit-config", "vip-pools",
          "auto-disk-provision-paths", "ssl-certificates", "ssl-parameters", "containerd-registry", "ntp-servers",
          "longhorn-v2-data-engine-enabled", "auto-rotate-rke2-certs", "additional-guest-memory-overhead-ratio",
          "support-bundle-image", "kubevirt-migration", "instance-manager-resources",
          "cluster-pod-security-standard", "max-hotplug-ratio", "upgrade-config")

# storage-network: the steps after "create NAD", each a few (clock) seconds apart.
SN_STEPS = (("Stopping Pods", 1.0), ("Update Longhorn setting", 2.0), ("Restarting Pods", 2.0))


def sha224(text: str) -> str:
    return hashlib.sha224(text.encode()).hexdigest()


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - Harvester's own choice, not security


def set_error(obj: dict, err: str | None, *, now: str, reason: str = "") -> None:
    """wrangler's Cond.SetError: True with no message, or False with reason "Error"."""
    if err is None:
        set_condition(obj, "configured", "True", reason, now=now)
    else:
        set_condition(obj, "configured", "False", reason or "Error", err, now=now)


class _SettingController(Controller):
    watches = ((GROUP, "settings"),)
    handles: tuple[str, ...] = ()

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if obj["metadata"]["name"] in self.handles:
            await self.reconcile(kind, obj)

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        raise NotImplementedError

    def secrets(self) -> Kind:
        return self.kind("", "secrets")

    def write_secret(self, namespace: str, name: str, data: dict[str, str], *, create: bool = True) -> bool:
        """Create or update a Secret's data (StringData semantics: only the given keys)."""
        # Empty values are left out: the twin's schema check refuses "" for format byte.
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items() if v}
        kind = self.secrets()
        if self.get(kind, namespace, name) is None:
            if not create:
                return True
            return self.create(kind, {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                      "metadata": {"name": name, "namespace": namespace},
                                      "data": encoded}) is not None

        def change(o):
            o.setdefault("data", {}).update(encoded)
        return self.mutate(kind, namespace, name, change) is not None


# ------------------------------------------------------------------------------------------ syncers
class SettingController(_SettingController):
    name = "harvester-setting-controller"
    handles = SYNCED

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        meta = obj["metadata"]
        annotations = meta.get("annotations") or {}
        value = obj.get("value") or ""
        if value == "" and not annotations.get(HASH):
            return
        current = sha224(value + annotations.get(UPGRADE_PATCHED, ""))
        if current == annotations.get(HASH):
            return
        err, rewritten = self.sync(meta["name"], value)
        now = self.clock.now()

        def change(o):
            if rewritten is not None:
                o["value"] = rewritten
            if err is None:
                new_value = o.get("value") or ""
                o["metadata"].setdefault("annotations", {})[HASH] = sha224(
                    new_value + (o["metadata"].get("annotations") or {}).get(UPGRADE_PATCHED, ""))
                set_condition(o, "configured", "True" if new_value else "False", now=now)
                c = condition(o, "configured")
                c.pop("message", None)
            else:
                set_condition(o, "configured", "False", message=err, now=now)
        self.mutate(kind, "", meta["name"], change)

    def sync(self, name: str, value: str) -> tuple[str | None, str | None]:
        """(error, rewritten value) of the setting's syncer."""
        if name == "containerd-registry":
            return self.sync_containerd_registry(value)
        if name == "cluster-registration-url" and value:
            url = value
            try:
                data = json.loads(value)
                if isinstance(data, dict):
                    url = data.get("url") or ""
            except ValueError:
                pass
            if url and rules.unreachable(self.store, url):
                host = url.split("://", 1)[-1].split("/")[0]
                return f'Get "{url}": dial tcp: lookup {host}: no such host', None
        return None, None

    def sync_containerd_registry(self, value: str) -> tuple[str | None, str | None]:
        if value == "":
            kind = self.secrets()
            if self.get(kind, "cattle-system", REGISTRY_SECRET) is not None:
                self.mutate(kind, "cattle-system", REGISTRY_SECRET, lambda o: o.update(data={}))
            return None, None
        try:
            registry = json.loads(value)
        except ValueError as e:
            return str(e), None
        stripped = json.loads(value)
        has_credentials = False
        for cfg in (stripped.get("Configs") or {}).values():
            auth = (cfg or {}).get("Auth")
            if isinstance(auth, dict):
                for key in ("Username", "Password", "Auth", "IdentityToken"):
                    if auth.get(key):
                        auth[key] = ""
                        has_credentials = True
        if has_credentials or self.get(self.secrets(), "cattle-system", REGISTRY_SECRET) is None:
            self.write_secret("cattle-system", REGISTRY_SECRET,
                              {"registries.yaml": yaml.safe_dump(registry, sort_keys=False)})
        return None, (json.dumps(stripped, separators=(",", ":")) if has_credentials else None)


# ------------------------------------------------------------------------------------------ storage-network
class StorageNetworkController(_SettingController):
    name = "harvester-storage-network-controller"
    handles = ("storage-network",)

    def __init__(self, twin):
        super().__init__(twin)
        self._progress = None

    def nads(self) -> Kind:
        return self.kind("k8s.cni.cncf.io", "network-attachment-definitions")

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        meta = obj["metadata"]
        annotations = meta.get("annotations") or {}
        value = obj.get("value") or ""
        if not annotations and value == "":
            return  # the initial, never configured setting
        if sha1(value) == annotations.get(SN_HASH):
            return
        nad_ref = ""
        if value:
            nad = self.find_or_create_nad(value)
            if nad is None:
                now = self.clock.now()
                self.mutate(kind, "", meta["name"], lambda o: set_condition(
                    o, "configured", "False", rules.IN_PROGRESS, "create net-attach-def failed", now=now))
                return
            nad_ref = f"{nad['metadata']['namespace']}/{nad['metadata']['name']}"
        now = self.clock.now()

        def record(o):
            ann = o["metadata"].setdefault("annotations", {})
            ann[SN_OLD_NAD] = ann.get(SN_NAD, "")
            ann[SN_NAD] = nad_ref
            ann[SN_HASH] = sha1(o.get("value") or "")
            set_condition(o, "configured", "False", rules.IN_PROGRESS, "create NAD", now=now)
        if self.mutate(kind, "", meta["name"], record) is None:
            return
        if self._progress is not None:
            self._progress.cancel()
        self._progress = self.spawn(self.progress(kind, meta["name"], sha1(value)))

    async def progress(self, kind: Kind, name: str, value_hash: str) -> None:
        for message, delay in SN_STEPS:
            await self.clock.sleep(delay)
            if not self.still(kind, name, value_hash):
                return
            now = self.clock.now()
            self.mutate(kind, "", name, lambda o, m=message, t=now: set_condition(
                o, "configured", "False", rules.IN_PROGRESS, m, now=t))
        await self.clock.sleep(1.0)
        live = self.still(kind, name, value_hash)
        if not live:
            return
        old = (live["metadata"].get("annotations") or {}).get(SN_OLD_NAD, "")
        if old and old != (live["metadata"].get("annotations") or {}).get(SN_NAD):
            ns, _, nad_name = old.partition("/")
            self.delete(self.nads(), ns, nad_name)
        now = self.clock.now()

        def complete(o):
            o["metadata"].setdefault("annotations", {})[SN_OLD_NAD] = ""
            set_condition(o, "configured", "True", "Completed", now=now)
        self.mutate(kind, "", name, complete)

    def still(self, kind: Kind, name: str, value_hash: str) -> dict | None:
        live = self.get(kind, "", name)
        if live is None or (live["metadata"].get("annotations") or {}).get(SN_HASH) != value_hash:
            return None
        return live

    def find_or_create_nad(self, value: str) -> dict | None:
        label = sha1(value)
        for nad in self.store.list(self.nads(), NAD_NAMESPACE):
            if (nad["metadata"].get("labels") or {}).get(f"{SN}/hash") == label:
                return nad
        try:
            cfg = json.loads(value)
        except ValueError:
            return None
        bridge = {"cniVersion": "0.3.1", "type": "bridge", "bridge": f"{cfg.get('clusterNetwork', '')}-br",
                  "promiscMode": True, "vlan": int(cfg.get("vlan") or 0) or 1,
                  "ipam": {"type": "whereabouts", "range": cfg.get("range", "")}}
        if cfg.get("exclude"):
            bridge["ipam"]["exclude"] = cfg["exclude"]
        return self.create(self.nads(), {
            "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"generateName": NAD_PREFIX, "namespace": NAD_NAMESPACE,
                         "annotations": {SN: "true"}, "labels": {f"{SN}/hash": label}},
            "spec": {"config": json.dumps(bridge, separators=(",", ":"))}})

    def stop(self) -> None:
        super().stop()
        self._progress = None


# ------------------------------------------------------------------------------------------ backup-target
class BackupTargetController(_SettingController):
    name = "harvester-backup-target-controller"
    handles = ("backup-target",)

    def lh_target(self) -> tuple[Kind | None, dict | None]:
        kind = self.registry.by_plural("longhorn.io", "backuptargets")
        if kind is None:
            return None, None
        return kind, self.get(kind, "longhorn-system", "default")

    def update_lh_target(self, **spec) -> None:
        kind, live = self.lh_target()
        if live is None:
            return  # the twin's Longhorn area may not seed it; the real controller would fail here
        self.mutate(kind, "longhorn-system", "default", lambda o: o.setdefault("spec", {}).update(spec))

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        name = obj["metadata"]["name"]
        now = self.clock.now()
        try:
            target = rules.decode_backup_target(obj.get("value") or "")
        except ValueError as e:
            err = str(e)
            self.mutate(kind, "", name, lambda o: set_error(o, err, now=now))
            return
        if target["type"] == "s3":
            if target["secretAccessKey"] or target["accessKeyId"]:
                self.update_lh_target(backupTargetURL=rules.backup_endpoint(target), credentialSecret=BACKUP_SECRET)
                self.write_secret("longhorn-system", BACKUP_SECRET, self.secret_data(target))
                blanked = dict(target, accessKeyId="", secretAccessKey="")
                self.mutate(kind, "", name, lambda o: o.update(value=json.dumps(blanked, separators=(",", ":"))))
                return  # the rewrite brings us back here with the credentials blanked
        elif target["type"] == "nfs":
            self.update_lh_target(backupTargetURL=rules.backup_endpoint(target), credentialSecret="")
            self.reset_secret()
        elif rules.is_default_target(target):
            self.update_lh_target(backupTargetURL="", credentialSecret="")
            self.reset_secret()

            def unset(o):
                set_condition(o, "configured", "False", now=now)
                c = condition(o, "configured")
                c.pop("reason", None)
                c.pop("message", None)
            self.mutate(kind, "", name, unset)
            return
        else:
            err = f"invalid backup target type:{target['type']} or parameter"
            self.mutate(kind, "", name, lambda o: set_error(o, err, now=now))
            return
        if int(target["refreshIntervalInSeconds"]) > 0:
            self.update_lh_target(pollInterval=go_duration(int(target["refreshIntervalInSeconds"])))
        cond = condition(obj, "configured")
        if not cond or cond.get("status") == "False":
            self.mutate(kind, "", name, lambda o: set_error(o, None, now=now))

    def secret_data(self, target: dict) -> dict[str, str]:
        proxy = {}
        http_proxy = rules._setting(self.store, "http-proxy")
        if http_proxy is not None:
            try:
                proxy = json.loads(http_proxy.get("value") or http_proxy.get("default") or "{}")
            except ValueError:
                proxy = {}
        ca = rules._setting(self.store, "additional-ca")
        data = {"AWS_ACCESS_KEY_ID": target["accessKeyId"], "AWS_SECRET_ACCESS_KEY": target["secretAccessKey"],
                "AWS_ENDPOINTS": target["endpoint"], "AWS_CERT": (ca or {}).get("value") or target["cert"],
                "VIRTUAL_HOSTED_STYLE": "true" if target["virtualHostedStyle"] else "false",
                "HTTP_PROXY": proxy.get("httpProxy", ""), "HTTPS_PROXY": proxy.get("httpsProxy", ""),
                "NO_PROXY": ",".join(p for p in [proxy.get("noProxy", ""), "localhost", "127.0.0.1", "0.0.0.0",
                                                 "10.0.0.0/8", "longhorn-system", "cattle-system",
                                                 "cattle-system.svc", "harvester-system", ".svc",
                                                 ".cluster.local"] if p)}
        return {k: v.strip() for k, v in data.items()}

    def reset_secret(self) -> None:
        kind = self.secrets()
        live = self.get(kind, "longhorn-system", BACKUP_SECRET)
        if live is not None and live.get("data"):
            self.mutate(kind, "longhorn-system", BACKUP_SECRET, lambda o: o.update(data={}))


CONTROLLERS: list = [SettingController, StorageNetworkController, BackupTargetController]
