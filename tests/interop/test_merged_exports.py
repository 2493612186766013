"""Exports and the situation report after a confirmed duplicate household: one household, its
people once — in HXL CSV and XLSX alike — and everything back after an unmerge."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.interop import sitrep_data
from havens.linkage import service as linkage
from havens.linkage.models import CandidatePair, LinkageRun
from havens.linkage.schemas import MergeRead
from havens.orgs.permissions import Principal
from havens.people.models import Household
from tests.interop.conftest import TODAY, World
from tests.interop.helpers import hxl_rows, run, xlsx_rows

PURPOSE = "Distribution list for the winter NFI round"


def _merge_households(db: Session, world: World, actor: Principal) -> tuple[int, list[MergeRead]]:
    """Confirm that the second UNHCR household of camp 1 is the first one registered again
    (same members); returns the merged household's id and the merges."""
    first, second = db.scalars(select(Household).where(
        Household.site_id == world.sites[0].id, Household.organisation_id == world.unhcr.id)
        .order_by(Household.id).limit(2)).all()
    run_ = LinkageRun(model_version="test", threshold=0.8)
    db.add(run_)
    db.flush()
    done = []
    for a, b in zip(first.members, second.members, strict=True):
        pair = CandidatePair(run_id=run_.id, individual_l_id=a.id, individual_r_id=b.id,
                             match_probability=0.99, model_version="test")
        db.add(pair)
        db.flush()
        done.append(linkage.confirm(db, actor=actor, pair_id=pair.id))
    assert done[-1].household_merges
    return second.id, done


def _figures(db: Session, world: World, system: Principal, tmp_path: Path) -> dict[str, str]:
    _d, population = hxl_rows(run(db, system, "population"), tmp_path)
    _d, flows = hxl_rows(run(db, system, "flows"), tmp_path)
    _d, sites = hxl_rows(run(db, system, "dtm-sites"), tmp_path)
    _d, people = hxl_rows(run(db, world.p(world.registrar), "registered-individuals",
                              purpose=PURPOSE), tmp_path)
    report = sitrep_data.gather(db, actor=system, zone="SZ-TEST-001", on=TODAY, lang="en",
                                organisation_name="Havens")
    return {"ind": population[0]["#affected+idps+ind"], "hh": population[0]["#affected+idps+hh"],
            "total": population[-1]["#affected+idps+ind"],
            "arrived": flows[0]["#affected+idps+ind+arrived"],
            "arrived_hh": flows[0]["#affected+idps+hh+arrived"],
            "site_ind": sites[0]["#affected+idps+ind"], "site_hh": sites[0]["#affected+idps+hh"],
            "rows": str(len(people)), "sitrep": f"{report.individuals}/{report.households}"}


def test_a_merged_household_is_exported_once(db: Session, world: World, system: Principal,
                                             tmp_path: Path) -> None:
    before = _figures(db, world, system, tmp_path)
    assert before == {"ind": "35", "hh": "10", "total": "41", "arrived": "35",
                      "arrived_hh": "10", "site_ind": "26", "site_hh": "7", "rows": "40",
                      "sitrep": "35/10"}
    merged_household, merges = _merge_households(db, world, world.p(world.registrar))
    after = _figures(db, world, system, tmp_path)
    assert after == {"ind": "31", "hh": "9", "total": "37", "arrived": "31",
                     "arrived_hh": "9", "site_ind": "22", "site_hh": "6", "rows": "36",
                     "sitrep": "31/9"}
    # The XLSX carries the same rows as the CSV.
    _header, _tags, rows, _about = xlsx_rows(run(
        db, world.p(world.registrar), "registered-individuals", "xlsx", purpose=PURPOSE))
    assert len(rows) == 36
    household = db.get(Household, merged_household)
    assert household is not None
    assert household.registration_number not in {r[0] for r in rows}

    # Unmerging one member: two households again, one person still counted once.
    linkage.unmerge(db, actor=world.p(world.registrar), merge_id=merges[0].id)
    again = _figures(db, world, system, tmp_path)
    assert (again["ind"], again["hh"], again["rows"]) == ("32", "10", "37")
    assert (again["arrived"], again["arrived_hh"]) == ("35", "10")
