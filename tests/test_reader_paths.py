"""The .xlsx reader's fast paths, on real workbooks edited at the byte level.

book_reader reads members straight from the archive bytes (`_inflate`), looks for a DTD only in a
part's prolog (`_declares_dtd`), and reads most sheets with one regex over the raw bytes
(`_sheet_fast`).  Each shortcut must give what the slow, general code gives, and must refuse what
it refuses.  Workbooks are written by xlsxwriter in memory; a part is then edited and the zip
rewritten, so every case is a file a sender could really send.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import pytest
import xlsxwriter

from xlsx_tool.reading import workbook as book_reader
from xlsx_tool.reading.workbook import BookError, CellError, Limits, open_book

SHEET = "评分"  # a Chinese sheet name, so that any English in an error's `why` comes from the reader
SHEET_PART = "xl/worksheets/sheet1.xml"
STRINGS_PART = "xl/sharedStrings.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# --------------------------------------------------------------------------- helpers


def new_book(fill) -> bytes:
    """An .xlsx with one sheet named SHEET, filled by `fill(workbook, worksheet)`."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(SHEET)
    fill(wb, ws)
    wb.close()
    return buf.getvalue()


def part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def replace_part(data: bytes, name: str, new: bytes, compress_type: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The same archive with member `name` holding `new` (other members copied as they are)."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    assert name in zin.namelist()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename == name:
                zout.writestr(info.filename, new, compress_type=compress_type)
            else:
                zout.writestr(info.filename, zin.read(info), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def edit_part(data: bytes, name: str, edit) -> bytes:
    return replace_part(data, name, edit(part(data, name)))


def sub_once(xml: bytes, old: bytes, new: bytes) -> bytes:
    """Replace exactly one occurrence: a test edit that silently did nothing would prove nothing."""
    assert xml.count(old) == 1, (old, xml)
    return xml.replace(old, new)


def read(data: bytes, limits: Limits | None = None):
    return open_book(data, ".xlsx", limits or Limits()).sheet(SHEET)


def prefixed(xml: bytes) -> bytes:
    """The same sheet with every cell written <x:c> (x bound to the main namespace): valid, equal
    in meaning, and a shape only the general path reads."""
    xml = sub_once(xml, b"<worksheet ", b'<worksheet xmlns:x="%s" ' % MAIN_NS.encode())
    return re.sub(rb"<c(?=[\s>/])", b"<x:c", xml).replace(b"</c>", b"</x:c>")


@pytest.fixture
def paths(monkeypatch):
    """Which sheet readers ran ("fast", "general"): so that a comparison of the two paths cannot
    pass because both reads secretly took the same one."""
    seen: list[str] = []
    fast, general = book_reader._XlsxBook._sheet_fast, book_reader._XlsxBook._sheet_general

    def spy_fast(self, *a, **k):
        seen.append("fast")
        return fast(self, *a, **k)

    def spy_general(self, *a, **k):
        seen.append("general")
        return general(self, *a, **k)

    monkeypatch.setattr(book_reader._XlsxBook, "_sheet_fast", spy_fast)
    monkeypatch.setattr(book_reader._XlsxBook, "_sheet_general", spy_general)
    return seen


def read_both(data: bytes, paths: list[str]):
    """The sheet read as written (fast path) and with prefixed cells (general path)."""
    fast = read(data)
    general = read(edit_part(data, SHEET_PART, prefixed))
    assert paths == ["fast", "general"]
    return fast, general


def member_offsets(data: bytes, name: str) -> tuple[int, int]:
    """(local header offset, central directory record offset) of member `name`."""
    eocd = data.rfind(b"PK\x05\x06")
    count, _size, p = struct.unpack_from("<HII", data, eocd + 10)
    for _ in range(count):
        assert data[p:p + 4] == b"PK\x01\x02"
        n, e, c = struct.unpack_from("<HHH", data, p + 28)
        (local,) = struct.unpack_from("<I", data, p + 42)
        if data[p + 46:p + 46 + n].decode() == name:
            return local, p
        p += 46 + n + e + c
    raise KeyError(name)


def patch_member(data: bytes, name: str, *, file_size: int, crc: int | None = None) -> bytes:
    """Claim another uncompressed size (and CRC-32) for a member, in its local header and in the
    central directory alike, as a crafted file would."""
    local, central = member_offsets(data, name)
    out = bytearray(data)
    struct.pack_into("<I", out, local + 22, file_size)
    struct.pack_into("<I", out, central + 24, file_size)
    if crc is not None:
        struct.pack_into("<I", out, local + 14, crc)
        struct.pack_into("<I", out, central + 16, crc)
    return bytes(out)


def english_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", text)


# --------------------------------------------------------------------------- the workbooks


def fill_mixed(wb, ws):
    bold = wb.add_format({"bold": True})  # s="1": the style attribute the fast regex allows for
    ws.write_number("A1", 42)
    ws.write_number("B1", 0.1)
    ws.write_number("C1", 0.001)  # rewritten to <v>1E-3</v> below: exponent form, as Excel writes it
    ws.write_number("D1", -7.5, bold)
    ws.write_number("E1", -3)
    ws.write_number("F1", 12345678901)
    ws.write_string("A2", "A&B")  # &amp; in sharedStrings.xml
    ws.write_string("B2", "x<y")  # &lt;
    ws.write_string("C2", "中文评分", bold)  # t="s" after s="1"
    ws.write_formula("A3", '="a"&"b"', None, "a&b")  # t="str", &amp; in both <f> and <v>
    ws.write_boolean("B3", True)
    ws.write_formula("C3", "=1/0", None, "#DIV/0!")  # t="e"
    ws.write_number("AA4", 1)  # two-letter columns: not in the one-letter lookup table
    ws.write_string("AZ4", "末列")
    ws.write_formula("BA4", "=AA4*2", None, 2)


def mixed_book() -> bytes:
    return edit_part(new_book(fill_mixed), SHEET_PART, lambda x: sub_once(x, b"<v>0.001</v>", b"<v>1E-3</v>"))


MIXED_CELLS = {
    (0, 0): 42.0, (0, 1): 0.1, (0, 2): 0.001, (0, 3): -7.5, (0, 4): -3.0, (0, 5): 12345678901.0,
    (1, 0): "A&B", (1, 1): "x<y", (1, 2): "中文评分",
    (2, 0): "a&b", (2, 1): True, (2, 2): CellError("#DIV/0!"),
    (3, 26): 1.0, (3, 51): "末列", (3, 52): 2.0,
}
MIXED_FORMULAS = {(2, 0): '"a"&"b"', (2, 2): "1/0", (3, 52): "AA4*2"}


def fill_numbers(wb, ws):
    for r in range(10):
        for c in range(10):
            ws.write_number(r, c, r * 10 + c)


# --------------------------------------------------------------------------- fast path = general path


def test_fast_and_general_paths_read_the_same_values_and_formulas(paths):
    fast, general = read_both(mixed_book(), paths)
    assert fast.cells == MIXED_CELLS
    assert fast.formulas == MIXED_FORMULAS
    assert general.cells == fast.cells
    assert general.formulas == fast.formulas
    assert type(fast.get(2, 1)) is bool and type(general.get(2, 1)) is bool  # not 1.0
    assert fast.get(3, 52) == general.get(3, 52) == 2.0  # BA4, through the public accessor


def test_general_path_without_cell_positions_reads_the_same(paths):
    """The other shape the fast path refuses: cells without r="…" (positions counted in the row).
    A dense grid, so that counting gives the same positions."""
    data = new_book(fill_numbers)
    fast = read(data)
    general = read(edit_part(data, SHEET_PART, lambda x: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", x)))
    assert paths == ["fast", "general"]
    assert len(fast.cells) == 100 and fast.get(9, 9) == 99.0
    assert general.cells == fast.cells


def test_inline_string_and_shared_formula_in_a_plain_sheet(paths):
    """Cells of another shape inside an otherwise plain sheet go through `_CELL_ODD`, cell by cell."""
    def fill(wb, ws):
        ws.write_number("A1", 1)
        ws.write_number("C1", 3)  # becomes an inline string
        for r in (2, 3):
            ws.write_number(f"A{r}", r)
            ws.write_formula(f"B{r}", f"=A{r}*2", None, r * 2)

    def edit(x):
        inline = '<c r="C1" t="inlineStr"><is><t>行内 &amp; 文本</t></is></c>'.encode()
        x = sub_once(x, b'<c r="C1"><v>3</v></c>', inline)
        x = sub_once(x, b"<f>A2*2</f>", b'<f t="shared" ref="B2:B3" si="0">A2*2</f>')
        return sub_once(x, b"<f>A3*2</f>", b'<f t="shared" si="0"/>')

    data = edit_part(new_book(fill), SHEET_PART, edit)
    fast, general = read_both(data, paths)
    assert fast.cells == {(0, 0): 1.0, (0, 2): "行内 & 文本", (1, 0): 2.0, (1, 1): 4.0, (2, 0): 3.0, (2, 1): 6.0}
    assert fast.formulas[(1, 1)] == "A2*2"
    assert (2, 1) in fast.formulas  # a shared formula's other cells still count as formulas
    assert general.cells == fast.cells
    assert general.formulas == fast.formulas


# Cells whose content is plain (<v>…</v>) but whose start tag is not exactly <c r=".." s=".." t="..">:
# valid SpreadsheetML.  cm/vm/ph are attributes of <c> in the schema (Excel 365 writes vm="1" on a
# picture in a cell, whose value is #VALUE!); XML allows any whitespace between attributes.
@pytest.mark.parametrize("cell", [
    b'<c r="B1" cm="1"><v>2</v></c>',
    b'<c r="B1" t="e" vm="1"><v>#VALUE!</v></c>',
    b'<c r="B1" s="0" t="n" ph="1"><v>2</v></c>',
    b'<c r="B1"  s="0"><v>2</v></c>',
], ids=["cm", "vm", "ph", "two-spaces"])
def test_cell_with_other_attributes_is_read_on_the_fast_path(paths, cell):
    def fill(wb, ws):
        ws.write_number("A1", 1)
        ws.write_number("B1", 2)
        ws.write_string("C1", "文本")

    data = edit_part(new_book(fill), SHEET_PART, lambda x: sub_once(x, b'<c r="B1"><v>2</v></c>', cell))
    fast, general = read_both(data, paths)
    assert (0, 1) in general.cells
    assert fast.cells == general.cells  # once dropped by the fast path (_CELL_ODD skipped plain content)


def test_cell_tag_with_a_newline_goes_to_the_general_path(paths):
    """<c\nr="B1">: the fast path counts and finds cells by '<c r="'; this sheet is read the general way."""
    def fill(wb, ws):
        ws.write_number("A1", 1)
        ws.write_number("B1", 2)

    data = edit_part(new_book(fill), SHEET_PART, lambda x: sub_once(x, b'<c r="B1"><v>2</v></c>', b'<c\nr="B1"><v>2</v></c>'))
    assert read(data).cells == {(0, 0): 1.0, (0, 1): 2.0}
    assert paths == ["general"]


def test_empty_formula_element_reads_the_same_on_both_paths(paths):
    """<f/> before <v>: the fast regex matches it as "no formula", the general path records ""."""
    def fill(wb, ws):
        ws.write_number("A1", 1)

    data = edit_part(new_book(fill), SHEET_PART, lambda x: sub_once(x, b'<c r="A1"><v>', b'<c r="A1"><f/><v>'))
    fast, general = read_both(data, paths)
    assert fast.cells == general.cells == {(0, 0): 1.0}
    assert fast.formulas == general.formulas == {(0, 0): ""}  # once {} on the fast path


# --------------------------------------------------------------------------- members read from the archive bytes


def assert_sheet_refused_in_chinese(data: bytes) -> None:
    """The workbook opens, its form sheet is refused as unreadable, with a reason in Chinese only."""
    book = open_book(data, ".xlsx")
    with pytest.raises(BookError) as ei:
        book.sheet(SHEET)
    assert ei.value.code == "file-unreadable"
    assert re.search(r"[\u4e00-\u9fff]", ei.value.why)
    assert english_words(ei.value.why) == [], ei.value.why


@pytest.fixture(params=["zlib-ng", "zlib"])
def inflater(request, monkeypatch):
    """The reader inflates with zlib-ng when it is installed, else with zlib: both must behave alike."""
    if request.param == "zlib":
        monkeypatch.setattr(book_reader, "_inflater", zlib)
    else:
        assert book_reader._inflater is not zlib  # zlib-ng, a dependency, is installed
    return request.param


def test_both_inflaters_read_the_same(inflater, paths):
    fast, general = read_both(mixed_book(), paths)
    assert fast.cells == general.cells == MIXED_CELLS and fast.formulas == MIXED_FORMULAS


# At 0 the flip breaks the stream itself (zlib.error); further in, it inflates to wrong bytes (CRC-32).
@pytest.mark.parametrize("where", [0.0, 0.25, 0.5, 0.75])
def test_corrupted_deflate_stream_is_refused_in_chinese(where, inflater):
    data = mixed_book()
    zi = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET_PART)
    assert zi.compress_type == zipfile.ZIP_DEFLATED
    local, _ = member_offsets(data, SHEET_PART)
    n, e = struct.unpack_from("<HH", data, local + 26)
    at = local + 30 + n + e + int(zi.compress_size * where)  # inside the stream; central directory untouched
    bad = bytearray(data)
    bad[at] ^= 0xFF
    with pytest.raises((zipfile.BadZipFile, zlib.error)):  # zipfile agrees that the member is damaged
        zipfile.ZipFile(io.BytesIO(bytes(bad))).read(SHEET_PART)
    assert_sheet_refused_in_chinese(bytes(bad))  # the workbook part is intact


@pytest.mark.parametrize("member", [SHEET_PART, STRINGS_PART])
def test_stored_member_reads_like_a_deflated_one(member):
    data = mixed_book()
    stored = replace_part(data, member, part(data, member), compress_type=zipfile.ZIP_STORED)
    info = zipfile.ZipFile(io.BytesIO(stored)).getinfo(member)
    assert info.compress_type == zipfile.ZIP_STORED
    assert book_reader._inflate(stored, info) == part(data, member)  # taken by _inflate, not zipfile
    sheet = read(stored)
    assert sheet.cells == MIXED_CELLS
    assert sheet.formulas == MIXED_FORMULAS


class _Unseekable(io.RawIOBase):
    """An output zipfile cannot seek back into: it then writes sizes and CRC-32 in a data descriptor
    after each member (local header fields 0), as streaming writers do."""

    def __init__(self):
        self.buf = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buf += b
        return len(b)


def test_members_with_data_descriptors_read_correctly():
    data = mixed_book()
    sink = _Unseekable()
    zin = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            with zout.open(info.filename, "w") as f:
                f.write(zin.read(info))
    streamed = bytes(sink.buf)
    assert zipfile.ZipFile(io.BytesIO(streamed)).getinfo(SHEET_PART).flag_bits & 0x8
    sheet = read(streamed)
    assert sheet.cells == MIXED_CELLS
    assert sheet.formulas == MIXED_FORMULAS


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_other_compression_methods_are_left_to_zipfile(method):
    data = mixed_book()
    other = replace_part(data, SHEET_PART, part(data, SHEET_PART), compress_type=method)
    info = zipfile.ZipFile(io.BytesIO(other)).getinfo(SHEET_PART)
    assert book_reader._inflate(other, info) is None  # "let zipfile decide"
    assert read(other).cells == MIXED_CELLS


def test_bad_local_header_signature_is_refused_in_chinese():
    """`_inflate` hands the member to zipfile, whose English "Bad magic number" must not leak."""
    data = mixed_book()
    local, _ = member_offsets(data, SHEET_PART)
    bad = bytearray(data)
    bad[local:local + 4] = b"PK\x09\x09"
    assert_sheet_refused_in_chinese(bytes(bad))


@pytest.mark.parametrize("member", [SHEET_PART, STRINGS_PART])
@pytest.mark.parametrize("fix_crc", [False, True], ids=["crc-as-is", "crc-of-truncated"])
def test_member_claiming_a_smaller_size_is_refused(member, fix_crc, inflater):
    """A lying size must not cut the part short, even when the CRC-32 is made to match the cut part
    (then only inflating one byte past the claim notices)."""
    data = mixed_book()
    real = part(data, member)
    short = len(real) // 2
    crc = zlib.crc32(real[:short]) if fix_crc else None
    lying = patch_member(data, member, file_size=short, crc=crc)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo(member).file_size == short
    with pytest.raises(BookError) as ei:
        read(lying)
    assert ei.value.code == "file-unreadable"
    assert english_words(ei.value.why) == [], ei.value.why


@pytest.mark.parametrize("member", [SHEET_PART, STRINGS_PART])
def test_member_claiming_size_zero_is_refused(member):
    """The extreme lie: size 0 with the CRC-32 of nothing (0).  zipfile reads exactly the claimed 0
    bytes and finds the CRC right; inflating one byte past the claim notices the rest."""
    lying = patch_member(mixed_book(), member, file_size=0, crc=0)
    with pytest.raises(BookError) as ei:  # once read as empty: raw() skipped the checks for a claimed size of 0
        read(lying)
    assert ei.value.code == "file-unreadable"


# --------------------------------------------------------------------------- DTD in the prolog

DOCTYPE = b'<!DOCTYPE root [<!ENTITY e "x">]>'
DECL_END = b'standalone="yes"?>\n'


def after_decl(xml: bytes, insert: bytes) -> bytes:
    return sub_once(xml, DECL_END, DECL_END + insert)


def utf16_with(insert: bytes):
    """The part re-encoded as UTF-16 (with BOM), `insert` after its declaration."""
    def edit(xml: bytes) -> bytes:
        xml = sub_once(xml, b'encoding="UTF-8"', b'encoding="UTF-16"')
        out = after_decl(xml, insert).decode("utf-8").encode("utf-16")
        assert out[:2] == b"\xff\xfe"
        return out
    return edit


REFUSED = {
    "doctype-after-declaration": lambda x: after_decl(x, DOCTYPE),
    "doctype-after-long-comment": lambda x: after_decl(x, b"<!-- " + b"x" * 5000 + b" -->\n" + DOCTYPE),
    "doctype-in-utf16": utf16_with(DOCTYPE),
    "entity-in-prolog": lambda x: after_decl(x, b'<!ENTITY e "x">'),
}
ACCEPTED = {
    "doctype-inside-a-comment": lambda x: after_decl(x, b"<!-- <!DOCTYPE x> -->\n"),
    "utf16-without-dtd": utf16_with(b""),
    "long-comment-only": lambda x: after_decl(x, b"<!-- " + b"x" * 5000 + b" -->\n"),
}
PARTS = {"sheet": SHEET_PART, "shared-strings": STRINGS_PART}


@pytest.mark.parametrize("case", list(REFUSED))
@pytest.mark.parametrize("where", list(PARTS))
def test_dtd_in_prolog_is_refused(where, case):
    data = edit_part(mixed_book(), PARTS[where], REFUSED[case])
    with pytest.raises(BookError) as ei:
        read(data)
    assert ei.value.code == "file-unreadable"
    assert "DTD" in ei.value.why


@pytest.mark.parametrize("case", list(ACCEPTED))
@pytest.mark.parametrize("where", list(PARTS))
def test_prolog_without_dtd_is_read(where, case):
    """Controls for the refusals above: a comment that merely mentions <!DOCTYPE, and UTF-16 or a
    long comment alone, are read as usual (so a refusal above is about the DTD, and only that)."""
    sheet = read(edit_part(mixed_book(), PARTS[where], ACCEPTED[case]))
    assert sheet.cells == MIXED_CELLS
    assert sheet.formulas == MIXED_FORMULAS


# --------------------------------------------------------------------------- cell budget


@pytest.mark.parametrize("shape", ["fast", "general"])
def test_cell_budget_refuses_a_sheet_with_more_cells(paths, shape):
    data = new_book(fill_numbers)  # 100 cells
    if shape == "general":
        data = edit_part(data, SHEET_PART, prefixed)
    with pytest.raises(BookError) as ei:
        read(data, Limits(max_cells=50))
    assert ei.value.code == "file-too-large"
    assert len(read(data, Limits(max_cells=100)).cells) == 100  # exactly at the limit: read
    assert paths == [shape, shape]


# --------------------------------------------------------------------------- what is remembered, what is scanned

WORKBOOK_PART = "xl/workbook.xml"


def test_a_workbook_read_before_does_not_excuse_a_bad_crc_in_the_next():
    """The sheets a workbook.xml lists are remembered by that member's stored bytes *and* its CRC and
    sizes: the same bytes under a wrong CRC must still be refused, even right after a good read."""
    data = mixed_book()
    assert read(data).cells  # remembered now
    local, _central = member_offsets(data, WORKBOOK_PART)
    (crc,) = struct.unpack_from("<I", data, local + 14)
    size = len(part(data, WORKBOOK_PART))
    bad = patch_member(data, WORKBOOK_PART, file_size=size, crc=crc ^ 1)
    with pytest.raises(BookError) as ei:
        open_book(bad, ".xlsx")
    assert ei.value.code == "file-unreadable"
    assert read(data).cells  # and the good one still reads


def test_a_renamed_sheet_is_not_taken_from_an_earlier_workbook():
    data = mixed_book()
    read(data)
    other = edit_part(data, WORKBOOK_PART, lambda x: sub_once(x, f'name="{SHEET}"'.encode(), 'name="另一个"'.encode()))
    book = open_book(other, ".xlsx")
    assert book.sheet_names == ["另一个"]
    assert book.sheet("另一个").cells == read(data).cells


def test_cells_are_found_whatever_comes_after_the_sheet_data(paths):
    """The fast path looks only between <sheetData> and </sheetData>; a comment that mentions either
    tag must not make it miss a cell or a shape it cannot read."""
    data = mixed_book()
    want = read(data).cells

    def noisy(xml: bytes) -> bytes:
        xml = sub_once(xml, b"</sheetData>", b"</sheetData><!-- </sheetData> -->")
        return sub_once(xml, b"<sheetData>", b"<!-- <sheetData></sheetData> --><sheetData>")

    assert read(edit_part(data, SHEET_PART, noisy)).cells == want
    # an odd cell after a comment that closes sheetData early must still send the sheet to the general path
    odd = edit_part(data, SHEET_PART, lambda x: sub_once(
        noisy(x), b"</sheetData><!--", b'<row r="99"><c\tr="A99"><v>7</v></c></row></sheetData><!--'))
    cells = read(odd).cells
    assert cells[(98, 0)] == 7.0 and {k: v for k, v in cells.items() if k != (98, 0)} == want
    assert paths == ["fast", "fast", "general"]


# --------------------------------------------------------------------------- the zip directory

def test_directory_reads_what_zipfile_reads():
    data = mixed_book()
    members = book_reader._directory(data)
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert members is not None and list(members) == [i.filename for i in infos]
    for i in infos:
        m = members[i.filename]
        assert (m.flag_bits, m.compress_type, m.CRC, m.compress_size, m.file_size, m.header_offset) == (
            i.flag_bits, i.compress_type, i.CRC, i.compress_size, i.file_size, i.header_offset)


def _with_comment(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        zout.comment = "由 WPS 保存".encode()
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
    return out.getvalue()


@pytest.mark.parametrize("shape", ["comment", "prefix", "utf8-names"])
def test_unusual_archives_are_left_to_zipfile_and_read_the_same(shape):
    data = mixed_book()
    if shape == "comment":
        odd = _with_comment(data)
    elif shape == "prefix":  # bytes before the archive, as a self-extracting archive has
        odd = b"MZ" + b"\0" * 510 + data
    else:  # names flagged as UTF-8: still the plain kind, read directly
        odd = edit_part(data, STRINGS_PART, lambda x: x)
        zf = zipfile.ZipFile(io.BytesIO(odd))
        assert all(not i.flag_bits & 0x800 for i in zf.infolist())
        _local, central = member_offsets(odd, SHEET_PART)
        buf = bytearray(odd)
        struct.pack_into("<H", buf, central + 8, zf.getinfo(SHEET_PART).flag_bits | 0x800)
        odd = bytes(buf)
    direct = book_reader._directory(odd)
    assert (direct is None) == (shape != "utf8-names")
    if shape == "prefix":  # not read at all: a workbook starts with "PK"
        assert zipfile.ZipFile(io.BytesIO(odd)).read(SHEET_PART) == part(data, SHEET_PART)
        return
    assert read(odd).cells == read(data).cells


@pytest.mark.parametrize("cut", [1, 22, 60])
def test_truncated_archive_is_refused_in_chinese(cut):
    data = mixed_book()
    with pytest.raises(BookError) as ei:
        read(data[:-cut])
    assert ei.value.code == "file-unreadable" and not english_words(ei.value.why)


def test_same_name_twice_is_left_to_zipfile():
    data = mixed_book()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        with pytest.warns(UserWarning):
            zout.writestr(SHEET_PART, part(data, SHEET_PART).replace(b"<v>", b"<v>1", 1))
    twice = out.getvalue()
    assert book_reader._directory(twice) is None
    zipfile_view = zipfile.ZipFile(io.BytesIO(twice)).read(SHEET_PART)  # the last one, as zipfile takes it
    assert b"<v>1" in zipfile_view
    read(twice)  # read like zipfile reads it, no crash


def test_name_flagged_utf8_that_is_not_is_refused_in_chinese():
    data = mixed_book()
    name = "xl/styles.xml"
    _local, central = member_offsets(data, name)
    buf = bytearray(data)
    (flags,) = struct.unpack_from("<H", buf, central + 8)
    struct.pack_into("<H", buf, central + 8, flags | 0x800)
    buf[central + 46 + 3:central + 46 + 5] = b"\xff\xfe"  # "xl/\xff\xfeyles.xml": not UTF-8
    bad = bytes(buf)
    assert book_reader._directory(bad) is None
    with pytest.raises(BookError) as ei:
        open_book(bad, ".xlsx")
    assert ei.value.code == "file-unreadable" and not english_words(ei.value.why)


def test_shared_strings_with_a_namespace_prefix_read_the_same():
    """<x:sst><x:si><x:t>… is valid XML for the same strings: no string may silently read as blank."""
    data = mixed_book()

    def prefixed_strings(xml: bytes) -> bytes:
        xml = sub_once(xml, b"<sst ", b'<x:sst xmlns:x="%s" ' % MAIN_NS.encode()).replace(b"</sst>", b"</x:sst>")
        return re.sub(rb"<(/?)(si|t)([ >/])", rb"<\1x:\2\3", xml)

    odd = edit_part(data, STRINGS_PART, prefixed_strings)
    assert b"<x:si>" in part(odd, STRINGS_PART)
    assert read(odd).cells == read(data).cells


SST_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="%s" count="7" uniqueCount="7">' % MAIN_NS.encode()
EVERY_SHAPE = [  # (the item as Excel, WPS or LibreOffice may write it, the text it holds)
    (b"<si><t>\xe6\x99\xae\xe9\x80\x9a</t></si>", "普通"),
    (b"<si><r><rPr><b/></rPr><t>\xe5\xaf\x8c</t></r><r><t>\xe6\x96\x87\xe6\x9c\xac</t></r></si>", "富文本"),
    ('<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>'.encode(), "漢字"),
    (b"<si/>", ""),
    (b"<si><t/></si>", ""),
    ('<si><t xml:space="preserve"> 空 格 </t></si>'.encode(), " 空 格 "),
    (b"<si><t>a_x000D_b</t></si>", "a\rb"),
]


@pytest.mark.parametrize("shapes", [
    range(7),  # every shape at once
    [0, 5, 0, 5, 0, 5, 0],  # plain items only, nothing to unescape: the shortcut
    [0, 3, 0, 5, 0, 5, 0],  # plain ones and an empty <si/>
    [0, 1, 0, 5, 0, 5, 0],  # one rich text among plain ones, no & or _x anywhere
    [0, 2, 0, 5, 0, 5, 0],  # one with a phonetic guide among plain ones
    [0, 4, 0, 5, 0, 5, 0],  # one empty <t/> among plain ones
    [0, 6, 0, 5, 0, 5, 0],  # one with Excel's _x000D_ escape among plain ones
])
def test_shared_strings_of_every_shape_read_as_their_text(shapes):
    """Whatever mix of item shapes the part holds, each string reads as the text a spreadsheet shows."""
    def fill(wb, ws):
        for c in range(7):
            ws.write_string(0, c, f"占位{c}")  # indices 0..6, in this order

    items = [EVERY_SHAPE[i] for i in shapes]
    data = replace_part(new_book(fill), STRINGS_PART, SST_HEAD + b"".join(x for x, _ in items) + b"</sst>")
    assert read(data).cells == {(0, c): text for c, (_, text) in enumerate(items)}


def test_a_small_sheet_stored_the_same_is_parsed_once_and_keeps_each_files_strings(monkeypatch):
    """Returns from one generator store the identity sheet byte for byte the same (its texts are in the
    shared strings): it is parsed once, yet every file still reads its own texts and its own numbers."""
    def book(text: str, number: float | None = None) -> bytes:
        def fill(wb, ws):
            ws.write_string("A1", text)
            ws.write_string("B2", "同")
            if number is not None:
                ws.write_number("C3", number)
        return new_book(fill)

    first, second = book("甲单位"), book("乙单位")
    assert part(first, SHEET_PART) == part(second, SHEET_PART)
    assert part(first, STRINGS_PART) != part(second, STRINGS_PART)
    inflated: list[str] = []
    real = book_reader._inflate
    monkeypatch.setattr(book_reader, "_inflate", lambda data, info: (inflated.append(info.filename), real(data, info))[1])
    monkeypatch.setattr(book_reader, "_SMALL_SHEETS", {})
    assert read(first).cells == {(0, 0): "甲单位", (1, 1): "同"}
    assert read(second).cells == {(0, 0): "乙单位", (1, 1): "同"}
    assert inflated.count(SHEET_PART) == 1, "the second file's sheet, stored the same, was parsed again"
    # different stored bytes are parsed on their own
    assert read(book("甲单位", 7)).cells == {(0, 0): "甲单位", (1, 1): "同", (2, 2): 7.0}
    assert inflated.count(SHEET_PART) == 2
    # the cell limit counts the cells of a remembered sheet too
    with pytest.raises(BookError) as ei:
        read(second, Limits(max_cells=1))
    assert ei.value.code == "file-too-large"
