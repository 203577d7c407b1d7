"""A node's Intel AMT as its WS-Management endpoint answers: `POST /wsman` on its own 127.0.0.1
port, HTTP (as 16992) or, with `--amt-tls`, HTTPS with a self-signed certificate (as 16993).
Facts: ../shared/reference/amt.md (each call's section is named below).

- Auth (§1, §8): HTTP Digest, MD5, qop=auth, user `admin`. A request without a valid
  Authorization (the empty-body probe IAMT's Open sends, a wrong password, a nonce AMT did not
  issue) is answered 401 with `WWW-Authenticate: Digest realm="Digest:<hex>", nonce="...",
  stale="false|true", qop="auth"` (only tokens IAMT's parser accepts, no comma inside a value).
- Power (§3, §4): Get, or Enumerate + Pull, of CIM_AssociatedPowerManagementService (and of
  CIM_ServiceAvailableToElement, which AMT answers with the same items); RequestPowerStateChange
  on CIM_PowerManagementService with the ManagedElement reference to CIM_ComputerSystem
  ManagedSystem: ReturnValue 0, or 2 for a state not in AvailableRequestedPowerStates, 5 without
  PowerState or ManagedElement.
- One-time boot (§5): Get/Put AMT_BootSettingData, ChangeBootOrder on CIM_BootConfigSetting
  (Source = the CIM_BootSourceSetting reference; no Source clears it; an unknown source: 4
  Invalid Reference), SetBootConfigRole on CIM_BootService (Role 1 or 32768, else 5; a
  BootConfigSetting reference other than "Intel(r) AMT: Boot Configuration 0": 4).
- EPR enumeration (§5) of CIM_ComputerSystem, CIM_BootConfigSetting, CIM_BootSourceSetting,
  CIM_PowerManagementService, CIM_BootService (what IAMT looks its references up with); Get of
  each instance by its key selector.
- Anything else is a SOAP Fault with HTTP 400 (§4): an unknown ResourceURI
  wsa:DestinationUnreachable, an unknown action wsa:ActionNotSupported, an unknown enumeration
  context wsen:InvalidEnumerationContext, a wrong selector wsman:InvalidSelectors, a body that is
  not a WS-Man envelope wsman:SchemaValidationError.

The power and boot state itself is the Machine's (machine.py); a change starts the node.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
import ssl
from typing import TYPE_CHECKING

from aiohttp import web

from . import wsman
from .listener import SwitchedListener
from .machine import BOOT_SOURCES, IS_NEXT_SINGLE_USE, IS_NOT_NEXT, READ_ONLY_SETTINGS, Machine
from .wsman import Instance, Request, epr

if TYPE_CHECKING:
    from . import Metal

log = logging.getLogger("twin.metal.amt")

USER = "admin"
SERVER = "Intel(R) Active Management Technology 19.0.5"  # ours: the firmware's string is not captured
UNAUTHORIZED_BODY = ("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n<html><head>"
                     "<title>Intel&reg; Active Management Technology</title></head><body>"
                     "<h1>401 Unauthorized</h1></body></html>\n")  # ours
BOOT_CONFIG = "Intel(r) AMT: Boot Configuration 0"
POWER_SERVICE = "Intel(r) AMT Power Management Service"
BOOT_SERVICE = "Intel(r) AMT Boot Service"
_AUTH_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')
MAX_NONCES = 64


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest auth is MD5 by definition


class AmtEndpoint:
    """The WS-Man endpoint of one machine."""

    def __init__(self, metal: Metal, machine: Machine, password: str, ssl_context: ssl.SSLContext | None):
        self.metal, self.machine, self.password = metal, machine, password
        self.ssl_context = ssl_context
        self.realm = "Digest:" + hashlib.sha256(machine.name.encode()).hexdigest()[:32].upper()
        self.nonces: list[str] = []
        self.contexts: dict[str, tuple[list[Instance], bool]] = {}
        self.listener: SwitchedListener | None = None

    @property
    def tls(self) -> bool:
        return self.ssl_context is not None

    # ------------------------------------------------------------------ serving
    @property
    def port(self) -> int:
        return self.listener.port if self.listener is not None else 0

    async def start(self) -> int:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.listener = SwitchedListener(app, self.ssl_context, shutdown_timeout=0.5)
        return await self.listener.start()

    async def set_provisioned(self, provisioned: bool) -> None:
        """An unprovisioned AMT does not listen on its ports (connection refused)."""
        self.machine.amt_provisioned = provisioned
        if self.listener is not None:
            await self.listener.listen(provisioned)

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response, what = await self._handle(request)
        # the calls this AMT answered, for /_twin/metal (a test sees what a client asked)
        self.machine.calls.append(f"{what} {response.status}")
        return response

    async def _handle(self, request: web.Request) -> tuple[web.StreamResponse, str]:
        if request.method != "POST" or request.path != "/wsman":
            return web.Response(status=404, text="Not Found", headers={"Server": SERVER}), f"{request.method} {request.path}"
        body = await request.read()
        stale = self._check_auth(request)
        if stale is not None:
            return self._challenge(stale), "-"
        try:
            req = wsman.parse_request(body)
        except wsman.BadRequest:
            return self._fault("", "a:Sender", "c:SchemaValidationError",
                               "The supplied SOAP violates the corresponding XML Schema definition."), "?"
        what = f"{req.action.rsplit('/', 1)[-1]} {req.cls}"
        try:
            return self._reply(self.dispatch(req)), what
        except _Fault as f:
            return self._fault(req.message_id, f.code, f.subcode, f.reason, f.detail), what

    # ------------------------------------------------------------------ digest auth
    def _challenge(self, stale: bool) -> web.Response:
        nonce = secrets.token_hex(16)
        self.nonces = (self.nonces + [nonce])[-MAX_NONCES:]
        header = f'Digest realm="{self.realm}", nonce="{nonce}", stale="{"true" if stale else "false"}", qop="auth"'
        return web.Response(status=401, text=UNAUTHORIZED_BODY, content_type="text/html",
                            headers={"WWW-Authenticate": header, "Server": SERVER})

    def _check_auth(self, request: web.Request) -> bool | None:
        """None when authorized; else whether the challenge is stale (a nonce we no longer know)."""
        header = request.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "digest":
            return False
        p = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
             for m in _AUTH_PARAM.finditer(rest)}
        if p.get("username") != USER or p.get("realm") != self.realm:
            return False
        if p.get("algorithm", "MD5").upper() != "MD5" or p.get("qop") != "auth":
            return False
        if p.get("nonce") not in self.nonces:
            return True
        if p.get("uri") not in (request.path_qs, request.path):
            return False
        ha1 = _md5(f"{USER}:{self.realm}:{self.password}")
        ha2 = _md5(f"{request.method}:{p.get('uri')}")
        expected = _md5(f"{ha1}:{p['nonce']}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")
        if not secrets.compare_digest(expected, p.get("response", "")):
            return False
        return None

    # ------------------------------------------------------------------ replies
    @staticmethod
    def _reply(text: str) -> web.Response:
        return web.Response(status=200, body=text.encode(), headers={"Content-Type": wsman.CONTENT_TYPE,
                                                                      "Server": SERVER})

    @staticmethod
    def _fault(relates_to: str, code: str, subcode: str, reason: str, detail: str = "") -> web.Response:
        return web.Response(status=400, body=wsman.fault(relates_to, code, subcode, reason, detail).encode(),
                            headers={"Content-Type": wsman.CONTENT_TYPE, "Server": SERVER})

    # ------------------------------------------------------------------ the instances
    def _instances(self, cls: str) -> list[Instance]:
        m = self.machine
        computer = [("CreationClassName", "CIM_ComputerSystem"), ("Name", "ManagedSystem")]
        power_service = [("CreationClassName", "CIM_PowerManagementService"), ("Name", POWER_SERVICE),
                         ("SystemCreationClassName", "CIM_ComputerSystem"), ("SystemName", "Intel(r) AMT")]
        if cls in ("CIM_AssociatedPowerManagementService", "CIM_ServiceAvailableToElement"):
            return [Instance("CIM_AssociatedPowerManagementService", [
                ("AvailableRequestedPowerStates", m.available_states()), ("PowerState", m.power),
                ("ServiceProvided", epr("CIM_PowerManagementService", power_service)),
                ("UserOfService", epr("CIM_ComputerSystem", computer))])]
        if cls == "CIM_ComputerSystem":
            return [Instance("CIM_ComputerSystem", [("CreationClassName", "CIM_ComputerSystem"),
                                                    ("ElementName", "Managed System"), ("Name", "ManagedSystem")],
                             computer),
                    Instance("CIM_ComputerSystem", [("CreationClassName", "CIM_ComputerSystem"),
                                                    ("ElementName", "Intel(r) AMT Subsystem"), ("Name", "Intel(r) AMT")],
                             [("CreationClassName", "CIM_ComputerSystem"), ("Name", "Intel(r) AMT")])]
        if cls == "CIM_PowerManagementService":
            return [Instance("CIM_PowerManagementService", [
                ("CreationClassName", "CIM_PowerManagementService"), ("ElementName", POWER_SERVICE),
                ("Name", POWER_SERVICE), ("SystemCreationClassName", "CIM_ComputerSystem"),
                ("SystemName", "Intel(r) AMT")], power_service)]
        if cls == "CIM_BootService":
            keys = [("CreationClassName", "CIM_BootService"), ("Name", BOOT_SERVICE),
                    ("SystemCreationClassName", "CIM_ComputerSystem"), ("SystemName", "Intel(r) AMT")]
            return [Instance("CIM_BootService", [("CreationClassName", "CIM_BootService"), ("ElementName", BOOT_SERVICE),
                                                 ("Name", BOOT_SERVICE), ("SystemCreationClassName", "CIM_ComputerSystem"),
                                                 ("SystemName", "Intel(r) AMT")], keys)]
        if cls == "CIM_BootConfigSetting":
            return [Instance("CIM_BootConfigSetting", [("ElementName", "Intel(r) AMT: Boot Configuration"),
                                                       ("InstanceID", BOOT_CONFIG)], [("InstanceID", BOOT_CONFIG)])]
        if cls == "CIM_BootSourceSetting":
            strings = {"Intel(r) AMT: Force Hard-drive Boot": "CIM:Hard-Disk:1",
                       "Intel(r) AMT: Force PXE Boot": "CIM:Network:1", "Intel(r) AMT: Force CD/DVD Boot": "CIM:CD/DVD:1"}
            return [Instance("CIM_BootSourceSetting", [("ElementName", "Intel(r) AMT: Boot Source"),
                                                       ("FailThroughSupported", 2), ("InstanceID", s),
                                                       ("StructuredBootString", strings[s])], [("InstanceID", s)])
                    for s in BOOT_SOURCES]
        if cls == "AMT_BootSettingData":
            return [Instance("AMT_BootSettingData", list(m.boot_settings),
                             [("InstanceID", "Intel(r) AMT:BootSettingData 0")])]
        if cls == "AMT_BootCapabilities":
            return [Instance("AMT_BootCapabilities", [
                ("BIOSReflash", True), ("BIOSSetup", True), ("BIOSPause", False), ("ElementName", "Intel(r) AMT: Boot Capabilities"),
                ("ForceCDorDVDBoot", True), ("ForceDiagnosticBoot", False), ("ForceHardDriveBoot", True),
                ("ForceHardDriveSafeModeBoot", False), ("ForcePXEBoot", True), ("ForcedProgressEvents", True),
                ("IDER", True), ("InstanceID", "Intel(r) AMT:BootCapabilities 0"), ("KeyboardLock", True),
                ("PowerButtonLock", False), ("ResetButtonLock", False), ("SOL", True), ("SleepButtonLock", False),
                ("UserPasswordBypass", True), ("VerbosityQuiet", False), ("VerbosityScreenBlank", False),
                ("VerbosityVerbose", False)], [("InstanceID", "Intel(r) AMT:BootCapabilities 0")])]
        return []

    # ------------------------------------------------------------------ dispatch
    def dispatch(self, req: Request) -> str:
        cls = req.cls
        if not req.resource or not self._instances(cls):
            raise _Fault("a:Sender", "b:DestinationUnreachable",
                         "No route can be determined to reach the destination role defined by the WSAddressing To.",
                         "<c:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI"
                         "</c:FaultDetail>")
        if req.action == wsman.GET:
            return wsman.get_response(req, self._selected(req))
        if req.action == wsman.ENUMERATE:
            return self._enumerate(req)
        if req.action == wsman.PULL:
            return self._pull(req)
        if req.action == wsman.RELEASE:
            context = (wsman.child(req.body, "EnumerationContext").text or "").strip() \
                if wsman.child(req.body, "EnumerationContext") is not None else ""
            self.contexts.pop(context, None)
            return wsman.release_response(req)
        if req.action == wsman.PUT and cls == "AMT_BootSettingData":
            return self._put_boot_settings(req)
        method = req.action[len(req.resource) + 1:] if req.action.startswith(req.resource + "/") else ""
        handler = {("CIM_PowerManagementService", "RequestPowerStateChange"): self._request_power_state_change,
                   ("CIM_BootConfigSetting", "ChangeBootOrder"): self._change_boot_order,
                   ("CIM_BootService", "SetBootConfigRole"): self._set_boot_config_role}.get((cls, method))
        if handler is None:
            raise _Fault("a:Sender", "b:ActionNotSupported", "The action is not supported by the service.",
                         f"<c:FaultDetail>{req.action}</c:FaultDetail>")
        self._selected(req)  # a header SelectorSet must name the instance (none is fine)
        return wsman.invoke_response(req, method, handler(req))

    def _selected(self, req: Request) -> Instance:
        instances = self._instances(req.cls)
        if not req.selectors:
            return instances[0]
        for inst in instances:
            keys = dict(inst.keys)
            if all(keys.get(k) == v for k, v in req.selectors.items()):
                return inst
        raise _Fault("a:Sender", "c:InvalidSelectors", "The Selectors for the resource were not valid.",
                     "<c:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue</c:FaultDetail>")

    def _enumerate(self, req: Request) -> str:
        mode = wsman.child(req.body, "EnumerationMode")
        eprs = mode is not None and (mode.text or "").strip() == "EnumerateEPR"
        context = f"{secrets.token_hex(4).upper()}-0000-0000-0000-000000000000"
        self.contexts[context] = (self._instances(req.cls), eprs)
        if len(self.contexts) > 32:
            self.contexts.pop(next(iter(self.contexts)))
        return wsman.enumerate_response(req, context)

    def _pull(self, req: Request) -> str:
        elem = wsman.child(req.body, "EnumerationContext")
        context = (elem.text or "").strip() if elem is not None else ""
        if context not in self.contexts:
            raise _Fault("a:Sender", "g:InvalidEnumerationContext", "The supplied enumeration context is invalid.")
        items, eprs = self.contexts.pop(context)
        return wsman.pull_response(req, items, eprs)

    # ------------------------------------------------------------------ methods
    def _request_power_state_change(self, req: Request) -> int:
        params = req.body
        state = wsman.child(params, "PowerState")
        element = wsman.child(params, "ManagedElement")
        if state is None or element is None:
            return 5
        try:
            value = int((state.text or "").strip())
        except ValueError:
            return 5
        if wsman.selectors_in(element).get("Name") != "ManagedSystem":
            return 5
        return self.metal.runner.request_power(self.machine, value)

    def _change_boot_order(self, req: Request) -> int:
        source = wsman.child(req.body, "Source")
        if source is None:
            self.machine.boot_source = None
            return 0
        wanted = wsman.selectors_in(source).get("InstanceID")
        if wanted not in BOOT_SOURCES:
            return 4
        self.machine.boot_source = wanted
        return 0

    def _set_boot_config_role(self, req: Request) -> int:
        setting = wsman.child(req.body, "BootConfigSetting")
        role = wsman.child(req.body, "Role")
        if setting is None or role is None:
            return 5
        if wsman.selectors_in(setting).get("InstanceID") != BOOT_CONFIG:
            return 4
        try:
            value = int((role.text or "").strip())
        except ValueError:
            return 5
        if value not in (IS_NEXT_SINGLE_USE, IS_NOT_NEXT):
            return 5
        self.machine.boot_role = value
        return 0

    def _put_boot_settings(self, req: Request) -> str:
        data = req.body
        if data is None or wsman.local(data) != "AMT_BootSettingData":
            raise _Fault("a:Sender", "c:InvalidRepresentation", "The XML content is invalid.")
        given = {wsman.local(e): (e.text or "").strip() for e in data}
        settings = []
        for name, value in self.machine.boot_settings:
            if name in given and name not in READ_ONLY_SETTINGS:
                value = _typed(value, given[name])
            settings.append((name, value))
        self.machine.boot_settings = settings
        return wsman.put_response(req, self._instances("AMT_BootSettingData")[0])


def _typed(old, text: str):
    if isinstance(old, bool):
        return text.lower() == "true"
    if isinstance(old, int):
        try:
            return int(text)
        except ValueError:
            return old
    return text


class _Fault(Exception):
    def __init__(self, code: str, subcode: str, reason: str, detail: str = ""):
        super().__init__(reason)
        self.code, self.subcode, self.reason, self.detail = code, subcode, reason, detail

