"""Running a playbook of the collection with an inventory, the way users do
(`ansible-playbook -i inventory/lab playbooks/X.yml`), against a twin process."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.integration.playbooks import PLAYBOOK, ROOT

LAB_INVENTORY = ROOT / "inventory" / "lab"


def run_playbook(twin, cwd: Path, playbook: Path, *, inventory: Path = LAB_INVENTORY, extra_vars=None,
                 tags=None, verbosity: int = 1, env=None) -> subprocess.CompletedProcess:
    """ansible-playbook -i inventory playbook with the twin's kubeconfig in K8S_AUTH_KUBECONFIG and
    `extra_vars` (a dict) as an extra-vars file in `cwd`; returns the finished process (stdout and
    stderr as text), whatever its exit status."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "KUBECONFIG", "ANSIBLE_"))}
    environ.update(ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0", HOMELAB_HARVESTER_DEBUG_LOG="",
                   K8S_AUTH_KUBECONFIG=str(twin.kubeconfig))
    environ.update(env or {})
    args = [str(PLAYBOOK), "-i", str(inventory), str(playbook)]
    if extra_vars:
        # typed values (ints, empty strings, PEM text) survive a JSON file, not key=value
        vars_file = cwd / "extra-vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        args += ["-e", f"@{vars_file}"]
    if tags:
        args += ["--tags", ",".join(tags)]
    if verbosity:
        args.append("-" + "v" * verbosity)
    return subprocess.run(args, capture_output=True, text=True, env=environ, cwd=cwd, timeout=600, check=False)
