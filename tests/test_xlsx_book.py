"""xlsx_book, the summary's own .xlsx writer, held to what it promises.

- The same workbook written by xlsxwriter 3.3.1 and by xlsx_book reads back the same in openpyxl
  (every cell's value and resolved style, merges, sizes, print setup, filters, conditional formats),
  and the parts that must follow xlsxwriter element for element do: workbook.xml, app.xml, every
  worksheet element but sheetData, the cell formats as sets of resolved properties.
- Sheet names that need quoting give references that openpyxl and LibreOffice resolve.
- Styles deduplicate and refuse what they cannot write; text is stored as Excel stores it; the zip
  is deterministic and plain; a Body streams under its header with rows after it.

Workbooks are real bytes read back; nothing is mocked.  One soffice start for the module (every
LibreOffice test shares it); a missing LibreOffice fails (tests/lo.py), never skips.
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import zipfile
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

import lo
import openpyxl
import pytest
import xlsxwriter
from openpyxl.styles.numbers import BUILTIN_FORMATS
from xlsxwriter.utility import quote_sheetname as xw_quote

from xlsx_tool.reading.workbook import open_book
from xlsx_tool.forms.layout import FONT_PROPS
from xlsx_tool.outputs.table_body import FLUSH_ROWS, MAX_CELL_CHARS, Body, pack, row_xml
from xlsx_tool.outputs.xlsx_book import PAGE_FOOTER, Book, quote_sheetname

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
XW_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
              "strings_to_urls": False, "default_format_properties": dict(FONT_PROPS)}

# --------------------------------------------------------------------------- one workbook, two writers

F = dict(FONT_PROPS)
FORMATS = {  # the kinds summary_writer and stats_sheet use, plus every builtin/custom number format
    "title": {**F, "bold": True, "font_size": 15, "align": "center", "valign": "vcenter"},
    "info": {**F, "valign": "vcenter"},
    "heading": {**F, "bold": True, "font_size": 12, "valign": "vcenter"},
    "head": {**F, "bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True,
             "bg_color": "#F2F2F2"},
    "text": {**F, "border": 1, "valign": "vcenter", "text_wrap": True},
    "int": {**F, "border": 1, "valign": "vcenter", "align": "center", "num_format": "0"},
    "avg": {**F, "border": 1, "align": "center", "num_format": "0.00"},
    "pct0": {**F, "border": 1, "align": "center", "num_format": "0%"},
    "num": {**F, "border": 1, "valign": "vcenter", "align": "center", "num_format": "0.##"},
    "pct": {**F, "border": 1, "align": "center", "num_format": "0.0%"},
    "bad": {**F, "border": 1, "align": "center", "num_format": "0", "bold": True, "font_color": "#C00000"},
    "warn": {**F, "border": 1, "valign": "top", "align": "left", "font_color": "#9C5700"},
}
WIDTHS1 = [5, 24, 8.43, 6, 6, 40]  # 8.43 is the default width (no customWidth); 6, 6 adjacent and equal
WIDTHS2 = [10, 10, 12, 8.43, 8]
BLANKS = ["D3", "E3", "B7", "C7"]  # bordered by the 'blanks' conditional format


def build_feature_book(xw: bool) -> bytes:
    """A small workbook with everything the summary uses, written by xlsxwriter (xw) or xlsx_book."""
    if xw:
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, XW_OPTIONS)
        blank = wb.add_format({"border": 1})
    else:
        wb = Book(FONT_PROPS)
    fm = {k: wb.add_format(v) for k, v in FORMATS.items()}

    ws = wb.add_worksheet("回收情况")  # a summary_writer table: landscape, one page wide
    ws.merge_range(0, 0, 0, 5, "评分表回收情况", fm["title"])
    ws.set_row(0, 30)
    ws.merge_range(1, 0, 1, 5, "汇总时间：2017年10月1日", fm["info"])
    ws.set_row(1, 22)  # 29.33 px -> 29 px -> 21.75 pt
    for c, w in enumerate(WIDTHS1):
        ws.set_column(c, c, w)
        ws.write_string(2, c, f"列{c}", fm["head"])
    rows = [[1, "甲单位", 0.5, 95.5, 3, "说明"], [2, "乙单位", 0.25, 90, 1, " 前后有空格 "],
            [3, "=1+1", 1, 1 / 3, 12345678901, "第一行\n第二行"]]
    for r, values in enumerate(rows, 3):
        for c, (v, f) in enumerate(zip(values, ["int", "text", "pct0", "num", "bad", "warn"])):
            (ws.write_string if isinstance(v, str) else ws.write_number)(r, c, v, fm[f])
    ws.set_row(5, 32)  # 42.67 px -> 43 px -> 32.25 pt
    if xw:
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2)
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer(PAGE_FOOTER)
        ws.freeze_panes(3, 0)
        ws.autofilter(2, 0, 5, 5)
    else:
        ws.landscape, ws.fit_width, ws.title_rows, ws.center = True, True, 2, True
        ws.footer, ws.frozen_rows, ws.filter = PAGE_FOOTER, 3, (2, 0, 5, 5)

    ws = wb.add_worksheet("统计分析")  # a stats_sheet page: portrait here, fixed scale, breaks, print area
    for c, w in enumerate(WIDTHS2):
        ws.set_column(c, c, w)
    ws.merge_range(0, 0, 0, 4, "统计分析", fm["title"])
    ws.set_row(0, 30)
    ws.merge_range(1, 0, 1, 4, "一、总体", fm["heading"])
    ws.set_row(1, 24)
    ws.write_number(2, 0, 3, fm["avg"])
    ws.write_number(2, 1, 0.125, fm["pct"])
    ws.write_string(2, 2, "文字", fm["text"])
    ws.set_row(3, 15)  # the default height, set explicitly
    ws.merge_range(5, 0, 5, 4, "二、分项", fm["heading"])
    ws.set_row(5, 24)
    ws.write_number(6, 0, 1.5, fm["avg"])
    ws.write_number(6, 3, 0, fm["int"])
    ws.merge_range(8, 0, 10, 4, "说明", fm["info"])
    if xw:
        ws.conditional_format(BLANKS[0], {"type": "blanks", "format": blank, "multi_range": " ".join(BLANKS)})
        ws.set_paper(9)
        ws.set_portrait()
        ws.set_print_scale(70)
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer(PAGE_FOOTER)
        ws.set_h_pagebreaks([5])
        ws.print_area(0, 0, 10, 4)
        wb.close()
        return buf.getvalue()
    ws.blank_borders += BLANKS
    ws.scale, ws.center, ws.footer, ws.breaks, ws.area = 70, True, PAGE_FOOTER, [5], (0, 0, 10, 4)
    return wb.close()


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, bytes]:
    return build_feature_book(True), build_feature_book(False)


def _color(c):
    return None if c is None else (c.type, c.value, c.tint)


def _cell_facts(c) -> tuple:
    """A cell's value and its style as it resolves (not its xf index, which may differ)."""
    f, a, b, fl = c.font, c.alignment, c.border, c.fill
    return (c.value, c.data_type, c.number_format,
            (f.b, f.i, f.u, f.sz, _color(f.color), f.name, f.family, f.charset, f.scheme),
            (fl.fill_type, _color(fl.fgColor), _color(fl.bgColor)),
            tuple((s.style, _color(s.color)) for s in (b.left, b.right, b.top, b.bottom)),
            (a.horizontal, a.vertical, a.wrap_text))


