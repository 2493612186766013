"""Every domain's tables, imported so that the metadata is complete (Alembic, tests)."""

from __future__ import annotations

from havens.audit import models as audit_models  # noqa: F401
from havens.database import Base
from havens.geo import models as geo_models  # noqa: F401
from havens.orgs import models as org_models  # noqa: F401

metadata = Base.metadata
