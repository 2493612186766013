"""``havens agreements``: keys, signing on your own machine, export and offline verification.

``keygen``, ``sign`` (with ``--version-file``) and ``verify`` work without any database, on the
signer's or the verifier's machine. The other commands act on the database as the operator.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from havens.agreements import canonical, keys
from havens.agreements import verify as verification
from havens.cli.common import console, err_console, handle_errors, operator, unit_of_work
from havens.exceptions import NotFound, ValidationFailed

app = typer.Typer(help="Agreements: negotiate, sign, export and verify consent.",
                  no_args_is_help=True)

SIGNATURE_FORMAT = "havens-agreement-signature/1"


def _today(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(f"not a date (YYYY-MM-DD): {value}", field="today") from exc


@app.command("list")
@handle_errors
def list_() -> None:
    """Every agreement, with the zone's status and the version in force."""
    from havens.agreements import service, views

    with unit_of_work() as db:
        table = Table("zone", "zone status", "versions", "in force", "administrator",
                      "pending signers (latest)")
        for agreement in service.list_agreements(db, actor=operator()):
            read = views.agreement_read(db, agreement)
            latest = views.version_read(db, service.latest_version(agreement))
            table.add_row(read.zone_code, read.zone_status.value, str(len(read.versions)),
                          str(read.version_in_force or "—"),
                          read.administrator.acronym if read.administrator else "—",
                          ", ".join(p.acronym for p in latest.pending_signers) or "—")
        console.print(table)


@app.command("show")
@handle_errors
def show(zone_code: str = typer.Argument(..., help="Zone code, e.g. SZ-SY07-001"),
         version: int | None = typer.Option(None, help="One version in full"),
         as_json: bool = typer.Option(False, "--json", help="Print JSON (a version file)")
         ) -> None:
    """An agreement's versions and signatures; with --version, one version in full."""
    from havens.agreements import service, views

    with unit_of_work() as db:
        agreement = service.agreement_for_zone(db, actor=operator(), zone_code=zone_code)
        if version is not None:
            read = views.version_read(db, service.get_version(
                db, actor=operator(), agreement_id=agreement.id, number=version))
            if as_json:
                console.print_json(read.model_dump_json())
                return
            _print_version(read.model_dump(mode="json"))
            return
        summary = views.agreement_read(db, agreement)
        if as_json:
            console.print_json(summary.model_dump_json())
            return
        console.print(f"[bold]{summary.zone_code}[/] — zone {summary.zone_status.value}"
                      + (f" ({escape(summary.zone_status_reason)})"
                         if summary.zone_status_reason else ""), highlight=False)
        if summary.closing_date:
            console.print(f"closing on {summary.closing_date}")
        table = Table("version", "status", "in force", "dates", "hash", "signed by")
        for v in agreement.versions:
            row = next(s for s in summary.versions if s.number == v.number)
            table.add_row(str(v.number), v.status.value, "yes" if row.in_force else "",
                          f"{v.start_date} → {v.end_date}", v.hash[:16] + "…",
                          ", ".join(s.organisation.acronym for s in v.signatures))
        console.print(table)
        for w in summary.withdrawals:
            console.print(f"consent withdrawn by {w.organisation.acronym} on {w.withdrawn_on} "
                          f"(notice ends {w.notice_end}): {w.reason}", highlight=False,
                          markup=False)


def _print_version(version: dict[str, Any]) -> None:
    terms = version["terms"]
    console.print(f"[bold]version {version['number']}[/] ({version['status']}) "
                  f"{terms['start_date']} → {terms['end_date']}, notice "
                  f"{terms['notice_period_days']} days", highlight=False)
    console.print(f"hash {version['hash']}")
    for party in version["parties"]:
        mark = "signed" if party["signed"] else ("must sign" if party["required_signer"]
                                                 else "")
        console.print(f"  {party['role']:<18} {party['organisation']['acronym']:<10} {mark}")
    for c in version["commitments"]:
        target = f" — {c['target']} {c['unit'] or ''}".rstrip() if c["target"] else ""
        due = f" by {c['due_date']}" if c["due_date"] else ""
        console.print(f"  [{c['ref']}] {c['party']['acronym']}: {c['what']}{target}{due}",
                      highlight=False, markup=False)


