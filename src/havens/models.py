"""Every domain's tables, imported so that the metadata is complete (Alembic, tests)."""

from __future__ import annotations

from havens.agreements import models as agreement_models  # noqa: F401
from havens.assistance import models as assistance_models  # noqa: F401
from havens.audit import models as audit_models  # noqa: F401
from havens.database import Base
from havens.geo import models as geo_models  # noqa: F401
from havens.linkage import models as linkage_models  # noqa: F401
from havens.orgs import models as org_models  # noqa: F401
from havens.people import models as people_models  # noqa: F401
from havens.returns import models as returns_models  # noqa: F401
from havens.safety import models as safety_models  # noqa: F401
from havens.sharing import models as sharing_models  # noqa: F401
from havens.zones import models as zone_models  # noqa: F401

metadata = Base.metadata
