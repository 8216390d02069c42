"""The wire-format fields, for the rules' schemas (they live in ``wire_fields``: every feature's
schemas use them)."""

from ..wire_fields import StrictBoolean, WholeNumber

__all__ = ["StrictBoolean", "WholeNumber"]
