# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_health_info against a real twin process, called in process as its action plugin calls
it (tests/modules/runner.py): a healthy lab reports no problem in one read per kind, sections limit
what is read, bad input is refused without a request. playbooks/health.yml, which names the
problems and fails, is in tests/integration/test_harvester_health_info_playbook.py; module_defaults
in test_action_group.py, AWX credentials in test_awx_credential_env.py, both execution paths in
test_parity.py."""

from __future__ import annotations

import pytest

from tests.catalogue.harvester_health_info import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_health_info"


def test_module_reports_a_healthy_lab_in_one_read_per_kind(twin):
    (result,), reqs = run_tasks(twin, MODULE, [{}])
    assert result["healthy"] is True and result["problems"] == [], result["problems"]
    assert [n["name"] for n in result["nodes"]] == ["ms02-1", "ms02-2", "ms02-3"]
    assert {v["pvc"]: v["robustness"] for v in result["volumes"]}["default/lab-dns-rootdisk"] == "healthy"
    assert result["settings"]["server-version"]["effective"] == "v1.8.2"
    assert writes(reqs) == [] and len(reqs) == len({r["path"] for r in reqs})


def test_sections_limit_what_is_read(twin):
    (result,), reqs = run_tasks(twin, MODULE, [{"sections": ["volumes"]}])
    assert "nodes" not in result and "volumes" in result
    assert [r["path"] for r in reqs] == ["/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"]


LONGHORN_NODES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes"


def disable_scheduling(twin, node):
    twin.session().patch(twin.url(f"{LONGHORN_NODES}/{node}"), json={"spec": {"allowScheduling": False}},
                         headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()


def test_longhorn_nodes_with_scheduling_disabled_are_problems_one_and_all(twin):
    disable_scheduling(twin, "ms02-2")
    (one,), dummy = run_tasks(twin, MODULE, [{"sections": ["nodes"]}])
    assert one["healthy"] is False
    assert one["problems"] == ["node ms02-2: Longhorn node has scheduling disabled (spec.allowScheduling false): "
                               "no new replica goes there"]
    for node in ("ms02-1", "ms02-3"):
        disable_scheduling(twin, node)
    (every,), dummy = run_tasks(twin, MODULE, [{"sections": ["nodes"]}])
    assert len(every["problems"]) == 4
    assert every["problems"][-1] == "Longhorn: scheduling is disabled on every node (3): no volume can get a new replica"


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = run_tasks(twin, MODULE, [a for a, m in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
