# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for the cluster: poll ``read()`` until ``done(state)``, with a timeout, a short
first interval that grows (controllers usually answer within a second), an early stop on a
terminal failure, and a message that says what was last seen::

    nad = wait.until(lambda: client.get(path), vm_network.ready, timeout=60,
                     what="network default/vlan30 to be ready", describe=vm_network.summary)

Pure Python; clock and sleep are injectable so unit tests never sleep.
"""

from __future__ import annotations

import time

from .errors import HarvesterError, WaitTimeout

_UNSET = object()


class WaitFailed(HarvesterError):
    """The awaited condition can no longer hold (a terminal state was seen)."""

    def __init__(self, message, last_seen=None):
        super().__init__(message)
        self.last_seen = last_seen

    def as_dict(self):
        return {"last_seen": self.last_seen} if self.last_seen is not None else {}


def should_wait(client, params):
    """Whether a flow waits for the cluster: the task asks for it (``wait``, default yes) and its
    writes are stored. In check mode the client's writes are dry runs: nothing stored can become
    ready, so no flow waits -- this is where flows read that from the client."""
    return bool(params.get("wait", True)) and not client.dry_run


def until(read, done, *, timeout, what="the condition", failed=None, describe=None, first=_UNSET,
          interval=0.1, max_interval=2.0, clock=None, sleep=None, progress=None, stage=None, failed_for=0.0):
    """Poll and return the first state for which ``done(state)`` is true.

    ``read()``: the current state (e.g. a GET). ``first``: a state already in hand (the answer
    of the write just made), checked before any read, so a condition that already holds costs
    no request. ``failed(state)``: a message when the state is terminal, which raises
    ``WaitFailed`` at once (or once it has held ``failed_for`` seconds). ``describe(state)``: a short text for messages (default ``repr``).
    ``progress`` (a ``progress.Progress``) gets what ``stage(state)`` says of every state seen.
    ``failed_for``: seconds the same ``failed`` message must hold before it is terminal, for
    controllers that report an error and then retry (a condition False for one failed attempt).
    Raises ``WaitTimeout`` with the last state seen after ``timeout`` seconds."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    describe = describe or repr
    start = clock()
    state = read() if first is _UNSET else first
    pause = interval
    held = None  # (message, since when) of the failure seen in a row
    while True:
        if progress is not None:
            progress.stage(stage, state)
        if done(state):
            return state
        reason = failed(state) if failed is not None else None
        held = (reason, held[1] if held and held[0] == reason else clock()) if reason else None
        if reason and clock() - held[1] >= failed_for:
            raise WaitFailed(f"gave up waiting for {what}: {reason}", last_seen=describe(state))
        elapsed = clock() - start
        if elapsed >= timeout:
            seen = describe(state)
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}; last seen: {seen}",
                              last_seen=seen, elapsed=elapsed)
        sleep(min(pause, max(0.0, timeout - elapsed)))
        pause = min(max_interval, pause * 2)
        state = read()
