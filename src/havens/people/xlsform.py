"""The registration XLSForm for KoboToolbox/ODK, matching the import.

Field names are the import's canonical columns, inside a ``household`` group with a ``member``
repeat, so a Kobo export (``household/member/given_name``, repeat rows on their own sheet linked
by ``_parent_index``) imports as is. Labels are in English and Arabic.
"""

from __future__ import annotations

import io
from typing import Any

from havens.people.models import ConsentPurpose, DocumentType, Relationship
from havens.people.specific_needs import SPECIFIC_NEEDS

FORM_ID = "havens_registration"
EN, AR = "label::English (en)", "label::Arabic (ar)"
MSG_EN, MSG_AR = "constraint_message::English (en)", "constraint_message::Arabic (ar)"
SURVEY_HEADER = ("type", "name", EN, AR, "required", "relevant", "constraint", MSG_EN, MSG_AR,
                 "calculation", "appearance")

_RELATIONSHIP_AR = {
    "head": "رب الأسرة", "spouse": "زوج/زوجة", "child": "ابن/ابنة", "parent": "أب/أم",
    "sibling": "أخ/أخت", "grandchild": "حفيد/حفيدة", "grandparent": "جد/جدة",
    "other_relative": "قريب آخر", "non_relative": "ليس من الأقارب",
}
_DOCUMENT_AR = {"national_id": "بطاقة شخصية", "family_booklet": "دفتر عائلة",
                "passport": "جواز سفر", "birth_certificate": "شهادة ميلاد", "other": "أخرى"}
_PURPOSE_AR = {"registration": "التسجيل", "assistance": "المساعدة", "protection": "الحماية",
               "referral": "الإحالة", "durable_solutions": "الحلول الدائمة",
               "statistics": "الإحصاء"}

#: Who may consent for a household: its head, another adult member, or a child's guardian.
_CONSENT_GIVERS = (("head", "Head of household", "رب الأسرة"),
                   ("spouse", "Spouse of the head", "زوج/زوجة رب الأسرة"),
                   ("other_adult", "Another adult member", "فرد بالغ آخر من الأسرة"),
                   ("guardian", "Guardian of a child", "وصي على طفل"))


def _q(type_: str, name: str, en: str, ar: str, **extra: str) -> dict[str, str]:
    return {"type": type_, "name": name, EN: en, AR: ar, **extra}