def _sheet_facts(ws) -> dict:
    ps, pm = ws.page_setup, ws.page_margins
    return {
        "cells": {(r, c): _cell_facts(ws.cell(r, c)) for r in range(1, 13) for c in range(1, 8)},
        "merged": sorted(str(m) for m in ws.merged_cells.ranges),
        "widths": {k: (d.min, d.max, d.width) for k, d in ws.column_dimensions.items()},
        "heights": {r: ws.row_dimensions[r].height or 15 for r in range(1, 13)},  # None: the default 15
        "freeze": ws.freeze_panes,
        "setup": (ps.orientation, ps.paperSize, ps.scale, ps.fitToHeight, ps.fitToWidth,
                  ws.sheet_properties.pageSetUpPr.fitToPage if ws.sheet_properties.pageSetUpPr else None),
        "centered": ws.print_options.horizontalCentered,
        "margins": (pm.left, pm.right, pm.top, pm.bottom, pm.header, pm.footer),
        "titles": (ws.print_title_rows, ws.print_title_cols),
        "area": ws.print_area,
        "filter": ws.auto_filter.ref,
        "footer": (ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text),
        "breaks": [b.id for b in ws.row_breaks.brk],
        "cf": sorted((str(cf.sqref), [(r.type, r.formula, r.priority, r.dxf.border.left.style if r.dxf else None)
                                      for r in cf.rules]) for cf in ws.conditional_formatting),
        "selected": ws.sheet_view.tabSelected,
    }


