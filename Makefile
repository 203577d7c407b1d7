# homelab.harvester -- developer entry points.
#
#   make demo   the lab from bare metal: the twin (--bare), site.yml twice, verify.yml, report.yml, the twin stopped
#   make test   every test layer and linter, stopping at the first failure (what CI runs)
#   make check  the inner loop: ruff, unit tests, the twin's black-box tests, the in-process module tests
#
# Both work on a fresh Debian 12 clone with python3.11 (+ python3-venv) and make: the venv and
# the project-local collection path are created on first use.
#
# Helpers: venv collection build galaxy-importer lint ruff pytest molecule sanity units changelog docs docs-lint
#          docs-site bench clean distclean

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# --- environment -------------------------------------------------------------------------

# python3.11 if there is one, else python3 (checked to be 3.11 below).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
# pip runs again only when a requirements file is newer than this stamp.
STAMP := $(VENV)/.requirements.stamp

# Project-local collections path. We SYMLINK the checkout into it instead of building and
# installing a tarball: an edit is visible at once to ansible-playbook, pytest
# (import ansible_collections.homelab.harvester...) and the demo, with no stale installed copy
# to forget to refresh, and nothing lands in ~/.ansible/collections. ansible-lint makes its own
# link under .ansible/ anyway. The one tool that refuses symlinks, ansible-test, gets a real
# copy (see sanity/units), and `make build` checks the tarball that would ship.
COLLECTIONS := .collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/homelab/harvester

# ansible-test insists on a real (not symlinked) .../ansible_collections/<ns>/<name> cwd, so it
# runs in a copy of the working tree, rebuilt on every run (never stale). The copy lives OUTSIDE
# this repository: ansible-test walks up to the nearest .git and lists files with git, and a copy
# under the (gitignored) build/ would contain no files at all ("All targets skipped").
# One directory per checkout (keyed by its path), reused between runs.
ANSIBLE_TEST_ROOT := $(or $(TMPDIR),/tmp)/homelab-harvester-ansible-test-$(shell printf %s '$(CURDIR)' | cksum | cut -d' ' -f1)
ANSIBLE_TEST_COPY := $(ANSIBLE_TEST_ROOT)/ansible_collections/homelab/harvester
ANSIBLE_TEST_FLAGS := --local --python 3.11 --color no
# Left out of the copy: local state, and the dev tooling that is neither collection content nor
# run by ansible-test -- tests/twin (an aiohttp server plus multi-document Kubernetes YAML),
# bench/ and tools/. Those are checked by ruff and pytest; ansible-test's pylint/yamllint
# profiles are written for collection content (e.g. pylint's disallowed-name "_", yamllint's
# single-document rule would flag standard k8s manifests). None of them ships (build_ignore).
# Everything ansible-test owns stays: plugins/, meta/, playbooks/, roles/, changelogs/,
# tests/unit, tests/sanity, tests/integration, tests/config.yml.
COPY_EXCLUDES := --exclude=./.git --exclude=./.venv --exclude=./.collections --exclude=./.twin --exclude=./.build \
	--exclude=./build --exclude=./tests/output --exclude=./.ansible --exclude=./.pytest_cache \
	--exclude=./.ruff_cache --exclude=__pycache__ --exclude='*.tar.gz' \
	--exclude=./changelogs/.plugin-cache.yaml --exclude='./.coverage*' \
	--exclude=./tests/twin --exclude=./bench --exclude=./tools

# The pip version ansible-test pins for its venvs; its get-pip download is blocked here, so a
# stand-in (tools/get_pip_standin.py) goes where ansible-test looks first.
PIP_VERSION_PY := import ansible_test._internal.python_requirements as r, inspect, re; \
	print(re.search(r"pip=.([0-9.]+).", inspect.getsource(r.get_venv_packages)).group(1))

