"""What kube-apiserver's built-in registries do on write for the core kinds the twin serves
(Namespace, Secret, ConfigMap, Service): their strategies' defaults and the typed decoding of
[]byte fields."""
from __future__ import annotations

import base64
import random

from . import errors
from .jsoncopy import clone
from .registry import Kind

SERVICE_CIDR_PREFIX = "10.53."  # Harvester's default cluster_service_cidr 10.53.0.0/16


def prepare_core(kind: Kind, obj: dict, live: dict | None) -> None:
    """What the built-in registries do on write for the core kinds we serve."""
    if kind.group != "":
        return
    if kind.kind == "Namespace" and live is None:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    elif kind.kind == "Namespace":
        obj["spec"] = clone(live.get("spec") or {})  # finalizers change only through /finalize
        obj["status"] = clone(live.get("status") or {})
    if kind.kind in ("Secret", "ConfigMap"):
        _check_base64(kind, obj.get("data" if kind.kind == "Secret" else "binaryData"))
    if kind.kind == "Secret":
        string_data = obj.pop("stringData", None) or {}
        data = obj.setdefault("data", {})
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj.setdefault("type", "Opaque")
        if not data:
            obj.pop("data")
    elif kind.kind == "Service":
        spec = obj.setdefault("spec", {})
        if live is not None and (live.get("spec") or {}).get("clusterIP"):
            spec["clusterIP"] = live["spec"]["clusterIP"]
        elif spec.get("type", "ClusterIP") != "ExternalName" and not spec.get("clusterIP"):
            spec["clusterIP"] = f"{SERVICE_CIDR_PREFIX}{random.randint(0, 255)}.{random.randint(1, 254)}"
        if spec.get("clusterIP"):
            spec["clusterIPs"] = [spec["clusterIP"]]
        for port in spec.get("ports") or []:  # core/v1 defaults.go SetDefaults_Service
            if isinstance(port, dict) and port.get("targetPort") in (None, 0, "") and "port" in port:
                port["targetPort"] = port["port"]


_B64 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _check_base64(kind: Kind, data) -> None:
    """Typed core objects decode []byte fields while reading the body: bad base64 is a 400."""
    for value in (data or {}).values() if isinstance(data, dict) else ():
        if not isinstance(value, str):
            continue
        bad = next((i for i, ch in enumerate(value) if ch not in _B64), None)
        if bad is None:
            try:
                base64.b64decode(value, validate=True)
                continue
            except ValueError:
                bad = len(value) - len(value) % 4 if len(value) % 4 else len(value) - 1
        raise errors.bad_request(f'{kind.kind} in version "v1" cannot be handled as a {kind.kind}: '
                                 f"illegal base64 data at input byte {bad}")
