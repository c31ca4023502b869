"""评分汇总表.xlsx and the correction lists, read back with openpyxl: what the files say (sheets, values,
number formats, header styles, merged ranges, widths, row heights, print settings, frozen panes,
autofilters, charts), that texts from returns stay text, and that LibreOffice opens them.

The returns are real forms (tests/returns.py) merged from a folder by xlsx_tool.judging.merge.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

import lo
from returns import entries, write_form
from xlsx_tool import findings as FX
from xlsx_tool.judging.merge import merge
from xlsx_tool.outputs.corrections import FOLDER, build_lists, write_lists
from xlsx_tool.outputs.summary import DETAIL_HEADERS, DETAIL_SHEET, SUMMARY_FILE, write_summary
from xlsx_tool.outputs.tables import LINE_PT, text_lines

MERGED_ON = dt.date(2017, 11, 6)
GROUP = "第一核查组"
LONG = "党费收缴台账不规范，" * 12  # 120 characters: several lines in the reason column
# texts a spreadsheet would take for a formula, a number, a link or a function call
TRICKY = {2: "=1+1", 3: "@x", 4: "+3", 5: "-2", 6: "http://example.com", 7: "=HYPERLINK(\"http://x\",\"点击\")"}


@pytest.fixture(scope="module")
def merged(plan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("summary-returns")
    units = plan.summary(GROUP).units
    for k, unit in enumerate(units[:6]):
        items = {f"i{seq}": (1, reason) for seq, reason in TRICKY.items()}
        if k == 0:
            items["i9"] = (1, LONG, "=SUM(1,1)亮点")
        if k == 1:
            items["i1"] = (Decimal("0.3"), "扣分不合档")  # not a step of the item: an error for the lists
        if k == 2:
            items["i8"] = (1, "")  # no reason: a warning
        write_form(folder / GROUP, f"{unit.name}.xlsx", plan, unit, entries(**items))
    (folder / "说明.txt").write_text("不是评分表")
    return merge(plan, folder, today=MERGED_ON)


@pytest.fixture(scope="module")
def book(merged, tmp_path_factory):
    out = tmp_path_factory.mktemp("summary-out")
    write_summary(merged, out / SUMMARY_FILE)
    write_lists(merged, out)
    return out


@pytest.fixture(scope="module")
def wb(book):
    return openpyxl.load_workbook(book / SUMMARY_FILE)


TABLES = {  # sheet -> (header row, orientation)
    "回收情况": ("序号", "landscape"), "问题清单": ("序号", "landscape"), "全部单位排名": ("排名", "portrait"),
    DETAIL_SHEET: ("被核查单位", "portrait"), GROUP: ("排名", None), "文件清单": ("序号", "landscape"),
}


def test_sheets_in_order(wb):
    assert wb.sheetnames == ["回收情况", "问题清单", "全部单位排名", "统计分析", DETAIL_SHEET, GROUP, "文件清单", "汇总表信息"]


@pytest.mark.parametrize("name", list(TABLES))
def test_every_table_prints_on_a4_with_its_header_on_every_page(wb, name):
    ws = wb[name]
    first, orientation = TABLES[name]
    assert ws["A3"].value == first
    last = ws.max_column
    assert f"A1:{openpyxl.utils.get_column_letter(last)}1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].font.b and ws["A1"].font.sz == 15
    for c in range(1, last + 1):  # the header: bold, bordered, shaded, wrapped
        cell = ws.cell(3, c)
        assert cell.font.b and cell.border.left.style == "thin" and cell.border.bottom.style == "thin", cell
        assert cell.fill.fgColor.rgb.endswith("F2F2F2") and cell.alignment.wrap_text, cell
        assert cell.font.name == "宋体"
    setup = ws.page_setup
    assert setup.paperSize == 9 and setup.orientation == (orientation or _larger_print(ws)), name
    assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1)
    # 附件3 of a summary unit: one page tall (1, the default, is not written); the others as tall as they are
    assert setup.fitToHeight in ((None, 1) if name == GROUP else (0,))
    assert ws.print_options.horizontalCentered
    assert ws.print_title_rows == "$3:$3"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref.startswith("A3:")
    assert ws.page_margins.left == pytest.approx(0.4)


def _larger_print(ws) -> str:
    """The orientation that prints a one-page sheet larger, from its row heights and column widths."""
    default = ws.sheet_format.defaultRowHeight
    height = sum(ws.row_dimensions[r].height or default for r in range(1, ws.max_row + 1))
    width = sum(int(ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width * 7 + 0.5)  # px, as Excel
                for c in range(1, ws.max_column + 1)) * 0.75
    landscape = min(1, (842 - 0.8 * 72) / width, (595 - 1.2 * 72) / height)  # A4 inside its margins
    portrait = min(1, (595 - 0.8 * 72) / width, (842 - 1.2 * 72) / height)
    assert abs(landscape - portrait) > 0.02  # not a tie: the test means something
    return "landscape" if landscape > portrait else "portrait"


def test_stats_sheet_prints_on_a4(wb):
    ws = wb["统计分析"]
    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (9, "landscape")
    assert "&P" in ws.oddFooter.center.text
    assert len(ws._charts) == 7
    refs = [s.val.numRef.f for ch in ws._charts for s in ch.series]
    assert refs and all(r.startswith("统计分析!$") for r in refs)


def _rows(ws, header_row=3):
    header = [c.value for c in ws[header_row]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=header_row + 1, values_only=True)
            if r[0] is not None]


def test_detail_sheet_holds_every_deduction_as_text_and_numbers(wb, merged):
    ws = wb[DETAIL_SHEET]
    assert [c.value for c in ws[3]] == list(DETAIL_HEADERS)
    rows = _rows(ws)
    want = [(r.unit.name, i.seq, float(i.deduction)) for r in merged.ranking for i in r.scored.items if i.deduction > 0]
    assert [(x["被核查单位"], x["项目"], x["扣分"]) for x in rows] == want
    reasons = {x["扣分情况"] for x in rows}
    assert set(TRICKY.values()) <= reasons
    for row in ws.iter_rows(min_row=4):
        reason = row[4]
        assert reason.data_type == "s", reason  # "=1+1" and "@x" are text, never a formula
        assert row[3].data_type == "n" and row[3].number_format == "0.##"
        assert row[0].border.left.style == "thin"


def test_row_heights_fit_their_text(wb):
    ws = wb[DETAIL_SHEET]
    width = ws.column_dimensions["E"].width
    assert width == pytest.approx(66, abs=1)
    for r in range(4, ws.max_row + 1):
        text = ws.cell(r, 5).value
        lines = text_lines(text, 66)
        height = ws.row_dimensions[r].height
        if lines == 1:
            assert height is None or height <= 15, (r, height)  # the default row: no taller than one line
        else:
            assert LINE_PT * lines <= height <= LINE_PT * lines + 6, (r, lines, height)
    long = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 5).value == LONG)
    assert ws.row_dimensions[long].height >= 3 * LINE_PT  # 240 width units in a column of 66


def test_problem_list_shows_a_chinese_category_errors_first(wb, merged):
    ws = wb["问题清单"]
    header = [c.value for c in ws[3]]
    assert header[:3] == ["序号", "级别", "类别"]
    rows = _rows(ws)
    assert len(rows) == len(merged.findings)
    order = [FX.ERROR, FX.WARNING, FX.INFO]
    levels = [x["级别"] for x in rows]
    assert levels == sorted(levels, key=order.index) and levels[0] == FX.ERROR
    assert all(x["类别"] and not any("a" <= ch <= "z" for ch in x["类别"]) for x in rows)
    assert {"扣分", "文件"} <= {x["类别"] for x in rows}
    codes = header.index("代码")  # kept for scripts, hidden from the clerk and from the printer
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(codes + 1)].hidden


def test_category_helper():
    assert FX.category("deduction-step") == "扣分"
    assert FX.category("identity-other-plan") == "表单识别"
    assert FX.category("cached-mismatch") == FX.category("formula-overwritten") == "得分公式"
    assert FX.category("quota-exceeded") == "三分之一"
    assert all(FX.category(code) != "其他" for code in FX.RULES)


def test_annex3_texts_stay_text(wb):
    ws = wb[GROUP]
    rows = [x for x in _rows(ws) if isinstance(x["排名"], int)]
    texts = "\n".join(x["扣分情况"] for x in rows if x["扣分情况"])
    assert "第2项扣1分：=1+1" in texts and "第3项扣1分：@x" in texts
    assert any(x["特色亮点"] == "第9项：=SUM(1,1)亮点" for x in rows)
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            assert cell.data_type in ("s", "n"), cell  # no formula anywhere
    widths = [ws.column_dimensions[c].width for c in "ABCDE"]
    assert widths == pytest.approx([6, 20, 40, 60, 7], abs=1)
    note = ws.cell(ws.max_row, 1)
    assert note.value.startswith("95分及以上") and f"A{ws.max_row}:E{ws.max_row}" in {str(r) for r in ws.merged_cells.ranges}


def test_recovery_sheet_header_fits(wb):
    ws = wb["回收情况"]
    header = [c.value for c in ws[3]]
    col = header.index("95分及以上/上限") + 1
    width = ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width
    lines = text_lines("95分及以上/上限", width)
    assert ws.row_dimensions[3].height >= LINE_PT * lines


def test_correction_list_errors_first(book, merged):
    (path,) = sorted((book / FOLDER).glob("*.xlsx"))
    ws = openpyxl.load_workbook(path).active
    assert ws.title == "退回修改清单"
    rows = _rows(ws)
    levels = [x["级别"] for x in rows]
    assert levels and levels == sorted(levels, key=[FX.ERROR, FX.WARNING].index) and levels[0] == FX.ERROR
    assert FX.WARNING in levels
    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (9, "landscape")
    assert ws.print_title_rows == "$3:$3" and "&P" in ws.oddFooter.center.text
    assert ws.freeze_panes == "A4"


def test_same_merge_same_bytes(merged, tmp_path):
    write_summary(merged, tmp_path / "a.xlsx")
    write_summary(merged, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert list(build_lists(merged)) == list(build_lists(merged))
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").properties.created == dt.datetime(2017, 11, 6)


def test_libreoffice_opens_them(book, tmp_path):
    lists = sorted((book / FOLDER).glob("*.xlsx"))
    out = lo.convert([book / SUMMARY_FILE, *lists], "xlsx", tmp_path / "lo")
    back = openpyxl.load_workbook(out[0])
    assert back.sheetnames == openpyxl.load_workbook(book / SUMMARY_FILE).sheetnames
    values = [r[4] for r in back[DETAIL_SHEET].iter_rows(min_row=4, values_only=True)]
    assert "=1+1" in values and "@x" in values
    assert openpyxl.load_workbook(out[1]).active["A1"].value.endswith("退回修改清单")