# Twice as many workers as cores: most of a test's time is spent waiting on the twin's controller
# clock or on ansible-playbook, so a third and fourth worker fill those waits (measured on 2 cores:
# the twin's tests in 150 s with 4 workers against 223 s with 2). loadfile: a file's tests stay on
# one worker, so each twin a file asks for starts once, not once per worker (make check: 111 s
# against 134 s with tests spread one by one), and a file sharing a converged lab converges once.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
PYTEST_ARGS ?= -n $(PYTEST_WORKERS) --dist loadfile
# The fast tier: no ansible-playbook process (tests/integration holds those).
CHECK_PATHS := tests/unit tests/devtools tests/twin/tests tests/modules
# Line and branch coverage of plugins/, as the in-process tests see it (ansible-playbook runs in other
# processes are not counted); make test fails under COVERAGE_FLOOR (92.5 % measured on a fresh clone).
COVERAGE_FLOOR ?= 90
COVERAGE_ARGS := --cov=ansible_collections.homelab.harvester.plugins --cov-branch --cov-report=term:skip-covered
TWIN_ARGS ?=
export TWIN_ARGS
# Python caches bytecode here even where the environment asks it not to (PYTHONDONTWRITEBYTECODE, set on
# the development machines): a test run starts hundreds of Python processes on the same sources (twins,
# pytest workers, tools), and compiling them every time cost about a tenth of the time (measured on 2
# cores: make check 103 -> 95 s cold, 89 s warm; make pytest 422 -> 373-380 s in fresh clones).
# __pycache__ is gitignored and left out of builds and of the ansible-test copy.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help demo test check venv collection build galaxy-importer lint ruff pytest molecule sanity units changelog docs \
	docs-lint docs-site bench clean distclean ansible-test-copy

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))
	@echo "helpers: venv collection build galaxy-importer lint ruff pytest molecule sanity units changelog docs docs-lint"
	@echo "         docs-site bench clean distclean"

# --- the two user commands ---------------------------------------------------------------

# The twin's lab runs VMs, as a lived-in cluster does, and Harvester refuses the storage network while
# any runs: the demo lets the storage role stop them and start them again (the inventory's own
# lab_storage_network_stop_vms stays false). DEMO_ARGS adds ansible-playbook arguments.
# The twin starts from bare metal (--bare: no node installed, a simulated AMT per node) and plays the
# lab's NAS from .twin/nas, which tools/with_twin.sh fills first (tools/lab_nas.py); tools/demo.sh
# says what each step shows.
DEMO_ARGS ?= -e lab_storage_network_stop_vms=true
DEMO_TWIN_ARGS ?= --bare --speed 20
demo: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) PATH=$(BIN):$$PATH TWIN_ARGS="$(DEMO_TWIN_ARGS)" TWIN_NAS=.twin/nas \
		tools/with_twin.sh tools/demo.sh $(DEMO_ARGS)

# Sub-makes in order (not prerequisites) so the order holds even under `make -j`, and the first
# failure stops the run (tools/test_steps.sh). Each step reports its wall time. The checks that fail
# most often and cost seconds come first; pytest runs alone (its four workers keep the two cores busy:
# sanity beside it cost 95 s more than sanity alone, 518 s for the pair against 422 s for pytest by
# itself); the single-core linters, sanity and Galaxy's importer (which builds the tarball) run beside
# molecule, which spends most of its time waiting on the twin's clock (68 s wall, about 25 s of CPU):
# 90 s for the five side by side against 176 s one after another (124-131 s in a fresh clone, where
# sanity first makes its own venvs and ends last). sanity works on its own copy of the
# tree (ANSIBLE_TEST_ROOT). tests/unit runs once, in pytest (`make units` runs the same files under
# ansible-test, for who wants that).
TEST_STEPS := ruff docs changelog pytest molecule+sanity+lint+docs-lint+galaxy-importer
test: venv collection
	@MAKE="$(MAKE)" tools/test_steps.sh $(TEST_STEPS)

# --- environment targets -----------------------------------------------------------------

venv: $(STAMP)

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "no python3.11/python3 on PATH" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "$(PYTHON) is not Python 3.11 (ansible-core 2.19 + this toolchain are pinned for 3.11); \
		set PYTHON=/path/to/python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		{ echo "$(PYTHON) has no venv/ensurepip: on Debian run 'apt-get install python3-venv'" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "'$(PYTHON) -m venv' failed: on Debian run 'apt-get install python3-venv'" >&2; exit 1; }

