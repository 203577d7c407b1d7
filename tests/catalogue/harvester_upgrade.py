"""Catalogue of homelab.harvester.harvester_upgrade (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({}, "one of the following is required: version, image"),
    ({"version": "v1.9.0", "image": "default/iso"}, "parameters are mutually exclusive: version|image"),
    ({"version": "V1.9.0"}, "version: 'V1.9.0' is not a valid name"),
    ({"image": "harvester-iso"}, "image: 'harvester-iso' is not <namespace>/<name> of a VirtualMachineImage"),
    ({"image": "Default/iso"}, "image namespace: 'Default' is not a valid name"),
    ({"version": "v1.9.0", "iso_url": "ftp://nas/harvester.iso"}, "iso_url: 'ftp://nas/harvester.iso' is not an http:// or https:// URL"),
    ({"version": "v1.9.0", "iso_url": "http://nas/h.iso", "iso_checksum": "abc"}, "iso_checksum: 'abc' is not a sha512 checksum"),
    ({"version": "v1.9.0", "iso_checksum": "a" * 128}, "iso_checksum: only with iso_url"),
    ({"image": "default/iso", "iso_url": "http://nas/h.iso"}, "iso_url: only with version"),
    ({"version": "v1.9.0", "release_date": "20260806"}, "release_date: only with iso_url"),
    ({"version": "v1.9.0", "iso_url": "http://nas/h.iso", "state": "absent"}, "iso_url: only with state=present"),
    ({"version": "v1.9.0", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
    ({"version": "v1.9.0", "state": "started"}, "value of state must be one of: present, absent, got: started"),
]


def steps(ctx):
    from tests.catalogue import Step
    from tests.integration.image_files import DISK_SHA512
    node = "homelab.harvester.harvester_node"
    to = {"version": "v1.9.0", "iso_url": f"{ctx.files}/disk.img", "iso_checksum": DISK_SHA512, "wait_timeout": 120}
    return [
        Step(to, check=True, diff=True, name="check mode upgrade"),
        Step({"name": "ms02-2", "cordon": True}, module=node, name="precondition: ms02-2 cordoned"),
        Step(to, name="refused before any write (a cordoned node)"),
        Step({"name": "ms02-2", "cordon": False}, module=node, name="precondition: ms02-2 uncordoned"),
        Step(to, diff=True, name="upgrade to completion"),
        Step(to, fault={"method": "GET", "path": "harvester-system/upgrades$", "status": 403}, name="API failure"),
        Step(to, name="no-op"),
        Step({"version": "v1.9.0", "state": "absent"}, diff=True, name="absent"),
    ]
