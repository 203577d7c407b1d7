"""Webhooks of the network area: harvester-network-webhook (network-controller-harvester
`pkg/webhook/{clusternetwork,vlanconfig,nad}`) for ClusterNetwork, VlanConfig and
NetworkAttachmentDefinition.

How the real webhook answers: it runs on harvester/webhook, which registers one validating
webhook named `validator.harvester-system.harvester-network-webhook` and one mutating webhook
`mutator.harvester-system.harvester-network-webhook`; a plain error returned by a validator or
mutator is wrapped as `werror.NewInternalError`, so the apiserver relays every refusal as
**500 InternalError**, `admission webhook "<name>" denied the request: <message>`. The messages
below follow the webhook's format strings (`can't create vlanConfig %s because %w`, ...).
"""
from __future__ import annotations

import ipaddress
import json
import re
import zlib

from .. import lookups
from . import Chain, Request, denied

VALIDATOR = "validator.harvester-system.harvester-network-webhook"
MUTATOR = "mutator.harvester-system.harvester-network-webhook"

GROUP = "network.harvesterhci.io"
NAD_GROUP = "k8s.cni.cncf.io"
MGMT = "mgmt"
KEY_CN = f"{GROUP}/clusternetwork"
KEY_VLANCONFIG = f"{GROUP}/vlanconfig"
KEY_NODE = f"{GROUP}/node"
KEY_TYPE = f"{GROUP}/type"
KEY_VLAN = f"{GROUP}/vlan-id"
KEY_READY = f"{GROUP}/ready"
KEY_ROUTE = f"{GROUP}/route"
KEY_UPLINK_MTU = f"{GROUP}/uplink-mtu"
KEY_MTU_SOURCE = f"{GROUP}/mtu-source-vc"
KEY_MATCHED_NODES = f"{GROUP}/matched-nodes"
KEY_STORAGE_NETWORK = "storage-network.settings.harvesterhci.io"
WITNESS = "node-role.harvesterhci.io/witness"

MAX_DEVICE_NAME = 15
BRIDGE_SUFFIX = "-br"
MAX_CN_NAME = MAX_DEVICE_NAME - len(BRIDGE_SUFFIX)  # 12
DEFAULT_MTU, MIN_MTU, MAX_MTU = 1500, 576, 9000
MAX_VLAN = 4094


def _deny(message: str, *, webhook: str = VALIDATOR):
    return denied(webhook, message, code=500, reason="InternalError")


# ------------------------------------------------------------------------------------- reading
def _list(store, group: str, plural: str, namespace: str | None = None) -> list[dict]:
    kind = store.registry.by_plural(group, plural)
    return store.list(kind, namespace) if kind is not None else []


def _get(store, group: str, plural: str, name: str, namespace: str = "") -> dict | None:
    kind = store.registry.by_plural(group, plural)
    return store.peek(kind, namespace, name) if kind is not None else None


def _labelled(objs: list[dict], key: str, value: str) -> list[dict]:
    return [o for o in objs if (o["metadata"].get("labels") or {}).get(key) == value]


def _not_found(plural: str, name: str) -> str:
    return f'{plural}.{GROUP} "{name}" not found'


def _go_list(items) -> str:
    """fmt's %v of a []string."""
    return "[" + " ".join(items) + "]"


def vlan_status_name(cn: str, node: str) -> str:
    """utils.Name("", cn, node): `<cn>-<node>-<crc32 IEEE hex>`, at most 63 characters."""
    joined = f"{cn}-{node}"
    return f"{joined}-{zlib.crc32(joined.encode()):08x}"[:63]


# ------------------------------------------------------------------------------------- MTU
def mtu_of_vlanconfig(vc: dict) -> int:
    return int((((vc.get("spec") or {}).get("uplink") or {}).get("linkAttributes") or {}).get("mtu") or 0)


def valid_mtu(mtu: int) -> bool:
    return mtu == 0 or MIN_MTU <= mtu <= MAX_MTU


def equal_mtus(a: int, b: int) -> bool:
    return a == b or {a, b} == {0, DEFAULT_MTU}