def test_reads_back_as_the_xlsxwriter_workbook(pair):
    xw, xb = (openpyxl.load_workbook(io.BytesIO(d)) for d in pair)
    assert xb.sheetnames == xw.sheetnames == ["回收情况", "统计分析"]
    for name in xw.sheetnames:
        want, got = _sheet_facts(xw[name]), _sheet_facts(xb[name])
        for key in want:
            assert got[key] == want[key], (name, key)
    # and what they both say, so that the comparison cannot pass on two wrong books
    s1, s2 = xb["回收情况"], xb["统计分析"]
    assert s1.row_dimensions[2].height == 21.75 and s1.row_dimensions[6].height == 32.25  # whole pixels
    assert s1.freeze_panes == "A4" and s1.auto_filter.ref == "A3:F6" and s1.print_title_rows == "$3:$3"
    assert (s1.page_setup.orientation, s1.page_setup.paperSize, s1.page_setup.fitToHeight) == ("landscape", 9, 0)
    assert s1.sheet_properties.pageSetUpPr.fitToPage
    assert s1["B6"].value == "=1+1" and s1["B6"].data_type == "s"
    assert s1["E4"].font.b and s1["E4"].font.color.rgb == "FFC00000" and s1["E4"].number_format == "0"
    assert s1["A3"].fill.fgColor.rgb == "FFF2F2F2" and s1["A3"].border.left.style == "thin"
    assert [s1[f"{c}4"].number_format for c in "CD"] == ["0%", "0.##"]
    assert (s2.page_setup.orientation, s2.page_setup.scale) == ("portrait", 70)
    assert s2.print_area == "'统计分析'!$A$1:$E$11" and [b.id for b in s2.row_breaks.brk] == [5]
    assert s2["B3"].number_format == "0.0%" and s2["A3"].number_format == "0.00"
    assert s2.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert _sheet_facts(s2)["cf"] == [("B7 C7 D3 E3", [("containsBlanks", ["LEN(TRIM(D3))=0"], 1, "thin")])]


