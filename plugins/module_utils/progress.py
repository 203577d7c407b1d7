# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a long wait reports while it waits: one event per change of state, in the order the
cluster went through them, each with the time the cluster gave for it (a condition's
``lastTransitionTime``) or, when the object carries none, the time the module saw it.

Both ways a task runs keep the events for the result's ``progress`` list; in the worker (the
in-process path) a ``sink`` also prints each one as it happens::

    progress = Progress(sink=lambda event: display.display(...))
    wait.until(read, done, timeout=600, what="image default/talos to be imported",
               progress=progress, stage=image.stage)   # stage(obj) -> "importing 45%" or (text, time)
"""

from __future__ import annotations

import time


def now():
    """The current UTC time the way Kubernetes writes it (RFC 3339, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Progress:
    """An ordered list of ``{"at": time, "msg": text}``; the same text twice in a row is one event."""

    __slots__ = ("events", "sink", "_last")

    def __init__(self, sink=None):
        self.events = []
        self.sink = sink
        self._last = None

    def report(self, message, at=None):
        """Record ``message`` unless it repeats the last one; ``at``: when the cluster says it happened."""
        if not message or message == self._last:
            return
        self._last = message
        event = {"at": at or now(), "msg": message}
        self.events.append(event)
        if self.sink is not None:
            self.sink(event)

    def stage(self, stage, state):
        """Report what ``stage(state)`` says of a state: a text, a ``(text, time)`` pair, a list
        of either (several events seen in one read, oldest first), or ``None`` (nothing to say)."""
        if stage is None:
            return
        said = stage(state)
        for item in said if isinstance(said, list) else [said]:
            if isinstance(item, tuple):
                self.report(*item)
            else:
                self.report(item)

    def __len__(self):
        return len(self.events)
