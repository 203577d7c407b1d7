# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Intel AMT WS-Management endpoint on 127.0.0.1 for the tests of amt_power and of the
bootstrap role's AMT path (the twin's own simulated AMT, `--bare`, replaces it in end-to-end tests).

It answers as ../shared/reference/amt.md §8 describes a test double: HTTP Digest (MD5, qop=auth;
401 with a challenge to a request without or with wrong credentials), WS-Transfer Get of
CIM_AssociatedPowerManagementService and AMT_BootSettingData, Put of AMT_BootSettingData (400 with a
SOAP fault when it carries a read-only property, as the clients that strip them assume),
ChangeBootOrder, SetBootConfigRole (0, or 5 for another role than 1 / 32768),
RequestPowerStateChange (0 when the value is in AvailableRequestedPowerStates, else 2); anything
else 400 with a SOAP fault. A power change that boots records whether it booted from the network
(role 1 and the PXE source set), then forgets the one-time boot as AMT does.

    with serve(password="Sup3r$ecret", power=8) as amt:      # tls=True: HTTPS with a test CA
        ...  # amt.port, amt.calls, amt.boots, amt.power, amt.ca_file
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.twin.tls import make_serving_cert

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
INTEL = "http://intel.com/wbem/wscim/1/amt-schema/1/"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
PXE = "Intel(r) AMT: Force PXE Boot"
REALM = "Digest:4A6B0000000000000000000000000000"
AVAILABLE_ON = [10, 8, 5, 11, 4, 7, 14, 12]  # what a host that is on offers (captured AMT reply)
AVAILABLE_OFF = [2]
READ_ONLY = ("WinREBootEnabled", "UEFILocalPBABootEnabled", "UEFIHTTPSBootEnabled", "SecureBootControlEnabled",
             "BootguardStatus", "OptionsCleared", "BIOSLastStatus", "UefiBootParametersArray", "RPEEnabled")
BOOT_SETTINGS = [("BIOSLastStatus", "2"), ("BIOSLastStatus", "0"), ("BIOSPause", "false"), ("BIOSSetup", "false"),
                 ("BootMediaIndex", "0"), ("BootguardStatus", "127"), ("ConfigurationDataReset", "false"),
                 ("ElementName", "Intel(r) AMT Boot Configuration Settings"), ("EnforceSecureBoot", "false"),
                 ("FirmwareVerbosity", "0"), ("ForcedProgressEvents", "false"), ("IDERBootDevice", "0"),
                 ("InstanceID", "Intel(r) AMT:BootSettingData 0"), ("LockKeyboard", "false"),
                 ("LockPowerButton", "false"), ("LockResetButton", "false"), ("LockSleepButton", "false"),
                 ("OptionsCleared", "true"), ("OwningEntity", "Intel(r) AMT"), ("PlatformErase", "false"),
                 ("RPEEnabled", "true"), ("RSEPassword", ""), ("ReflashBIOS", "false"),
                 ("SecureBootControlEnabled", "true"), ("SecureErase", "false"), ("UEFIHTTPSBootEnabled", "true"),
                 ("UEFILocalPBABootEnabled", "true"), ("UefiBootNumberOfParams", "0"), ("UseIDER", "true"),
                 ("UseSOL", "false"), ("UseSafeMode", "false"), ("UserPasswordBypass", "false"),
                 ("WinREBootEnabled", "true")]


def _md5(text):
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest auth is MD5


def _local(tag):
    return tag.rpartition("}")[2]


def _find(element, name):
    return next((e for e in element.iter() if _local(e.tag) == name), None)


def _text(element, name):
    found = _find(element, name) if element is not None else None
    return (found.text or "").strip() if found is not None else None


def _envelope(action, resource, body):
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<a:Envelope xmlns:a="{SOAP}" xmlns:b="{ADDRESSING}" xmlns:c="{WSMAN}">'
            f"<a:Header><b:To>{ADDRESSING}/role/anonymous</b:To><b:RelatesTo>0</b:RelatesTo>"
            f'<b:Action a:mustUnderstand="true">{action}</b:Action>'
            "<b:MessageID>uuid:00000000-8086-8086-8086-000000000001</b:MessageID>"
            f"<c:ResourceURI>{resource}</c:ResourceURI></a:Header><a:Body>{body}</a:Body></a:Envelope>").encode()


