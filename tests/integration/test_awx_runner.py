# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job templates of awx/configure.yml run the way AWX runs a job: through ansible-runner, in
a private data dir laid out as AWX lays it out, against one twin seeded from inventory/lab.

Per job, a fresh private data dir (AWX makes one per job):

- ``project/``: the checkout's files (AWX copies the synced project there);
- ``requirements_collections/``: homelab.harvester installed with ansible-galaxy from the tarball
  built from the checkout (AWX copies the project's installed collections there), first on
  ANSIBLE_COLLECTIONS_PATH; the checkout's .collections link is on no path;
- ``inventory/``: the lab inventory (inventory/lab, its vault values encrypted one by one as
  awx/README.md says) and the inventory plugin source (inventory/harvester.yml);
- ``env/extravars``: the survey answers (each question's default unless the test answers it) and
  a few of AWX's awx_* meta variables;
- ``env/envvars``: what the "OpenShift or Kubernetes API Bearer Token" credential injects
  (awx/main/models/credential/injectors.py ``kubernetes_bearer_token``: K8S_AUTH_HOST,
  K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL 'True' and K8S_AUTH_SSL_CA_CERT, the path of a file
  mkstemp'd in env/ holding the CA) and RunJob.build_env's variables (JOB_ID,
  ANSIBLE_RETRY_FILES_ENABLED, ANSIBLE_COLLECTIONS_PATH, ANSIBLE_ROLES_PATH...);
- ``env/cmdline``: RunJob.build_args' options (``-u root``, ``--check`` for job type check,
  ``--ask-vault-pass`` for the Vault credential) and ``env/passwords``: the answer to the
  ``Vault password:\\s*?$`` prompt (RunJob.get_password_prompts), given through pexpect.

HOME is an empty directory: no ~/.kube/config, no ~/.ansible. Each job's status, rc and artifacts
(artifacts/<ident>/job_events) are checked, and neither the token nor the vault password nor a
decrypted vault value appears in any job's output or events.

As AWX needs it (README, "Use with AWX"), the inventory has one variable more, as AWX's inventory
variables (group all): bootstrap_publish_dir, a directory that outlives the job. By default the install
configs land in the job's own project copy, which AWX deletes after the job: lost, rewritten by
every site job, and a drift for every verify job. The twin's lab runs VMs, so the site job gets
lab_storage_network_stop_vms=true as an extra variable, as `make demo` does.

Expensive (the site job runs three times, maintenance rolls three nodes): one twin for the file,
one test that runs the jobs in the order an operator would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.integration import image_files, lab_nas
from tests.integration.playbooks import ROOT
from tests.integration.roles import NAD_PATH, api_writes, get
from tests.twin.tests.conftest import start_twin, stop_twin

pytestmark = [pytest.mark.slow, pytest.mark.twin, pytest.mark.integration]

BIN = Path(sys.executable).parent
LAB = ROOT / "inventory" / "lab"
AWX_VARS = yaml.safe_load((ROOT / "awx" / "vars.yml").read_text())
TEMPLATES = {t["name"]: t for t in AWX_VARS["awx_job_templates"]}
VAULT_PASSWORD = "awx-vault-credential-password"
VAULT_PROMPT = r"Vault password:\s*?$"
VAULT_VALUES = yaml.safe_load((LAB / "group_vars" / "all" / "vault.yml").read_text())
SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"
NODES = "/api/v1/nodes"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
BACKUPS = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinebackups"
MAINTAIN = "harvesterhci.io/maintain-status"
OWN_COLLECTION = "requirements_collections/ansible_collections/homelab/harvester/"


def run(*args, **kwargs):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert proc.returncode == 0, f"{args}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


@dataclass
class Job:
    name: str
    ident: str
    status: str
    rc: int
    stdout: str
    events: list
    raw: str  # stdout and every event file, for the secrets check

    def stats(self):
        found = [e["event_data"] for e in self.events if e["event"] == "playbook_on_stats"]
        assert len(found) == 1, f"{self.name}: {len(found)} playbook_on_stats events"
        return found[0]

    def task_events(self, task, kind="runner_on_ok"):
        return [e for e in self.events if e["event"] == kind and e["event_data"].get("task") == task]

    def assert_successful(self):
        assert (self.status, self.rc) == ("successful", 0), f"{self.name}: {self.status} rc={self.rc}\n{self.stdout[-6000:]}"
        stats = self.stats()
        assert stats["failures"] == {} and stats["dark"] == {}, f"{self.name}: {stats}"
        kinds = [e["event"] for e in self.events if e["event"] != "verbose"]  # verbose: lines such as the vault prompt
        assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats", kinds


class Awx:
    """Launches jobs of the job templates of awx/vars.yml against the twin, each in its own private data dir."""

    def __init__(self, base, twin, collections):
        self.base, self.twin, self.collections, self.count = base, twin, collections, 0
        self.publish = base / "pxe"  # stands for a volume the PXE HTTP server serves, mounted into the jobs
        self.project = base / "project-cache"
        files = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0")
        for name in filter(None, files):
            if (ROOT / name).is_file():
                (self.project / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, self.project / name)
        self.inventory = base / "inventory-source"
        self._inventory_sources()
        self.home = base / "home"
        self.home.mkdir()

    def _inventory_sources(self):
        """inventory/lab and inventory/harvester.yml; the vault values encrypted one by one (AWX's Vault
        credential decrypts them); bootstrap_publish_dir and the clusters' kubeconfigs outside the job."""
        shutil.copytree(LAB, self.inventory)
        shutil.copy2(ROOT / "inventory" / "harvester.yml", self.inventory / "harvester.yml")
        password_file = self.base / "vault-password"
        password_file.write_text(VAULT_PASSWORD)
        encrypted = [run(BIN / "ansible-vault", "encrypt_string", "--vault-password-file", password_file, "--name", name, value)
                     for name, value in VAULT_VALUES.items()]
        (self.inventory / "group_vars" / "all" / "vault.yml").write_text("---\n" + "".join(encrypted))
        password_file.unlink()
        (self.inventory / "group_vars" / "all" / "awx.yml").write_text("---\n" + yaml.safe_dump({
            "bootstrap_publish_dir": str(self.publish), "capi_kubeconfig_dir": str(self.base / "kubeconfigs")}))
        # the image library on the NAS served from a loopback server (lab_nas.py); after lab.yml, so it wins
        (self.inventory / "group_vars" / "all" / "zz-nas.yml").write_text(
            "---\n" + yaml.safe_dump(lab_nas.extra_vars(LAB)))

    def launch(self, name, answers=None, job_type="run", vault=True):
        """One job of the template `name`: survey defaults overridden by `answers`; job_type run or check."""
        template = TEMPLATES[name]
        self.count += 1
        ident = str(self.count)
        pdd = self.base / f"job-{ident}"
        shutil.copytree(self.project, pdd / "project")
        shutil.copytree(self.collections, pdd / "requirements_collections")
        shutil.copytree(self.inventory, pdd / "inventory")
        env_dir = pdd / "env"
        env_dir.mkdir()
        (pdd / "cp").mkdir(mode=0o700)

        handle, ca_path = tempfile.mkstemp(dir=env_dir)  # the injector's CA file
        with os.fdopen(handle, "w") as ca:
            os.chmod(ca_path, 0o660)
            ca.write(self.twin.ca_file.read_text())
        envvars = {
            "K8S_AUTH_HOST": self.twin.server,
            "K8S_AUTH_API_KEY": self.twin.token,
            "K8S_AUTH_VERIFY_SSL": "True",
            "K8S_AUTH_SSL_CA_CERT": ca_path,
            "JOB_ID": ident,
            "INVENTORY_ID": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(pdd / "cp"),
            "ANSIBLE_ROLES_PATH": f"{pdd}/requirements_roles:~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles",
            "ANSIBLE_COLLECTIONS_PATH": f"{pdd}/requirements_collections:~/.ansible/collections:/usr/share/ansible/collections",
        }
        survey = {q["variable"]: q["default"] for q in template.get("survey") or []}
        extravars = {**survey, **(answers or {}), "awx_job_id": int(ident), "awx_job_template_name": name,
                     "awx_user_name": "admin", "awx_inventory_name": AWX_VARS["awx_inventory"]}
        cmdline = (["--check"] if job_type == "check" else []) + ["-u", "root"] + (["--ask-vault-pass"] if vault else [])
        (env_dir / "envvars").write_text(yaml.safe_dump(envvars))
        (env_dir / "extravars").write_text(yaml.safe_dump(extravars))
        (env_dir / "cmdline").write_text(" ".join(cmdline))
        if vault:
            (env_dir / "passwords").write_text(yaml.safe_dump({VAULT_PROMPT: VAULT_PASSWORD}))
        (env_dir / "settings").write_text(json.dumps({"job_timeout": 1200, "suppress_ansible_output": True}))

        environ = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8"}
        subprocess.run([str(BIN / "ansible-runner"), "run", str(pdd), "-p", template["playbook"], "--ident", ident],
                       capture_output=True, text=True, env=environ, timeout=1500, check=False)
        artifacts = pdd / "artifacts" / ident
        events = sorted((json.loads(p.read_text()) for p in (artifacts / "job_events").glob("*.json")), key=lambda e: e["counter"])
        stdout = (artifacts / "stdout").read_text()
        raw = stdout + "".join(p.read_text() for p in (artifacts / "job_events").glob("*.json"))
        job = Job(name, ident, (artifacts / "status").read_text().strip(), int((artifacts / "rc").read_text()), stdout, events, raw)
        for secret in (self.twin.token, VAULT_PASSWORD, *VAULT_VALUES.values()):
            assert secret not in job.raw, f"{name}: a secret is in the job's output or events"
        return job


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = start_twin(tmp_path_factory.mktemp("awx-twin"), extra=["--lab", str(LAB), "--speed", "20"])
    yield t
    stop_twin(t)


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    """homelab.harvester installed from the tarball built from this checkout (what `make build` ships)."""
    base = tmp_path_factory.mktemp("awx-collection")
    run(BIN / "ansible-galaxy", "collection", "build", "--output-path", base, ROOT, cwd=base)
    tarball = next(base.glob("homelab-harvester-*.tar.gz"))
    installed = base / "requirements_collections"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}, "ANSIBLE_COLLECTIONS_PATH": str(installed)}
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", installed, tarball, cwd=base, env=env)
    assert (installed / "ansible_collections" / "homelab" / "harvester" / "MANIFEST.json").is_file()
    return installed


