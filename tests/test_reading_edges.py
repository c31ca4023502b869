"""Rules at the edges of reading that mutation testing showed untested, on real workbooks.

- A negative deduction is an error and counts as no deduction, never as a bonus.  The 98 cap hides
  a bonus on a form without other deductions (the items add up to 98), so these forms deduct 5
  elsewhere: a bonus would show as 95, the rule gives 93.
- Workbooks whose dates count from 1904 (`<workbookPr date1904="1"/>`): 核查时间 is the day the
  spreadsheet shows, whichever program wrote it.
- Deductions typed with full-width digits and a full-width full stop (`１．５`) are read as 1.5,
  with an info finding.
- A form sheet copied beside the original ("评分细则" and "评分细则 (2)", one blank and one filled, in
  either order): the filled one is read, and a warning names both sheets.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from returns import DATE_CELL, build_form, cell, entries, write_blank, write_form
from sheet_variants import DATE_REF, WORKBOOK, Parts, ref_key

from xlsx_tool import findings as FX
from xlsx_tool.judging.merge import COUNTED, merge
from xlsx_tool.reading.limits import Limits
from xlsx_tool.reading.workbook import open_book

TODAY = dt.date(2017, 11, 6)
D = Decimal
UNIT = "州财政局"  # 第二核查组: 核查时间 2017-10-23 to 2017-10-24
NAME = f"{UNIT}.xlsx"
FORM = "评分细则"
COPY = "评分细则 (2)"


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "collected"
    d.mkdir()
    return d


def run(plan, folder):
    return merge(plan, folder, today=TODAY, workers=1)


def the_row(result):
    [row] = result.ranking
    assert row.unit.name == UNIT
    return row


def findings(result, code, **where):
    return [f for f in result.findings if f.code == code and all(getattr(f, k) == v for k, v in where.items())]


# --------------------------------------------------------------------------- a negative deduction


ELSEWHERE = {"i1": (2, "原因一"), "i5": (3, "原因五")}  # 5 points: room below the 98 cap


def _typed_with_openpyxl(plan, folder, value):
    p = write_blank(folder, NAME, plan, UNIT)
    wb = openpyxl.load_workbook(p)
    ws = wb[FORM]
    ws[DATE_CELL] = dt.datetime(2017, 10, 23)
    ws[DATE_CELL].number_format = "yyyy-mm-dd"
    for key, (ded, reason) in {**ELSEWHERE, "i6": (value, "加分")}.items():
        seq = int(key[1:])
        ws[cell(plan, seq, "deduction")] = ded
        ws[cell(plan, seq, "reason")] = reason
    wb.save(p)


@pytest.mark.parametrize("how", ["generated", "openpyxl"])
def test_negative_deduction_is_no_deduction_not_a_bonus(plan, folder, how):
    if how == "generated":
        write_form(folder, NAME, plan, UNIT, entries(date=dt.date(2017, 10, 23), i6=(-2, "加分"), **ELSEWHERE))
    else:
        _typed_with_openpyxl(plan, folder, -2)
    r = run(plan, folder)
    row = the_row(r)
    assert row.scored.score == D(93)  # 98 - 5; a bonus of 2 would make it 95
    items = {i.seq: i for i in row.scored.items}
    assert items[6].deduction == D(0) and items[6].score == D(5)
    assert items[1].deduction == D(2) and items[5].deduction == D(3)
    [f] = findings(r, "deduction-negative")
    assert f.severity == FX.ERROR and f.cell == cell(plan, 6, "deduction") and f.file == NAME and "-2" in f.message


# --------------------------------------------------------------------------- 1904 dates


def _date1904(plan, folder, serial_days_from, when=dt.date(2017, 10, 24)):
    """A generated form whose workbook counts dates from 1904, its 核查时间 stored as days since `serial_days_from`."""
    parts = Parts(build_form(plan, UNIT, entries(date=when, **ELSEWHERE)))
    parts.xml(WORKBOOK).find("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}workbookPr").set("date1904", "1")
    parts.number(DATE_REF, (when - serial_days_from).days)
    p = folder / NAME
    p.write_bytes(parts.to_bytes())
    return p


def test_1904_workbook_date_read_as_the_day_shown(plan, folder):
    p = _date1904(plan, folder, dt.date(1904, 1, 1))  # 2017-10-24 is 41570 in the 1904 system
    book = open_book(p.read_bytes(), ".xlsx", Limits())
    assert book.date1904 is True
    r = run(plan, folder)
    row = the_row(r)
    assert row.scored.date == dt.date(2017, 10, 24)
    assert not findings(r, "date-outside-window") and not findings(r, "date-invalid")
    assert row.scored.score == D(93)


def test_1904_workbook_serial_counted_from_1904_not_1900(plan, folder):
    # the 1900-system serial of 2017-10-24 (43032) in a 1904 workbook is the day 1,462 days later:
    # what Excel and LibreOffice show, so it is outside the window
    _date1904(plan, folder, dt.date(1899, 12, 30))
    r = run(plan, folder)
    row = the_row(r)
    assert row.scored.date == dt.date(2021, 10, 25)
    [f] = findings(r, "date-outside-window")
    assert f.severity == FX.WARNING and f.cell == DATE_CELL and "2021-10-25" in f.message


def test_1904_workbook_saved_by_openpyxl(plan, folder):
    p = write_form(folder, NAME, plan, UNIT, entries(date=dt.date(2017, 10, 23), **ELSEWHERE))
    wb = openpyxl.load_workbook(p)
    wb.epoch = CALENDAR_MAC_1904  # as a Mac spreadsheet saves: every date counted from 1904
    wb[FORM][DATE_CELL] = dt.datetime(2017, 10, 24)
    wb[FORM][DATE_CELL].number_format = "yyyy-mm-dd"
    wb.save(p)
    book = open_book(p.read_bytes(), ".xlsx", Limits())
    assert book.date1904 is True
    r = run(plan, folder)
    assert the_row(r).scored.date == dt.date(2017, 10, 24)
    assert not findings(r, "date-outside-window")


# --------------------------------------------------------------------------- full-width decimals


@pytest.mark.parametrize("typed, value", [("１．５", D("1.5")), ("１．５分", D("1.5")), ("1.5分", D("1.5")),
                                          ("２", D(2)), ("０．５", D("0.5"))])
def test_full_width_decimal_deduction_read_as_number(plan, folder, typed, value):
    # item 8: 0.5 a step, at most 6
    write_form(folder, NAME, plan, UNIT, entries(date=dt.date(2017, 10, 23), i8=(typed, "原因八"), **ELSEWHERE))
    ref = cell(plan, 8, "deduction")
    book = open_book((folder / NAME).read_bytes(), ".xlsx", Limits())
    assert book.sheet(FORM).cells[ref_key(ref)] == typed  # the reader gives the text as typed
    r = run(plan, folder)
    row = the_row(r)
    items = {i.seq: i for i in row.scored.items}
    assert items[8].deduction == value
    assert row.scored.score == D(93) - value
    [f] = findings(r, "deduction-text-number", cell=ref)
    assert f.severity == FX.INFO and typed in f.message
    assert not [f for f in r.findings if f.severity == FX.ERROR]


# --------------------------------------------------------------------------- a copied form sheet


FILLED = entries(date=dt.date(2017, 10, 24), i1=(2, "原因一", "亮点一"), i4=(2, "原因四"), i8=(1.5, "原因八"))
FILLED_SCORE = D("92.5")


def _clear_inputs(plan, ws):
    ws[DATE_CELL] = None
    for it in plan.rubric.items:
        for what in ("deduction", "reason", "highlight"):
            ws[cell(plan, it.seq, what)] = None


@pytest.mark.parametrize("filled", ["copy", "original"])
@pytest.mark.parametrize("copy_first", [False, True], ids=["copy-after", "copy-before"])
def test_filled_copy_beside_blank_original(plan, folder, filled, copy_first):
    p = write_form(folder, NAME, plan, UNIT, FILLED)
    wb = openpyxl.load_workbook(p)
    original = wb[FORM]
    copy = wb.copy_worksheet(original)  # what Excel's 移动或复制 → 建立副本 makes
    copy.title = COPY
    _clear_inputs(plan, original if filled == "copy" else copy)
    at = wb.sheetnames.index(FORM)
    wb.move_sheet(copy, offset=(at - wb.sheetnames.index(COPY)) + (0 if copy_first else 1))
    wb.save(p)
    names = openpyxl.load_workbook(p).sheetnames
    assert names.index(COPY) == names.index(FORM) + (-1 if copy_first else 1)

    r = run(plan, folder)
    [rec] = r.files
    assert rec.status == COUNTED
    row = the_row(r)
    assert row.scored.score == FILLED_SCORE  # the filled sheet, not the blank one (98)
    assert row.scored.date == dt.date(2017, 10, 24)
    assert {i.seq: i.deduction for i in row.scored.items if i.deduction} == {1: D(2), 4: D(2), 8: D("1.5")}
    warned = [f for f in r.findings if f.severity == FX.WARNING and COPY in f.message
              and FORM in f.message.replace(COPY, "")]
    assert len(warned) == 1, [str(f) for f in r.findings]
    assert warned[0].file == NAME
