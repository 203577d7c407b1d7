"""Webhooks of the network area (to be written)."""
from __future__ import annotations

from . import Chain


def register(chain: Chain) -> None:
    """Add this area's mutating and validating hooks to the chain."""
