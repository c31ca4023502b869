"""Judge one returned form against the plan: recompute every score from the inputs, never trust the file.

Deductions are read as people type them (`２`, ` 2 `, `2分` count, with a note);
the printed 分值, item texts, formulas and cached values are compared with the
plan and with the recomputation, and every disagreement is a finding.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from xlsx_tool import findings as FX
from xlsx_tool.reading.workbook import CellError
from xlsx_tool.decimals import as_text
from xlsx_tool.reading.form import Cell, RawForm
from xlsx_tool.forms.layout import NOT_RECTIFIED, RECTIFIED
from xlsx_tool.plan import Item, Plan, SummaryUnit, Unit
from xlsx_tool.textnorm import norm_text

_NUMBER_TEXT = re.compile(r"^(?:扣)?\s*([+-]?\d+(?:\.\d+)?)\s*(?:分)?$")
_DATE_TEXT = [
    re.compile(r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?$"),
    re.compile(r"^(?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?$"),
]
ZERO = Decimal(0)
# the routes a unit's score can come by, in the order of evidence: a form beats a summary made by this
# tool (its 扣分明细 lets every score be recomputed), which beats a hand-made 附件3 (taken as reported)
FORM, TOOL_SUMMARY, HAND_SUMMARY = "评分表", "本工具汇总表", "手工汇总表"


@dataclass(slots=True)
class ItemResult:
    seq: int
    max: Decimal
    deduction: Decimal  # the deduction used for the score (0 where the input was unusable)
    score: Decimal
    raw: object = None
    reason: str = ""
    highlight: str = ""
    cell: str = ""
    note: str = ""  # what the tool adds: the test's failures, the problems not rectified


@dataclass(slots=True)
class Scored:
    unit: Unit
    items: list[ItemResult]  # empty for a score taken from a hand-made 附件3: no item is known
    raw_total: Decimal
    score: Decimal
    date: dt.date | None
    findings: list[FX.Finding] = field(default_factory=list)
    source: str = FORM  # the route the score came by: FORM, TOOL_SUMMARY or HAND_SUMMARY
    reported: tuple[str, str] | None = None  # (特色亮点, 扣分情况) as a hand-made 附件3 gives them

    @property
    def errors(self) -> int:
        return FX.count(self.findings, FX.ERROR)


def excel_serial_to_date(serial: float, date1904: bool = False) -> dt.date:
    base = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    return base + dt.timedelta(days=int(serial))


def parse_deduction(value) -> tuple[Decimal | None, bool]:
    """(number, was_text).  None: not a number.  Blank is 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ZERO, False
    if isinstance(value, bool) or isinstance(value, (CellError, dt.date, dt.time, dt.timedelta)):
        return None, False
    if isinstance(value, (int, float)):
        return _number(float(value)), False
    text = norm_text(str(value))
    m = _NUMBER_TEXT.match(text)
    if not m:
        return None, True
    return Decimal(m.group(1)).normalize(), True


@lru_cache(maxsize=4096)  # deductions are a few values (0, 0.5, 1, 2 …) typed again and again
def _number(value: float) -> Decimal | None:
    try:
        d = Decimal(repr(value))
    except InvalidOperation:
        return None
    return d.normalize() if d.is_finite() else None


def parse_date(value, date1904: bool, year: int) -> tuple[dt.date | None, bool]:
    """(date, was_text); (None, False) for blank; (None, True) for something that is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, False
    if isinstance(value, dt.datetime):
        return value.date(), False
    if isinstance(value, dt.date):
        return value, False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return excel_serial_to_date(value, date1904), False
        return None, True
    if isinstance(value, str):
        text = norm_text(value)
        for pat in _DATE_TEXT:
            m = pat.match(text)
            if m:
                try:
                    return dt.date(int(m.groupdict().get("y") or year), int(m["m"]), int(m["d"])), True
                except ValueError:
                    return None, True
    return None, True


def show(v, width: int = 40) -> str:
    """A cell value as people would read it: 10 not 10.0, text cut to `width`."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"  # as the spreadsheet shows it
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v.date().isoformat()
    return "" if v is None else str(v)[:width]


