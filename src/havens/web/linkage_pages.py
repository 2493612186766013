"""The duplicate review queue: candidate pairs side by side, the fields that agree and
disagree highlighted, confirm (merge) or reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from havens.linkage import review
from havens.linkage import service as linkage_service
from havens.orgs.dependencies import DbSession
from havens.web.pages import PagePrincipal
from havens.web.templating import render

router = APIRouter()

#: The fields shown side by side, in the order a reviewer reads a registration.
COMPARED = ["given_name_ar", "father_name_ar", "grandfather_name_ar", "family_name_ar",
            "given_name_en", "father_name_en", "grandfather_name_en", "family_name_en", "sex",
            "date_of_birth", "birth_year", "origin_pcode", "organisation", "site_code",
            "registration_number", "relationship"]


@router.get("/linkage")
def queue(request: Request, principal: PagePrincipal, db: DbSession, page: int = 1) -> Response:
    candidates = linkage_service.list_candidates(db, actor=principal, page=max(page, 1))
    return render(request, "linkage/queue.html", {"candidates": candidates})


@router.get("/linkage/candidates/{pair_id}")
def candidate(pair_id: int, request: Request, principal: PagePrincipal,
              db: DbSession) -> Response:
    detail = linkage_service.candidate_detail(db, actor=principal, pair_id=pair_id)
    levels = {a.field: a for a in detail.agreement}
    rows = []
    for name in COMPARED:
        left, right = getattr(detail.left, name, None), getattr(detail.right, name, None)
        if left in (None, "") and right in (None, ""):
            continue
        same = left == right if name not in levels else levels[name].level > 0
        rows.append({"field": name, "left": left, "right": right, "same": same,
                     "label": levels[name].label if name in levels else ""})
    return render(request, "linkage/candidate.html", {"detail": detail, "rows": rows})


@router.post("/linkage/candidates/{pair_id}/{decision}")
def decide(pair_id: int, decision: str, principal: PagePrincipal, db: DbSession,
           note: Annotated[str | None, Form(max_length=500)] = None) -> Response:
    if decision == "confirm":
        review.confirm(db, actor=principal, pair_id=pair_id, note=note)
    elif decision == "reject":
        review.reject(db, actor=principal, pair_id=pair_id, note=note)
    else:
        return RedirectResponse(f"/linkage/candidates/{pair_id}", status_code=303)
    return RedirectResponse("/linkage", status_code=303)
