"""What the bare-metal tests share: WS-Management envelopes as the real AMT clients write them
(../shared/reference/amt.md: AMTPY's templates, IAMT's Enumerate, OAMT-TS's variants), a Digest
client for a node's simulated AMT (requests' HTTPDigestAuth, not ours), the NAS folder the
collection's own renderer fills (harvester_install_files' module_utils), and waiting on the
twin's step log (GET /_twin/metal)."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import requests
import yaml
from requests.auth import HTTPDigestAuth

from tests.twin import lab_inventory

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDR = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
ANON = f"{ADDR}/role/anonymous"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
AMT_NS = "http://intel.com/wbem/wscim/1/amt-schema/1/"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
PASSWORD = "Tw1n-AMT-p4ss!"
ROOT = Path(__file__).resolve().parents[3]
INVENTORY = ROOT / "inventory" / "lab"
NODES = ["ms02-1", "ms02-2", "ms02-3"]
VERSION = "v1.8.2"
TOKEN = "tw1n-cluster-token"


# ---------------------------------------------------------------------------------- envelopes
def envelope(action: str, resource: str, body: str = "", selectors: str = "", to: str = "http://127.0.0.1/wsman") -> str:
    """AMTPY's envelope shape (amt/wsman.py): prefixed SOAP, MessageID uuid, header selectors."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{SOAP}" xmlns:wsa="{ADDR}" xmlns:wsman="{WSMAN}">'
            f'<s:Header><wsa:Action s:mustUnderstand="true">{action}</wsa:Action>'
            f'<wsa:To s:mustUnderstand="true">{to}</wsa:To>'
            f'<wsman:ResourceURI s:mustUnderstand="true">{resource}</wsman:ResourceURI>'
            f'<wsa:MessageID s:mustUnderstand="true">uuid:5c8e0b0e-1111-4d6e-9d7a-000000000001</wsa:MessageID>'
            f"<wsa:ReplyTo><wsa:Address>{ANON}</wsa:Address></wsa:ReplyTo>{selectors}</s:Header>"
            f"<s:Body>{body}</s:Body></s:Envelope>")


def selector_set(name: str, value: str, attr: str = "Name") -> str:
    return f'<wsman:SelectorSet><wsman:Selector {attr}="{name}">{value}</wsman:Selector></wsman:SelectorSet>'


def reference(cls: str, name: str, value: str, attr: str = "wsman:Name") -> str:
    """AMTPY's EPR parameter content (note its namespaced wsman:Name attribute)."""
    return (f"<wsa:Address>{ANON}</wsa:Address><wsa:ReferenceParameters><wsman:ResourceURI>{CIM}{cls}"
            f"</wsman:ResourceURI>{selector_set(name, value, attr)}</wsa:ReferenceParameters>")


def power_request(state: int, element: str | None = None) -> str:
    """AMTPY power_state_request()."""
    if element is None:
        element = reference("CIM_ComputerSystem", "Name", "ManagedSystem")
    element_xml = f"<n1:ManagedElement>{element}</n1:ManagedElement>" if element else ""
    return envelope(f"{CIM}CIM_PowerManagementService/RequestPowerStateChange", f"{CIM}CIM_PowerManagementService",
                    f'<n1:RequestPowerStateChange_INPUT xmlns:n1="{CIM}CIM_PowerManagementService">'
                    f"<n1:PowerState>{state}</n1:PowerState>{element_xml}</n1:RequestPowerStateChange_INPUT>",
                    selector_set("Name", "Intel(r) AMT Power Management Service"))


