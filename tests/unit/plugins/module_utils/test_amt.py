# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/amt.py against a fake transport: the envelopes each call
sends (addressing header, selectors, method inputs and their order), Digest auth (RFC 2617's own
example, the challenge answered once, a stale or expired nonce renewed, credentials refused), the
replies AMT sends as recorded in ../shared/reference/amt.md (the Open AMT fixtures: the power
state item, RequestPowerStateChange's and the boot methods' ReturnValue, AMT_BootSettingData, a
SOAP fault) and what each error says."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import amt

# --- replies recorded from AMT (amt.md: Open AMT go-wsman-messages fixtures) ---------------------
NAMESPACES = ('xmlns:a="http://www.w3.org/2003/05/soap-envelope" xmlns:b="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
              'xmlns:c="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:d="http://schemas.xmlsoap.org/ws/2005/02/trust" '
              'xmlns:e="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" '
              'xmlns:f="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
POWER_ITEM_REPLY = f"""<?xml version="1.0" encoding="UTF-8"?>
<a:Envelope {NAMESPACES} xmlns:g="http://schemas.xmlsoap.org/ws/2004/09/enumeration"
    xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService">
    <a:Header>
        <b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To>
        <b:RelatesTo>1</b:RelatesTo>
        <b:Action a:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse</b:Action>
        <b:MessageID>uuid:00000000-8086-8086-8086-000000000E93</b:MessageID>
        <c:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ServiceAvailableToElement</c:ResourceURI>
    </a:Header>
    <a:Body>
        <g:PullResponse>
            <g:Items>
                <h:CIM_AssociatedPowerManagementService>
                    <h:AvailableRequestedPowerStates>10</h:AvailableRequestedPowerStates>
                    <h:AvailableRequestedPowerStates>8</h:AvailableRequestedPowerStates>
                    <h:AvailableRequestedPowerStates>5</h:AvailableRequestedPowerStates>
                    <h:AvailableRequestedPowerStates>11</h:AvailableRequestedPowerStates>
                    <h:AvailableRequestedPowerStates>4</h:AvailableRequestedPowerStates>
                    <h:AvailableRequestedPowerStates>7</h:AvailableRequestedPowerStates>
                    <h:AvailableRequestedPowerStates>14</h:AvailableRequestedPowerStates>
                    <h:AvailableRequestedPowerStates>12</h:AvailableRequestedPowerStates>
                    <h:PowerState>2</h:PowerState>
                </h:CIM_AssociatedPowerManagementService>
            </g:Items>
            <g:EndOfSequence></g:EndOfSequence>
        </g:PullResponse>
    </a:Body>
</a:Envelope>"""
POWER_CHANGE_REPLY = f"""<?xml version="1.0" encoding="UTF-8"?>
<a:Envelope {NAMESPACES} xmlns:g="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService">
    <a:Header>
        <b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To>
        <b:RelatesTo>0</b:RelatesTo>
        <b:Action a:mustUnderstand="true">{{action}}</b:Action>
        <b:MessageID>uuid:00000000-8086-8086-8086-0000000003B8</b:MessageID>
        <c:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService</c:ResourceURI>
    </a:Header>
    <a:Body>
        <g:RequestPowerStateChange_OUTPUT>
            <g:ReturnValue>{{value}}</g:ReturnValue>
        </g:RequestPowerStateChange_OUTPUT>
    </a:Body>
</a:Envelope>"""
POWER_CHANGE_ACTION = ("http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService/"
                       "RequestPowerStateChangeResponse")
BOOT_SETTING_REPLY = f"""<a:Envelope {NAMESPACES} xmlns:g="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData">
    <a:Header>
        <b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To>
        <b:RelatesTo>5</b:RelatesTo>
        <b:Action a:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</b:Action>
        <b:MessageID>uuid:00000000-8086-8086-8086-0000001BBCD4</b:MessageID>
        <c:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData</c:ResourceURI>
    </a:Header>
    <a:Body>
        <g:AMT_BootSettingData>
            <g:BIOSLastStatus>2</g:BIOSLastStatus>
            <g:BIOSLastStatus>0</g:BIOSLastStatus>
            <g:BIOSPause>false</g:BIOSPause>
            <g:BIOSSetup>false</g:BIOSSetup>
            <g:BootMediaIndex>0</g:BootMediaIndex>
            <g:BootguardStatus>127</g:BootguardStatus>
            <g:ConfigurationDataReset>false</g:ConfigurationDataReset>
            <g:ElementName>Intel(r) AMT Boot Configuration Settings</g:ElementName>
            <g:EnforceSecureBoot>false</g:EnforceSecureBoot>
            <g:FirmwareVerbosity>0</g:FirmwareVerbosity>
            <g:ForcedProgressEvents>false</g:ForcedProgressEvents>
            <g:IDERBootDevice>0</g:IDERBootDevice>
            <g:InstanceID>Intel(r) AMT:BootSettingData 0</g:InstanceID>
            <g:LockKeyboard>false</g:LockKeyboard>
            <g:LockPowerButton>false</g:LockPowerButton>
            <g:LockResetButton>false</g:LockResetButton>
            <g:LockSleepButton>false</g:LockSleepButton>
            <g:OptionsCleared>true</g:OptionsCleared>
            <g:OwningEntity>Intel(r) AMT</g:OwningEntity>
            <g:PlatformErase>false</g:PlatformErase>
            <g:RPEEnabled>true</g:RPEEnabled>
            <g:RSEPassword></g:RSEPassword>
            <g:ReflashBIOS>false</g:ReflashBIOS>
            <g:SecureBootControlEnabled>true</g:SecureBootControlEnabled>
            <g:SecureErase>false</g:SecureErase>
            <g:UEFIHTTPSBootEnabled>true</g:UEFIHTTPSBootEnabled>
            <g:UEFILocalPBABootEnabled>true</g:UEFILocalPBABootEnabled>
            <g:UefiBootNumberOfParams>0</g:UefiBootNumberOfParams>
            <g:UseIDER>true</g:UseIDER>
            <g:UseSOL>false</g:UseSOL>
            <g:UseSafeMode>false</g:UseSafeMode>
            <g:UserPasswordBypass>false</g:UserPasswordBypass>
            <g:WinREBootEnabled>true</g:WinREBootEnabled>
        </g:AMT_BootSettingData>
    </a:Body>
</a:Envelope>"""  # UseIDER true here (false in the fixture): the Put must clear it
CHANGE_BOOT_ORDER_REPLY = (f'<a:Envelope {NAMESPACES} xmlns:g="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting">'
                           "<a:Header><b:Action a:mustUnderstand=\"true\">http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
                           "CIM_BootConfigSetting/ChangeBootOrderResponse</b:Action></a:Header><a:Body>"
                           "<g:ChangeBootOrder_OUTPUT><g:ReturnValue>{value}</g:ReturnValue></g:ChangeBootOrder_OUTPUT>"
                           "</a:Body></a:Envelope>")
SET_ROLE_REPLY = (f'<a:Envelope {NAMESPACES} xmlns:g="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootService">'
                  "<a:Header><b:Action a:mustUnderstand=\"true\">http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
                  "CIM_BootService/SetBootConfigRole</b:Action></a:Header><a:Body>"
                  "<g:SetBootConfigRole_OUTPUT><g:ReturnValue>0</g:ReturnValue></g:SetBootConfigRole_OUTPUT></a:Body></a:Envelope>")
PUT_REPLY = (f'<a:Envelope {NAMESPACES}><a:Header><b:Action a:mustUnderstand="true">'
             "http://schemas.xmlsoap.org/ws/2004/09/transfer/PutResponse</b:Action></a:Header><a:Body/></a:Envelope>")
FAULT_REPLY = ('<a:Envelope xmlns:a="http://www.w3.org/2003/05/soap-envelope" xmlns:b="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
               "<a:Header><b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To><b:RelatesTo>0</b:RelatesTo>"
               '<b:Action a:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/fault</b:Action>'
               "<b:MessageID>uuid:00000000-8086-8086-8086-000000000061</b:MessageID></a:Header><a:Body><a:Fault><a:Code>"
               "<a:Value>a:Sender</a:Value><a:Subcode><a:Value>b:DestinationUnreachable</a:Value></a:Subcode></a:Code>"
               '<a:Reason><a:Text xml:lang="en-US">No route can be determined to reach the destination role defined by the '
               "WSAddressing To.</a:Text></a:Reason><a:Detail></a:Detail></a:Fault></a:Body></a:Envelope>")
CHALLENGE = 'Digest realm="Digest:A3829B3827DE4D33D4449B366831FD01", nonce="3ny4Zy8AAAAAAAAAAAAAAA==",stale="false",qop="auth"'


class FakeAmt:
    """A transport that answers each request with the next reply of ``replies``: ``(status, body)``
    or ``(status, body, headers)``; it records what was sent."""

    endpoint = "https://10.10.10.31:16993/wsman"

    def __init__(self, *replies):
        self.replies = list(replies)
        self.sent = []

    def send(self, body, headers):
        self.sent.append((ET.fromstring(body), dict(headers)))
        status, data, *rest = self.replies.pop(0)
        return status, (rest[0] if rest else {}), data.encode() if isinstance(data, str) else data


def challenge():
    return (401, "", {"WWW-Authenticate": CHALLENGE})


def client(*replies):
    return amt.AmtClient("10.10.10.31", password="Amt-Passw0rd!", transport=FakeAmt(*replies))


def text(root, name):
    return [e.text for e in root.iter() if e.tag.rpartition("}")[2] == name]


def selectors(root, parent=None):
    scope = root if parent is None else next(e for e in root.iter() if e.tag.endswith("}" + parent))
    return {e.get("Name"): e.text for e in scope.iter() if e.tag.endswith("}Selector")}


# --- envelopes ----------------------------------------------------------------------------------
def test_power_state_is_a_transfer_get_with_the_full_addressing_header():
    c = client(challenge(), (200, POWER_ITEM_REPLY))
    state = c.power_state()
    assert (state.code, state.on, state.name, state.available) == (2, True, "on", (10, 8, 5, 11, 4, 7, 14, 12))
    sent, headers = c.transport.sent[1]
    assert sent.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"
    assert text(sent, "Action") == ["http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"]
    assert text(sent, "ResourceURI") == ["http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService"]
    assert text(sent, "To") == ["https://10.10.10.31:16993/wsman"]
    assert text(sent, "MessageID")[0].startswith("uuid:")
    assert text(sent, "Address") == ["http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"]
    assert headers["Content-Type"].startswith("application/soap+xml")


def test_request_power_state_change_names_the_service_and_the_managed_system():
    c = client(challenge(), (200, POWER_CHANGE_REPLY.format(value=0, action=POWER_CHANGE_ACTION)))
    c.request_power_state_change(2)
    sent, dummy = c.transport.sent[1]
    assert text(sent, "Action") == [amt.POWER_SERVICE + "/RequestPowerStateChange"]
    header = next(e for e in sent if e.tag.endswith("}Header"))
    assert selectors(header) == {"Name": "Intel(r) AMT Power Management Service"}
    (inputs,) = [e for e in sent.iter() if e.tag == f"{{{amt.POWER_SERVICE}}}RequestPowerStateChange_INPUT"]
    assert [e.tag.rpartition("}")[2] for e in inputs] == ["PowerState", "ManagedElement"]
    assert text(inputs, "PowerState") == ["2"]
    assert text(inputs, "ResourceURI") == [amt.COMPUTER_SYSTEM]
    assert selectors(inputs) == {"CreationClassName": "CIM_ComputerSystem", "Name": "ManagedSystem"}


def test_one_time_pxe_clears_the_boot_options_then_sets_the_source_then_the_role():
    c = client(challenge(), (200, BOOT_SETTING_REPLY), (200, PUT_REPLY), (200, CHANGE_BOOT_ORDER_REPLY.format(value=0)),
               (200, SET_ROLE_REPLY))
    c.one_time_pxe()
    assert c.calls == [("Get", "AMT_BootSettingData"), ("Put", "AMT_BootSettingData"),
                       ("ChangeBootOrder", "CIM_BootConfigSetting"), ("SetBootConfigRole", "CIM_BootService")]
    put, order, role = (s for s, h in c.transport.sent[2:])
    (instance,) = [e for e in put.iter() if e.tag == f"{{{amt.BOOT_SETTING_DATA}}}AMT_BootSettingData"]
    names = [e.tag.rpartition("}")[2] for e in instance]
    assert not set(names) & set(amt.READ_ONLY_BOOT_SETTINGS)  # AMT refuses them in a Put
    assert "InstanceID" in names and "ElementName" in names
    assert text(instance, "UseIDER") == ["false"] and text(instance, "BIOSSetup") == ["false"]
    header = next(e for e in order if e.tag.endswith("}Header"))
    assert selectors(header) == {"InstanceID": "Intel(r) AMT: Boot Configuration 0"}
    assert selectors(order, "Source") == {"InstanceID": "Intel(r) AMT: Force PXE Boot"}
    (inputs,) = [e for e in role.iter() if e.tag.endswith("SetBootConfigRole_INPUT")]
    assert [e.tag.rpartition("}")[2] for e in inputs] == ["BootConfigSetting", "Role"]
    assert text(inputs, "Role") == ["1"]
    assert selectors(inputs) == {"InstanceID": "Intel(r) AMT: Boot Configuration 0"}


def test_values_are_escaped_in_the_envelope():
    body = amt.boot_setting_data_body([("ElementName", "a<b & c")])
    assert "a&lt;b &amp; c" in body
    ET.fromstring(amt.envelope("x", "y", "https://h:16993/wsman", body))


# --- Digest -------------------------------------------------------------------------------------
def test_digest_answer_is_rfc_2617s_own_example():
    digest = amt.Digest("Mufasa", "Circle Of Life", cnonce="0a4f113b")
    digest.accept(amt.parse_challenge('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                                      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'))
    header = digest.header("GET", "/dir/index.html")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "nc=00000001" in header and "qop=auth" in header and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header
    assert "nc=00000002" in digest.header("GET", "/dir/index.html")  # the nonce count goes up


def test_challenge_values_may_hold_commas_and_quotes():
    assert amt.parse_challenge('Digest realm="a, b", nonce="x\\"y", qop="auth"') == {"realm": "a, b", "nonce": 'x"y', "qop": "auth"}
    assert amt.parse_challenge("Basic realm=x") is None


def test_the_challenge_is_answered_once_and_the_nonce_kept_for_later_calls():
    c = client(challenge(), (200, POWER_ITEM_REPLY), (200, POWER_ITEM_REPLY))
    c.power_state()
    c.power_state()
    first, second, third = (h.get("Authorization") for s, h in c.transport.sent)
    assert first is None and second.startswith('Digest username="admin", realm="Digest:A3829B3827DE4D33D4449B366831FD01"')
    assert "nc=00000001" in second and "nc=00000002" in third


def test_a_stale_or_expired_nonce_is_renewed_without_failing():
    stale = (401, "", {"WWW-Authenticate": CHALLENGE.replace('stale="false"', 'stale="true"').replace("3ny4", "4ny4")})
    c = client(challenge(), (200, POWER_ITEM_REPLY), stale, (200, POWER_ITEM_REPLY), challenge(), (200, POWER_ITEM_REPLY))
    for dummy in range(3):  # noqa: B007 - three calls in a row
        assert c.power_state().on
    assert len(c.transport.sent) == 6


def test_wrong_credentials_are_refused_by_name():
    c = client(challenge(), challenge())
    with pytest.raises(amt.AuthRefused) as e:
        c.power_state()
    assert str(e.value) == ("AMT at https://10.10.10.31:16993/wsman refused the credentials of user admin (HTTP 401 to the "
                            "Digest answer): check the password and the user")
    assert "Amt-Passw0rd!" not in str(e.value)


def test_a_401_without_a_digest_challenge_is_not_amt():
    c = client((401, "", {"WWW-Authenticate": 'Basic realm="router"'}))
    with pytest.raises(amt.NotWsman, match="answered 401 without a Digest challenge: not an AMT WS-Management endpoint"):
        c.power_state()


# --- what AMT answers ---------------------------------------------------------------------------
def test_a_soap_fault_is_named_with_its_code_and_reason():
    c = client(challenge(), (400, FAULT_REPLY))
    with pytest.raises(amt.SoapFault) as e:
        c.power_state()
    assert str(e.value) == ("AMT at https://10.10.10.31:16993/wsman answered a SOAP fault (HTTP 400): a:Sender "
                            "b:DestinationUnreachable: No route can be determined to reach the destination role defined by "
                            "the WSAddressing To.")
    assert e.value.as_dict()["fault"]["subcode"] == "b:DestinationUnreachable"


@pytest.mark.parametrize("value, name", [(4099, "Busy"), (4097, "Invalid State Transition"), (2, "Unknown/Unspecified Error")])
def test_a_return_value_other_than_0_is_named(value, name):
    c = client(challenge(), (200, POWER_CHANGE_REPLY.format(value=value, action=POWER_CHANGE_ACTION)))
    with pytest.raises(amt.ReturnValueError) as e:
        c.request_power_state_change(8)
    assert str(e.value) == f"AMT at https://10.10.10.31:16993/wsman: RequestPowerStateChange returned {value} ({name})"
    assert e.value.as_dict()["return_value"] == value


def test_boot_methods_name_their_own_return_values():
    c = client(challenge(), (200, CHANGE_BOOT_ORDER_REPLY.format(value=6)))
    with pytest.raises(amt.ReturnValueError, match=r"ChangeBootOrder returned 6 \(Access Denied\)"):
        c.change_boot_order()


def test_an_http_error_without_a_fault_and_a_404():
    with pytest.raises(amt.AmtError, match="answered HTTP 500: oops"):
        client(challenge(), (500, "oops")).power_state()
    with pytest.raises(amt.NotWsman, match="HTTP 404 -- no WS-Management service at /wsman"):
        client((404, "<html>not found</html>")).power_state()
    with pytest.raises(amt.NotWsman, match="not a SOAP envelope"):
        client((200, "<html")).power_state()


def test_power_state_names():
    assert [amt.PowerState(c).name for c in (2, 8, 6, 4, 99)] == ["on", "off", "off", "sleep (deep)", "unknown (99)"]


def test_cleared_boot_settings_keep_order_and_values_a_boot_does_not_care_about():
    settings = [("BIOSPause", "true"), ("OwningEntity", "Intel(r) AMT"), ("RPEEnabled", "true"), ("UseSOL", "true")]
    assert amt.cleared_boot_settings(settings) == [("BIOSPause", "false"), ("OwningEntity", "Intel(r) AMT"),
                                                   ("UseSOL", "false")]


# --- the transport's messages -------------------------------------------------------------------
def test_nothing_listening_says_provisioning_or_port():
    from tests.amt_server import closed_port
    port = closed_port()
    transport = amt.Transport("127.0.0.1", port, tls=False, timeout=5)
    with pytest.raises(amt.Unreachable) as e:
        transport.send(b"<x/>", {})
    assert str(e.value) == (f"cannot connect to http://127.0.0.1:{port}/wsman: connection refused -- nothing listens on "
                            f"port {port}: is AMT provisioned (enabled and configured in MEBx) and is the port right? AMT "
                            "listens on 16993 (TLS) and 16992 (plain HTTP)")
    assert e.value.as_dict() == {"server": f"http://127.0.0.1:{port}/wsman", "cause": "refused"}


def test_an_unreadable_ca_cert_is_named():
    transport = amt.Transport("127.0.0.1", 16993, tls=True, ca_file="/nonexistent/ca.pem")
    with pytest.raises(amt.TLSError, match="cannot load ca_cert /nonexistent/ca.pem"):
        transport.send(b"<x/>", {})
