"""The IASC Framework on Durable Solutions for IDPs (2010): its eight criteria, the ratings an
area assessment gives them, and the rule that turns them into an area's return status.

The rule, applied to the latest assessment of an origin area (admin3 P-code):

1. **not_conducive** — long-term safety and security is *not met* or *unknown*: no one may
   promote or facilitate returns to an area whose safety is not established;
2. **conducive** — all eight criteria are *met*;
3. **partly_conducive** — otherwise (safety at least partly met, some criteria not yet met).

An area never assessed is ``not_assessed``; for facilitated returns it counts as not
conducive (agencies organise returns only to areas whose conditions are known).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Criterion(enum.StrEnum):
    safety_security = "safety_security"
    standard_of_living = "standard_of_living"
    livelihoods = "livelihoods"
    housing_land_property = "housing_land_property"
    documentation = "documentation"
    family_reunification = "family_reunification"
    participation = "participation"
    remedies_justice = "remedies_justice"


@dataclass(frozen=True)
class CriterionInfo:
    label_en: str
    label_ar: str


CRITERIA: dict[Criterion, CriterionInfo] = {
    Criterion.safety_security: CriterionInfo("Long-term safety and security",
                                             "السلامة والأمن على المدى الطويل"),
    Criterion.standard_of_living: CriterionInfo("Adequate standard of living",
                                                "مستوى معيشي لائق"),
    Criterion.livelihoods: CriterionInfo("Access to livelihoods", "الوصول إلى سبل العيش"),
    Criterion.housing_land_property: CriterionInfo(
        "Restoration of housing, land and property", "استعادة المسكن والأرض والممتلكات"),
    Criterion.documentation: CriterionInfo("Access to documentation", "الوصول إلى الوثائق"),
    Criterion.family_reunification: CriterionInfo("Family reunification", "لمّ شمل الأسرة"),
    Criterion.participation: CriterionInfo("Participation in public affairs",
                                           "المشاركة في الشؤون العامة"),
    Criterion.remedies_justice: CriterionInfo("Access to effective remedies and justice",
                                              "الوصول إلى سبل الانتصاف والعدالة"),
}


class Rating(enum.StrEnum):
    not_met = "not_met"
    partly_met = "partly_met"
    met = "met"
    unknown = "unknown"


class ReturnStatus(enum.StrEnum):
    not_conducive = "not_conducive"
    partly_conducive = "partly_conducive"
    conducive = "conducive"


NOT_ASSESSED = "not_assessed"


def area_status(ratings: Mapping[Criterion, Rating]) -> tuple[ReturnStatus, str]:
    """The return status the rule gives, and why (criteria not rated count as unknown)."""
    safety = ratings.get(Criterion.safety_security, Rating.unknown)
    if safety in (Rating.not_met, Rating.unknown):
        return ReturnStatus.not_conducive, f"long-term safety and security is {safety.value}"
    short = [c.value for c in Criterion if ratings.get(c, Rating.unknown) != Rating.met]
    if not short:
        return ReturnStatus.conducive, "all eight criteria are met"
    return ReturnStatus.partly_conducive, "not (fully) met: " + ", ".join(short)


def parse_rating(text: str) -> Rating | None:
    folded = text.strip().lower().replace(" ", "_").replace("-", "_")
    aliases = {"partly": Rating.partly_met, "partial": Rating.partly_met,
               "partially_met": Rating.partly_met, "not": Rating.not_met, "no": Rating.not_met,
               "yes": Rating.met, "": Rating.unknown, "?": Rating.unknown}
    return Rating(folded) if folded in Rating.__members__ else aliases.get(folded)