def _same_number(v, expected: Decimal) -> bool:
    """Whether a cell holds the number `expected`.  A float equals a short decimal exactly when it is
    that decimal's nearest float (what Decimal(repr(v)) == expected says, without building a Decimal)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) == _float(expected)


_float = lru_cache(maxsize=4096)(float)  # a Decimal's float goes through its text: the few values recur


def score_form(form: RawForm, plan: Plan, unit: Unit, file: str) -> Scored:
    out: list[FX.Finding] = []
    summary: SummaryUnit = plan.summary(unit.summary)
    sheet = form.sheet

    def add(code, cell="", **kw):
        out.append(FX.make(code, file=file, sheet=sheet, cell=cell, unit=unit.name, summary=summary.name, **kw))

    rules = plan.rules
    items: list[ItemResult] = []
    for item in plan.rubric.items:
        raw = form.items[item.seq]
        if item.seq == rules.rectification_item and form.problems:
            items.append(_score_rectification(item, raw, form.problems, add, form.formulas_known))
        elif item.seq == rules.test_item and form.test is not None:
            extra, note = _score_test(plan, form, add)
            items.append(_score_item(item, raw, add, form.formulas_known, extra, note))
        else:
            items.append(_score_item(item, raw, add, form.formulas_known))

    raw_total = sum((i.score for i in items), ZERO)
    score = min(raw_total, plan.rules.max_score)
    if raw_total > plan.rules.max_score:
        add("score-capped", raw=as_text(raw_total), max_score=as_text(plan.rules.max_score))
    for cell, expected, what in ((form.subtotal, raw_total, "小计得分"), (form.total, score, "核定得分"),
                                 (form.subtotal_deduction, sum((i.deduction for i in items), ZERO), "小计扣分")):
        if cell is not None:
            _check_formula_cell(cell, expected, what, add, form.formulas_known)

    # 核查时间
    start, end = summary.window
    date, was_text = parse_date(form.date.value, form.date1904, summary.window[0].year)
    if date is None and not was_text:
        add("date-missing", form.date.ref, start=start, end=end)
    elif date is None:
        add("date-invalid", form.date.ref, raw=show(form.date.value), start=start, end=end)
    else:
        if was_text:
            add("date-text", form.date.ref, raw=show(form.date.value), value=date.isoformat())
        if not (start <= date <= end):
            add("date-outside-window", form.date.ref, value=date.isoformat(), start=start, end=end)
    return Scored(unit, items, raw_total, score, date, out)


def _score_test(plan: Plan, form: RawForm, add) -> tuple[Decimal, str]:
    """The knowledge test's part of its item's deduction, recomputed from the names and scores."""
    rules = plan.rules
    tested = failed = 0
    for n, row in enumerate(form.test, 1):
        name = "" if row.name.value is None else str(row.name.value).strip()
        value = row.score.value
        if value is None or (isinstance(value, str) and not value.strip()):
            if name:
                add("test-row-incomplete", row.score.ref, n=n, has="姓名", missing="成绩")
            continue
        if not name:
            add("test-row-incomplete", row.name.ref, n=n, has="成绩", missing="姓名")
        score, was_text = parse_deduction(value)
        if score is None or not (ZERO <= score <= 100):
            add("test-score-invalid", row.score.ref, n=n, raw=show(value))
            continue
        if was_text:
            add("test-score-text", row.score.ref, n=n, raw=show(value), value=as_text(score))
        tested += 1
        failed += score < rules.test_pass_mark
    if tested != rules.test_people:
        first = form.test[0].score.ref if form.test else ""
        add("test-incomplete", first, count=tested, people=rules.test_people)
    extra = failed * rules.test_step
    if form.test_deduction is not None:
        _check_formula_cell(form.test_deduction, extra, "测试扣分", add, form.formulas_known)
    return extra, (f"测试不及格{failed}人（扣{as_text(extra)}分）" if failed else "")


def _score_rectification(item: Item, raw, problems, add, formulas_known: bool) -> ItemResult:
    """The rectification item's deduction: one step per problem of last quarter not marked 已整改."""
    open_ = []
    for n, p in enumerate(problems, 1):
        raw_status = "" if p.status.value is None else str(p.status.value)
        if raw_status == RECTIFIED:  # exactly, as the form's COUNTIF counts it
            continue
        status = raw_status.strip()
        if not status:
            add("rectify-unmarked", p.status.ref, n=n, text=p.text[:40])
        elif status != NOT_RECTIFIED:
            add("rectify-invalid", p.status.ref, n=n, raw=show(p.status.value))
        open_.append(p.text)
    used = min(item.limit, len(open_) * item.step)
    _check_formula_cell(raw.deduction, used, f"第{item.seq}项扣分", add, formulas_known)
    _check_rubric(item, raw, add)
    score = max(ZERO, item.max - used)
    _check_formula_cell(raw.score, score, f"第{item.seq}项得分", add, formulas_known)
    reason = "" if raw.reason.value is None else str(raw.reason.value).strip()
    highlight = "" if raw.highlight.value is None else str(raw.highlight.value).strip()
    note = f"未整改{len(open_)}项：" + "；".join(open_) if open_ else ""
    return ItemResult(item.seq, item.max, used, score, raw.deduction.value, reason, highlight, raw.deduction.ref, note)


