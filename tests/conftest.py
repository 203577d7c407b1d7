"""Fixtures every test layer that needs "a cluster" shares: one twin process per test module (a
module may set TWIN_ARGS, e.g. a faster --speed), reset to its seeded lab before each test, and the
image file server. The twin's own black-box tests (tests/twin/tests) override ``twin`` with theirs."""
from __future__ import annotations

import pytest

from tests.integration import image_files
from tests.twin.tests.conftest import start_twin, stop_twin  # the tests' speed


@pytest.fixture(scope="module")
def twin_process(request, tmp_path_factory):
    t = start_twin(tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]),
                   extra=list(getattr(request.module, "TWIN_ARGS", [])))
    yield t
    stop_twin(t)


@pytest.fixture
def twin(twin_process):
    twin_process.reset()
    return twin_process


@pytest.fixture(scope="module")
def files():
    """Base URL of the image file server (tests/integration/image_files.py)."""
    with image_files.serve() as url:
        yield url
