"""Registration pages: search, register a household with its members, the household page
(move, depart), and bulk import with its row-level report.

Personal data reaches only users whose role and organisation may see it (the people service
decides); everyone else gets the population figures of the zones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

# Starlette's class: what request.form() gives (FastAPI's UploadFile is a subclass of it).
from starlette.datastructures import UploadFile

from havens.exceptions import HavensError, ValidationFailed
from havens.orgs.dependencies import AppSettings, DbSession
from havens.orgs.permissions import Principal, can
from havens.people import occupancy
from havens.people import service as people_service
from havens.people.crypto import cipher_for
from havens.people.importing import MAX_MAPPING_BYTES, check_upload_for_import, import_file
from havens.people.models import ConsentPurpose, DestinationType, DocumentType, Relationship, Sex
from havens.people.schemas import DepartRequest, HouseholdCreate, MoveRequest
from havens.people.specific_needs import SPECIFIC_NEEDS
from havens.web.pages import PagePrincipal
from havens.web.templating import render
from havens.zones import service as zone_service
from havens.zones import sites as site_service

router = APIRouter()

NAME_FIELDS = [f"{part}_{lang}" for lang in ("ar", "en")
               for part in ("given_name", "father_name", "grandfather_name", "family_name")]
MEMBER_FIELDS = [*NAME_FIELDS, "relationship", "sex", "date_of_birth", "birth_year",
                 "phone", "document_type", "document_number"]


def _choices(db: Any, principal: Principal) -> dict[str, Any]:
    sites = site_service.list_sites(db, actor=principal, outside_zone=False)
    return {"sites": sites, "relationships": list(Relationship), "sexes": list(Sex),
            "document_types": list(DocumentType), "purposes": list(ConsentPurpose),
            "destinations": list(DestinationType), "needs": SPECIFIC_NEEDS,
            "today": dt.date.today().isoformat()}


def _zone_figures(db: Any, principal: Principal) -> list[Any]:
    figures = []
    for zone in zone_service.list_zones(db, actor=principal):
        try:
            figures.append(occupancy.zone_occupancy(db, actor=principal, zone_id=zone.id))
        except HavensError:
            continue
    return figures


@router.get("/people")
def people_search(request: Request, principal: PagePrincipal, db: DbSession,
                  settings: AppSettings, q: str | None = None, page: int = 1) -> Response:
    personal = can(principal, "people.personal") and principal.organisation_id is not None
    context: dict[str, Any] = {"personal": personal, "q": q or "", "results": None,
                               "may_register": can(principal, "people.register")}
    if not personal:
        context["figures"] = _zone_figures(db, principal)
        return render(request, "people/search.html", context)
    if q and q.strip():
        try:
            context["results"] = people_service.search(
                db, actor=principal, query=q, page=max(page, 1),
                cipher=cipher_for(settings))
        except HavensError as exc:
            context["error"] = exc
    return render(request, "people/search.html", context)


@router.get("/people/register")
def register_form(request: Request, principal: PagePrincipal, db: DbSession,
                  members: int = 2) -> Response:
    people_service.acting_organisation(db, actor=principal, action="people.register")
    count = min(max(members, 1), 30)
    return render(request, "people/register.html", {
        **_choices(db, principal), "member_count": count, "values": {}, "errors": {}})


@router.get("/people/register/member")
def member_row(request: Request, principal: PagePrincipal, db: DbSession, index: int) -> Response:
    """One more member's fields (htmx), so a large household is entered on one page."""
    return render(request, "people/member_fields.html", {
        **_choices(db, principal), "i": min(max(index, 0), 59), "values": {}, "errors": {}})


def _form_to_household(form: dict[str, str]) -> dict[str, Any]:
    count = int(form.get("member_count") or 1)
    members = []
    for i in range(min(count, 60)):
        member: dict[str, Any] = {}
        for name in MEMBER_FIELDS:
            value = (form.get(f"m{i}_{name}") or "").strip()
            if value:
                member[name] = int(value) if name == "birth_year" and value.isdigit() else value
        if not any(member.get(n) for n in NAME_FIELDS) and not member.get("date_of_birth"):
            continue  # an empty row the registrar did not use
        member["dob_estimated"] = bool(form.get(f"m{i}_dob_estimated"))
        needs = form.get(f"m{i}_specific_needs", "")
        member["specific_needs"] = [n for n in needs.split(",") if n]
        members.append(member)
    return {
        "site_code": form.get("site_code", ""),
        "household_ref": form.get("household_ref") or None,
        "origin_pcode": (form.get("origin_pcode") or "").strip().upper() or None,
        "origin_locality": form.get("origin_locality") or None,
        "displacement_date": form.get("displacement_date") or None,
        "arrival_date": form.get("arrival_date") or None,
        "consent": {"registration": bool(form.get("consent_registration")),
                    "sharing": bool(form.get("consent_sharing")),
                    "purposes": [p.value for p in ConsentPurpose
                                 if form.get(f"purpose_{p.value}")],
                    "given_by": form.get("consent_given_by") or "head"},
        "members": members,
    }


