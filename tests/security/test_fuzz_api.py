"""Schema-driven fuzzing of every API operation (schemathesis), authenticated as an admin.

No 5xx, and every response matches the schema the API publishes. Bounded: a few examples per
operation so that the suite stays fast on both databases.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from havens.orgs.models import OrgKind, Role

pytestmark = pytest.mark.fuzz
EXAMPLES = int(os.environ.get("HAVENS_FUZZ_EXAMPLES", "6"))
# Operations whose inputs are files: fuzzed by the importers' own Hypothesis tests instead.
SKIP_METHODS_PATHS: set[tuple[str, str]] = set()


def test_api_operations_never_fail_and_keep_their_schema(app: Any, make_user, token_for,
                                                         make_org) -> None:
    headers = token_for(make_user(Role.admin, org=make_org("FUZZ", kind=OrgKind.un_agency)))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP_METHODS_PATHS:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],  # report, do not shrink: faster
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            # Schema-valid is not business-valid (an unknown P-code, an overlapping boundary):
            # such requests rightly get 422/409, so "positive data acceptance" is not checked.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except BaseException as exc:  # collect every failing operation, then report them all
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: "
                            f"{_describe(exc)[:1500]}")
    assert operations > 10
    assert not failures, "\n\n".join(failures)


def _describe(exc: BaseException) -> str:
    parts = [str(exc).strip()]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(_describe(sub))
    return "\n".join(p for p in parts if p)