def _mtu_from_string(value: str) -> int:
    try:
        mtu = int(value)
    except ValueError:
        raise ValueError(f'strconv.Atoi: parsing "{value}": invalid syntax') from None
    if not valid_mtu(mtu):
        raise ValueError(f"MTU {value} is not in range [0, {MIN_MTU}..{MAX_MTU}]")
    return mtu


def cluster_network_mtu(store, cn: dict, vc_label: str) -> int:
    """The MTU a NAD on this cluster network must carry: the `uplink-mtu` annotation, else the
    first VlanConfig labelled `vc_label`, else 1500 (nad mutator/validator)."""
    annotation = (cn["metadata"].get("annotations") or {}).get(KEY_UPLINK_MTU)
    if annotation is not None:
        try:
            mtu = _mtu_from_string(annotation)
        except ValueError as e:
            raise ValueError(f"nad's host cluster network {cn['metadata']['name']} has invalid MTU annotation "
                             f"{KEY_UPLINK_MTU}/{annotation} {e}") from None
        return mtu or DEFAULT_MTU
    vcs = _labelled(_list(store, GROUP, "vlanconfigs"), KEY_CN, vc_label)
    if vcs:
        mtu = mtu_of_vlanconfig(vcs[0])
        if valid_mtu(mtu) and mtu != 0:
            return mtu
    return DEFAULT_MTU


# ------------------------------------------------------------------------------------- VMs
def vmis_using(store, nads: list[dict], nodes: set[str] | None = None) -> list[str]:
    """`ns/name` of running VMIs attached to any of the NADs (on `nodes` when given)."""
    wanted = {f"{n['metadata']['namespace']}/{n['metadata']['name']}" for n in nads}
    out = set()
    for vmi in lookups.running_vmis(store):
        if nodes is not None and (vmi.get("status") or {}).get("nodeName") not in nodes:
            continue
        if wanted & set(lookups.multus_networks(vmi)):
            out.add(f"{vmi['metadata']['namespace']}/{vmi['metadata']['name']}")
    return sorted(out)


def vms_using(store, nad: dict) -> list[str]:
    wanted = f"{nad['metadata']['namespace']}/{nad['metadata']['name']}"
    return sorted(f"{vm['metadata']['namespace']}/{vm['metadata']['name']}" for vm in lookups.virtual_machines(store)
                  if wanted in lookups.multus_networks(vm))


def is_storage_network_nad(nad: dict) -> bool:
    meta = nad["metadata"]
    if meta.get("namespace") != "harvester-system":
        return False
    return (meta.get("annotations") or {}).get(KEY_STORAGE_NETWORK) == "true" or \
        meta["name"].startswith("storagenetwork-")


def _active_storage_network_nad(store, cn: str) -> dict | None:
    for nad in _labelled(_list(store, NAD_GROUP, "network-attachment-definitions", "harvester-system"), KEY_CN, cn):
        if is_storage_network_nad(nad) and not nad["metadata"].get("deletionTimestamp"):
            return nad
    return None


# ======================================================================== ClusterNetwork
def validate_cluster_network(req: Request) -> None:
    if req.operation == "CREATE":
        name = req.obj["metadata"]["name"]
        if len(name) > MAX_CN_NAME:
            raise _deny(f"can't create cluster network {name} because the length of the clusterNetwork name "
                        f"{name} is more than {MAX_CN_NAME}")
        # the seed stands for a cluster whose controller has long since annotated mgmt
        if KEY_UPLINK_MTU in (req.obj["metadata"].get("annotations") or {}) and req.actor != "system:seed":
            raise _deny(f"can't create cluster network {name} because annotation {KEY_UPLINK_MTU} can't be added")
    elif req.operation == "UPDATE":
        _validate_cluster_network_update(req)
    elif req.operation == "DELETE":
        _validate_cluster_network_delete(req)