def _fault(subcode, reason):
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<a:Envelope xmlns:a="{SOAP}" xmlns:b="{ADDRESSING}" xmlns:c="{WSMAN}"><a:Header>'
            f"<b:To>{ADDRESSING}/role/anonymous</b:To><b:RelatesTo>0</b:RelatesTo>"
            f'<b:Action a:mustUnderstand="true">{ADDRESSING}/fault</b:Action>'
            "<b:MessageID>uuid:00000000-8086-8086-8086-000000000061</b:MessageID></a:Header>"
            "<a:Body><a:Fault><a:Code><a:Value>a:Sender</a:Value><a:Subcode>"
            f"<a:Value>{subcode}</a:Value></a:Subcode></a:Code><a:Reason>"
            f'<a:Text xml:lang="en-US">{reason}</a:Text></a:Reason><a:Detail></a:Detail></a:Fault></a:Body>'
            "</a:Envelope>").encode()


class Amt:
    """The endpoint's state and what it was asked. ``return_values`` forces a method's ReturnValue
    (e.g. ``{"RequestPowerStateChange": 4099}``)."""

    def __init__(self, user="admin", password="Amt-Passw0rd!", power=8):
        self.made_with = {"user": user, "password": password, "power": power}
        self.user, self.password = user, password
        self.power = power
        self.role = 32768
        self.source = None
        self.settings = list(BOOT_SETTINGS)
        self.calls = []  # (method or action, resource class)
        self.boots = []  # "pxe" or "disk", one per boot AMT made
        self.auth_failures = 0
        self.return_values = {}
        self.nonce = os.urandom(16).hex()
        self.lock = threading.Lock()
        self.port = None
        self.ca_file = None

    def reset(self):
        """Back to the state it was made with, on the same port (the parity suite runs its steps twice)."""
        port, ca_file = self.port, self.ca_file
        self.__init__(**self.made_with)
        self.port, self.ca_file = port, ca_file

    def available(self):
        return AVAILABLE_ON if self.power == 2 else AVAILABLE_OFF

    # --- Digest --------------------------------------------------------------------------------
    def authorized(self, header):
        if not header or not header.lower().startswith("digest "):
            return False
        fields = dict((k.lower(), v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', header[7:]))
        if fields.get("username") != self.user or fields.get("nonce") != self.nonce:
            return False
        ha1 = _md5(f"{self.user}:{REALM}:{self.password}")
        ha2 = _md5(f"POST:{fields.get('uri', '')}")
        want = _md5(f"{ha1}:{self.nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:{fields.get('qop', '')}:{ha2}")
        return fields.get("response") == want and fields.get("qop") == "auth"

    # --- WS-Man --------------------------------------------------------------------------------
    def answer(self, request):
        """(HTTP status, reply bytes) for a request envelope."""
        try:
            root = ET.fromstring(request)
        except ET.ParseError:
            return 400, _fault("wsman:InvalidMessage", "The request is not well-formed XML.")
        action, resource = _text(root, "Action") or "", _text(root, "ResourceURI") or ""
        body = _find(root, "Body")
        method = action.rpartition("/")[2]
        cls = resource.rpartition("/")[2]
        self.calls.append((method, cls))
        if action == TRANSFER + "Get" and cls == "CIM_AssociatedPowerManagementService":
            states = "".join(f"<h:AvailableRequestedPowerStates>{v}</h:AvailableRequestedPowerStates>" for v in self.available())
            return 200, _envelope(TRANSFER + "GetResponse", resource,
                                  f'<h:CIM_AssociatedPowerManagementService xmlns:h="{resource}">{states}'
                                  f"<h:PowerState>{self.power}</h:PowerState></h:CIM_AssociatedPowerManagementService>")
        if action == TRANSFER + "Get" and cls == "AMT_BootSettingData":
            return 200, _envelope(TRANSFER + "GetResponse", resource, self._settings_xml(resource, self.settings))
        if action == TRANSFER + "Put" and cls == "AMT_BootSettingData":
            item = _find(body, "AMT_BootSettingData")
            given = [(_local(e.tag), (e.text or "").strip()) for e in item] if item is not None else []
            refused = [name for name, value in given if name in READ_ONLY]
            if item is None or refused:
                return 400, _fault("wsman:InvalidRepresentation", f"Read-only properties in the Put: {', '.join(refused)}")
            self.settings = given
            return 200, _envelope(TRANSFER + "PutResponse", resource, self._settings_xml(resource, given))
        if cls == "CIM_BootConfigSetting" and method == "ChangeBootOrder":
            source = _text(body, "Selector")
            value = 0 if source in (None, PXE, "Intel(r) AMT: Force Hard-drive Boot", "Intel(r) AMT: Force CD/DVD Boot") else 4
            if value == 0:
                self.source = source
            return self._output(resource, method, value)
        if cls == "CIM_BootService" and method == "SetBootConfigRole":
            role = int(_text(body, "Role") or -1)
            value = 0 if role in (1, 32768) else 5
            if value == 0:
                self.role = role
            return self._output(resource, method, value)
        if cls == "CIM_PowerManagementService" and method == "RequestPowerStateChange":
            state = int(_text(body, "PowerState") or -1)
            if state not in self.available():
                return self._output(resource, method, 2)
            value = self._output(resource, method, 0)
            if self.return_values.get(method, 0) == 0:
                self._power(state)
            return value
        return 400, _fault("b:DestinationUnreachable",
                           "No route can be determined to reach the destination role defined by the WSAddressing To.")

    def _power(self, state):
        if state in (8, 6, 12, 13):
            self.power = 8
            return
        self.power = 2
        self.boots.append("pxe" if self.role == 1 and self.source == PXE else "disk")
        self.role, self.source = 32768, None  # a single-use boot configuration is gone once used

    def _output(self, resource, method, value):
        value = self.return_values.get(method, value)
        return 200, _envelope(f"{resource}/{method}Response", resource,
                              f'<g:{method}_OUTPUT xmlns:g="{resource}"><g:ReturnValue>{value}</g:ReturnValue></g:{method}_OUTPUT>')

    @staticmethod
    def _settings_xml(resource, settings):
        inner = "".join(f"<g:{k}>{v}</g:{k}>" for k, v in settings)
        return f'<g:AMT_BootSettingData xmlns:g="{resource}">{inner}</g:AMT_BootSettingData>'


def _handler(amt):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's naming
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/wsman":
                return self._send(404, b"", "text/html")
            with amt.lock:
                if not amt.authorized(self.headers.get("Authorization")):
                    if self.headers.get("Authorization"):
                        amt.auth_failures += 1
                    return self._send(401, b"", "text/html", {
                        "WWW-Authenticate": f'Digest realm="{REALM}", nonce="{amt.nonce}", stale="false", qop="auth"'})
                status, body = amt.answer(data)
            self._send(status, body, "application/soap+xml; charset=UTF-8")

        def _send(self, status, body, content_type, headers=None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@contextmanager
def serve(tls=False, **state):
    """An AMT endpoint on a free 127.0.0.1 port for the ``with`` block; ``state`` goes to ``Amt``."""
    amt = Amt(**state)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(amt))
    server.daemon_threads = True
    with tempfile.TemporaryDirectory() as folder:
        if tls:
            cert = make_serving_cert()
            ctx = cert.ssl_context()
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
            amt.ca_file = os.path.join(folder, "amt-ca.pem")
            with open(amt.ca_file, "wb") as f:
                f.write(cert.ca_pem)
        amt.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield amt
        finally:
            server.shutdown()
            server.server_close()


def closed_port():
    """A 127.0.0.1 port nothing listens on (an AMT that is not provisioned does not listen)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
