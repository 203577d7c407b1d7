"""Rufio, Tinkerbell's BMC controller (tinkerbell/tinkerbell v0.25.0 rufio/internal/controller
{machine,job,task,client,kube}.go, api/v1alpha1/bmc), driving the twin's simulated Intel AMT
through bmclib v2.3.5's intelamt provider (metal/iamt.py). Runs when the bmc.tinkerbell.org
kinds are loaded (`--crds tests/twin/crds/rufio` or the upstream folder).

- Machine: opens the BMC with the credentials of `spec.connection.authSecretRef` (keys
  `username`, `password`), reads the power state, writes `status.powerState` (on/off/unknown)
  and the `Contactable` condition (False with the error, powerState unknown, when the BMC cannot
  be opened or read); again every `--rufio-power-check-interval` (30 min, scaled by --speed).
- Job: Running=True and startTime first; Tasks `<job>-task-<n>` one at a time (label
  `owner-name`, controller owner reference, the action and the Machine's connection); a Task
  Failed -> Job Failed "task <ns>/<task> failed"; all Completed -> Job Completed and
  completionTime (Running stays True). A Job whose Machine is missing waits (no status written).
- Task: opens the BMC ("Failed to connect to BMC: ..." -> Failed); the first pass sets startTime
  and runs the action (its error -> Failed); later passes complete it: a power on/off only once
  the BMC reports that state (every 3 s), other actions at once; 10 minutes: "bmc task timeout".
  On AMT only `on`, `off`, `cycle` power actions and the `pxe` boot device work (bmclib intelamt).

Where the controller connects: a loopback `host` is dialled as given; a host that is a node's
`lab_node.amt.host` reaches that node's simulated AMT (the port the twin gave it); any other
host fails after bmclib's 30 s open timeout as an unreachable address does, without a socket.
Differences: only bmclib's intelamt provider is modelled (a real Rufio also tries ipmitool,
redfish... and lists their failures in an open error); errors are returned without
controller-runtime's backoff (a requeue after REQUEUE_ON_ERROR seconds).
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging

from ..loopback_guard import is_loopback
from ..metal import iamt
from ..registry import Kind
from . import Controller, condition

log = logging.getLogger("twin.controllers.rufio")

GROUP = "bmc.tinkerbell.org"
VERSION = "v1alpha1"
POWER_CHECK_INTERVAL = 30 * 60  # --rufio-power-check-interval default (cmd/tinkerbell/cmd.go)
POWER_ACTION_REQUEUE = 3  # task.go powerActionRequeueAfter
TASK_TIMEOUT = 10 * 60
OPEN_TIMEOUT = 30  # bmclib defaultConnectTimeout (per provider)
REQUEUE_ON_ERROR = 5  # controller-runtime's backoff, simplified
AMT_PORTS = (16992, 16993)


def _multierror(*errors: str) -> str:
    """hashicorp/go-multierror's ListFormatFunc."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    points = "\n\t".join(f"* {e}" for e in errors)
    return f"{len(errors)} errors occurred:\n\t{points}\n\n"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _set(obj: dict, type_: str, status: str, message: str | None = None, *, update_time: bool = False) -> None:
    """Job/Task/Machine SetCondition: status (and message when given) of the condition of that type;
    Machines also stamp lastUpdateTime when the status changes."""
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    current = next((c for c in conditions if c.get("type") == type_), None)
    if current is None:
        current = {"type": type_}
        conditions.append(current)
    if update_time and current.get("status") != status:
        current["lastUpdateTime"] = _now()
    current["status"] = status
    if message is not None:
        if message:
            current["message"] = message
        else:
            current.pop("message", None)


def _is(obj: dict, type_: str) -> bool:
    return (condition(obj, type_) or {}).get("status") == "True"


class _BmcError(Exception):
    pass


