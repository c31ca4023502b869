"""Table bodies written as raw SpreadsheetML (table_body) inside an xlsxwriter workbook: what a
returned file's text can hold must come back as the same text, in openpyxl, in our own reader and
in LibreOffice, with the formats the header names, and nothing may turn into a formula."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import openpyxl
from lo import convert

from xlsx_tool.reading.workbook import open_book
from xlsx_tool.forms.layout import col_letters
from xlsx_tool.outputs.summary import _Book
from xlsx_tool.outputs.table_body import row_xml, text_xml

AWKWARD = [
    "=HYPERLINK(\"http://x\",\"点我\")",
    "  前后有空格  ",
    "\n换行开头",
    "第一行\n第二行\n第三行",
    "a & b < c > d \"引号\" '单引号'",
    "控制字符\x01\x07\x0b\x1f结束",
    "字面的 _x0041_ 不是转义",
    "制表\t符",
    "😀 emoji 与 𠀋 扩展字",
    "长" * 5000,
]


def _book_with(rows, count=None):
    B = _Book(title="测试")
    ws = B.wb.add_worksheet("表")
    last = B.table(ws, ["序号", "文本", "数", "标记"], [5, 40, 8, 8], rows, count=count, title="标题", info="说明")
    ws.merge_range(last + 1, 0, last + 1, 3, "表后的说明", B.info)
    return B, B.close()


def _rows():
    out = []
    for i, text in enumerate(AWKWARD, 1):
        out.append([i, text, Decimal("95.5") if i % 2 else Decimal(90), None])
    return out


def test_col_letters_and_escapes():
    assert [col_letters(c) for c in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
    assert text_xml("a&b<c>d") == "a&amp;b&lt;c&gt;d"
    assert text_xml("x\x01y") == "x_x0001_y"
    assert text_xml("_x0041_") == "_x005F_x0041_"
    # the shortcut for printable text must not skip anything the full escaping changes
    for text, stored in [("第一核查组", "第一核查组"), ("a > b", "a &gt; b"), ("<", "&lt;"), ("扣分_x", "扣分_x"),
                         ("a\tb\nc\r", "a\tb\nc_x000D_"), ("全角\u3000空格", "全角\u3000空格"), ("\x7f", "\x7f"),
                         ("\uffff\ufffe", "_xFFFF__xFFFE_"), ("\x00\x1f", "_x0000__x001F_"), ("", "")]:
        assert text_xml(text) == stored, text
    assert row_xml(0, [(None, 3), ("t", 4), (1.5, 5), (7, 5)]) == (
        '<row r="1"><c r="A1" s="3"/><c r="B1" s="4" t="inlineStr"><is><t>t</t></is></c>'
        '<c r="C1" s="5"><v>1.5</v></c><c r="D1" s="5"><v>7</v></c></row>')
    assert 'ht="45.75" customHeight="1"' in row_xml(9, [("x", 1)], 45.75)


def _check_values(get, n_rows, first=4):
    """get(row, col) 1-based; the table starts under title, info and header (row 4)."""
    for i, text in enumerate(AWKWARD):
        r = first + i
        assert get(r, 1) == i + 1
        assert get(r, 2) == text, (r, text[:20])
        assert get(r, 3) == (95.5 if (i + 1) % 2 else 90)
    assert get(first + n_rows, 1) == "表后的说明"


def test_round_trip_openpyxl_and_own_reader():
    _B, data = _book_with(_rows())
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["表"]
    # openpyxl leaves Excel's _xHHHH_ escapes undecoded in inline strings (Excel and LibreOffice decode them)
    unx = lambda v: re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), v) if isinstance(v, str) else v
    _check_values(lambda r, c: unx(ws.cell(r, c).value), len(AWKWARD))
    assert ws.dimensions == f"A1:D{4 + len(AWKWARD)}"
    assert ws.auto_filter.ref == f"A3:D{3 + len(AWKWARD)}"
    assert ws.freeze_panes == "A4"
    c = ws.cell(4, 2)
    assert c.data_type == "s" and c.border.left.style == "thin" and c.alignment.wrap_text
    assert ws.cell(4, 3).number_format == "0.##" and ws.cell(4, 3).alignment.horizontal == "center"
    assert ws.cell(4, 4).border.left.style == "thin"  # a blank keeps its borders
    assert ws.row_dimensions[4 + AWKWARD.index("第一行\n第二行\n第三行")].height == 46.0 - 0.25  # 3 lines, whole pixels
    assert ws.row_dimensions[4 + len(AWKWARD) - 1].height == 408.75  # capped at Excel's tallest row
    book = open_book(data, ".xlsx")
    sh = book.sheet("表")
    _check_values(lambda r, c: sh.get(r - 1, c - 1), len(AWKWARD))
    assert sh.formulas == {}
    z = zipfile.ZipFile(io.BytesIO(data))
    xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert not re.search(r"<f[ >]", xml)


def test_formats_from_tuples_and_generators():
    B = _Book()
    ws = B.wb.add_worksheet("表")
    rows = (([i, (f"状态{i}", B.error if i % 2 else B.center), None]) for i in range(1, 1001))
    last = B.table(ws, ["序号", "状态", "空"], [5, 10, 5], rows, count=1000)
    assert last == 1000  # header on row 0
    wb = openpyxl.load_workbook(io.BytesIO(B.close()))
    ws = wb["表"]
    assert [ws.cell(r, 2).value for r in (2, 1001)] == ["状态1", "状态1000"]
    assert ws.cell(2, 2).font.b and ws.cell(2, 2).font.color.rgb.endswith("C00000")
    assert not ws.cell(3, 2).font.b
    assert ws.max_row == 1001


def test_empty_table_has_no_body():
    B = _Book()
    ws = B.wb.add_worksheet("表")
    assert B.table(ws, ["a", "b"], [5, 5], []) == 0
    wb = openpyxl.load_workbook(io.BytesIO(B.close()))
    assert wb["表"].max_row == 1


def test_libreoffice_reads_the_bodies(tmp_path):
    _B, data = _book_with(_rows())
    src = tmp_path / "body.xlsx"
    src.write_bytes(data)
    (out,) = convert([src], "ods", tmp_path / "lo")
    back = convert([out], "xlsx", tmp_path / "lo2")[0]
    wb = openpyxl.load_workbook(back)
    ws = wb["表"]

    def get(r, c):
        v = ws.cell(r, c).value
        return int(v) if isinstance(v, float) and v.is_integer() and c == 1 else v

    for i, text in enumerate(AWKWARD):
        r = 4 + i
        assert get(r, 1) == i + 1
        got = ws.cell(r, 2).value
        # LibreOffice keeps the text but drops control characters and tabs (it does the same with a
        # tab in xlsxwriter's shared strings)
        drop = re.compile(r"[\x00-\x1f]")
        assert drop.sub("", got or "") == drop.sub("", text), (r, text[:20])
        assert "\n" not in text or got.count("\n") == text.count("\n")
        assert ws.cell(r, 3).value == (95.5 if (i + 1) % 2 else 90)
    assert ws.cell(4 + len(AWKWARD), 1).value == "表后的说明"


def test_text_longer_than_excel_allows_is_cut_to_its_limit():
    B = _Book()
    ws = B.wb.add_worksheet("表")
    B.table(ws, ["文本"], [40], [["字" * 40000], ["短"]])
    wb = openpyxl.load_workbook(io.BytesIO(B.close()))
    assert len(wb["表"].cell(2, 1).value) == 32767  # Excel's limit per cell
    assert wb["表"].cell(3, 1).value == "短"
