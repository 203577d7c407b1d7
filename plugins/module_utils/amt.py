# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Intel AMT's WS-Management interface: the SOAP 1.2 envelopes of the calls that read and change
a host's power state and set a one-time PXE boot, HTTP Digest authentication (MD5, qop=auth), and
the errors AMT answers with, over one kept-alive ``http.client`` connection. Standard library only.

Facts (``/work/shared/reference/amt.md``, from Intel's AMT SDK reference, DMTF DSP1027 and the
clients Intel, Ironic, bmclib/Rufio and Open AMT use):

- every call is one POST of a SOAP envelope to ``http://<amt>:16992/wsman`` or
  ``https://<amt>:16993/wsman`` (TLS, the AMT's self-signed certificate unless one was
  provisioned); Digest auth, user ``admin``: a request without credentials is answered 401 with
  ``WWW-Authenticate: Digest realm=..., nonce=..., qop="auth"``;
- power state: WS-Transfer Get of ``CIM_AssociatedPowerManagementService`` -> ``PowerState``
  (2 on, 8 off, ...) and ``AvailableRequestedPowerStates``; change it with
  ``CIM_PowerManagementService.RequestPowerStateChange`` (2 on, 5 cycle, 8 off, 10 reset);
- one-time PXE: Get and Put ``AMT_BootSettingData`` (boot options cleared), ``CIM_BootConfigSetting.
  ChangeBootOrder`` with the source ``Intel(r) AMT: Force PXE Boot``, ``CIM_BootService.
  SetBootConfigRole`` with role 1 (IsNextSingleUse); AMT applies it at the next power change it
  makes itself, then forgets it;
- WS-Man errors are HTTP 400 (or 500) with a SOAP Fault; methods answer a ``ReturnValue``
  (0 = completed).

    client = AmtClient("10.10.10.31", 16993, tls=True, user="admin", password=..., verify=False)
    state = client.power_state()            # PowerState(code=8, available=(2,))
    client.request_power_state_change(2)    # raises ReturnValueError unless ReturnValue 0
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import ssl
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from .errors import ConnectionFailure, HarvesterError, RequestTimeout, TLSFailure, connection_failure, one_line
from .kept_connection import KeptConnection

HTTP_PORT = 16992
TLS_PORT = 16993
PATH = "/wsman"
DEFAULT_TIMEOUT = 30.0

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
ANONYMOUS = ADDRESSING + "/role/anonymous"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
INTEL = "http://intel.com/wbem/wscim/1/amt-schema/1/"

ASSOCIATED_POWER = CIM + "CIM_AssociatedPowerManagementService"
POWER_SERVICE = CIM + "CIM_PowerManagementService"
COMPUTER_SYSTEM = CIM + "CIM_ComputerSystem"
BOOT_SETTING_DATA = INTEL + "AMT_BootSettingData"
BOOT_CONFIG_SETTING = CIM + "CIM_BootConfigSetting"
BOOT_SOURCE_SETTING = CIM + "CIM_BootSourceSetting"
BOOT_SERVICE = CIM + "CIM_BootService"

POWER_SERVICE_NAME = "Intel(r) AMT Power Management Service"
BOOT_SERVICE_NAME = "Intel(r) AMT Boot Service"
BOOT_CONFIG_ID = "Intel(r) AMT: Boot Configuration 0"
PXE_SOURCE = "Intel(r) AMT: Force PXE Boot"
ROLE_NEXT_SINGLE_USE = 1

# PowerState ValueMap (Intel's "Change System Power State", DSP1027)
POWER_STATES = {2: "on", 3: "sleep (light)", 4: "sleep (deep)", 5: "power cycle (off soft)", 6: "off (hard)",
                7: "hibernate", 8: "off (soft)", 9: "power cycle (off hard)", 10: "master bus reset",
                11: "diagnostic interrupt (NMI)", 12: "off (soft graceful)", 13: "off (hard graceful)",
                14: "master bus reset (graceful)", 15: "power cycle (off soft graceful)",
                16: "power cycle (off hard graceful)"}
# RequestPowerStateChange ReturnValue (DMTF ValueMap, as Open AMT decodes it)
POWER_RETURN_VALUES = {0: "Completed with No Error", 1: "Method Not Supported", 2: "Unknown/Unspecified Error",
                       3: "Cannot complete within Timeout Period", 4: "Failed", 5: "Invalid Parameter", 6: "In Use",
                       4096: "Method Parameters Checked - Job Started", 4097: "Invalid State Transition",
                       4098: "Use of Timeout Parameter Not Supported", 4099: "Busy"}