@pytest.fixture(scope="module")
def awx(tmp_path_factory, twin, collections):
    return Awx(tmp_path_factory.mktemp("awx"), twin, collections)


def test_every_job_template_runs_as_awx_runs_it(awx, twin):
    assert sorted(TEMPLATES) == sorted(["Harvester site", "Harvester verify (drift)", "Harvester maintenance",
                                        "Harvester upgrade", "Harvester backup", "Harvester health"])
    site_vars = {"lab_storage_network_stop_vms": True}

    # Without the Vault credential the site job fails at the first secret (the bootstrap role's
    # argument check reads the token), before any write.
    since = twin.last_seq()
    job = awx.launch("Harvester site", site_vars, vault=False)
    assert (job.status, job.rc) == ("failed", 2), job.stdout[-3000:]
    failed = [e["event_data"] for e in job.events if e["event"] == "runner_on_failed"]
    assert len(failed) == 1 and failed[0]["role"] == "bootstrap", failed
    assert "Attempting to decrypt but no vault secrets found" in failed[0]["res"]["msg"]
    assert api_writes(twin, since) == []

    # Site: converges the twin, from the collection installed from the tarball.
    job = awx.launch("Harvester site", site_vars)
    job.assert_successful()
    assert job.stdout.startswith("Vault password:"), "the vault password is asked for, and answered"
    assert job.stats()["changed"].get("harvester-lab", 0) > 0
    role_tasks = [e["event_data"]["task_path"] for e in job.events
                  if e["event"] == "runner_on_ok" and "/roles/" in (e["event_data"].get("task_path") or "")]
    assert role_tasks and all(OWN_COLLECTION in path for path in role_tasks), sorted(set(role_tasks))[:5]
    assert not [p for p in role_tasks if str(ROOT) in p]
    assert yaml.safe_load((awx.publish / "ms02-1.yaml").read_text())["token"] == VAULT_VALUES["vault_harvester_token"]
    assert {"platform", "cluster"} <= {n["metadata"]["name"] for n in get(twin, NAD_PATH)["items"]}
    assert json.loads(get(twin, f"{SETTINGS}/storage-network")["value"])["vlan"] == 60
    assert json.loads(get(twin, f"{SETTINGS}/backup-target")["value"])["endpoint"] == "nfs://10.10.10.20:/volume1/harvester-backups"

    # Site again: nothing left to change, as the job events count it.
    job = awx.launch("Harvester site", site_vars)
    job.assert_successful()
    assert job.stats()["changed"] == {}, job.stats()
    assert [e for e in job.events if e["event"] == "runner_on_ok" and e["event_data"]["res"].get("changed")] == []

    # Verify: no drift, returned as the job's artifact.
    job = awx.launch("Harvester verify (drift)")
    job.assert_successful()
    assert job.stats()["artifact_data"]["homelab_harvester_drift"] == []

    # Health: a healthy lab.
    job = awx.launch("Harvester health")
    job.assert_successful()
    assert job.stats()["artifact_data"]["homelab_harvester_health"] == {"healthy": True, "problems": []}

    # Backup with the survey's defaults: the VM labelled for the nightly set gets its backup.
    twin.session().patch(twin.url(f"{VMS}/lab-router"), data=json.dumps({"metadata": {"labels": {"homelab.harvester/backup": "nightly"}}}),
                         headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    job = awx.launch("Harvester backup")
    job.assert_successful()
    backups = get(twin, BACKUPS)["items"]
    assert [b["spec"]["source"]["name"] for b in backups] == ["lab-router"] and backups[0]["status"]["readyToUse"]

    # Upgrade, launched with job type check (the template asks for it): the pre-flight only, nothing written.
    since = twin.last_seq()
    with image_files.serve() as files:
        job = awx.launch("Harvester upgrade", {"upgrade_version": "v1.9.0", "upgrade_iso_url": f"{files}/disk.img",
                                               "upgrade_iso_checksum": image_files.DISK_SHA512}, job_type="check")
    job.assert_successful()
    assert "would start" in job.stdout
    assert api_writes(twin, since) == []

    # Maintenance with the survey's default (every node): one node after the other, all back.
    job = awx.launch("Harvester maintenance")
    job.assert_successful()
    entered = job.task_events("Put the node into maintenance mode (its VMs live-migrate to the other nodes)")
    assert [e["event_data"]["host"] for e in entered] == ["ms02-1", "ms02-2", "ms02-3"]
    assert all(e["event_data"]["res"]["changed"] for e in entered)
    nodes = get(twin, NODES)["items"]
    assert all(MAINTAIN not in (n["metadata"].get("annotations") or {}) and not n["spec"].get("unschedulable") for n in nodes)
    assert re.search(r"lab-router -> ms02-\d", job.stdout)