def _field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        if loc[:1] == ["members"] and len(loc) >= 3:
            key = f"m{loc[1]}_{loc[2]}"
        else:
            key = "_".join(loc).replace("consent_", "consent_") or "form"
        errors.setdefault(key, str(error["msg"]).removeprefix("Value error, "))
    return errors


@router.post("/people/register")
async def register_submit(request: Request, principal: PagePrincipal, db: DbSession,
                          settings: AppSettings) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    for key in [k for k in form if k.endswith("_specific_needs")]:
        form[key] = ",".join(v for v in (await request.form()).getlist(key) if isinstance(v, str))
    values = _form_to_household(form)
    errors: dict[str, str] = {}
    try:
        data = HouseholdCreate.model_validate(values, strict=False)
        household = people_service.register_household(db, actor=principal, data=data,
                                                       cipher=cipher_for(settings))
    except ValidationError as exc:
        errors = _field_errors(exc)
    except HavensError as exc:
        errors = {(exc.field or "form").replace(".", "_"): exc.message}
    if errors:
        request.state.commit_on_error = False
        return render(request, "people/register.html", {
            **_choices(db, principal), "values": form, "errors": errors,
            "member_count": max(int(form.get("member_count") or 1), 1)}, status_code=422)
    return RedirectResponse(f"/people/households/{household.id}", status_code=303)


@router.get("/people/households/{household_id}")
def household_page(household_id: int, request: Request, principal: PagePrincipal,
                   db: DbSession, settings: AppSettings) -> Response:
    household = people_service.get_household(db, actor=principal, household_id=household_id,
                                             cipher=cipher_for(settings))
    return render(request, "people/household.html", {
        **_choices(db, principal), "household": household,
        "may_change": can(principal, "people.register")})


@router.post("/people/households/{household_id}/move")
async def household_move(household_id: int, request: Request, principal: PagePrincipal,
                         db: DbSession, settings: AppSettings) -> Response:
    form = await request.form()
    try:
        people_service.move_household(db, actor=principal, household_id=household_id,
                                      data=MoveRequest.model_validate({
                                          "to_site_code": form.get("to_site_code"),
                                          "moved_on": form.get("moved_on"),
                                          "details": form.get("details") or None},
                                          strict=False))
    except ValidationError as exc:
        raise ValidationFailed(str(exc.errors()[0]["msg"]), field="moved_on") from exc
    return RedirectResponse(f"/people/households/{household_id}", status_code=303)


@router.post("/people/households/{household_id}/depart")
async def household_depart(household_id: int, request: Request, principal: PagePrincipal,
                           db: DbSession) -> Response:
    form = await request.form()
    try:
        data = DepartRequest.model_validate({
            "destination_type": form.get("destination_type"), "moved_on": form.get("moved_on"),
            "destination_country": form.get("destination_country") or None,
            "details": form.get("details") or None}, strict=False)
    except ValidationError as exc:
        raise ValidationFailed(str(exc.errors()[0]["msg"]), field="destination") from exc
    people_service.depart_household(db, actor=principal, household_id=household_id, data=data)
    return RedirectResponse(f"/people/households/{household_id}", status_code=303)


@router.get("/people/import")
def import_form(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    people_service.acting_organisation(db, actor=principal, action="people.import")
    return render(request, "people/import.html", {**_choices(db, principal), "report": None})


@router.post("/people/import")
async def import_submit(request: Request, principal: PagePrincipal, db: DbSession,
                        settings: AppSettings) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed("Choose a CSV or XLSX file.", field="file")
    name = upload.filename
    max_bytes = settings.max_upload_mb * 1024 * 1024
    data = await upload.read(max_bytes + 1)
    mapping_upload = form.get("mapping")
    mapping = None
    if isinstance(mapping_upload, UploadFile) and mapping_upload.filename:
        mapping = await mapping_upload.read(MAX_MAPPING_BYTES + 1)
    check_upload_for_import(principal, name, data, max_bytes=max_bytes, mapping=mapping)
    report = import_file(db, actor=principal, data=data, filename=name,
                         site_code=str(form.get("site_code") or "") or None,
                         skip_invalid=bool(form.get("skip_invalid")), mapping=mapping,
                         consent_recorded=bool(form.get("consent_recorded")),
                         cipher=cipher_for(settings))
    return render(request, "people/import.html", {**_choices(db, principal), "report": report},
                  status_code=200 if report.written or report.already_imported else 422)
