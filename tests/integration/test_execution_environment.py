# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml: ``ansible-builder create`` writes a build context from it (no
container engine needed), with the Containerfile, the collection tarball ``make build`` makes,
and the requirement files; the definition agrees with requirements.txt, bindep.txt, galaxy.yml
and meta/execution-environment.yml; and the built collection carries what ansible-builder's
introspection reads, so the image gets the collection's Python and system dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.integration.playbooks import ROOT

pytestmark = [pytest.mark.slow]

BIN = Path(sys.executable).parent
EE = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
META_EE = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def pins(path):
    """``{name: line}`` of a requirements file (comments and blanks left out)."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return {line.split("==")[0].lower(): line for line in lines if line}


def run(*args, cwd, env=None):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def build(source, out):
    """The tarball `make build` would write from ``source`` (its galaxy.yml build_ignore applied)."""
    run(BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", out, source, cwd=source)
    return out / TARBALL


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """The collection as `make build` writes it."""
    return build(ROOT, tmp_path_factory.mktemp("build"))


# --- the definition agrees with the rest of the repository --------------------------------------
def test_schema_version_3_with_the_collection_s_requirement_files():
    assert EE["version"] == 3
    assert EE["dependencies"]["python"] == META_EE["dependencies"]["python"] == "requirements.txt"
    assert EE["dependencies"]["system"] == META_EE["dependencies"]["system"] == "bindep.txt"


def test_ansible_core_and_python_are_the_ones_the_collection_is_pinned_to():
    assert EE["dependencies"]["ansible_core"]["package_pip"] == pins(ROOT / "requirements.txt")["ansible-core"]
    assert EE["dependencies"]["python_interpreter"] == {"package_system": "python3.11", "python_path": "/usr/bin/python3.11"}
    assert EE["dependencies"]["ansible_runner"]["package_pip"].startswith("ansible-runner==")


def test_the_collection_comes_from_the_tarball_of_this_version():
    assert EE["additional_build_files"] == [{"src": f"build/{TARBALL}", "dest": "collections"}]
    assert EE["dependencies"]["galaxy"] == {"collections": [{"name": f"collections/{TARBALL}", "type": "file"}]}
    assert f"homelab-harvester-ee:{GALAXY['version']}" in EE["options"]["tags"]


def test_what_introspection_reads_is_shipped(tarball):
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    for path in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt", "plugins/inventory/harvester.py"):
        assert path in names, path
    assert not any(name.startswith("tests/") for name in names)


# What a collection tarball carries at its top: its content, its docs and the files introspection
# reads. Everything else in the checkout is how this repository is developed and run.
SHIPPED_TOP = {"MANIFEST.json", "FILES.json", "LICENSE", "README.md", "bindep.txt", "requirements.txt",
               "changelogs", "docs", "extensions", "meta", "playbooks", "plugins", "roles"}


def test_only_collection_content_is_shipped(tarball):
    """Nothing else at the top: the tarball once carried requirements-bench.txt (the `ansible`
    package, for make bench), .coverage (make test's) and .build/ (a lab's rendered install configs)."""
    with tarfile.open(tarball) as tar:
        top = {name.split("/", 1)[0] for name in tar.getnames()}
    assert top <= SHIPPED_TOP, sorted(top - SHIPPED_TOP)


def stand_ins(pattern):
    """Paths a .gitignore line matches: each ``*`` as a name, each ``[abc]`` as each of its
    letters; a directory pattern gets a file inside it."""
    directory = pattern.endswith("/")
    pattern = pattern.strip("/").replace("*", "x")
    paths = [pattern]
    while "[" in paths[0]:
        start, end = paths[0].index("["), paths[0].index("]")
        paths = [p[:start] + c + p[end + 1:] for p in paths for c in p[start + 1:end]]
    return [f"{p}/file" if directory else p for p in paths]


def test_nothing_git_ignores_is_shipped(tmp_path):
    """What a run leaves in the checkout (.gitignore: the venv, the twin's files, rendered install
    configs, caches, coverage data) stays out of the tarball, whichever of them exists when `make
    build` runs: every .gitignore line, planted in a copy of the collection's metadata, is built."""
    shutil.copy(ROOT / "galaxy.yml", tmp_path / "galaxy.yml")
    (tmp_path / "meta").mkdir()
    shutil.copy(ROOT / "meta" / "runtime.yml", tmp_path / "meta" / "runtime.yml")
    patterns = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    planted = [path for pattern in patterns for path in stand_ins(pattern)]
    assert ".coverage.x" in planted and "x.egg-info/file" in planted  # the stand-ins are what they say
    for path in planted:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    with tarfile.open(build(tmp_path, tmp_path / "out")) as tar:
        shipped = set(tar.getnames())
    leaked = [path for path in planted if path in shipped]
    assert leaked == [], leaked


# --- ansible-builder itself --------------------------------------------------------------------------
def test_ansible_builder_create_writes_the_build_context(tmp_path, tarball):
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "build").mkdir()
    shutil.copy(tarball, tmp_path / "build" / TARBALL)
    out = run(BIN / "ansible-builder", "create", "--file", "execution-environment.yml", "--context", "context",
              "--output-filename", "Containerfile", cwd=tmp_path)
    assert "Complete! The build context can be found at" in out, out
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert f'ARG ANSIBLE_INSTALL_REFS="{pins(ROOT / "requirements.txt")["ansible-core"]} ansible-runner==' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    build = context / "_build"
    assert (build / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()
    assert (build / "bindep.txt").read_text() == (ROOT / "bindep.txt").read_text()
    assert (build / "collections" / TARBALL).read_bytes() == tarball.read_bytes()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": f"collections/{TARBALL}", "type": "file"}]}


def test_introspection_of_the_installed_collection_gives_its_dependencies(tmp_path, tarball):
    """What the image's builder stage runs on the installed collections: the collection's Python
    and system requirements, ansible-core left out (the image's own pin is the one)."""
    # Only the image's collections path is configured, as in the builder stage: with `make test`'s
    # ANSIBLE_COLLECTIONS_PATH (this checkout) ansible-galaxy would find the collection already
    # installed there and install nothing.
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")}
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", tmp_path / "collections", tarball,
        cwd=tmp_path, env=env)
    assert (tmp_path / "collections" / "ansible_collections" / "homelab" / "harvester" / "MANIFEST.json").is_file()
    found = yaml.safe_load(run(BIN / "ansible-builder", "introspect", "--sanitize", tmp_path / "collections", cwd=tmp_path)
                           .split("---", 1)[1])
    ours = {name: line for name, line in pins(ROOT / "requirements.txt").items() if name != "ansible-core"}
    assert sorted(found["python"]) == sorted(f"{line}  # from collection homelab.harvester" for line in ours.values())
    system = [line for line in (ROOT / "bindep.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert found["system"] == [f"{line}  # from collection homelab.harvester" for line in system]