$(STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@if [ ! -L $(COLLECTION_LINK) ]; then rm -rf $(COLLECTION_LINK); ln -sfn ../../.. $(COLLECTION_LINK); fi

# The tarball that would be published (galaxy.yml build_ignore applies). Also a test step: it
# fails on galaxy.yml errors.
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := build/homelab-harvester-$(VERSION).tar.gz

build: venv
	@mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

# Galaxy's own importer (galaxy-importer, what Galaxy runs on every upload) on that tarball, configured
# by tools/galaxy-importer.cfg, whose comment says which checks run and which cannot here (ansible-test
# inside the importer needs a container engine). A check that only warns fails this target too: any
# WARNING or ERROR line in build/galaxy-importer/import.log. importer_result.json (the metadata and
# docs Galaxy would store) is left next to it. Nothing is read from this checkout but the tarball.
GALAXY_IMPORT_DIR := build/galaxy-importer
galaxy-importer: build
	@rm -rf $(GALAXY_IMPORT_DIR) && mkdir -p $(GALAXY_IMPORT_DIR)/tmp
	cd $(GALAXY_IMPORT_DIR) && env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_CONFIG PATH=$(BIN):$$PATH \
		GALAXY_IMPORTER_CONFIG=$(CURDIR)/tools/galaxy-importer.cfg GALAXY_IMPORTER_TMP_ROOT_DIR=$(CURDIR)/$(GALAXY_IMPORT_DIR)/tmp \
		GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$(CURDIR)/$(GALAXY_IMPORT_DIR)/tmp/ansible \
		$(PY) -m galaxy_importer.main $(CURDIR)/$(TARBALL) 2>&1 | tee import.log
	@if grep -E '^(WARNING|ERROR|CRITICAL)' $(GALAXY_IMPORT_DIR)/import.log; then \
		echo "galaxy-importer: the import above has warnings or errors ($(GALAXY_IMPORT_DIR)/import.log)" >&2; exit 1; fi
	@grep -q '^Importer processing completed successfully' $(GALAXY_IMPORT_DIR)/import.log

# --- test layers ---------------------------------------------------------------------------

# The second run: pycodestyle as ansible-test's pep8 sanity test runs it (its line length and its own
# ignore list, read from ansible-test), so what sanity would refuse minutes later fails here in
# seconds; on the directories sanity checks that ruff's rules do not fully cover.
PEP8_IGNORE = $(shell $(PY) -c 'import ansible_test, pathlib; p = pathlib.Path(ansible_test.__file__).parent / "_util/controller/sanity/pep8/current-ignore.txt"; print(",".join(x for x in p.read_text().split() if x[:1] in "EW"))' 2>/dev/null)
ruff: venv
	$(BIN)/ruff check .
	$(PY) -m pycodestyle --max-line-length 160 --ignore=$(PEP8_IGNORE) plugins tests/unit tests/integration tests/modules \
		tests/catalogue tests/docs tests/devtools

lint: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) PATH=$(BIN):$$PATH $(BIN)/ansible-lint --offline --profile production

# tests/unit, tests/twin, tests/modules, tests/inventory, tests/integration ... (pyproject.toml:
# testpaths, pythonpath), with the 20 slowest tests and the coverage of plugins/ printed.
pytest: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) PATH=$(BIN):$$PATH \
		$(PY) -m pytest $(PYTEST_ARGS) --durations=20 $(COVERAGE_ARGS) --cov-fail-under=$(COVERAGE_FLOOR)

# The inner loop (about 2 minutes on 2 cores): lint the Python, then every test that needs no
# ansible-playbook process, but the `slow` ones (the twin against every upstream CRD).
check: venv collection
	@start=$$(date +%s); $(MAKE) ruff; \
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) PATH=$(BIN):$$PATH \
		$(PY) -m pytest $(PYTEST_ARGS) --durations=10 -m "not slow" $(CHECK_PATHS); \
	echo "==> make check ok ($$(( $$(date +%s) - start )) s)"

