"""HTTP API of the duplicate review queue (``linkage.review``)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Query

from havens.api_types import ObjectId
from havens.linkage import service
from havens.linkage.models import Decision
from havens.linkage.schemas import (
    CandidateDetail,
    CandidatePage,
    CandidateRead,
    DecisionRequest,
    MergeRead,
)
from havens.orgs.dependencies import CurrentPrincipal, DbSession

router = APIRouter(prefix="/linkage", tags=["linkage"])


@router.get("/candidates", response_model=CandidatePage)
def candidates(db: DbSession, actor: CurrentPrincipal,
               decision: Decision = Query(default=Decision.pending),
               page: int = Query(default=1, ge=1, le=100_000),
               page_size: int = Query(default=50, ge=1, le=200),
               order: str = Query(default="probability", pattern="^(probability|active)$")
               ) -> CandidatePage:
    """Candidate duplicate pairs both of whose records the caller may see: most likely first,
    or (``order=active``) those whose decision teaches the matcher the most first."""
    return service.list_candidates(db, actor=actor, decision=decision, page=page,
                                   page_size=page_size, order=order)


@router.get("/candidates/{pair_id}", response_model=CandidateDetail)
def candidate(pair_id: ObjectId, db: DbSession, actor: CurrentPrincipal) -> CandidateDetail:
    """Both records side by side with the agreement of each field (audited)."""
    return service.candidate_detail(db, actor=actor, pair_id=pair_id)


@router.post("/candidates/{pair_id}/confirm", response_model=MergeRead)
def confirm(pair_id: ObjectId, db: DbSession, actor: CurrentPrincipal,
            data: DecisionRequest | None = Body(default=None)) -> MergeRead:
    """The same person: merge the two individuals (and whole households)."""
    return service.confirm(db, actor=actor, pair_id=pair_id, note=data.note if data else None)


@router.post("/candidates/{pair_id}/reject", response_model=CandidateRead)
def reject(pair_id: ObjectId, db: DbSession, actor: CurrentPrincipal,
           data: DecisionRequest | None = Body(default=None)) -> CandidateRead:
    """Different people: the pair is never proposed again."""
    return service.reject(db, actor=actor, pair_id=pair_id, note=data.note if data else None)


@router.post("/merges/{merge_id}/unmerge", response_model=MergeRead)
def unmerge(merge_id: ObjectId, db: DbSession, actor: CurrentPrincipal) -> MergeRead:
    """Undo a merge."""
    return service.unmerge(db, actor=actor, merge_id=merge_id)
