# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module shares: check mode, diff mode, the action group and how a task
executes (the action plugin, async). A module adds only its own ``details`` (merged into these by
ansible-doc):

    extends_documentation_fragment:
      - homelab.harvester.connection
      - homelab.harvester.attributes              # a module that changes things
      - homelab.harvester.attributes.info_module  # a module that only reads
      - homelab.harvester.attributes.execution    # every module: the action plugin, async
      - homelab.harvester.attributes.standalone   # a module outside the API's action group (all of the above)

A module that talks to the API lists homelab.harvester.module (or module.info) instead: the
connection options and these attributes in one (plugins/doc_fragments/module.py).
"""

from __future__ import annotations


class ModuleDocFragment:

    # One entry per attribute, so that each variant below is put together from the same text.
    _CHECK_MODE = r"""
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
"""
    _DIFF_MODE = r"""
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""
    _ACTION_GROUP = r"""
  action_group:
    description: Use C(group/homelab.harvester.harvester) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - homelab.harvester.harvester
"""
    # How a task executes (plugins/plugin_utils/action.py), the same for every module.
    _EXECUTION = r"""
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - >-
        On a local connection (C(connection=local), or C(delegate_to=localhost)) the whole module runs inside the
        ansible-playbook worker, with the controller's Python (C(ansible_playbook_python)), and prints the progress of
        long waits as it happens.
      - >-
        It runs as an ordinary module instead when the task is C(async), uses C(become), targets another connection,
        or when the variable C(homelab_harvester_in_process) or the controller's environment variable
        E(HOMELAB_HARVESTER_IN_PROCESS) is false. Both ways give the same result.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details: An C(async) task runs as an ordinary module (the async wrapper needs a module process).
"""

    DOCUMENTATION = "\nattributes:" + _CHECK_MODE + _DIFF_MODE + _ACTION_GROUP

    INFO_MODULE = "\nattributes:" + _CHECK_MODE + r"""    details: The module only reads; it returns the same answer in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: Nothing is ever changed, so there is no diff.
""" + _ACTION_GROUP.lstrip("\n")

    EXECUTION = "\nattributes:" + _EXECUTION

    # A module outside the API's action group (it talks to no Kubernetes API): it says in its own
    # details of action where it runs.
    STANDALONE = "\nattributes:" + _CHECK_MODE + _DIFF_MODE + _EXECUTION

    # Every attribute of a module that talks to the API, for homelab.harvester.module (module.py).
    MODULE = DOCUMENTATION + _EXECUTION.lstrip("\n")
    MODULE_INFO = INFO_MODULE + _EXECUTION.lstrip("\n")
