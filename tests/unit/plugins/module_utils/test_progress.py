# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/progress.py: one event per change of state, per thing followed, in order,
with the cluster's time when it gives one; what ``wait.until`` reports while it polls."""

from __future__ import annotations

from ansible_collections.homelab.harvester.plugins.module_utils import progress, wait
from ansible_collections.homelab.harvester.plugins.module_utils.progress import Progress


def test_a_repeated_message_of_the_same_key_is_one_event_and_the_sink_sees_each_once():
    shown = []
    p = Progress(sink=shown.append, now=lambda: 0)
    for text in ("a: 10%", "a: 10%", "a: 50%"):
        p.report(text)
    p.report("node 1 Pre-draining", key="node/1")
    p.report("a: 50%")  # the same text again for the default key: nothing new
    p.report("node 1 Pre-draining", key="node/1")
    p.report("done", time="2026-12-06T10:00:00Z", state="Succeeded")
    assert p.events == [{"time": "1970-01-01T00:00:00Z", "msg": "a: 10%"}, {"time": "1970-01-01T00:00:00Z", "msg": "a: 50%"},
                        {"time": "1970-01-01T00:00:00Z", "msg": "node 1 Pre-draining"},
                        {"time": "2026-12-06T10:00:00Z", "msg": "done", "state": "Succeeded"}]
    assert shown == p.events


def test_percent_stage_names_the_object_and_uses_the_condition_time_once_done():
    def stage(obj):
        return progress.percent("image", obj, lambda o: o["status"].get("progress") == 100, "imported", "Imported")
    meta = {"metadata": {"namespace": "default", "name": "talos"}}
    assert stage(None) is None
    assert stage(dict(meta, status={})) == "image default/talos: waiting"
    assert stage(dict(meta, status={"progress": 45})) == "image default/talos: 45%"
    done = dict(meta, status={"progress": 100, "conditions": [{"type": "Imported", "lastTransitionTime": "2026-12-06T10:00:09Z"}]})
    assert stage(done) == ("image default/talos: imported", "2026-12-06T10:00:09Z")


def test_until_reports_every_state_it_sees_in_order():
    states = iter([10, 60, 60, 100])
    p = Progress(now=lambda: 0)
    wait.until(lambda: next(states), lambda s: s == 100, timeout=10, sleep=lambda s: None, progress=p,
               stage=lambda s: [f"copy {s}%", ("checked", "2026-12-06T10:00:00Z")] if s == 100 else f"copy {s}%")
    assert [e["msg"] for e in p.events] == ["copy 10%", "copy 60%", "copy 100%", "checked"]
    assert p.events[-1]["time"] == "2026-12-06T10:00:00Z"
