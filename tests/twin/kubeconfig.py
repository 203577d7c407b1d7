"""The kubeconfig the twin hands to its clients: its CA, its address and a bearer token."""
from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml


def render(port: int, ca_pem: bytes, token: str, host: str = "127.0.0.1") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "twin", "cluster": {
            "server": f"https://{host}:{port}",
            "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "twin-admin", "user": {"token": token}}],
        "contexts": [{"name": "twin", "context": {"cluster": "twin", "user": "twin-admin"}}],
        "current-context": "twin",
        "preferences": {},
    }


def write(path: Path, doc: dict) -> None:
    """Atomically, mode 0600: a reader polling for the file never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    os.replace(tmp, path)
