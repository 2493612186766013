"""When is a version in force, and checking an exported agreement, with no database.

The in-force rule (shared by the service and by ``havens agreements verify``):

- A version *takes effect* when every required signer has a valid signature on it. Required
  signers are the host government, the administrator the version names, and the parties its
  terms mark ``required_signer``. It is effective from the later of its start date and the day
  (UTC) of its last required signature.
- Administrator change: a version naming a different administrator than the version before it
  takes effect only with the signature of the host government *of the version before it* (the
  consenting government). The outgoing administrator's signature is not needed.
- On a day D, the version in force is the highest-numbered version effective on or before D,
  provided D is not after its end date and the host government has not withdrawn consent on or
  before D. A later version that is signed but not yet effective leaves the earlier one in force;
  once effective it replaces it, even if it ends sooner.

Only this module, :mod:`canonical` and :mod:`keys` are needed to verify an export.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from havens.agreements import canonical, keys

EXPORT_FORMAT = "havens-agreement-export/1"


@dataclass(frozen=True)
class VersionFacts:
    """What the in-force rule needs to know about one version."""

    number: int
    start: dt.date
    end: dt.date
    host_government: int
    administrator: int
    required: frozenset[int]
    #: organisation id -> time of its valid signature on this version
    signed_at: Mapping[int, dt.datetime] = field(default_factory=dict)

    def fully_signed_at(self, previous: VersionFacts | None = None) -> dt.datetime | None:
        needed = set(self.required) | {self.host_government, self.administrator}
        if previous is not None and previous.administrator != self.administrator:
            needed.add(previous.host_government)
        if not needed <= set(self.signed_at):
            return None
        return max(self.signed_at[org] for org in needed)

    def pending(self, previous: VersionFacts | None = None) -> set[int]:
        needed = set(self.required) | {self.host_government, self.administrator}
        if previous is not None and previous.administrator != self.administrator:
            needed.add(previous.host_government)
        return needed - set(self.signed_at)


@dataclass(frozen=True)
class Period:
    number: int
    start: dt.date
    until: dt.date | None  # inclusive; None: open-ended (not possible with an end date)
    ended_by: str


def effective_dates(versions: Sequence[VersionFacts]) -> dict[int, dt.date]:
    """Version number -> the date it takes effect, for the versions that do."""
    result: dict[int, dt.date] = {}
    previous: VersionFacts | None = None
    for version in sorted(versions, key=lambda v: v.number):
        signed = version.fully_signed_at(previous)
        if signed is not None:
            result[version.number] = max(version.start, signed.astimezone(dt.UTC).date())
            previous = version
    return result


def version_in_force(versions: Sequence[VersionFacts], day: dt.date,
                     withdrawn_on: dt.date | None = None) -> VersionFacts | None:
    if withdrawn_on is not None and day >= withdrawn_on:
        return None
    effective = effective_dates(versions)
    candidates = [v for v in versions if v.number in effective and effective[v.number] <= day]
    if not candidates:
        return None
    latest = max(candidates, key=lambda v: v.number)
    return latest if day <= latest.end else None


def periods(versions: Sequence[VersionFacts], withdrawn_on: dt.date | None = None
            ) -> list[Period]:
    """The periods each version was (or will be) in force, in order."""
    effective = effective_dates(versions)
    ordered = [v for v in sorted(versions, key=lambda v: v.number) if v.number in effective]
    result: list[Period] = []
    for index, version in enumerate(ordered):
        start = effective[version.number]
        until, ended_by = version.end, "end date"
        later = [effective[v.number] for v in ordered[index + 1:]]
        if later and min(later) - dt.timedelta(days=1) < until:
            until, ended_by = min(later) - dt.timedelta(days=1), "replaced by a later version"
        if withdrawn_on is not None and withdrawn_on - dt.timedelta(days=1) < until:
            until, ended_by = withdrawn_on - dt.timedelta(days=1), "consent withdrawn"
        if until >= start:
            result.append(Period(version.number, start, until, ended_by))
    return result


def facts_from_terms(number: int, terms: Mapping[str, Any],
                     signed_at: Mapping[int, dt.datetime]) -> VersionFacts:
    """The facts of a version read from its (signed) canonical terms."""
    parties = terms["parties"]
    host = [p["organisation"]["id"] for p in parties if p["role"] == "host_government"]
    return VersionFacts(
        number=number,
        start=dt.date.fromisoformat(terms["start_date"]),
        end=dt.date.fromisoformat(terms["end_date"]),
        host_government=host[0] if host else -1,
        administrator=terms["administrator"]["id"],
        required=frozenset(p["organisation"]["id"] for p in parties if p["required_signer"]),
        signed_at=dict(signed_at),
    )


# --- verifying an export ---------------------------------------------------------------------

@dataclass
class VersionCheck:
    number: int
    hash: str
    problems: list[str] = field(default_factory=list)
    valid_signers: list[str] = field(default_factory=list)
    pending_signers: list[str] = field(default_factory=list)


@dataclass
class Report:
    zone_code: str
    versions: list[VersionCheck]
    periods: list[Period]
    withdrawn_on: dt.date | None
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not any(v.problems for v in self.versions)

    @property
    def problems(self) -> list[str]:
        return [f"version {v.number}: {p}" for v in self.versions for p in v.problems]


def verify_document(document: Mapping[str, Any]) -> Report:
    """Check every version's canonical terms, hash and signatures in an exported agreement.

    A file that is not a well-formed export raises ``ValueError`` naming what is wrong."""
    try:
        return _verify(document)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"not a well-formed Havens agreement export ({type(exc).__name__}: "
                         f"{exc})") from exc


def _verify(document: Mapping[str, Any]) -> Report:
    if not isinstance(document, Mapping) or document.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a Havens agreement export (format {EXPORT_FORMAT} expected)")
    zone_code = document["zone"]["code"]
    keys_by_id = {k["key_id"]: k for k in document.get("keys", [])}
    acronyms: dict[int, str] = {}
    checks: list[VersionCheck] = []
    facts: list[VersionFacts] = []
    notes: list[str] = []
    for entry in sorted(document["versions"], key=lambda v: v["number"]):
        number = int(entry["number"])
        text = entry["canonical_terms"]
        computed = canonical.terms_hash(text)
        check = VersionCheck(number, computed)
        checks.append(check)
        if computed != entry["hash"]:
            check.problems.append(f"its terms do not match its recorded hash {entry['hash']} "
                                  f"(computed {computed}): the terms were changed")
        try:
            terms = json.loads(text)
            if canonical.canonical_text(terms) != text:
                check.problems.append("its terms are not in canonical form")
        except (ValueError, canonical.CanonicalError) as exc:
            check.problems.append(f"its terms cannot be read: {exc}")
            continue
        if terms.get("zone_code") != zone_code:
            check.problems.append(f"its terms are for zone {terms.get('zone_code')}, "
                                  f"not {zone_code}")
        for party in terms.get("parties", []):
            acronyms[party["organisation"]["id"]] = party["organisation"]["acronym"]
        message = canonical.signing_message(zone_code, number, computed)
        signed_at: dict[int, dt.datetime] = {}
        for signature in entry.get("signatures", []):
            org = signature["organisation"]
            label = org["acronym"]
            problem = _signature_problem(signature, keys_by_id, message, computed)
            if problem:
                check.problems.append(f"signature of {label}: {problem}")
                continue
            signed_at[org["id"]] = dt.datetime.fromisoformat(signature["signed_at"])
            check.valid_signers.append(label + (" (server-held key)"
                                                if signature.get("server_held") else ""))
        try:
            version = facts_from_terms(number, terms, signed_at)
        except (KeyError, TypeError, ValueError) as exc:
            check.problems.append(f"its terms lack a required field: {exc}")
            continue
        facts.append(version)
        previous = _previous_effective(facts[:-1])
        check.pending_signers = sorted(acronyms.get(o, str(o))
                                       for o in version.pending(previous))
    withdrawn = [dt.date.fromisoformat(w["withdrawn_on"]) for w in
                 document.get("withdrawals", [])]
    withdrawn_on = min(withdrawn) if withdrawn else None
    if withdrawn_on:
        notes.append("the withdrawal date comes from Havens' records, not from a signature")
    if any(k.get("server_held") for k in keys_by_id.values()):
        notes.append("some keys are server-held (demo/low-security): whoever runs that server "
                      "could sign with them")
    return Report(zone_code, checks, periods(facts, withdrawn_on), withdrawn_on, notes)


def _previous_effective(facts: Sequence[VersionFacts]) -> VersionFacts | None:
    effective = effective_dates(facts)
    done = [v for v in facts if v.number in effective]
    return done[-1] if done else None


def _signature_problem(signature: Mapping[str, Any], keys_by_id: Mapping[str, Any],
                       message: bytes, computed_hash: str) -> str | None:
    key = keys_by_id.get(signature["key_id"])
    if key is None:
        return f"its key {signature['key_id'][:12]}… is not in the export"
    try:
        if keys.key_id_of(key["public_key"]) != key["key_id"]:
            return "the key id does not match the public key"
    except keys.KeyFormatError as exc:
        return f"the public key cannot be read: {exc}"
    if key["organisation"]["id"] != signature["organisation"]["id"]:
        return f"the key belongs to {key['organisation']['acronym']}, not to the signer"
    if signature.get("signed_hash") != computed_hash:
        return "it was made for other terms (another hash)"
    if not keys.is_valid(key["public_key"], message, signature["signature"]):
        return "the Ed25519 signature does not verify"
    return None
