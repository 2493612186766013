"""Tables of the returns domain."""

from __future__ import annotations
