# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.harvester.amt_power runs in the worker when its connection is local (plugin_utils/action.py)."""

from __future__ import annotations

from ansible_collections.homelab.harvester.plugins.plugin_utils.action import InWorkerAction


class ActionModule(InWorkerAction):
    pass