@app.command("keygen")
@handle_errors
def keygen(out: Path = typer.Option(..., "--out", help="Where to write the private key (PEM)")
           ) -> None:
    """Create an Ed25519 key pair on this machine; prints the public key to register."""
    if out.exists():
        raise ValidationFailed(f"{out} exists: choose another file (keys are never overwritten).",
                               field="out")
    key = keys.generate()
    # Owner-only from the start: the private key is the organisation's signature.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(keys.private_pem(key))
    public = keys.public_b64(key)
    err_console.print(f"private key written to {out} — keep it on this machine only")
    err_console.print(f"key id {keys.key_id_of(public)}")
    console.print(public)


@app.command("register-key")
@handle_errors
def register_key(
    org: str = typer.Option(..., help="Acronym of the organisation"),
    public_key: str | None = typer.Option(None, help="Public key (base64, from keygen)"),
    public_key_file: Path | None = typer.Option(None, help="File with the public key"),
    server_held: bool = typer.Option(False, help="DEMO/LOW SECURITY: the server keeps the "
                                     "private key, encrypted with the instance secret"),
) -> None:
    """Register an organisation's public key (or create a server-held demo key)."""
    from havens.agreements import keyring
    from havens.config import get_settings
    from havens.orgs import service as org_service

    if public_key_file is not None:
        public_key = public_key_file.read_text()
    if (public_key is None) == (not server_held):
        raise ValidationFailed("Give --public-key or --public-key-file, or --server-held.")
    with unit_of_work() as db:
        organisation = org_service.get_organisation_by_acronym(db, acronym=org)
        assert organisation is not None
        if server_held:
            row = keyring.create_server_held_key(
                db, actor=operator(), organisation_id=organisation.id,
                secret=get_settings().resolved_secret_key())
            err_console.print("[yellow]server-held key: anyone controlling this server can "
                              "sign for this organisation (demo/low-security option)[/]")
        else:
            row = keyring.register_key(db, actor=operator(), organisation_id=organisation.id,
                                       public_key=public_key or "")
        console.print(f"registered key {row.key_id} for {organisation.acronym}")


def _read_version_file(path: Path, number: int | None) -> tuple[str, int, str, dict[str, Any]]:
    """(zone code, version number, hash, terms) from an export or a version document; the hash
    is recomputed from the canonical terms, never taken on trust."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}", field="version-file") from exc
    if document.get("format") == verification.EXPORT_FORMAT:
        versions = document["versions"]
        entry = (max(versions, key=lambda v: v["number"]) if number is None else
                 next((v for v in versions if v["number"] == number), None))
        if entry is None:
            raise NotFound(f"{path} has no version {number}.", field="version")
    else:
        entry = document
        if number is not None and entry.get("number") != number:
            raise ValidationFailed(f"{path} holds version {entry.get('number')}, not {number}.")
    text = entry["canonical_terms"]
    terms = json.loads(text)
    computed = canonical.terms_hash(text)
    if canonical.canonical_text(terms) != text or computed != entry.get("hash", computed):
        raise ValidationFailed(f"{path}: the terms of version {entry['number']} do not match "
                               "their hash or canonical form: refusing to sign them.")
    return terms["zone_code"], int(entry["number"]), computed, terms


@app.command("sign")
@handle_errors
def sign(
    key: Path = typer.Option(..., "--key", help="Your private key (PEM, from keygen)"),
    version_file: Path | None = typer.Option(None, help="An export or `show --json` file"),
    zone: str | None = typer.Option(None, help="Instead of a file: the zone code, read from "
                                    "the database"),
    version: int | None = typer.Option(None, help="Version number (default: the latest)"),
    out: Path | None = typer.Option(None, help="Write the signature here (default: stdout)"),
    submit: bool = typer.Option(False, help="Also record the signature in the database"),
) -> None:
    """Sign a version's hash with your private key, on your own machine."""
    private = keys.load_private_pem(key.read_bytes())
    if version_file is not None:
        zone_code, number, hash_hex, terms = _read_version_file(version_file, version)
    elif zone is not None:
        zone_code, number, hash_hex, terms = _version_from_database(zone, version)
    else:
        raise ValidationFailed("Give --version-file (offline) or --zone.")
    err_console.print(f"signing zone {zone_code} version {number}: administrator "
                      f"{terms['administrator']['acronym']}, {terms['start_date']} → "
                      f"{terms['end_date']}, {len(terms['commitments'])} commitments, "
                      f"hash {hash_hex}", highlight=False)
    message = canonical.signing_message(zone_code, number, hash_hex)
    public = keys.public_b64(private)
    document = {"format": SIGNATURE_FORMAT, "zone_code": zone_code, "version": number,
                "hash": hash_hex, "message": message.decode(), "key_id": keys.key_id_of(public),
                "public_key": public, "signature": keys.sign(private, message)}
    text = json.dumps(document, indent=2)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        err_console.print(f"signature written to {out}")
    else:
        console.print_json(text)
    if submit:
        _submit(document)