def _validate_cluster_network_update(req: Request) -> None:
    new, old = req.obj, req.old
    name = new["metadata"]["name"]
    if new["metadata"].get("deletionTimestamp"):
        return
    new_ann = new["metadata"].get("annotations") or {}
    old_ann = old["metadata"].get("annotations") or {}
    try:
        new_mtu = _mtu_from_string(new_ann[KEY_UPLINK_MTU]) if KEY_UPLINK_MTU in new_ann else DEFAULT_MTU
        old_mtu = _mtu_from_string(old_ann[KEY_UPLINK_MTU]) if KEY_UPLINK_MTU in old_ann else DEFAULT_MTU
    except ValueError as e:
        raise _deny(f"can't update cluster network {name} because {e}") from None
    if name != MGMT:
        for vc in _labelled(_list(req.store, GROUP, "vlanconfigs"), KEY_CN, name):
            if vc["metadata"].get("deletionTimestamp"):
                continue
            vc_mtu = mtu_of_vlanconfig(vc)
            if not equal_mtus(vc_mtu, new_mtu):
                raise _deny(f"can't update cluster network {name} because clusternetwork has MTU {new_mtu}, "
                            f"but the vlanconfigs {vc['metadata']['name']} has another MTU {vc_mtu}")
        return
    if equal_mtus(old_mtu, new_mtu):
        return
    nads = _labelled(_list(req.store, NAD_GROUP, "network-attachment-definitions"), KEY_CN, name)
    storage = next((n for n in nads if is_storage_network_nad(n) and not n["metadata"].get("deletionTimestamp")), None)
    refused = f"can't update cluster network {name} because the MTU can't be changed from {old_mtu} to {new_mtu} as"
    if storage is not None:
        raise _deny(f"{refused} storage network nad {storage['metadata']['name']} is still attached")
    vmis = vmis_using(req.store, nads)
    if vmis:
        raise _deny(f"{refused} following VMs must be stopped at first: {', '.join(vmis)}")


def _validate_cluster_network_delete(req: Request) -> None:
    name = req.name
    if name == MGMT:
        raise _deny(f"can't delete cluster network {name} because it is not allowed")
    vcs = _labelled(_list(req.store, GROUP, "vlanconfigs"), KEY_CN, name)
    if vcs:
        raise _deny(f"can't delete cluster network {name} because vlanconfig(s) "
                    f"{_go_list(v['metadata']['name'] for v in vcs)} under this clusternetwork are still existing")
    nads = _labelled(_list(req.store, NAD_GROUP, "network-attachment-definitions"), KEY_CN, name)
    if nads:
        names = ", ".join(f"{n['metadata']['namespace']}/{n['metadata']['name']}" for n in nads)
        raise _deny(f"can't delete cluster network {name} because nads(s) {names} under this clusternetwork "
                    f"are still existing")


# ======================================================================== VlanConfig
def matched_nodes(vc: dict) -> set[str] | None:
    raw = (vc["metadata"].get("annotations") or {}).get(KEY_MATCHED_NODES)
    if not raw:
        return None
    try:
        nodes = json.loads(raw)
    except ValueError as e:
        raise ValueError(f"invalid character in {KEY_MATCHED_NODES}: {e}") from None
    return set(nodes or [])


def _match_nodes_annotation(req: Request, vc: dict) -> None:
    selector = (vc.get("spec") or {}).get("nodeSelector") or {}
    nodes = lookups.node_names(req.store, selector)  # witness nodes excluded
    if not nodes:
        return  # the mutator leaves the annotation alone when nothing matches
    vc["metadata"].setdefault("annotations", {})[KEY_MATCHED_NODES] = json.dumps(nodes, separators=(",", ":"))


def _cn_label(vc: dict) -> None:
    cn = (vc.get("spec") or {}).get("clusterNetwork", "")
    labels = vc["metadata"].setdefault("labels", {})
    if labels.get(KEY_CN) != cn:
        labels[KEY_CN] = cn


def mutate_vlan_config(req: Request) -> None:
    vc = req.obj
    if req.operation == "CREATE":
        _cn_label(vc)
        _match_nodes_annotation(req, vc)
    elif req.operation == "UPDATE":
        if vc["metadata"].get("deletionTimestamp"):
            return
        new_spec, old_spec = vc.get("spec") or {}, req.old.get("spec") or {}
        if new_spec.get("clusterNetwork") != old_spec.get("clusterNetwork"):
            _cn_label(vc)
        if (new_spec.get("nodeSelector") or {}) != (old_spec.get("nodeSelector") or {}):
            _match_nodes_annotation(req, vc)


