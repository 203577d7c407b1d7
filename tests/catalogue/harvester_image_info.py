"""Catalogue of homelab.harvester.harvester_image_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

from tests.integration.image_files import DISK_SHA512

BAD_INPUTS = [
    ({"namespace": "Default"}, "namespace: 'Default' is not a valid name"),
    ({"name": "Talos"}, "name: 'Talos' is not a valid name"),
    ({"label_selector": " "}, "label_selector: must not be empty"),
    ({"nme": "talos"}, "Unsupported parameters for (homelab.harvester.harvester_image_info) module: nme"),
]


def steps(ctx):
    from tests.catalogue import Step
    managed = {"app.kubernetes.io/managed-by": "homelab.harvester.storage"}
    return [
        Step({"name": "talos", "url": f"{ctx.files}/disk.img", "checksum": DISK_SHA512, "labels": managed,
              "wait_timeout": 60}, module="homelab.harvester.harvester_image", name="precondition: a managed image"),
        Step({}, name="all in default"),
        Step({"name": "talos"}, name="by name"),
        Step({"namespace": None, "label_selector": "app.kubernetes.io/managed-by=homelab.harvester.storage"},
             check=True, name="by selector in every namespace, check mode"),
        Step({"name": "nope"}, name="missing"),
        Step({}, fault={"method": "GET", "path": "virtualmachineimages$", "status": 403}, name="API failure"),
    ]
