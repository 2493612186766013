"""The access model in one place: may this caller do this action on this object?

``may(actor, action, obj)`` is the single answer, used by the services for object-level decisions;
``require_may`` raises. Default deny: an action without a rule here, or an object of a type the
rule does not know, is refused.

Two layers, always both:

1. the role gate — ``PERMISSIONS`` in ``havens.orgs.permissions`` (``can``);
2. the object rule — whose object it is (registering organisation, reporting organisation,
   parties of an agreement, recipient of a data-sharing agreement).

Where a service filters in SQL for speed (lists, searches), it builds the filter from the same
small functions below (``personal_data_organisation``, ``sensitive_incidents_organisation``) so
that the filter and ``may`` cannot drift apart; ``tests/security/test_policy.py`` checks that
they agree for every role and organisation.

The rules (ICRC Handbook on Data Protection in Humanitarian Action; IASC Operational Guidance):

* personal data of a household: users with ``people.personal`` of the registering organisation;
  other organisations only through a data-sharing agreement in force (``people.shared``, decided
  with the agreement in hand by ``havens.sharing.service``). The host government and states see
  aggregates only unless such an agreement says otherwise. The command-line operator (system)
  acts for no organisation and must act as a named user to see personal data.
* a sensitive incident (gender-based violence, child protection...): protection officers of the
  reporting organisation only.
* an agreement: the organisations that are its parties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from havens.exceptions import NotFound, PermissionDenied
from havens.orgs.permissions import Principal, can


class OwnedObject(Protocol):
    organisation_id: int


def personal_data_organisation(actor: Principal) -> int | None:
    """The organisation whose personal data the caller may see as its own, or ``None``."""
    if actor.organisation_id is None or not can(actor, "people.personal"):
        return None
    return actor.organisation_id


def sensitive_incidents_organisation(actor: Principal) -> int | None:
    """The organisation whose sensitive incidents the caller may see in full, or ``None``."""
    if actor.organisation_id is None or not can(actor, "incidents.sensitive"):
        return None
    return actor.organisation_id


def sees_aggregates_only(actor: Principal) -> bool:
    """Callers who get suppressed aggregates (no personal-data rights of their own)."""
    return not actor.is_system and personal_data_organisation(actor) is None


# --- object rules ----------------------------------------------------------------------------

def _own_personal(actor: Principal, obj: Any) -> bool:
    org = personal_data_organisation(actor)
    return org is not None and getattr(obj, "organisation_id", None) == org


def _own_register(actor: Principal, obj: Any) -> bool:
    return can(actor, "people.register") and _own_personal(actor, obj)


def _incident_details(actor: Principal, obj: Any) -> bool:
    if not getattr(obj, "sensitive", True):
        return True
    org = sensitive_incidents_organisation(actor)
    return org is not None and getattr(obj, "organisation_id", None) == org


def _party_ids(obj: Any) -> set[int]:
    """Organisation ids of an agreement's parties (any version) or a DSA's two sides."""
    ids: set[int] = set()
    for version in getattr(obj, "versions", None) or ():
        ids.update(p.organisation_id for p in version.parties)
    for name in ("provider_org_id", "recipient_org_id"):
        value = getattr(obj, name, None)
        if value is not None:
            ids.add(value)
    return ids


def _agreement_party(actor: Principal, obj: Any) -> bool:
    return actor.organisation_id is not None and actor.organisation_id in _party_ids(obj)


def _dsa_sign(actor: Principal, obj: Any) -> bool:
    return can(actor, "sharing.sign") and _agreement_party(actor, obj)


def _dsa_propose(actor: Principal, obj: Any) -> bool:
    # Only the registering (providing) organisation offers its data.
    return (can(actor, "sharing.propose") and actor.organisation_id is not None
            and getattr(obj, "provider_org_id", None) == actor.organisation_id)


def _shared_read(actor: Principal, obj: Any) -> bool:
    """``obj`` is a ``havens.sharing.service.Coverage``: a household and the agreement in force
    that covers it for the caller's organisation."""
    agreement, household = getattr(obj, "agreement", None), getattr(obj, "household", None)
    if agreement is None or household is None or not can(actor, "people.personal"):
        return False
    return (actor.organisation_id is not None
            and agreement.recipient_org_id == actor.organisation_id
            and agreement.provider_org_id == household.organisation_id
            and bool(getattr(obj, "in_force", False)) and bool(getattr(obj, "consented", False)))


Rule = Callable[[Principal, Any], bool]

#: object action -> rule. Each rule also implies its role gate.
RULES: dict[str, Rule] = {
    "people.personal": _own_personal,
    "people.register": _own_register,
    "people.shared": _shared_read,
    "incidents.details": _incident_details,
    "agreements.party": _agreement_party,
    "sharing.read": _agreement_party,
    "sharing.propose": _dsa_propose,
    "sharing.sign": _dsa_sign,
    "sharing.revoke": _dsa_sign,
}


def may(actor: Principal, action: str, obj: Any = None) -> bool:
    """Whether ``actor`` may do ``action`` (on ``obj``). Default deny."""
    if obj is None:  # the role gate alone
        return can(actor, action)
    rule = RULES.get(action)
    return rule is not None and rule(actor, obj)


def require_may(actor: Principal, action: str, obj: Any = None, *,
                hide: bool = True, what: str = "record", field: str | None = None) -> None:
    """Refuse unless ``may``. On an object the caller may not act on, answer ``NotFound``
    (``hide``: its existence is not disclosed) — or ``PermissionDenied`` when the caller may
    see the object but not do this to it."""
    if may(actor, action, obj):
        return
    if obj is not None and hide:
        raise NotFound(f"No such {what}.", field=field)
    raise PermissionDenied(f"Your role ({actor.role.value}) may not do this: {action}.")


def allowed(actor: Principal, action: str, objects: Iterable[Any]) -> list[Any]:
    """The objects of a list on which ``actor`` may do ``action``."""
    return [obj for obj in objects if may(actor, action, obj)]
