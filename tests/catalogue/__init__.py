"""One catalogue per module (``tests/catalogue/<module>.py``), the single list of what each module
is tried with, used by every layer that needs it:

- ``BAD_INPUTS``: ``[(args, message), ...]``, inputs the module refuses before any request, with
  the message the user sees (``docs/bad-inputs.md`` is generated from them);
- ``REFUSALS``: ``[(args, message), ...]``, inputs refused once the module has read the cluster
  (a cluster network that does not exist, VMs that run), before any write -- in the seeded lab;
  also on that page;
- ``steps(ctx)``: a short life of the module against the twin's seeded lab, in order: good
  inputs (create, no-op, change), check mode, diff, a refusal by the API and, via ``fault``, an
  injected API failure. ``ctx.files`` is the image file server's base URL, ``ctx.scratch`` a
  directory to write files into. Each step is a
  ``Step``; the parity suite (``tests/integration/test_parity.py``) runs the whole list through
  both ways a task executes and compares the results.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

MODULES = (
    "harvester_network",
    "harvester_network_info",
    "harvester_cluster_network",
    "harvester_image",
    "harvester_image_info",
    "harvester_keypair",
    "harvester_storage_class",
    "harvester_vm_power",
    "harvester_storage_network",
    "harvester_vm_info",
    "harvester_node",
    "harvester_node_info",
    "harvester_vm_backup",
    "harvester_vm_backup_info",
    "harvester_vm_restore",
    "harvester_upgrade",
    "harvester_setting",
    "harvester_health_info",
    "longhorn_setting",
    "capi_cluster",
    "capi_provider_info",
    "harvester_install_files",
    "amt_power",
    "tinkerbell_machine",
    "rufio_job",
)


@dataclass
class Step:
    """One task: ``args`` for ``module`` (default: the catalogue's own), in check mode and/or
    diff mode; ``fault`` (a /_twin/faults spec) is armed just before it."""
    args: dict
    check: bool = False
    diff: bool = False
    fault: dict | None = None
    module: str | None = None
    name: str = ""


@dataclass
class Context:
    files: str = "http://127.0.0.1:9"  # the image file server (tests/integration/image_files.py)
    scratch: str = "/nonexistent"  # a directory for modules that write files, emptied before each run
    extra: dict = field(default_factory=dict)


def load(module: str):
    return importlib.import_module(f"tests.catalogue.{module}")


def bad_inputs() -> dict[str, list[tuple[dict, str]]]:
    """Every module's ``BAD_INPUTS``, in ``MODULES`` order (those that have one)."""
    out = {}
    for module in MODULES:
        rows = getattr(load(module), "BAD_INPUTS", None)
        if rows:
            out[module] = rows
    return out


def refusals() -> dict[str, list[tuple[dict, str]]]:
    """Every module's ``REFUSALS`` (refused after reading, before any write), in ``MODULES`` order."""
    out = {}
    for module in MODULES:
        rows = getattr(load(module), "REFUSALS", None)
        if rows:
            out[module] = rows
    return out


def bad_input_steps(module: str, limit: int | None = None) -> list[Step]:
    rows = getattr(load(module), "BAD_INPUTS", [])[:limit]
    return [Step(args, name=f"bad input {i}") for i, (args, _message) in enumerate(rows)]
