# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Harvester VM network is: a NetworkAttachmentDefinition whose ``spec.config`` is the
bridge CNI config the Harvester UI writes, an optional route annotation, a description
annotation. Per-kind knowledge only -- the flow (read, compare, patch, wait) is in
``reconcile`` and ``wait``.

Facts (shared/reference/harvester-api.md §2.2, §11.7; network-controller-harvester):

- config: ``{"cniVersion":"0.3.1","name":N,"type":"bridge","bridge":"<cn>-br","promiscMode":true,
  "vlan":V,"ipam":{}}``; no ``vlan`` key when untagged; never ``mtu``: the mutating webhook
  injects the cluster network's MTU, and the validator refuses any other value, so an update
  carries the live ``mtu`` over.
- ``type`` and ``bridge`` (i.e. the cluster network) cannot change on an existing NAD.
- the controller adds labels (clusternetwork, type, vlan-id, ready) after create: not ours.
- route annotation ``network.harvesterhci.io/route``: we write ``mode``, ``serverIPAddr`` and,
  for manual routes, ``cidr`` and ``gateway``; the controller writes ``connectivity`` and
  ``outdated`` and, for auto routes, the ``cidr`` and ``gateway`` it learned by DHCP.
"""

from __future__ import annotations

import json

from . import kinds, listing, validate
from .kind_spec import KindSpec
from .reconcile import Field, empty_is_none, fields_given, set_labels

CNI_VERSION = "0.3.1"
BRIDGE_SUFFIX = "-br"
LABEL_READY = "network.harvesterhci.io/ready"
LABEL_TYPE = "network.harvesterhci.io/type"
# Labels the network controller owns (it rewrites them from the config): never ours to set.
CONTROLLER_LABELS = {key: "is set by Harvester's network controller" for key in (
    "network.harvesterhci.io/clusternetwork", LABEL_TYPE, "network.harvesterhci.io/vlan-id", LABEL_READY)}
ANNOTATION_ROUTE = "network.harvesterhci.io/route"
ANNOTATION_DESCRIPTION = "field.cattle.io/description"
KIND = kinds.NAD


# --- input ------------------------------------------------------------------------------
def check(params):
    """Every input check of the module, before any request (raises ``ValidationError``)."""
    validate.name(params["name"])
    validate.name(params["namespace"], "namespace")
    validate.name(params["cluster_network"], "cluster_network", validate.MAX_CLUSTER_NETWORK,
                  why=" (its bridge <name>-br must fit 15 characters)")
    if params.get("vlan_id") is not None:
        validate.vlan_id(params["vlan_id"])
    if params.get("route") is not None:
        if params.get("vlan_id") is None:
            raise validate.ValidationError("route", "needs vlan_id: an untagged network has no route "
                                                    "(Harvester drops the route of a VLAN 0 network)")
        validate.route(params["route"])
    if params.get("labels") is not None:
        validate.labels(params["labels"], reserved=CONTROLLER_LABELS)
    validate.wait_timeout(params)


MGMT = "mgmt"


def precheck(client, params):
    """A network on a cluster network that does not exist is refused before any write, with one
    read (the built-in ``mgmt`` always exists: no read). Harvester's webhook would take the NAD and
    leave it unusable, never ready."""
    name = params["cluster_network"]
    if name == MGMT:
        return
    if client.get(kinds.CLUSTER_NETWORK.path(None, name), missing_ok=True) is None:
        raise validate.ValidationError(
            "cluster_network", f"ClusterNetwork {name!r} does not exist on this cluster (create it with "
                               "homelab.harvester.harvester_cluster_network, or use mgmt); nothing was changed")


# --- building -----------------------------------------------------------------------------
def dumps(value):
    return json.dumps(value, separators=(",", ":"))


def config(name, cluster_network, vlan_id=None):
    """``spec.config`` exactly as the Harvester UI writes it (key order included)."""
    conf = {"cniVersion": CNI_VERSION, "name": name, "type": "bridge", "bridge": cluster_network + BRIDGE_SUFFIX,
            "promiscMode": True}
    if vlan_id:
        conf["vlan"] = int(vlan_id)
    conf["ipam"] = {}
    return dumps(conf)


def route_annotation(route):
    """The route annotation text for the module's ``route`` option (``None``: no route)."""
    if route is None:
        return None
    out = {"mode": route["mode"]}
    if route.get("dhcp_server"):
        out["serverIPAddr"] = route["dhcp_server"]
    if route["mode"] == "manual":
        out["cidr"], out["gateway"] = route["cidr"], route["gateway"]
    return dumps(out)


def desired(params):
    """The NAD the module's params describe (only the parts we manage)."""
    annotations = {}
    if params.get("description"):
        annotations[ANNOTATION_DESCRIPTION] = params["description"]
    if params.get("route") is not None:
        annotations[ANNOTATION_ROUTE] = route_annotation(params["route"])
    metadata = {"name": params["name"], "namespace": params["namespace"]}
    set_labels(metadata, params.get("labels"))
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": KIND.api_version, "kind": KIND.kind, "metadata": metadata,
            "spec": {"config": config(params["name"], params["cluster_network"], params.get("vlan_id"))}}


