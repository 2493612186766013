"""Structured differences between the terms of two versions.

Paths read like ``commitments[IOM-1].target`` or ``parties[NRC].role``: list items that have an
identity (organisations, parties, commitments) are matched by it, not by position, so inserting
a commitment does not show every later one as changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    path: str
    change: str  # "changed" | "added" | "removed"
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _identity(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    if "ref" in item:
        return str(item["ref"])
    if "organisation" in item and isinstance(item["organisation"], dict):
        return str(item["organisation"].get("acronym"))
    if "acronym" in item:
        return str(item["acronym"])
    return None


def diff_terms(old: Any, new: Any, path: str = "") -> list[Change]:
    """Changes from ``old`` to ``new`` terms, in a stable order."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else key
            if key not in old:
                changes.append(Change(sub, "added", new=new[key]))
            elif key not in new:
                changes.append(Change(sub, "removed", old=old[key]))
            else:
                changes.extend(diff_terms(old[key], new[key], sub))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        old_ids = [_identity(i) for i in old]
        new_ids = [_identity(i) for i in new]
        keyed = all(i is not None for i in old_ids + new_ids) and (
            len(set(old_ids)) == len(old_ids) and len(set(new_ids)) == len(new_ids))
        if keyed:
            before = dict(zip(old_ids, old, strict=True))
            after = dict(zip(new_ids, new, strict=True))
            changes = []
            for ident in sorted(set(before) | set(after), key=str):
                sub = f"{path}[{ident}]"
                if ident not in before:
                    changes.append(Change(sub, "added", new=after[ident]))
                elif ident not in after:
                    changes.append(Change(sub, "removed", old=before[ident]))
                else:
                    changes.extend(diff_terms(before[ident], after[ident], sub))
            return changes
        if all(not isinstance(i, dict | list) for i in old + new):
            removed = [i for i in old if i not in new]
            added = [i for i in new if i not in old]
            return ([Change(f"{path}[{i}]", "removed", old=i) for i in removed]
                    + [Change(f"{path}[{i}]", "added", new=i) for i in added])
    if old != new:
        return [Change(path, "changed", old=old, new=new)]
    return []


def describe(change: Change) -> str:
    """One readable line for the command line."""
    if change.change == "added":
        return f"+ {change.path}: {_short(change.new)}"
    if change.change == "removed":
        return f"- {change.path}: {_short(change.old)}"
    return f"~ {change.path}: {_short(change.old)} → {_short(change.new)}"


def _short(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"acronym", "id"}:
        return str(value["acronym"])
    if isinstance(value, dict) and "what" in value:
        return f"{value.get('party', {}).get('acronym', '?')}: {value['what']}"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
