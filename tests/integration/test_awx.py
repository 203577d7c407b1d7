# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""awx/configure.yml against the real awx.awx collection: ``ansible-playbook --syntax-check``
passes, every option of every awx.awx task (and of the workflow's nodes) is one the module
documents, with a value among its choices; and the AWX objects fit the repository: the playbooks
of the job templates exist and read their survey variables, the inventory sources exist, the
Kubernetes credential has the fields AWX's injector reads.

awx.awx is not in requirements-dev.txt: it ships only inside the `ansible` community package
(requirements-bench.txt; about 100 s and 477 MB to install here), and no smaller PyPI package
carries it. So the pinned `ansible` wheel is fetched once with pip (54 MB, a few seconds; or
taken from the venv when `make bench` installed that version) and only its awx/awx directory
(2 MB) is kept, in .ansible/awx-collection/ (gitignored, removed by `make clean`). `make lint`
needs none of it: .ansible-lint mocks the awx.awx modules."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from tests.integration.playbooks import ROOT

pytestmark = [pytest.mark.slow]

BIN = Path(sys.executable).parent
CONFIGURE = ROOT / "awx" / "configure.yml"
VARS = yaml.safe_load((ROOT / "awx" / "vars.yml").read_text())
PLAY = yaml.safe_load(CONFIGURE.read_text())[0]
AWX_PREFIX = "awx.awx."
MEMBER = "ansible_collections/awx/awx/"


def ansible_pin():
    """The version of the `ansible` package requirements-bench.txt pins (the bench's awx.awx too)."""
    text = (ROOT / "requirements-bench.txt").read_text()
    found = re.search(r"^ansible==(\S+)", text, re.MULTILINE)
    assert found, "requirements-bench.txt pins no ansible==<version>"
    return found.group(1)


def provide_awx_collection(target, version):
    """``target/ansible_collections/awx/awx`` from the `ansible` wheel of ``version``: the copy the
    venv has when it is that version, else the wheel fetched with pip."""
    try:
        installed = metadata.version("ansible") == version
    except metadata.PackageNotFoundError:
        installed = False
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".awx-"))
    try:
        if installed:  # the package's own copy, in site-packages
            shutil.copytree(Path(metadata.distribution("ansible").locate_file(MEMBER)), staging / MEMBER)
        else:
            wheels = staging / "wheel"
            proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                                   "--dest", str(wheels), f"ansible=={version}"], capture_output=True, text=True, timeout=600,
                                  check=False)
            assert proc.returncode == 0, f"pip could not fetch ansible=={version} for awx.awx:\n{proc.stderr}"
            with zipfile.ZipFile(next(wheels.glob("*.whl"))) as wheel:
                wheel.extractall(staging, [n for n in wheel.namelist() if n.startswith(MEMBER)])
            shutil.rmtree(wheels)
        os.rename(staging, target)  # whole or not at all
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="module")
def awx_collections():
    """A collections path holding awx.awx (made once per checkout and version, safe under xdist)."""
    version = ansible_pin()
    base = ROOT / ".ansible" / "awx-collection"
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"ansible-{version}"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / MEMBER / "MANIFEST.json").exists():
            shutil.rmtree(target, ignore_errors=True)
            provide_awx_collection(target, version)
    return target


def environ(awx_collections):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CONTROLLER_", "AWX_"))}
    env["ANSIBLE_COLLECTIONS_PATH"] = f"{ROOT / '.collections'}:{awx_collections}"
    return env


