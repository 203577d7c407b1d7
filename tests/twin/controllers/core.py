"""Controllers of built-in kinds: kube-controller-manager's legacy ServiceAccount token controller.

TokensController (k8s.io/kubernetes pkg/controller/serviceaccount/tokens_controller.go):

- a Secret of type `kubernetes.io/service-account-token` whose annotation
  `kubernetes.io/service-account.name` names a ServiceAccount of its namespace (and whose
  `kubernetes.io/service-account.uid`, when set, is that account's uid) gets, when any is
  missing, `data.token` (a JWT-shaped legacy token), `data.ca.crt` (the cluster CA) and
  `data.namespace`, plus the uid annotation;
- a token Secret naming a ServiceAccount that does not exist (or has another uid) is deleted;
- deleting a ServiceAccount deletes its token Secrets.

The twin accepts the token of every such Secret as a bearer token (`token_is_valid`, called by
server.py). Authorization (RBAC) is not enforced: such a token may do everything the twin's own
token may.
"""
from __future__ import annotations

import base64
import hmac
import json
import secrets

from ..registry import Kind
from . import Controller

TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME = "kubernetes.io/service-account.name"
SA_UID = "kubernetes.io/service-account.uid"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def legacy_token(namespace: str, secret: str, account: str, uid: str) -> str:
    """A token shaped like the controller's RS256 JWT with the legacy claims; the signature is
    random bytes (the twin checks tokens by looking them up, not by signature)."""
    header = {"alg": "RS256", "kid": "twin"}
    claims = {"iss": "kubernetes/serviceaccount",
              "kubernetes.io/serviceaccount/namespace": namespace,
              "kubernetes.io/serviceaccount/secret.name": secret,
              "kubernetes.io/serviceaccount/service-account.name": account,
              "kubernetes.io/serviceaccount/service-account.uid": uid,
              "sub": f"system:serviceaccount:{namespace}:{account}"}
    parts = [json.dumps(header, separators=(",", ":")).encode(), json.dumps(claims, separators=(",", ":")).encode()]
    return ".".join([*(_b64url(p) for p in parts), _b64url(secrets.token_bytes(256))])


def _b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def token_is_valid(store, token: str) -> bool:
    """True when `token` is the data.token of a stored service-account-token Secret."""
    kind = store.registry.by_plural("", "secrets")
    if kind is None or not token:
        return False
    wanted = _b64(token).encode()
    return any(s.get("type") == TOKEN_TYPE and hmac.compare_digest(((s.get("data") or {}).get("token") or "").encode(), wanted)
               for s in store.list(kind))


class TokenController(Controller):
    name = "tokens-controller"
    watches = (("", "secrets"), ("", "serviceaccounts"))

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if kind.plural != "secrets" or obj.get("type") != TOKEN_TYPE:
            return
        meta = obj["metadata"]
        annotations = meta.get("annotations") or {}
        account = self.get(self.kind("", "serviceaccounts"), meta["namespace"], annotations.get(SA_NAME, ""))
        if account is None or annotations.get(SA_UID, account["metadata"]["uid"]) != account["metadata"]["uid"]:
            self.delete(kind, meta["namespace"], meta["name"])  # the controller's deleteToken
            return
        data = obj.get("data") or {}
        ca = self.twin.ca_pem
        if data.get("token") and data.get("namespace") and (data.get("ca.crt") or not ca):
            return
        uid = meta["uid"]
        token = legacy_token(meta["namespace"], meta["name"], account["metadata"]["name"], account["metadata"]["uid"])

        def fill(o: dict) -> None:
            if o["metadata"]["uid"] != uid:
                return
            o["metadata"].setdefault("annotations", {})[SA_UID] = account["metadata"]["uid"]
            d = o.setdefault("data", {})
            if ca:
                d["ca.crt"] = _b64(ca)
            d["namespace"] = _b64(meta["namespace"])
            d.setdefault("token", _b64(token))
        self.mutate(kind, meta["namespace"], meta["name"], fill)

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        if kind.plural != "serviceaccounts":
            return
        meta = obj["metadata"]
        secrets_kind = self.kind("", "secrets")
        for s in self.store.list(secrets_kind, meta["namespace"]):
            annotations = s["metadata"].get("annotations") or {}
            if s.get("type") == TOKEN_TYPE and annotations.get(SA_NAME) == meta["name"] \
                    and annotations.get(SA_UID, meta["uid"]) == meta["uid"]:
                self.delete(secrets_kind, meta["namespace"], s["metadata"]["name"])


CONTROLLERS: list = [TokenController]
