# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module of the collection works with only what AWX's "OpenShift or Kubernetes API Bearer
Token" credential injects into a job: K8S_AUTH_HOST, K8S_AUTH_API_KEY, and K8S_AUTH_VERIFY_SSL
'True' with K8S_AUTH_SSL_CA_CERT (the path of a file holding the CA), or K8S_AUTH_VERIFY_SSL
'False' without a CA (awx/main/models/credential/injectors.py ``kubernetes_bearer_token``).
No kubeconfig, no module option, an empty HOME. The modules are those under plugins/modules
when the test runs, each with its harmless task of tests/integration/test_action_group.py."""

from __future__ import annotations

import pytest

from tests.integration.playbooks import run_tasks
from tests.integration.test_action_group import TASKS, api_modules, assert_reached_the_api

pytestmark = [pytest.mark.twin, pytest.mark.integration]

MODULES = api_modules()


def awx_env(twin, home, verify=True):
    """The environment of an AWX job with that credential (and nothing else to find a cluster by)."""
    env = {"K8S_AUTH_HOST": twin.server, "K8S_AUTH_API_KEY": twin.token, "HOME": str(home)}
    if verify:
        env.update(K8S_AUTH_VERIFY_SSL="True", K8S_AUTH_SSL_CA_CERT=str(twin.ca_file))
    else:
        env["K8S_AUTH_VERIFY_SSL"] = "False"
    return env


def run_with_awx_env(twin, tmp_path, tasks, verify=True):
    """``tasks`` (``{module: args}``) in one playbook with only the credential's environment."""
    home = tmp_path / "home"  # empty: no ~/.kube/config to fall back on
    home.mkdir(exist_ok=True)
    results, reqs, stdout = run_tasks(twin, tmp_path, None, tasks, env=awx_env(twin, home, verify), kubeconfig=False)
    return results, reqs, stdout + (tmp_path / "results.json").read_text()


def test_every_module_has_a_task():
    """A module added to plugins/modules needs its harmless task in test_action_group.TASKS."""
    assert [m for m in MODULES if m not in TASKS] == []


def test_the_awx_credential_environment_alone_is_enough(twin, tmp_path):
    """Every module, in one playbook run as an AWX job runs it."""
    results, reqs, output = run_with_awx_env(twin, tmp_path, [{f"homelab.harvester.{m}": TASKS[m]} for m in MODULES])
    for module, result in zip(MODULES, results, strict=True):
        assert_reached_the_api(module, result)
    assert reqs, "no module reached the API"
    assert [r for r in reqs if r["status"] == 401] == []
    assert twin.token not in output


def test_verify_ssl_false_without_a_ca_works_too(twin, tmp_path):
    """The shape AWX injects when the credential has no CA (or Verify SSL is off)."""
    (result,), reqs, output = run_with_awx_env(twin, tmp_path, [{"homelab.harvester.harvester_node_info": TASKS["harvester_node_info"]}],
                                               verify=False)
    assert not result.get("failed"), result
    assert [n["name"] for n in result["nodes"]] == ["ms02-1"]
    assert reqs and all(r["status"] == 200 for r in reqs)
    assert twin.token not in output


def test_without_the_credential_the_modules_say_what_is_missing(twin, tmp_path):
    """The same run with the credential left off the job template: a clear failure, no request."""
    home = tmp_path / "home"
    home.mkdir()
    (result,), reqs, dummy = run_tasks(twin, tmp_path, "homelab.harvester.harvester_node_info", [{}],
                                       env={"HOME": str(home)}, kubeconfig=False)
    assert result["failed"] and result["msg"].startswith("no Harvester API connection configured: set host (K8S_AUTH_HOST)")
    assert reqs == []
