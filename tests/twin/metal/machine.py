"""One MS-02 as its AMT and its network see it: power, the one-time boot settings AMT keeps, and
what happens when it starts: a PXE boot into harvester-installer, or its disk.

The power and boot-setting model follows Intel AMT (../shared/reference/amt.md §3-§6):
PowerState 2 (on) or 8 (off) (4 sleep, 7 hibernate when asked); AvailableRequestedPowerStates
[10, 8, 5, 11, 4, 7, 14, 12] when on (the captured AMT reply) and [2] when not; 2 powers on, 5,
10 and 14 restart, 8 and 12 power off, 11 (NMI) changes nothing. A start triggered by
RequestPowerStateChange boots from the network only when `SetBootConfigRole` made the boot
configuration IsNextSingleUse (1) *and* `ChangeBootOrder` chose "Intel(r) AMT: Force PXE Boot";
the start consumes both (role back to IsNotNext 32768, no source), so the next start boots the
disk. `AMT_BootSettingData` keeps what a Put wrote; BIOSSetup or BIOSPause true stops the start
in the firmware.

A network boot (one line per step in the twin's log, `twin.metal`):
`<node>: PXE boot.ipxe -> <node>.ipxe -> <node>.yaml`, then the installer's checks
(metal/installer.py), the ISO, the install delay, the reboot from disk, and the node joining:
`<node>: installed (create), joined` -- or, where it stops, `<node>: iPXE: ...`,
`<node>: installer: ...`, `<node>: installed (join), not joining: ...`. A disk start with nothing
on the disk: `<node>: boot from disk: no operating system`.
"""
from __future__ import annotations

import asyncio
import copy
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import installer, pxe, smee
from .nas import Failure

if TYPE_CHECKING:
    from . import Metal

log = logging.getLogger("twin.metal")

ON, OFF_SOFT, SLEEP, HIBERNATE = 2, 8, 4, 7
AVAILABLE_ON = [10, 8, 5, 11, 4, 7, 14, 12]
AVAILABLE_OFF = [2]
PXE_SOURCE = "Intel(r) AMT: Force PXE Boot"
BOOT_SOURCES = ["Intel(r) AMT: Force Hard-drive Boot", "Intel(r) AMT: Force PXE Boot", "Intel(r) AMT: Force CD/DVD Boot"]
IS_NEXT_SINGLE_USE, IS_NOT_NEXT = 1, 32768

# Real seconds, scaled by --speed (clock.sleep)
FIRMWARE_SECONDS = 20  # POST and the PXE ROM's DHCP
IPXE_TIMEOUT = 30  # iPXE's TCP connection timeout (an address nobody answers at)
HTTP_TIMEOUT = 30  # the installer's HTTP client on a host that does not answer
CONFIG_RETRIES, CONFIG_RETRY_SECONDS = 30, 10  # retryRemoteConfig
INSTALL_SECONDS = 300  # the installer writing the disk (ISO to disk, partitions, grub), then the reboot
FIRST_BOOT_SECONDS = 120  # Harvester OS starting: RKE2, rancherd, the system charts
JOIN_RETRY_SECONDS = 30  # rancherd retrying its join

# AMT_BootSettingData as AMT answers a Get (go-wsman-messages responses/amt/boot/settingdata/get.xml)
BOOT_SETTING_DATA = [
    ("BIOSLastStatus", [2, 0]), ("BIOSPause", False), ("BIOSSetup", False), ("BootMediaIndex", 0),
    ("BootguardStatus", 127), ("ConfigurationDataReset", False), ("ElementName", "Intel(r) AMT Boot Configuration Settings"),
    ("EnforceSecureBoot", False), ("FirmwareVerbosity", 0), ("ForcedProgressEvents", False), ("IDERBootDevice", 0),
    ("InstanceID", "Intel(r) AMT:BootSettingData 0"), ("LockKeyboard", False), ("LockPowerButton", False),
    ("LockResetButton", False), ("LockSleepButton", False), ("OptionsCleared", True), ("OwningEntity", "Intel(r) AMT"),
    ("PlatformErase", False), ("RPEEnabled", True), ("RSEPassword", ""), ("ReflashBIOS", False),
    ("SecureBootControlEnabled", True), ("SecureErase", False), ("UEFIHTTPSBootEnabled", True),
    ("UEFILocalPBABootEnabled", True), ("UefiBootNumberOfParams", 0), ("UseIDER", False), ("UseSOL", False),
    ("UseSafeMode", False), ("UserPasswordBypass", False), ("WinREBootEnabled", True)]