def power_request_oamt(state: int) -> str:
    """OAMT-TS's RequestPowerStateChange: default SOAP namespace, no header selectors, Address =
    the addressing namespace, two selectors."""
    return (f'<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="{SOAP}" xmlns:a="{ADDR}" xmlns:w="{WSMAN}">'
            f"<Header><a:Action>{CIM}CIM_PowerManagementService/RequestPowerStateChange</a:Action><a:To>/wsman</a:To>"
            f"<w:ResourceURI>{CIM}CIM_PowerManagementService</w:ResourceURI><a:MessageID>1</a:MessageID>"
            f"<a:ReplyTo><a:Address>{ANON}</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header>"
            f'<Body><h:RequestPowerStateChange_INPUT xmlns:h="{CIM}CIM_PowerManagementService"><h:PowerState>{state}'
            f'</h:PowerState><h:ManagedElement><Address xmlns="{ADDR}">{ADDR}</Address>'
            f'<ReferenceParameters xmlns="{ADDR}"><ResourceURI xmlns="{WSMAN}">{CIM}CIM_ComputerSystem</ResourceURI>'
            f'<SelectorSet xmlns="{WSMAN}"><Selector Name="CreationClassName">CIM_ComputerSystem</Selector>'
            f'<Selector Name="Name">ManagedSystem</Selector></SelectorSet></ReferenceParameters></h:ManagedElement>'
            f"</h:RequestPowerStateChange_INPUT></Body></Envelope>")


def change_boot_order(source: str | None = "Intel(r) AMT: Force PXE Boot") -> str:
    """AMTPY change_boot_order_request(); source None: OAMT-TS's empty input (clears it)."""
    params = f"<n1:Source>{reference('CIM_BootSourceSetting', 'InstanceID', source)}</n1:Source>" if source else ""
    return envelope(f"{CIM}CIM_BootConfigSetting/ChangeBootOrder", f"{CIM}CIM_BootConfigSetting",
                    f'<n1:ChangeBootOrder_INPUT xmlns:n1="{CIM}CIM_BootConfigSetting">{params}</n1:ChangeBootOrder_INPUT>',
                    selector_set("InstanceID", "Intel(r) AMT: Boot Configuration 0"))


def set_boot_config_role(role: int = 1, config: str = "Intel(r) AMT: Boot Configuration 0") -> str:
    """AMTPY enable_boot_config_request()."""
    return envelope(f"{CIM}CIM_BootService/SetBootConfigRole", f"{CIM}CIM_BootService",
                    f'<n1:SetBootConfigRole_INPUT xmlns:n1="{CIM}CIM_BootService"><n1:BootConfigSetting>'
                    f"{reference('CIM_BootConfigSetting', 'InstanceID', config)}</n1:BootConfigSetting>"
                    f"<n1:Role>{role}</n1:Role></n1:SetBootConfigRole_INPUT>",
                    selector_set("Name", "Intel(r) AMT Boot Service"))


def enumerate_request(cls: str, epr: bool = False) -> str:
    """IAMT's Enumerate (EnumerationMode EnumerateEPR when asked)."""
    mode = "<wsman:EnumerationMode>EnumerateEPR</wsman:EnumerationMode>" if epr else ""
    uri = (AMT_NS if cls.startswith("AMT_") else CIM) + cls
    return envelope(f"{ENUM}/Enumerate", uri, f'<wsen:Enumerate xmlns:wsen="{ENUM}">{mode}</wsen:Enumerate>')


def pull_request(cls: str, context: str) -> str:
    uri = (AMT_NS if cls.startswith("AMT_") else CIM) + cls
    return envelope(f"{ENUM}/Pull", uri, f'<wsen:Pull xmlns:wsen="{ENUM}"><wsen:EnumerationContext>{context}'
                                         f"</wsen:EnumerationContext></wsen:Pull>")


# ---------------------------------------------------------------------------------- replies
def parse(text: str | bytes) -> ET.Element:
    return ET.fromstring(text if isinstance(text, bytes) else text.encode())


def action_of(root: ET.Element) -> str:
    return root.find(f"{{{SOAP}}}Header/{{{ADDR}}}Action").text


def all_named(root: ET.Element, local: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == local]


def first_text(root: ET.Element, local: str) -> str | None:
    found = all_named(root, local)
    return found[0].text if found else None


def return_value(response: requests.Response) -> int:
    assert response.status_code == 200, response.text
    return int(first_text(parse(response.content), "ReturnValue"))


def fault_of(response: requests.Response) -> tuple[str, str, str]:
    """(code, subcode, reason) of a SOAP Fault answered with HTTP 400."""
    assert response.status_code == 400, (response.status_code, response.text)
    root = parse(response.content)
    assert action_of(root) == f"{ADDR}/fault"
    fault = all_named(root, "Fault")[0]
    values = [v.text for v in all_named(fault, "Value")]
    return values[0], values[1], first_text(fault, "Text")