def validate_vlan_config(req: Request) -> None:
    if req.operation == "CREATE":
        _validate_vc_write(req, req.obj, "create")
    elif req.operation == "UPDATE":
        if req.obj["metadata"].get("deletionTimestamp"):
            return
        new_nodes = _validate_vc_write(req, req.obj, "update")
        name = req.old["metadata"]["name"]
        try:
            old_nodes = matched_nodes(req.old)
        except ValueError as e:
            raise _deny(f"can't update vlanConfig {name} because {e}") from None
        old_spec, new_spec = req.old.get("spec") or {}, req.obj.get("spec") or {}
        if old_spec.get("clusterNetwork") != new_spec.get("clusterNetwork") or \
                (old_spec.get("uplink") or {}) != (new_spec.get("uplink") or {}):
            affected = old_nodes or set()
        else:
            affected = (old_nodes or set()) - (new_nodes or set())
        _check_vc_in_use(req, req.old, affected, f"can't update vlanConfig {name} because ")
    elif req.operation == "DELETE":
        name = req.name
        try:
            nodes = matched_nodes(req.old)
        except ValueError as e:
            raise _deny(f"can't delete vlanConfig {name} because {e}") from None
        _check_vc_in_use(req, req.old, nodes or set(), f"can't delete vlanConfig {name} because ")


def _validate_vc_write(req: Request, vc: dict, verb: str) -> set[str] | None:
    name = vc["metadata"]["name"]
    prefix = f"can't {verb} vlanConfig {name} because "
    cn = (vc.get("spec") or {}).get("clusterNetwork", "")
    if verb == "create" and len(cn) > MAX_CN_NAME:
        raise _deny(f"{prefix}the length of the clusterNetwork name {cn} is more than {MAX_CN_NAME}")
    if cn == MGMT:
        raise _deny(f"{prefix}cluster network can't be {MGMT}")
    if _get(req.store, GROUP, "clusternetworks", cn) is None:
        raise _deny(f"{prefix}it refers to a none-existing cluster network {cn} or error "
                    f"{_not_found('clusternetworks', cn)}")
    mtu = mtu_of_vlanconfig(vc)
    if not valid_mtu(mtu):
        raise _deny(f"{prefix}the MTU {mtu} is out of range [0, {MIN_MTU}..{MAX_MTU}]")
    for other in _labelled(_list(req.store, GROUP, "vlanconfigs"), KEY_CN, cn):
        if other["metadata"]["name"] == name or other["metadata"].get("deletionTimestamp"):
            continue
        other_mtu = mtu_of_vlanconfig(other)
        if not equal_mtus(mtu, other_mtu):
            raise _deny(f"{prefix}the vlanconfig {name} MTU {mtu} is different with another vlanconfig "
                        f"{other['metadata']['name']} MTU {other_mtu}, all vlanconfigs on one clusternetwork need "
                        f"to have same MTU")
    try:
        nodes = matched_nodes(vc)
    except ValueError as e:
        raise _deny(f"{prefix}{e}") from None
    overlaps = []
    for node in sorted(nodes or ()):
        vs = _get(req.store, GROUP, "vlanstatuses", vlan_status_name(cn, node))
        if vs is not None and (vs.get("status") or {}).get("vlanConfig") != name:
            overlaps.append(node)
    if overlaps:
        raise _deny(f"{prefix}it overlaps with other vlanconfigs matching node(s) {_go_list(overlaps)}")
    return nodes


def _check_vc_in_use(req: Request, vc: dict, nodes: set[str], prefix: str) -> None:
    if not nodes:
        return
    cn = (vc.get("spec") or {}).get("clusterNetwork", "")
    nads = _labelled(_list(req.store, NAD_GROUP, "network-attachment-definitions"), KEY_CN, cn)
    vmis = vmis_using(req.store, nads, nodes)
    if vmis:
        raise _deny(f"{prefix}it is blocked by VM(s) {', '.join(vmis)} which must be stopped at first")
    storage = _active_storage_network_nad(req.store, cn)
    if storage is not None:
        raise _deny(f"{prefix}the storage network nad {storage['metadata']['name']} is still attached")


