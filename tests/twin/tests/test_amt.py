"""The simulated Intel AMT of each node (`--bare`): WS-Management over HTTP with Digest auth, as
../shared/reference/amt.md documents real AMT -- the envelopes AMTPY, IAMT (bmclib, Rufio) and
OAMT send, the replies, return values and SOAP faults, 401 on a wrong password, TLS with a
self-signed certificate (`--amt-tls`). The twin has no NAS here: a PXE start ends in iPXE."""
from __future__ import annotations

import re
import ssl
import subprocess
import sys

import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.twin.tests.metal_support import (
    ADDR,
    AMT_NS,
    CIM,
    ENUM,
    GET,
    INVENTORY,
    PASSWORD,
    PUT,
    Amt,
    action_of,
    all_named,
    change_boot_order,
    endpoints,
    enumerate_request,
    envelope,
    fault_of,
    first_text,
    metal,
    parse,
    power_request,
    power_request_oamt,
    pull_request,
    return_value,
    set_boot_config_role,
    wait_step,
)

TWIN_ARGS = ["--lab", str(INVENTORY), "--bare", "--amt-password", PASSWORD, "--speed", "1000"]
ON_STATES = [10, 8, 5, 11, 4, 7, 14, 12]


@pytest.fixture(scope="module")
def bare(twins):
    return twins.get(extra=TWIN_ARGS)


@pytest.fixture
def twin(bare):
    bare.reset()
    return bare


def test_the_endpoints_file_names_a_loopback_port_per_node(twin):
    eps = endpoints(twin)
    assert list(eps) == ["ms02-1", "ms02-2", "ms02-3"]
    assert all(e["host"] == "127.0.0.1" and e["tls"] is False and e["port"] > 0 for e in eps.values())
    assert len({e["port"] for e in eps.values()}) == 3
    # written before the kubeconfig: a reader that waits for the kubeconfig finds it
    assert (twin.workdir / "amt-endpoints.yml").stat().st_mtime <= twin.kubeconfig.stat().st_mtime


def test_get_power_state_as_amtpy_sends_it(twin):
    """AMTPY's Get carries no Content-Type; the reply is a GetResponse with the instance."""
    amt = Amt(twin, "ms02-1")
    r = amt.post(envelope(GET, f"{CIM}CIM_AssociatedPowerManagementService"), content_type=None)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/soap+xml")
    root = parse(r.content)
    assert action_of(root) == "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    assert first_text(root, "RelatesTo") == "uuid:5c8e0b0e-1111-4d6e-9d7a-000000000001"
    item = all_named(root, "CIM_AssociatedPowerManagementService")[0]
    assert item.tag == f"{{{CIM}CIM_AssociatedPowerManagementService}}CIM_AssociatedPowerManagementService"
    assert first_text(item, "PowerState") == "8"
    assert [e.text for e in all_named(item, "AvailableRequestedPowerStates")] == ["2"]
    selectors = {s.get("Name"): s.text for s in all_named(first_child(item, "UserOfService"), "Selector")}
    assert selectors == {"CreationClassName": "CIM_ComputerSystem", "Name": "ManagedSystem"}
    # what the AMT answered, as /_twin/metal lists it: the Digest challenge, then the Get
    assert metal(twin)["nodes"]["ms02-1"]["amt_calls"] == ["- 401", "Get CIM_AssociatedPowerManagementService 200"]


def first_child(elem, local):
    return next(e for e in elem if e.tag.rsplit("}", 1)[-1] == local)


@pytest.mark.parametrize("cls", ["CIM_AssociatedPowerManagementService", "CIM_ServiceAvailableToElement"])
def test_enumerate_and_pull_the_power_state(twin, cls):
    """IAMT (getPowerStatus) and MPS enumerate, then pull with the context; a context is used once."""
    amt = Amt(twin, "ms02-2")
    root = parse(amt.post(enumerate_request(cls)).content)
    assert action_of(root) == f"{ENUM}/EnumerateResponse"
    context = first_text(root, "EnumerationContext")
    pulled = parse(amt.post(pull_request(cls, context)).content)
    assert action_of(pulled) == f"{ENUM}/PullResponse"
    items = all_named(pulled, "Items")[0]
    (item,) = list(items)
    assert item.tag == f"{{{CIM}CIM_AssociatedPowerManagementService}}CIM_AssociatedPowerManagementService"
    assert first_text(item, "PowerState") == "8"
    assert all_named(pulled, "EndOfSequence") and not all_named(pulled, "EnumerationContext")
    code, subcode, reason = fault_of(amt.post(pull_request(cls, context)))
    assert (code, subcode.split(":")[1]) == ("a:Sender", "InvalidEnumerationContext")