# ChangeBootOrder / SetBootConfigRole ReturnValue
BOOT_RETURN_VALUES = {0: "Completed with No Error", 1: "Not Supported", 2: "Unknown Error", 3: "Busy",
                      4: "Invalid Reference", 5: "Invalid Parameter", 6: "Access Denied"}

# AMT_BootSettingData properties AMT refuses in a Put (read-only, CSME 15+ One-Click Recovery among them)
READ_ONLY_BOOT_SETTINGS = ("WinREBootEnabled", "UEFILocalPBABootEnabled", "UEFIHTTPSBootEnabled",
                           "SecureBootControlEnabled", "BootguardStatus", "OptionsCleared", "BIOSLastStatus",
                           "UefiBootParametersArray", "RPEEnabled")
# What a plain network boot needs cleared: no BIOS pause or setup screen, no redirection, no locks
CLEARED_BOOT_SETTINGS = {"BIOSPause": "false", "BIOSSetup": "false", "BootMediaIndex": "0", "UseIDER": "false",
                         "UseSOL": "false", "UseSafeMode": "false", "UserPasswordBypass": "false",
                         "ConfigurationDataReset": "false", "FirmwareVerbosity": "0", "LockKeyboard": "false",
                         "LockPowerButton": "false", "LockResetButton": "false", "LockSleepButton": "false",
                         "ReflashBIOS": "false", "SecureErase": "false"}


# --- the options that reach AMT ----------------------------------------------------------------
def access_args(validate_certs):
    """The options that reach one node's AMT, as an argument spec: host, port (default by tls),
    tls, user, password and validate_certs (default ``validate_certs``). amt_power talks to AMT with
    them; tinkerbell_machine hands them to Rufio as its ``amt`` suboptions."""
    return {
        "host": {"type": "str", "required": True},
        "port": {"type": "int"},
        "tls": {"type": "bool", "default": True},
        "user": {"type": "str", "default": "admin"},
        "password": {"type": "str", "required": True, "no_log": True},
        "validate_certs": {"type": "bool", "default": validate_certs},
    }


# --- errors ------------------------------------------------------------------------------------
class AmtError(HarvesterError):
    """AMT answered, but not with what was asked for."""

    def __init__(self, message, endpoint=""):
        super().__init__(message)
        self.endpoint = endpoint

    def as_dict(self):
        return {"endpoint": self.endpoint}


class AuthRefused(AmtError):
    """AMT refused the Digest credentials (401 again after answering the challenge)."""


class NotWsman(AmtError):
    """Something answered on the port, but not AMT's WS-Management (no Digest challenge, 404...)."""


class SoapFault(AmtError):
    """A SOAP Fault: ``code`` (``a:Sender``), ``subcode`` (``b:DestinationUnreachable``), ``reason``."""

    def __init__(self, message, endpoint="", code="", subcode="", reason="", status=None):
        super().__init__(message, endpoint)
        self.code, self.subcode, self.reason, self.status = code, subcode, reason, status

    def as_dict(self):
        return dict(super().as_dict(), fault={"code": self.code, "subcode": self.subcode, "reason": self.reason})


class ReturnValueError(AmtError):
    """A method answered a ReturnValue other than 0."""

    def __init__(self, message, endpoint="", method="", value=None, name=""):
        super().__init__(message, endpoint)
        self.method, self.value, self.name = method, value, name

    def as_dict(self):
        return dict(super().as_dict(), method=self.method, return_value=self.value, return_value_name=self.name)


class _Plain:
    """An AMT connection failure reads as its message alone (no API path to prefix it with)."""

    def __str__(self):
        return one_line(self.message)


class Unreachable(_Plain, ConnectionFailure):
    """No usable answer: refused, reset, unreachable, name not resolved."""


class TLSError(_Plain, TLSFailure):
    """The certificate was not trusted, or the handshake failed."""


class Timeout(_Plain, RequestTimeout):
    """No connection or no answer within ``timeout``."""


_FAILURES = {"tls": TLSError, "timeout": Timeout, "other": Unreachable}