def _version_from_database(zone: str, number: int | None) -> tuple[str, int, str, dict[str, Any]]:
    from havens.agreements import service

    with unit_of_work() as db:
        agreement = service.agreement_for_zone(db, actor=operator(), zone_code=zone)
        version = (service.latest_version(agreement) if number is None else
                   service.get_version(db, actor=operator(), agreement_id=agreement.id,
                                       number=number))
        return agreement.zone.code, version.number, version.hash, version.terms


def _submit(document: dict[str, Any]) -> None:
    from havens.agreements import service

    with unit_of_work() as db:
        agreement = service.agreement_for_zone(db, actor=operator(),
                                               zone_code=document["zone_code"])
        version = service.get_version(db, actor=operator(), agreement_id=agreement.id,
                                      number=int(document["version"]))
        row = service.submit_signature(db, actor=operator(), version=version,
                                       key_id=document["key_id"],
                                       signature=document["signature"])
        err_console.print(f"recorded: {row.organisation.acronym} signed {agreement.zone.code} "
                          f"version {version.number}; zone is {agreement.zone.status.value}")


@app.command("submit")
@handle_errors
def submit(signature_file: Path = typer.Argument(..., help="A file written by `sign --out`")
           ) -> None:
    """Record a signature made elsewhere with `havens agreements sign`."""
    document = json.loads(signature_file.read_text(encoding="utf-8"))
    if document.get("format") != SIGNATURE_FORMAT:
        raise ValidationFailed(f"{signature_file} is not a signature file.")
    _submit(document)


@app.command("export")
@handle_errors
def export(zone_code: str = typer.Argument(...)) -> None:
    """Write the agreement with every version, signature and public key as JSON (stdout)."""
    from havens.agreements import views

    with unit_of_work() as db:
        document = views.export_document(db, actor=operator(), zone_code=zone_code)
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


