# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the parts of a Kubernetes object every kind has, one way everywhere: its ``metadata``
and the conditions of its status (``status.conditions``, the convention Harvester, Longhorn,
KubeVirt and Cluster API follow)."""

from __future__ import annotations


def metadata(obj):
    """``obj``'s ``metadata``; ``{}`` for no object or none."""
    return (obj or {}).get("metadata") or {}


def condition(obj, type_):
    """The condition of type ``type_`` in ``obj``'s ``status.conditions``; ``{}`` when there is
    none (so ``condition(obj, t).get("status")`` needs no check)."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return {}
