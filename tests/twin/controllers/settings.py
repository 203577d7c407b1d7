"""Controllers of the settings area (to be written)."""
from __future__ import annotations

CONTROLLERS: list = []
