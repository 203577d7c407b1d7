"""The VIP of the bare-metal lab: the port the kubeconfig names for the Harvester API, listening
only while a cluster is installed. Before the create node's install, and after a reset to bare
metal, nothing listens there, so a client's connection is refused, as at a VIP nobody holds
(a real one does not answer at all: the refusal is the loopback stand-in for that). The
`/_twin/*` hooks stay on the twin's own port (`hooks-url` next to the kubeconfig)."""
from __future__ import annotations

import asyncio
import ssl

from aiohttp import web


class VipListener:
    def __init__(self, app: web.Application, ssl_context: ssl.SSLContext):
        self.app, self.ssl_context = app, ssl_context
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> int:
        """Set up and take a port (kept for the twin's life), then stop listening on it."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await self.listen(True)
        await self.listen(False)
        return self.port

    async def listen(self, up: bool) -> None:
        async with self._lock:
            if up and self._site is None:
                self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self.ssl_context,
                                         backlog=512, reuse_address=True)
                await self._site.start()
                self.port = self._site._server.sockets[0].getsockname()[1]
            elif not up and self._site is not None:
                await self._site.stop()
                self._site = None
                # the host behind the VIP is gone: its open connections go with it
                for handler in list(getattr(self._runner.server, "connections", [])):
                    handler.force_close()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