# ======================================================================== NAD
_GO_TYPES = {"vlan": "int", "mtu": "int", "bridge": "string", "type": "string", "name": "string",
             "cniVersion": "string", "provider": "string", "promiscMode": "bool", "isGateway": "bool",
             "isDefaultGateway": "bool", "forceAddress": "bool", "ipMasq": "bool", "hairpinMode": "bool"}


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}" if isinstance(value, float) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _check_go_type(field: str, value, go_type: str, struct: str = "NetConf") -> None:
    if value is None:
        return
    ok = {"int": isinstance(value, int) and not isinstance(value, bool),
          "string": isinstance(value, str), "bool": isinstance(value, bool)}[go_type]
    if not ok:
        raise ValueError(f"json: cannot unmarshal {_json_kind(value)} into Go struct field {struct}.{field} "
                         f"of type {go_type}")


def _go_json_error(text: str, e: json.JSONDecodeError) -> str:
    if e.pos >= len(text.rstrip()):
        return "unexpected end of JSON input"
    return f"invalid character '{text[e.pos]}' looking for beginning of value"


def decode_config(nad: dict) -> dict:
    """DecodeNadConfigToNetConf: the config as the Go NetConf sees it (empty config: all zero)."""
    meta = nad["metadata"]
    raw = (nad.get("spec") or {}).get("config")
    if raw is not None and not isinstance(raw, str):  # webhooks see the object before schema validation
        raise ValueError(f"json: cannot unmarshal {_json_kind(raw)} into Go struct field "
                         "NetworkAttachmentDefinitionSpec.spec.config of type string")
    text = raw or ""
    if not text:
        return {}
    try:
        conf = json.loads(text)
        if not isinstance(conf, dict):
            raise ValueError(f"json: cannot unmarshal {_json_kind(conf)} into Go value of type utils.NetConf")
        for field, go_type in _GO_TYPES.items():
            _check_go_type(field, conf.get(field), go_type)
        trunk = conf.get("vlanTrunk")
        if trunk is not None:
            if not isinstance(trunk, list):
                raise ValueError(f"json: cannot unmarshal {_json_kind(trunk)} into Go struct field "
                                 f"NetConf.vlanTrunk of type []*utils.VlanTrunk")
            for item in trunk:
                if item is not None and not isinstance(item, dict):
                    raise ValueError(f"json: cannot unmarshal {_json_kind(item)} into Go struct field "
                                     f"NetConf.vlanTrunk of type utils.VlanTrunk")
                for key in ("minID", "maxID", "id"):
                    _check_go_type(f"vlanTrunk.{key}", (item or {}).get(key), "int")
    except json.JSONDecodeError as e:
        raise ValueError(f"failed to unmarshal nad {meta.get('namespace')}/{meta.get('name')} config {text} "
                         f"{_go_json_error(text, e)}") from None
    except ValueError as e:
        raise ValueError(f"failed to unmarshal nad {meta.get('namespace')}/{meta.get('name')} config {text} "
                         f"{e}") from None
    return conf


def cni_type(conf: dict) -> str:
    return conf.get("type") or ""


def is_bridge(conf: dict) -> bool:
    return cni_type(conf) in ("bridge", "")


def is_kube_ovn(conf: dict) -> bool:
    return cni_type(conf) == "kube-ovn"


def cluster_network_of_bridge(bridge: str) -> str:
    """GetClusterNetworkFromBridgeName, raising ValueError with the webhook's messages."""
    if len(bridge) <= len(BRIDGE_SUFFIX):
        raise ValueError(f"the length of bridge name {bridge} is less than {len(BRIDGE_SUFFIX)}")
    if len(bridge) > MAX_DEVICE_NAME:
        raise ValueError(f"the length of the bridge name {bridge} can't be more than {MAX_DEVICE_NAME}")
    if not bridge.endswith(BRIDGE_SUFFIX):
        raise ValueError(f"the bridge name {bridge} does not include suffix {BRIDGE_SUFFIX}")
    return bridge[:-len(BRIDGE_SUFFIX)]


def network_type(conf: dict) -> str:
    if is_kube_ovn(conf):
        return "OverlayNetwork"
    if not is_bridge(conf):
        raise ValueError(f"cannot determin the network type from netconf type {cni_type(conf)}")
    vlan = conf.get("vlan") or 0
    if vlan != 0:
        return "L2VlanNetwork"
    return "L2VlanTrunkNetwork" if conf.get("vlanTrunk") else "UntaggedNetwork"