def survey_rows() -> list[dict[str, str]]:
    date_ok = ". <= today()"
    return [
        _q("start", "start", "", ""), _q("end", "end", "", ""),
        _q("begin_group", "household", "Household", "الأسرة"),
        _q("calculate", "household_ref", "", "", calculation="once(uuid())"),
        _q("text", "site_code", "Site code (CP000000)", "رمز الموقع", required="yes",
           constraint="regex(., '^CP[0-9]{6}$')",
           **{MSG_EN: "CP followed by 6 digits", MSG_AR: "CP متبوعة بستة أرقام"}),
        _q("select_one yes_no", "consent", "Does the household consent to registration?",
           "هل توافق الأسرة على التسجيل؟", required="yes", constraint=". = 'yes'",
           **{MSG_EN: "Registration needs consent", MSG_AR: "التسجيل يتطلب الموافقة"}),
        _q("select_one consent_giver", "consent_given_by", "Who gave the consent?",
           "من أعطى الموافقة؟", required="yes"),
        _q("select_one yes_no", "consent_sharing",
           "Consent to share the data with partner organisations?",
           "هل توافق على مشاركة البيانات مع المنظمات الشريكة؟", required="yes"),
        _q("select_multiple purpose", "consent_purposes", "For which purposes?",
           "لأي أغراض؟", relevant="${consent_sharing} = 'yes'"),
        _q("text", "origin_pcode", "Sub-district of origin (admin3 P-code)",
           "الناحية الأصلية (رمز P)", constraint="regex(., '^SY[0-9]{6}$')"),
        _q("text", "origin_locality", "Village or neighbourhood of origin",
           "القرية أو الحي الأصلي"),
        _q("date", "displacement_date", "Date of displacement", "تاريخ النزوح",
           constraint=date_ok),
        _q("date", "arrival_date", "Date of arrival at the site", "تاريخ الوصول إلى الموقع",
           required="yes", constraint=date_ok),
        _q("begin_repeat", "member", "Household member", "فرد من الأسرة"),
        _q("select_one relationship", "relationship", "Relationship to the head",
           "صلة القرابة برب الأسرة", required="yes"),
        _q("text", "given_name_ar", "Given name (Arabic)", "الاسم", required="yes"),
        _q("text", "father_name_ar", "Father's name (Arabic)", "اسم الأب"),
        _q("text", "grandfather_name_ar", "Grandfather's name (Arabic)", "اسم الجد"),
        _q("text", "family_name_ar", "Family name (Arabic)", "الكنية"),
        _q("text", "given_name_en", "Given name (Latin)", "الاسم بالأحرف اللاتينية"),
        _q("text", "father_name_en", "Father's name (Latin)", "اسم الأب بالأحرف اللاتينية"),
        _q("text", "grandfather_name_en", "Grandfather's name (Latin)",
           "اسم الجد بالأحرف اللاتينية"),
        _q("text", "family_name_en", "Family name (Latin)", "الكنية بالأحرف اللاتينية"),
        _q("select_one sex", "sex", "Sex", "الجنس", required="yes"),
        _q("select_one yes_no", "dob_known", "Is the exact date of birth known?",
           "هل تاريخ الميلاد الدقيق معروف؟", required="yes"),
        _q("date", "date_of_birth", "Date of birth", "تاريخ الميلاد", required="yes",
           relevant="${dob_known} = 'yes'", constraint=date_ok),
        _q("integer", "birth_year", "Year of birth (estimated)", "سنة الميلاد (تقديرية)",
           required="yes", relevant="${dob_known} = 'no'",
           constraint=". >= 1900 and . <= format-date(today(), '%Y')"),
        _q("select_multiple specific_need", "specific_needs", "Specific needs",
           "الاحتياجات الخاصة"),
        _q("text", "phone", "Phone number", "رقم الهاتف", appearance="numbers"),
        _q("select_one document_type", "document_type", "Identity document", "وثيقة الهوية"),
        _q("text", "document_number", "Document number", "رقم الوثيقة",
           relevant="${document_type} != ''"),
        _q("end_repeat", "", "", ""),
        _q("end_group", "", "", ""),
    ]


def choice_rows() -> list[dict[str, str]]:
    rows = [
        {"list_name": "yes_no", "name": "yes", EN: "Yes", AR: "نعم"},
        {"list_name": "yes_no", "name": "no", EN: "No", AR: "لا"},
        {"list_name": "sex", "name": "M", EN: "Male", AR: "ذكر"},
        {"list_name": "sex", "name": "F", EN: "Female", AR: "أنثى"},
    ]
    rows += [{"list_name": "consent_giver", "name": name, EN: en, AR: ar}
             for name, en, ar in _CONSENT_GIVERS]
    rows += [{"list_name": "relationship", "name": r.value,
              EN: r.value.replace("_", " ").capitalize(), AR: _RELATIONSHIP_AR[r.value]}
             for r in Relationship]
    rows += [{"list_name": "document_type", "name": d.value,
              EN: d.value.replace("_", " ").capitalize(), AR: _DOCUMENT_AR[d.value]}
             for d in DocumentType]
    rows += [{"list_name": "purpose", "name": p.value,
              EN: p.value.replace("_", " ").capitalize(), AR: _PURPOSE_AR[p.value]}
             for p in ConsentPurpose]
    rows += [{"list_name": "specific_need", "name": n.code, EN: n.label_en, AR: n.label_ar}
             for n in SPECIFIC_NEEDS]
    return rows


def settings_row(version: str = "1") -> dict[str, str]:
    return {"form_title": "Havens household registration", "form_id": FORM_ID,
            "version": version, "default_language": "English (en)", "style": "theme-grid"}


def build_xlsform() -> bytes:
    """The XLSForm workbook (survey, choices, settings) as XLSX bytes."""
    from openpyxl import Workbook

    book = Workbook()
    sheets: list[tuple[str, tuple[str, ...], list[dict[str, Any]]]] = [
        ("survey", SURVEY_HEADER, survey_rows()),
        ("choices", ("list_name", "name", EN, AR), choice_rows()),
        ("settings", tuple(settings_row()), [settings_row()]),
    ]
    if book.active is not None:
        book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(header))
        for row in rows:
            sheet.append([row.get(column, "") or None for column in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
