"""Words that reach pages as data (role, kind and status values, common service messages).

Listed here with ``N_`` so that message extraction finds them; templates translate them with
``_(value)``.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the conventional gettext marker name
    return message


ROLES = [
    N_("admin"),
    N_("coordinator"),
    N_("registrar"),
    N_("service_provider"),
    N_("protection_officer"),
    N_("government_liaison"),
    N_("viewer"),
]
ORG_KINDS = [N_("host_government"), N_("un_agency"), N_("ngo"), N_("state"), N_("other")]
ZONE_STATUSES = [
    N_("proposed"),
    N_("negotiating"),
    N_("consented"),
    N_("operational"),
    N_("suspended"),
    N_("closing"),
    N_("closed"),
    N_("rejected"),
]
VERSION_STATUSES = [N_("open"), N_("signed"), N_("superseded")]
PARTY_ROLES = [
    N_("host_government"),
    N_("administrator"),
    N_("guarantor"),
    N_("supporting_agency"),
    N_("observer"),
]
HOUSEHOLD_STATUSES = [N_("present"), N_("departed"), N_("returned"), N_("relocated")]
RELATIONSHIPS = [
    N_("head"),
    N_("spouse"),
    N_("child"),
    N_("parent"),
    N_("sibling"),
    N_("grandchild"),
    N_("grandparent"),
    N_("other_relative"),
    N_("non_relative"),
]
SEXES = [N_("sex_M"), N_("sex_F")]
DOCUMENT_TYPES = [
    N_("national_id"),
    N_("family_booklet"),
    N_("passport"),
    N_("birth_certificate"),
    N_("other"),
]
DESTINATIONS = [
    N_("other_site"),
    N_("other_zone"),
    N_("return_to_origin"),
    N_("abroad"),
    N_("unknown"),
]
CONSENT_PURPOSES = [
    N_("registration"),
    N_("assistance"),
    N_("protection"),
    N_("referral"),
    N_("durable_solutions"),
    N_("statistics"),
]
STANDARD_STATUSES = [N_("met"), N_("not_met"), N_("unknown")]
SAFETY_STATUSES = [N_("safe"), N_("at_risk"), N_("unsafe")]
INCIDENT_TYPES = [N_("shelling"), N_("armed_presence"), N_("crime"), N_("eviction_threat"),
                  N_("fire"), N_("explosive_remnants"), N_("gbv"), N_("child_protection")]
DECISIONS = [N_("confirmed"), N_("superseded")]
MESSAGES = [
    N_("Wrong email or password."),
    N_("Please log in."),
    N_("Too many failed logins for this account; try again in 15 minutes."),
]
