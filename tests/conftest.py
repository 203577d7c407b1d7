"""Fixtures every test layer that needs "a cluster" shares: the twin processes of this pytest worker
(one per distinct start arguments: a test module may set TWIN_ARGS, e.g. a faster --speed), reset
to their seeded lab before each test, and the image file server. The twin's own black-box tests
(tests/twin/tests) ask the same pool for a twin with their test CRDs."""
from __future__ import annotations

import pytest

from tests.integration import image_files
from tests.twin.tests.conftest import start_twin, stop_twin  # the tests' speed


class TwinPool:
    """Starting a twin costs a second or two of CPU (TLS material, CRD schemas): a worker starts one
    per set of arguments and every test module that asks for the same set shares it. Tests leave
    no trace for the next one: each resets the twin it uses (objects, faults, request log)."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.running = {}

    def get(self, crd_dirs=(), extra=()):
        key = (tuple(str(d) for d in crd_dirs), tuple(extra))
        if key not in self.running:
            self.running[key] = start_twin(self.tmp_path_factory.mktemp("twin"), list(crd_dirs), list(extra))
        return self.running[key]

    def stop_all(self):
        for twin in self.running.values():
            stop_twin(twin)
        self.running.clear()


@pytest.fixture(scope="session")
def twins(tmp_path_factory):
    pool = TwinPool(tmp_path_factory)
    yield pool
    pool.stop_all()


@pytest.fixture(scope="module")
def twin_process(request, twins):
    return twins.get(extra=getattr(request.module, "TWIN_ARGS", []))


@pytest.fixture
def twin(twin_process):
    twin_process.reset()
    return twin_process


@pytest.fixture(scope="module")
def files():
    """Base URL of the image file server (tests/integration/image_files.py)."""
    with image_files.serve() as url:
        yield url


@pytest.fixture(scope="module")
def tink_twin_process(twins):
    """A twin that also plays the Tinkerbell cluster (tests/modules/tinkerbell_twin.py)."""
    from tests.modules import tinkerbell_twin
    return tinkerbell_twin.start(twins)


@pytest.fixture
def tink_twin(tink_twin_process):
    from tests.modules import tinkerbell_twin
    tink_twin_process.reset()
    tinkerbell_twin.ensure_namespace(tink_twin_process)
    return tink_twin_process


# Files whose tests each take many seconds: under `--dist loadfile` (the Makefile's) their tests go
# to the workers one by one, not all in a row to one worker as a file's would, which made each of
# them the last worker's tail. test_parity.py: two ansible-playbook runs per module (about 250 s
# in a row); test_faults.py: two seeded runs and two interruptions (about 170 s; a worker that gets
# one converges its own lab first, about 20 s); the two bare-metal runs, about 50 s each; the twin's
# upgrade tests, 26 of 4-6 s (make check's tail). The other files stay whole: their module-scoped twins and
# converges run once.
SPREAD_FILES = ("tests/integration/test_parity.py", "tests/integration/test_faults.py",
                "tests/integration/test_roles_bootstrap_bare.py", "tests/twin/tests/test_upgrade.py")


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None  # xdist's own scheduler for the mode asked
    from xdist.scheduler import LoadFileScheduling

    class SpreadSomeFiles(LoadFileScheduling):
        def _split_scope(self, nodeid):
            file = nodeid.split("::", 1)[0]
            return nodeid if file in SPREAD_FILES else file

    return SpreadSomeFiles(config, log)
