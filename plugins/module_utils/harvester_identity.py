# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Harvester side of a Cluster API module: the second connection (``harvester:`` options,
resolved like the main one) and the identity kubeconfig CAPHV reads from a Secret.

CAPHV runs on the management cluster and reaches Harvester only through that Secret, so the
kubeconfig written there must stand alone: server, CA data and a token or client certificate
embedded, one context. It is written as JSON (valid YAML, so clientcmd reads it) with stable key
order, so the same connection always gives the same Secret and a re-run changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json

from .connection import resolve
from .errors import AuthConfigError, HarvesterError

CONTEXT = "harvester"
OPTIONS = ("kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert", "client_cert", "client_key",
           "proxy", "request_timeout")


class IdentityError(HarvesterError):
    """The Harvester connection cannot be used (or written) as CAPHV's identity."""


def connection(options):
    """The ``Connection`` for the ``harvester`` suboptions. No ``K8S_AUTH_*`` fallback: those
    belong to the main (management cluster) connection."""
    params = {key: (options or {}).get(key) for key in OPTIONS}
    if not (params["kubeconfig"] or params["host"]):
        raise IdentityError("harvester: give kubeconfig (path or dict) or host and api_key of the Harvester cluster")
    try:
        return resolve(params, environ={})
    except AuthConfigError as e:
        raise IdentityError(f"harvester: {e}") from None


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def kubeconfig_text(conn):
    """A self-contained kubeconfig (JSON text) for ``conn``."""
    if conn.uses_exec:
        raise IdentityError("harvester: the kubeconfig user runs an exec plugin; CAPHV needs a kubeconfig with a token "
                            "or a client certificate it can use on its own")
    creds = conn.credentials()
    cluster = {"server": conn.server}
    if not conn.verify:
        cluster["insecure-skip-tls-verify"] = True
    elif conn.ca_data or conn.ca_file:
        pem = conn.ca_data if conn.ca_data else _read(conn.ca_file)
        cluster["certificate-authority-data"] = base64.b64encode(pem.encode("utf-8")).decode("ascii")
    user = {}
    if creds.token:
        user["token"] = creds.token
    if creds.has_client_cert:
        cert = creds.cert_data or _read(creds.cert_file)
        key = creds.key_data or _read(creds.key_file)
        user["client-certificate-data"] = base64.b64encode(cert.encode("utf-8")).decode("ascii")
        user["client-key-data"] = base64.b64encode(key.encode("utf-8")).decode("ascii")
    if not user:
        raise IdentityError("harvester: the connection has no token or client certificate to give CAPHV")
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
           "clusters": [{"name": CONTEXT, "cluster": cluster}], "users": [{"name": CONTEXT, "user": user}],
           "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}]}
    return json.dumps(doc, sort_keys=True, indent=1) + "\n"


def from_secret(secret, where):
    """The kubeconfig dict inside an identity Secret (data key ``kubeconfig``)."""
    data = (secret or {}).get("data") or {}
    if not data.get("kubeconfig"):
        raise IdentityError(f"{where} has no data key 'kubeconfig' (CAPHV reads the Harvester kubeconfig from it)")
    try:
        text = base64.b64decode(data["kubeconfig"]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise IdentityError(f"{where}: data.kubeconfig is not base64 text") from None
    try:
        doc = json.loads(text)
    except ValueError:
        from ansible.module_utils.common.yaml import yaml_load  # only for YAML kubeconfigs
        try:
            doc = yaml_load(text)
        except Exception:  # yaml.YAMLError, without importing yaml at module level
            doc = None
    if not isinstance(doc, dict):
        raise IdentityError(f"{where}: data.kubeconfig is not a kubeconfig")
    return doc


def fingerprint(encoded):
    """What a diff shows instead of the kubeconfig: never the content, only whether it changed."""
    if not encoded:
        return None
    return "sha256:" + hashlib.sha256(str(encoded).encode("utf-8")).hexdigest()[:16]
