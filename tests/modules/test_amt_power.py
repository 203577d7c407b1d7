# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""amt_power against a local AMT WS-Management endpoint (tests/amt_server.py: Digest auth, the
power and boot calls, over HTTP or HTTPS on 127.0.0.1), called in process as its action plugin
calls it. The endpoint's log says what reached AMT: on stays on with a single read, check mode
reads only, the one-time PXE boot is set right before the power change that boots and only then,
each power action sends its value, and each bad input or bad endpoint (wrong password, wrong
port, AMT not provisioned, TLS untrusted, a SOAP fault, a return value) fails with a message that
says what to check -- the password never shown. The same module against the twin's simulated AMT
(`--bare`): tests/integration/test_roles_bootstrap_bare.py."""

from __future__ import annotations

import json

import pytest

from ansible_collections.homelab.harvester.plugins.plugin_utils import in_process
from tests.amt_server import closed_port, serve
from tests.catalogue.amt_power import BAD_INPUTS
from tests.modules.runner import registered

PASSWORD = "Amt-Passw0rd!"
READ = [("Get", "CIM_AssociatedPowerManagementService")]
PXE_CALLS = [("Get", "AMT_BootSettingData"), ("Put", "AMT_BootSettingData"), ("ChangeBootOrder", "CIM_BootConfigSetting"),
             ("SetBootConfigRole", "CIM_BootService")]
POWER_CHANGE = [("RequestPowerStateChange", "CIM_PowerManagementService")]


def run(amt, check=False, diff=False, **args):
    task = {"host": "127.0.0.1", "port": amt.port, "tls": bool(amt.ca_file), "password": PASSWORD}
    if amt.ca_file:
        task["ca_cert"] = amt.ca_file
    task.update(args)
    warnings = []
    result = registered(in_process.run("homelab.harvester.amt_power", task, check_mode=check, diff=diff,
                                       warn=warnings.append), warnings)
    assert PASSWORD not in json.dumps(result)
    return result


@pytest.fixture
def amt_off():
    with serve(password=PASSWORD, power=8) as amt:
        yield amt


@pytest.fixture
def amt_on():
    with serve(password=PASSWORD, power=2) as amt:
        yield amt


def test_power_on_with_one_time_pxe_then_on_stays_on_without_a_write(amt_off):
    first = run(amt_off, state="on", pxe=True, diff=True)
    assert first["changed"] is True and not first["failed"], first
    assert (first["power_state"], first["power_state_code"], first["pxe"]) == ("on", 2, True)
    assert first["actions"] == ["one-time PXE boot", "power on (2)"]
    assert first["diff"] == {"before": {"power_state": "off"},
                             "after": {"power_state": "on", "next_boot": "network (PXE), once"}}
    assert first["endpoint"] == f"http://127.0.0.1:{amt_off.port}/wsman"
    assert [e["msg"] for e in first["progress"]] == ["AMT 127.0.0.1: one-time PXE boot set",
                                                     "AMT 127.0.0.1: power on (2) requested"]
    assert amt_off.calls == READ + PXE_CALLS + POWER_CHANGE + READ  # the boot set right before the power change
    assert amt_off.boots == ["pxe"] and amt_off.power == 2
    # AMT forgot the one-time boot once used: nothing is left to boot from the network again
    assert (amt_off.role, amt_off.source) == (32768, None)

    since = len(amt_off.calls)
    second = run(amt_off, state="on", pxe=True, diff=True)
    assert second["changed"] is False and second["pxe"] is False and "diff" not in second, second
    assert amt_off.calls[since:] == READ and amt_off.boots == ["pxe"]


def test_check_mode_reads_only_and_says_what_would_change(amt_off):
    result = run(amt_off, check=True, diff=True, state="on", pxe=True)
    assert result["changed"] is True and result["power_state"] == "on" and result["pxe"] is True, result
    assert result["diff"]["after"] == {"power_state": "on", "next_boot": "network (PXE), once"}
    assert amt_off.calls == READ and amt_off.power == 8 and amt_off.boots == []


def test_power_on_without_pxe_boots_the_disk(amt_off):
    result = run(amt_off, state="on")
    assert result["changed"] is True and result["actions"] == ["power on (2)"], result
    assert amt_off.calls == READ + POWER_CHANGE + READ and amt_off.boots == ["disk"]


def test_off_then_off_again(amt_on):
    first = run(amt_on, state="off", diff=True)
    assert first["changed"] is True and first["power_state"] == "off" and first["actions"] == ["power off (8)"], first
    assert first["diff"] == {"before": {"power_state": "on"}, "after": {"power_state": "off"}}
    assert amt_on.power == 8
    second = run(amt_on, state="off")
    assert second["changed"] is False and amt_on.calls[-1:] == READ


@pytest.mark.parametrize("state, code", [("cycle", 5), ("reset", 10)])
def test_cycle_and_reset_send_their_value_and_boot_once_more(amt_on, state, code):
    result = run(amt_on, state=state, pxe=True, diff=True)
    assert result["changed"] is True and result["actions"] == ["one-time PXE boot", f"power {state} ({code})"], result
    assert result["diff"]["after"] == {"power_state": "on", "next_boot": "network (PXE), once", "action": state}
    assert amt_on.boots == ["pxe"] and amt_on.power == 2


def test_cycle_powers_on_a_host_that_is_off(amt_off):
    result = run(amt_off, state="cycle")
    assert result["changed"] is True and result["actions"] == ["power on (2)"] and amt_off.boots == ["disk"], result


def test_status_reads_only(amt_on):
    result = run(amt_on)
    assert result["changed"] is False and result["power_state"] == "on" and result["power_state_code"] == 2, result
    assert amt_on.calls == READ


def test_bad_inputs_refused_before_anything_reaches_amt(amt_off):
    for args, message in BAD_INPUTS:
        task = dict(args)
        if task.get("host") == "10.10.10.31":  # the catalogue's lab address: here the local endpoint
            task.update(host="127.0.0.1", port=task.get("port", amt_off.port))
        result = registered(in_process.run("homelab.harvester.amt_power", task), [])
        assert result["failed"] and message in result["msg"], (args, result)
    assert amt_off.calls == []


# --- endpoints that are wrong --------------------------------------------------------------------
def test_wrong_password_fails_naming_the_credentials(amt_off):
    result = run(amt_off, state="on", pxe=True, password="Wr0ng-Passw0rd!")
    assert result["failed"] and result["msg"] == (
        f"AMT at http://127.0.0.1:{amt_off.port}/wsman refused the credentials of user admin (HTTP 401 to the Digest "
        "answer): check the password and the user"), result
    assert amt_off.auth_failures == 1 and amt_off.calls == [] and amt_off.power == 8
    assert "Wr0ng-Passw0rd!" not in json.dumps(result)


def test_wrong_port_and_amt_not_provisioned_fail_saying_nothing_listens():
    # an AMT that is not provisioned does not listen on 16992/16993 at all: a refused connection,
    # exactly what a wrong port gives; the message names both
    port = closed_port()
    result = registered(in_process.run("homelab.harvester.amt_power", {
        "host": "127.0.0.1", "port": port, "tls": False, "password": PASSWORD, "state": "on"}), [])
    assert result["failed"] and result["msg"] == (
        f"cannot connect to http://127.0.0.1:{port}/wsman: connection refused -- nothing listens on port {port}: is AMT "
        "provisioned (enabled and configured in MEBx) and is the port right? AMT listens on 16993 (TLS) and 16992 (plain "
        "HTTP)"), result
    assert result["cause"] == "refused"


def test_tls_to_the_plain_http_port_and_plain_http_to_the_tls_port():
    with serve(password=PASSWORD) as plain:
        result = run(plain, tls=True, validate_certs=False, state="on")
        assert result["failed"] and f"TLS handshake with https://127.0.0.1:{plain.port}/wsman failed" in result["msg"], result
        assert f"port {plain.port} does not speak TLS -- is it the plain HTTP port 16992? then set tls false" in result["msg"]
    with serve(tls=True, password=PASSWORD) as secure:
        result = run(secure, tls=False, ca_cert=None, state="on")
        assert result["failed"] and f"port {secure.port} may speak TLS -- is it the TLS port 16993? then set tls true" in \
            result["msg"], result
        assert secure.calls == [] and secure.power == 8


def test_tls_certificate_not_trusted_then_trusted_through_ca_cert_or_not_checked():
    with serve(tls=True, password=PASSWORD) as amt:
        untrusted = run(amt, ca_cert=None, state="on")
        assert untrusted["failed"] and untrusted["msg"].startswith(
            f"TLS verification of https://127.0.0.1:{amt.port}/wsman failed: "), untrusted
        assert untrusted["msg"].endswith("AMT's default certificate is self-signed: give the CA that signed it as ca_cert, "
                                         "or set validate_certs false")
        assert untrusted["cause"] == "tls" and amt.calls == []
        assert run(amt, state="status")["power_state"] == "off"  # ca_cert: verified
        assert run(amt, ca_cert=None, validate_certs=False, state="on")["changed"] is True
        assert amt.power == 2


def test_a_return_value_is_named(amt_on):
    amt_on.return_values["RequestPowerStateChange"] = 4099
    result = run(amt_on, state="off")
    assert result["failed"] and result["msg"] == (
        f"AMT at http://127.0.0.1:{amt_on.port}/wsman: RequestPowerStateChange returned 4099 (Busy)"), result
    assert result["return_value"] == 4099 and amt_on.power == 2


def test_a_put_with_a_read_only_property_would_be_refused(amt_on):
    # the module strips what AMT refuses: prove the server refuses it, so the test above means something
    status, body = amt_on.answer(
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/'
        b'addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.'
        b"xmlsoap.org/ws/2004/09/transfer/Put</a:Action><w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/"
        b'AMT_BootSettingData</w:ResourceURI></s:Header><s:Body><h:AMT_BootSettingData xmlns:h="http://intel.com/wbem/'
        b'wscim/1/amt-schema/1/AMT_BootSettingData"><h:RPEEnabled>true</h:RPEEnabled></h:AMT_BootSettingData></s:Body>'
        b"</s:Envelope>")
    assert status == 400 and b"Read-only properties in the Put: RPEEnabled" in body


def test_unknown_call_is_a_soap_fault_the_module_names(amt_on, monkeypatch):
    from ansible_collections.homelab.harvester.plugins.module_utils import amt
    monkeypatch.setattr(amt, "ASSOCIATED_POWER", amt.CIM + "CIM_Unknown")
    result = run(amt_on)
    assert result["failed"] and result["msg"] == (
        f"AMT at http://127.0.0.1:{amt_on.port}/wsman answered a SOAP fault (HTTP 400): a:Sender b:DestinationUnreachable: "
        "No route can be determined to reach the destination role defined by the WSAddressing To."), result
    assert result["fault"]["subcode"] == "b:DestinationUnreachable"
