"""Webhooks of the Cluster API area: CAPI core (Cluster, MachineDeployment), CACPPT
(TalosControlPlane), CABPT (TalosConfig, TalosConfigTemplate) and CAPHV (HarvesterCluster,
HarvesterMachine). They see the storage versions.

How each answers, as controller-runtime relays it (apiserver prefix `admission webhook "<name>"
denied the request: `):
- CAPI core and CACPPT return apierrors.NewInvalid: 422 Invalid, `<Kind>.<group> "<name>" is
  invalid: <field>: <message>` with causes (internal/webhooks/{cluster,machinedeployment}.go);
- CABPT returns apierrors.NewBadRequest("TalosConfig[Template].Spec is immutable"): 400;
- CAPHV returns a plain error, which controller-runtime turns into a 403 Forbidden denial:
  `validation failed for Harvester<Kind> <ns>/<name>: <msg>; <msg>`.
Messages not in the facts are written as the upstream Go code builds them (noted per rule).
"""
from __future__ import annotations

import ipaddress
import re

from ..addresses import is_ip
from ..errors import ApiError
from . import Chain, Request, denied

CAPI = "cluster.x-k8s.io"
INFRA = "infrastructure.cluster.x-k8s.io"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io"
CONTROLPLANE = "controlplane.cluster.x-k8s.io"
CLUSTER_NAME = "cluster.x-k8s.io/cluster-name"
DEPLOYMENT_NAME = "cluster.x-k8s.io/deployment-name"

CLUSTER_VALIDATOR = "validation.cluster.cluster.x-k8s.io"
MD_DEFAULTER = "default.machinedeployment.cluster.x-k8s.io"
MD_VALIDATOR = "validation.machinedeployment.cluster.x-k8s.io"
TCP_VALIDATOR = "validate.taloscontrolplane.controlplane.cluster.x-k8s.io"
TALOSCONFIG_VALIDATOR = "vtalosconfig.cluster.x-k8s.io"
TALOSCONFIGTEMPLATE_VALIDATOR = "vtalosconfigtemplate.cluster.x-k8s.io"
HC_VALIDATOR = "vharvestercluster.v1beta1.kb.io"
HM_VALIDATOR = "vharvestermachine.v1beta1.kb.io"

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_VALUE_ERR = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
# util/version.KubeSemver: an optional "v", then semver 2.0
KUBE_SEMVER = re.compile(r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
                         r"(-(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
                         r"(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$")


# ---------------------------------------------------------------------------------- answers
def _quote(value) -> str:
    return '"' + str(value).replace('"', '\\"') + '"'


