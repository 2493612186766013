"""Types shared by the API routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

#: A database id in a URL path: a positive 32-bit integer. Larger values cannot name a row
#: and overflow PostgreSQL's ``integer`` (and SQLite's 64-bit) parameters: refused with 422.
ObjectId = Annotated[int, Path(ge=1, le=2_147_483_647)]
