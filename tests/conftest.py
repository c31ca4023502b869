"""Shared fixtures.  Tests build real workbooks and read them back; nothing is mocked."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

# load_plan caches parsed plans in the user's cache folder (xlsx_tool/plan.py): point it at a temporary
# folder for this session, so that neither the suite nor the CLI subprocesses it starts (they inherit
# the environment) write there.  A value already set is kept; "" disables the cache.
if "XLSX_TOOL_CACHE" not in os.environ:
    os.environ["XLSX_TOOL_CACHE"] = tempfile.mkdtemp(prefix="xlsx-tool-test-cache-")
    atexit.register(shutil.rmtree, os.environ["XLSX_TOOL_CACHE"], ignore_errors=True)

from xlsx_tool.plan import load_plan


@pytest.fixture(scope="session")
def plan():
    """The embedded 2017 Q3 plan."""
    return load_plan()
