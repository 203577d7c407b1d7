# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/amt_power.py: which RequestPowerStateChange value each state
sends from on and from off (none where nothing changes), a change AMT does not offer from the
current state refused by name before it is sent, and the wait's message when AMT never reports
the state asked for."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import amt, amt_power
from ansible_collections.homelab.harvester.plugins.module_utils.errors import WaitTimeout
from ansible_collections.homelab.harvester.plugins.module_utils.progress import Progress

ON, OFF = amt.PowerState(2, (10, 8, 5)), amt.PowerState(8, (2,))


@pytest.mark.parametrize("state, current, code", [
    ("on", OFF, 2), ("on", ON, None), ("off", ON, 8), ("off", OFF, None), ("cycle", ON, 5), ("cycle", OFF, 2),
    ("reset", ON, 10), ("reset", OFF, 2), ("status", ON, None), ("status", OFF, None)])
def test_plan(state, current, code):
    assert amt_power.plan(state, current) == code


class Module:
    def __init__(self, **params):
        self.params = {"host": "10.10.10.31", "state": "on", "pxe": False, "wait": True, "wait_timeout": 0.01, **params}
        self.check_mode = False
        self.progress = Progress()


class Client:
    endpoint = "https://10.10.10.31:16993/wsman"

    def __init__(self, *states):
        self.states = list(states)
        self.sent = []

    def power_state(self):
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def request_power_state_change(self, code):
        self.sent.append(code)


def test_a_change_amt_does_not_offer_is_refused_before_it_is_sent():
    client = Client(amt.PowerState(2, (8, 10)))
    with pytest.raises(amt.AmtError) as e:
        amt_power._run(Module(state="cycle"), client)
    assert str(e.value) == ("AMT at https://10.10.10.31:16993/wsman offers no change to 5 (power cycle (off soft)) while the "
                            "host is on (state 2); it offers: 8 (off (soft)), 10 (master bus reset)")
    assert client.sent == []


def test_the_wait_names_what_amt_reports():
    client = Client(OFF, OFF)
    with pytest.raises(WaitTimeout, match=r"waiting for AMT 10.10.10.31 to report power on; last seen: power state 8 \(off\)"):
        amt_power._run(Module(), client)
    assert client.sent == [2]
