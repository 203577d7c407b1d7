# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_image.py: the argument spec and the input checks
through AnsibleModule, with the client mocked. Bad input must fail before the client is built."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_image
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

SHA = "0f" * 64
URL = "http://files.lab/disk.img"


def run_module(args, client=None):
    """Run the module with ``args``; returns (kind, result, Client class mock)."""
    return run(harvester_image, args, client)


@pytest.mark.parametrize("args, message", [
    ({"name": "talos"}, "url: is required when source_type is download"),
    ({"name": "talos", "url": URL, "checksum": "deadbeef"}, "checksum: 'deadbeef' is not a sha512 checksum"),
    ({"name": "talos", "url": URL, "checksum": SHA.upper()}, "is not a sha512 checksum"),
    ({"name": "talos", "source_type": "upload", "url": URL}, "url: only with source_type download"),
    ({"name": "talos", "source_type": "upload", "checksum": SHA}, "checksum: only with source_type download"),
    ({"name": "talos", "source_type": "restore", "url": URL}, "value of source_type must be one of: download, upload, got: restore"),
    ({"name": "talos", "url": "s3://bucket/disk.img"}, "url: 's3://bucket/disk.img' is not an http:// or https:// URL"),
    ({"name": "Talos_1", "url": URL}, "name: 'Talos_1' is not a valid name"),
    ({"name": "talos", "namespace": "Lab", "url": URL}, "namespace: 'Lab' is not a valid name"),
    ({"name": "talos", "display_name": "Talos Linux 1.11", "url": URL},
     "display_name: 'Talos Linux 1.11' is not a valid label value"),
    ({"name": "talos", "url": URL, "labels": {"os": "talos/linux"}}, "labels.os: 'talos/linux' is not a valid label value"),
    ({"name": "talos", "url": URL, "wait_timeout": -5}, "wait_timeout: -5 must be more than 0"),
    ({"name": "talos", "url": URL, "wait": "sometimes"}, "argument 'wait' is of type str and we were unable to convert to bool"),
    ({"url": URL}, "missing required arguments: name"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def imported(body):
    return dict(body, metadata=dict(body["metadata"], uid="u1", resourceVersion="1"),
                status={"progress": 100, "size": 1234, "storageClassName": "lh-u1",
                        "conditions": [{"type": "Imported", "status": "True", "reason": "Imported"}]})


def test_present_creates_and_returns_progress_size_and_storage_class():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    c.create.side_effect = lambda path, body: imported(body)
    kind, result, client_class = run_module({"name": "talos", "url": URL, "checksum": SHA}, client=c)
    assert kind == "exit" and result["changed"] is True, result
    assert (result["percent"], result["size"], result["storage_class_name"]) == (100, 1234, "lh-u1")
    assert result["image"]["spec"]["checksum"] == SHA and "diff" not in result
    [(path, body)] = [call.args for call in c.create.call_args_list]
    assert path == "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages"
    assert body["spec"] == {"displayName": "talos", "sourceType": "download", "url": URL, "checksum": SHA}
    assert c.get.call_count == 1  # the create's answer is already imported: no extra read


def test_failed_import_fails_with_harvesters_message():
    c = Mock(spec=Client)
    c.dry_run = False
    msg = "retry attempted 3/3 failed due to error: failed to process sync file: boom"
    c.get.return_value = None
    c.create.side_effect = lambda path, body: dict(body, metadata=dict(body["metadata"], resourceVersion="1"), status={
        "failed": 4, "conditions": [{"type": "Imported", "status": "False", "message": msg},
                                    {"type": "RetryLimitExceeded", "status": "True", "message": msg}]})
    kind, result, dummy = run_module({"name": "talos", "url": URL}, client=c)
    assert kind == "fail"
    assert result["msg"] == f"gave up waiting for image default/talos to be imported: {msg}"