def _parts(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {n: z.read(n) for n in z.namelist()}


def _canon(e) -> str:
    return ET.canonicalize(ET.tostring(e, encoding="unicode"))


def _resolved_xfs(styles: bytes) -> Counter:
    """cellXfs as resolved properties: number format code, font, fill, border, alignment, apply flags."""
    root = ET.fromstring(styles)
    codes = {int(n.get("numFmtId")): n.get("formatCode") for n in root.iter(M + "numFmt")}
    fonts, fills, borders = ([_canon(e) for e in root.find(M + t)] for t in ("fonts", "fills", "borders"))
    out = []
    for xf in root.find(M + "cellXfs"):
        n = int(xf.get("numFmtId"))
        al = xf.find(M + "alignment")
        out.append((codes.get(n) or BUILTIN_FORMATS[n], fonts[int(xf.get("fontId"))], fills[int(xf.get("fillId"))],
                    borders[int(xf.get("borderId"))], () if al is None else tuple(sorted(al.attrib.items())),
                    tuple(sorted((k, v) for k, v in xf.attrib.items() if k.startswith("apply")))))
    return Counter(out)


def _sheet_tree(xml: bytes) -> tuple[list[str], list[tuple]]:
    """A worksheet's top-level elements but sheetData (in order, canonical), and its rows' attributes."""
    root = ET.fromstring(xml)
    rows = []
    for row in root.find(M + "sheetData"):
        a = {k: v for k, v in row.attrib.items() if k != "spans"}  # spans: an optional hint
        if a.get("ht") == "15" and "customHeight" not in a:
            del a["ht"]  # xlsx_book's plain ht="15" and xlsxwriter's nothing: both the default height
        rows.append(tuple(sorted(a.items())))
    return [_canon(e) for e in root if e.tag != M + "sheetData"], rows


def test_parts_follow_xlsxwriter_element_for_element(pair):
    xw, xb = (_parts(d) for d in pair)
    for name in ("xl/workbook.xml", "docProps/app.xml", "xl/theme/theme1.xml", "_rels/.rels"):
        assert xb[name] == xw[name], name
    # definedNames exactly: _FilterDatabase, Print_Area, Print_Titles, sorted as xlsxwriter sorts them
    names = re.search(r"<definedNames>.*</definedNames>", xb["xl/workbook.xml"].decode()).group()
    assert names == ('<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                     "回收情况!$A$3:$F$6</definedName>"
                     '<definedName name="_xlnm.Print_Area" localSheetId="1">统计分析!$A$1:$E$11</definedName>'
                     '<definedName name="_xlnm.Print_Titles" localSheetId="0">回收情况!$3:$3</definedName>'
                     "</definedNames>")
    for i in (1, 2):
        name = f"xl/worksheets/sheet{i}.xml"
        assert _sheet_tree(xb[name]) == _sheet_tree(xw[name]), name
    assert _resolved_xfs(xb["xl/styles.xml"]) == _resolved_xfs(xw["xl/styles.xml"])
    sx, sb = ET.fromstring(xw["xl/styles.xml"]), ET.fromstring(xb["xl/styles.xml"])
    for tag in ("cellStyleXfs", "cellStyles", "dxfs", "tableStyles"):
        assert _canon(sb.find(M + tag)) == _canon(sx.find(M + tag)), tag
    # strings are inline (<is>), as xlsxwriter's constant_memory mode writes them: no sharedStrings part
    assert set(xb) == set(xw) - {"xl/sharedStrings.xml"}
    cols = re.search(r"<cols>.*</cols>", xb["xl/worksheets/sheet1.xml"].decode()).group()
    assert '<col min="3" max="3" width="9.140625"/>' in cols  # 8.43: the default, not custom
    assert '<col min="4" max="5" width="6.7109375" customWidth="1"/>' in cols  # equal neighbours: one <col>


def test_fonts_are_not_repeated(pair):
    """Two cell formats with the same font share it, as xlsxwriter's do."""
    root = ET.fromstring(_parts(pair[1])["xl/styles.xml"])
    fonts = [_canon(e) for e in root.find(M + "fonts")]
    assert len(fonts) == len(set(fonts))


# --------------------------------------------------------------------------- sheet names in references

QUOTED = ["统计分析(2)", "A1", "it's", "名 单", "统计分析"]  # the last needs no quotes


def build_names_book(xw: bool, names=QUOTED) -> bytes:
    """One sheet per name, each with a filter, a print area and print titles (all defined names)."""
    if xw:
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, XW_OPTIONS)
    else:
        wb = Book(FONT_PROPS)
    for name in names:
        ws = wb.add_worksheet(name)
        for r in range(4):
            for c in range(3):
                ws.write_string(r, c, f"{name}{r}{c}")
        if xw:
            ws.autofilter(0, 0, 3, 2)
            ws.print_area(0, 0, 3, 2)
            ws.repeat_rows(1)
        else:
            ws.filter, ws.area, ws.title_rows = (0, 0, 3, 2), (0, 0, 3, 2), 1
    if xw:
        wb.close()
        return buf.getvalue()
    return wb.close()


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def test_sheet_names_are_quoted_in_references():
    assert [quote_sheetname(n) for n in QUOTED] == [xw_quote(n) for n in QUOTED] \
        == ["'统计分析(2)'", "'A1'", "'it''s'", "'名 单'", "统计分析"]
    xw, xb = build_names_book(True), build_names_book(False)
    assert _parts(xb)["xl/workbook.xml"] == _parts(xw)["xl/workbook.xml"]  # definedNames text and order
    assert _parts(xb)["docProps/app.xml"] == _parts(xw)["docProps/app.xml"]  # their titles, too
    wb = openpyxl.load_workbook(io.BytesIO(xb))
    for name in QUOTED:
        ws = wb[name]
        assert ws.print_title_rows == "$2:$2", name
        assert ws.print_area == f"{_quoted(name)}!$A$1:$C$4", name
        assert ws.auto_filter.ref == "A1:C4", name


