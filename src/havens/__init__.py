"""Havens: coordination of safe zones for internally displaced people."""

__version__ = "0.1.0"
