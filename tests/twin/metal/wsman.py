"""WS-Management SOAP 1.2 as Intel AMT speaks it: reading a request envelope, writing the
replies and faults (the shapes of open-amt-cloud-toolkit/go-wsman-messages' captured AMT
replies, ../shared/reference/amt.md §2-5), and the requests a client sends (the Rufio
controller's intelamt client, metal/iamt.py).

Requests are read leniently, as AMT must serve every real client: the SOAP namespace prefixed or
default, `To` a URL or `/wsman`, any MessageID, selectors named by `Name` or `wsman:Name`, a
SelectorSet in the header or none.
"""
from __future__ import annotations

import itertools
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDR = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
AMT = "http://intel.com/wbem/wscim/1/amt-schema/1/"

GET, PUT = f"{TRANSFER}/Get", f"{TRANSFER}/Put"
ENUMERATE, PULL, RELEASE = f"{ENUM}/Enumerate", f"{ENUM}/Pull", f"{ENUM}/Release"
FAULT_ACTION = f"{ADDR}/fault"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

_NS_DECL = (f'xmlns:a="{SOAP}" xmlns:b="{ADDR}" xmlns:c="{WSMAN}" '
            'xmlns:d="http://schemas.xmlsoap.org/ws/2005/02/trust" '
            'xmlns:e="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" '
            'xmlns:f="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"')
_XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def class_uri(name: str) -> str:
    """The ResourceURI of a CIM_* or AMT_* class."""
    return (AMT if name.startswith(("AMT_", "IPS_")) else CIM) + name


def class_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


# ------------------------------------------------------------------------------------ requests
class BadRequest(ValueError):
    """Not a WS-Management request AMT could read."""


@dataclass
class Request:
    action: str
    resource: str
    message_id: str
    selectors: dict[str, str]
    body: ET.Element | None  # the first child of s:Body, or None

    @property
    def cls(self) -> str:
        return class_of(self.resource)


def selector_name(sel: ET.Element) -> str | None:
    return sel.get("Name") or sel.get(f"{{{WSMAN}}}Name")


def selectors_in(elem: ET.Element | None) -> dict[str, str]:
    """Every Selector under elem, name -> text (Name or wsman:Name attribute)."""
    out: dict[str, str] = {}
    if elem is None:
        return out
    for sel in elem.iter(f"{{{WSMAN}}}Selector"):
        name = selector_name(sel)
        if name:
            out[name] = (sel.text or "").strip()
    return out


def parse_request(data: bytes) -> Request:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise BadRequest(f"not XML: {e}") from None
    if root.tag != f"{{{SOAP}}}Envelope":
        raise BadRequest("not a SOAP 1.2 envelope")
    header = root.find(f"{{{SOAP}}}Header")
    body = root.find(f"{{{SOAP}}}Body")
    if header is None or body is None:
        raise BadRequest("no Header or Body")
    action = (header.findtext(f"{{{ADDR}}}Action") or "").strip()
    resource = (header.findtext(f"{{{WSMAN}}}ResourceURI") or "").strip()
    message_id = (header.findtext(f"{{{ADDR}}}MessageID") or "").strip()
    if not action:
        raise BadRequest("no wsa:Action")
    return Request(action, resource, message_id, selectors_in(header.find(f"{{{WSMAN}}}SelectorSet")),
                   next(iter(body), None))


def child(elem: ET.Element | None, local: str) -> ET.Element | None:
    """The first child of elem with this local name, in any namespace."""
    if elem is None:
        return None
    return next((c for c in elem if c.tag.rsplit("}", 1)[-1] == local), None)


def children(elem: ET.Element | None, local: str) -> list[ET.Element]:
    return [c for c in (elem if elem is not None else []) if c.tag.rsplit("}", 1)[-1] == local]


def local(elem: ET.Element) -> str:
    return elem.tag.rsplit("}", 1)[-1]


# ------------------------------------------------------------------------------------ replies
_counter = itertools.count(0x3B8)


def _message_id() -> str:
    """AMT's reply MessageIDs: uuid:00000000-8086-8086-8086-<counter>."""
    return f"uuid:00000000-8086-8086-8086-{next(_counter):012X}"


def envelope(action: str, relates_to: str, resource: str | None, body: str, extra_ns: str = "") -> str:
    resource_header = f"<c:ResourceURI>{escape(resource)}</c:ResourceURI>" if resource else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f"<a:Envelope {_NS_DECL} {extra_ns} {_XSI}>"
            f"<a:Header><b:To>{ANONYMOUS}</b:To><b:RelatesTo>{escape(relates_to)}</b:RelatesTo>"
            f'<b:Action a:mustUnderstand="true">{escape(action)}</b:Action>'
            f"<b:MessageID>{_message_id()}</b:MessageID>{resource_header}</a:Header>"
            f"<a:Body>{body}</a:Body></a:Envelope>")


def properties(prefix: str, props: list[tuple[str, object]]) -> str:
    """<p:Name>value</p:Name> for each property; a list value repeats the element; a dict value
    is raw XML (an endpoint reference)."""
    out = []
    for name, value in props:
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool):
                v = "true" if v else "false"
            if isinstance(v, Raw):
                out.append(f"<{prefix}:{name}>{v.xml}</{prefix}:{name}>")
            else:
                out.append(f"<{prefix}:{name}>{escape(str(v))}</{prefix}:{name}>")
    return "".join(out)


@dataclass
class Raw:
    xml: str