# The molecule scenario extensions/molecule/default: create starts the twin, converge runs
# playbooks/site.yml on inventory/lab, then idempotence, verify (the twin's objects against the
# inventory) and destroy. prerun is off (molecule.yml), so nothing goes to ~/.ansible/collections;
# the scenario's state (kubeconfig, pid file, twin log) stays in this checkout, so two checkouts
# never share (or stop) each other's twin.
# Every playbook of the scenario, create.yml too, gets the extra-vars files create.yml writes
# (molecule.yml): before the first create they are empty placeholders, written here.
MOLECULE_DIR := $(CURDIR)/.ansible/molecule/default
molecule: venv collection
	@mkdir -p $(MOLECULE_DIR) && for f in amt-endpoints.yml nas-vars.yml; do \
		[ -s $(MOLECULE_DIR)/$$f ] || echo '{}' > $(MOLECULE_DIR)/$$f; done
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) PATH=$(BIN):$$PATH \
		MOLECULE_EPHEMERAL_DIRECTORY=$(MOLECULE_DIR) $(BIN)/molecule test -s default

ansible-test-copy: venv
	@ver=$$($(PY) -c '$(PIP_VERSION_PY)'); mkdir -p $(HOME)/.ansible/test/cache; \
		cp tools/get_pip_standin.py $(HOME)/.ansible/test/cache/get_pip_$${ver//./_}.py
	@rm -rf $(ANSIBLE_TEST_COPY) && mkdir -p $(ANSIBLE_TEST_COPY)
	@tar $(COPY_EXCLUDES) -cf - . | tar -C $(ANSIBLE_TEST_COPY) -xf -

sanity: ansible-test-copy
	cd $(ANSIBLE_TEST_COPY) && PATH=$(BIN):$$PATH $(BIN)/ansible-test sanity $(ANSIBLE_TEST_FLAGS)

units: ansible-test-copy
	@if [ ! -d tests/unit ]; then echo "units: no tests/unit yet"; exit 0; fi; \
	cd $(ANSIBLE_TEST_COPY) && PATH=$(BIN):$$PATH $(BIN)/ansible-test units $(ANSIBLE_TEST_FLAGS)

changelog: venv
	$(BIN)/antsibull-changelog lint

# Generated pages that must match their source (docs/bad-inputs.md from the tests' catalogues).
docs: venv
	$(BIN)/python tools/bad_inputs.py --check

# The docs linter of docs.ansible.com's collection docs: the docs of every plugin and role against
# antsibull-docs' schema (types of defaults and choices, markup, references into this collection),
# RST generation and rstcheck.
docs-lint: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) PATH=$(BIN):$$PATH \
		$(BIN)/antsibull-docs lint-collection-docs --plugin-docs $(COLLECTION_LINK)

# The docs as a static HTML site in build/docs/html (index.html): modules, inventory plugin, filters,
# roles (tools/docs_site.sh: antsibull-docs, then Sphinx, warnings are errors). tests/docs/test_docs_site.py
# builds the same site and opens it in headless Chromium (skipped without chromium, bindep.txt).
docs-site: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) VENV_BIN=$(BIN) tools/docs_site.sh build/docs

# bench/*.py with the venv python, repo root and collection path importable. The bench-only
# requirements (the `ansible` package, for kubernetes.core) go into the same venv on first use,
# behind their own stamp, so `make test` never pays for them. ANSIBLE_COLLECTIONS_PATH lists our
# path first; the package's collections (site-packages/ansible_collections) are found by
# ansible-core by default.
BENCH_STAMP := $(VENV)/.requirements-bench.stamp

$(BENCH_STAMP): requirements-bench.txt requirements.txt | $(STAMP)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

bench: venv collection $(BENCH_STAMP)
	@shopt -s nullglob; files=(bench/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "bench: no bench/*.py yet"; exit 0; fi; \
	for f in "$${files[@]}"; do echo "==> $$f"; \
		PYTHONPATH=$(CURDIR):$(CURDIR)/$(COLLECTIONS) ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) \
		PATH=$(BIN):$$PATH $(PY) $$f; done

clean:
	rm -rf $(COLLECTIONS) .twin build tests/output .ansible .pytest_cache .ruff_cache \
		changelogs/.plugin-cache.yaml $(ANSIBLE_TEST_ROOT)
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
