"""Scores are Decimals (0.5 steps add up exactly); these turn them into what cells and messages show."""

from __future__ import annotations

from decimal import Decimal


def as_cell(d: Decimal) -> int | float:
    """For a spreadsheet cell or JSON: 5, not 5.0; 4.5 stays 4.5."""
    return int(d) if d == d.to_integral_value() else float(d)


def as_text(d: Decimal) -> str:
    """For a message: "5", "0.5", never "5.0" or "5E+1"."""
    return f"{d.normalize():f}"