@pytest.fixture(scope="module")
def awx_docs(awx_collections):
    """``{module: doc}`` of every awx.awx module configure.yml uses, from ansible-doc."""
    modules = sorted({key for task in PLAY["tasks"] for key in task if key.startswith(AWX_PREFIX)})
    proc = subprocess.run([str(BIN / "ansible-doc"), "--json", *modules], capture_output=True, text=True,
                          env=environ(awx_collections), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    docs = {name: entry["doc"] for name, entry in json.loads(proc.stdout).items()}
    assert sorted(docs) == modules, proc.stderr
    return docs


def awx_tasks():
    return [(task["name"], key, args) for task in PLAY["tasks"] for key, args in task.items() if key.startswith(AWX_PREFIX)]


def templated(value):
    return isinstance(value, str) and "{{" in value


def check_args(args, options, where):
    """Every key is a documented option (or alias), literal values are among its choices and of
    its type, sub-options likewise. Returns the problems found."""
    problems = []
    names = {}
    for name, spec in options.items():
        for key in [name] + list(spec.get("aliases") or []):
            names[key] = spec
    for key, value in (args or {}).items():
        spec = names.get(key)
        if spec is None:
            problems.append(f"{where}: {key} is not an option")
            continue
        if templated(value):
            continue
        if spec.get("choices") and value not in spec["choices"] and str(value) not in map(str, spec["choices"]):
            problems.append(f"{where}: {key}={value!r} is not one of {spec['choices']}")
        kind = spec.get("type", "str")
        expected = {"bool": bool, "dict": dict, "list": list, "int": int, "str": str}.get(kind)
        if expected and not isinstance(value, expected):
            problems.append(f"{where}: {key}={value!r} is not a {kind}")
        subs = spec.get("suboptions")
        if subs and isinstance(value, dict):
            problems += check_args(value, subs, f"{where}.{key}")
        if subs and isinstance(value, list):
            for index, entry in enumerate(value):
                problems += check_args(entry, subs, f"{where}.{key}[{index}]")
    return problems


# --- against the real awx.awx --------------------------------------------------------------------
def test_the_playbook_passes_the_syntax_check(awx_collections):
    proc = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(CONFIGURE)], capture_output=True, text=True,
                          env=environ(awx_collections), cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "playbook: " in proc.stdout


def test_the_syntax_check_does_fail_on_an_unknown_module(awx_collections, tmp_path):
    """The check above means something: a module awx.awx does not have is refused."""
    book = tmp_path / "configure.yml"
    book.write_text(CONFIGURE.read_text().replace("awx.awx.inventory_source_update:", "awx.awx.inventory_source_sync:"))
    (tmp_path / "vars.yml").write_text((ROOT / "awx" / "vars.yml").read_text())
    proc = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(book)], capture_output=True, text=True,
                          env=environ(awx_collections), cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode != 0 and "awx.awx.inventory_source_sync" in proc.stderr, proc.stderr


def test_every_awx_task_uses_only_documented_options_and_choices(awx_docs):
    problems = []
    for name, module, args in awx_tasks():
        problems += check_args(args, awx_docs[module]["options"], f"{name} ({module})")
    assert problems == []


def test_the_workflow_nodes_fit_the_workflow_node_options(awx_docs):
    options = awx_docs["awx.awx.workflow_job_template"]["options"]
    assert check_args({"workflow_nodes": VARS["awx_workflow_nodes"]}, options, "awx_workflow_nodes") == []


def test_the_checker_finds_what_it_is_for(awx_docs):
    options = awx_docs["awx.awx.execution_environment"]["options"]
    assert check_args({"pull": "sometimes", "imge": "x", "name": "{{ a }}"}, options, "t") == [
        "t: pull='sometimes' is not one of ['always', 'missing', 'never']", "t: imge is not an option"]


def test_every_module_configure_yml_uses_is_mocked_for_lint():
    """`make lint` resolves them through .ansible-lint's mock_modules (no awx.awx installed)."""
    mocked = yaml.safe_load((ROOT / ".ansible-lint").read_text())["mock_modules"]
    assert sorted({module for dummy, module, dummy_args in awx_tasks()}) == sorted(m for m in mocked if m.startswith(AWX_PREFIX))


