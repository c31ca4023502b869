"""The form on paper: a blank and a filled form printed to PDF by LibreOffice (A4, fonts-wqy-zenhei),
then measured with poppler: page counts (pdfinfo), every word box inside its page and over no other
(pdftotext -bbox), each category's rows on one page, the 填表说明 lines whole; and the print
settings and grey-scale input marks of every sheet, read back with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/lo.py, however pytest imports this file
import lo  # noqa: E402
from pdf import page_count, pdf_pages  # noqa: E402
from xlsx_tool.forms import layout as L  # noqa: E402
from xlsx_tool.forms.guide import guide_lines  # noqa: E402
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form  # noqa: E402

pytestmark = pytest.mark.libreoffice

UNIT = "州财政局"
REASON = ("经查阅会议记录，2017年7月至9月未按要求召开支委会2次，党小组会记录不全，"
          "部分党员未按时参加组织生活，已当场反馈并要求10月底前整改到位。")
HIGHLIGHT = "建立党建工作台账，每月通报各支部进度，结对帮扶做法值得推广。"
PROBLEMS = ["支部会议记录不全，部分会议无签到表，党费收缴台账未按月登记，" * 2, "党员信息采集未完成"]


def filled_entries(plan) -> FormEntries:
    items = {it.seq: ItemEntry(highlight=HIGHLIGHT, reason=REASON, deduction=it.step) for it in plan.rubric.items}
    return FormEntries(date=dt.date(2017, 10, 23), items=items, test=[("张三", 80), ("李四", 50), ("王五", 90)],
                       rectified=[("已整改", "已补齐签到表"), ("未整改", "")])


@pytest.fixture(scope="module")
def printed(plan, tmp_path_factory):
    """The two forms as xlsx bytes and as LibreOffice's PDF, converted in one soffice start."""
    base = tmp_path_factory.mktemp("paper")
    unit = plan.unit(UNIT)
    forms = {"blank": build_form(plan, unit),
             "filled": build_form(plan, unit, filled_entries(plan), PROBLEMS)}
    paths = []
    for name, data in forms.items():
        (base / f"{name}.xlsx").write_bytes(data)
        paths.append(base / f"{name}.xlsx")
    pdfs = lo.convert(paths, "pdf", base / "pdf")
    return {name: (forms[name], pdf) for name, pdf in zip(forms, pdfs)}


def form_breaks(data: bytes) -> list[int]:
    """The form sheet's manual page breaks: 0-based rows that start a new page."""
    ws = openpyxl.load_workbook(io.BytesIO(data))[L.FORM_SHEET]
    return [b.id for b in ws.row_breaks.brk]


def categories(plan) -> list[tuple[str, list]]:
    return list(plan.rubric.categories)


# --------------------------------------------------------------------------- what the PDF shows


def test_page_counts(printed):
    blank, blank_pdf = printed["blank"]
    filled, filled_pdf = printed["filled"]
    # the blank form: items 1-6; items 7-14; item 15, the totals and the test table; then one page of 填表说明
    assert len(form_breaks(blank)) == 2
    assert page_count(blank_pdf) == 3 + 1
    # filled: as many form pages as the manual breaks make (no automatic break inside), plus the guide
    assert page_count(filled_pdf) == len(form_breaks(filled)) + 1 + 1
    assert page_count(filled_pdf) > page_count(blank_pdf)


@pytest.mark.parametrize("which", ["blank", "filled"])
def test_pages_are_a4_and_every_word_inside_its_page(printed, which):
    pages = pdf_pages(printed[which][1])
    for n, page in enumerate(pages, 1):
        assert sorted((round(page.width), round(page.height))) == [595, 842], (n, page.width, page.height)
        assert page.words, f"page {n} is empty"
        assert page.outside() == [], (n, page.outside())
        assert f"第{n}页，共{len(pages)}页" in page.text, (n, page.text[-40:])


@pytest.mark.parametrize("which", ["blank", "filled"])
def test_no_word_printed_over_another(printed, which):
    """A line of text that does not fit its row is drawn over the next one: word boxes would overlap.
    Boxes are shrunk by 1pt first: the glyph boxes of two adjacent lines touch by a fraction of a point."""
    for n, page in enumerate(pdf_pages(printed[which][1]), 1):
        boxes = [(w.x0 + 1, w.y0 + 1, w.x1 - 1, w.y1 - 1, w.text) for w in page.words]
        boxes.sort()
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if b[0] >= a[2]:
                    break
                assert not (b[1] < a[3] and a[1] < b[3]), (n, a[4], b[4])


