"""Who may do what: the role table and the principal every service receives.

Rules are checked in the services (``require``) and in their queries (scoping by
organisation), never only in views. Default deny: an action missing from the table is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from havens.exceptions import PermissionDenied
from havens.orgs.models import OrgKind, Role

ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.admin, Role.coordinator})

#: action -> roles allowed. Organisation scoping is applied by each service on top of this.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "orgs.read": ALL_ROLES,
    "orgs.manage": frozenset({Role.admin}),
    "users.manage": frozenset({Role.admin}),
    "tokens.own": ALL_ROLES,
    "audit.read": frozenset({Role.admin}),
    "geo.read": ALL_ROLES,
    "geo.manage": frozenset({Role.admin}),
    "zones.read": ALL_ROLES,
    "zones.write": STAFF,
    "sites.write": STAFF,
    "agreements.read": ALL_ROLES,
    "agreements.negotiate": STAFF | {Role.government_liaison},
    "agreements.sign": STAFF | {Role.government_liaison},
    "agreements.withdraw": frozenset({Role.admin, Role.government_liaison}),
    "people.aggregate": ALL_ROLES,
    "people.personal": frozenset(
        {Role.admin, Role.coordinator, Role.registrar, Role.protection_officer}
    ),
    "people.register": frozenset({Role.admin, Role.coordinator, Role.registrar}),
    "people.import": frozenset({Role.admin, Role.coordinator, Role.registrar}),
    "linkage.review": frozenset({Role.admin, Role.coordinator, Role.registrar}),
    "assistance.read": ALL_ROLES,
    "assistance.write": STAFF | {Role.service_provider},
    "assistance.adapt": STAFF,  # threshold overrides, waivers of commitments
    "incidents.read": ALL_ROLES,
    "incidents.report": ALL_ROLES - {Role.viewer},
    "incidents.sensitive": frozenset({Role.protection_officer}),
    "returns.read": ALL_ROLES,
    "returns.write": STAFF | {Role.registrar, Role.protection_officer},
    "returns.override": STAFF,
    "exports.read": ALL_ROLES,
    "sharing.read": ALL_ROLES,  # data-sharing agreements of which the org is a party
    "sharing.propose": STAFF,
    "sharing.sign": STAFF | {Role.government_liaison},
    "people.retention": frozenset({Role.admin}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as services see it."""

    user_id: int | None
    organisation_id: int | None
    role: Role
    org_kind: OrgKind | None = None
    email: str = ""

    @classmethod
    def system(cls) -> Principal:
        """The operator at the command line: an administrator outside any organisation."""
        return cls(user_id=None, organisation_id=None, role=Role.admin, email="system")

    @property
    def is_system(self) -> bool:
        return self.user_id is None


def can(principal: Principal, action: str) -> bool:
    allowed = PERMISSIONS.get(action)
    return allowed is not None and principal.role in allowed


def require(principal: Principal, action: str) -> None:
    if not can(principal, action):
        raise PermissionDenied(f"Your role ({principal.role.value}) may not do this: {action}.")