def epr(class_name: str, selectors: list[tuple[str, str]]) -> Raw:
    """An endpoint reference's content (Address + ReferenceParameters), as AMT writes it."""
    sels = "".join(f'<c:Selector Name="{escape(n)}">{escape(v)}</c:Selector>' for n, v in selectors)
    return Raw(f"<b:Address>{ANONYMOUS}</b:Address><b:ReferenceParameters>"
               f"<c:ResourceURI>{class_uri(class_name)}</c:ResourceURI><c:SelectorSet>{sels}</c:SelectorSet>"
               f"</b:ReferenceParameters>")


@dataclass
class Instance:
    """A CIM/AMT instance: its class, its properties in AMT's order, its key selectors."""
    cls: str
    props: list[tuple[str, object]]
    keys: list[tuple[str, str]] = field(default_factory=list)

    def xml(self, prefix: str = "h") -> str:
        return f"<{prefix}:{self.cls}>{properties(prefix, self.props)}</{prefix}:{self.cls}>"

    def epr_xml(self) -> str:
        return f"<b:EndpointReference>{epr(self.cls, self.keys).xml}</b:EndpointReference>"


def get_response(req: Request, inst: Instance) -> str:
    return envelope(f"{TRANSFER}/GetResponse", req.message_id, class_uri(inst.cls), inst.xml("g"),
                    f'xmlns:g="{class_uri(inst.cls)}"')


def put_response(req: Request, inst: Instance) -> str:
    return envelope(f"{TRANSFER}/PutResponse", req.message_id, class_uri(inst.cls), inst.xml("g"),
                    f'xmlns:g="{class_uri(inst.cls)}"')


def enumerate_response(req: Request, context: str) -> str:
    return envelope(f"{ENUM}/EnumerateResponse", req.message_id, req.resource,
                    f"<g:EnumerateResponse><g:EnumerationContext>{context}</g:EnumerationContext></g:EnumerateResponse>",
                    f'xmlns:g="{ENUM}"')


def pull_response(req: Request, items: list[Instance], eprs: bool) -> str:
    classes = sorted({i.cls for i in items})
    ns = " ".join(f'xmlns:h{n}="{class_uri(c)}"' for n, c in enumerate(classes))
    prefix = {c: f"h{n}" for n, c in enumerate(classes)}
    body = "".join(i.epr_xml() if eprs else i.xml(prefix[i.cls]) for i in items)
    return envelope(f"{ENUM}/PullResponse", req.message_id, req.resource,
                    f"<g:PullResponse><g:Items>{body}</g:Items><g:EndOfSequence></g:EndOfSequence></g:PullResponse>",
                    f'xmlns:g="{ENUM}" {ns}')


def release_response(req: Request) -> str:
    return envelope(f"{ENUM}/ReleaseResponse", req.message_id, req.resource, "", f'xmlns:g="{ENUM}"')


def invoke_response(req: Request, method: str, return_value: int) -> str:
    uri = req.resource
    return envelope(f"{uri}/{method}Response", req.message_id, uri,
                    f"<g:{method}_OUTPUT><g:ReturnValue>{return_value}</g:ReturnValue></g:{method}_OUTPUT>",
                    f'xmlns:g="{escape(uri)}"')


def fault(relates_to: str, code: str, subcode: str, reason: str, detail: str = "") -> str:
    """A SOAP Fault (HTTP 400), as AMT sends one: code a:Sender|a:Receiver, a subcode QName
    (prefixes: b addressing, c wsman, g enumeration)."""
    return envelope(FAULT_ACTION, relates_to, None,
                    f"<a:Fault><a:Code><a:Value>{code}</a:Value><a:Subcode><a:Value>{subcode}</a:Value></a:Subcode>"
                    f'</a:Code><a:Reason><a:Text xml:lang="en-US">{escape(reason)}</a:Text></a:Reason>'
                    f"<a:Detail>{detail}</a:Detail></a:Fault>", f'xmlns:g="{ENUM}"')


# ------------------------------------------------------------------------------------ client side
def request(action: str, to: str, resource: str, body: str = "", selectors: list[tuple[str, str]] = ()) -> bytes:
    """A request envelope as IAMT builds one (wsman/message.go NewMessage)."""
    sels = ""
    if selectors:
        sels = "<w:SelectorSet>" + "".join(f'<w:Selector Name="{escape(n)}">{escape(v)}</w:Selector>'
                                           for n, v in selectors) + "</w:SelectorSet>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{SOAP}" xmlns:a="{ADDR}" xmlns:w="{WSMAN}" xmlns:n="{ENUM}">'
            f'<s:Header><a:Action s:mustUnderstand="true">{escape(action)}</a:Action>'
            f'<a:To s:mustUnderstand="true">{escape(to)}</a:To>'
            f'<a:MessageID s:mustUnderstand="true">uuid:{uuid.uuid4()}</a:MessageID>'
            f'<a:ReplyTo><a:Address s:mustUnderstand="true">{ANONYMOUS}</a:Address></a:ReplyTo>'
            f'<w:ResourceURI s:mustUnderstand="true">{escape(resource)}</w:ResourceURI>{sels}</s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


@dataclass
class Reply:
    action: str
    body: ET.Element | None
    fault: ET.Element | None


def parse_reply(data: bytes) -> Reply:
    root = ET.fromstring(data)
    header = root.find(f"{{{SOAP}}}Header")
    body = root.find(f"{{{SOAP}}}Body")
    action = (header.findtext(f"{{{ADDR}}}Action") if header is not None else "") or ""
    first = next(iter(body), None) if body is not None else None
    is_fault = first is not None and first.tag == f"{{{SOAP}}}Fault"
    return Reply(action.strip(), first if not is_fault else None, first if is_fault else None)