@pytest.mark.parametrize("which", ["blank", "filled"])
def test_each_category_on_one_page(plan, printed, which):
    pages = pdf_pages(printed[which][1])
    texts = [p.columns_text for p in pages]
    page = None
    for cat, items in categories(plan):
        where = {i for i, t in enumerate(texts) for w in pages[i].words if w.text.startswith(cat[:5])}
        assert len(where) == 1, (cat, where)
        page = where.pop()
        for item in items:
            on = [i for i, t in enumerate(texts) if "".join(item.text.split()) in t]
            assert on == [page], (cat, item.seq, on, page)
    # the totals stay with the last category, and the test table is whole
    for starts in ([L.SUBTOTAL_LABEL, "核定得分（"], [L.TEST_TITLE + "（", "测试扣分（"]):
        on = {i for i, p in enumerate(pages) for w in p.words for s in starts if w.text.startswith(s)}
        assert len(on) == 1, (starts, on)
        if starts[0] == L.SUBTOTAL_LABEL:
            assert on == {page}, (on, page)


def test_filled_reasons_printed_whole(plan, printed):
    """Every reason and highlight is on the page of its item: the rows grew to their text."""
    pages = pdf_pages(printed["filled"][1])
    texts = [p.columns_text for p in pages]
    for item in plan.rubric.items:
        on = [i for i, t in enumerate(texts) if item.text in t]
        assert len(on) == 1, (item.seq, on)
        assert REASON in texts[on[0]] and HIGHLIGHT in texts[on[0]], item.seq
    assert sum(t.count(REASON) for t in texts) == len(plan.rubric.items)
    assert sum(t.count(HIGHLIGHT) for t in texts) == len(plan.rubric.items)
    assert sum(t.count(PROBLEMS[0]) for t in texts) == 1


@pytest.mark.parametrize("which", ["blank", "filled"])
def test_guide_lines_not_cut(plan, printed, which):
    pages = pdf_pages(printed[which][1])
    guide = [p for p in pages if p.text.startswith("填表说明")]
    assert len(guide) == 1
    text = guide[0].text
    unit = plan.unit(UNIT)
    for line in guide_lines(plan, unit, plan.summary(unit.summary), has_problems=which == "filled"):
        assert "".join(line.split()) in "".join(text.split()), line
    assert "15080862266" in text  # the liaison's phone, at the end of the longest line
    # portrait, and the text well inside the page
    page = guide[0]
    assert page.width < page.height
    assert min(w.x0 for w in page.words) > 36 and max(w.x1 for w in page.words) < page.width - 36


# --------------------------------------------------------------------------- print settings in the xlsx


@pytest.mark.parametrize("which", ["blank", "filled"])
def test_every_sheet_has_a_page_setup(printed, which):
    wb = openpyxl.load_workbook(io.BytesIO(printed[which][0]))
    assert wb.sheetnames == [L.FORM_SHEET, L.GUIDE_SHEET, L.IDENTITY_SHEET]
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert int(ps.paperSize) == 9, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ps.fitToWidth in (None, 1, "1") and int(ps.fitToHeight) == 0, ws.title
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, ws.title
    assert wb[L.FORM_SHEET].page_setup.orientation == "landscape"
    assert wb[L.GUIDE_SHEET].page_setup.orientation == "portrait"
    assert wb[L.FORM_SHEET].print_title_rows == "$2:$3"
    assert wb[L.GUIDE_SHEET].print_title_rows == "$1:$1"


@pytest.mark.parametrize("which", ["blank", "filled"])
def test_breaks_fall_between_categories(plan, printed, which):
    data = printed[which][0]
    breaks = form_breaks(data)
    assert breaks
    items = plan.rubric.items
    for _, cat_items in categories(plan):
        first = L.item_row(items.index(cat_items[0]))
        last = first + len(cat_items) - 1
        assert not [b for b in breaks if first < b <= last]


