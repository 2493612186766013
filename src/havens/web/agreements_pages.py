"""Agreement pages: versions and their signatures, a readable diff, signing with a
server-held key (the documented low-security option), verification, and the host
government's withdrawal of consent (with a confirmation step)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from havens.agreements import service as agreement_service
from havens.agreements import views as agreement_views
from havens.agreements.models import PartyRole
from havens.agreements.schemas import WithdrawIn
from havens.agreements.verify import verify_document
from havens.exceptions import HavensError, ValidationFailed
from havens.orgs.dependencies import AppSettings, DbSession
from havens.orgs.permissions import Principal, can
from havens.web.pages import PagePrincipal
from havens.web.templating import render

router = APIRouter()


def _may_sign(actor: Principal, version: object) -> bool:
    parties = getattr(version, "parties", [])
    return can(actor, "agreements.sign") and any(
        p.organisation.id == actor.organisation_id and p.required_signer and not p.signed
        for p in parties)


def _is_host_government(actor: Principal, version: object) -> bool:
    return can(actor, "agreements.withdraw") and any(
        p.organisation.id == actor.organisation_id and p.role == PartyRole.host_government
        for p in getattr(version, "parties", []))


@router.get("/zones/{code}/agreement")
def agreement_page(code: str, request: Request, principal: PagePrincipal, db: DbSession,
                   version: int | None = None) -> Response:
    agreement = agreement_service.agreement_for_zone(db, actor=principal, zone_code=code)
    summary = agreement_views.agreement_read(db, agreement)
    numbers = [v.number for v in summary.versions]
    shown = version if version in numbers else (summary.version_in_force or numbers[-1])
    detail = agreement_views.version_read(db, agreement_service.get_version(
        db, actor=principal, agreement_id=agreement.id, number=shown))
    return render(request, "agreements/detail.html", {
        "code": code.upper(), "agreement": summary, "version": detail, "numbers": numbers,
        "may_sign": _may_sign(principal, detail),
        "may_withdraw": _is_host_government(principal, detail)
        and summary.zone_status.value in ("consented", "operational", "suspended"),
    })


@router.get("/zones/{code}/agreement/diff")
def agreement_diff(code: str, request: Request, principal: PagePrincipal, db: DbSession,
                   a: int, b: int) -> Response:
    agreement = agreement_service.agreement_for_zone(db, actor=principal, zone_code=code)
    result = agreement_views.diff(db, actor=principal, agreement_id=agreement.id, a=a, b=b)
    return render(request, "agreements/diff.html", {"diff": result})


@router.get("/zones/{code}/agreement/verify")
def agreement_verify(code: str, request: Request, principal: PagePrincipal,
                     db: DbSession) -> Response:
    """Check every hash and signature exactly as `havens agreements verify` does offline."""
    document = agreement_views.export_document(db, actor=principal, zone_code=code)
    return render(request, "agreements/verify.html", {"report": verify_document(document)})


@router.post("/zones/{code}/agreement/versions/{number}/sign")
def agreement_sign(code: str, number: int, request: Request, principal: PagePrincipal,
                   db: DbSession, settings: AppSettings) -> Response:
    agreement = agreement_service.agreement_for_zone(db, actor=principal, zone_code=code)
    version = agreement_service.get_version(db, actor=principal, agreement_id=agreement.id,
                                            number=number)
    agreement_service.sign_with_server_key(db, actor=principal, version=version,
                                           secret=settings.resolved_secret_key())
    return RedirectResponse(f"/zones/{code}/agreement?version={number}", status_code=303)


@router.get("/zones/{code}/agreement/withdraw")
def withdraw_confirm(code: str, request: Request, principal: PagePrincipal,
                     db: DbSession) -> Response:
    agreement = agreement_service.agreement_for_zone(db, actor=principal, zone_code=code)
    return render(request, "agreements/withdraw.html",
                  {"code": code.upper(), "agreement": agreement_views.agreement_read(
                      db, agreement)})


@router.post("/zones/{code}/agreement/withdraw")
def withdraw_submit(
    code: str, request: Request, principal: PagePrincipal, db: DbSession,
    reason: Annotated[str, Form(max_length=5000)],
    confirm_code: Annotated[str, Form(max_length=40)],
) -> Response:
    agreement = agreement_service.agreement_for_zone(db, actor=principal, zone_code=code)
    try:
        if confirm_code.strip().upper() != agreement.zone.code:
            raise ValidationFailed("Type the zone's code to confirm the withdrawal.",
                                   field="confirm_code")
        agreement_service.withdraw(db, actor=principal, agreement_id=agreement.id,
                                   data=WithdrawIn(reason=reason))
    except (HavensError, ValueError) as exc:
        error = exc if isinstance(exc, HavensError) else ValidationFailed(
            "Give a reason of at least 5 characters.", field="reason")
        return render(request, "agreements/withdraw.html", {
            "code": code.upper(), "error": error, "reason": reason,
            "agreement": agreement_views.agreement_read(db, agreement)},
            status_code=error.status_code)
    return RedirectResponse(f"/zones/{code}/agreement", status_code=303)
