"""Catalogue of homelab.harvester.harvester_image (see tests/catalogue/__init__.py)."""
from __future__ import annotations

from tests.integration.image_files import DISK_SHA512

BAD_INPUTS = [
    ({"name": "talos", "checksum": "abc123"}, "url: is required when source_type is download"),
    ({"name": "talos", "url": "http://x/disk.img", "checksum": "abc123"}, "checksum: 'abc123' is not a sha512 checksum"),
    ({"name": "talos", "url": "http://x/disk.img", "checksum": DISK_SHA512.upper()}, "is not a sha512 checksum"),
    ({"name": "talos"}, "url: is required when source_type is download"),
    ({"name": "talos", "source_type": "upload", "url": "http://x/disk.img"}, "url: only with source_type download"),
    ({"name": "talos", "url": "ftp://x/disk.img"}, "url: 'ftp://x/disk.img' is not an http:// or https:// URL"),
    ({"name": "talos", "url": "http:///disk.img"}, "url: 'http:///disk.img' has no host"),
    ({"name": "talos", "url": "http://10.10.10.20:99999/images/talos.raw"},
     "url: 'http://10.10.10.20:99999/images/talos.raw' has an invalid port (a number from 1 to 65535)"),
    ({"name": "Talos", "url": "http://x/disk.img"}, "name: 'Talos' is not a valid name"),
    ({"name": "talos", "namespace": "my_ns", "url": "http://x/d"}, "namespace: 'my_ns' is not a valid name"),
    ({"name": "talos", "display_name": "Talos Linux", "url": "http://x/d"},
     "display_name: 'Talos Linux' is not a valid label value"),
    ({"name": "talos", "display_name": "", "url": "http://x/d"}, "display_name: must not be empty"),
    ({"name": "talos", "url": "http://x/d", "labels": {"harvesterhci.io/imageDisplayName": "x"}},
     "labels: harvesterhci.io/imageDisplayName is set by Harvester from display_name"),
    ({"name": "talos", "url": "http://x/d", "labels": {"os": "talos linux"}}, "labels.os: 'talos linux' is not a valid label value"),
    ({"name": "talos", "url": "http://x/d", "source_type": "clone"}, "value of source_type must be one of: download, upload"),
    ({"name": "talos", "url": "http://x/d", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
]


def steps(ctx):
    from tests.catalogue import Step
    talos = {"name": "talos-1.11", "display_name": "talos-v1.11.5", "url": f"{ctx.files}/disk.img", "checksum": DISK_SHA512,
             "description": "Talos nocloud", "labels": {"os": "talos"}, "wait_timeout": 60}
    return [
        Step(talos, diff=True, name="create"),
        Step(talos, name="no-op"),
        Step(dict(talos, description="v2"), check=True, diff=True, name="check mode change"),
        Step(dict(talos, description="", labels={"os": "talos-linux", "tier": "base"}), diff=True, name="change"),
        Step(dict(talos, name="talos-copy"), name="refused by Harvester (display name taken)"),
        Step(talos, fault={"method": "GET", "path": "virtualmachineimages/talos-1.11$", "status": 403}, name="API failure"),
        Step({"name": "talos-1.11", "state": "absent", "wait_timeout": 30}, diff=True, name="delete"),
    ]
