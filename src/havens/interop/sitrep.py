"""The situation report (sitrep) as PDF: WeasyPrint from an HTML template with inline SVG.

One to four A4 pages, English or Arabic (right to left, Noto Naskh Arabic). The strings of
both languages are in :data:`STRINGS`, in one place; a missing Arabic string falls back to the
English one (a test checks there is none missing).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from havens.config import Settings, get_settings
from havens.exceptions import ValidationFailed
from havens.interop import disclosure, svgmap
from havens.interop.sitrep_data import Report, gather
from havens.orgs.permissions import Principal
from havens.web import charts

HERE = Path(__file__).parent
LANGS = ("en", "ar")

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Situation report", "ar": "تقرير الوضع"},
    "all_zones": {"en": "All safe zones", "ar": "جميع المناطق الآمنة"},
    "zone": {"en": "Safe zone", "ar": "المنطقة الآمنة"},
    "produced_by": {"en": "Produced by", "ar": "إعداد"},
    "date": {"en": "Date", "ar": "التاريخ"},
    "status": {"en": "Status", "ar": "الحالة"},
    "governorate": {"en": "Governorate", "ar": "المحافظة"},
    "key_figures": {"en": "Key figures", "ar": "الأرقام الرئيسية"},
    "individuals": {"en": "People present", "ar": "الأفراد الموجودون"},
    "households": {"en": "Households", "ar": "الأسر"},
    "sites": {"en": "Sites", "ar": "المواقع"},
    "capacity": {"en": "Capacity", "ar": "السعة"},
    "occupancy": {"en": "Occupancy", "ar": "نسبة الإشغال"},
    "arrivals_30d": {"en": "Arrivals (30 days)", "ar": "الوافدون (30 يوماً)"},
    "departures_30d": {"en": "Departures (30 days)", "ar": "المغادرون (30 يوماً)"},
    "abroad_30d": {"en": "of whom abroad", "ar": "منهم إلى خارج البلاد"},
    "map": {"en": "Map", "ar": "الخريطة"},
    "map_note": {"en": "Zone boundary, sites (dots) and administrative areas.",
                 "ar": "حدود المنطقة والمواقع (نقاط) والمناطق الإدارية."},
    "population": {"en": "Population by sex and age", "ar": "السكان حسب الجنس والعمر"},
    "women": {"en": "Women and girls", "ar": "النساء والفتيات"},
    "men": {"en": "Men and boys", "ar": "الرجال والفتيان"},
    "flows": {"en": "Arrivals and departures per week", "ar": "الوافدون والمغادرون أسبوعياً"},
    "arrivals": {"en": "Arrivals", "ar": "الوافدون"},
    "departures": {"en": "Departures", "ar": "المغادرون"},
    "services": {"en": "Services against standards", "ar": "الخدمات مقارنة بالمعايير"},
    "standard": {"en": "Standard", "ar": "المعيار"},
    "value": {"en": "Value", "ar": "القيمة"},
    "threshold": {"en": "Threshold", "ar": "الحد"},
    "gap": {"en": "Gap", "ar": "الفجوة"},
    "met": {"en": "met", "ar": "مستوفى"},
    "not_met": {"en": "not met", "ar": "غير مستوفى"},
    "unknown": {"en": "unknown", "ar": "غير معروف"},
    "services_summary": {"en": "Standards met", "ar": "المعايير المستوفاة"},
    "agreement": {"en": "Agreement", "ar": "الاتفاق"},
    "version_in_force": {"en": "Version in force", "ar": "النسخة السارية"},
    "none_in_force": {"en": "No version in force", "ar": "لا توجد نسخة سارية"},
    "no_agreement": {"en": "No agreement recorded", "ar": "لا يوجد اتفاق مسجل"},
    "not_party": {"en": "Agreement terms are shown to its parties only.",
                  "ar": "تُعرض شروط الاتفاق على أطرافه فقط."},
    "parties": {"en": "Parties", "ar": "الأطراف"},
    "administrator": {"en": "Administrator", "ar": "الجهة المديرة"},
    "period": {"en": "Period", "ar": "المدة"},
    "pending_signers": {"en": "Signatures pending", "ar": "تواقيع معلقة"},
    "withdrawals": {"en": "Withdrawals of consent", "ar": "سحب الموافقة"},
    "commitments": {"en": "Commitments pending or not kept",
                    "ar": "التزامات معلقة أو غير منفذة"},
    "no_commitments": {"en": "None.", "ar": "لا يوجد."},
    "pending": {"en": "pending", "ar": "معلق"},
    "broken": {"en": "broken", "ar": "غير منفذ"},
    "partly_kept": {"en": "partly kept", "ar": "منفذ جزئياً"},
    "due": {"en": "due", "ar": "الاستحقاق"},
    "incidents": {"en": "Security incidents (30 days)", "ar": "الحوادث الأمنية (30 يوماً)"},
    "no_incidents": {"en": "No incident reported.", "ar": "لم يُبلغ عن أي حادثة."},
    "total": {"en": "Total", "ar": "المجموع"},
    "safety": {"en": "Safety", "ar": "الوضع الأمني"},
    "safe": {"en": "safe", "ar": "آمن"},
    "at_risk": {"en": "at risk", "ar": "معرض للخطر"},
    "unsafe": {"en": "unsafe", "ar": "غير آمن"},
    "zones": {"en": "Zones", "ar": "المناطق"},
    "code": {"en": "Code", "ar": "الرمز"},
    "name": {"en": "Name", "ar": "الاسم"},
    "suppressed_note": {
        "en": "Counts of 1 to 4 show as <5, and some others as x, so that no one can be "
              "singled out.",
        "ar": "تظهر الأعداد من 1 إلى 4 بالشكل <5 وبعض الأعداد الأخرى بالرمز x حتى لا يمكن "
              "تمييز أي شخص."},
    "footer": {"en": "Havens — coordination of safe zones", "ar": "هافنز — تنسيق المناطق الآمنة"},
    # Zone statuses
    "proposed": {"en": "proposed", "ar": "مقترحة"},
    "negotiating": {"en": "negotiating", "ar": "قيد التفاوض"},
    "consented": {"en": "consented", "ar": "موافق عليها"},
    "operational": {"en": "operational", "ar": "عاملة"},
    "suspended": {"en": "suspended", "ar": "معلقة"},
    "closing": {"en": "closing", "ar": "قيد الإغلاق"},
    "closed": {"en": "closed", "ar": "مغلقة"},
    "rejected": {"en": "rejected", "ar": "مرفوضة"},
    # Sectors
    "wash": {"en": "WASH", "ar": "المياه والصرف الصحي والنظافة"},
    "shelter": {"en": "Shelter", "ar": "المأوى"},
    "food_security": {"en": "Food security", "ar": "الأمن الغذائي"},
    "health": {"en": "Health", "ar": "الصحة"},
    "education": {"en": "Education", "ar": "التعليم"},
    "protection": {"en": "Protection", "ar": "الحماية"},
    "site_management": {"en": "Site management", "ar": "إدارة المواقع"},
    # Standards (standards.json holds English names only)
    "std:water_lpd": {"en": "Water quantity per person", "ar": "كمية المياه للفرد"},
    "std:people_per_water_point": {"en": "People per water point",
                                   "ar": "عدد الأشخاص لكل نقطة مياه"},
    "std:people_per_toilet": {"en": "People per functional toilet",
                              "ar": "عدد الأشخاص لكل مرحاض صالح"},
    "std:covered_area_m2_pp": {"en": "Covered living space per person",
                               "ar": "مساحة المعيشة المسقوفة للفرد"},
    "std:site_area_m2_pp": {"en": "Site area per person", "ar": "مساحة الموقع للفرد"},
    "std:learners_per_classroom": {"en": "Learners per classroom",
                                   "ar": "عدد المتعلمين لكل صف"},
    "std:school_enrolment_pct": {"en": "School-age children (6-17) enrolled",
                                 "ar": "الأطفال في سن الدراسة (6-17) الملتحقون بالمدارس"},
}


class Translator:
    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValidationFailed("The report's language is en or ar.", field="lang")
        self.lang = lang

    def __call__(self, key: str, default: str | None = None) -> str:
        entry = STRINGS.get(key)
        if entry is None:
            return default if default is not None else key
        return entry.get(self.lang) or entry["en"]

    def incident(self, code: str) -> str:
        from havens.safety.incident_types import TYPES, IncidentType

        info = TYPES[IncidentType(code)]
        return info.label_ar if self.lang == "ar" else info.label_en


def _number(value: Any, digits: int = 0) -> Markup:
    """A figure, kept left-to-right inside Arabic text (else "<5" reads "5>")."""
    if value is None:
        text = "–"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, float) and digits:
        text = f"{value:,.{digits}f}"
    else:
        text = f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)
    return Markup('<span class="num" dir="ltr">{}</span>').format(text)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["num"] = _number
    return env


def _chart_value(value: disclosure.Count) -> int | None:
    return value if isinstance(value, int) else None


def render_html(report: Report) -> str:
    t = Translator(report.lang)
    # WeasyPrint does not shape Arabic inside SVG <text>: in Arabic, chart legends are HTML
    # (see the template) and the SVG carries only numbers and Latin labels.
    arabic = report.lang == "ar"
    pyramid = charts.pyramid(
        [charts.PyramidRow(label, _chart_value(f), _chart_value(m))
         for label, f, m in report.pyramid],
        title=t("population"), female_label="" if arabic else t("women"),
        male_label="" if arabic else t("men"), width=330)
    flows = charts.bars(
        [start.strftime("%d/%m") for start, _a, _d in report.weeks],
        [charts.Series("" if arabic else t("arrivals"),
                       [_chart_value(a) for _s, a, _d in report.weeks]),
         charts.Series("" if arabic else t("departures"),
                       [_chart_value(d) for _s, _a, d in report.weeks], colour=charts.ALT)],
        title=t("flows"), width=330, height=190)
    meter = charts.meter(report.individuals if isinstance(report.individuals, int) else None,
                         report.capacity, title=t("occupancy"), width=150)
    zone_name = None
    if report.single is not None:
        zone_name = (report.single.name_ar if report.lang == "ar" and report.single.name_ar
                     else report.single.name_en)
    map_svg = svgmap.draw(
        [svgmap.Shape(z.boundary, z.code) for z in report.map_zones if z.boundary],
        [svgmap.Shape(a.geometry, a.name_en, "area") for a in report.map_areas if a.geometry],
        [svgmap.Dot(s.lon, s.lat, s.code) for s in report.map_sites],
        title=t("map"), width=330, height=240)
    css = (HERE / "sitrep.css").read_text(encoding="utf-8")
    return _environment().get_template("sitrep.html").render(
        r=report, t=t, css=Markup(css), zone_name=zone_name, map_svg=map_svg,
        pyramid=pyramid, flows=flows, meter=meter, female=charts.FEMALE, male=charts.MALE,
        bar=charts.BAR, alt=charts.ALT, dir="rtl" if report.lang == "ar" else "ltr",
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def render_pdf(db: Session, *, actor: Principal, zone: str | None = None, lang: str = "en",
               on: dt.date | None = None, settings: Settings | None = None) -> bytes:
    """The sitrep of one zone (``zone``) or of all zones, as PDF bytes."""
    import weasyprint

    Translator(lang)  # refuse an unknown language before any work
    settings = settings or get_settings()
    report = gather(db, actor=actor, zone=zone, on=on or dt.date.today(), lang=lang,
                    organisation_name=settings.organisation_name)
    from havens.audit import service as audit

    audit.record(db, actor=actor, action="report.sitrep", object_type="report",
                 detail={"zone": zone, "lang": lang, "on": report.on.isoformat()})
    pdf: bytes = weasyprint.HTML(string=render_html(report), base_url=str(HERE)).write_pdf()
    return pdf
