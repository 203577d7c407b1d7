"""Time in the twin: wall-clock timestamps for metadata and a `--speed` factor for controllers.

Controllers wait through `Clock.sleep`, so `--speed 10` makes a 30 s image import take 3 s and
keeps every transition in the same order at any speed.
"""
from __future__ import annotations

import asyncio
import datetime as _dt


def rfc3339(when: _dt.datetime | None = None) -> str:
    when = when or _dt.datetime.now(_dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    def __init__(self, speed: float = 1.0):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed

    def now(self) -> str:
        return rfc3339()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)
