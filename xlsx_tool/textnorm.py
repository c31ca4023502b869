"""Normalising text typed by people: full-width characters, spaces, "（含…）" parentheses."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_INCLUDES = re.compile(r"[（(]\s*含[^）)]*[）)]")


@lru_cache(maxsize=8192)  # the same labels and item texts recur in every returned form
def norm_text(s: str) -> str:
    """NFKC (full-width to half-width), no whitespace at all: for comparing printed texts."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(s)))


@lru_cache(maxsize=8192)
def norm_name(s: str) -> str:
    """A unit name for matching: like norm_text, and without a "（含…）" part."""
    return norm_text(_INCLUDES.sub("", unicodedata.normalize("NFKC", str(s))))
