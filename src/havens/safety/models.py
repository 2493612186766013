"""Tables of the safety domain."""

from __future__ import annotations