def test_defined_names_sorted_as_xlsxwriter_with_a_quoted_prefix():
    names = ["A-B", "A-B c"]  # xlsxwriter compares "a-b'" with "a-b c'": 'A-B c' first
    xw, xb = (_parts(build_names_book(x, names))["xl/workbook.xml"] for x in (True, False))
    assert xb == xw


# --------------------------------------------------------------------------- styles


def test_styles_deduplicate_and_refuse_what_they_cannot_write():
    wb = Book(FONT_PROPS)
    a = wb.add_format({**F, "bold": True, "border": 1, "num_format": "0.##"})
    assert wb.add_format({**F, "num_format": "0.##", "border": 1, "bold": True}) == a  # order does not matter
    b = wb.add_format({"bold": True, "border": 1})
    assert b != a and wb.add_format({"border": 1, "bold": True}) == b
    assert wb.add_format({"font_name": F["font_name"], "font_charset": 134, "bold": True, "border": 1}) == b
    assert wb.add_format({}) == 0  # the default format is xf 0
    # the book's own size given explicitly is another xf (xlsxwriter would share one), resolving the same
    c = wb.add_format({"font_size": F["font_size"], "bold": True, "border": 1})
    for props in ({"italic": True}, {"font_name": "Arial"}, {"font_charset": 0}, {"underline": 1},
                  {"bold": True, "rotation": 90}):
        with pytest.raises(ValueError):
            wb.add_format(props)
    ws = wb.add_worksheet("表")
    for i, s in enumerate((a, b, c)):
        ws.write(0, i, i, s)
    styles = _parts(wb.close())["xl/styles.xml"]
    xfs = ET.fromstring(styles).find(M + "cellXfs")
    assert xfs.get("count") == "4" and len(xfs) == 4  # default, a, b, c: the refused ones left nothing
    assert len(_resolved_xfs(styles)) == 3  # b and c are the same cell format


@pytest.mark.parametrize("props", [{"border": 2}, {"align": "centre"}, {"bg_color": "red"}])
def test_a_value_is_refused_or_written_as_xlsxwriter_writes_it(props):
    full = {**F, **props}
    wb = Book(FONT_PROPS)
    try:
        s = wb.add_format(full)
    except ValueError:
        return
    ws = wb.add_worksheet("表")
    ws.write(0, 0, 1, s)
    buf = io.BytesIO()
    x = xlsxwriter.Workbook(buf, XW_OPTIONS)
    x.add_worksheet("表").write_number(0, 0, 1, x.add_format(full))
    x.close()
    assert _resolved_xfs(_parts(wb.close())["xl/styles.xml"]) == _resolved_xfs(_parts(buf.getvalue())["xl/styles.xml"])


