"""python -m tests.twin --port PORT --kubeconfig FILE [--crds DIR]... [--speed FACTOR] [--lab INVENTORY] [--admin-password PW]

Serves a stand-in for a Harvester cluster's Kubernetes API over TLS on 127.0.0.1:PORT
(PORT 0 picks a free one) and writes FILE once it serves (and the admin password next to it, as
admin-password, before it). Runs until SIGINT or SIGTERM.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import sys
import time
from pathlib import Path

from aiohttp import web

from . import kubeconfig, lab_inventory
from .server import Twin
from .steve.login import write_password_file
from .tls import make_serving_cert


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.twin", description=__doc__.splitlines()[2])
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: any free port)")
    p.add_argument("--kubeconfig", type=Path, required=True, help="where to write the client kubeconfig")
    p.add_argument("--crds", type=Path, action="append", default=[],
                   help="a folder of CRD YAML files whose kinds replace ours (repeatable)")
    p.add_argument("--speed", type=float, default=1.0, help="controller clock factor (10 = ten times faster)")
    p.add_argument("--token", default=None, help="bearer token to accept (default: a random one)")
    p.add_argument("--lab", type=Path, default=None,
                   help="seed the nodes, their addresses, NICs and bonds from this Ansible inventory (e.g. inventory/lab)")
    p.add_argument("--admin-password", default=None,
                   help="the password of Rancher's local user admin (default: a random one); written next to the "
                        "kubeconfig as admin-password")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    for d in args.crds:
        if not d.is_dir():
            p.error(f"--crds {d}: not a directory")
    if args.speed <= 0:
        p.error("--speed must be positive")
    args.lab_docs = None
    if args.lab is not None:
        try:
            args.lab_docs = lab_inventory.documents(args.lab)
        except lab_inventory.LabInventoryError as e:
            p.error(f"--lab {args.lab}: {e}")
    return args


async def serve(args: argparse.Namespace) -> None:
    started = time.monotonic()
    password = args.admin_password or secrets.token_urlsafe(12)
    twin = Twin(args.token or secrets.token_urlsafe(32), args.crds, args.speed, args.lab_docs, admin_password=password)
    cert = make_serving_cert()
    twin.ca_pem = cert.ca_pem
    # open watches must not hold a stop for aiohttp's default 60 s
    runner = web.AppRunner(twin.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, ssl_context=cert.ssl_context(), backlog=512)
    await site.start()
    port = runner.addresses[0][1]
    # stop cleanly from the moment a client can know the twin is there (the kubeconfig)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    write_password_file(args.kubeconfig, password)  # before the kubeconfig: readers wait for that one
    kubeconfig.write(args.kubeconfig, kubeconfig.render(port, cert.ca_pem, twin.token))
    logging.getLogger("twin").warning(
        "twin serving on https://127.0.0.1:%d (%d kinds, ready in %.2fs); kubeconfig %s",
        port, len(twin.registry.kinds()), time.monotonic() - started, args.kubeconfig)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
