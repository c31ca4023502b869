"""The bodies of long tables, and the zip that holds the workbook (see xlsx_book).

The summary of 10,000 returns has some 300,000 cells.  The rows under a table's header, plain
values with one format each, are generated as SpreadsheetML row by row while the sheet part is
compressed: no cell is ever held as an object.  With many rows, the sheets are shared out between
this process and a forked one (`background`), each compressing about half the cells.

Strings are written inline (<is><t>), with the escapes Excel uses.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from xlsx_tool.outputs.background import in_background
from xlsx_tool.forms.layout import col_letters

_COLS = [chr(65 + i) for i in range(26)]
_CONTROL = re.compile(r"[\x00-\x08\x0B-\x1F\uFFFE\uFFFF]")
_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0B-\x1F\uFFFE\uFFFF]|_x")  # anything text_xml changes
MAX_CELL_CHARS = 32767
FLUSH_ROWS = 256  # rows joined before each write to the compressor
DEFLATED = 8  # the zip method number
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # as xlsxwriter dates its parts: the workbook is dated in docProps/core.xml


def text_xml(s: str) -> str:
    """Element text as Excel stores it: XML escapes, and control characters as _xHHHH_ (a literal
    "_x0041_" in the text is protected as "_x005F_x0041_"), as xlsxwriter's shared strings do."""
    if s.isprintable() and "&" not in s and "<" not in s and ">" not in s and "_x" not in s:
        return s  # the usual text: what _SPECIAL matches is never printable, or one of these four
    if not _SPECIAL.search(s):  # a line break or a tab, say: nothing to change either
        return s
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
    n = str(r + 1)
    parts = [f'<row r="{n}" ht="{height:g}" customHeight="1">' if height else f'<row r="{n}">']
    for c, (v, s) in enumerate(cells):
        ref = (_COLS[c] if c < 26 else col_letters(c)) + n
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


class Body(NamedTuple):
    """Rows to put under row `after` (0-based, the header) of one sheet: `rows()` yields each row's
    XML, rows after+1 … last; `last_col` is the table's last column (0-based)."""

    after: int
    last: int
    last_col: int
    rows: Callable[[], Iterator[str]]


PARALLEL_ROWS = 20_000  # rows in all bodies from which half of them are written on the other core


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


def _zip(members: list[tuple[str, tuple[int, int, bytes]]]) -> bytes:
    """A zip of deflated members, in order: local headers, data, central directory (no zip64: a
    summary is far below 4 GB)."""
    local, central = [], []
    offset = 0
    for filename, (crc, size, data) in members:
        name = filename.encode("utf-8")
        flags = 0x800 if not name.isascii() else 0
        y, mo, d, h, mi, s = ZIP_DATE
        dos_time, dos_date = h << 11 | mi << 5 | s // 2, (y - 1980) << 9 | mo << 5 | d
        head = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, DEFLATED, dos_time, dos_date,
                           crc, len(data), size, len(name), 0) + name
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 3 << 8 | 20, 20, flags,
                                   DEFLATED, dos_time, dos_date, crc, len(data), size, len(name), 0, 0, 0,
                                   0, 0o600 << 16, offset) + name)
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


def pack(members: list[tuple[str, bytes | Callable[[], Iterable[bytes]]]], bodies: dict[str, Body],
         compresslevel: int = 1) -> bytes:
    """The zip of a workbook's parts, in order: each member is its bytes, or a function that yields
    them in pieces (a sheet with a Body).  `bodies` are those sheets' Bodies: with PARALLEL_ROWS rows
    or more in all, the sheets are shared out with a forked process, by their number of cells.
    Level 1: the bodies are long runs of similar XML, compressed almost as well and three times
    faster than at 6."""
    parts = dict(members)
    if sum(b.last - b.after for b in bodies.values()) >= PARALLEL_ROWS:
        mine, theirs = _halves({n: (b.last - b.after) * (b.last_col + 1) for n, b in bodies.items()})
    else:
        mine, theirs = list(bodies), []

    def write(names: list[str]) -> dict[str, tuple[int, int, bytes]]:
        return {n: _deflate(parts[n](), compresslevel) for n in names}

    later = in_background(lambda: write(theirs)) if theirs else dict
    done = write(mine)
    done.update(later())
    for name, part in members:
        if name not in done:
            done[name] = _deflate([part] if isinstance(part, bytes) else part(), compresslevel)
    return _zip([(name, done[name]) for name, _ in members])
