"""What a PDF printed by LibreOffice shows, through poppler (pdftotext -bbox, pdfinfo): pages, their
size, every word's box.  Shared by the paper tests of the forms, the summary and the reports."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

XHTML = "{http://www.w3.org/1999/xhtml}"


def tool(name: str) -> str:
    """A poppler program, or fail the test (never skip) with how to install it."""
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: `apt-get install poppler-utils` (or run `bash .ci/run`)", pytrace=False)
    return path


@dataclass
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Page:
    width: float
    height: float
    words: list[Word]

    @property
    def text(self) -> str:
        """The words in pdftotext's reading order (which interleaves the lines of neighbouring cells)."""
        return "".join(w.text for w in self.words)

    @property
    def columns_text(self) -> str:
        """The words column by column: the wrapped lines of a left-aligned cell start at one x and
        follow each other down, so a cell's whole text is a substring of this."""
        return "".join(w.text for w in sorted(self.words, key=lambda w: (round(w.x0), w.y0)))

    def outside(self) -> list[str]:
        """The words not wholly inside the page."""
        return [w.text for w in self.words if w.x0 < 0 or w.y0 < 0 or w.x1 > self.width or w.y1 > self.height]


def pdf_pages(pdf: Path) -> list[Page]:
    """Every page's size and word boxes, from pdftotext -bbox (XHTML, read with ElementTree)."""
    out = subprocess.run([tool("pdftotext"), "-enc", "UTF-8", "-bbox", str(pdf), "-"], capture_output=True,
                         timeout=120, check=True)
    pages = []
    for page in ElementTree.fromstring(out.stdout).iter(f"{XHTML}page"):
        words = [Word(w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
                 for w in page.iter(f"{XHTML}word")]
        pages.append(Page(float(page.get("width")), float(page.get("height")), words))
    return pages


def pdf_info(pdf: Path) -> str:
    return subprocess.run([tool("pdfinfo"), str(pdf)], capture_output=True, text=True, timeout=60, check=True).stdout


def page_count(pdf: Path) -> int:
    return int(next(line.split(":")[1] for line in pdf_info(pdf).splitlines() if line.startswith("Pages:")))
