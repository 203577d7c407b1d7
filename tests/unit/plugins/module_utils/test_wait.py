# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/wait.py with a fake clock: no real sleeping."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.errors import WaitTimeout
from ansible_collections.homelab.harvester.plugins.module_utils.wait import WaitFailed, should_wait, until


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_state_that_is_done_with_growing_pauses():
    fake = FakeClock()
    states = iter([1, 2, 3, 4])
    assert until(lambda: next(states), lambda s: s == 4, timeout=10, clock=fake.clock, sleep=fake.sleep) == 4
    assert fake.sleeps == [0.1, 0.2, 0.4]


def test_a_state_in_hand_costs_no_read():
    reads = []
    assert until(lambda: reads.append(1), lambda s: s == "ready", timeout=1, first="ready") == "ready"
    assert reads == []


def test_timeout_reports_the_last_state_seen():
    fake = FakeClock()
    with pytest.raises(WaitTimeout) as e:
        until(lambda: {"ready": "false"}, lambda s: False, timeout=3, what="network default/x to be ready",
              describe=lambda s: f"ready={s['ready']}", clock=fake.clock, sleep=fake.sleep)
    assert str(e.value) == "timed out after 3 s waiting for network default/x to be ready; last seen: ready=false"
    assert e.value.as_dict() == {"last_seen": "ready=false", "elapsed": 3.0}
    assert fake.now == 3 and max(fake.sleeps) <= 2.0


def test_terminal_failure_stops_early():
    fake = FakeClock()
    with pytest.raises(WaitFailed) as e:
        until(lambda: None, lambda s: s == "imported", timeout=60, what="the image", failed=lambda s: "it was deleted" if s is None else None,
              describe=lambda s: "gone", first="importing", clock=fake.clock, sleep=fake.sleep)
    assert str(e.value) == "gave up waiting for the image: it was deleted"
    assert fake.now < 1


def test_a_failure_that_clears_within_failed_for_is_waited_through():
    fake = FakeClock()
    states = iter(["refused", "refused", "connected", "ready"])
    state = until(lambda: next(states), lambda s: s == "ready", timeout=60, failed=lambda s: "500" if s == "refused" else None,
                  failed_for=5, clock=fake.clock, sleep=fake.sleep)
    assert state == "ready"


def test_a_failure_that_holds_for_failed_for_ends_the_wait_then():
    fake = FakeClock()
    with pytest.raises(WaitFailed) as e:
        until(lambda: "refused", lambda s: False, timeout=60, what="the cluster", failed=lambda s: "401 Unauthorized",
              failed_for=5, clock=fake.clock, sleep=fake.sleep)
    assert str(e.value) == "gave up waiting for the cluster: 401 Unauthorized"
    assert 5 <= fake.now < 8


@pytest.mark.parametrize("wait, dry_run, expected", [
    (True, False, True), (None, False, True), (False, False, False), (True, True, False), (None, True, False)])
def test_should_wait_reads_check_mode_from_the_client(wait, dry_run, expected):
    params = {} if wait is None else {"wait": wait}
    assert should_wait(SimpleNamespace(dry_run=dry_run), params) is expected
