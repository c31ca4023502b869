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
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .background import in_background
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


PARALLEL_ROWS = 20_000  # rows in all bodies from which half of them are written on the other core


def _sheet_chunks(xml: bytes, body: Body) -> Iterator[bytes]:
    """The sheet part with its body: the head (with the table's extent), the rows, the tail."""
    text = xml.decode("utf-8")
    at = _insert_point(text, body.after)
    yield _with_dimension(text[:at], body).encode("utf-8")
    buf: list[str] = []
    for row in body.rows():
        buf.append(row)
        if len(buf) >= FLUSH_ROWS:
            yield "".join(buf).encode("utf-8")
            buf.clear()
    yield "".join(buf).encode("utf-8")
    yield text[at:].encode("utf-8")


def _deflate(chunks: Iterable[bytes], level: int) -> tuple[int, int, bytes]:
    """(CRC-32, size, raw deflate stream) of the bytes `chunks` yield, as a zip member stores them."""
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    crc = size = 0
    out = []
    for chunk in chunks:
        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
        out.append(z.compress(chunk))
    out.append(z.flush())
    return crc, size, b"".join(out)


def _zip(members: list[tuple[zipfile.ZipInfo, tuple[int, int, bytes]]]) -> bytes:
    """A zip of deflated members, in order: local headers, data, central directory (no zip64: a
    summary is far below 4 GB)."""
    local, central = [], []
    offset = 0
    for info, (crc, size, data) in members:
        name = info.filename.encode("utf-8")
        flags = 0x800 if not name.isascii() else 0
        y, mo, d, h, mi, s = info.date_time
        dos_time, dos_date = h << 11 | mi << 5 | s // 2, (y - 1980) << 9 | mo << 5 | d
        head = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, zipfile.ZIP_DEFLATED, dos_time, dos_date,
                           crc, len(data), size, len(name), 0) + name
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", info.create_system << 8 | 20, 20, flags,
                                   zipfile.ZIP_DEFLATED, dos_time, dos_date, crc, len(data), size, len(name), 0, 0, 0,
                                   0, info.external_attr, offset) + name)
        local += [head, data]
        offset += len(head) + len(data)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), offset, 0)
    return b"".join(local) + directory + end


def _halves(cells: dict[str, int]) -> tuple[list[str], list[str]]:
    """Two lists of sheets with about as many cells each: largest first, each to the lighter side."""
    sides: tuple[list[str], list[str]] = ([], [])
    load = [0, 0]
    for name in sorted(cells, key=cells.get, reverse=True):
        side = load.index(min(load))
        sides[side].append(name)
        load[side] += cells[name]
    return sides


def splice(package: bytes, bodies: dict[str, Body], compresslevel: int = 1) -> bytes:
    """The package xlsxwriter wrote, member by member and in the same order, with each Body written
    into its sheet part (`xl/worksheets/sheetN.xml`).  Level 1: the bodies are long runs of similar
    XML, compressed almost as well and three times faster than at 6.  Many rows: the bodies are
    shared out between this process and a forked one, each writing about half the rows."""
    src = zipfile.ZipFile(io.BytesIO(package))
    infos = src.infolist()
    parts = {i.filename: src.read(i) for i in infos}
    sheets = [n for n in parts if n in bodies]
    if sum(bodies[n].last - bodies[n].after for n in sheets) >= PARALLEL_ROWS:
        mine, theirs = _halves({n: (bodies[n].last - bodies[n].after) * (bodies[n].last_col + 1) for n in sheets})
    else:
        mine, theirs = sheets, []

    def write(names: list[str]) -> dict[str, tuple[int, int, bytes]]:
        return {n: _deflate(_sheet_chunks(parts[n], bodies[n]), compresslevel) for n in names}

    later = in_background(lambda: write(theirs)) if theirs else dict
    done = write(mine)
    done.update(later())
    return _zip([(i, done.get(i.filename) or _deflate([parts[i.filename]], compresslevel)) for i in infos])
