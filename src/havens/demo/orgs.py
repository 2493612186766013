"""Demo organisations and users (one per role), with documented demo passwords."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from havens.orgs import service as org_service
from havens.orgs.models import OrgKind, Role
from havens.orgs.permissions import Principal
from havens.orgs.schemas import OrganisationCreate, UserCreate

ORGANISATIONS = [
    ("Ministry of Local Administration and Environment", "وزارة الإدارة المحلية والبيئة",
     "MOLAE", OrgKind.host_government, "SYR"),
    ("UN High Commissioner for Refugees", "المفوضية السامية للأمم المتحدة لشؤون اللاجئين",
     "UNHCR", OrgKind.un_agency, "CHE"),
    ("International Organization for Migration", "المنظمة الدولية للهجرة",
     "IOM", OrgKind.un_agency, "CHE"),
    ("Syrian Arab Red Crescent", "الهلال الأحمر العربي السوري", "SARC", OrgKind.ngo, "SYR"),
    ("Norwegian Refugee Council", "المجلس النرويجي للاجئين", "NRC", OrgKind.ngo, "NOR"),
    ("Ministry of Foreign Affairs of Türkiye", "وزارة الخارجية التركية",
     "TR-MFA", OrgKind.state, "TUR"),
    ("Federal Foreign Office of Germany", "وزارة الخارجية الألمانية",
     "DE-FFO", OrgKind.state, "DEU"),
]


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    org: str
    role: Role

    @property
    def password(self) -> str:
        # Demo only: documented in README.md, printed by `havens demo load`.
        return f"demo-{self.role.value.replace('_', '-')}-2026"


USERS = [
    DemoUser("admin@unhcr.demo.havens.org", "Amal Haddad", "UNHCR", Role.admin),
    DemoUser("coordinator@unhcr.demo.havens.org", "Omar Khalil", "UNHCR", Role.coordinator),
    DemoUser("registrar@unhcr.demo.havens.org", "Rania Saleh", "UNHCR", Role.registrar),
    DemoUser("protection@unhcr.demo.havens.org", "Lina Mansour", "UNHCR",
             Role.protection_officer),
    DemoUser("services@nrc.demo.havens.org", "Ingrid Berg", "NRC", Role.service_provider),
    DemoUser("liaison@molae.demo.havens.org", "Fadi Darwish", "MOLAE", Role.government_liaison),
    DemoUser("viewer@ffo.demo.havens.org", "Jonas Weber", "DE-FFO", Role.viewer),
    DemoUser("coordinator@iom.demo.havens.org", "Sara Yousef", "IOM", Role.coordinator),
    DemoUser("registrar@sarc.demo.havens.org", "Hasan Ali", "SARC", Role.registrar),
]


def load(db: Session, *, actor: Principal) -> None:
    for name, name_ar, acronym, kind, country in ORGANISATIONS:
        org_service.create_organisation(db, actor=actor, data=OrganisationCreate(
            name=name, name_ar=name_ar, acronym=acronym, kind=kind, country=country))
    for user in USERS:
        org_service.create_user(db, actor=actor, data=UserCreate(
            email=user.email, display_name=user.name, organisation=user.org, role=user.role,
            password=user.password))