@app.command("verify")
def verify(path: Path = typer.Argument(..., help="A file written by `havens agreements export`")
           ) -> None:
    """Check every hash and signature of an export, with no database; exit 1 if any fails."""
    try:
        report = verification.verify_document(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        err_console.print(f"[bold red]cannot verify {path}:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    console.print(f"zone {report.zone_code}: {len(report.versions)} versions")
    for check in report.versions:
        state = "[red]INVALID[/]" if check.problems else "ok"
        console.print(f"version {check.number}: {state} hash {check.hash[:16]}… signed by "
                      f"{', '.join(check.valid_signers) or 'nobody'}"
                      + (f"; not signed by {', '.join(check.pending_signers)}"
                         if check.pending_signers else ""), highlight=False)
        for problem in check.problems:
            console.print(f"  [red]✗[/] {escape(problem)}", highlight=False)
    if report.periods:
        console.print("validly in force:")
        for period in report.periods:
            console.print(f"  version {period.number}: {period.start} → {period.until} "
                          f"({period.ended_by})")
    else:
        console.print("no version was ever validly in force")
    if report.withdrawn_on:
        console.print(f"consent withdrawn on {report.withdrawn_on}")
    for note in report.notes:
        console.print(f"note: {note}")
    if not report.ok:
        err_console.print("[bold red]verification failed:[/] "
                          + escape("; ".join(report.problems)),
                          highlight=False)
        raise typer.Exit(1)


@app.command("diff")
@handle_errors
def diff(zone_code: str, a: int, b: int) -> None:
    """What changed in the terms from version A to version B."""
    from havens.agreements import service, views
    from havens.agreements.diff import Change, describe

    with unit_of_work() as db:
        agreement = service.agreement_for_zone(db, actor=operator(), zone_code=zone_code)
        result = views.diff(db, actor=operator(), agreement_id=agreement.id, a=a, b=b)
    console.print(f"{zone_code}: version {a} → {b}, {len(result.changes)} changes")
    for change in result.changes:
        console.print(describe(Change(**change.model_dump())), highlight=False, markup=False)


@app.command("withdraw")
@handle_errors
def withdraw(
    zone_code: str,
    by: str = typer.Option(..., help="Email of the host government's user withdrawing"),
    reason: str = typer.Option(...),
    on: str | None = typer.Option(None, help="Date of withdrawal (default today)"),
) -> None:
    """Record the host government's withdrawal of consent (the zone starts closing)."""
    from havens.agreements import service
    from havens.agreements.schemas import WithdrawIn
    from havens.orgs import service as org_service

    with unit_of_work() as db:
        user = org_service.get_user_by_email(db, email=by)
        if user is None or not user.is_active:
            raise NotFound(f"No active user {by}.", field="by")
        actor = org_service.principal_for(user)
        agreement = service.agreement_for_zone(db, actor=actor, zone_code=zone_code)
        withdrawal = service.withdraw(db, actor=actor, agreement_id=agreement.id,
                                      data=WithdrawIn(reason=reason, withdrawn_on=_today(on)))
        console.print(f"{zone_code}: consent withdrawn on {withdrawal.withdrawn_on}; zone "
                      f"{agreement.zone.status.value} until {withdrawal.notice_end}")


@app.command("refresh")
@handle_errors
def refresh(
    today: str | None = typer.Option(None, help="Evaluate as of this date (YYYY-MM-DD)"),
    dry_run: bool = typer.Option(False, help="Show what would change, change nothing"),
) -> None:
    """Re-evaluate every zone's status (expiry, withdrawal); run it daily."""
    from havens.agreements import lifecycle, service

    day = _today(today)
    if day is not None and day > lifecycle.today_utc() and not dry_run:
        raise ValidationFailed("A date in the future can only be simulated: add --dry-run.",
                               field="today")
    with unit_of_work() as db:
        changes = service.refresh_all(db, actor=operator(), today=day)
        if dry_run:
            db.rollback()
    for code, before, after in changes:
        mark = f"{before.value} → {after.value}" if before != after else after.value
        console.print(f"{code}: {mark}" + (" (dry run)" if dry_run and before != after else ""))


@app.command("transition")
@handle_errors
def transition(zone_code: str, to: str, reason: str = typer.Option(...)) -> None:
    """Move a zone by hand (operational, suspended, closed, rejected...), as the operator."""
    from havens.agreements import service
    from havens.zones.models import ZoneStatus

    try:
        target = ZoneStatus(to)
    except ValueError as exc:
        raise ValidationFailed(f"unknown status {to}", field="to") from exc
    with unit_of_work() as db:
        agreement = service.agreement_for_zone(db, actor=operator(), zone_code=zone_code)
        zone = service.transition_zone(db, actor=operator(), agreement_id=agreement.id,
                                       to=target, reason=reason)
        console.print(f"{zone.code}: {zone.status.value}")

