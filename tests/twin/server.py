"""The twin's HTTP application: routing, authentication, the request log, fault injection and
Status errors. Resource verbs live in resources.py, discovery in discovery.py.
"""
from __future__ import annotations

import asyncio
import copy
import hmac
import json
import logging
import traceback
from pathlib import Path

from aiohttp import web

from . import areas, discovery, errors, lab, steve
from .admission import Chain
from .clock import Clock
from .controllers import Manager
from .controllers.core import token_is_valid
from .hooks import Fault, Faults, RequestLog
from .metal import Metal
from .metal.nas import Outside
from .registry import Registry
from .resources import Resources, Target, json_response
from .store import Store

log = logging.getLogger("twin")

UNAUTHENTICATED = {"/healthz", "/readyz", "/livez"}
LOGIN_PREFIX = "/v3-public/"  # Rancher's public API: the login needs no token
ALWAYS_UP = web.AppKey("always_up", bool)  # the --bare Tinkerbell listener: answers before any install


class Twin:
    """Everything one running twin holds."""

    def __init__(self, token: str, crd_dirs: list[Path] = (), speed: float = 1.0, lab_docs: list[dict] | None = None,
                 admin_password: str = "", *, outside: Outside | None = None, without_groups: tuple[str, ...] = (),
                 bare: dict | None = None):
        self.token = token
        self.lab_docs = lab_docs  # the lab to seed (--lab: lab_inventory.documents); None: lab/ as it is
        self.ca_pem = b""  # the serving CA (set by __main__); the token controller copies it into token Secrets
        self.registry = Registry.default(list(crd_dirs), without_groups=without_groups)
        self.admission = Chain()
        for register in areas.ADMISSION:
            register(self.admission)
        self.store = Store(self.registry, self.admission)
        self.clock = Clock(speed)
        self.requests = RequestLog()
        self.faults = Faults()
        self.resources = Resources(self.store)
        self.controllers = Manager(self, areas.CONTROLLERS)
        self.steve = steve.Steve(self)  # Harvester's /v1/harvester API (every kind, node and VM actions)
        self.auth = steve.LocalAuth(admin_password)  # Rancher's local login and the tokens it issued
        self.snapshots: dict[str, dict] = {}  # /_twin/snapshot and /_twin/restore
        # where the twin's downloads go (metal/nas.py): the NAS folder, loopback, nowhere else
        self.outside = outside or Outside(environment=lambda: self.store.environment)
        self.outside.bind(lambda: self.store.environment)
        # --bare: the nodes before Harvester is installed, their AMT, the install (metal/)
        self.metal = Metal(self, **bare) if bare is not None else None
        self._seed()
        # the seeded objects, copied back by reset: a third of the CPU of seeding through the write
        # pipeline again, and the suite resets before each test (--bare seeds the metal state too)
        self._seeded = self.store.snapshot() if self.metal is None else None

    def _seed(self) -> None:
        if self.metal is not None:
            self.metal.seed()
        else:
            lab.seed(self.store, copy.deepcopy(self.lab_docs))

    def reset(self) -> None:
        """Back to the start state: seeded lab, no faults, empty request log."""
        self.controllers.stop()
        self.faults.clear()
        self.requests.clear()
        self.auth.forget()
        if self._seeded is not None:
            self.store.restore(self._seeded)
        else:
            self.store.reset()
            self.metal.reset()
            self._seed()
        self.controllers.start()

    def snapshot(self, name: str) -> int:
        """Keeps the objects as they are now under ``name``; returns how many there are."""
        self.snapshots[name] = self.store.snapshot()
        if self.metal is not None:
            self.snapshots[name]["metal"] = self.metal.snapshot()
        return sum(len(bucket) for bucket in self.snapshots[name]["objects"].values())

    def restore(self, name: str) -> bool:
        """Back to snapshot ``name`` (as ``reset`` goes back to the seed: no faults, empty request
        log, controllers restarted on the restored objects); False when there is no such snapshot."""
        if name not in self.snapshots:
            return False
        self.controllers.stop()
        self.store.restore(self.snapshots[name])
        if self.metal is not None and "metal" in self.snapshots[name]:
            self.metal.restore(self.snapshots[name]["metal"])
        self.faults.clear()
        self.requests.clear()
        self.controllers.start()
        return True

    async def _start_controllers(self, _app) -> None:
        self.controllers.start()

    async def _stop_controllers(self, _app) -> None:
        self.controllers.stop()

    # ------------------------------------------------------------------ routing
    def target(self, path: str) -> Target | None:
        """Parse /api/v1/... and /apis/G/V/... resource paths."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            inner = self.registry.by_plural(group, rest[2])
            if inner is not None and inner.namespaced:
                namespace, rest = rest[1], rest[2:]
        if len(rest) > 3:
            return None
        kind = self.registry.by_plural(group, rest[0])
        if kind is None or kind.served(version) is None:
            return None
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if name and kind.namespaced and not namespace:
            return None  # a namespaced object needs its namespace in the path
        return Target(kind, version, namespace, name, sub)

    async def api(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path == steve.PREFIX or path.startswith(steve.PREFIX + "/"):
            return await self.steve.handle(request)
        if request.method == "GET":
            doc = self._discovery(path)
            if doc is not None:
                return json_response(doc)
        t = self.target(path)
        if t is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return await self.resources.handle(request, t)

    def _discovery(self, path: str):
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return discovery.VERSION
        if path == "/api":
            return discovery.api_versions()
        if path == "/apis":
            return discovery.api_group_list(self.registry)
        if path == "/openapi/v3":
            return discovery.openapi_root(self.registry)
        if parts[:2] == ["openapi", "v3"] and len(parts) in (4, 5):
            group, version = ("", parts[3]) if parts[2] == "api" else (parts[3], parts[4] if len(parts) == 5 else "")
            return discovery.openapi_group_version(self.registry, group, version) or _raise_not_found()
        if parts[:1] == ["api"] and len(parts) == 2:
            return discovery.api_resource_list(self.registry, "", parts[1]) or _raise_not_found()
        if parts[:1] == ["apis"] and len(parts) == 2:
            return discovery.api_group(self.registry, parts[1]) or _raise_not_found()
        if parts[:1] == ["apis"] and len(parts) == 3:
            return discovery.api_resource_list(self.registry, parts[1], parts[2]) or _raise_not_found()
        return None

    # ------------------------------------------------------------------ test hooks
    async def hook(self, request: web.Request) -> web.Response:
        path, method = request.path.rstrip("/"), request.method
        if path == "/_twin/requests" and method == "GET":
            return web.json_response(self.requests.since(int(request.query.get("since", 0))))
        if path == "/_twin/requests" and method == "DELETE":
            self.requests.clear()
            return web.json_response({"cleared": True})
        if path == "/_twin/faults" and method == "GET":
            return web.json_response([f.to_json() for f in self.faults.armed])
        if path == "/_twin/faults" and method == "POST":
            try:
                body = json.loads(await request.read() or b"null")
                fault = Fault.from_json(body)
            except (ValueError, TypeError) as e:
                return web.json_response({"error": str(e)}, status=400)
            self.faults.add(fault)
            return web.json_response(fault.to_json(), status=201)
        if path == "/_twin/faults" and method == "DELETE":
            self.faults.clear()
            return web.json_response({"cleared": True})
        if path == "/_twin/environment" and method == "GET":
            return web.json_response(self.store.environment)
        if path == "/_twin/environment" and method in ("PATCH", "POST"):
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError as e:
                return web.json_response({"error": str(e)}, status=400)
            if not isinstance(body, dict):
                return web.json_response({"error": "the environment is a JSON object"}, status=400)
            for key, value in body.items():  # merge-patch semantics: null removes a key
                if value is None:
                    self.store.environment.pop(key, None)
                else:
                    self.store.environment[key] = value
            return web.json_response(self.store.environment)
        if path == "/_twin/reset" and method == "POST":
            self.reset()
            if self.metal is not None:
                await self.metal.sync_listening()
            return web.json_response({"reset": True})
        if path == "/_twin/metal" and self.metal is not None:
            if method == "GET":
                return web.json_response(self.metal.state())
            if method == "PATCH":
                try:
                    await self.metal.patch(json.loads(await request.read() or b"{}"))
                except ValueError as e:
                    return web.json_response({"error": str(e)}, status=400)
                return web.json_response(self.metal.state())
        if path in ("/_twin/snapshot", "/_twin/restore") and method == "POST":
            name = request.query.get("name", "default")
            if path == "/_twin/snapshot":
                return web.json_response({"snapshot": name, "objects": self.snapshot(name)}, status=201)
            if not self.restore(name):
                return web.json_response({"error": f"no snapshot {name!r}"}, status=404)
            if self.metal is not None:
                await self.metal.sync_listening()
            return web.json_response({"restored": name})
        return web.json_response({"error": "no such hook"}, status=404)

    # ------------------------------------------------------------------ middlewares
    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:
        path = request.path
        if self.metal is not None and not self.metal.api_up and not request.app.get(ALWAYS_UP) \
                and not path.startswith("/_twin/"):
            # --bare before the create node is installed: nothing answers at the VIP
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        if path in UNAUTHENTICATED:
            return web.Response(text="ok")
        if path.startswith(LOGIN_PREFIX):
            return self._logged(request, await self.auth.handle(request))
        if not self._authorized(request):
            return self._logged(request, _status_response(errors.unauthorized()))
        if path.startswith("/_twin/"):
            return await self.hook(request)
        fault = self.faults.pick(request.method, path)
        if fault is not None:
            action = fault.action(request.method, await _carries_resource_version(request))
            if action == "delay":
                await asyncio.sleep(fault.delay)
            elif action == "reset":
                self.requests.add(request.method, path, request.query_string, 0, *_client_of(request), fault="reset")
                _drop(request)
            elif action == "status":
                code = fault.status_code()
                err = errors.ApiError(code, _reason_for(code), fault.message or f"injected fault ({code})")
                if fault.retry_after is not None and (not fault.picks or code in (429, 503)):
                    err.headers["Retry-After"] = str(fault.retry_after)
                response = _status_response(err)
                self.requests.add(request.method, path, request.query_string, code, *_client_of(request), fault=str(code))
                return response
            else:  # reset_after: served (a write stored), then the answer is lost with the connection
                response = await self._serve(request, handler)
                self.requests.add(request.method, path, request.query_string, response.status, *_client_of(request),
                                  fault="reset_after")
                _drop(request)
        return self._logged(request, await self._serve(request, handler))

    async def _serve(self, request: web.Request, handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except errors.ApiError as e:
            return _status_response(e)
        except web.HTTPException:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug in the twin must look like an apiserver 500, and be visible
            log.error("internal error on %s %s\n%s", request.method, request.path, traceback.format_exc())
            return _status_response(errors.internal(str(e)))

    def _logged(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        self.requests.add(request.method, request.path, request.query_string, response.status, *_client_of(request))
        return response

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        token = token.strip()
        # the twin's own token, one the token controller put in a service-account-token Secret, or
        # one Rancher's login issued
        return hmac.compare_digest(token.encode(), self.token.encode()) or token_is_valid(self.store, token) \
            or self.auth.accepts(token)

    def app(self, *, always_up: bool = False) -> web.Application:
        """The HTTP application. The main one runs the controllers; `always_up` is the second
        listener of --bare (the Tinkerbell cluster's API, up from the start, same store)."""
        app = web.Application(middlewares=[self.middleware], client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.api)
        if always_up:
            app[ALWAYS_UP] = True
        else:
            app.on_startup.append(self._start_controllers)
            app.on_cleanup.append(self._stop_controllers)
        return app


def _drop(request: web.Request):
    """The connection goes without an answer (what a client sees when a node or a proxy dies)."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError()


async def _carries_resource_version(request: web.Request) -> bool:
    """A PUT or PATCH that names the resourceVersion it was made from: the writes a real apiserver
    can answer with 409 Conflict (the body is cached for the handler)."""
    if request.method not in ("PUT", "PATCH"):
        return False
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return False
    if isinstance(body, dict):
        return bool((body.get("metadata") or {}).get("resourceVersion"))
    return isinstance(body, list) and any(isinstance(op, dict) and op.get("path") == "/metadata/resourceVersion"
                                          for op in body)


def _client_of(request: web.Request) -> tuple[str, int]:
    """Who sent a request, for the request log: its User-Agent and its port (one per connection)."""
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    return request.headers.get("User-Agent", ""), (peer[1] if peer else 0)


def _raise_not_found():
    raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")


_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
            429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


def _reason_for(code: int) -> str:
    return _REASONS.get(code, "Unknown")


def _status_response(err: errors.ApiError) -> web.Response:
    resp = json_response(err.status(), err.code)
    for k, v in err.headers.items():
        resp.headers[k] = v
    return resp
