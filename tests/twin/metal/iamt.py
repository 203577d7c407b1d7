"""bmclib's Intel AMT provider as Rufio runs it: jacobweinstock/iamt (d7cdbe67, the version
bmclib v2.3.5 pins) over WS-Management, for the twin's Rufio controller (controllers/rufio.py).

The calls, in IAMT's order (internal/{power,boot,cim}.go, internal/wsman/{client,enumerate}.go):
- Open: POST an empty body without credentials; anything but 401 is "no digest auth at <url>";
  the challenge is kept, every later POST carries the Digest answer, a 401 is answered once more
  with a fresh challenge; HTTP >= 400 is `wsman.Client: post received <status>\\n'<body>'`; a
  SOAP Fault is "SOAP Fault".
- IsPoweredOn: Enumerate + Pull of CIM_AssociatedPowerManagementService; on iff PowerState 2.
- PowerOn: nothing when on, else RequestPowerStateChange(2); PowerOff: the first of [12, 8, 13,
  6] AMT offers; PowerCycle: PowerOn when off, else the first of [15, 5, 14, 16, 9, 10]. Each
  re-reads the state and refuses a value AMT does not offer ("there is no implemented transition
  state to <n> ..."); the ManagedElement is the EPR of CIM_ComputerSystem Name=ManagedSystem
  (EnumerateEPR); the ReturnValue is read but not checked.
- SetPXE: Get AMT_BootSettingData, Put it back without the read-only fields and with BIOSPause,
  BIOSSetup false and BootMediaIndex 0; SetBootConfigRole(Role 1, the EPR of "Intel(r) AMT: Boot
  Configuration 0"); ChangeBootOrder(the EPR of "Intel(r) AMT: Force PXE Boot"); a ReturnValue
  other than 0 is "received invalid return value <n>".

Connections go to 127.0.0.1 only: `route(host, port)` (the Rufio controller's) maps a lab OOB
address to the twin's endpoint of that node, and anything else fails as unreachable before a
socket is opened.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import ssl
import xml.etree.ElementTree as ET

import aiohttp

from . import wsman

POWER_OFF_STATES = [12, 8, 13, 6]
POWER_CYCLE_STATES = [15, 5, 14, 16, 9, 10]
READ_ONLY = {"WinREBootEnabled", "UEFILocalPBABootEnabled", "UEFIHTTPSBootEnabled", "SecureBootControlEnabled",
             "BootguardStatus", "OptionsCleared", "BIOSLastStatus", "UefiBootParametersArray"}
_CHALLENGE = re.compile(r'(\w+)="?([^",]*)"?')


class IamtError(Exception):
    """An error as IAMT returns it (its text is what Rufio records, after bmclib's wrapping)."""


class Unreachable(IamtError):
    """No connection was made (an address the twin does not reach)."""


class Client:
    """One IAMT client: `url` is <scheme>://<host>:<port>/wsman as IAMT builds it (for messages),
    `connect_to` the (host, port) actually dialled (127.0.0.1 and the endpoint's port)."""

    def __init__(self, url: str, connect_to: tuple[str, int] | None, user: str, password: str, timeout: float):
        self.url, self.connect_to, self.user, self.password = url, connect_to, user, password
        self.timeout = timeout
        self.challenge: dict[str, str] | None = None
        self.nc = 0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        connector = aiohttp.TCPConnector(ssl=_insecure())
        self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self

    @property
    def dial_url(self) -> str:
        """The URL actually requested: the same scheme and path, at the address the twin reaches."""
        scheme = self.url.split("://", 1)[0]
        host, port = self.connect_to
        return f"{scheme}://{host}:{port}/wsman"

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.close()

    # ------------------------------------------------------------------ transport
    async def _post(self, body: bytes | None, auth: str | None = None) -> tuple[int, str, dict, bytes]:
        if self.connect_to is None:
            raise Unreachable(f'Post "{self.url}": dial tcp {_address(self.url)}: i/o timeout')
        headers = {"Content-Type": "application/soap+xml; charset=utf-8"} if body else {}
        if auth:
            headers["Authorization"] = auth
        try:
            async with self._session.post(self.dial_url, data=body or b"", headers=headers) as resp:
                return resp.status, resp.reason or "", dict(resp.headers), await resp.read()
        except aiohttp.ClientConnectorError as e:
            os_error = getattr(e, "os_error", None)
            if isinstance(os_error, ConnectionRefusedError):
                detail = f"dial tcp {_address(self.url)}: connect: connection refused"
            elif isinstance(os_error, ssl.SSLError) or "SSL" in str(e):
                detail = "http: server gave HTTP response to HTTPS client"
            else:
                detail = f"dial tcp {_address(self.url)}: {e}"
            raise IamtError(f'Post "{self.url}": {detail}') from None
        except aiohttp.ClientOSError as e:
            raise IamtError(f'Post "{self.url}": {e}') from None
        except aiohttp.ServerDisconnectedError:
            raise IamtError(f'Post "{self.url}": EOF') from None
        except TimeoutError:
            raise IamtError(f'Post "{self.url}": context deadline exceeded') from None

    async def open(self) -> None:
        try:
            status, _, headers, _ = await self._post(None)
        except Unreachable as e:
            raise IamtError(f"unable to perform digest auth with {self.url}: {e}") from None
        except IamtError as e:
            raise IamtError(f"unable to perform digest auth with {self.url}: {e}") from None
        if status != 401:
            raise IamtError(f"no digest auth at {self.url}")
        self.challenge = _parse_challenge(headers.get("WWW-Authenticate", ""))

    def _authorize(self) -> str:
        c = self.challenge or {}
        self.nc += 1
        cnonce = secrets.token_hex(8)
        ha1 = _md5(f"{self.user}:{c.get('realm', '')}:{self.password}")
        ha2 = _md5("POST:/wsman")
        nc = f"{self.nc:08x}"
        response = _md5(f"{ha1}:{c.get('nonce', '')}:{nc}:{cnonce}:auth:{ha2}")
        return (f'Digest username="{self.user}",realm="{c.get("realm", "")}",nonce="{c.get("nonce", "")}",'
                f'uri="/wsman",response="{response}",algorithm="MD5",qop=auth,nc={nc},cnonce="{cnonce}"')

    async def post(self, envelope: bytes) -> wsman.Reply:
        if self.challenge is None:
            await self.open()
        status, reason, headers, data = await self._post(envelope, self._authorize())
        if status == 401:
            self.challenge = _parse_challenge(headers.get("WWW-Authenticate", ""))
            status, reason, headers, data = await self._post(envelope, self._authorize())
        if status >= 400:
            raise IamtError(f"wsman.Client: post received {status} {reason}\n'{data.decode('utf-8', 'replace')}'")
        try:
            reply = wsman.parse_reply(data)
        except ET.ParseError as e:
            raise IamtError(str(e)) from None
        if reply.fault is not None:
            raise IamtError("SOAP Fault")
        return reply

    # ------------------------------------------------------------------ WS-Man operations
    def _msg(self, action: str, resource: str, body: str = "") -> bytes:
        return wsman.request(action, self.url, resource, body)

    async def enumerate(self, cls: str, epr: bool = False) -> list[ET.Element]:
        uri = wsman.class_uri(cls)
        mode = '<w:EnumerationMode>EnumerateEPR</w:EnumerationMode>' if epr else ""
        reply = await self.post(self._msg(wsman.ENUMERATE, uri, f"<n:Enumerate>{mode}</n:Enumerate>"))
        if reply.action != wsman.ENUMERATE + "Response":
            raise IamtError("not an EnumerateResponse message")
        items: list[ET.Element] = []
        context = _find(reply.body, "EnumerationContext")
        while context is not None:
            pull = self._msg(wsman.PULL, uri, f"<n:Pull><n:EnumerationContext>{context.text or ''}</n:EnumerationContext>"
                                              f"{mode}</n:Pull>")
            nxt = await self.post(pull)
            found = _find(nxt.body, "Items")
            if found is not None:
                items.extend(list(found))
            context = _find(nxt.body, "EnumerationContext")
        return items

    async def _epr(self, cls: str, selector: str, value: str) -> str:
        for item in await self.enumerate(cls, epr=True):
            if wsman.selectors_in(item).get(selector) == value:
                return "".join(ET.tostring(c, encoding="unicode") for c in item)
        raise IamtError(f"could not find endpoint reference with selector {selector}={value}")

    async def power_status(self) -> tuple[int, list[int]]:
        for item in await self.enumerate("CIM_AssociatedPowerManagementService"):
            if item.tag == "{" + wsman.class_uri("CIM_AssociatedPowerManagementService") + "}CIM_AssociatedPowerManagementService":
                state = int(_text(item, "PowerState") or 0)
                available = [int(e.text) for e in item if wsman.local(e) == "AvailableRequestedPowerStates"]
                return state, available
        raise IamtError("did not receive CIM_AssociatedPowerManagementService enumeration item")

    async def is_powered_on(self) -> bool:
        state, _ = await self.power_status()
        return state == 2

    async def _request_power_state(self, value: int) -> None:
        state, available = await self.power_status()
        if value not in available:
            raise IamtError(f"there is no implemented transition state to <{value}> from the current machine state "
                            f"<{state}>. available states are: {_golist(available)}")
        element = await self._epr("CIM_ComputerSystem", "Name", "ManagedSystem")
        uri = wsman.class_uri("CIM_PowerManagementService")
        body = (f'<p:RequestPowerStateChange_INPUT xmlns:p="{uri}"><p:PowerState>{value}</p:PowerState>'
                f"<p:ManagedElement>{element}</p:ManagedElement></p:RequestPowerStateChange_INPUT>")
        await self.post(self._msg(f"{uri}/RequestPowerStateChange", uri, body))

    async def power_on(self) -> None:
        if await self.is_powered_on():
            return
        await self._request_power_state(2)

    async def power_off(self) -> None:
        state, available = await self.power_status()
        if state != 2:
            return
        value = next((s for s in POWER_OFF_STATES if s in available), 0)
        if not value:
            raise IamtError(f'there is no implemented transition state to power off the machine from the current '
                            f'machine state "{_golist([state])[1:-1]}". available states are: {_golist(available)}')
        await self._request_power_state(value)

    async def power_cycle(self) -> None:
        state, available = await self.power_status()
        if state != 2:
            await self.power_on()
            return
        value = next((s for s in POWER_CYCLE_STATES if s in available), 0)
        await self._request_power_state(value)

    async def set_pxe(self) -> None:
        uri = wsman.class_uri("AMT_BootSettingData")
        reply = await self.post(self._msg(wsman.GET, uri))
        data = reply.body
        if data is None or wsman.local(data) != "AMT_BootSettingData":
            raise IamtError("response was missing the AMT_BootSettingData")
        kept = []
        for e in data:
            name = wsman.local(e)
            if name in READ_ONLY:
                continue
            text = {"BIOSPause": "false", "BIOSSetup": "false", "BootMediaIndex": "0"}.get(name, e.text or "")
            kept.append(f"<d:{name}>{_esc(text)}</d:{name}>")
        await self.post(self._msg(wsman.PUT, uri, f'<d:AMT_BootSettingData xmlns:d="{uri}">{"".join(kept)}'
                                                   "</d:AMT_BootSettingData>"))
        config = await self._epr("CIM_BootConfigSetting", "InstanceID", "Intel(r) AMT: Boot Configuration 0")
        service = wsman.class_uri("CIM_BootService")
        await self._invoke_checked(service, "SetBootConfigRole",
                                   f"<p:BootConfigSetting>{config}</p:BootConfigSetting><p:Role>1</p:Role>")
        source = await self._epr("CIM_BootSourceSetting", "InstanceID", "Intel(r) AMT: Force PXE Boot")
        await self._invoke_checked(wsman.class_uri("CIM_BootConfigSetting"), "ChangeBootOrder",
                                   f"<p:Source>{source}</p:Source>")

    async def _invoke_checked(self, uri: str, method: str, params: str) -> None:
        body = f'<p:{method}_INPUT xmlns:p="{uri}">{params}</p:{method}_INPUT>'
        reply = await self.post(self._msg(f"{uri}/{method}", uri, body))
        rv = next((e for e in (reply.body.iter() if reply.body is not None else []) if wsman.local(e) == "ReturnValue"),
                  None)
        if rv is None:
            raise IamtError("no ReturnValue found in the response")
        if int(rv.text or -1) != 0:
            raise IamtError(f"received invalid return value {int(rv.text)}")


def _insecure() -> ssl.SSLContext:
    """IAMT: TLSClientConfig InsecureSkipVerify (it does not check AMT's certificate)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _parse_challenge(header: str) -> dict[str, str]:
    _, _, rest = header.partition(" ")
    return {k.lower(): v for k, v in _CHALLENGE.findall(rest)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest auth is MD5 by definition


def _address(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _find(elem: ET.Element | None, name: str) -> ET.Element | None:
    if elem is None:
        return None
    return next((e for e in elem.iter() if wsman.local(e) == name), None)


def _text(elem: ET.Element, name: str) -> str | None:
    found = next((e for e in elem if wsman.local(e) == name), None)
    return found.text if found is not None else None


def _golist(values: list[int]) -> str:
    """Go's %v of a []powerState: the stringer's names (power_string.go)."""
    names = {0: "unknown", 1: "other", 2: "stateOn", 3: "sleepLight", 4: "sleepDeep", 5: "powerCycleOffSoft", 6: "offHard",
             7: "hibernateOffSoft", 8: "offSoft", 9: "powerCycleOffHard", 10: "masterBusReset",
             11: "diagnosticInterruptNMI", 12: "offSoftGraceful", 13: "offHardGraceful", 14: "masterBusResetGraceful",
             15: "powerCycleOffSoftGraceful", 16: "powerCycleOffHardGraceful", 17: "diagnosticInterruptInit"}
    return "[" + " ".join(names.get(v, f"powerState({v})") for v in values) + "]"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
