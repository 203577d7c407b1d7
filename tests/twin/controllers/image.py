"""Controllers of the image area: Harvester's vm-image-controller with the Longhorn backing image
download it drives (harvester/harvester pkg/controller/master/image, pkg/image/backingimage,
pkg/image/common/operator.go; longhorn backing-image-manager for the download itself).

For a `download` image the twin fetches `spec.url` the way metal/nas.py routes it: a loopback
URL for real, the lab's NAS (`--nas DIR`) from its folder, any other host not at all (it fails as
an unreachable host or an unknown name does, without a connection):

1. initialize: the HEAD request Harvester's operator sends (15 s client timeout; its Go error is
   the failure message), then the image's StorageClass `lh-<image UID>` (provisioner
   driver.longhorn.io, `backingImage: vmi-<image UID>` plus `spec.storageClassParameters`), then
   one write: Initialized=True, Imported=Unknown (Importing), appliedUrl, storageClassName,
   size from Content-Length, progress 0;
2. import: a streaming GET computing sha512 and counting bytes; `status.progress` goes up (capped
   at 99, at most about 4 writes a second); a wrong `spec.checksum` fails like Longhorn's
   backing-image manager; success is Imported=True, RetryLimitExceeded=False, progress 100,
   size, virtualSize (a qcow2 header's virtual size, else the size);
3. failure: failed++, lastFailedTime, and the message on RetryLimitExceeded; once
   failed > spec.retry, RetryLimitExceeded=True and the failing condition (Initialized when the
   HEAD failed, else Imported) False with it. Otherwise the image is initialized again after
   Harvester's 10 s (clock-scaled), the StorageClass deleted and recreated.

`upload` images (and the other source types, which need Longhorn volumes the twin does not
move data for) are initialized and stay Imported=Unknown. Deleting an image deletes its
StorageClass before the finalizer `wrangler.cattle.io/vm-image-controller` goes.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import ssl
import struct
from urllib.parse import urlsplit

import aiohttp

from ..metal import nas
from ..registry import Kind
from . import Controller, condition, set_condition

log = logging.getLogger("twin.controllers.image")

GROUP = "harvesterhci.io"
HEAD_TIMEOUT = 15.0  # Harvester's http.Client{Timeout: 15s} for the HEAD check
READ_TIMEOUT = 30.0  # a stalled download fails after this long without data
RETRY_AFTER = 10.0  # handleRetry: lastFailedTime + 10s
DATASOURCE_START = 1.0  # Longhorn starting the backing image data source before the download
PROGRESS_INTERVAL = 0.25  # real seconds between two progress writes
CHUNK = 64 * 1024
QCOW2_MAGIC = b"QFI\xfb"


class ImportFailed(Exception):
    """A failure with the message Harvester records (after "failed due to error: ")."""


class _Gone(Exception):
    """The image was deleted (or replaced) while importing."""


def storage_class_name(image: dict) -> str:
    """v1.8: `lh-<UID>` (GetUIDImageStorageClassName; 39 characters, within Longhorn's 40)."""
    return f"lh-{image['metadata']['uid']}"


def backing_image_name(image: dict) -> str:
    return f"vmi-{image['metadata']['uid']}"


def virtual_size(header: bytes, size: int) -> int:
    if len(header) >= 32 and header[:4] == QCOW2_MAGIC:
        return struct.unpack(">Q", header[24:32])[0]
    return size


def _address(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _go_dial_error(url: str, exc: BaseException) -> str:
    """The Go net error text Harvester's HTTP client would give for this connection failure."""
    host, address = urlsplit(url).hostname or "", _address(url)
    os_error = getattr(exc, "os_error", None) or exc.__cause__ or exc
    if isinstance(exc, aiohttp.ClientConnectorCertificateError) or isinstance(os_error, ssl.SSLCertVerificationError):
        return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    if isinstance(os_error, socket.gaierror):
        return f"dial tcp: lookup {host}: no such host"
    if isinstance(os_error, ConnectionRefusedError):
        return f"dial tcp {address}: connect: connection refused"
    if isinstance(os_error, OSError) and os_error.strerror:
        return f"dial tcp {address}: connect: {os_error.strerror.lower()}"
    return f"dial tcp {address}: {exc}"


class VMImageController(Controller):
    name = "vm-image-controller"
    watches = ((GROUP, "virtualmachineimages"),)
    finalizer = "wrangler.cattle.io/vm-image-controller"

    def __init__(self, twin):
        super().__init__(twin)
        self._imports: dict[str, asyncio.Task] = {}  # image UID -> its import task

    # ------------------------------------------------------------------ hooks
    async def on_change(self, kind: Kind, obj: dict) -> None:
        uid = obj["metadata"]["uid"]
        if _is_true(obj, "RetryLimitExceeded") or _is_true(obj, "Imported"):
            return
        task = self._imports.get(uid)
        if task is not None and not task.done():
            return
        spec = obj.get("spec") or {}
        if spec.get("backend", "backingimage") != "backingimage":
            return  # the CDI backend (DataVolumes) is not modelled
        if spec.get("sourceType") == "download":
            self._imports[uid] = self.spawn(self._import(kind, obj))
        elif not _is_true(obj, "Initialized"):
            # upload, export-from-volume, restore, clone: initialized, then waiting for Longhorn
            self._initialize_storage_class(obj)
            self._write(kind, obj, lambda o: self._initialized(o, size=None))

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        self._cancel(obj["metadata"]["uid"])
        sc_kind = self.kind("storage.k8s.io", "storageclasses")
        name = (obj.get("status") or {}).get("storageClassName") or storage_class_name(obj)
        self.delete(sc_kind, "", name)

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        self._cancel(obj["metadata"]["uid"])

    def _cancel(self, uid: str) -> None:
        task = self._imports.pop(uid, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # ------------------------------------------------------------------ the import
    async def _import(self, kind: Kind, obj: dict) -> None:
        uid = obj["metadata"]["uid"]
        try:
            while True:
                live = self._live(kind, obj)
                if live is None or _is_true(live, "RetryLimitExceeded") or _is_true(live, "Imported"):
                    return
                if (live.get("status") or {}).get("lastFailedTime"):
                    await self.clock.sleep(RETRY_AFTER)
                    if self._live(kind, obj) is None:
                        return
                url = (live.get("spec") or {}).get("url") or ""
                self._delete_storage_class(live)
                try:
                    size = await self._head(url)
                except ImportFailed as e:
                    if self._fail(kind, obj, "Initialized", str(e), 0, applied_url=url):
                        return
                    continue
                self._initialize_storage_class(live)
                if self._write(kind, obj, lambda o, size=size: self._initialized(o, size=size)) is None:
                    return
                await self.clock.sleep(DATASOURCE_START)
                progress = [0]
                try:
                    size, vsize = await self._download(kind, obj, url, (live.get("spec") or {}).get("checksum"),
                                                       progress)
                except ImportFailed as e:
                    if self._fail(kind, obj, "Imported", str(e), progress[0]):
                        return
                    continue
                except _Gone:
                    return
                self._write(kind, obj, lambda o, s=size, v=vsize: self._imported(o, s, v))
                return
        finally:
            if self._imports.get(uid) is asyncio.current_task():
                self._imports.pop(uid, None)

    async def _head(self, url: str) -> int | None:
        """CheckURLAndUpdate: HEAD with a 15 s timeout; a status outside 200-399 fails."""
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise ImportFailed(f'Head "{url}": unsupported protocol scheme "{scheme}"')
        route = self.twin.outside.route(url)
        if self._unreachable(url) or (route.kind == nas.NOWHERE and route.is_ip):
            await self.clock.sleep(HEAD_TIMEOUT)
            raise ImportFailed(f'Head "{url}": dial tcp {_address(url)}: i/o timeout '
                               "(Client.Timeout exceeded while awaiting headers)")
        if route.kind in (nas.NOWHERE, nas.REFUSED):  # a name nobody resolves, a port nobody listens on
            raise ImportFailed(f'Head "{url}": {self.twin.outside.nowhere(url, route).go()}')
        if route.kind == nas.NAS:
            path = self.twin.outside.nas_file(route)
            if path is None:
                raise ImportFailed(f"got 404 status code from {url}")
            return path.stat().st_size or None
        timeout = aiohttp.ClientTimeout(total=HEAD_TIMEOUT / self.clock.speed)
        try:
            async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session, \
                    session.head(url, allow_redirects=True) as resp:
                if resp.status < 200 or resp.status >= 400:
                    raise ImportFailed(f"got {resp.status} status code from {url}")
                return resp.content_length if resp.content_length and resp.content_length > 0 else None
        except ImportFailed:
            raise
        except TimeoutError:
            raise ImportFailed(f'Head "{url}": context deadline exceeded '
                               "(Client.Timeout exceeded while awaiting headers)") from None
        except aiohttp.ClientConnectorError as e:
            raise ImportFailed(f'Head "{url}": {_go_dial_error(url, e)}') from None
        except (aiohttp.ClientError, ValueError) as e:
            raise ImportFailed(f'Head "{url}": {e}') from None

    async def _download(self, kind: Kind, obj: dict, url: str, checksum: str | None,
                        progress: list[int]) -> tuple[int, int]:
        """Longhorn's backing image data source: GET, sha512 while streaming, progress."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=HEAD_TIMEOUT / self.clock.speed,
                                        sock_read=max(READ_TIMEOUT / self.clock.speed, 1.0))
        loop = asyncio.get_running_loop()
        digest, done, header, last_write, written = hashlib.sha512(), 0, b"", 0.0, 0
        try:
            async with self._source(url, timeout) as (status, reason, total, chunks):
                if status != 200:
                    raise ImportFailed(f"failed to process sync file: failed to download from {url}: "
                                       f"unexpected status code {status} {reason}")
                total = total or 0
                async for chunk in chunks:
                    digest.update(chunk)
                    done += len(chunk)
                    if len(header) < 32:
                        header += chunk[:32 - len(header)]
                    if total:
                        # progress[0]: Longhorn's own figure (a failure records it as it is);
                        # the image shows at most 99 until imported, written a few times a second
                        progress[0] = min(done * 100 // total, 100)
                        pct, now = min(progress[0], 99), loop.time()
                        if pct != written and now - last_write >= PROGRESS_INTERVAL:
                            written, last_write = pct, now
                            if self._write(kind, obj, lambda o, p=pct: self._importing(o, p)) is None:
                                raise _Gone
        except (ImportFailed, _Gone):
            raise
        except TimeoutError:
            raise ImportFailed(f"failed to process sync file: failed to download from {url}: "
                               "context deadline exceeded") from None
        except aiohttp.ClientConnectorError as e:
            raise ImportFailed(f"failed to process sync file: failed to download from {url}: "
                               f'Get "{url}": {_go_dial_error(url, e)}') from None
        except aiohttp.ClientError as e:
            raise ImportFailed(f"failed to process sync file: failed to download from {url}: {e}") from None
        if total and done != total:
            raise ImportFailed(f"failed to process sync file: processed data size {done} does not match "
                               f"the expected file size {total}")
        actual = digest.hexdigest()
        if checksum and checksum != actual:
            raise ImportFailed(f"failed to process sync file: the expected checksum {checksum} doesn't match "
                               f"the file actual checksum {actual}")
        return done, virtual_size(header, done)

    @contextlib.asynccontextmanager
    async def _source(self, url: str, timeout: aiohttp.ClientTimeout):
        """(status, reason, length, chunks) of the GET: the NAS's file, or a real loopback download."""
        outside = self.twin.outside
        route = outside.route(url)
        if route.kind == nas.NAS:
            path = outside.nas_file(route)
            if path is None:
                yield 404, "Not Found", 0, _no_chunks()
            else:
                yield 200, "OK", path.stat().st_size, _file_chunks(path)
            return
        if route.kind in (nas.NOWHERE, nas.REFUSED):
            failure = outside.nowhere(url, route)
            if failure.kind == "timeout":
                await self.clock.sleep(HEAD_TIMEOUT)
            raise ImportFailed(f'failed to process sync file: failed to download from {url}: Get "{url}": '
                               f"{failure.go()}")
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session, \
                session.get(url) as resp:
            yield resp.status, resp.reason, resp.content_length, resp.content.iter_chunked(CHUNK)

    def _unreachable(self, url: str) -> bool:
        return any(isinstance(u, str) and u and url.startswith(u)
                   for u in self.store.environment.get("unreachable") or [])

    # ------------------------------------------------------------------ status writes
    def _live(self, kind: Kind, obj: dict) -> dict | None:
        meta = obj["metadata"]
        live = self.get(kind, meta.get("namespace", ""), meta["name"])
        if live is None or live["metadata"]["uid"] != meta["uid"] or live["metadata"].get("deletionTimestamp"):
            return None
        return live

    def _write(self, kind: Kind, obj: dict, change) -> dict | None:
        """Change the image (through the main resource: no status subresource) if it is still the
        same object and not being deleted."""
        meta, uid = obj["metadata"], obj["metadata"]["uid"]

        def guarded(o):
            if o["metadata"]["uid"] == uid and not o["metadata"].get("deletionTimestamp"):
                change(o)
        result = self.mutate(kind, meta.get("namespace", ""), meta["name"], guarded)
        if result is None or result["metadata"]["uid"] != uid or result["metadata"].get("deletionTimestamp"):
            return None
        return result

    def _initialized(self, o: dict, *, size: int | None) -> None:
        now = self.clock.now()
        status = o.setdefault("status", {})
        spec = o.get("spec") or {}
        if spec.get("url"):
            status["appliedUrl"] = spec["url"]
        if size:
            status["size"] = size
        status["storageClassName"] = storage_class_name(o)
        status["progress"] = 0
        set_condition(o, "Imported", "Unknown", "Importing", now=now)
        set_condition(o, "Initialized", "True", "Initialized", now=now)

    def _importing(self, o: dict, pct: int) -> None:
        o.setdefault("status", {})["progress"] = pct
        set_condition(o, "Imported", "Unknown", "Importing", now=self.clock.now())

    def _imported(self, o: dict, size: int, vsize: int) -> None:
        now = self.clock.now()
        status = o.setdefault("status", {})
        status.update(progress=100, size=size, virtualSize=vsize)
        set_condition(o, "Imported", "True", "Imported", now=now)
        set_condition(o, "RetryLimitExceeded", "False", now=now)
        rle = condition(o, "RetryLimitExceeded")
        rle.pop("reason", None)

    def _fail(self, kind: Kind, obj: dict, cond: str, message: str, progress: int, *,
              applied_url: str | None = None) -> bool:
        """failStateTransit. True when the retry limit is now exceeded (or the image is gone)."""
        exceeded = [True]

        def change(o):
            now = self.clock.now()
            status = o.setdefault("status", {})
            spec = o.get("spec") or {}
            retry = spec.get("retry", 3)
            if applied_url:
                status["appliedUrl"] = applied_url
            status["failed"] = status.get("failed", 0) + 1
            status["lastFailedTime"] = now
            status["progress"] = progress
            msg = f"failed due to error: {message}"
            if status["failed"] > 1:
                msg = f"retry attempted {status['failed'] - 1}/{retry} {msg}"
            if status["failed"] > retry:
                set_condition(o, "RetryLimitExceeded", "True", message=msg, now=now)
                set_condition(o, cond, "False", (condition(o, cond) or {}).get("reason", ""), msg, now=now)
                exceeded[0] = True
            else:
                set_condition(o, "RetryLimitExceeded", "False", message=msg, now=now)
                exceeded[0] = False
        if self._write(kind, obj, change) is None:
            return True
        log.info("%s: image %s/%s: %s", self.name, obj["metadata"].get("namespace"), obj["metadata"]["name"], message)
        return exceeded[0]

    # ------------------------------------------------------------------ the image's StorageClass
    def _delete_storage_class(self, image: dict) -> None:
        sc_kind = self.kind("storage.k8s.io", "storageclasses")
        if self.get(sc_kind, "", storage_class_name(image)) is not None:
            self.delete(sc_kind, "", storage_class_name(image))

    def _initialize_storage_class(self, image: dict) -> None:
        """createStorageClass: provisioner Longhorn, the backing image, the image's parameters."""
        sc_kind = self.kind("storage.k8s.io", "storageclasses")
        params = {"backingImage": backing_image_name(image)}
        params.update((image.get("spec") or {}).get("storageClassParameters") or {})
        self.create(sc_kind, {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": storage_class_name(image)},
            "provisioner": "driver.longhorn.io",
            "reclaimPolicy": "Delete",
            "allowVolumeExpansion": True,
            "volumeBindingMode": "Immediate",
            "parameters": params,
        })


async def _no_chunks():
    return
    yield b""  # an async generator with nothing in it


async def _file_chunks(path):
    with open(path, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            yield chunk


def _is_true(obj: dict, type_: str) -> bool:
    return (condition(obj, type_) or {}).get("status") == "True"


CONTROLLERS: list = [VMImageController]