def test_nan_and_infinity_are_refused_or_written_validly():
    for v in (math.nan, math.inf):
        wb = Book(FONT_PROPS)
        try:
            wb.add_worksheet("表").write(0, 0, v)
            xml = _parts(wb.close())["xl/worksheets/sheet1.xml"].decode()
        except (ValueError, TypeError):
            continue
        assert not re.search(r"<v>(NAN|INF|-INF)</v>", xml, re.IGNORECASE)


# --------------------------------------------------------------------------- text

TEXTS = ["  前后有空格  ", "\u3000全角空格\u3000", "\n换行开头", "控制字符\x01\x07\x0b\x1f结束", "字面的 _x0041_ 不是转义",
         "_x005F_", "制表\t符", "a & b < c > \"引号\" '单引号'", "=1+1", "=HYPERLINK(\"http://x\",\"点我\")",
         "😀 与 𠀋", "中间 空格"]
CUT = "字" * (MAX_CELL_CHARS - 1) + " " + "尾" * 10  # cut right after a space: the cut text ends with one


def build_text_book(xw: bool) -> bytes:
    if xw:
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, XW_OPTIONS)
    else:
        wb = Book(FONT_PROPS)
    ws = wb.add_worksheet("文本")
    for r, t in enumerate(TEXTS):
        ws.write_string(r, 0, t)
    if xw:
        ws.write_string(len(TEXTS), 0, "True")
        wb.close()
        return buf.getvalue()
    ws.write(len(TEXTS), 0, True)  # a bool is written as text
    return wb.close()


def _t_elements(xml: str) -> list[str]:
    return re.findall(r"<t(?: [^>]*)?>.*?</t>|<t/>", xml, re.DOTALL)


def test_text_is_stored_as_excel_stores_it():
    data = build_text_book(False)
    xml = _parts(data)["xl/worksheets/sheet1.xml"].decode("utf-8")
    assert not re.search(r"<f[ >]", xml)  # "=1+1" and =HYPERLINK stay text
    assert "_x0001__x0007__x000B__x001F_" in xml and "_x005F_x0041_" in xml
    # the same escapes and xml:space as xlsxwriter's shared strings, <t> for <t>
    shared = _parts(build_text_book(True))["xl/sharedStrings.xml"].decode("utf-8")
    assert _t_elements(xml) == _t_elements(shared)
    assert [bool('xml:space="preserve"' in t) for t in _t_elements(xml)][:4] == [True, True, True, False]
    # our reader decodes Excel's escapes: every text back exactly
    sh = open_book(data, ".xlsx").sheet("文本")
    assert [sh.get(r, 0) for r in range(len(TEXTS) + 1)] == TEXTS + ["True"]
    ws = openpyxl.load_workbook(io.BytesIO(data))["文本"]
    assert ws.cell(len(TEXTS) + 1, 1).value == "True" and ws.cell(len(TEXTS) + 1, 1).data_type == "s"
    assert ws["A9"].value == "=1+1" and ws["A9"].data_type == "s"


def test_text_longer_than_excel_allows_is_cut():
    wb = Book(FONT_PROPS)
    ws = wb.add_worksheet("文本")
    ws.write(0, 0, "字" * 40000)
    ws.write(1, 0, CUT)
    ws.write(2, 0, "字" * MAX_CELL_CHARS)
    data = wb.close()
    got = openpyxl.load_workbook(io.BytesIO(data))["文本"]
    assert [len(got.cell(r, 1).value) for r in (1, 2, 3)] == [MAX_CELL_CHARS] * 3
    xml = _parts(data)["xl/worksheets/sheet1.xml"].decode("utf-8")
    assert '<t xml:space="preserve">' + CUT[:MAX_CELL_CHARS] + "</t>" in xml  # the space the cut left is kept


# --------------------------------------------------------------------------- the zip