# --- comparison ---------------------------------------------------------------------------
def _parse(text):
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text  # not JSON: compared (and shown) as the raw string


def normalise_config(text):
    """Parsed config without what the server adds or what means nothing: ``mtu`` (webhook),
    ``vlan`` 0 (= untagged)."""
    conf = _parse(text)
    if not isinstance(conf, dict):
        return conf
    conf = {k: v for k, v in conf.items() if k != "mtu"}
    if not conf.get("vlan"):
        conf.pop("vlan", None)
    return conf


def config_to_write(desired_text, live_text):
    """The desired config with the live ``mtu`` carried over: the validator refuses a config
    whose MTU differs from the cluster network's, which the webhook put there at create."""
    live = _parse(live_text)
    if not isinstance(live, dict) or "mtu" not in live:
        return desired_text
    conf = json.loads(desired_text)
    conf["mtu"] = live["mtu"]
    return dumps(conf)


def normalise_route(text):
    """The parts of a route that are ours: mode, DHCP server, and cidr/gateway of a manual
    route. ``connectivity``, ``outdated`` and an auto route's learned cidr/gateway are the
    controller's."""
    route = _parse(text)
    if not isinstance(route, dict):
        return route
    keep = ("mode", "serverIPAddr", "cidr", "gateway") if route.get("mode") == "manual" else ("mode", "serverIPAddr")
    return {k: route[k] for k in keep if route.get(k) not in (None, "")}


DESCRIPTION = Field(("metadata", "annotations", ANNOTATION_DESCRIPTION), normalise=empty_is_none)
ROUTE = Field(("metadata", "annotations", ANNOTATION_ROUTE), normalise=normalise_route)
CONFIG = Field(("spec", "config"), normalise=normalise_config, to_write=config_to_write)
ALL_FIELDS = (CONFIG, ROUTE, DESCRIPTION)


def fields(params):
    """The fields this call manages: the config always; route and description only when given
    (an omitted option leaves the live value alone; ``description: ''`` removes it); of the
    labels only the keys given (``null`` removes one)."""
    return fields_given(params, [CONFIG], {"route": ROUTE, "description": DESCRIPTION})


def cluster_network_of(obj):
    conf = normalise_config((obj.get("spec") or {}).get("config"))
    bridge = (conf.get("bridge") if isinstance(conf, dict) else None) or ""
    return bridge[:-len(BRIDGE_SUFFIX)] if bridge.endswith(BRIDGE_SUFFIX) else bridge


def cni_type(obj):
    conf = normalise_config((obj.get("spec") or {}).get("config"))
    return conf.get("type") if isinstance(conf, dict) else None


def immutable(params):
    """Parts that cannot change in place (the network webhook refuses it), by option name."""
    return {"type": cni_type, "cluster_network": cluster_network_of}


# --- readiness ----------------------------------------------------------------------------
def ready(obj):
    """The controller's verdict: label ``network.harvesterhci.io/ready`` is ``"true"``."""
    return ((obj or {}).get("metadata", {}).get("labels") or {}).get(LABEL_READY) == "true"


def summary(obj):
    """One line for wait messages: what the controller has said so far."""
    labels = obj["metadata"].get("labels") or {}
    return f"labels {LABEL_READY}={labels.get(LABEL_READY, '<unset>')}, {LABEL_TYPE}={labels.get(LABEL_TYPE, '<unset>')}"


SPEC = KindSpec(kind=KIND, noun="network", check=check, precheck=precheck, desired=desired, fields=fields,
                all_fields=ALL_FIELDS, immutable=immutable, ready=ready, summary=summary)


# --- reading ------------------------------------------------------------------------------
def describe(obj):
    """What a VM network is, read back from its NAD (``harvester_network_info``): the parts the
    Harvester UI shows, in the module's terms."""
    meta = obj.get("metadata") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    conf = normalise_config((obj.get("spec") or {}).get("config"))
    route = _parse(annotations.get(ANNOTATION_ROUTE)) if annotations.get(ANNOTATION_ROUTE) else None
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "cluster_network": cluster_network_of(obj) or None,
        "vlan_id": conf.get("vlan") if isinstance(conf, dict) else None,
        "type": labels.get(LABEL_TYPE),
        "ready": ready(obj),
        "route": route if isinstance(route, dict) else None,
        "description": annotations.get(ANNOTATION_DESCRIPTION),
        "labels": labels,
        "deleting": bool(meta.get("deletionTimestamp")),
    }


def check_info(params):
    """The input checks of ``harvester_network_info``, before any request."""
    listing.check_selection(params, validate.name, "network")


def list_networks(client, params):
    """The networks ``params`` select (``namespace``, ``name``, ``label_selector``,
    ``cluster_network``), described, in one list request (a name is a field selector)."""
    networks = [describe(obj) for obj in listing.select(client, KIND, params)]
    if params.get("cluster_network"):
        networks = [n for n in networks if n["cluster_network"] == params["cluster_network"]]
    return sorted(networks, key=lambda n: (n["namespace"] or "", n["name"] or ""))