class RufioBase(Controller):
    """What the three reconcilers share: credentials, the BMC client, requeues."""

    def __init__(self, twin):
        super().__init__(twin)
        self._pending: dict[tuple[str, str], asyncio.Task] = {}

    def requeue(self, kind: Kind, namespace: str, name: str, seconds: float) -> None:
        key = (namespace, name)
        old = self._pending.get(key)
        if old is not None and not old.done():
            old.cancel()

        async def later():
            await self.clock.sleep(seconds)
            obj = self.get(kind, namespace, name)
            if obj is not None and not obj["metadata"].get("deletionTimestamp"):
                await self.on_change(kind, obj)
        self._pending[key] = self.spawn(later())

    def credentials(self, connection: dict) -> tuple[str, str]:
        """kube.go resolveAuthSecretRef."""
        ref = connection.get("authSecretRef") or {}
        ns, name = ref.get("namespace", ""), ref.get("name", "")
        secret = self.get(self.kind("", "secrets"), ns, name)
        if secret is None:
            raise _BmcError(f'secret {ns}/{name} not found: secrets "{name}" not found')
        data = secret.get("data") or {}
        if "username" not in data:
            raise _BmcError("'username' required in Machine secret")
        if "password" not in data:
            raise _BmcError("'password' required in Machine secret")
        return base64.b64decode(data["username"]).decode(), base64.b64decode(data["password"]).decode()

    def client(self, connection: dict, user: str, password: str) -> iamt.Client:
        """The intelamt provider's client for this connection (client.go Translate: the intelAMT
        options' port and scheme; bmclib's default http/16992 without them)."""
        host = str(connection.get("host") or "")
        amt = ((connection.get("providerOptions") or {}).get("intelAMT"))
        if amt is not None:
            port, scheme = int(amt.get("port") or 0), amt.get("hostScheme") or "http"
        else:
            port, scheme = 16992, "http"
        url = f"{scheme}://{host}:{port}/wsman"
        return iamt.Client(url, self._route(host, port), user, password, timeout=OPEN_TIMEOUT)  # real I/O: not scaled

    def _route(self, host: str, port: int) -> tuple[str, int] | None:
        if is_loopback(host):
            return ("127.0.0.1", port)
        metal = getattr(self.twin, "metal", None)
        if metal is not None and port in AMT_PORTS:
            for name, m in metal.machines.items():
                if m.amt_host and m.amt_host == host and name in metal.endpoints:
                    return ("127.0.0.1", metal.endpoints[name].port)
        return None

    async def open(self, client: iamt.Client) -> None:
        """bmclib Client.Open with only the intelamt provider registered as working."""
        try:
            if client.connect_to is None:
                await self.clock.sleep(OPEN_TIMEOUT)
            await client.open()
        except iamt.IamtError as e:
            raise _BmcError("failed to open connection to BMC: "
                            + _multierror(f"provider: IntelAMT: {e}", "no Opener implementations found")) from None

    @staticmethod
    def provider_error(e: Exception, what: str) -> str:
        return _multierror(f"provider: IntelAMT: {e}", what)


class MachineReconciler(RufioBase):
    name = "rufio-machine"
    watches = ((GROUP, "machines"),)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        meta = obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        connection = (obj.get("spec") or {}).get("connection") or {}
        try:
            user, password = self.credentials(connection)
        except _BmcError as e:
            log.info("%s: Machine %s/%s: resolving Machine %s/%s SecretReference: %s", self.name, ns, name, ns, name, e)
            self.requeue(kind, ns, name, REQUEUE_ON_ERROR)
            return
        power, contactable, message = "unknown", "False", ""
        async with self.client(connection, user, password) as client:
            try:
                await self.open(client)
            except _BmcError as e:
                message = str(e)
            else:
                try:
                    power = "on" if await client.is_powered_on() else "off"
                    contactable = "True"
                except iamt.IamtError as e:
                    message = "get power state: " + self.provider_error(e, "failed to get power state")

        def write(o):
            o.setdefault("status", {})["powerState"] = power
            _set(o, "Contactable", contactable, message, update_time=True)
        self.mutate(kind, ns, name, write, status=True)
        self.requeue(kind, ns, name, POWER_CHECK_INTERVAL)


