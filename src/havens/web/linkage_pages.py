"""The duplicate review queue: candidate pairs side by side, the fields that agree and
disagree highlighted, confirm (merge) or reject.

The queue is listed most likely first or (``order=active``) in the order that teaches the
matcher the most; both orders are the service's (``linkage.service.list_candidates``), the page
only passes the choice on and keeps it from the queue to a pair and back.
"""

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


def _order(order: str | None) -> str:
    """A known order, for links and redirects (the service rejects unknown ones in the queue)."""
    return order if order in linkage_service.ORDERS else linkage_service.ORDERS[0]


def _queue_url(order: str) -> str:
    return "/linkage" if order == linkage_service.ORDERS[0] else f"/linkage?order={order}"


@router.get("/linkage")
def queue(request: Request, principal: PagePrincipal, db: DbSession, page: int = 1,
          order: str = "probability") -> Response:
    candidates = linkage_service.list_candidates(db, actor=principal, page=max(page, 1),
                                                 order=order)
    pages = max(1, -(-candidates.total // candidates.page_size))
    url = _queue_url(order)
    return render(request, "linkage/queue.html", {
        "candidates": candidates, "order": order, "pages": pages, "url": url,
        "order_urls": {o: _queue_url(o) for o in linkage_service.ORDERS},
        "suffix": url.removeprefix("/linkage")})


@router.get("/linkage/candidates/{pair_id}")
def candidate(pair_id: int, request: Request, principal: PagePrincipal,
              db: DbSession, order: str | None = None) -> Response:
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
    order = _order(order)
    return render(request, "linkage/candidate.html", {
        "detail": detail, "rows": rows, "order": order, "queue_url": _queue_url(order)})


@router.post("/linkage/candidates/{pair_id}/{decision}")
def decide(pair_id: int, decision: str, principal: PagePrincipal, db: DbSession,
           note: Annotated[str | None, Form(max_length=500)] = None,
           order: Annotated[str | None, Form(max_length=20)] = None) -> Response:
    if decision == "confirm":
        review.confirm(db, actor=principal, pair_id=pair_id, note=note)
    elif decision == "reject":
        review.reject(db, actor=principal, pair_id=pair_id, note=note)
    else:
        return RedirectResponse(f"/linkage/candidates/{pair_id}", status_code=303)
    return RedirectResponse(_queue_url(_order(order)), status_code=303)