def test_zip_is_deterministic_deflated_and_plain(pair):
    data = pair[1]
    assert build_feature_book(False) == data  # same book, same bytes (dates fixed)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None
    infos = z.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.flag_bits & 0x800 == 0 for i in infos)  # ASCII names
    assert len({i.filename for i in infos}) == len(infos)
    for i in infos:
        if i.filename.endswith((".xml", ".rels")):
            ET.fromstring(z.read(i))  # every part is well-formed XML
    # every part [Content_Types].xml names exists, and every relationship's target
    ct = ET.fromstring(z.read("[Content_Types].xml"))
    names = set(z.namelist())
    for o in ct:
        if o.get("PartName"):
            assert o.get("PartName").lstrip("/") in names, o.get("PartName")
    for rels in (n for n in names if n.endswith(".rels")):
        base = posixpath.dirname(posixpath.dirname(rels))  # xl/_rels/workbook.xml.rels -> xl
        for rel in ET.fromstring(z.read(rels)):
            target = posixpath.normpath(posixpath.join(base, rel.get("Target")))
            assert target in names, (rels, target)


def test_zip_flags_non_ascii_names_as_utf8():
    data = pack([("[Content_Types].xml", b"<a/>"), ("xl/名单.xml", lambda: iter([b"<b>", b"</b>"]))], {})
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None
    a, b = z.infolist()
    assert (a.filename, a.flag_bits & 0x800) == ("[Content_Types].xml", 0)
    assert (b.filename, b.flag_bits & 0x800) == ("xl/名单.xml", 0x800)
    assert z.read("xl/名单.xml") == b"<b></b>"


# --------------------------------------------------------------------------- a Body under a header

N_BODY = FLUSH_ROWS * 2 + 37  # more than one flush of rows


def _body_rows(first: int, n: int, s: int):
    for i in range(n):
        r = first + i
        yield row_xml(r, [(i + 1, s), (f"第{i + 1}行", s), (None, s), (i * 0.5, s)], 30 if i % 100 == 7 else None)


def build_body_book() -> bytes:
    wb = Book(FONT_PROPS)
    title = wb.add_format({**F, "bold": True, "align": "center"})
    head = wb.add_format({**F, "bold": True, "border": 1})
    cell = wb.add_format({**F, "border": 1})
    ws = wb.add_worksheet("明细")
    ws.merge_range(0, 0, 0, 3, "标题", title)
    for c, h in enumerate(["序号", "文本", "空", "数"]):
        ws.write(1, c, h, head)
    ws.body = Body(1, 1 + N_BODY, 3, lambda: _body_rows(2, N_BODY, cell))
    ws.merge_range(N_BODY + 3, 0, N_BODY + 3, 3, "表后的说明", title)  # one empty row after the body
    ws.frozen_rows, ws.filter = 2, (1, 0, 1 + N_BODY, 3)
    ws = wb.add_worksheet("只有表体")  # nothing after the body, and cells narrower than it
    ws.write(0, 0, "表头")
    ws.body = Body(0, 3, 3, lambda: _body_rows(1, 3, cell))
    return wb.close()


