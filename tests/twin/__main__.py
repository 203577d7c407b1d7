"""python -m tests.twin --port PORT --kubeconfig FILE [--crds DIR]... [--speed FACTOR] [--lab INVENTORY] [--admin-password PW]
    [--nas DIR] [--without-provider NAME]... [--bare [--amt-tls] [--amt-password PW] [--pxe-url URL]]

Serves a stand-in for a Harvester cluster's Kubernetes API over TLS on 127.0.0.1:PORT
(PORT 0 picks a free one) and writes FILE once it serves (and the admin password next to it, as
admin-password, before it; with --bare, amt-endpoints.yml, tinkerbell-kubeconfig and hooks-url too:
the kubeconfig then names the VIP, which listens only while a cluster is installed). Runs
until SIGINT or SIGTERM. It never connects to any address but 127.0.0.1 (loopback_guard.py).
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

from . import kubeconfig, lab_inventory, loopback_guard
from .metal import MetalError, amt_password, nas
from .metal.listener import SwitchedListener
from .registry import PROVIDER_GROUPS
from .server import Twin
from .steve.login import write_password_file
from .tls import make_serving_cert

TINKERBELL_KUBECONFIG = "tinkerbell-kubeconfig"
HOOKS_URL = "hooks-url"  # --bare: where /_twin/* answers while nothing listens at the VIP


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
    p.add_argument("--nas", type=Path, default=None,
                   help="the lab NAS's web root: http://<lab_nfs.server>/<path> is answered from DIR/<path>")
    p.add_argument("--without-provider", action="append", default=[], choices=sorted(PROVIDER_GROUPS),
                   help="leave this Cluster API provider's API group out (repeatable)")
    p.add_argument("--bare", action="store_true",
                   help="bare metal: no node installed, an Intel AMT per node of --lab, the API up once the "
                        "create node is installed")
    p.add_argument("--amt-tls", action="store_true", help="--bare: the AMT endpoints speak HTTPS (self-signed)")
    p.add_argument("--amt-password", default=None,
                   help="--bare: the AMT password (default: the inventory's vault_amt_password)")
    p.add_argument("--pxe-url", default=None,
                   help="--bare: the DHCP filename the nodes boot (default http://<lab_nfs.server>/harvester/boot.ipxe)")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    for d in args.crds:
        if not d.is_dir():
            p.error(f"--crds {d}: not a directory")
    if args.speed <= 0:
        p.error("--speed must be positive")
    if args.nas is not None and not args.nas.is_dir():
        p.error(f"--nas {args.nas}: not a directory")
    if args.bare and args.lab is None:
        p.error("--bare needs --lab (the inventory whose nodes the twin plays)")
    if not args.bare and (args.amt_tls or args.amt_password or args.pxe_url):
        p.error("--amt-tls, --amt-password and --pxe-url go with --bare")
    args.lab_docs = None
    args.nas_host = nas.DEFAULT_NAS
    if args.lab is not None:
        try:
            args.lab_docs = lab_inventory.documents(args.lab)
            nfs = lab_inventory.load(args.lab)[0]["_all"].get("lab_nfs")
        except lab_inventory.LabInventoryError as e:
            p.error(f"--lab {args.lab}: {e}")
        if isinstance(nfs, dict) and nfs.get("server"):
            args.nas_host = str(nfs["server"])
    if args.bare:  # the AMT password is known before anything starts
        inventory = lab_inventory.load(args.lab)
        try:
            for node in inventory:
                amt_password(inventory, args.lab, node, args.amt_password)
        except MetalError as e:
            p.error(f"--bare --lab {args.lab}: {e}")
    return args


async def serve(args: argparse.Namespace) -> None:
    started = time.monotonic()
    password = args.admin_password or secrets.token_urlsafe(12)
    bare = None
    if args.bare:
        bare = {"inventory_path": args.lab, "amt_tls": args.amt_tls, "amt_password_flag": args.amt_password,
                "pxe_url": args.pxe_url}
    try:
        twin = Twin(args.token or secrets.token_urlsafe(32), args.crds, args.speed, args.lab_docs, admin_password=password,
                    outside=nas.Outside(args.nas_host, args.nas), bare=bare,
                    without_groups=tuple(g for name in args.without_provider for g in PROVIDER_GROUPS[name]))
    except MetalError as e:
        print(f"python -m tests.twin: error: --bare --lab {args.lab}: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    cert = make_serving_cert()
    twin.ca_pem = cert.ca_pem
    # open watches must not hold a stop for aiohttp's default 60 s
    runner = web.AppRunner(twin.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, ssl_context=cert.ssl_context(), backlog=512)
    await site.start()
    port = runner.addresses[0][1]
    api_port = port
    extra_runners = []
    if twin.metal is not None:
        # the kubeconfig names the VIP, which listens only while a cluster is installed; the hooks
        # stay on this port (metal/listener.py)
        twin.metal.vip = SwitchedListener(twin.app(), cert.ssl_context())
        api_port = await twin.metal.vip.start(listening=False)
        (args.kubeconfig.parent / HOOKS_URL).write_text(f"https://127.0.0.1:{port}\n", encoding="utf-8")
        await twin.metal.start()
        twin.metal.write_files(args.kubeconfig.parent)
        # the Tinkerbell cluster's API: the same store, answering while the Harvester API is down
        tink = web.AppRunner(twin.app(always_up=True), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await tink.setup()
        tink_site = web.TCPSite(tink, "127.0.0.1", 0, ssl_context=cert.ssl_context(), backlog=128)
        await tink_site.start()
        extra_runners.append(tink)
        kubeconfig.write(args.kubeconfig.parent / TINKERBELL_KUBECONFIG,
                         kubeconfig.render(tink.addresses[0][1], cert.ca_pem, twin.token))
    # stop cleanly from the moment a client can know the twin is there (the kubeconfig)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    write_password_file(args.kubeconfig, password)  # before the kubeconfig: readers wait for that one
    kubeconfig.write(args.kubeconfig, kubeconfig.render(api_port, cert.ca_pem, twin.token))
    logging.getLogger("twin").warning(
        "twin serving on https://127.0.0.1:%d (%d kinds, ready in %.2fs); kubeconfig %s",
        port, len(twin.registry.kinds()), time.monotonic() - started, args.kubeconfig)
    await stop.wait()
    if twin.metal is not None:
        await twin.metal.stop()
    for extra in extra_runners:
        await extra.cleanup()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    loopback_guard.install()  # before anything can open a socket
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.bare:
        logging.getLogger("twin.metal").setLevel(min(logging.INFO, logging.getLogger().level))
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
