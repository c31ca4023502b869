"""xlsx_tool.outputs.chart_xml writes the chart and drawing parts byte-for-byte as xlsxwriter does.

Every scenario builds the same charts twice: with xlsxwriter in a real workbook (the referenced
cells written, rows and columns sized, charts inserted as stats_sheet._Sheet.chart inserts them),
saved and unzipped; and with chart_xml.  The parts must be equal.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from decimal import Decimal
from fractions import Fraction

import pytest
import xlsxwriter
from xlsxwriter.utility import quote_sheetname as xw_quote

from xlsx_tool.outputs.chart_xml import ColumnChart, Font, Series, anchor, chart_part, drawing_part, drawing_rels
from xlsx_tool.outputs.xlsx_book import DEFAULT_COL_PX, DEFAULT_ROW_PX, quote_sheetname
from xlsx_tool.outputs.xlsx_book import col_px as col_width_px
from xlsx_tool.outputs.xlsx_book import row_px as row_height_px

SONG = "宋体"
F8, F9, F12B = Font(SONG, 8), Font(SONG, 9), Font(SONG, 12, bold=True)
F9_ROT = Font(SONG, 9, rotation=-45)


def _props(f: Font) -> dict:
    d = {"name": f.name, "size": f.size, "bold": f.bold, "charset": 134}
    if f.rotation is not None:
        d["rotation"] = f.rotation
    return d


def _column(sheet, c, first, values):
    """(range, values) of a column of cells starting at row `first`."""
    return (sheet, first, c, first + len(values) - 1, c), list(values)


def series(sheet, name, name_rc, cat_col, val_col, first, cats, vals, color="#4472C4", labels=None,
           label_format="0.##") -> Series:
    cat_ref, cats = _column(sheet, cat_col, first, cats)
    val_ref, vals = _column(sheet, val_col, first, vals)
    return Series(name, (sheet, *name_rc), cats, cat_ref, vals, val_ref, color, labels, label_format)


def chart(series_, title="得分分布", y_title="单位数（个）", y_num_format="0.##", y_min=0, y_max=None,
          gridline_color="#D9D9D9", x_font=F9, legend_font=None, width=520, height=280, **kw) -> ColumnChart:
    return ColumnChart(title=title, title_font=kw.get("title_font", F12B), series=tuple(series_),
                       y_title=y_title, y_title_font=kw.get("y_title_font", F9), y_num_font=F9,
                       y_num_format=y_num_format, y_min=y_min, y_max=y_max, gridline_color=gridline_color,
                       x_num_font=x_font, legend_font=legend_font, width=width, height=height)


def _write_cell(ws, r, c, v, blank_fmt):
    if v is None:
        return  # no record
    if v == "":
        ws.write_blank(r, c, None, blank_fmt)
    elif isinstance(v, str):
        ws.write_string(r, c, v)
    else:
        ws.write_number(r, c, v)


def build_xlsxwriter(path, sheets: list[dict]) -> dict[str, bytes]:
    """sheets: [{"name", "cols": {c: chars}, "rows": {r: points}, "charts": [(row, col, x, y, ColumnChart)]}]."""
    wb = xlsxwriter.Workbook(str(path))
    blank = wb.add_format({"border": 1})
    wss = {s["name"]: wb.add_worksheet(s["name"]) for s in sheets}
    for s in sheets:
        ws = wss[s["name"]]
        for c, w in s.get("cols", {}).items():
            ws.set_column(c, c, w)
        for r, pt in s.get("rows", {}).items():
            ws.set_row(r, pt)
    for s in sheets:
        for row, col, x_off, y_off, ch in s.get("charts", []):
            for se in ch.series:
                sheet, r, c = se.name_ref
                _write_cell(wss[sheet], r, c, se.name, blank)
                for (sheet, r1, c1, _r2, _c2), values in ((se.cat_ref, se.categories), (se.val_ref, se.values)):
                    for i, v in enumerate(values):
                        _write_cell(wss[sheet], r1 + i, c1, v, blank)
            xc = wb.add_chart({"type": "column"})
            for se in ch.series:
                spec = {"name": list(se.name_ref), "categories": list(se.cat_ref), "values": list(se.val_ref),
                        "fill": {"color": se.color}, "border": {"none": True}, "gap": 60}
                if se.labels is not None:
                    spec["data_labels"] = {"value": True, "num_format": se.label_format, "font": _props(se.labels)}
                xc.add_series(spec)
            xc.set_title({"name": ch.title, "name_font": _props(ch.title_font), "overlay": False})
            grid = {"visible": True}
            if ch.gridline_color is not None:
                grid["line"] = {"color": ch.gridline_color}
            axis = {"name": ch.y_title, "name_font": _props(ch.y_title_font), "num_font": _props(ch.y_num_font),
                    "num_format": ch.y_num_format, "major_gridlines": grid}
            if ch.y_min is not None:
                axis["min"] = ch.y_min
            if ch.y_max is not None:
                axis["max"] = ch.y_max
            xc.set_y_axis(axis)
            xc.set_x_axis({"num_font": _props(ch.x_num_font), "interval_unit": 1})
            if ch.legend_font is not None:
                xc.set_legend({"position": "top", "font": _props(ch.legend_font)})
            else:
                xc.set_legend({"none": True})
            xc.show_blanks_as("gap")
            xc.set_size({"width": ch.width, "height": ch.height})
            wss[s["name"]].insert_chart(row, col, xc, {"x_offset": x_off, "y_offset": y_off, "object_position": 2})
    wb.close()
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def assert_same(tmp_path, sheets: list[dict]) -> dict[str, bytes]:
    parts = build_xlsxwriter(tmp_path / "ref.xlsx", sheets)
    index, drawing = 0, 0
    for s in sheets:
        if not s.get("charts"):
            continue
        drawing += 1
        widths = {c: col_width_px(w) for c, w in s.get("cols", {}).items()}
        heights = {r: row_height_px(pt) for r, pt in s.get("rows", {}).items()}
        anchors = []
        for row, col, x_off, y_off, ch in s["charts"]:
            index += 1
            assert chart_part(ch, index) == parts[f"xl/charts/chart{index}.xml"], f"chart{index}"
            anchors.append(anchor(row, col, x_off, y_off, ch.width, ch.height,
                                  lambda c: widths.get(c, DEFAULT_COL_PX), lambda r: heights.get(r, DEFAULT_ROW_PX)))
        assert drawing_part(anchors) == parts[f"xl/drawings/drawing{drawing}.xml"]
        first = index - len(anchors) + 1
        assert drawing_rels(len(anchors), first) == parts[f"xl/drawings/_rels/drawing{drawing}.xml.rels"]
    assert f"xl/charts/chart{index + 1}.xml" not in parts
    return parts


BANDS = ["60分以下", "60～70分", "70～80分", "80～90分", "90～95分", "95分及以上"]
SHEET = "统计分析"


def test_one_series_percent_labels_rotated(tmp_path):
    shares = [Fraction(34, 133), Fraction(31, 133), 0.1, 0, 1, Fraction(2, 7)]
    s = series(SHEET, "扣分单位占比", (20, 4), 0, 4, 21, [f"第{i}项" for i in range(1, 7)], shares,
               labels=F8, label_format="0%")
    ch = chart([s], title="各评分项目扣分单位占比", y_title="占统计单位的比例", y_num_format="0%", y_max=1,
               x_font=F9_ROT, height=300)
    parts = assert_same(tmp_path, [{"name": SHEET, "cols": {0: 6, 1: 26, 10: 8}, "charts": [(20, 10, 2, 4, ch)]}])
    xml = parts["xl/charts/chart1.xml"].decode()
    assert '<c:v>0.2556390977443609</c:v>' in xml and 'rot="-2700000"' in xml and '<c:max val="1"/>' in xml


def test_two_series_legend_no_labels_y_min(tmp_path):
    names = ["第一核查组", "第二核查组", "州委办直属机关党委", "州委组织部直属机关党委"]
    avg = series(SHEET, "平均分", (83, 4), 1, 4, 84, names, [92.5, Decimal("88.25"), 90, 87.123456789012345])
    high = series(SHEET, "95分及以上", (83, 5), 1, 5, 84, names, [1, 0, 3, 2], color="#ED7D31")
    ch1 = chart([avg, high], title="各汇总单位平均分", y_title="平均分（分）", y_min=80, legend_font=F9,
                x_font=F9_ROT)
    ch2 = chart([avg, high], title="y_min as a float", y_min=72.5, legend_font=F9, height=340)
    parts = assert_same(tmp_path, [{"name": SHEET, "charts": [(83, 10, 2, 4, ch1), (83, 10, 2, 4 + 280 + 12, ch2)]}])
    xml = parts["xl/charts/chart2.xml"].decode()
    assert '<c:min val="72.5"/>' in xml and '<c:legendPos val="t"/>' in xml and "50020001" in xml


def test_blank_and_text_values(tmp_path):
    # No record (None) is left out of the cache: a gap.  A formatted blank ("") and text are cached as 0.
    vals = [None, 3, None, "", "n/a", 2.5, None]
    cats = ["a", None, "c", "", "e", "f", "g"]
    s = series(SHEET, None, (0, 2), 1, 2, 1, cats, vals, labels=F8)
    t = series(SHEET, 7, (0, 3), 1, 3, 1, cats, [None] * 7, color="#A5A5A5")
    parts = assert_same(tmp_path, [{"name": SHEET, "charts": [(0, 5, 0, 0, chart([s, t], legend_font=F9))]}])
    xml = parts["xl/charts/chart1.xml"].decode()
    assert '<c:ptCount val="7"/><c:pt idx="1"><c:v>3</c:v></c:pt><c:pt idx="3"><c:v>0</c:v></c:pt>' in xml


def test_numeric_and_mixed_categories(tmp_path):
    # All-number categories become a numRef (and the category axis a General format); one text among
    # them keeps a strRef with the numbers as text.  Text that reads as a number counts as a number.
    nums = series(SHEET, "n", (0, 1), 0, 1, 1, [1, 2.5, Fraction(1, 3), 1e20, "7"], [5, 4, 3, 2, 1])
    mixed = series(SHEET, "m", (10, 1), 0, 1, 11, [1, "二", 3.0, "x_y", " 5"], [1, 2, 3, 4, 5])
    spaced = series(SHEET, "s", (20, 1), 0, 1, 21, ["1", " 2"], [1, 2])
    parts = assert_same(tmp_path, [{"name": SHEET, "charts": [
        (0, 4, 0, 0, chart([nums])), (20, 4, 0, 0, chart([mixed])), (40, 4, 0, 0, chart([spaced])),
        (60, 4, 0, 0, chart([mixed, nums])), (80, 4, 0, 0, chart([nums, mixed]))]}])
    assert '<c:numFmt formatCode="General" sourceLinked="1"/>' in parts["xl/charts/chart1.xml"].decode()
    assert '<c:numFmt formatCode="General" sourceLinked="1"/>' not in parts["xl/charts/chart2.xml"].decode()
    # The last series decides whether the category axis gets the number format.
    assert '<c:numFmt formatCode="General" sourceLinked="1"/>' in parts["xl/charts/chart4.xml"].decode()
    assert '<c:numFmt formatCode="General" sourceLinked="1"/>' not in parts["xl/charts/chart5.xml"].decode()


def test_single_cell_ranges_defaults_and_escaping(tmp_path):
    odd = Font('A&B "x" <y>', 10.5, rotation=0)
    s = series(SHEET, 'a & "b" <c>', (0, 0), 0, 1, 1, ["R&D <x> _x0041_ \x07 \"q\""], [0.5],
               labels=Font(SONG, 8, rotation=90), label_format='0.0"分"')
    ch = chart([s], title='T & <t> "q"\nline 2', y_title="", y_num_format="General", y_min=None,
               gridline_color=None, x_font=odd, title_font=Font(SONG, 9.99, bold=True), y_title_font=odd)
    ch2 = chart([s], title="", y_num_format='#,##0"元"', y_min=-1.5, y_max=2, legend_font=odd)
    parts = assert_same(tmp_path, [{"name": SHEET, "charts": [(0, 3, 0, 0, ch), (0, 3, 0, 300, ch2)]}])
    xml = parts["xl/charts/chart1.xml"].decode()
    assert "<c:f>统计分析!$A$2</c:f>" in xml and "_x005F_x0041_" in xml and "_x0007_" in xml


@pytest.mark.parametrize("name", ["统计分析(2)", "Bob's data", "R&D <x>", "A1", "XFD1048576", "R1C1", "RC", "c",
                                  "1st", "sheet.x", "Sheet1", "ABCD1"])
def test_sheet_names(tmp_path, name):
    s = series(name, "单位数", (4, 2), 1, 2, 5, BANDS, [0, 0, 20, 60, 35, 18], labels=F8)
    assert_same(tmp_path, [{"name": name, "charts": [(4, 10, 2, 4, chart([s]))]}])


def test_quote_sheetname_matches_xlsxwriter():
    names = ["统计分析", "统计 分析", "a'b", "'x'", "A0", "A1", "XFD1048576", "XFE1", "XFD1048577", "ABCD1",
             "R", "C", "RC", "rc", "R0", "R1", "R1048576", "R1048577", "RC16384", "C16385", "R1x", "Rx", "1",
             "١٢", ".x", "x.y", "x_y", "x-y", "ß1", "Straße"]
    assert [quote_sheetname(n) for n in names] == [xw_quote(n) for n in names]


def test_chart_indices_across_sheets(tmp_path):
    # Charts are numbered in insertion order, sheet by sheet; axis ids and chart targets follow.
    a = series("data", "x", (0, 1), 0, 1, 1, BANDS, [1, 2, 3, 4, 5, 6])
    b = series(SHEET, "y", (0, 1), 0, 1, 1, ["p", "q"], [7, 8], labels=F8)
    parts = assert_same(tmp_path, [
        {"name": "data", "charts": [(0, 3, 0, 0, chart([a])), (15, 3, 0, 0, chart([a, b], legend_font=F9))]},
        {"name": "empty"},
        {"name": SHEET, "charts": [(r, 4, 2, 4, chart([b], height=200 + r)) for r in (0, 12, 24)]},
    ])
    assert b'<c:axId val="50050001"/>' in parts["xl/charts/chart5.xml"]
    assert b"../charts/chart3.xml" in parts["xl/drawings/_rels/drawing2.xml.rels"]


def test_anchors_over_custom_rows_and_columns(tmp_path):
    s = series(SHEET, "v", (0, 0), 0, 1, 1, ["a", "b", "c"], [1, 2, 3])
    cols = {0: 6, 1: 26, 2: 0.5, 3: 0, 4: 8, 5: 8.43, 6: 1, 7: 13.57, 10: 8, 11: 8, 12: 0.08}
    rows = {0: 30, 1: 32, 2: 0, 3: 24, 4: 12.375, 5: 12.75, 6: 409, 9: 1.1, 20: 30, 21: 30}
    charts = [(0, 0, 2, 4, chart([s])), (1, 2, 0, 0, chart([s], width=333, height=77)),
              (3, 3, 100, 700, chart([s], width=1, height=1)), (6, 8, -150, -430, chart([s], height=300)),
              (2, 10, 2, 4, chart([s], width=520, height=340)), (0, 0, -5, -5, chart([s], width=64, height=20)),
              (20, 12, 64, 60, chart([s], width=700, height=61)),
              (3, 4, 61, 32, chart([s], width=61, height=52))]  # offsets of exactly a cell: the next cell
    assert_same(tmp_path, [{"name": SHEET, "cols": cols, "rows": rows, "charts": charts}])


def test_pixel_conversions():
    assert [col_width_px(w) for w in (0, 0.08, 0.5, 1, 6, 8, 8.43, 26)] == [0, 1, 6, 12, 47, 61, 64, 187]
    # Half pixels round up (12.375 pt is 16.5 px), unlike round().
    assert [row_height_px(p) for p in (0, 12.375, 12.75, 15, 24, 30, 32, 409)] == [0, 17, 17, 20, 32, 40, 43, 545]


def test_demo_score_chart():
    # The 得分分布 chart of the demo summary (`xlsx-tool demo`, chart1.xml: equal when checked by hand):
    # header in C5, bands in B6:B11.
    s = series(SHEET, "单位数", (4, 2), 1, 2, 5, BANDS, [0, 0, 20, 60, 35, 18], labels=F8)
    xml = chart_part(chart([s]), 1).decode()
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<c:chartSpace ')
    assert "<c:f>统计分析!$B$6:$B$11</c:f>" in xml and "<c:dispBlanksAs" not in xml and "<c:legend>" not in xml
    # Columns K.. of 8 characters (61 px): 2 + 520 px end 34 px into column S.
    assert anchor(4, 10, 2, 4, 520, 280, lambda c: col_width_px(8), lambda r: 20) == (
        (10, 19050, 4, 38100), (18, 323850, 18, 38100))


def test_mismatched_range_is_an_error():
    s = Series("x", (SHEET, 0, 0), ["a"], (SHEET, 1, 0, 2, 0), [1, 2], (SHEET, 1, 1, 2, 1), "#000000")
    with pytest.raises(ValueError):
        chart_part(chart([s]), 1)


def test_module_does_not_import_xlsxwriter():
    code = "import xlsx_tool.outputs.chart_xml, sys; assert 'xlsxwriter' not in sys.modules; assert 'openpyxl' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
