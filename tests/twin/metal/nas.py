"""The world outside the API as the twin's downloads meet it: the lab's NAS, the tests' loopback
servers, and every other host, which is not there.

Every URL the twin would fetch (an image import, the upgrade's ISO, a booting node's iPXE
scripts, kernel, initrd, root filesystem, install config and ISO) goes through `Outside.route`:

- `http://<lab_nfs.server>[:80]/<path>` with `--nas DIR`: the NAS's web server, answered from
  `DIR/<path>` without a connection (a missing file, a directory or a path leaving DIR: 404 Not
  Found, as a web server answers); any other port or scheme on the NAS: connection refused
  (nothing listens there). Without `--nas` the NAS is a host like any other below.
- `127.0.0.1`, `::1`, `localhost`: fetched for real (the tests' file servers).
- any other host: not there. Nothing is sent: an IP address fails the way an unreachable host
  does, after the client's connect timeout (`dial tcp <ip>:<port>: i/o timeout`); a name fails
  the way the cluster's DNS answers a name it does not know (`lookup <name> on 10.53.0.10:53: no
  such host`).

`/_twin/environment` `{"unreachable": [url prefix, ...]}` takes a NAS URL down (timeout) as it
does for the backup stores. loopback_guard.py proves that nothing here opens a socket to
anything but 127.0.0.1.
"""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp

from ..addresses import is_ip
from ..loopback_guard import is_loopback

LOOPBACK, NAS, NOWHERE, REFUSED = "loopback", "nas", "nowhere", "refused"
CLUSTER_DNS = "10.53.0.10:53"  # the resolver a pod (and a booted node) asks: Harvester's cluster DNS
DEFAULT_NAS = "10.10.10.20"  # inventory/lab lab_nfs.server, when no --lab says otherwise
CHUNK = 64 * 1024


@dataclass
class Route:
    kind: str  # LOOPBACK, NAS, NOWHERE, REFUSED
    scheme: str
    host: str
    port: int
    path: str

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def is_ip(self) -> bool:
        return is_ip(self.host)


class Failure(Exception):
    """A fetch that got no HTTP answer: `kind` is "timeout", "refused", "no such host" or
    "scheme"; `go()` is Go's net/http error text, `ipxe()` iPXE's."""

    def __init__(self, kind: str, route: Route | None, url: str, detail: str = ""):
        super().__init__(detail or kind)
        self.kind, self.route, self.url, self.detail = kind, route, url, detail

    def go(self) -> str:
        r = self.route
        if self.kind == "timeout":
            return f"dial tcp {r.address}: i/o timeout"
        if self.kind == "refused":
            return f"dial tcp {r.address}: connect: connection refused"
        if self.kind == "no such host":
            return f"dial tcp: lookup {r.host} on {CLUSTER_DNS}: no such host"
        if self.kind == "scheme":
            return f'unsupported protocol scheme "{urlsplit(self.url).scheme}"'
        return self.detail

    def ipxe(self) -> str:
        return {"timeout": "Connection timed out", "refused": "Connection refused",
                "no such host": "Name not found", "scheme": "Operation not supported"}.get(self.kind, self.detail)


@contextmanager
def _failures(route: Route, url: str):
    """A loopback request's transport errors as the Failure that says what a client saw."""
    try:
        yield
    except aiohttp.ClientConnectorError as e:
        if isinstance(getattr(e, "os_error", None), ConnectionRefusedError):
            raise Failure("refused", route, url) from None
        raise Failure("other", route, url, str(e)) from None
    except TimeoutError:
        raise Failure("timeout", route, url) from None
    except aiohttp.ClientError as e:
        raise Failure("other", route, url, str(e)) from None


@dataclass
class Answer:
    status: int
    reason: str
    body: bytes


class Outside:
    """How the twin reaches a URL. `nas_host`: the lab's NAS (lab_nfs.server); `nas_dir`: its
    web root (--nas), None when the twin has no NAS folder; `environment`: the store's
    environment dict (its `unreachable` list)."""

    def __init__(self, nas_host: str = DEFAULT_NAS, nas_dir: Path | None = None, environment=None):
        self.nas_host = nas_host
        self.nas_dir = Path(nas_dir).resolve() if nas_dir is not None else None
        self._environment = environment or (lambda: {})

    def bind(self, environment) -> None:
        """Read the `unreachable` list from this callable (the twin's store environment)."""
        self._environment = environment

    # ------------------------------------------------------------------ where a URL goes
    def route(self, url: str) -> Route:
        parts = urlsplit(url)
        scheme = parts.scheme
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            port = 0
        host = parts.hostname or ""
        path = parts.path or "/"
        if is_loopback(host):
            return Route(LOOPBACK, scheme, host, port, path)
        if self.nas_dir is not None and host == self.nas_host and not self.down(url):
            kind = NAS if (scheme == "http" and port == 80) else REFUSED
            return Route(kind, scheme, host, port, path)
        return Route(NOWHERE, scheme, host, port, path)

    def down(self, url: str) -> bool:
        return any(isinstance(u, str) and u and url.startswith(u)
                   for u in self._environment().get("unreachable") or [])

    def nowhere(self, url: str, route: Route) -> Failure:
        """The failure of a host that is not there (an IP: timeout; a name: no such host)."""
        if route.kind == REFUSED:
            return Failure("refused", route, url)
        return Failure("timeout" if route.is_ip else "no such host", route, url)

    def nas_file(self, route: Route) -> Path | None:
        """The file the NAS serves for this route's path, or None (404)."""
        if self.nas_dir is None:
            return None
        rel = unquote(route.path).lstrip("/")
        target = (self.nas_dir / rel).resolve()
        if target != self.nas_dir and self.nas_dir not in target.parents:
            return None
        return target if target.is_file() else None

    # ------------------------------------------------------------------ small fetches (scripts, configs)
    async def fetch(self, url: str, *, timeout: float, sleep) -> Answer:
        """GET a small file (an iPXE script, an install config) and its whole body. `timeout` is
        the client's connect timeout in real seconds; `sleep` the twin's clock sleep, so a host
        that is not there fails after the scaled timeout. Raises Failure when no answer comes."""
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise Failure("scheme", None, url)
        route = self.route(url)
        if route.kind == NAS:
            path = self.nas_file(route)
            if path is None:
                return Answer(404, "Not Found", b"404 page not found\n")
            return Answer(200, "OK", await asyncio.to_thread(path.read_bytes))
        if route.kind in (NOWHERE, REFUSED):
            failure = self.nowhere(url, route)
            if failure.kind == "timeout":
                await sleep(timeout)
            raise failure
        with _failures(route, url):
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                    session.get(url, ssl=False) as resp:
                return Answer(resp.status, resp.reason or "", await resp.read())

    async def exists(self, url: str, *, timeout: float, sleep) -> Answer:
        """A download's first answer without its body (a boot file, an ISO): status only."""
        route = self.route(url)
        if route.kind == NAS:
            path = self.nas_file(route)
            return Answer(200, "OK", b"") if path is not None else Answer(404, "Not Found", b"404 page not found\n")
        if route.kind == LOOPBACK:
            with _failures(route, url):
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                        session.head(url, ssl=False, allow_redirects=True) as resp:
                    return Answer(resp.status, resp.reason or "", b"")
        return await self.fetch(url, timeout=timeout, sleep=sleep)  # raises the right Failure
