# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a long wait reports while it waits: one event per change of state, in the order the
cluster went through them, each with the time the cluster gave for it (a condition's
``lastTransitionTime``, a backup's ``readyToUse`` time) or, when the object carries none, the
time the module saw it.

Both ways a task runs keep the events for the result's ``progress`` list; in the worker (the
in-process path) a ``sink`` also prints each one as it happens. The task's ``Progress`` travels
with its ``Client`` (``client.progress``), which every flow already holds::

    wait.until(read, done, timeout=600, what="image default/talos to be imported",
               progress=client.progress, stage=image.stage)   # stage(obj) -> "image default/talos: 45%"

An event is ``{"time": ..., "msg": ...}`` plus the fields a kind adds (the upgrade's ``state``
and ``node``, for example).
"""

from __future__ import annotations

import time as _time

from .objects import condition, metadata


def stamp(seconds=None):
    """A time the way Kubernetes writes it (RFC 3339 UTC, seconds); now by default."""
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(_time.time() if seconds is None else seconds))


class Progress:
    """The ordered events of one task. ``report`` drops a message that repeats the last one of
    its ``key`` (one key per thing followed: the phase, each node, ...)."""

    __slots__ = ("events", "sink", "now", "_last")

    def __init__(self, sink=None, now=None):
        self.events = []
        self.sink = sink
        self.now = now or _time.time
        self._last = {}

    def report(self, text, time=None, key=None, **fields):
        """Record ``text`` (with ``fields``) unless it repeats the last one of ``key``."""
        if not text or self._last.get(key) == text:
            return
        self._last[key] = text
        event = {"time": time or stamp(self.now()), "msg": text}
        event.update(fields)
        self.events.append(event)
        if self.sink is not None:
            self.sink(event)

    def stage(self, stage, state):
        """Report what ``stage(state)`` says of a state: a message, a ``(message, time)`` pair, a
        list of either (several changes seen in one read, oldest first), or ``None``."""
        if stage is None:
            return
        said = stage(state)
        for item in said if isinstance(said, list) else [said]:
            if isinstance(item, tuple):
                self.report(*item)
            elif item:
                self.report(item)


def condition_time(obj, type_):
    """When the cluster says condition ``type_`` of ``obj`` last changed (``lastTransitionTime``,
    else ``lastUpdateTime``), or ``None``."""
    cond = condition(obj, type_)
    return cond.get("lastTransitionTime") or cond.get("lastUpdateTime")


def percent(noun, obj, done, done_word, done_condition):
    """The stage of an object that reports ``status.progress`` in percent: ``"<noun> <ns>/<name>: 45%"``
    while it works, ``"<noun> <ns>/<name>: <done_word>"`` (at the time of ``done_condition``) once
    ``done(obj)``."""
    if obj is None:
        return None
    meta = metadata(obj)
    label = f"{noun} {meta.get('namespace')}/{meta.get('name')}"
    if done(obj):
        return (f"{label}: {done_word}", condition_time(obj, done_condition))
    value = ((obj.get("status") or {}).get("progress"))
    return f"{label}: {value}%" if value is not None else f"{label}: waiting"
