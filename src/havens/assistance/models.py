"""Tables of the assistance domain."""

from __future__ import annotations
