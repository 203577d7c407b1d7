"""The converged lab, once per test module: playbooks/site.yml run against the module's twin (the
storage role allowed to stop and restart the VMs, as make demo does), kept as the twin's snapshot
``converged`` with the install files it published. Each test that starts from a converged lab
restores it (milliseconds) instead of converging again (tens of seconds)."""
from __future__ import annotations

import shutil

import pytest

from tests.integration.roles import run_site


@pytest.fixture(scope="module")
def converged_lab(twin_process, tmp_path_factory):
    work = tmp_path_factory.mktemp("converged")
    twin_process.reset()
    rc, out, recap = run_site(twin_process, work, extra_vars={"lab_storage_network_stop_vms": True})
    assert rc == 0 and recap["failed"] == 0 and recap.get("ignored", 0) == 0, out
    twin_process.snapshot("converged")
    return twin_process, work / "pxe"


@pytest.fixture
def converged(converged_lab, tmp_path):
    """The module's twin back at the converged lab, its install files in ``tmp_path / "pxe"``."""
    twin, published = converged_lab
    twin.restore("converged")
    shutil.copytree(published, tmp_path / "pxe")
    return twin