READ_ONLY_SETTINGS = {"WinREBootEnabled", "UEFILocalPBABootEnabled", "UEFIHTTPSBootEnabled", "SecureBootControlEnabled",
                      "BootguardStatus", "OptionsCleared", "BIOSLastStatus", "UefiBootParametersArray", "InstanceID",
                      "ElementName", "OwningEntity"}


@dataclass
class Installed:
    """What is on a node's disk after an install: the config it was installed with."""
    mode: str
    hostname: str
    token: str
    server_url: str
    vip: str
    ip: str


@dataclass
class Machine:
    name: str
    index: int  # inventory order (the first three become control-plane nodes, as the seed has them)
    ports: list[tuple[str, str]]  # (name, mac) in the order the firmware numbers them
    oob_mac: str
    disks: set[str]
    mgmt_ip: str
    amt_host: str = ""  # lab_node.amt.host (the OOB address a Rufio Machine may name)
    power: int = OFF_SOFT
    boot_source: str | None = None
    boot_role: int = IS_NOT_NEXT
    boot_settings: list[tuple[str, object]] = field(default_factory=lambda: copy.deepcopy(BOOT_SETTING_DATA))
    disk: Installed | None = None
    stage: str = "off"  # off, firmware, pxe, installer, installing, booting, running, no-os, stuck
    reason: str = ""
    joined: bool = False
    amt_provisioned: bool = True
    calls: list[str] = field(default_factory=list)  # "<operation> <class> <HTTP status>" per AMT request
    task: asyncio.Task | None = None

    # ------------------------------------------------------------------ what AMT reports
    def available_states(self) -> list[int]:
        return list(AVAILABLE_ON) if self.power == ON else list(AVAILABLE_OFF)

    def setting(self, name: str):
        return next((v for k, v in self.boot_settings if k == name), None)

    def state(self) -> dict:
        """For /_twin/metal."""
        return {"power": self.power, "stage": self.stage, "reason": self.reason,
                "boot": {"source": self.boot_source, "role": self.boot_role},
                "installed": None if self.disk is None else {"mode": self.disk.mode, "hostname": self.disk.hostname},
                "joined": self.joined, "amt_provisioned": self.amt_provisioned, "amt_calls": list(self.calls)}

    def snapshot(self) -> dict:
        return {"power": self.power, "boot_source": self.boot_source, "boot_role": self.boot_role,
                "boot_settings": copy.deepcopy(self.boot_settings), "disk": copy.deepcopy(self.disk),
                "stage": self.stage, "reason": self.reason, "joined": self.joined,
                "amt_provisioned": self.amt_provisioned, "calls": list(self.calls)}

    def restore(self, snap: dict) -> None:
        self.cancel()
        for k, v in snap.items():
            setattr(self, k, copy.deepcopy(v))

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None


