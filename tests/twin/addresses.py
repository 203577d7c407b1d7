"""IP address text, as the webhooks, the backup-store table and the NAS router read it."""
from __future__ import annotations

import ipaddress


def is_ip(text: str) -> bool:
    """Whether text is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
