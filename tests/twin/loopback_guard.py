"""The twin's promise that it never opens a connection to any address but 127.0.0.1, enforced
in its own process.

`install()` (called by `python -m tests.twin` before anything else runs) adds an audit hook
(PEP 578) on the `socket.connect` event: a TCP/UDP connect to an address outside the loopback
network (127.0.0.0/8, ::1) is refused with PermissionError before the packet leaves, and logged
as one line `loopback guard: refused a connection to <host>:<port>`. Unix sockets pass.

The twin's own code never gets that far: the NAS model, the unreachable-host model
(`metal/nas.py`), the backup-store table (`backup_stores.py`) and the Rufio controller's routing
answer every non-loopback address without a socket. The guard is the proof: a test that drives
those paths with non-loopback URLs finds no such line in the twin's log
(tests/twin/tests/test_outside.py), and one that connects past them finds the refusal.
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import sys

log = logging.getLogger("twin.loopback_guard")
MESSAGE = "loopback guard: refused a connection to %s:%s (the twin connects to 127.0.0.1 only)"
_installed = False


def is_loopback(host: str) -> bool:
    """127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z); the name `localhost` too."""
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _hook(event: str, args: tuple) -> None:
    if event != "socket.connect":
        return
    sock, address = args[0], args[1]
    if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
        return
    if not isinstance(address, tuple) or not address:
        return
    host, port = str(address[0]), address[1] if len(address) > 1 else ""
    if is_loopback(host):
        return
    log.error(MESSAGE, host, port)
    raise PermissionError(errno.EACCES, f"the twin connects to 127.0.0.1 only, not {host}:{port}")


def install() -> None:
    """Add the hook to this process (once; audit hooks cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