def _check_rubric(item: Item, raw, add) -> None:
    if not _same_number(raw.max.value, item.max):
        add("rubric-max-changed", raw.max.ref, seq=item.seq, found=show(raw.max.value, 20), expected=as_text(item.max))
    if raw.text != item.text and norm_text(raw.text) != norm_text(item.text):  # as printed: no need to normalise
        add("rubric-text-changed", raw.text_ref, seq=item.seq)


def _score_item(item: Item, raw, add, formulas_known: bool, extra: Decimal | None = None, note: str = "") -> ItemResult:
    """One item: the inspector's deduction, plus `extra` (the knowledge test's part) capped at the item's limit."""
    ded_cell: Cell = raw.deduction
    value, was_text = parse_deduction(ded_cell.value)
    used = ZERO
    if ded_cell.formula is not None and ded_cell.value is None:
        # saved by a program that stores no formula results: nothing to go on
        add("deduction-formula-empty", ded_cell.ref, seq=item.seq, formula=ded_cell.formula[:40])
    elif value is None:
        add("deduction-not-number", ded_cell.ref, seq=item.seq, raw=show(ded_cell.value), step=as_text(item.step),
            limit=as_text(item.limit))
    elif not value and not was_text and ded_cell.formula is None:
        pass  # blank or a number 0: the usual case, nothing to check
    else:
        if ded_cell.formula is not None:
            add("deduction-formula", ded_cell.ref, seq=item.seq, formula=ded_cell.formula[:40], value=show(ded_cell.value))
        if was_text:
            add("deduction-text-number", ded_cell.ref, seq=item.seq, raw=show(ded_cell.value), value=as_text(value))
        if value < 0:
            add("deduction-negative", ded_cell.ref, seq=item.seq, value=as_text(value), limit=as_text(item.limit))
        elif value > item.limit:
            add("deduction-over-limit", ded_cell.ref, seq=item.seq, value=as_text(value), limit=as_text(item.limit))
            used = item.limit  # the most the rubric allows; the error asks for a correction
        else:
            if not item.allows(value):
                add("deduction-step", ded_cell.ref, seq=item.seq, value=as_text(value), step=as_text(item.step), limit=as_text(item.limit))
            used = value
    reason = "" if raw.reason.value is None else str(raw.reason.value).strip()
    highlight = "" if raw.highlight.value is None else str(raw.highlight.value).strip()
    if used > 0 and not reason:
        add("deduction-no-reason", raw.reason.ref, seq=item.seq, value=as_text(used))

    _check_rubric(item, raw, add)
    if extra is not None:
        used = min(item.limit, used + extra)
    score = max(ZERO, item.max - used)
    _check_formula_cell(raw.score, score, f"第{item.seq}项得分", add, formulas_known)
    return ItemResult(item.seq, item.max, used, score, ded_cell.value, reason, highlight, ded_cell.ref, note)


def _check_formula_cell(cell: Cell, expected: Decimal, what: str, add, formulas_known: bool) -> None:
    if formulas_known and cell.formula is None:
        if cell.value is not None:
            add("formula-overwritten", cell.ref, what=what, found=show(cell.value, 20), expected=as_text(expected))
        return
    if cell.value is not None and not _same_number(cell.value, expected):
        add("cached-mismatch", cell.ref, what=what, found=show(cell.value, 20), expected=as_text(expected))
