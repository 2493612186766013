"""Tables of the agreements domain."""

from __future__ import annotations