def test_row_heights_fit_the_text(plan, printed):
    """Each item row is at least as tall as its longest text needs (CJK glyph = 2 units at 10.5pt)."""
    ws = openpyxl.load_workbook(io.BytesIO(printed["filled"][0]))[L.FORM_SHEET]
    for i, item in enumerate(plan.rubric.items):
        row = L.item_row(i) + 1
        height = ws.row_dimensions[row].height
        for col, text in ((L.COL_TEXT, item.text), (L.COL_REASON, REASON), (L.COL_HIGHLIGHT, HIGHLIGHT)):
            per_line = (L.WIDTHS[col] - 2) / 2  # glyphs a line holds
            lines = -(-len(text) // int(per_line))
            assert height >= lines * 14, (item.seq, col, height, lines)


def test_input_cells_marked_for_grey_scale(plan, printed):
    """Input cells carry a dashed frame (visible in grey scale), not only a pale fill; locked cells do not."""
    ws = openpyxl.load_workbook(io.BytesIO(printed["filled"][0]))[L.FORM_SHEET]
    n = len(plan.rubric.items)
    rect = plan.rules.rectification_item
    inputs = [L.a1(*L.DATE_CELL)]
    for i, item in enumerate(plan.rubric.items):
        cols = (L.COL_HIGHLIGHT, L.COL_REASON) + (() if item.seq == rect else (L.COL_DEDUCTION,))
        inputs += [L.a1(L.item_row(i), c) for c in cols]
    _, _, first, _ = L.test_rows(n, plan.rules.test_people)
    inputs += [L.a1(first + k, c) for k in range(plan.rules.test_people) for c in (L.COL_TEXT, L.COL_MAX)]
    _, _, pfirst = L.rectify_rows(n, plan.rules.test_people)
    inputs += [L.a1(pfirst + k, c) for k in range(len(PROBLEMS)) for c in (L.COL_HIGHLIGHT, L.COL_REASON)]
    for ref in inputs:
        c = ws[ref]
        assert not c.protection.locked, ref
        sides = (c.border.left, c.border.right, c.border.top, c.border.bottom)
        assert all(s.style in ("dashed", "mediumDashed") for s in sides), (ref, [s.style for s in sides])
    for i in range(n):
        for col in (L.COL_TEXT, L.COL_MAX, L.COL_SCORE):
            c = ws.cell(L.item_row(i) + 1, col + 1)
            assert c.protection.locked and c.border.left.style == "thin", (c.coordinate, c.border.left.style)


# --------------------------------------------------------------------------- the page-break rule itself


def _rows(heights: list[float]):
    import xlsxwriter

    from xlsx_tool.forms.paper import Rows

    ws = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True}).add_worksheet()
    rows = Rows(ws)
    for r, h in enumerate(heights):
        rows.set(r, h)
    return rows


def test_page_breaks_keep_ranges_whole():
    from xlsx_tool.forms.paper import FORM_PAGE, SAFETY_PT, page_breaks

    quarter = (FORM_PAGE.body_pt - SAFETY_PT) // 3 * 0.75  # a quarter page, in whole pixels
    rows = _rows([30, 30] + [quarter] * 8)  # two repeated rows, then eight quarter-page rows
    # ranges of three rows: the first fits on page 1 with the repeated rows; the second does not
    breaks = page_breaks(rows, 9, [(2, 4), (5, 7), (8, 9)], FORM_PAGE, repeat=(0, 1))
    assert breaks == [5, 8]
    # without ranges the rows simply fill the pages
    assert page_breaks(rows, 9, [], FORM_PAGE, repeat=(0, 1)) == [5, 8]
    assert page_breaks(rows, 9, [], FORM_PAGE) == [5, 9]


def test_page_breaks_range_taller_than_a_page_is_not_pushed_to_a_new_page():
    from xlsx_tool.forms.paper import FORM_PAGE, SAFETY_PT, page_breaks

    body = FORM_PAGE.body_pt - SAFETY_PT
    rows = _rows([30, 30, 100] + [body / 2] * 3 + [40])
    # rows 3-5 (1.5 pages) cannot be kept whole: they follow row 2 instead of leaving page 1 almost empty
    breaks = page_breaks(rows, 6, [(3, 5)], FORM_PAGE, repeat=(0, 1))
    assert 3 not in breaks
