"""Watch events and watchers: how a change reaches each open watch, as the apiserver's watch
cache reports it (the store keeps the history and fans events out)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

Key = tuple[str, str]  # (group, plural)


@dataclass
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    key: Key
    obj: dict
    old: dict | None = None


@dataclass(eq=False)  # identity semantics: watchers live in a set
class Watcher:
    key: Key
    namespace: str | None
    predicate: Callable[[dict], bool]
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)

    def offer(self, ev: Event) -> None:
        """Queue the event as this watcher sees it: a change that moves an object into or out of
        the selection is an ADDED or DELETED, as the apiserver's watch cache reports it."""
        if ev.key != self.key:
            return
        if self.namespace and ev.obj["metadata"].get("namespace") != self.namespace:
            return
        now = self.predicate(ev.obj)
        was = self.predicate(ev.old) if ev.old is not None else now
        if ev.type == "MODIFIED":
            if now and not was:
                self.queue.put_nowait(("ADDED", ev.obj))
            elif was and not now:
                self.queue.put_nowait(("DELETED", ev.obj))
            elif now:
                self.queue.put_nowait(("MODIFIED", ev.obj))
        elif now:
            self.queue.put_nowait((ev.type, ev.obj))
