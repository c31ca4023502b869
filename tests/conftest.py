"""Shared fixtures.  Tests build real workbooks and read them back; nothing is mocked."""

from __future__ import annotations

import pytest

from xlsx_tool.plan import load_plan


@pytest.fixture(scope="session")
def plan():
    """The embedded 2017 Q3 plan."""
    return load_plan()