# --- envelopes ---------------------------------------------------------------------------------
def _selectors(selectors):
    if not selectors:
        return ""
    items = "".join(f'<w:Selector Name="{escape(k)}">{escape(v)}</w:Selector>' for k, v in selectors.items())
    return f"<w:SelectorSet>{items}</w:SelectorSet>"


def envelope(action, resource, to, body="", selectors=None, message_id=None):
    """A WS-Management request: the addressing header (``Action``, ``To``, ``ResourceURI``,
    ``MessageID``, anonymous ``ReplyTo``, optional ``SelectorSet``) and ``body``."""
    message_id = message_id or f"uuid:{uuid.uuid4()}"
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{SOAP}" xmlns:a="{ADDRESSING}" xmlns:w="{WSMAN}">'
            "<s:Header>"
            f'<a:Action s:mustUnderstand="true">{escape(action)}</a:Action>'
            f'<a:To s:mustUnderstand="true">{escape(to)}</a:To>'
            f'<w:ResourceURI s:mustUnderstand="true">{escape(resource)}</w:ResourceURI>'
            f'<a:MessageID s:mustUnderstand="true">{escape(message_id)}</a:MessageID>'
            f"<a:ReplyTo><a:Address>{ANONYMOUS}</a:Address></a:ReplyTo>"
            f"{_selectors(selectors)}"
            "<w:OperationTimeout>PT60S</w:OperationTimeout>"
            "</s:Header>"
            f"<s:Body>{body}</s:Body>"
            "</s:Envelope>")


def reference(resource, selectors):
    """An endpoint reference as method parameters carry one (``Address`` + ``ReferenceParameters``)."""
    return (f"<a:Address>{ANONYMOUS}</a:Address>"
            f"<a:ReferenceParameters><w:ResourceURI>{escape(resource)}</w:ResourceURI>{_selectors(selectors)}"
            "</a:ReferenceParameters>")


def invoke_body(resource, method, params):
    """``<h:<method>_INPUT xmlns:h=resource>`` with ``params``: ``[(name, xml content), ...]``."""
    inner = "".join(f"<h:{name}>{content}</h:{name}>" for name, content in params)
    return f'<h:{method}_INPUT xmlns:h="{escape(resource)}">{inner}</h:{method}_INPUT>'


def power_change_body(state):
    return invoke_body(POWER_SERVICE, "RequestPowerStateChange", [
        ("PowerState", str(int(state))),
        ("ManagedElement", reference(COMPUTER_SYSTEM, {"CreationClassName": "CIM_ComputerSystem", "Name": "ManagedSystem"})),
    ])


def change_boot_order_body(source):
    return invoke_body(BOOT_CONFIG_SETTING, "ChangeBootOrder", [
        ("Source", reference(BOOT_SOURCE_SETTING, {"InstanceID": source})),
    ])


def set_boot_config_role_body(role):
    return invoke_body(BOOT_SERVICE, "SetBootConfigRole", [
        ("BootConfigSetting", reference(BOOT_CONFIG_SETTING, {"InstanceID": BOOT_CONFIG_ID})),
        ("Role", str(int(role))),
    ])


def boot_setting_data_body(settings):
    """The whole AMT_BootSettingData instance for a Put: ``settings`` is ``[(name, text), ...]``
    in the order read (a property that repeats is listed once per value)."""
    inner = "".join(f"<h:{name}>{escape(value)}</h:{name}>" for name, value in settings)
    return f'<h:AMT_BootSettingData xmlns:h="{BOOT_SETTING_DATA}">{inner}</h:AMT_BootSettingData>'


def cleared_boot_settings(settings):
    """The Put of a read AMT_BootSettingData: read-only properties dropped, the options a network
    boot must not carry (BIOS pause/setup, IDER/SOL, locks...) set to false/0."""
    out = []
    for name, value in settings:
        if name in READ_ONLY_BOOT_SETTINGS:
            continue
        out.append((name, CLEARED_BOOT_SETTINGS.get(name, value)))
    return out


# --- replies -----------------------------------------------------------------------------------
def _local(tag):
    return tag.rpartition("}")[2]


def parse(data):
    """The reply's root element; ``None`` when it is not XML."""
    try:
        return ET.fromstring(data)
    except ET.ParseError:
        return None


def find(element, name):
    """The first descendant whose local name is ``name`` (namespaces differ between firmwares)."""
    if element is None:
        return None
    for child in element.iter():
        if _local(child.tag) == name:
            return child
    return None


def find_all_text(element, name):
    return [(child.text or "").strip() for child in element.iter() if _local(child.tag) == name] if element is not None else []