def network_labels(conf: dict, labels: dict) -> dict:
    """SetNetworkInfoToLabels on a copy of labels (without the ready label)."""
    out = dict(labels)
    out.pop(KEY_VLAN, None)
    if is_kube_ovn(conf):
        out[KEY_TYPE] = "OverlayNetwork"
        out[KEY_CN] = out.get(KEY_CN) or MGMT
        return out
    kind = network_type(conf)
    out[KEY_CN] = cluster_network_of_bridge(conf.get("bridge") or "")
    out[KEY_TYPE] = kind
    if kind == "L2VlanNetwork":
        out[KEY_VLAN] = str(conf["vlan"])
    return out


def is_ready(cn: dict | None) -> bool:
    for c in ((cn or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "ready":
            return c.get("status") == "True"
    return False


def check_vlan(conf: dict) -> None:
    vlan = conf.get("vlan") or 0
    if vlan < 0 or vlan > MAX_VLAN:
        raise ValueError(f"vlan {vlan} is out of range [0 .. {MAX_VLAN}]")
    trunk = conf.get("vlanTrunk") or []
    if vlan != 0 and trunk:
        raise ValueError("vlan can only be 0 when vlanTrunk is set")
    for item in trunk:
        if item is None:
            continue
        lo, hi, one = item.get("minID"), item.get("maxID"), item.get("id")
        if lo is not None and hi is not None:
            if not 1 <= lo <= MAX_VLAN:
                raise ValueError(f"incorrect trunk minID parameter {lo}")
            if not 1 <= hi <= MAX_VLAN:
                raise ValueError(f"incorrect trunk maxID parameter {hi}")
            if hi < lo:
                raise ValueError(f"minID {lo} is greater than maxID {hi} in trunk parameter")
        elif hi is not None:
            raise ValueError("minID and maxID should be configured simultaneously, minID is missing")
        elif lo is not None:
            raise ValueError("minID and maxID should be configured simultaneously, maxID is missing")
        if one is not None and not 1 <= one <= MAX_VLAN:
            raise ValueError(f"incorrect trunk id parameter {one}")
        if one is None and lo is None and hi is None:
            raise ValueError("all fields in this VlanTrunk are empty")


def parse_route(text: str) -> dict:
    """NewLayer3NetworkConf: the route annotation, raising ValueError with the webhook's messages."""
    if not text:
        return {}
    try:
        route = json.loads(text)
        if not isinstance(route, dict):
            raise ValueError(f"json: cannot unmarshal {_json_kind(route)} into Go value of type "
                             f"utils.Layer3NetworkConf")
        for field in ("mode", "cidr", "gateway", "serverIPAddr", "connectivity"):
            _check_go_type(field, route.get(field), "string", "Layer3NetworkConf")
        _check_go_type("outdated", route.get("outdated"), "bool", "Layer3NetworkConf")
    except json.JSONDecodeError as e:
        raise ValueError(f"unmarshal {text} faield, error: {_go_json_error(text, e)}") from None
    except ValueError as e:
        raise ValueError(f"unmarshal {text} faield, error: {e}") from None
    mode = route.get("mode") or ""
    if mode not in ("", "auto", "manual"):
        raise ValueError(f"unknown mode {mode}")
    if mode == "manual":
        cidr = route.get("cidr") or ""
        if not _valid_cidr(cidr):
            raise ValueError(f"the CIDR {cidr} is invalid")
        gateway = route.get("gateway") or ""
        try:
            ipaddress.ip_address(gateway)
        except ValueError:
            raise ValueError(f"the gateway {gateway} is invalid") from None
    return route


def _valid_cidr(cidr: str) -> bool:
    """net.ParseCIDR (host bits allowed, a prefix required) and a non-zero mask."""
    if "/" not in cidr:
        return False
    addr, _, prefix = cidr.partition("/")
    if not prefix.isdigit() or (len(prefix) > 1 and prefix.startswith("0")):
        return False
    try:
        net = ipaddress.ip_network(f"{addr}/{prefix}", strict=False)
        ipaddress.ip_address(addr)
    except ValueError:
        return False
    return net.prefixlen > 0


def _set_mtu(config: str, mtu: int) -> str:
    """sjson.Set(config, "mtu", mtu): replace the top-level value, else append the key."""
    replaced, n = re.subn(r'("mtu"\s*:\s*)(-?[0-9.eE+-]+|null|"[^"]*")', lambda m: f"{m.group(1)}{mtu}", config, count=1)
    if n:
        return replaced
    body = config.rstrip()
    inner = body[:-1].rstrip()
    sep = "" if inner.endswith("{") else ","
    return f'{inner}{sep}"mtu":{mtu}}}'


def mutate_nad(req: Request) -> None:
    nad = req.obj
    meta = nad["metadata"]
    ref = f"{meta.get('namespace')}/{req.name}"
    if req.operation == "CREATE":
        try:
            conf = decode_config(nad)
            if is_kube_ovn(conf):
                return
            cn_name = cluster_network_of_bridge(conf.get("bridge") or "")
            cn = _get(req.store, GROUP, "clusternetworks", cn_name)
            if cn is None:
                raise ValueError(_not_found("clusternetworks", cn_name))
            target = cluster_network_mtu(req.store, cn, cn_name)
        except ValueError as e:
            raise _deny(f"can't create nad {ref} because {e}", webhook=MUTATOR) from None
        if not equal_mtus(target, conf.get("mtu") or 0):
            nad["spec"]["config"] = _set_mtu(nad["spec"]["config"], target)
    elif req.operation == "UPDATE":
        if meta.get("deletionTimestamp"):
            return
        try:
            old_conf = decode_config(req.old)
            conf = decode_config(nad)
            labels = network_labels(conf, meta.get("labels") or {})
            if is_kube_ovn(conf):
                labels[KEY_READY] = "true"
            else:
                cn = _get(req.store, GROUP, "clusternetworks", labels[KEY_CN])
                if cn is None:
                    raise ValueError(_not_found("clusternetworks", labels[KEY_CN]))
                labels[KEY_READY] = "true" if is_ready(cn) else "false"
        except ValueError as e:
            raise _deny(f"can't update nad {ref} because {e}", webhook=MUTATOR) from None
        meta["labels"] = labels
        if not is_kube_ovn(conf):
            _outdate_route(req, nad, old_conf, conf)


def _outdate_route(req: Request, nad: dict, old_conf: dict, conf: dict) -> None:
    """tagRouteOutdated: a VLAN or route-mode change marks an `auto` route outdated; VLAN 0 drops it."""
    annotations = nad["metadata"].get("annotations") or {}
    route = annotations.get(KEY_ROUTE)
    if not route:
        return
    try:
        new_route = json.loads(route)
    except ValueError:
        return  # the validator refuses it
    if (old_conf.get("vlan") or 0) != (conf.get("vlan") or 0):
        if (conf.get("vlan") or 0) == 0:
            del annotations[KEY_ROUTE]
            return
    else:
        old_route_text = ((req.old["metadata"].get("annotations") or {}).get(KEY_ROUTE)) or ""
        try:
            old_route = json.loads(old_route_text) if old_route_text else None
        except ValueError:
            old_route = None
        if not isinstance(old_route, dict) or old_route.get("mode") == new_route.get("mode"):
            return
    new_route["outdated"] = new_route.get("mode") == "auto"
    if not new_route["outdated"]:
        new_route.pop("outdated")
    annotations[KEY_ROUTE] = json.dumps(new_route, separators=(",", ":"))


def validate_nad(req: Request) -> None:
    if req.operation == "CREATE":
        nad = req.obj
        ref = f"{nad['metadata'].get('namespace')}/{req.name}"
        try:
            conf = decode_config(nad)
            _check_nad_config(req, conf, nad)
            parse_route((nad["metadata"].get("annotations") or {}).get(KEY_ROUTE) or "")
        except ValueError as e:
            raise _deny(f"can't create nad {ref} because {e}") from None
    elif req.operation == "UPDATE":
        _validate_nad_update(req)
    elif req.operation == "DELETE":
        _validate_nad_delete(req)


def _check_nad_config(req: Request, conf: dict, nad: dict) -> None:
    label = (nad["metadata"].get("labels") or {}).get(KEY_CN, "")
    if is_kube_ovn(conf):
        if label and label != MGMT:
            raise ValueError("nad with kubeovn type can only be part of mgmt cluster")
        provider = conf.get("provider") or ""
        if not provider:
            raise ValueError("provider is empty for cni type kube-ovn")
        parts = provider.split(".")
        if len(parts) < 3:
            raise ValueError(f"invalid provider length {len(parts)} for provider {provider}")
        name, namespace = parts[0], parts[1]
        if name != nad["metadata"]["name"] or namespace != nad["metadata"].get("namespace"):
            raise ValueError(f"invalid provider name {name} {namespace} for nad {nad['metadata']['name']} "
                             f"{nad['metadata'].get('namespace')}")
        return
    check_vlan(conf)
    cn_name = cluster_network_of_bridge(conf.get("bridge") or "")
    if label and label != cn_name:
        raise ValueError(f"the nad label {label} does not match bridge name {cn_name}")
    cn = _get(req.store, GROUP, "clusternetworks", cn_name)
    if cn is None:
        raise ValueError(f"nad refers to a none-existing cluster network {cn_name} or error "
                         f"{_not_found('clusternetworks', cn_name)}")
    target = cluster_network_mtu(req.store, cn, label)
    mtu = conf.get("mtu") or 0
    if not equal_mtus(target, mtu):
        raise ValueError(f"nad MTU {mtu} does not match cluster network MTU {target}")


def _validate_nad_update(req: Request) -> None:
    new, old = req.obj, req.old
    if new["metadata"].get("deletionTimestamp"):
        return
    ref = f"{new['metadata'].get('namespace')}/{req.name}"
    try:
        new_conf = decode_config(new)
        old_conf = decode_config(old)
        parse_route((new["metadata"].get("annotations") or {}).get(KEY_ROUTE) or "")
        if new_conf == old_conf:
            return
        if cni_type(old_conf) != cni_type(new_conf):
            raise ValueError(f"nad cannot be updated from network type {cni_type(old_conf)} to network type "
                             f"{cni_type(new_conf)}")
        if (old_conf.get("bridge") or "") != (new_conf.get("bridge") or ""):
            raise ValueError(f"nad bridge name can't be changed from {old_conf.get('bridge') or ''} to "
                             f"{new_conf.get('bridge') or ''}")
        _check_nad_config(req, new_conf, new)
    except ValueError as e:
        raise _deny(f"can't update nad {ref} because {e}") from None
    vmis = vmis_using(req.store, [new])
    if vmis:
        raise _deny(f"can't update nad {ref} because it's still used by VM(s) {', '.join(vmis)} which must be "
                    f"stopped at first")
    if is_storage_network_nad(new):
        raise _deny(f"can't update nad {ref} because it is used by storagenetwork")


def _validate_nad_delete(req: Request) -> None:
    nad = req.old
    ref = f"{nad['metadata'].get('namespace')}/{req.name}"
    try:
        conf = decode_config(nad)
    except ValueError as e:
        raise _deny(f"can't update nad {ref} because {e}") from None  # sic: the webhook uses updateErr here
    if is_kube_ovn(conf):
        raise _deny("operation is not permitted as kubeovn is not yet enabled")  # the lab has no kube-ovn add-on
    vmis = vmis_using(req.store, [nad])
    if vmis:
        raise _deny(f"can't delete nad {ref} because it's still used by VM(s) {', '.join(vmis)} which must be "
                    f"stopped at first")
    vms = vms_using(req.store, nad)
    if vms:
        raise _deny(f"can't delete nad {ref} because it's still used by VM(s) {', '.join(vms)} which must remove "
                    f"the related networks and interfaces")


def register(chain: Chain) -> None:
    """Add this area's mutating and validating hooks to the chain."""
    chain.validate_with(GROUP, "ClusterNetwork", validate_cluster_network)
    chain.mutate_with(GROUP, "VlanConfig", mutate_vlan_config)
    chain.validate_with(GROUP, "VlanConfig", validate_vlan_config)
    chain.mutate_with(NAD_GROUP, "NetworkAttachmentDefinition", mutate_nad)
    chain.validate_with(NAD_GROUP, "NetworkAttachmentDefinition", validate_nad)
