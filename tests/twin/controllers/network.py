"""Controllers of the network area (to be written)."""
from __future__ import annotations

CONTROLLERS: list = []