def test_epr_enumeration_finds_what_iamt_looks_up(twin):
    amt = Amt(twin, "ms02-1")
    wanted = {"CIM_ComputerSystem": ("Name", "ManagedSystem"),
              "CIM_BootConfigSetting": ("InstanceID", "Intel(r) AMT: Boot Configuration 0"),
              "CIM_BootSourceSetting": ("InstanceID", "Intel(r) AMT: Force PXE Boot")}
    for cls, (name, value) in wanted.items():
        context = first_text(parse(amt.post(enumerate_request(cls, epr=True)).content), "EnumerationContext")
        items = list(all_named(parse(amt.post(pull_request(cls, context)).content), "Items")[0])
        assert all(i.tag == f"{{{ADDR}}}EndpointReference" for i in items)
        found = [i for i in items if any(s.get("Name") == name and s.text == value for s in all_named(i, "Selector"))]
        assert len(found) == 1, cls
        assert [c.tag.rsplit("}", 1)[-1] for c in found[0]] == ["Address", "ReferenceParameters"]


def test_power_changes_follow_the_available_states(twin):
    amt = Amt(twin, "ms02-3")
    assert return_value(amt.post(power_request(8))) == 2  # off is not offered while off
    assert return_value(amt.post(power_request(2))) == 0
    assert amt.power_state() == (2, ON_STATES)
    assert return_value(amt.post(power_request(2))) == 2  # on is not offered while on
    assert return_value(amt.post(power_request(10))) == 0  # reset
    assert return_value(amt.post(power_request(5))) == 0  # power cycle
    assert return_value(amt.post(power_request(12))) == 0  # IAMT's power off: off-soft graceful
    assert amt.power_state() == (8, [2])
    assert return_value(amt.post(power_request_oamt(2))) == 0  # OAMT's shape: no header selectors
    assert return_value(amt.post(power_request(8))) == 0
    steps = metal(twin)["steps"]
    assert [s for s in steps if s.startswith("AMT ms02-3")] == [
        "AMT ms02-3: power on", "AMT ms02-3: reset", "AMT ms02-3: power cycle", "AMT ms02-3: power off",
        "AMT ms02-3: power on", "AMT ms02-3: power off"]


def test_a_power_change_without_its_parameters_is_invalid_parameter(twin):
    amt = Amt(twin, "ms02-1")
    assert return_value(amt.post(power_request(2, element=""))) == 5
    other = (f"<wsa:Address>{ADDR}/role/anonymous</wsa:Address><wsa:ReferenceParameters><wsman:ResourceURI>"
             f"{CIM}CIM_ComputerSystem</wsman:ResourceURI><wsman:SelectorSet><wsman:Selector Name=\"Name\">"
             "Intel(r) AMT</wsman:Selector></wsman:SelectorSet></wsa:ReferenceParameters>")
    assert return_value(amt.post(power_request(2, element=other))) == 5
    assert amt.power_state()[0] == 8


def test_one_time_pxe_is_used_by_the_next_start_only(twin):
    amt = Amt(twin, "ms02-1")
    assert return_value(amt.post(set_boot_config_role(1))) == 0
    assert return_value(amt.post(change_boot_order())) == 0
    assert metal(twin)["nodes"]["ms02-1"]["boot"] == {"source": "Intel(r) AMT: Force PXE Boot", "role": 1}
    assert return_value(amt.post(power_request(2))) == 0
    steps = wait_step(twin, "ms02-1: iPXE:")  # no NAS here: the DHCP filename does not answer
    assert "AMT ms02-1: power on (one-time PXE)" in steps
    assert "ms02-1: iPXE: http://10.10.10.20/harvester/boot.ipxe... Connection timed out" in steps
    assert metal(twin)["nodes"]["ms02-1"]["boot"] == {"source": None, "role": 32768}  # IsNotNext again
    assert return_value(amt.post(power_request(10))) == 0
    steps = wait_step(twin, "ms02-1: boot from disk: no operating system")
    assert "AMT ms02-1: reset" in steps


def test_a_boot_source_without_the_single_use_role_boots_the_disk(twin):
    amt = Amt(twin, "ms02-2")
    assert return_value(amt.post(change_boot_order())) == 0
    assert return_value(amt.post(power_request(2))) == 0
    wait_step(twin, "ms02-2: boot from disk: no operating system")
    assert "AMT ms02-2: power on" in metal(twin)["steps"]