# ---------------------------------------------------------------------------------- the AMT of a node
def endpoints(twin) -> dict:
    return yaml.safe_load((twin.workdir / "amt-endpoints.yml").read_text())["lab_amt_endpoints"]


class Amt:
    """A node's AMT as a client reaches it (requests, HTTP Digest)."""

    def __init__(self, twin, node: str, password: str = PASSWORD, verify=False):
        ep = endpoints(twin)[node]
        self.url = f"{'https' if ep['tls'] else 'http'}://{ep['host']}:{ep['port']}/wsman"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = HTTPDigestAuth("admin", password)
        self.session.verify = verify

    def post(self, body: str, content_type: str | None = "application/soap+xml;charset=UTF-8") -> requests.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        return self.session.post(self.url, data=body.encode(), headers=headers, timeout=10)

    def power_state(self) -> tuple[int, list[int]]:
        root = parse(self.post(envelope(GET, f"{CIM}CIM_AssociatedPowerManagementService"), content_type=None).content)
        return int(first_text(root, "PowerState")), [int(e.text) for e in all_named(root, "AvailableRequestedPowerStates")]

    def pxe_power_on(self) -> None:
        """Ironic's order: ChangeBootOrder, SetBootConfigRole(1), RequestPowerStateChange(2)."""
        assert return_value(self.post(change_boot_order())) == 0
        assert return_value(self.post(set_boot_config_role(1))) == 0
        assert return_value(self.post(power_request(2))) == 0


# ---------------------------------------------------------------------------------- the twin's state
def metal(twin) -> dict:
    r = twin.session().get(twin.url("/_twin/metal"))
    r.raise_for_status()
    return r.json()


def wait_step(twin, text: str, timeout: float = 20.0) -> list[str]:
    """Wait for a step line containing text; the steps so far."""
    deadline = time.monotonic() + timeout
    while True:
        steps = metal(twin)["steps"]
        if any(text in s for s in steps):
            return steps
        if time.monotonic() > deadline:
            raise AssertionError(f"no step {text!r} after {timeout}s; steps: {steps}")
        time.sleep(0.05)


def api_answers(twin) -> bool:
    try:
        twin.session().get(twin.url("/version"), timeout=5)
        return True
    except requests.ConnectionError:
        return False


# ---------------------------------------------------------------------------------- the NAS
def nodes_params() -> dict:
    nodes = {}
    for n in lab_inventory.load(INVENTORY):
        ln = n["lab_node"]
        nodes[n["name"]] = {k: ln[k] for k in ("role", "mgmt_ip", "install_disk", "data_disk", "bond_nics", "oob_nic")}
    return nodes


def render_nas(root: Path, **overrides) -> Path:
    """The NAS web root as the bootstrap role publishes it: harvester/{boot.ipxe, <node>.ipxe,
    <node>.yaml} rendered by harvester_install_files' own code, and small release files."""
    from ansible_collections.homelab.harvester.plugins.module_utils import install_files

    publish = root / "harvester"
    (publish / VERSION).mkdir(parents=True, exist_ok=True)
    params = {"dest": str(publish), "version": VERSION, "http_url": "http://10.10.10.20/harvester",
              "artifacts_url": None, "vip": "10.10.10.5", "fqdn": "harvester.lab.local", "token": TOKEN,
              "os_password": "rancher-pw", "ssh_authorized_keys": [], "dns_servers": ["10.10.10.1"],
              "ntp_servers": ["10.10.10.1"], "mgmt": {"cidr": "10.10.10.0/24", "gateway": "10.10.10.1", "vlan_id": 10},
              "bond": {"mode": "802.3ad", "miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast",
                       "mtu": 1500},
              "kernel_args": [], "nodes": nodes_params(), **overrides}
    for name, text, mode, _secret in install_files.files(params):
        path = publish / name
        path.write_text(text)
        path.chmod(mode)
    for suffix in ("vmlinuz-amd64", "initrd-amd64", "rootfs-amd64.squashfs", "amd64.iso"):
        (publish / VERSION / f"harvester-{VERSION}-{suffix}").write_bytes(b"\0" * 512)
    return root
