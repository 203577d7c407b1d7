# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The conditions of an object's status (``status.conditions``, the Kubernetes convention that
Harvester, Longhorn, KubeVirt and Cluster API follow), read one way everywhere."""

from __future__ import annotations


def condition(obj, type_):
    """The condition of type ``type_`` in ``obj``'s ``status.conditions``; ``{}`` when there is
    none (so ``condition(obj, t).get("status")`` needs no check)."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return {}
