# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_image_info against a real twin process, called in process as its action plugin calls
it (tests/modules/runner.py): the images read back in one request each, filtered by label and name,
across namespaces; check mode reads the same; bad input refused without a request."""

from __future__ import annotations

import pytest

from tests.catalogue.harvester_image_info import BAD_INPUTS
from tests.integration.image_files import DISK_SHA512
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, writes

TWIN_ARGS = ["--speed", "50"]  # the image controller backs off 10 s between retries
pytestmark = [pytest.mark.twin]

MODULE = "harvester_image_info"
MANAGED = {"app.kubernetes.io/managed-by": "homelab.harvester.storage"}


def make_images(twin, files):
    tasks = [{"name": "talos", "url": f"{files}/disk.img", "checksum": DISK_SHA512, "labels": MANAGED},
             {"name": "scratch", "url": f"{files}/disk.img", "display_name": "scratch-copy"}]
    results, dummy = run_tasks(twin, "harvester_image", tasks)
    assert not any(r.get("failed") for r in results), results


def test_lists_filters_and_reads_once(twin, files):
    make_images(twin, files)
    (every, managed, one, missing), reqs = run_tasks(twin, MODULE, [
        {}, {"namespace": None, "label_selector": "app.kubernetes.io/managed-by=homelab.harvester.storage"},
        {"name": "talos"}, {"name": "nope"}])
    assert [i["name"] for i in every["images"]] == ["scratch", "talos"] and every["changed"] is False
    assert [(i["namespace"], i["name"]) for i in managed["images"]] == [("default", "talos")]
    (talos,) = one["images"]
    assert (talos["url"], talos["source_type"], talos["imported"], talos["progress"], talos["failure"]) == (
        f"{files}/disk.img", "download", True, 100, None)
    assert talos["labels"]["app.kubernetes.io/managed-by"] == "homelab.harvester.storage"
    assert missing["images"] == []
    assert [r["method"] for r in reqs] == ["GET"] * 4 and writes(reqs) == []


def test_check_mode_reads_the_same(twin, files):
    make_images(twin, files)
    (result,), reqs = run_tasks(twin, MODULE, [{"label_selector": "app.kubernetes.io/managed-by"}], check=True)
    assert [i["name"] for i in result["images"]] == ["talos"] and writes(reqs) == []


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = run_tasks(twin, MODULE, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
