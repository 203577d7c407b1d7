"""Controllers of the longhorn area (to be written)."""
from __future__ import annotations

CONTROLLERS: list = []