def _whole(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _check_body(ws, get) -> None:
    assert get(1, 1) == "标题" and [get(2, c) for c in range(1, 5)] == ["序号", "文本", "空", "数"]
    for i in (0, 1, FLUSH_ROWS - 1, FLUSH_ROWS, N_BODY - 1):
        r = 3 + i
        assert [get(r, 1), get(r, 2), get(r, 3), get(r, 4)] == [i + 1, f"第{i + 1}行", None, i * 0.5], r
    assert get(N_BODY + 4, 1) == "表后的说明"


def test_body_streams_under_its_header_with_rows_after_it():
    data = build_body_book()
    parts = _parts(data)
    xml = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    # <dimension> covers the body: its rows and columns, though no cell object holds them
    assert f'<dimension ref="A1:D{N_BODY + 4}"/>' in xml
    assert '<dimension ref="A1:D4"/>' in parts["xl/worksheets/sheet2.xml"].decode("utf-8")
    numbers = [int(n) for n in re.findall(r'<row r="(\d+)"', xml)]
    assert numbers == [1, 2, *range(3, N_BODY + 3), N_BODY + 4]  # each row once, in order
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["明细"]
    _check_body(ws, lambda r, c: _whole(ws.cell(r, c).value))
    assert sorted(str(m) for m in ws.merged_cells.ranges) == ["A1:D1", f"A{N_BODY + 4}:D{N_BODY + 4}"]
    assert ws.row_dimensions[3 + 7].height == 30 and ws["C3"].border.left.style == "thin"
    assert ws.auto_filter.ref == f"A2:D{N_BODY + 2}" and ws.freeze_panes == "A3"
    only = wb["只有表体"]
    assert [c.value for c in only[4]] == [3, "第3行", None, 1]


# --------------------------------------------------------------------------- LibreOffice (one start)


@pytest.fixture(scope="module")
def lo_books(tmp_path_factory, pair) -> dict[str, Path]:
    """The books above, as LibreOffice reads them and saves them again (one soffice start)."""
    d = tmp_path_factory.mktemp("lo-in")
    books = {"feature_xw": pair[0], "feature_xb": pair[1], "names": build_names_book(False),
             "text_xw": build_text_book(True), "text_xb": build_text_book(False), "body": build_body_book()}
    paths = []
    for stem, data in books.items():
        (d / f"{stem}.xlsx").write_bytes(data)
        paths.append(d / f"{stem}.xlsx")
    outs = lo.convert(paths, "xlsx", tmp_path_factory.mktemp("lo-out"))
    return {p.stem: o for p, o in zip(paths, outs)}


@pytest.mark.libreoffice
def test_libreoffice_reads_the_feature_book_as_xlsxwriter_s(lo_books):
    xw, xb = (openpyxl.load_workbook(lo_books[k]) for k in ("feature_xw", "feature_xb"))
    assert xb.sheetnames == xw.sheetnames
    for name in xw.sheetnames:
        want, got = _sheet_facts(xw[name]), _sheet_facts(xb[name])
        for key in ("cells", "merged", "freeze", "titles", "area", "filter", "breaks", "setup", "footer"):
            assert got[key] == want[key], (name, key)
    assert xb["统计分析"].page_setup.scale == 70 and xb["回收情况"].print_title_rows == "$3:$3"


@pytest.mark.libreoffice
def test_libreoffice_resolves_quoted_sheet_names(lo_books):
    wb = openpyxl.load_workbook(lo_books["names"])
    assert wb.sheetnames == QUOTED
    for name in QUOTED:
        ws = wb[name]
        assert ws["A1"].value == f"{name}00" and ws["C4"].value == f"{name}32"
        assert ws.print_title_rows == "$2:$2", name
        assert ws.print_area == f"{_quoted(name)}!$A$1:$C$4", name
        assert ws.auto_filter.ref == "A1:C4", name


@pytest.mark.libreoffice
def test_libreoffice_reads_text_as_written(lo_books):
    """Control characters and a literal _x0041_ come back exactly (read with our reader, which decodes
    Excel's escapes in what LibreOffice saves), and as from xlsxwriter's shared strings."""
    got = {k: open_book(lo_books[k].read_bytes(), ".xlsx").sheet("文本") for k in ("text_xw", "text_xb")}
    values = {k: [sh.get(r, 0) for r in range(len(TEXTS) + 1)] for k, sh in got.items()}
    assert values["text_xb"] == values["text_xw"] == TEXTS + ["True"]
    assert got["text_xb"].formulas == {}


@pytest.mark.libreoffice
def test_libreoffice_reads_the_body(lo_books):
    wb = openpyxl.load_workbook(lo_books["body"])
    ws = wb["明细"]
    _check_body(ws, lambda r, c: _whole(ws.cell(r, c).value))
    assert [c.value for c in wb["只有表体"][4]] == [3, "第3行", None, 1]