def test_boot_order_and_role_return_values(twin):
    amt = Amt(twin, "ms02-2")
    assert return_value(amt.post(change_boot_order("Intel(r) AMT: Force Floppy Boot"))) == 4  # Invalid Reference
    assert return_value(amt.post(change_boot_order("Intel(r) AMT: Force CD/DVD Boot"))) == 0
    assert return_value(amt.post(change_boot_order(None))) == 0  # an empty input clears the source
    assert metal(twin)["nodes"]["ms02-2"]["boot"]["source"] is None
    assert return_value(amt.post(set_boot_config_role(2))) == 5  # only IsNextSingleUse and IsNotNext
    assert return_value(amt.post(set_boot_config_role(1, config="Intel(r) AMT: Boot Configuration 1"))) == 4
    assert return_value(amt.post(set_boot_config_role(32768))) == 0


def test_boot_setting_data_get_and_put_as_iamt_does(twin):
    amt = Amt(twin, "ms02-3")
    uri = f"{AMT_NS}AMT_BootSettingData"
    data = all_named(parse(amt.post(envelope(GET, uri)).content), "AMT_BootSettingData")[0]
    fields = [e.tag.rsplit("}", 1)[-1] for e in data]
    assert fields[:4] == ["BIOSLastStatus", "BIOSLastStatus", "BIOSPause", "BIOSSetup"] and "WinREBootEnabled" in fields
    assert first_text(data, "InstanceID") == "Intel(r) AMT:BootSettingData 0"
    # IAMT's Put: the read-only fields left out, BIOSSetup as the test wants it
    read_only = {"WinREBootEnabled", "UEFILocalPBABootEnabled", "UEFIHTTPSBootEnabled", "SecureBootControlEnabled",
                 "BootguardStatus", "OptionsCleared", "BIOSLastStatus", "UefiBootParametersArray"}
    kept = "".join(f"<d:{f}>{'true' if f == 'BIOSSetup' else e.text or ''}</d:{f}>"
                   for f, e in zip(fields, data, strict=True) if f not in read_only)
    r = amt.post(envelope(PUT, uri, f'<d:AMT_BootSettingData xmlns:d="{uri}">{kept}</d:AMT_BootSettingData>'))
    assert r.status_code == 200
    assert action_of(parse(r.content)) == "http://schemas.xmlsoap.org/ws/2004/09/transfer/PutResponse"
    assert first_text(parse(r.content), "BIOSSetup") == "true"
    amt.pxe_power_on()
    wait_step(twin, "ms02-3: boot: stopped in the firmware")


def test_what_amt_does_not_know_is_a_soap_fault(twin):
    amt = Amt(twin, "ms02-1")
    code, subcode, reason = fault_of(amt.post(envelope(GET, f"{CIM}CIM_Fan")))
    assert (code, subcode) == ("a:Sender", "b:DestinationUnreachable")
    assert reason == "No route can be determined to reach the destination role defined by the WSAddressing To."
    code, subcode, _ = fault_of(amt.post(envelope(f"{CIM}CIM_PowerManagementService/Frobnicate",
                                                  f"{CIM}CIM_PowerManagementService")))
    assert subcode == "b:ActionNotSupported"
    code, subcode, _ = fault_of(amt.post(power_request(2).replace(
        "Intel(r) AMT Power Management Service", "Some Other Service")))
    assert subcode == "c:InvalidSelectors"
    code, subcode, _ = fault_of(amt.post("<not-soap/>"))
    assert (code, subcode) == ("a:Sender", "c:SchemaValidationError")
    assert amt.power_state()[0] == 8  # nothing was powered


def test_digest_auth_refuses_what_is_not_admin_with_its_password(twin):
    ep = endpoints(twin)["ms02-1"]
    url = f"http://127.0.0.1:{ep['port']}/wsman"
    body = envelope(GET, f"{CIM}CIM_AssociatedPowerManagementService").encode()
    # IAMT's Open: an empty POST without credentials must be answered 401 with a challenge
    r = requests.post(url, data=b"", timeout=10)
    assert r.status_code == 401
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ")
    tokens = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    assert set(tokens) <= {"realm", "domain", "nonce", "opaque", "stale", "algorithm", "qop"}  # IAMT's parser
    assert tokens["qop"] == "auth" and tokens["stale"] == "false" and "," not in tokens["realm"]
    for user, password in (("admin", "wrong"), ("root", PASSWORD)):
        r = requests.post(url, data=body, auth=HTTPDigestAuth(user, password), timeout=10)
        assert r.status_code == 401, user
    r = requests.post(url, data=body, auth=(("admin", PASSWORD)), timeout=10)  # Basic auth
    assert r.status_code == 401
    forged = (f'Digest username="admin", realm="{tokens["realm"]}", nonce="00112233", uri="/wsman", '
              f'response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="ab"')
    r = requests.post(url, data=body, headers={"Authorization": forged}, timeout=10)
    assert r.status_code == 401 and 'stale="true"' in r.headers["WWW-Authenticate"]  # a nonce AMT never gave
    assert requests.post(url, data=body, auth=HTTPDigestAuth("admin", PASSWORD), timeout=10).status_code == 200


