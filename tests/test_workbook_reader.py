"""The workbook reader on real workbooks edited at the byte level: what it reads, what it refuses.

Workbooks are written by xlsxwriter in memory; a part is then edited and the zip rewritten, so
every case is a file a sender could really send.  Values come from python-calamine; formulas and
error cells from the reader's own XML pass (expat); members are inflated within limits.  Whatever
the shape, the reader gives what a spreadsheet shows, or refuses in Chinese: never a crash.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import pytest
import xlsxwriter

from xlsx_tool.reading.limits import Limits
from xlsx_tool.reading.workbook import BookError, CellError, open_book

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


def refusal(data: bytes, limits: Limits | None = None) -> BookError:
    """The reader's refusal, whether it comes when the workbook is opened or when the sheet is read."""
    with pytest.raises(BookError) as ei:
        read(data, limits)
    return ei.value


def assert_refused_in_chinese(data: bytes, code: str = "file-unreadable") -> None:
    e = refusal(data)
    assert e.code == code
    assert re.search(r"[\u4e00-\u9fff]", e.why) and english_words(e.why) == [], e.why


def prefixed(xml: bytes) -> bytes:
    """The same sheet with every cell written <x:c> (x bound to the main namespace): valid, equal in meaning."""
    xml = sub_once(xml, b"<worksheet ", b'<worksheet xmlns:x="%s" ' % MAIN_NS.encode())
    return re.sub(rb"<c(?=[\s>/])", b"<x:c", xml).replace(b"</c>", b"</x:c>")


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


# --------------------------------------------------------------------------- shapes of cells


def test_values_formulas_and_errors_as_a_spreadsheet_shows_them():
    sheet = read(mixed_book())
    assert sheet.cells == MIXED_CELLS
    assert sheet.formulas == MIXED_FORMULAS
    assert type(sheet.get(2, 1)) is bool  # TRUE, not 1.0


def test_prefixed_cells_read_the_same():
    data = mixed_book()
    sheet = read(edit_part(data, SHEET_PART, prefixed))
    assert sheet.cells == MIXED_CELLS and sheet.formulas == MIXED_FORMULAS


