"""Both ways a task executes give the same results: every module's catalogue (tests/catalogue: its
good inputs, check mode, diff, a refusal and an injected failure from the API, and its first bad
inputs) runs once in the ansible-playbook worker (the default for a local connection) and once as
an ordinary module (``homelab_harvester_in_process: false``), each from the twin's seeded lab; the
registered results must be equal but for what differs between any two runs (times, uids,
resourceVersions), and so must the writes that reached the API. Tracebacks are on
(``ANSIBLE_DISPLAY_TRACEBACK=error``): a failure's ``exception`` must name the same exceptions.
The twin's request log proves which way ran: the User-Agent says ``in-process`` or ``module``.

Every other bad input is compared at the source, faster: tests/unit/plugins/plugin_utils/
test_in_process.py runs each one through the in-process runner and through the module's own
AnsibleModule, and asserts the same message and that no client was built."""
from __future__ import annotations

import contextlib
import re
import shutil

import pytest

from tests import catalogue
from tests.integration.playbooks import WRITES, run_steps

pytestmark = [pytest.mark.twin, pytest.mark.integration, pytest.mark.slow]

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# values that differ between any two runs against a fresh lab: server-set counters and elapsed times
VOLATILE_KEYS = {"resourceVersion", "generation", "seconds", "elapsed", "observedGeneration",
                 "last_seen",  # what a wait saw last, when it gave up: a moment of the controllers' work
                 "cleanup"}  # the upgrade's post-upgrade cleanup flips Pending -> Succeeded right after the end
GENERATED_NAME = re.compile(r"\b(hvst-upgrade-)[a-z0-9]{5}\b")
# ansible-core lists the valid booleans from a Python set: the order differs from process to process
BOOLEANS = re.compile(r"(Valid booleans include: ).*")
# a failure registers its traceback (``exception``) on both ways, compared by the exceptions it names
TRACEBACKS = {"ANSIBLE_DISPLAY_TRACEBACK": "error"}
# bad inputs per module run through ansible-playbook here (all of them: the unit test, see above)
BAD_INPUTS_HERE = 2


def normalised(value):
    """A result with the run-to-run differences masked. An API object returned whole is compared by
    what the module wrote (everything but its status, and of its metadata the name): the cluster's
    controllers fill in status, labels and annotations on their own time, which no two runs share."""
    if isinstance(value, dict) and {"apiVersion", "kind", "metadata"} <= set(value):
        meta = value["metadata"]
        value = {**{k: v for k, v in value.items() if k != "status"},
                 "metadata": {k: meta.get(k) for k in ("name", "namespace", "generateName")}}
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE_KEYS else progress(v) if k == "progress" and isinstance(v, list)
                else raised(v) if k == "exception" and isinstance(v, str) else normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str):
        value = BOOLEANS.sub(r"\1<set>", value)
        value = TIMESTAMP.sub("<time>", value)
        value = UUID.sub("<uid>", value)
        return GENERATED_NAME.sub(r"\1<random>", value)
    return value


def raised(traceback_text):
    """A failure's traceback by the collection's exceptions it names: its frames differ between the
    ways (an AnsiballZ payload's paths, the worker's), and so does ansible-core's own chain (for an
    argument refused by AnsibleModule the module path adds the call stack fail_json was called from)."""
    return [normalised(line) for line in traceback_text.splitlines() if line.startswith("ansible_collections.homelab.")]


def progress(events):
    """Which states a wait happened to see on its way depends on timing (a backup seen at 20 % and
    60 % in one run, at 40 % in the other); where it ended does not."""
    return normalised(events[-1:])


def stored(requests):
    return [(r["method"], GENERATED_NAME.sub(r"\1<random>", r["path"]), r["query"]) for r in requests if r["method"] in WRITES]


def ours(requests):
    """The requests of the task (the twin's own controllers call its API too, e.g. CAPHV)."""
    return [r for r in requests if not r.get("agent", "").startswith("twin (")]


@pytest.mark.parametrize("module", catalogue.MODULES)
def test_in_process_and_module_path_give_the_same_results(module, request, tmp_path, files):
    cat = catalogue.load(module)
    # the seeded lab, or the catalogue's own twin (the one that also serves Tinkerbell's CRDs)
    twin = request.getfixturevalue(getattr(cat, "TWIN_FIXTURE", "twin"))
    # a module that talks to something else than the API (amt_power: an AMT endpoint) gets it here
    with (cat.endpoint() if hasattr(cat, "endpoint") else contextlib.nullcontext()) as endpoint:
        compare_both_paths(module, cat, twin, tmp_path, files, endpoint)


def compare_both_paths(module, cat, twin, tmp_path, files, endpoint):
    scratch = tmp_path / "scratch"
    context = catalogue.Context(files=files, scratch=str(scratch), extra={"endpoint": endpoint})
    steps = [*getattr(cat, "steps", lambda ctx: [])(context), *catalogue.bad_input_steps(module, limit=BAD_INPUTS_HERE)]
    assert steps, f"tests/catalogue/{module}.py has no steps and no BAD_INPUTS"
    fqcn = f"homelab.harvester.{module}"

    scratch.mkdir()
    in_process, in_requests, dummy = run_steps(twin, tmp_path, fqcn, steps, in_process=True, env=TRACEBACKS)
    in_requests = ours(in_requests)
    endpoint_calls = list(endpoint.calls) if endpoint else []
    twin.reset()
    if endpoint:
        endpoint.reset()
    shutil.rmtree(scratch)
    scratch.mkdir()
    as_module, module_requests, dummy = run_steps(twin, tmp_path, fqcn, steps, in_process=False, env=TRACEBACKS)
    module_requests = ours(module_requests)

    assert {r["agent"] for r in in_requests} <= {"homelab.harvester (ansible; in-process)"}, in_requests
    assert {r["agent"] for r in module_requests} <= {"homelab.harvester (ansible; module)"}, module_requests
    for step, a, b in zip(steps, in_process, as_module, strict=True):
        assert normalised(a) == normalised(b), f"{module} {step}: in-process {a} != module {b}"
        if isinstance(a.get("status"), int) and a.get("failed"):  # an API refusal: its traceback names its error
            assert raised(a["exception"]) and raised(a["exception"]) == raised(b["exception"]), (step, a, b)
    assert stored(in_requests) == stored(module_requests)
    if endpoint:
        assert endpoint_calls and endpoint_calls == endpoint.calls
