"""A listener that can stop listening and start again on the same 127.0.0.1 port: while it is off,
a client's connection is refused. The bare-metal lab switches two kinds of them:

- the VIP (the port the kubeconfig names for the Harvester API, `__main__.py`), on only while a
  cluster is installed: a VIP no node holds does not answer at all, and on loopback a refused
  connection stands in for that; the `/_twin/*` hooks stay on the twin's own port (`hooks-url`
  next to the kubeconfig);
- each node's AMT (amt.py), on only while that AMT is provisioned."""
from __future__ import annotations

import asyncio
import ssl

from aiohttp import web


class SwitchedListener:
    def __init__(self, app: web.Application, ssl_context: ssl.SSLContext | None, shutdown_timeout: float = 1.0):
        self.app, self.ssl_context, self.shutdown_timeout = app, ssl_context, shutdown_timeout
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._lock = asyncio.Lock()

    async def start(self, listening: bool = True) -> int:
        """Set up and take a port (kept for the twin's life); listening or not."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                     shutdown_timeout=self.shutdown_timeout)
        await self._runner.setup()
        await self.listen(True)
        await self.listen(listening)
        return self.port

    async def listen(self, up: bool) -> None:
        if self._runner is None:
            return
        async with self._lock:
            if up and self._site is None:
                self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self.ssl_context,
                                         backlog=512, reuse_address=True)
                await self._site.start()
                self.port = self._site._server.sockets[0].getsockname()[1]
            elif not up and self._site is not None:
                await self._site.stop()
                self._site = None
                # the host behind the port is gone: its open connections go with it
                for handler in list(getattr(self._runner.server, "connections", [])):
                    handler.force_close()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