def test_cells_without_positions_are_counted_along_the_row():
    data = new_book(fill_numbers)
    plain = read(data)
    bare = read(edit_part(data, SHEET_PART, lambda x: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", x)))
    assert len(plain.cells) == 100 and plain.get(9, 9) == 99.0
    assert bare.cells == plain.cells


def test_inline_string_and_shared_formula():
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

    sheet = read(edit_part(new_book(fill), SHEET_PART, edit))
    assert sheet.cells == {(0, 0): 1.0, (0, 2): "行内 & 文本", (1, 0): 2.0, (1, 1): 4.0, (2, 0): 3.0, (2, 1): 6.0}
    assert sheet.formulas[(1, 1)] == "A2*2"
    assert (2, 1) in sheet.formulas  # a shared formula's other cells count as formulas too


# valid SpreadsheetML with other attributes on <c> (Excel 365 writes vm="1" on a picture in a cell)
@pytest.mark.parametrize("cell, value", [
    (b'<c r="B1" cm="1"><v>2</v></c>', 2.0),
    (b'<c r="B1" t="e" vm="1"><v>#VALUE!</v></c>', CellError("#VALUE!")),
    (b'<c r="B1" s="0" t="n" ph="1"><v>2</v></c>', 2.0),
    (b'<c r="B1"  s="0"><v>2</v></c>', 2.0),
    (b'<c\nr="B1"><v>2</v></c>', 2.0),
], ids=["cm", "vm", "ph", "two-spaces", "newline"])
def test_cell_with_other_attributes(cell, value):
    def fill(wb, ws):
        ws.write_number("A1", 1)
        ws.write_number("B1", 2)
        ws.write_string("C1", "文本")

    sheet = read(edit_part(new_book(fill), SHEET_PART, lambda x: sub_once(x, b'<c r="B1"><v>2</v></c>', cell)))
    assert sheet.cells == {(0, 0): 1.0, (0, 1): value, (0, 2): "文本"}


def test_empty_formula_element_counts_as_a_formula():
    def fill(wb, ws):
        ws.write_number("A1", 1)

    sheet = read(edit_part(new_book(fill), SHEET_PART, lambda x: sub_once(x, b'<c r="A1"><v>', b'<c r="A1"><f/><v>')))
    assert sheet.cells == {(0, 0): 1.0} and sheet.formulas == {(0, 0): ""}


def test_comments_mentioning_sheet_data_change_nothing():
    data = mixed_book()

    def noisy(xml: bytes) -> bytes:
        xml = sub_once(xml, b"</sheetData>", b"</sheetData><!-- </sheetData> -->")
        return sub_once(xml, b"<sheetData>", b"<!-- <sheetData></sheetData> --><sheetData>")

    sheet = read(edit_part(data, SHEET_PART, noisy))
    assert sheet.cells == MIXED_CELLS and sheet.formulas == MIXED_FORMULAS


def test_shared_strings_with_a_namespace_prefix_read_the_same():
    data = mixed_book()

    def prefixed_strings(xml: bytes) -> bytes:
        xml = sub_once(xml, b"<sst ", b'<x:sst xmlns:x="%s" ' % MAIN_NS.encode()).replace(b"</sst>", b"</x:sst>")
        return re.sub(rb"<(/?)(si|t)([ >/])", rb"<\1x:\2\3", xml)

    odd = edit_part(data, STRINGS_PART, prefixed_strings)
    assert b"<x:si>" in part(odd, STRINGS_PART)
    assert read(odd).cells == MIXED_CELLS


SST_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="%s" count="7" uniqueCount="7">' % MAIN_NS.encode()
EVERY_SHAPE = [  # (the item as Excel, WPS or LibreOffice may write it, the text it holds)
    ("<si><t>普通</t></si>", "普通"),
    ("<si><r><rPr><b/></rPr><t>富</t></r><r><t>文本</t></r></si>", "富文本"),
    ('<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>', "漢字"),
    ("<si/>", None),  # an empty string: a blank cell
    ("<si><t/></si>", None),
    ('<si><t xml:space="preserve"> 空 格 </t></si>', " 空 格 "),
    ("<si><t>a_x000D_b</t></si>", "a\rb"),
]


def test_shared_strings_of_every_shape_read_as_their_text():
    def fill(wb, ws):
        for c in range(7):
            ws.write_string(0, c, f"占位{c}")  # indices 0..6, in this order

    items = "".join(x for x, _ in EVERY_SHAPE).encode()
    data = replace_part(new_book(fill), STRINGS_PART, SST_HEAD + items + b"</sst>")
    assert read(data).cells == {(0, c): text for c, (_, text) in enumerate(EVERY_SHAPE) if text is not None}


@pytest.mark.parametrize("text, shown", [
    ("&#xD800;", "\ufffd"),  # a lone surrogate: no output could hold it
    ("半个_xD83D_表情", "半个\ufffd表情"),  # Excel's escape for half an emoji
    ("a&#x1;b", "a\ufffdb"),  # a control character XML 1.0 does not allow
])
def test_text_no_output_could_hold_is_made_safe(text, shown):
    def fill(wb, ws):
        ws.write_string(0, 0, "占位")

    data = replace_part(new_book(fill), STRINGS_PART, SST_HEAD + f"<si><t>{text}</t></si>".encode() + b"</sst>")
    try:
        cells = read(data).cells
    except BookError as e:  # refusing the file is as good: nothing crashes later
        assert e.code == "file-unreadable" and not english_words(e.why)
        return
    value = cells.get((0, 0), "")
    value.encode("utf-8")  # writable: no lone surrogate, whatever the reader made of the escape
    assert value in (shown, shown.replace("\ufffd", ""), text.replace("&#x1;", "\ufffd")), value


# --------------------------------------------------------------------------- members of the archive


@pytest.mark.parametrize("where", [0.0, 0.25, 0.5, 0.75])
def test_corrupted_deflate_stream_is_refused_in_chinese(where):
    data = mixed_book()
    zi = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET_PART)
    local, _ = member_offsets(data, SHEET_PART)
    n, e = struct.unpack_from("<HH", data, local + 26)
    at = local + 30 + n + e + int(zi.compress_size * where)  # inside the stream; central directory untouched
    bad = bytearray(data)
    bad[at] ^= 0xFF
    with pytest.raises((zipfile.BadZipFile, zlib.error)):  # zipfile agrees that the member is damaged
        zipfile.ZipFile(io.BytesIO(bytes(bad))).read(SHEET_PART)
    assert_refused_in_chinese(bytes(bad))


@pytest.mark.parametrize("member", [SHEET_PART, STRINGS_PART])
def test_stored_member_reads_like_a_deflated_one(member):
    data = mixed_book()
    stored = replace_part(data, member, part(data, member), compress_type=zipfile.ZIP_STORED)
    assert zipfile.ZipFile(io.BytesIO(stored)).getinfo(member).compress_type == zipfile.ZIP_STORED
    sheet = read(stored)
    assert sheet.cells == MIXED_CELLS and sheet.formulas == MIXED_FORMULAS


class _Unseekable(io.RawIOBase):
    """An output zipfile cannot seek back into: it then writes sizes and CRC-32 in a data descriptor."""

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
    assert sheet.cells == MIXED_CELLS and sheet.formulas == MIXED_FORMULAS


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_other_compression_methods_are_read_or_refused_in_chinese(method):
    data = mixed_book()
    other = replace_part(data, SHEET_PART, part(data, SHEET_PART), compress_type=method)
    try:
        sheet = read(other)
    except BookError as e:
        assert e.code == "file-unreadable" and not english_words(e.why)
        return
    assert sheet.cells == MIXED_CELLS


def test_bad_local_header_signature_is_refused_in_chinese():
    data = mixed_book()
    local, _ = member_offsets(data, SHEET_PART)
    bad = bytearray(data)
    bad[local:local + 4] = b"PK\x09\x09"
    assert_refused_in_chinese(bytes(bad))


@pytest.mark.parametrize("member", [SHEET_PART, STRINGS_PART])
@pytest.mark.parametrize("fix_crc", [False, True], ids=["crc-as-is", "crc-of-truncated"])
def test_member_claiming_a_smaller_size_is_refused(member, fix_crc):
    """A lying size must not cut the part short, even when the CRC-32 is made to match the cut part."""
    data = mixed_book()
    real = part(data, member)
    short = len(real) // 2
    lying = patch_member(data, member, file_size=short, crc=zlib.crc32(real[:short]) if fix_crc else None)
    assert_refused_in_chinese(lying)


@pytest.mark.parametrize("member", [SHEET_PART, STRINGS_PART])
def test_member_claiming_size_zero_is_refused(member):
    assert_refused_in_chinese(patch_member(mixed_book(), member, file_size=0, crc=0))


def test_member_claiming_a_huge_size_is_refused_before_anything_is_inflated():
    lying = patch_member(mixed_book(), SHEET_PART, file_size=2_000_000_000)
    assert_refused_in_chinese(lying, "file-too-large")


def _with_comment(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        zout.comment = "由 WPS 保存".encode()
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
    return out.getvalue()


def test_archive_with_a_comment_reads_the_same():
    assert read(_with_comment(mixed_book())).cells == MIXED_CELLS


@pytest.mark.parametrize("cut", [1, 22, 60])
def test_truncated_archive_is_refused_in_chinese(cut):
    assert_refused_in_chinese(mixed_book()[:-cut])


def test_same_name_twice_reads_without_a_crash():
    data = mixed_book()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        with pytest.warns(UserWarning):
            zout.writestr(SHEET_PART, part(data, SHEET_PART).replace(b"<v>", b"<v>1", 1))
    try:
        read(out.getvalue())
    except BookError as e:
        assert not english_words(e.why)


# --------------------------------------------------------------------------- DTDs

DOCTYPE = b'<!DOCTYPE root [<!ENTITY e "x">]>'
DECL_END = b'standalone="yes"?>\n'


def after_decl(xml: bytes, insert: bytes) -> bytes:
    return sub_once(xml, DECL_END, DECL_END + insert)


REFUSED = {
    "doctype-after-declaration": lambda x: after_decl(x, DOCTYPE),
    "doctype-after-long-comment": lambda x: after_decl(x, b"<!-- " + b"x" * 5000 + b" -->\n" + DOCTYPE),
    "entity-in-prolog": lambda x: after_decl(x, b'<!ENTITY e "x">'),
}
ACCEPTED = {
    "doctype-inside-a-comment": lambda x: after_decl(x, b"<!-- <!DOCTYPE x> -->\n"),
    "long-comment-only": lambda x: after_decl(x, b"<!-- " + b"x" * 5000 + b" -->\n"),
}
PARTS = {"sheet": SHEET_PART, "shared-strings": STRINGS_PART, "workbook": "xl/workbook.xml"}


@pytest.mark.parametrize("case", list(REFUSED))
@pytest.mark.parametrize("where", ["sheet", "workbook"])
def test_dtd_in_a_part_the_tool_parses_is_refused(where, case):
    assert_refused_in_chinese(edit_part(mixed_book(), PARTS[where], REFUSED[case]))


def test_entities_in_shared_strings_are_never_expanded():
    """Shared strings are calamine's to parse: a declared entity is never expanded (refused or left as written)."""
    bomb = b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    data = edit_part(mixed_book(), STRINGS_PART, lambda x: sub_once(after_decl(x, bomb), b"A&amp;B", b"&b;"))
    try:
        cells = read(data).cells
    except BookError as e:
        assert e.code == "file-unreadable" and not english_words(e.why)
        return
    assert "a" * 20 not in str(cells)


@pytest.mark.parametrize("case", list(ACCEPTED))
@pytest.mark.parametrize("where", list(PARTS))
def test_comments_without_dtd_are_read(where, case):
    """Controls for the refusals above: a comment that merely mentions <!DOCTYPE is read as usual."""
    sheet = read(edit_part(mixed_book(), PARTS[where], ACCEPTED[case]))
    assert sheet.cells == MIXED_CELLS and sheet.formulas == MIXED_FORMULAS


# --------------------------------------------------------------------------- limits


def test_cell_limit_refuses_a_sheet_with_more_cells():
    data = new_book(fill_numbers)  # 100 cells, 10 x 10
    assert refusal(data, Limits(max_cells=50)).code == "file-too-large"
    assert len(read(data, Limits(max_cells=100)).cells) == 100  # exactly at the limit: read


def test_a_far_away_cell_is_refused_before_the_sheet_is_laid_out():
    """One cell at XFD1048576 spans 17 billion cells: refused by the sheet's extent, in no time."""
    def fill(wb, ws):
        ws.write_number(0, 0, 1)
        ws.write_number(1048575, 16383, 2)

    assert refusal(new_book(fill)).code == "file-too-large"
