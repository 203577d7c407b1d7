"""Rancher's local login, as Harvester's embedded Rancher answers it:
`POST /v3-public/localProviders/local?action=login` (rancher/rancher v2.13
pkg/auth/providers/publicapi/login.go `v3LoginHandler.login` and `loginHandler.login`,
pkg/auth/providers/local/local_auth_provider.go `AuthenticateUser`, pkg/auth/util
`ReturnAPIError`).

* The body is `{"username", "password"}` (other keys such as `description`, `ttl`,
  `responseType` are read too). A wrong password or an unknown user is 401
  `{"code": "Unauthorized", "status": 401, "message": "authentication failed", "type": "error",
  "baseType": "error"}`; a body that is not JSON is 422 InvalidBodyContent (no message).
* Success is 201 with `{"baseType": "token", "expiresAt", "id": "token-xxxxx", "token":
  "token-xxxxx:<key>", "type": "token"}` (expiresAt from auth-user-session-ttl-minutes, 960 by
  default). The token is then accepted as a bearer token on every API of the twin.
* The only user is `admin`, its password the twin's `--admin-password` (written next to the
  kubeconfig as `admin-password`, mode 0600).
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

ADMIN = "admin"
SESSION_TTL_MINUTES = 960  # Rancher's auth-user-session-ttl-minutes default
PASSWORD_FILE = "admin-password"
TOKEN_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def _error(status: int, code: str, message: str = "") -> web.Response:
    body = {"code": code, "status": status}
    if message:
        body["message"] = message
    body.update(type="error", baseType="error")
    return web.Response(text=json.dumps(body, separators=(",", ":")) + "\n", status=status,
                        content_type="application/json")


def write_password_file(kubeconfig: Path, password: str) -> Path:
    """The password next to the kubeconfig, atomically, mode 0600."""
    path = Path(kubeconfig).with_name(PASSWORD_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    os.replace(tmp, path)
    return path


class LocalAuth:
    def __init__(self, password: str):
        self.password = password
        self.tokens: dict[str, str] = {}  # "token-xxxxx:<key>" -> expiresAt

    def accepts(self, bearer: str) -> bool:
        return any(hmac.compare_digest(bearer.encode(), t.encode()) for t in self.tokens)

    def forget(self) -> None:
        """Back to the start state (no login tokens)."""
        self.tokens.clear()

    async def handle(self, request: web.Request) -> web.Response:
        parts = [p for p in request.path.split("/") if p]
        if parts != ["v3-public", "localProviders", "local"] or request.method != "POST" \
                or request.query.get("action") != "login":
            return web.Response(status=404)
        raw = await request.read()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return _error(422, "InvalidBodyContent")
        if not isinstance(body, dict):
            return _error(422, "InvalidBodyContent")
        username, password = (body.get(k) if body.get(k) is not None else "" for k in ("username", "password"))
        if not isinstance(username, str) or not isinstance(password, str):  # Go's UnmarshalTypeError
            return _error(422, "InvalidBodyContent")
        if username != ADMIN or not hmac.compare_digest(password.encode(), self.password.encode()):
            return _error(401, "Unauthorized", "authentication failed")
        name = "token-" + "".join(secrets.choice(TOKEN_NAME_CHARS) for _ in range(5))
        bearer = f"{name}:{secrets.token_urlsafe(40)[:54]}"
        expires = (datetime.now(UTC) + timedelta(minutes=SESSION_TTL_MINUTES)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.tokens[bearer] = expires
        answer = {"baseType": "token", "expiresAt": expires, "id": name, "token": bearer, "type": "token"}
        return web.Response(text=json.dumps(answer, separators=(",", ":")) + "\n", status=201,
                            content_type="application/json")
