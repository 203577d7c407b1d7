"""The areas of Harvester, Longhorn and network-controller behaviour the twin reproduces.

Each area brings a `register(chain)` for its webhooks (admission/<area>.py) and controller
classes (controllers/<area>.py). Order matters where the real cluster has an order: mutating
webhooks run in registration order.
"""
from __future__ import annotations

ADMISSION: list = []
CONTROLLERS: list = []
