"""Controllers of the image area (to be written)."""
from __future__ import annotations

CONTROLLERS: list = []