class JobReconciler(RufioBase):
    name = "rufio-job"
    watches = ((GROUP, "jobs"), (GROUP, "tasks"))

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if kind.plural == "tasks":  # EnqueueRequestForOwner(Job, OnlyControllerOwner)
            owner = next((r for r in obj["metadata"].get("ownerReferences") or []
                          if r.get("controller") and r.get("kind") == "Job"), None)
            if owner is None:
                return
            jobs = self.kind(GROUP, "jobs")
            job = self.get(jobs, obj["metadata"]["namespace"], owner["name"])
            if job is not None and not job["metadata"].get("deletionTimestamp"):
                await self.reconcile(jobs, job)
            return
        await self.reconcile(kind, obj)

    async def reconcile(self, kind: Kind, job: dict) -> None:
        if _is(job, "Completed") or _is(job, "Failed"):
            return
        meta = job["metadata"]
        ns, name = meta["namespace"], meta["name"]
        spec = job.get("spec") or {}
        changes: list = []
        if not _is(job, "Running"):
            now = _now()

            def running(o, now=now):
                o.setdefault("status", {})["startTime"] = now
                _set(o, "Running", "True")
            changes.append(running)
        ref = spec.get("machineRef") or {}
        machine = self.get(self.kind(GROUP, "machines"), ref.get("namespace", ""), ref.get("name", ""))
        if machine is None:
            log.info("%s: get Job %s/%s MachineRef: machine %s/%s not found", self.name, ns, name,
                     ref.get("namespace"), ref.get("name"))
            self.requeue(kind, ns, name, REQUEUE_ON_ERROR)
            return
        tasks_kind = self.kind(GROUP, "tasks")
        tasks = [t for t in self.store.list(tasks_kind, ns) if _controlled_by(t, job)]
        completed = 0
        for task in tasks:
            if _is(task, "Completed"):
                completed += 1
                continue
            if _is(task, "Failed"):
                message = f"task {task['metadata']['namespace']}/{task['metadata']['name']} failed"
                changes.append(lambda o, m=message: _set(o, "Failed", "True", m))
                self._patch(kind, ns, name, changes)
                return
            return  # a Task still running: its changes bring us back
        if completed == len(spec.get("tasks") or []):
            now = _now()

            def done(o, now=now):
                _set(o, "Completed", "True")
                o.setdefault("status", {})["completionTime"] = now
            changes.append(done)
            self._patch(kind, ns, name, changes)
            return
        task = {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Task",
            "metadata": {"name": f"{name}-task-{completed}", "namespace": ns, "labels": {"owner-name": name},
                         "ownerReferences": [{"apiVersion": f"{GROUP}/{VERSION}", "kind": "Job", "name": name,
                                              "uid": meta["uid"], "controller": True}]},
            "spec": {"task": spec["tasks"][completed], "connection": (machine.get("spec") or {}).get("connection") or {}},
        }
        if self.create(tasks_kind, task) is None and self.get(tasks_kind, ns, task["metadata"]["name"]) is None:
            message = f"failed to create Task {ns}/{task['metadata']['name']}"
            changes.append(lambda o, m=message: _set(o, "Failed", "True", m))
        self._patch(kind, ns, name, changes)

    def _patch(self, kind: Kind, ns: str, name: str, changes: list) -> None:
        if not changes:
            return

        def apply(o):
            for change in changes:
                change(o)
        self.mutate(kind, ns, name, apply, status=True)


def _controlled_by(task: dict, job: dict) -> bool:
    """TaskOwnerIndexFunc: the controller owner is this Job (kind Job, bmc.tinkerbell.org/v1alpha1)."""
    for ref in task["metadata"].get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == "Job" and ref.get("apiVersion") == f"{GROUP}/{VERSION}" \
                and ref.get("name") == job["metadata"]["name"]:
            return True
    return False


