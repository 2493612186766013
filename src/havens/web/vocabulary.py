"""Words that reach pages as data (role, kind and status values, common service messages).

Listed here with ``N_`` so that message extraction finds them; templates translate them with
``_(value)``.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the conventional gettext marker name
    return message


ROLES = [N_("admin"), N_("coordinator"), N_("registrar"), N_("service_provider"),
         N_("protection_officer"), N_("government_liaison"), N_("viewer")]
ORG_KINDS = [N_("host_government"), N_("un_agency"), N_("ngo"), N_("state"), N_("other")]
MESSAGES = [N_("Wrong email or password."), N_("Please log in."),
            N_("Too many failed logins for this account; try again in 15 minutes.")]