def fault_of(root):
    """``(code, subcode, reason)`` of a SOAP Fault in the reply, or ``None``."""
    fault = find(root, "Fault")
    if fault is None:
        return None
    code = find(fault, "Code")
    values = find_all_text(code, "Value") if code is not None else []
    reason = find(fault, "Text")
    return (values[0] if values else "", values[1] if len(values) > 1 else "",
            one_line((reason.text or "") if reason is not None else "", 300))


def return_value(root):
    node = find(root, "ReturnValue")
    if node is None or not (node.text or "").strip().lstrip("-").isdigit():
        return None
    return int(node.text.strip())


class PowerState:
    """What ``CIM_AssociatedPowerManagementService`` says: ``code`` (2 on, 8 off...) and the states
    AMT offers to change to from here (``available``)."""

    __slots__ = ("code", "available")

    def __init__(self, code, available=()):
        self.code = code
        self.available = tuple(available)

    @property
    def on(self):
        return self.code == 2  # what bmclib/Rufio and Ironic read as "on"; anything else is not running

    @property
    def name(self):
        return "on" if self.on else "off" if self.code in (6, 8, 12, 13) else POWER_STATES.get(self.code, f"unknown ({self.code})")

    def __repr__(self):
        return f"PowerState(code={self.code}, available={self.available})"


# --- HTTP Digest (RFC 2617 with MD5 and qop=auth, what AMT speaks) ------------------------------
_CHALLENGE_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def parse_challenge(header):
    """The parameters of a ``WWW-Authenticate: Digest ...`` header (``None`` for another scheme)."""
    scheme, dummy, rest = (header or "").strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params = {}
    for key, value in _CHALLENGE_PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key.lower()] = value
    return params


