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


# Lone surrogates (half an emoji, "&#xD800;", Excel's "_xD83D_") cannot be written as UTF-8, and control
# characters other than tab and line breaks are not allowed in XML: either would stop every output.
_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def safe_text(s: str) -> str:
    """Text from a returned file or a file name, safe for every output: the one place where
    characters that no output can hold are replaced (by U+FFFD, "�")."""
    return _UNSAFE.sub("\ufffd", s)
