"""Running a playbook of the collection with an inventory, the way users do
(`ansible-playbook -i inventory/lab playbooks/X.yml`), against a twin process, and reading the
twin back."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from tests.integration import lab_nas
from tests.integration.playbooks import ROOT, ansible_playbook, playbook_env

LAB_INVENTORY = ROOT / "inventory" / "lab"
SITE = ROOT / "playbooks" / "site.yml"
VERIFY = ROOT / "playbooks" / "verify.yml"
NAD_PATH = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"


def run_playbook(twin, cwd: Path, playbook: Path, *, inventory: Path = LAB_INVENTORY, extra_vars=None,
                 tags=None, verbosity: int = 1, env=None, check=False) -> subprocess.CompletedProcess:
    """ansible-playbook -i inventory playbook with the twin's kubeconfig in K8S_AUTH_KUBECONFIG and
    `extra_vars` (a dict) as an extra-vars file in `cwd`; returns the finished process (stdout and
    stderr as text), whatever its exit status."""
    environ = playbook_env(twin, drop=("K8S_AUTH_", "KUBECONFIG", "ANSIBLE_"), ANSIBLE_NOCOLOR="1",
                           ANSIBLE_FORCE_COLOR="0", HOMELAB_HARVESTER_DEBUG_LOG="")
    environ.update(env or {})
    args = ["-i", inventory, playbook]
    if extra_vars:
        # typed values (ints, empty strings, PEM text) survive a JSON file, not key=value
        vars_file = cwd / "extra-vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        args += ["-e", f"@{vars_file}"]
    if tags:
        args += ["--tags", ",".join(tags)]
    if check:
        args.append("--check")
    if verbosity:
        args.append("-" + "v" * verbosity)
    return ansible_playbook(args, cwd=cwd, env=environ, timeout=900)


def recap(output, host="harvester-lab"):
    """The PLAY RECAP counters of `host` as ints ({} when there is no recap)."""
    found = re.search(rf"^{re.escape(host)}\s*:\s*(.*)$", output.rpartition("PLAY RECAP")[2], re.MULTILINE)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", found.group(1))} if found else {}


def site_vars(cwd, inventory=LAB_INVENTORY, extra_vars=None) -> dict:
    """The extra vars of a site-level run: install files and the workload clusters' kubeconfigs
    under `cwd`, the inventory's images on the NAS served from a loopback server (lab_nas.py)."""
    return {"bootstrap_publish_dir": str(Path(cwd) / "pxe"), "capi_kubeconfig_dir": str(Path(cwd) / "kubeconfig"),
            **lab_nas.extra_vars(Path(inventory)), **(extra_vars or {})}


def run_site(twin, cwd, *, playbook=SITE, inventory=LAB_INVENTORY, tags=None, extra_vars=None, verbosity=0, check=False):
    """A site-level playbook (site.yml by default) with its install files rendered and the workload
    clusters' kubeconfigs written under `cwd`, the inventory's images on the NAS served from a
    loopback server (tests/integration/lab_nas.py); returns (exit status, stdout + stderr, recap counters)."""
    proc = run_playbook(twin, cwd, playbook, inventory=inventory, tags=tags, extra_vars=site_vars(cwd, inventory, extra_vars),
                        verbosity=verbosity, check=check)
    out = proc.stdout + proc.stderr
    return proc.returncode, out, recap(out)


def copy_inventory(tmp_path, change=None):
    """A copy of inventory/lab under `tmp_path`; `change(lab, host_vars)` may edit the plan
    (group_vars/all/lab.yml as a dict, and {host: host_vars dict}) before it is written back."""
    inventory = tmp_path / "lab"
    shutil.copytree(LAB_INVENTORY, inventory)
    if change is not None:
        lab_file = inventory / "group_vars" / "all" / "lab.yml"
        host_dir = inventory / "host_vars"
        lab = yaml.safe_load(lab_file.read_text())
        hosts = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(host_dir.glob("*.yml"))}
        change(lab, hosts)
        lab_file.write_text(yaml.safe_dump(lab, sort_keys=False))
        for old in host_dir.glob("*.yml"):
            old.unlink()
        for name, data in hosts.items():
            (host_dir / f"{name}.yml").write_text(yaml.safe_dump(data, sort_keys=False))
        hosts_file = inventory / "hosts.yml"
        tree = yaml.safe_load(hosts_file.read_text())
        tree["all"]["children"]["harvester_nodes"]["hosts"] = {
            name: {"ansible_host": data["lab_node"]["mgmt_ip"]} for name, data in hosts.items()}
        hosts_file.write_text(yaml.safe_dump(tree, sort_keys=False))
    return inventory


def api_writes(twin, since):
    """The stored (not dry-run) writes to the API since request number `since`."""
    return [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")
            and r["method"] in ("POST", "PUT", "PATCH", "DELETE") and "dryRun=All" not in (r.get("query") or "")]


def get(twin, path):
    r = twin.session().get(twin.url(path))
    r.raise_for_status()
    return r.json()


def nads(twin):
    return {n["metadata"]["name"]: n for n in get(twin, NAD_PATH)["items"]}


def stop_all_vms(twin):
    """Stop every VM of the seeded lab through the API (runStrategy Halted) and wait for the VMIs to go."""
    s = twin.session()
    for vm in get(twin, VMS)["items"]:
        s.patch(twin.url(f"{VMS}/{vm['metadata']['name']}"), data=json.dumps({"spec": {"runStrategy": "Halted"}}),
                headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    deadline = time.monotonic() + 30
    while get(twin, VMIS)["items"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not get(twin, VMIS)["items"], "the twin did not stop the VMs"