def test_an_unprovisioned_amt_refuses_connections(twin):
    amt = Amt(twin, "ms02-2")
    r = twin.session().patch(twin.url("/_twin/metal"), json={"nodes": {"ms02-2": {"amt_provisioned": False}}})
    assert r.status_code == 200 and r.json()["nodes"]["ms02-2"]["amt_provisioned"] is False
    with pytest.raises(requests.ConnectionError, match="Connection refused"):
        amt.power_state()
    assert twin.session().patch(twin.url("/_twin/metal"), json={"nodes": {"ms02-9": {}}}).status_code == 400
    twin.reset()  # back to the start state: listening again on the same port
    assert amt.power_state() == (8, [2])


@pytest.fixture(scope="module")
def tls_twin(twins):
    return twins.get(extra=[*TWIN_ARGS, "--amt-tls"])


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_mode_serves_https_with_a_self_signed_certificate(tls_twin):
    twin = tls_twin
    ep = endpoints(twin)["ms02-1"]
    assert ep["tls"] is True
    cert = twin.workdir / "amt-certs" / "ms02-1.pem"
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        Amt(twin, "ms02-1", verify=True).power_state()  # not signed by anyone the client trusts
    assert Amt(twin, "ms02-1", verify=str(cert)).power_state() == (8, [2])  # trusted as given
    assert Amt(twin, "ms02-1", verify=False).power_state() == (8, [2])  # validate_certs: false
    with pytest.raises(requests.exceptions.SSLError):  # each node has its own certificate
        Amt(twin, "ms02-2", verify=str(cert)).power_state()
    pem = ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert pem  # a certificate, not a key
    with pytest.raises(requests.ConnectionError):  # plain HTTP to the TLS port
        requests.post(f"http://127.0.0.1:{ep['port']}/wsman", data=b"", timeout=10)


def test_the_password_comes_from_the_vault_or_the_flag(tmp_path):
    """Without --amt-password the inventory's vault_amt_password is the password; a `!vault`
    value cannot be read and stops the twin with a message naming the file and the flag."""
    inv = tmp_path / "inv"
    subprocess.run(["cp", "-r", str(INVENTORY), str(inv)], check=True)
    vault = inv / "group_vars" / "all" / "vault.yml"
    vault.write_text(vault.read_text() + "vault_amt_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n")
    proc = subprocess.run([sys.executable, "-m", "tests.twin", "--port", "0", "--kubeconfig", str(tmp_path / "kc"),
                           "--lab", str(inv), "--bare"], capture_output=True, text=True, timeout=60,
                          cwd=INVENTORY.parents[1])
    assert proc.returncode == 2
    assert f"{vault}: vault_amt_password is vault-encrypted and cannot be read; give --amt-password" in proc.stderr
    vault.write_text(vault.read_text().split("vault_amt_password")[0])
    proc = subprocess.run([sys.executable, "-m", "tests.twin", "--port", "0", "--kubeconfig", str(tmp_path / "kc"),
                           "--lab", str(inv), "--bare"], capture_output=True, text=True, timeout=60,
                          cwd=INVENTORY.parents[1])
    assert proc.returncode == 2 and "no vault_amt_password" in proc.stderr


def test_the_password_in_a_plain_vault_file_is_used(tmp_path, twins):
    inv = tmp_path / "inv"
    subprocess.run(["cp", "-r", str(INVENTORY), str(inv)], check=True)
    vault = inv / "group_vars" / "all" / "vault.yml"
    vault.write_text(vault.read_text() + "vault_amt_password: From-The-Vault-1\n")
    twin = twins.get(extra=["--lab", str(inv), "--bare", "--speed", "1000"])
    assert Amt(twin, "ms02-1", password="From-The-Vault-1").power_state() == (8, [2])
    assert Amt(twin, "ms02-1").post(envelope(GET, f"{CIM}CIM_AssociatedPowerManagementService")).status_code == 401
