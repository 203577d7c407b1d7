# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Doc fragments made from other fragments, so that an entry is written once however many
fragments carry it: ``combined`` joins whole fragments (homelab.harvester.module), ``variant``
derives one from another with a few entries changed (the attribute variants).

ansible-doc reads a fragment's YAML from the class attribute; these build that text when the
fragment is imported. A built attribute is annotated (``INFO: str = ...``): ansible-test's yamllint
reads only plain string assignments of a fragment class, and these are not literals to lint.
"""

from __future__ import annotations

import yaml


def combined(*documents):
    """One fragment's YAML from several: their ``options`` and ``attributes`` side by side, their
    ``notes`` in order. Two parts that both define an entry are a mistake, not a merge."""
    merged = {}
    for text in documents:
        for section, value in yaml.safe_load(text).items():
            if isinstance(value, dict):
                target = merged.setdefault(section, {})
                twice = set(target) & set(value)
                if twice:
                    raise ValueError(f"{section} {sorted(twice)} defined by two fragments")
                target.update(value)
            elif isinstance(value, list):
                merged.setdefault(section, []).extend(value)
            else:
                raise ValueError(f"a fragment's {section} is neither a mapping nor a list")
    return _dump(merged)


def variant(document, section, remove=(), change=None, add=None):
    """``document`` with entries of ``section`` removed, the keys of others replaced
    (``change``: {entry: {key: value}}) and new ones put first (``add``: {entry: {key: value}})."""
    doc = yaml.safe_load(document)
    entries = doc[section]
    for name in remove:
        del entries[name]
    for name, keys in (change or {}).items():
        entries[name].update(keys)
    twice = set(add or {}) & set(entries)
    if twice:
        raise ValueError(f"{section} {sorted(twice)} added but already there")
    doc[section] = {**(add or {}), **entries}
    return _dump(doc)


def _dump(doc):
    return yaml.safe_dump(doc, sort_keys=False, width=120, allow_unicode=True)
