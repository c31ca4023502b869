"""The bodies of long tables, written straight as SpreadsheetML into a workbook xlsxwriter wrote.

xlsxwriter costs several microseconds a cell (an object per cell, then an XML-writer call per
attribute) and holds every cell until it closes; the summary of 10,000 returns has some 300,000
cells.  So the parts that need its features (formats, merges, charts, page setup, titles and
headers) stay with xlsxwriter, and the rows under a table's header, plain values with one format
each, are generated here, row by row, while the finished package is copied into its final zip:
no cell is ever held as an object.

Strings are written inline (<is><t>), as xlsxwriter itself does in its constant_memory mode, with
the same escapes; styles are xlsxwriter's own format indices.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .layout import col_index, col_letters

_COLS = [chr(65 + i) for i in range(26)]
_CONTROL = re.compile(r"[\x00-\x08\x0B-\x1F\uFFFE\uFFFF]")
_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_DIMENSION = re.compile(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>')
FLUSH_ROWS = 256  # rows joined before each write to the compressor
MAX_CELL_CHARS = 32767


def text_xml(s: str) -> str:
    """Element text as Excel stores it: XML escapes, and control characters as _xHHHH_ (a literal
    "_x0041_" in the text is protected as "_x005F_x0041_"), as xlsxwriter's shared strings do."""
    if "_x" in s:
        s = _LITERAL_ESCAPE.sub(r"_x005F\1", s)
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if _CONTROL.search(s):
        s = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    return s


def row_xml(r: int, cells: Iterable[tuple[object, int]], height: float | None = None) -> str:
    """One <row>: r is 0-based; cells are (value, style index) from column A on.  A value is a str,
    an int or float, or None for a blank cell that keeps its format (borders)."""
    n = r + 1
    parts = [f'<row r="{n}" ht="{height:g}" customHeight="1">' if height else f'<row r="{n}">']
    for c, (v, s) in enumerate(cells):
        ref = (_COLS[c] if c < 26 else col_letters(c)) + str(n)
        if v is None:
            parts.append(f'<c r="{ref}" s="{s}"/>')
        elif type(v) is str:
            if len(v) > MAX_CELL_CHARS:
                v = v[:MAX_CELL_CHARS]  # what Excel can hold (xlsxwriter cuts the same way); more and Excel "repairs" the file
            space = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
            parts.append(f'<c r="{ref}" s="{s}" t="inlineStr"><is><t{space}>{text_xml(v)}</t></is></c>')
        else:  # int or float (bool is never passed)
            parts.append(f'<c r="{ref}" s="{s}"><v>{v!r}</v></c>')
    parts.append("</row>")
    return "".join(parts)


@dataclass
class Body:
    """Rows to put under row `after` (0-based, the header) of one sheet: `rows()` yields each row's
    XML, rows after+1 … last; `last_col` is the table's last column (0-based)."""

    after: int
    last: int
    last_col: int
    rows: Callable[[], Iterator[str]]


def _insert_point(xml: str, after: int) -> int:
    """Just after row `after` (0-based) in xlsxwriter's sheet XML, before any later row."""
    start = xml.find(f'<row r="{after + 1}"')
    if start < 0:
        raise ValueError(f"row {after + 1} not found")
    end = xml.find("</row>", start)
    return end + len("</row>")


def _with_dimension(head: str, body: Body) -> str:
    m = _DIMENSION.search(head)
    if not m:
        return head
    end_col, end_row = (m.group(3), int(m.group(4))) if m.group(3) else (m.group(1), int(m.group(2)))
    col = col_letters(max(col_index(end_col), body.last_col))
    row = max(end_row, body.last + 1)
    return head[: m.start()] + f'<dimension ref="{m.group(1)}{m.group(2)}:{col}{row}"/>' + head[m.end():]


def splice(package: bytes, bodies: dict[str, Body], compresslevel: int = 1) -> bytes:
    """Copy the package xlsxwriter wrote into a new zip, member by member and in the same order,
    writing each Body into its sheet part (`xl/worksheets/sheetN.xml`) on the way.  Level 1: the
    bodies are long runs of similar XML, compressed almost as well and three times faster than at 6."""
    src = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as dst:
        for info in src.infolist():
            data = src.read(info)
            zi = zipfile.ZipInfo(info.filename, info.date_time)
            zi.compress_type, zi.external_attr, zi.create_system = zipfile.ZIP_DEFLATED, info.external_attr, info.create_system
            zi._compresslevel = compresslevel  # ZipInfo's own level (3.13 also calls it compress_level); None would mean 6
            body = bodies.get(info.filename)
            if body is None:
                dst.writestr(zi, data)
                continue
            xml = data.decode("utf-8")
            at = _insert_point(xml, body.after)
            with dst.open(zi, "w") as f:
                f.write(_with_dimension(xml[:at], body).encode("utf-8"))
                buf: list[str] = []
                for row in body.rows():
                    buf.append(row)
                    if len(buf) >= FLUSH_ROWS:
                        f.write("".join(buf).encode("utf-8"))
                        buf.clear()
                f.write("".join(buf).encode("utf-8"))
                f.write(xml[at:].encode("utf-8"))
    return out.getvalue()
