"""Specific needs of individuals, modelled on the UNHCR specific-needs categories (proGres).

Codes are the short category codes used in UNHCR registration (the top-level categories of the
"Specific Needs Codes" list, 2009 revision), each with an English and an Arabic label. A person
may have several. Input (forms, files, API) is checked against this list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from havens.exceptions import ValidationFailed


@dataclass(frozen=True, slots=True)
class SpecificNeed:
    code: str
    label_en: str
    label_ar: str


SPECIFIC_NEEDS: tuple[SpecificNeed, ...] = (
    SpecificNeed("CR", "Child at risk", "طفل معرض للخطر"),
    SpecificNeed("UASC", "Unaccompanied or separated child", "طفل غير مصحوب أو منفصل عن ذويه"),
    SpecificNeed("ER", "Older person at risk", "مسن معرض للخطر"),
    SpecificNeed("DS", "Disability", "إعاقة"),
    SpecificNeed("SM", "Serious medical condition", "حالة طبية خطيرة"),
    SpecificNeed("SP", "Single parent or caregiver", "والد وحيد أو مقدم رعاية وحيد"),
    SpecificNeed("WR", "Woman at risk", "امرأة معرضة للخطر"),
    SpecificNeed("LP", "Specific legal and physical protection needs",
                 "احتياجات حماية قانونية وجسدية محددة"),
    SpecificNeed("TR", "Torture survivor", "ناجٍ من التعذيب"),
    SpecificNeed("SV", "Survivor of sexual or gender-based violence",
                 "ناجٍ من العنف الجنسي أو القائم على النوع الاجتماعي"),
    SpecificNeed("PG", "Pregnant or lactating woman", "امرأة حامل أو مرضعة"),
    SpecificNeed("FU", "Family unity (family separated)", "لم شمل الأسرة (أسرة مشتتة)"),
)

BY_CODE: dict[str, SpecificNeed] = {need.code: need for need in SPECIFIC_NEEDS}
CODES: tuple[str, ...] = tuple(BY_CODE)


def split_codes(raw: str) -> list[str]:
    """Codes from a cell: separated by ';', ',' or spaces (how Kobo exports select_multiple)."""
    return [part for part in raw.replace(";", " ").replace(",", " ").upper().split() if part]


def check_codes(codes: Iterable[str], *, field: str = "specific_needs") -> list[str]:
    """The codes upper-cased, de-duplicated, in list order; unknown codes are an error."""
    wanted = {code.strip().upper() for code in codes if code and code.strip()}
    unknown = sorted(wanted - BY_CODE.keys())
    if unknown:
        raise ValidationFailed(
            f"Unknown specific-needs code(s): {', '.join(unknown)} (known: {', '.join(CODES)}).",
            field=field)
    return [code for code in CODES if code in wanted]