# --- the objects fit the repository ----------------------------------------------------------------------
def test_the_kubernetes_credential_has_the_fields_awx_s_injector_reads():
    """awx/main/models/credential/injectors.py ``kubernetes_bearer_token``: host -> K8S_AUTH_HOST,
    bearer_token -> K8S_AUTH_API_KEY, verify_ssl and ssl_ca_cert -> K8S_AUTH_VERIFY_SSL='True' and
    K8S_AUTH_SSL_CA_CERT=<file>, else K8S_AUTH_VERIFY_SSL='False'."""
    task = next(args for name, module, args in awx_tasks() if args.get("credential_type") == "OpenShift or Kubernetes API Bearer Token")
    assert sorted(task["inputs"]) == ["bearer_token", "host", "ssl_ca_cert", "verify_ssl"]
    secret_tasks = [t for t in PLAY["tasks"] if "awx.awx.credential" in t]
    assert len(secret_tasks) == 2 and all(t.get("no_log") is True for t in secret_tasks)


def test_the_job_templates_are_the_issue_s_six_with_their_playbooks():
    playbooks = [t["playbook"] for t in VARS["awx_job_templates"]]
    assert playbooks == [f"playbooks/{name}.yml" for name in ("site", "verify", "maintenance", "upgrade", "backup", "health")]
    missing = [p for p in playbooks if not (ROOT / p).exists()]
    assert missing == [], f"job templates name playbooks that do not exist: {missing}"


@pytest.mark.parametrize("template", [t for t in VARS["awx_job_templates"] if t.get("survey")], ids=lambda t: t["name"])
def test_each_survey_is_well_formed_and_its_variables_are_read_by_the_playbook(template):
    variables = [q["variable"] for q in template["survey"]]
    assert len(set(variables)) == len(variables)
    for question in template["survey"]:
        assert set(question) >= {"question_name", "question_description", "variable", "type", "required", "default"}, question
        assert question["type"] in ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")
        if question["type"] == "integer":
            assert isinstance(question["default"], int) and question["min"] <= question["default"] <= question["max"]
        else:
            assert isinstance(question["default"], str) and len(question["default"]) <= question["max"]
    book = ROOT / template["playbook"]
    assert book.exists(), f"{template['playbook']} (job template {template['name']!r}) does not exist"
    text = book.read_text()
    unread = [v for v in variables if not re.search(rf"\b{re.escape(v)}\b", text)]
    assert unread == [], f"{template['playbook']} never reads survey variable(s) {unread}"


def test_the_issue_s_surveys_are_there():
    surveys = {t["name"]: [q["variable"] for q in t.get("survey") or []] for t in VARS["awx_job_templates"]}
    assert surveys["Harvester maintenance"] == ["maintenance_nodes"]
    assert surveys["Harvester upgrade"][0] == "upgrade_version"
    assert surveys["Harvester backup"][0] == "backup_label_selector"


def test_the_inventory_sources_are_files_of_the_project():
    paths = [s["source_path"] for s in VARS["awx_inventory_sources"]]
    assert paths == ["inventory/lab", "inventory/harvester.yml"]
    assert (ROOT / "inventory" / "lab" / "hosts.yml").exists()
    plugin_source = yaml.safe_load((ROOT / "inventory" / "harvester.yml").read_text())
    assert plugin_source["plugin"] == "homelab.harvester.harvester"
    assert VARS["awx_inventory_sources"][1]["credential"] == "{{ awx_harvester_credential }}"


def test_the_workflow_runs_verify_after_a_successful_site():
    nodes = {n["identifier"]: n for n in VARS["awx_workflow_nodes"]}
    assert nodes["site"]["related"]["success_nodes"] == [{"identifier": "verify"}]
    names = {t["name"] for t in VARS["awx_job_templates"]}
    assert {n["unified_job_template"]["name"] for n in nodes.values()} <= names
    assert all(n["unified_job_template"]["type"] == "job_template" for n in nodes.values())