def invalid(webhook: str, kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """apierrors.NewInvalid relayed by the apiserver: causes are (reason, field, detail)."""
    texts = [f"{f}: {d}" for _, f, d in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    message = f'{kind}.{group} "{name}" is invalid: {joined}'
    err = denied(webhook, message, code=422, reason="Invalid")
    err.details = {"name": name, "group": group, "kind": kind,
                   "causes": [{"reason": r, "message": d, "field": f} for r, f, d in causes]}
    return err


def _invalid_value(field: str, value, detail: str) -> tuple[str, str, str]:
    return ("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: {detail}")


def _forbidden(field: str, detail: str) -> tuple[str, str, str]:
    return ("FieldValueForbidden", field, f"Forbidden: {detail}")


def _spec(obj: dict | None) -> dict:
    return (obj or {}).get("spec") or {}


def _selector_string(match_labels: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


def _selector_matches(selector: dict, labels: dict) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# ---------------------------------------------------------------------------------- CAPI core
def validate_cluster(req: Request) -> None:
    obj, old = req.obj, req.old
    spec, name = _spec(obj), obj["metadata"]["name"]
    causes = []
    if not LABEL_VALUE.match(name) or len(name) > 63:
        detail = LABEL_VALUE_ERR if len(name) <= 63 else "must be no more than 63 characters"
        causes.append(_invalid_value("metadata.name", name, f"must be a valid label value {detail}"))
    if not (spec.get("controlPlaneRef") or spec.get("infrastructureRef") or spec.get("topology")):
        # v1.12 (v1beta2 webhook), on create and update: a Cluster must say how it is built
        causes.append(_forbidden("spec", "one of spec.controlPlaneRef, spec.infrastructureRef or spec.topology must be set"))
    for ref in ("infrastructureRef", "controlPlaneRef"):
        if old is not None and _spec(old).get(ref) and not spec.get(ref):
            causes.append(_forbidden(f"spec.{ref}", "cannot be removed"))
    network = spec.get("clusterNetwork") or {}
    for part in ("pods", "services"):
        for i, block in enumerate((network.get(part) or {}).get("cidrBlocks") or []):
            try:
                ipaddress.ip_network(block, strict=False)
                if "/" not in block:
                    raise ValueError
            except ValueError:
                causes.append(_invalid_value(f"spec.clusterNetwork.{part}.cidrBlocks[{i}]", block,
                                             f"invalid CIDR address: {block}"))
    if old is not None and _spec(old).get("topology") and not spec.get("topology"):
        causes.append(_forbidden("spec.topology", "cannot be removed from an existing Cluster"))
    if causes:
        raise invalid(CLUSTER_VALIDATOR, "Cluster", CAPI, name, causes)


def default_machine_deployment(req: Request) -> None:
    obj = req.obj
    meta, spec = obj["metadata"], obj.setdefault("spec", {})
    cluster = spec.get("clusterName", "")
    meta.setdefault("labels", {})[CLUSTER_NAME] = cluster
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    rollout = spec.setdefault("rollout", {})
    strategy = rollout.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", 1)
        rolling.setdefault("maxUnavailable", 0)
    selector = spec.setdefault("selector", {})
    match = selector.setdefault("matchLabels", {})
    template = spec.setdefault("template", {})
    template_labels = template.setdefault("metadata", {}).setdefault("labels", {})
    if not match and not selector.get("matchExpressions"):
        match[DEPLOYMENT_NAME] = meta["name"]
        template_labels[DEPLOYMENT_NAME] = meta["name"]
    match[CLUSTER_NAME] = cluster
    template_labels[CLUSTER_NAME] = cluster
    tspec = template.setdefault("spec", {})
    if tspec.get("version") and not tspec["version"].startswith("v"):
        tspec["version"] = "v" + tspec["version"]


def validate_machine_deployment(req: Request) -> None:
    obj, old = req.obj, req.old
    spec, name = _spec(obj), obj["metadata"]["name"]
    causes = []
    if not LABEL_VALUE.match(name) or len(name) > 63:
        causes.append(_invalid_value("metadata.name", name, f"must be a valid label value: {LABEL_VALUE_ERR}"))
    selector = spec.get("selector") or {}
    template = spec.get("template") or {}
    template_labels = (template.get("metadata") or {}).get("labels") or {}
    if not _selector_matches(selector, template_labels):
        causes.append(_forbidden("spec.template.metadata.labels",
                                 f"must match spec.selector {_quote(_selector_string(selector.get('matchLabels') or {}))}"))
    if old is not None and _spec(old).get("clusterName") != spec.get("clusterName"):
        causes.append(_forbidden("spec.clusterName", "field is immutable"))
    tspec = template.get("spec") or {}
    if tspec.get("version") and not KUBE_SEMVER.match(tspec["version"]):
        causes.append(_invalid_value("spec.template.spec.version", tspec["version"], "must be a valid semantic version"))
    if tspec.get("clusterName") and tspec["clusterName"] != spec.get("clusterName"):
        # not in the webhook code we read: the Machine webhook's rule, applied to the template
        causes.append(_invalid_value("spec.template.spec.clusterName", tspec["clusterName"],
                                     "must match spec.clusterName"))
    if causes:
        raise invalid(MD_VALIDATOR, "MachineDeployment", CAPI, name, causes)


# ---------------------------------------------------------------------------------- Talos
def default_talos_control_plane(req: Request) -> None:
    """CACPPT defaultTalosControlPlaneSpec, plus the namespace of the infrastructure template."""
    spec = req.obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    version = spec.get("version")
    if isinstance(version, str) and not version.startswith("v"):
        spec["version"] = "v" + version
    template = spec.get("infrastructureTemplate")
    if isinstance(template, dict) and not template.get("namespace"):
        template["namespace"] = req.obj["metadata"].get("namespace") or req.namespace
    strategy = spec.get("rolloutStrategy") or {}
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", 1)
    spec["rolloutStrategy"] = strategy


def validate_talos_control_plane(req: Request) -> None:
    spec, name = _spec(req.obj), req.obj["metadata"]["name"]
    strategy = spec.get("rolloutStrategy") or {}
    causes = []
    if strategy.get("type") not in ("RollingUpdate", "OnDelete"):
        causes.append(_invalid_value("spec.rolloutStrategy.type", strategy.get("type", ""),
                                     'valid values are: ["RollingUpdate" "OnDelete"]'))
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge")
    if strategy.get("type") == "RollingUpdate" and surge not in (None, 0, 1, "0", "1"):
        causes.append(_invalid_value("spec.rolloutStrategy.rollingUpdate.maxSurge", surge, "value must be 1 or 0"))
    if causes:
        raise invalid(TCP_VALIDATOR, "TalosControlPlane", CONTROLPLANE, name, causes)


def _immutable_spec(kind: str, webhook: str):
    def hook(req: Request) -> None:
        if req.operation == "UPDATE" and _spec(req.obj) != _spec(req.old):
            raise denied(webhook, f"{kind}.Spec is immutable", code=400, reason="BadRequest")
    return hook


def validate_talos_config(req: Request) -> None:
    source = (_spec(req.obj).get("hostname") or {}).get("source", "")
    if source not in ("", "MachineName", "InfrastructureName"):
        raise invalid(TALOSCONFIG_VALIDATOR, "TalosConfig", BOOTSTRAP, req.obj["metadata"]["name"], [
            _invalid_value("spec.hostname.source", source, 'valid values are: ["MachineName" "InfrastructureName"]')])


# ---------------------------------------------------------------------------------- CAPHV
def _caphv_denied(webhook: str, kind: str, obj: dict, errs: list[str]) -> ApiError:
    meta = obj["metadata"]
    return denied(webhook, f"validation failed for {kind} {meta.get('namespace', '')}/{meta['name']}: {'; '.join(errs)}",
                  code=403, reason="Forbidden")


def _vm_network_errors(cfg: dict, *, machine: bool) -> list[str]:
    errs = []
    refs = [r for r in [cfg.get("ipPoolRef"), *(cfg.get("ipPoolRefs") or [])] if r]
    if machine:
        if cfg.get("ipPool"):
            errs.append("spec.vmNetworkConfig.ipPool is not supported at the machine level; use ipPoolRef or ipPoolRefs")
        if not refs:
            errs.append("spec.vmNetworkConfig requires one of ipPoolRef or ipPoolRefs")
    elif not refs and not cfg.get("ipPool"):
        errs.append("spec.vmNetworkConfig requires one of ipPoolRef, ipPoolRefs or ipPool")
    for key in ("gateway", "subnetMask"):
        value = cfg.get(key) or ""
        if not value:
            errs.append(f"spec.vmNetworkConfig.{key} is required")
        elif not is_ip(value):
            errs.append(f"spec.vmNetworkConfig.{key} {_quote(value)} is not a valid IP address")
    return errs


def validate_harvester_cluster(req: Request) -> None:
    spec = _spec(req.obj)
    errs = []
    if not spec.get("targetNamespace"):
        errs.append("spec.targetNamespace is required")
    identity = spec.get("identitySecret") or {}
    if not identity.get("name"):
        errs.append("spec.identitySecret.name is required")
    if not identity.get("namespace"):
        errs.append("spec.identitySecret.namespace is required")
    if (spec.get("loadBalancerConfig") or {}).get("ipamType") not in ("dhcp", "pool"):
        errs.append('spec.loadBalancerConfig.ipamType must be "dhcp" or "pool"')
    if spec.get("vmNetworkConfig") is not None:
        errs += _vm_network_errors(spec["vmNetworkConfig"], machine=False)
    if errs:
        raise _caphv_denied(HC_VALIDATOR, "HarvesterCluster", req.obj, errs)


_QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$")


def validate_harvester_machine(req: Request) -> None:
    spec = _spec(req.obj)
    errs = []
    if not spec.get("cpu"):
        errs.append("spec.cpu must be greater than 0")
    memory = spec.get("memory") or ""
    if not memory:
        errs.append("spec.memory is required")
    elif not _QUANTITY.match(memory):
        errs.append(f"spec.memory {_quote(memory)} is not a valid resource quantity: "
                    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    if not spec.get("sshUser"):
        errs.append("spec.sshUser is required")
    if not spec.get("sshKeyPair"):
        errs.append("spec.sshKeyPair is required")
    volumes = spec.get("volumes") or []
    if not volumes:
        errs.append("spec.volumes must contain at least one volume")
    for i, vol in enumerate(volumes):
        vtype = vol.get("volumeType")
        if vtype not in ("image", "storageClass"):
            errs.append(f"spec.volumes[{i}].volumeType must be 'image' or 'storageClass'")
        if vtype == "image" and not vol.get("imageName"):
            errs.append(f"spec.volumes[{i}].imageName is required when volumeType is 'image'")
        if vtype == "storageClass" and not vol.get("storageClass"):
            errs.append(f"spec.volumes[{i}].storageClass is required when volumeType is 'storageClass'")
    if not spec.get("networks"):
        errs.append("spec.networks must contain at least one network")
    net = spec.get("networkConfig")
    if net is not None:
        if not net.get("address"):
            errs.append("spec.networkConfig.address is required when networkConfig is set")
        if not net.get("gateway"):
            errs.append("spec.networkConfig.gateway is required when networkConfig is set")
        elif not is_ip(net["gateway"]):
            errs.append(f"spec.networkConfig.gateway {_quote(net['gateway'])} is not a valid IP address")
    if spec.get("vmNetworkConfig") is not None:
        if net is not None:
            errs.append("spec.vmNetworkConfig and spec.networkConfig are mutually exclusive")
        errs += _vm_network_errors(spec["vmNetworkConfig"], machine=True)
    firmware = spec.get("firmware") or {}
    if firmware.get("secureBoot") and not firmware.get("efi"):
        errs.append("spec.firmware.secureBoot requires spec.firmware.efi to be true")
    if errs:
        raise _caphv_denied(HM_VALIDATOR, "HarvesterMachine", req.obj, errs)


def _writes(hook):
    """Webhooks registered for CREATE and UPDATE only (not for DELETE, where obj is None)."""
    def run(req: Request) -> None:
        if req.operation in ("CREATE", "UPDATE") and req.subresource != "status":
            hook(req)
    return run


def register(chain: Chain) -> None:
    chain.validate_with(CAPI, "Cluster", _writes(validate_cluster))
    chain.mutate_with(CAPI, "MachineDeployment", _writes(default_machine_deployment))
    chain.validate_with(CAPI, "MachineDeployment", _writes(validate_machine_deployment))
    chain.mutate_with(CONTROLPLANE, "TalosControlPlane", _writes(default_talos_control_plane))
    chain.validate_with(CONTROLPLANE, "TalosControlPlane", _writes(validate_talos_control_plane))
    chain.validate_with(BOOTSTRAP, "TalosConfig", _writes(_immutable_spec("TalosConfig", TALOSCONFIG_VALIDATOR)))
    chain.validate_with(BOOTSTRAP, "TalosConfig", _writes(validate_talos_config))
    chain.validate_with(BOOTSTRAP, "TalosConfigTemplate",
                        _writes(_immutable_spec("TalosConfigTemplate", TALOSCONFIGTEMPLATE_VALIDATOR)))
    chain.validate_with(INFRA, "HarvesterCluster", _writes(validate_harvester_cluster))
    chain.validate_with(INFRA, "HarvesterMachine", _writes(validate_harvester_machine))