def _md5(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - Digest auth is MD5 by definition (AMT has only MD5)


class Digest:
    """The client side of Digest auth for one user: answers a challenge, counts the nonce's uses."""

    def __init__(self, user, password, cnonce=None):
        self.user = user
        self.password = password
        self.challenge = None
        self.count = 0
        self._cnonce = cnonce

    def accept(self, challenge):
        self.challenge = challenge
        self.count = 0

    def header(self, method, uri):
        """The ``Authorization`` header for the next request, or ``None`` before a challenge."""
        c = self.challenge
        if c is None:
            return None
        algorithm = c.get("algorithm", "MD5")
        if algorithm.upper() != "MD5":
            raise AuthRefused(f"AMT asks for Digest algorithm {algorithm}; only MD5 (what AMT speaks) is supported")
        self.count += 1
        nc = f"{self.count:08x}"
        cnonce = self._cnonce or os.urandom(8).hex()
        ha1 = _md5(f"{self.user}:{c.get('realm', '')}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        qops = [q.strip() for q in c.get("qop", "").split(",") if q.strip()]
        fields = [f'username="{self.user}"', f'realm="{c.get("realm", "")}"', f'nonce="{c.get("nonce", "")}"',
                  f'uri="{uri}"']
        if "auth" in qops:
            response = _md5(f"{ha1}:{c.get('nonce', '')}:{nc}:{cnonce}:auth:{ha2}")
            fields += [f'response="{response}"', 'algorithm="MD5"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:  # RFC 2069 style, no qop
            response = _md5(f"{ha1}:{c.get('nonce', '')}:{ha2}")
            fields += [f'response="{response}"', 'algorithm="MD5"']
        if c.get("opaque"):
            fields.append(f'opaque="{c["opaque"]}"')
        return "Digest " + ", ".join(fields)


# --- transport ---------------------------------------------------------------------------------
class Transport(KeptConnection):
    """One kept-alive HTTP(S) connection to one AMT. ``send(body, headers)`` returns
    ``(status, headers, bytes)`` or raises ``ConnectionFailure`` with a message that says what to
    check (port, TLS, provisioning)."""

    def __init__(self, host, port, tls, verify=True, ca_file=None, timeout=DEFAULT_TIMEOUT):
        self.host, self.port, self.tls = host, int(port), bool(tls)
        self.verify, self.ca_file, self.timeout = verify, ca_file, float(timeout)
        self._conn = None
        self._ctx = None

    @property
    def endpoint(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}{PATH}"

    def _context(self):
        if self._ctx is None:
            if not self.verify:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                try:
                    ctx = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
                except (ssl.SSLError, OSError) as e:
                    raise TLSError(f"cannot load ca_cert {self.ca_file}: {getattr(e, 'reason', None) or e}",
                                   server=self.endpoint, sent=False, cause="tls") from None
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # AMT 12+ speaks 1.2; 1.0/1.1 are gone from CSME 16
            self._ctx = ctx
        return self._ctx

    def _connect(self):
        if self._conn is None:
            if self.tls:
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def send(self, body, headers):
        conn = self._connect()
        fresh = conn.sock is None
        try:
            if fresh:
                conn.connect()
        except BaseException as e:
            self.close()
            raise self._failure(e, sent=False) from None
        try:
            conn.request("POST", PATH, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except BaseException as e:
            self.close()
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            if not fresh and isinstance(e, (ConnectionError, http.client.RemoteDisconnected)):
                # AMT closed a kept-alive connection between two calls: once more on a new one
                return self.send(body, headers)
            raise self._failure(e, sent=True) from None
        if resp.will_close:
            self.close()
        return resp.status, resp.headers, data

    def _failure(self, e, sent):
        wrong_port = "WRONG_VERSION_NUMBER" in str(getattr(e, "reason", "") or "").upper() or "wrong version" in str(e).lower()
        return connection_failure(e, self.endpoint, self.host, sent, self.timeout, classes=_FAILURES, hints={
            "certificate": "; AMT's default certificate is self-signed: give the CA that signed it as ca_cert, or set "
                           "validate_certs false",
            "tls": (f"; port {self.port} does not speak TLS -- is it the plain HTTP port {HTTP_PORT}? then set tls false"
                    if wrong_port else ""),
            "timeout": ": is the host's AMT provisioned and on the network (the ME may be asleep: a ping wakes it)?",
            "refused": f" -- nothing listens on port {self.port}: is AMT provisioned (enabled and configured in MEBx) "
                       f"and is the port right? AMT listens on {TLS_PORT} (TLS) and {HTTP_PORT} (plain HTTP)",
            "reset": (f"; port {self.port} may speak TLS -- is it the TLS port {TLS_PORT}? then set tls true"
                      if not self.tls else "")})


# --- the client --------------------------------------------------------------------------------
class AmtClient:
    """The WS-Management calls of one AMT. ``transport``: anything with ``send(body, headers)`` and
    ``endpoint`` (tests give a fake); ``calls`` lists what was sent (``(action, resource)``)."""

    def __init__(self, host, port=None, tls=True, user="admin", password="", verify=True, ca_file=None,
                 timeout=DEFAULT_TIMEOUT, transport=None):
        port = port or (TLS_PORT if tls else HTTP_PORT)
        self.transport = transport or Transport(host, port, tls, verify=verify, ca_file=ca_file, timeout=timeout)
        self.digest = Digest(user, password)
        self.user = user
        self.calls = []

    @property
    def endpoint(self):
        return self.transport.endpoint

    def close(self):
        if hasattr(self.transport, "close"):
            self.transport.close()

    # --- one call ------------------------------------------------------------------------------
    def post(self, action, resource, body="", selectors=None):
        """Send one request; returns the reply's root element. Answers the Digest challenge (and a
        stale nonce) once per call; raises AuthRefused, SoapFault or NotWsman."""
        self.calls.append((action.rpartition("/")[2], resource.rpartition("/")[2]))
        data = envelope(action, resource, self.endpoint, body, selectors).encode("utf-8")
        fresh = False  # whether the challenge answered came in this call (an older nonce may just have expired)
        for _attempt in range(3):
            headers = {"Content-Type": "application/soap+xml;charset=UTF-8"}
            auth = self.digest.header("POST", PATH)
            if auth:
                headers["Authorization"] = auth
            status, reply_headers, reply = self.transport.send(data, headers)
            if status != 401:
                return self._judge(status, reply)
            challenge = parse_challenge(_header(reply_headers, "WWW-Authenticate"))
            if challenge is None:
                raise NotWsman(f"{self.endpoint} answered 401 without a Digest challenge: not an AMT WS-Management "
                               "endpoint", self.endpoint)
            if auth is not None and fresh and challenge.get("stale", "").lower() != "true":
                break
            self.digest.accept(challenge)
            fresh = True
        raise AuthRefused(f"AMT at {self.endpoint} refused the credentials of user {self.user} (HTTP 401 to the Digest "
                          "answer): check the password and the user", self.endpoint)

    def _judge(self, status, reply):
        root = parse(reply)
        fault = fault_of(root) if root is not None else None
        if fault is not None:
            code, subcode, reason = fault
            what = " ".join(x for x in (code, subcode) if x)
            raise SoapFault(f"AMT at {self.endpoint} answered a SOAP fault (HTTP {status}): {what}: {reason or 'no reason'}",
                            self.endpoint, code=code, subcode=subcode, reason=reason, status=status)
        if status == 404:
            raise NotWsman(f"{self.endpoint}: HTTP 404 -- no WS-Management service at {PATH}: is this an AMT port?",
                           self.endpoint)
        if status >= 400:
            text = one_line(reply.decode("utf-8", "replace"), 200) if reply else ""
            raise AmtError(f"AMT at {self.endpoint} answered HTTP {status}" + (f": {text}" if text else ""), self.endpoint)
        if root is None:
            raise NotWsman(f"{self.endpoint} answered HTTP {status} with something that is not a SOAP envelope", self.endpoint)
        return root

    def invoke(self, resource, method, body, selectors=None, names=None):
        """A method call; raises ReturnValueError unless its ReturnValue is 0."""
        root = self.post(f"{resource}/{method}", resource, body, selectors)
        value = return_value(root)
        if value is None:
            raise AmtError(f"AMT at {self.endpoint}: {method} answered no ReturnValue", self.endpoint)
        if value != 0:
            name = (names or {}).get(value, "unknown")
            raise ReturnValueError(f"AMT at {self.endpoint}: {method} returned {value} ({name})", self.endpoint,
                                   method=method, value=value, name=name)
        return root

    # --- the calls of a power change and a one-time PXE boot ----------------------------------
    def power_state(self):
        root = self.post(TRANSFER + "Get", ASSOCIATED_POWER)
        item = find(root, "CIM_AssociatedPowerManagementService")
        code = find(item, "PowerState")
        if code is None or not (code.text or "").strip().isdigit():
            raise AmtError(f"AMT at {self.endpoint}: CIM_AssociatedPowerManagementService has no PowerState", self.endpoint)
        available = [int(v) for v in find_all_text(item, "AvailableRequestedPowerStates") if v.isdigit()]
        return PowerState(int(code.text.strip()), available)

    def request_power_state_change(self, state):
        return self.invoke(POWER_SERVICE, "RequestPowerStateChange", power_change_body(state),
                           selectors={"Name": POWER_SERVICE_NAME}, names=POWER_RETURN_VALUES)

    def boot_setting_data(self):
        """``[(name, text), ...]`` of AMT_BootSettingData, in the order AMT sent them."""
        root = self.post(TRANSFER + "Get", BOOT_SETTING_DATA)
        item = find(root, "AMT_BootSettingData")
        if item is None:
            raise AmtError(f"AMT at {self.endpoint}: no AMT_BootSettingData in the answer", self.endpoint)
        return [(_local(child.tag), (child.text or "").strip()) for child in item]

    def put_boot_setting_data(self, settings):
        return self.post(TRANSFER + "Put", BOOT_SETTING_DATA, boot_setting_data_body(settings))

    def change_boot_order(self, source=PXE_SOURCE):
        return self.invoke(BOOT_CONFIG_SETTING, "ChangeBootOrder", change_boot_order_body(source),
                           selectors={"InstanceID": BOOT_CONFIG_ID}, names=BOOT_RETURN_VALUES)

    def set_boot_config_role(self, role=ROLE_NEXT_SINGLE_USE):
        return self.invoke(BOOT_SERVICE, "SetBootConfigRole", set_boot_config_role_body(role),
                           selectors={"Name": BOOT_SERVICE_NAME}, names=BOOT_RETURN_VALUES)

    def one_time_pxe(self):
        """The next boot AMT makes (power on, cycle, reset) goes to the network, once: boot options
        cleared, the PXE source first, the configuration used for the next boot only."""
        self.put_boot_setting_data(cleared_boot_settings(self.boot_setting_data()))
        self.change_boot_order(PXE_SOURCE)
        self.set_boot_config_role(ROLE_NEXT_SINGLE_USE)


def _header(headers, name):
    if headers is None:
        return ""
    getter = getattr(headers, "get", None)
    if getter is None:
        return ""
    value = getter(name)
    if value is None and isinstance(headers, dict):
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value or ""