class TaskReconciler(RufioBase):
    name = "rufio-task"
    watches = ((GROUP, "tasks"),)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if _is(obj, "Failed") or _is(obj, "Completed"):
            return
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        spec = obj.get("spec") or {}
        connection, action = spec.get("connection") or {}, spec.get("task") or {}
        try:
            user, password = self.credentials(connection)
        except _BmcError as e:
            log.info("%s: resolving connection secret for task %s/%s: %s", self.name, ns, name, e)
            self.requeue(kind, ns, name, REQUEUE_ON_ERROR)
            return
        async with self.client(connection, user, password) as client:
            try:
                await self.open(client)
            except _BmcError as e:
                self._fail(kind, ns, name, f"Failed to connect to BMC: {e}")
                return
            started = (obj.get("status") or {}).get("startTime")
            if started:
                running = dt.datetime.now(dt.UTC) - _parse_time(started)
                if running.total_seconds() * self.clock.speed >= TASK_TIMEOUT:
                    self._fail(kind, ns, name, f"bmc task timeout: {int(running.total_seconds() * 1e9)}")
                    return
                try:
                    wait = await self._pending_power(client, action)
                except iamt.IamtError as e:
                    log.info("%s: bmc task status check: failed to get power state: %s", self.name, e)
                    self.requeue(kind, ns, name, REQUEUE_ON_ERROR)
                    return
                if wait:
                    self.requeue(kind, ns, name, POWER_ACTION_REQUEUE)
                    return
                now = _now()

                def complete(o, now=now):
                    o.setdefault("status", {})["completionTime"] = now
                    _set(o, "Completed", "True")
                self.mutate(kind, ns, name, complete, status=True)
                return
            now = _now()
            error = await self._run(client, action)

        def first_pass(o, now=now, error=error):
            o.setdefault("status", {})["startTime"] = now
            if error:
                _set(o, "Failed", "True", error)
        self.mutate(kind, ns, name, first_pass, status=True)

    def _fail(self, kind: Kind, ns: str, name: str, message: str) -> None:
        self.mutate(kind, ns, name, lambda o: _set(o, "Failed", "True", message), status=True)

    async def _run(self, client: iamt.Client, action: dict) -> str:
        """runTask: "" or the error Rufio records."""
        if action.get("powerAction"):
            state = action["powerAction"]
            try:
                await self._power_set(client, state)
            except iamt.IamtError as e:
                return "failed to perform PowerAction: " + self.provider_error(e, "failed to set power state")
            return ""
        if action.get("oneTimeBootDeviceAction"):
            device = ((action["oneTimeBootDeviceAction"].get("device") or [""])[0])
            try:
                await self._boot_device(client, device)
            except iamt.IamtError as e:
                return "failed to perform OneTimeBootDeviceAction: " + self.provider_error(e, "failed to set boot device")
            return ""
        if action.get("bootDevice"):
            try:
                await self._boot_device(client, action["bootDevice"].get("device") or "")
            except iamt.IamtError as e:
                return ("failed to set BootDevice, ok: false, err: "
                        + self.provider_error(e, "failed to set boot device"))
            return ""
        if action.get("virtualMediaAction"):
            return "failed to perform SetVirtualMedia: " + _multierror("no VirtualMediaSetter implementations found")
        return "no action specified in Task, nothing to do"

    @staticmethod
    async def _power_set(client: iamt.Client, state: str) -> None:
        """intelamt.go PowerSet."""
        try:
            on = await client.is_powered_on()
        except iamt.IamtError:
            on = False
        state = state.lower()
        if state == "on":
            if not on:
                await client.power_on()
        elif state == "off":
            if on:
                await client.power_off()
        elif state == "cycle":
            await client.power_cycle()
        else:
            raise iamt.IamtError("requested state type unknown")

    @staticmethod
    async def _boot_device(client: iamt.Client, device: str) -> None:
        """intelamt.go BootDeviceSet."""
        if device.lower() != "pxe":
            raise iamt.IamtError("only pxe boot device is supported for AMT provider")
        await client.set_pxe()

    @staticmethod
    async def _pending_power(client: iamt.Client, action: dict) -> bool:
        """checkTaskStatus: True while a power on/off has not reached its state."""
        wanted = action.get("powerAction")
        if not wanted:
            return False
        on = await client.is_powered_on()
        if wanted == "on":
            return not on
        if wanted in ("off", "soft"):
            return on
        return False


CONTROLLERS: list = [MachineReconciler, JobReconciler, TaskReconciler]