class Runner:
    """Runs machines' starts on the twin's event loop (the Metal world owns one)."""

    def __init__(self, metal: Metal):
        self.metal = metal

    # ------------------------------------------------------------------ power, as AMT changes it
    def request_power(self, m: Machine, state: int) -> int:
        """RequestPowerStateChange: the ReturnValue (0, or 2 for a state not available now)."""
        if state not in m.available_states():
            return 2
        if state == ON:
            pxe_boot = self._consume_one_time_boot(m)
            m.power = ON
            self.metal.step(f"AMT {m.name}: power on" + (" (one-time PXE)" if pxe_boot else ""))
            self.start(m, pxe_boot)
        elif state in (5, 10, 14):
            pxe_boot = self._consume_one_time_boot(m)
            what = {5: "power cycle", 10: "reset", 14: "graceful reset"}[state]
            self.metal.step(f"AMT {m.name}: {what}" + (" (one-time PXE)" if pxe_boot else ""))
            self._stop(m)
            m.power = ON
            self.start(m, pxe_boot)
        elif state in (8, 12):
            self.metal.step(f"AMT {m.name}: power off")
            self._stop(m)
            m.power = OFF_SOFT
        elif state in (SLEEP, HIBERNATE):
            self.metal.step(f"AMT {m.name}: {'sleep' if state == SLEEP else 'hibernate'}")
            self._stop(m)
            m.power = state
        return 0

    @staticmethod
    def _consume_one_time_boot(m: Machine) -> bool:
        pxe_boot = m.boot_role == IS_NEXT_SINGLE_USE and m.boot_source == PXE_SOURCE
        if m.boot_role == IS_NEXT_SINGLE_USE:
            m.boot_role, m.boot_source = IS_NOT_NEXT, None
        return pxe_boot

    def _stop(self, m: Machine) -> None:
        m.cancel()
        if m.stage == "installing":
            m.disk = None  # a half-written disk boots nothing
        m.stage, m.reason = "off", ""
        # an installed node powered off stays a Node of the cluster (see README: not modelled)

    def start(self, m: Machine, pxe_boot: bool) -> None:
        m.cancel()
        m.task = asyncio.get_running_loop().create_task(self._boot(m, pxe_boot))

    # ------------------------------------------------------------------ a start
    async def _boot(self, m: Machine, pxe_boot: bool) -> None:
        clock = self.metal.clock
        try:
            m.stage, m.reason = "firmware", ""
            if m.setting("BIOSSetup") or m.setting("BIOSPause"):
                self._stuck(m, "boot: stopped in the firmware (AMT_BootSettingData BIOSSetup/BIOSPause)")
                return
            await clock.sleep(FIRMWARE_SECONDS)
            if pxe_boot:
                await self._network_boot(m)
            else:
                await self._disk_boot(m)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug in the twin must be visible, not a silent stuck node
            log.exception("%s: start failed", m.name)
            self._stuck(m, f"twin error: {e}")

    def _stuck(self, m: Machine, reason: str) -> None:
        m.stage, m.reason = "stuck", reason
        self.metal.step(f"{m.name}: {reason}")

    async def _disk_boot(self, m: Machine) -> None:
        if m.disk is None:
            m.stage, m.reason = "no-os", "no operating system"
            self.metal.step(f"{m.name}: boot from disk: no operating system")
            return
        m.stage = "booting"
        await self.metal.clock.sleep(FIRST_BOOT_SECONDS)
        await self._run_installed(m)

    async def _network_boot(self, m: Machine) -> None:
        metal, clock = self.metal, self.metal.clock
        m.stage = "pxe"
        outside = metal.outside

        async def answer(ask, url: str):
            """iPXE's view of a download: its 200 answer, or the line it prints on failure."""
            try:
                got = await ask(url, timeout=IPXE_TIMEOUT, sleep=clock.sleep)
            except Failure as e:
                raise pxe.Failed(f"{url}... {e.ipxe()}") from None
            if got.status != 200:
                raise pxe.Failed(f"{url}... {'Not found' if got.status == 404 else f'HTTP {got.status}'}")
            return got

        async def fetch(url: str) -> bytes:
            return (await answer(outside.fetch, url)).body

        async def exists(url: str) -> None:
            await answer(outside.exists, url)

        ipxe = pxe.Ipxe(m.ports, m.oob_mac, fetch, exists, lambda mac: mac == m.oob_mac)
        try:
            url, script = smee.boot_script(metal.store, m.oob_mac, metal.pxe_url)
        except smee.NoNetboot as e:
            self._stuck(m, f"iPXE: {e}")
            return
        try:
            boot = await ipxe.run(url, script)
        except pxe.IpxeStop as e:
            reason = str(e)
            if ipxe.last_error and ipxe.last_error not in reason:
                reason = f"{reason} (after: {ipxe.last_error})"
            self._stuck(m, f"iPXE: {reason}")
            return
        config_url = pxe.kernel_parameter(boot.kernel_args, "harvester.install.config_url") or ""
        chain = [u.rsplit("/", 1)[-1] for u in boot.scripts] + ([config_url.rsplit("/", 1)[-1]] if config_url else [])
        metal.step(f"{m.name}: PXE " + " -> ".join(chain))
        # UEFI: the kernel finds its initrd by the name iPXE gave it (HDOCS: initrd= is required)
        wanted = pxe.kernel_parameter(boot.kernel_args, "initrd")
        if wanted is None or wanted not in boot.initrd_names():
            self._stuck(m, f"boot: kernel panic: no initrd (initrd={wanted or ''} names none of "
                           f"{boot.initrd_names() or 'the loaded images'}): VFS: Unable to mount root fs")
            return
        root = pxe.kernel_parameter(boot.kernel_args, "root") or ""
        if root.startswith("live:"):
            failure = await self._download_error(root[len("live:"):])
            if failure:
                self._stuck(m, f"boot: dracut: FATAL: Failed to get the live image {root[5:]}: {failure}")
                return
        await self._installer(m, boot)

    async def _download_error(self, url: str) -> str:
        """"" when the file answers 200, else Go's error text for why not."""
        try:
            answer = await self.metal.outside.exists(url, timeout=HTTP_TIMEOUT, sleep=self.metal.clock.sleep)
        except Failure as e:
            return f'Get "{url}": {e.go()}'
        if answer.status != 200:
            return f"got {answer.status} status code from {url}, body: {answer.body.decode('utf-8', 'replace')}"
        return ""

    # ------------------------------------------------------------------ harvester-installer
    async def _installer(self, m: Machine, boot: pxe.Boot) -> None:
        metal, clock = self.metal, self.metal.clock
        m.stage = "installer"
        cfg = installer.from_kernel(boot.kernel_args)
        inst = cfg.get("install") or {}
        if not inst.get("automatic"):
            self._stuck(m, "installer: waiting at the installer's console (harvester.install.automatic is not true)")
            return
        url = inst.get("configUrl") or ""
        if url:
            data = None
            for attempt in range(CONFIG_RETRIES + 1):
                error = await self._fetch_config(url)
                if isinstance(error, bytes):
                    data = error
                    break
                if attempt == 0:
                    metal.step(f"{m.name}: installer: {error} (retrying every {CONFIG_RETRY_SECONDS}s, "
                               f"{CONFIG_RETRIES} times)")
                last = error
                if attempt < CONFIG_RETRIES:
                    await clock.sleep(CONFIG_RETRY_SECONDS)
            if data is None:
                self._stuck(m, f"installer: fail to fetch config: {last}")
                return
            try:
                remote = installer.load(data)
            except installer.InstallerError as e:
                self._stuck(m, f"installer: {e}")
                return
            cfg = installer.merge(cfg, remote)
        try:
            cfg = installer.prepare(cfg, m.ports)
            installer.validate(cfg, m.ports, m.disks)
        except installer.InstallerError as e:
            self._stuck(m, f"installer: {e}")
            return
        inst = cfg["install"]
        if inst.get("mode") in ("create", "join", "install"):
            iso = inst.get("isoUrl") or ""
            failure = await self._download_error(iso) if iso else ""
            if failure:
                self._stuck(m, f"installer: Install failed: {failure}")
                return
        m.stage = "installing"
        await clock.sleep(INSTALL_SECONDS)
        mi = inst.get("managementInterface") or {}
        m.disk = Installed(
            mode=inst.get("mode") or "", hostname=cfg["os"]["hostname"], token=str(cfg.get("token") or ""),
            server_url=cfg.get("serverUrl") or "", vip=str(inst.get("vip") or ""),
            ip=str(mi.get("ip") or m.mgmt_ip) if mi.get("method") == "static" else m.mgmt_ip)
        m.joined = False
        if inst.get("powerOff"):
            m.stage, m.power = "off", OFF_SOFT
            metal.step(f"{m.name}: installed ({m.disk.mode}), powered off")
            return
        m.stage = "booting"
        await clock.sleep(FIRST_BOOT_SECONDS)
        await self._run_installed(m)

    async def _fetch_config(self, url: str):
        """The config's bytes, or the error getURL gives."""
        try:
            answer = await self.metal.outside.fetch(url, timeout=HTTP_TIMEOUT, sleep=self.metal.clock.sleep)
        except Failure as e:
            return f'Get "{url}": {e.go()}'
        if answer.status < 200 or answer.status >= 400:
            return f"got {answer.status} status code from {url}, body: {answer.body.decode('utf-8', 'replace')}"
        return answer.body

    # ------------------------------------------------------------------ Harvester OS running
    async def _run_installed(self, m: Machine) -> None:
        metal = self.metal
        m.stage = "running"
        disk = m.disk
        if disk.mode == "install":
            metal.step(f"{m.name}: installed (install mode): no cluster to create or join")
            return
        if m.joined:
            return  # back in the cluster it was in
        said = ""
        while True:
            reason = metal.cluster.admit(m)
            if reason is None:
                m.joined = True
                m.reason = ""
                # the create node brought the API up: the VIP listens before anyone reads that it joined
                await metal.sync_listening()
                metal.step(f"{m.name}: installed ({disk.mode}), joined")
                return
            if reason != said:
                m.reason = reason
                metal.step(f"{m.name}: installed ({disk.mode}), not joining: {reason}")
                said = reason
            await metal.clock.sleep(JOIN_RETRY_SECONDS)
