"""The forms in a real client: LibreOffice (headless) converts, recalculates, is typed into and saves them.

Three soffice starts for the whole module (a batch --convert-to xlsx, one UNO session for every
fill, one --convert-to pdf), plus one short start that checks the harness notices failures.
The expected scores are computed here, independently of the library, from the plan's numbers:
score_i = max(0, max_i - deduction_i), total = min(98, sum); item 9 adds the knowledge test
(step per member below the pass mark) capped at the item's limit; with last quarter's checklist,
item 3's deduction is step x problems not marked 已整改, capped at its limit.
A missing LibreOffice is a failure (see tests/lo.py), never a skip.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/lo.py, however pytest imports this file
import lo  # noqa: E402
from xlsx_tool.forms import layout as L  # noqa: E402
from xlsx_tool.reading.workbook import Limits, open_book  # noqa: E402
from xlsx_tool.reading.form import read_form  # noqa: E402
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form, identity_values  # noqa: E402
from xlsx_tool.forms.generate import form_filename, generate  # noqa: E402
from xlsx_tool.judging.merge import COUNTED, merge  # noqa: E402
from xlsx_tool.judging.scoring import score_form  # noqa: E402

pytestmark = pytest.mark.libreoffice

FORM = "评分细则"  # written out: the tests pin the sheet names people see
IDENT = "表单信息"
ITEM_ROWS = list(range(4, 19))  # Excel rows of the 15 items
SUBTOTAL, TOTAL, SUBTOTAL_DED = "G19", "G20", "F19"
HEADERS = ("核实项目", "核查内容及评分标准", "分值", "特色亮点", "扣分情况", "扣分", "得分")
CAP = Decimal(98)
N_ITEMS = 15


def _excel_row(row0: int) -> int:
    return row0 + 1


def knowledge_rows(plan) -> tuple[list[int], str]:
    """Excel rows of the knowledge-test members, and the test deduction cell."""
    _title, _head, first, ded = L.test_rows(N_ITEMS, plan.rules.test_people)
    return [_excel_row(first + i) for i in range(plan.rules.test_people)], f"F{_excel_row(ded)}"


def rectify_first_row(plan) -> int:
    return _excel_row(L.rectify_rows(N_ITEMS, plan.rules.test_people)[2])


# --------------------------------------------------------------------------- independent arithmetic

def D(x) -> Decimal:
    return Decimal(str(x))


@dataclass
class Expected:
    items: list[Decimal]  # 得分 per item
    deductions: dict[int, Decimal]  # the deduction applied per item
    test_deduction: Decimal
    subtotal: Decimal
    total: Decimal


def expected_scores(plan, typed: dict[int, Decimal], test_scores=(), problems_open: int | None = None) -> Expected:
    """What the form must show, from what was typed (numbers), the test scores and the checklist."""
    r = plan.rules
    test_ded = D(r.test_step) * sum(1 for s in test_scores if s is not None and D(s) < D(r.test_pass_mark))
    items, deds = [], {}
    for it in plan.rubric.items:
        d = typed.get(it.seq, Decimal(0))
        if it.seq == r.test_item:
            d = min(D(it.limit), d + test_ded)
        if it.seq == r.rectification_item and problems_open is not None:
            d = min(D(it.limit), problems_open * D(it.step))
        deds[it.seq] = d
        items.append(max(Decimal(0), D(it.max) - d))
    subtotal = sum(items, Decimal(0))
    return Expected(items, deds, test_ded, subtotal, min(CAP, subtotal))


def competition_ranks(scores: dict[str, Decimal]) -> dict[str, int]:
    """1 + the number of strictly higher scores (ties share a rank: 1, 2, 2, 4)."""
    return {k: 1 + sum(1 for o in scores.values() if o > v) for k, v in scores.items()}


def num(v) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return D(v).normalize() if v == v else None


def calamine_rows(path: Path, sheet: str = FORM) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def cell(rows: list[list], ref: str):
    col, row = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
    r, c = int(row) - 1, ord(col) - ord("A")
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None


def as_decimals(rows, refs) -> list[Decimal | None]:
    return [num(cell(rows, ref)) for ref in refs]


def _fmt(d: Decimal) -> str:
    return f"{d.normalize():f}"


# --------------------------------------------------------------------------- fixture: blank forms, one soffice start

@pytest.fixture(scope="module")
def blank_run(plan, tmp_path_factory):
    """All 137 blank forms generated; a sample of them (and controls) re-saved by LibreOffice with
    forced recalculation, in one soffice call."""
    base = tmp_path_factory.mktemp("lo-blank")
    res = generate(plan, base / "forms", make_zips=False)
    assert res.forms == len(plan.units)
    all_forms = sorted((base / "forms").rglob("*.xlsx"))
    # one unit from each of the first summary units, and the unit with the longest name
    picks = {s.units[0].name for s in plan.summary_units[:4]} | {max((u.name for u in plan.units), key=len)}
    sample = [f for f in all_forms if f.name.removesuffix("-评分细则.xlsx") in picks]
    assert len(sample) == len(picks)

    # Control: a formula whose stored value is wrong (xlsxwriter's default 0); it shows the right value
    # only if LibreOffice really recalculated on load (the harness's profile is what makes it do so).
    control = base / "in" / "control-recalc.xlsx"
    control.parent.mkdir()
    wb = xlsxwriter.Workbook(str(control))
    ws = wb.add_worksheet("S")
    ws.write_number(0, 0, 21)
    ws.write_formula(0, 1, "=A1*2", None, 0)
    wb.close()
    # Pre-filled forms with the library's cached values: LibreOffice's recalculation must agree.
    unit = plan.summary_units[1].units[2]
    entries = FormEntries(dt.date(2017, 10, 23), {
        1: ItemEntry(reason="未落实", deduction=2),
        8: ItemEntry(reason="学习记录不全", deduction=0.5),
        9: ItemEntry(reason="未学习", deduction=1.5),
        12: ItemEntry(reason="换届逾期", deduction=10),
        15: ItemEntry(highlight="廉政教育有特色", deduction=0),
    }, test=[("张三", 85), ("李四", 59.5), ("王五", 60), ("赵六", 30), ("钱七", 100)])
    problems = ["党员发展台账不完整", "三会一课记录缺9月", "主题党日未按时开展"]
    rect_entries = FormEntries(dt.date(2017, 10, 24), rectified=[("已整改", ""), ("未整改", "正在补"), (None, "")])
    prefilled = base / "in" / "prefilled-control.xlsx"
    prefilled.write_bytes(build_form(plan, unit, entries))
    prefilled_rect = base / "in" / "prefilled-rectify.xlsx"
    prefilled_rect.write_bytes(build_form(plan, unit, rect_entries, problems))
    prefilled_text = base / "in" / "prefilled-text.xlsx"
    prefilled_text.write_bytes(build_form(plan, unit, FormEntries(None, {2: ItemEntry(reason="x", deduction="2分")})))

    inputs = [control, prefilled, prefilled_rect, prefilled_text, *sample]
    outputs = lo.convert(inputs, "xlsx", base / "lo-xlsx")
    return {
        "base": base, "all_forms": all_forms, "sample": sample,
        "lo": dict(zip([f.name for f in inputs], outputs)),
        "control": outputs[0],
        "prefilled": (prefilled, outputs[1], expected_scores(
            plan, {s: D(e.deduction) for s, e in entries.items.items()}, [s for _, s in entries.test])),
        "prefilled_rect": (prefilled_rect, outputs[2], expected_scores(plan, {}, [], problems_open=2)),
        "prefilled_text": (prefilled_text, outputs[3]),
    }


# --------------------------------------------------------------------------- fixture: filled in LibreOffice (UNO)

@dataclass
class Fill:
    unit: object
    date: dt.date
    typed: dict[int, str] = field(default_factory=dict)  # seq -> what was typed into F (as a person types it)
    reasons: dict[int, str] = field(default_factory=dict)
    highlights: dict[int, str] = field(default_factory=dict)
    test: list[tuple[str, str]] = field(default_factory=list)  # (name, score as typed)
    problems: list[str] | None = None  # last quarter's checklist, when the form has one
    statuses: list[str] = field(default_factory=list)  # typed per problem: 已整改 / 未整改
    outputs: dict[str, Path] = field(default_factory=dict)  # format -> file

    def typed_numbers(self) -> dict[int, Decimal]:
        """What the typed text means as a number: "2" -> 2, "0.5" -> 0.5, "2分" -> 2 (read as the merge does)."""
        out = {}
        for seq, text in self.typed.items():
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*分?\s*", text)
            assert m, text
            out[seq] = D(m.group(1))
        return out

    @property
    def text_items(self) -> set[int]:
        return {seq for seq, t in self.typed.items() if not re.fullmatch(r"\d+(\.\d+)?", t)}

    def expected(self, plan) -> Expected:
        open_ = None if self.problems is None else sum(1 for s in self.statuses if s != "已整改")
        return expected_scores(plan, self.typed_numbers(), [D(s) for _, s in self.test], open_)


def _valid_deductions(item, at_most: Decimal | None = None) -> list[Decimal]:
    step, limit = D(item.step), D(item.limit)
    top = limit if at_most is None else min(limit, at_most)
    vals = [step * k for k in range(1, int(top / step) + 1)]
    if limit <= top and limit not in vals:
        vals.append(limit)
    return vals


NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十"]
SCORES = ["95", "88", "72.5", "61", "60", "59.5", "45", "30"]


def _make_fills(plan) -> tuple[list[Fill], Fill]:
    """The fills to merge, and one more whose item 9 hits its cap (kept out of the merge)."""
    rng = random.Random(20171023)
    r = plan.rules
    s1, s2, s4 = plan.summary_units[0], plan.summary_units[1], plan.summary_units[3]
    test_item = plan.item(r.test_item)
    room = D(test_item.limit) - D(r.test_step) * r.test_people  # keep item 9 below its cap

    def random_fill(unit, date) -> Fill:
        f = Fill(unit, date)
        for it in plan.rubric.items:
            roll = rng.random()
            if roll < 0.45:
                continue  # left blank
            if roll < 0.55:
                f.typed[it.seq] = "0"
                continue
            f.typed[it.seq] = _fmt(rng.choice(_valid_deductions(it, room if it is test_item else None)))
            f.reasons[it.seq] = rng.choice(["未按要求落实", "记录不全，9月未召开支委会", "资料缺失", "未开展"])
        for seq in rng.sample([it.seq for it in plan.rubric.items], 2):
            f.highlights[seq] = "做法值得推广：“一支部一品牌”"
        f.test = list(zip(rng.sample(NAMES, r.test_people), rng.choices(SCORES, k=r.test_people)))
        return f

    fills: list[Fill] = []
    # 第一核查组: a full-marks unit, two units with identical entries (a shared rank), one with last
    # quarter's checklist (item 3 follows from the 已整改/未整改 typed below the table)
    full = Fill(s1.units[0], s1.window[0], test=list(zip(NAMES, ["85", "60", "92", "100", "77.5"])))
    twin_a = random_fill(s1.units[1], s1.window[0])
    twin_b = Fill(s1.units[2], s1.window[1], dict(twin_a.typed), dict(twin_a.reasons), {},
                  list(zip(NAMES[3:], [s for _, s in twin_a.test])))
    rect = random_fill(s1.units[3], s1.window[1])
    rect.typed.pop(r.rectification_item, None)
    rect.reasons.pop(r.rectification_item, None)
    rect.problems = ["党员发展台账不完整", "三会一课记录缺9月", "主题党日未按时开展", "党费收缴不规范"]
    rect.statuses = ["已整改", "未整改", "已整改", "未整改"]
    fills += [full, twin_a, twin_b, rect]
    # 第二核查组: random ones, one with half points, one with a text deduction "2分"
    fills.append(random_fill(s2.units[0], s2.window[0]))
    halves = Fill(s2.units[1], s2.window[0], test=list(zip(NAMES, ["59.5", "0", "60", "61", "99"])))
    for it in plan.rubric.items:
        if D(it.step) == Decimal("0.5"):
            halves.typed[it.seq], halves.reasons[it.seq] = "1.5", "半分扣分"
    halves.typed[3], halves.reasons[3] = "10", "全部未整改"
    fills.append(halves)
    text_fill = random_fill(s2.units[3], s2.window[1])
    text_fill.typed[2], text_fill.reasons[2] = "2分", "支部未发挥作用"
    fills.append(text_fill)
    fills.append(random_fill(s4.units[0], s4.window[1]))
    # item 9: 9.5 for the study sessions and two members below the pass mark: capped at 10
    capped = Fill(s2.units[4], s2.window[0], {r.test_item: "9.5"}, {r.test_item: "学习制度未落实"},
                  test=list(zip(NAMES, ["59", "40", "60", "80", "90"])))
    return fills, capped


@pytest.fixture(scope="module")
def uno_run(plan, tmp_path_factory):
    """Every fill typed in ONE LibreOffice session and stored as .xlsx, .xls and .ods."""
    base = tmp_path_factory.mktemp("lo-uno")
    fills, capped = _make_fills(plan)
    test_rows, _ = knowledge_rows(plan)
    jobs = []
    for i, f in enumerate([*fills, capped]):
        src = base / "blank" / f"form{i:02d}.xlsx"
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(build_form(plan, f.unit, None, f.problems))
        f.outputs = {fmt: base / fmt / f"filled{i:02d}.{fmt}" for fmt in ("xlsx", "xls", "ods")}

        def put(ref, value, kind):
            cells.append({"sheet": FORM, "cell": ref, "value": value, "kind": kind})

        cells: list[dict] = []
        put("F2", f.date.isoformat(), "date")
        for seq, text in f.typed.items():
            put(f"F{3 + seq}", text, "typed")
        for seq, text in f.reasons.items():
            put(f"E{3 + seq}", text, "text")
        for seq, text in f.highlights.items():
            put(f"D{3 + seq}", text, "text")
        for row, (name, score) in zip(test_rows, f.test):
            put(f"B{row}", name, "text")
            put(f"C{row}", score, "typed")
        for k, status in enumerate(f.statuses):
            put(f"D{rectify_first_row(plan) + k}", status, "text")
        jobs.append({"input": src, "cells": cells,
                     "outputs": [{"path": p, "format": fmt} for fmt, p in f.outputs.items()],
                     "read_back": [f"{FORM}!G{r}" for r in ITEM_ROWS] + [f"{FORM}!{SUBTOTAL}", f"{FORM}!{TOTAL}"]})
    # a deduction cell whose formula gives an error (#DIV/0!), with a reason, in every format
    err_unit = plan.summary_units[1].units[5]
    err_src = base / "blank" / "error-cell.xlsx"
    err_src.write_bytes(build_form(plan, err_unit))
    err_out = {fmt: base / fmt / f"error-cell.{fmt}" for fmt in ("xlsx", "xls", "ods")}
    jobs.append({"input": err_src, "outputs": [{"path": p, "format": fmt} for fmt, p in err_out.items()],
                 "cells": [{"sheet": FORM, "cell": "F2", "value": "2017-10-23", "kind": "date"},
                           {"sheet": FORM, "cell": "F4", "value": "=1/0", "kind": "typed"},
                           {"sheet": FORM, "cell": "E4", "value": "未履职", "kind": "text"}]})
    report = lo.fill_with_uno(jobs, workdir=base / "work")
    assert len(report) == len(jobs)
    return {"base": base, "fills": fills, "capped": capped, "report": report[:len(fills)],
            "error_cell": (err_unit, err_out, report[-1])}


# --------------------------------------------------------------------------- the harness itself

def _processes_mentioning(text: str) -> list[str]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmd:
                out.append(f"{d.name}: {cmd[:200]}")
    return out


def test_harness_reports_failures_and_cleans_up(tmp_path):
    """soffice exits 0 when a file cannot be loaded: the harness must notice; a failed UNO session must
    not leave soffice running."""
    good = tmp_path / "good.xlsx"
    wb = xlsxwriter.Workbook(str(good))
    wb.add_worksheet("S").write_number(0, 0, 1)
    wb.close()
    with pytest.raises(lo.LibreOfficeError, match="missing outputs.*gone"):
        lo.convert([good, tmp_path / "gone.xlsx"], "xlsx", tmp_path / "out")
    work = tmp_path / "uno-fail"
    with pytest.raises(lo.LibreOfficeError, match="UNO fill failed"):
        lo.fill_with_uno([{"input": tmp_path / "gone.xlsx", "output": tmp_path / "o.xlsx", "format": "xlsx",
                           "cells": []}], workdir=work)
    assert _processes_mentioning(str(work)) == []


def test_harness_forces_recalculation(blank_run):
    """The control's stored 0 became 42: LibreOffice recalculated on load, so the checks below mean something."""
    rows = calamine_rows(blank_run["control"], "S")
    assert [float(x) for x in rows[0][:2]] == [21.0, 42.0]


# --------------------------------------------------------------------------- blank forms

def test_blank_forms_cached_values_as_written(plan, blank_run):
    """Every generated form, as written: 得分 = 分值, 小计 = 核定得分 = 98 (cached values)."""
    maxima = [D(it.max) for it in plan.rubric.items]
    assert sum(maxima) == CAP
    _, test_ded = knowledge_rows(plan)
    for path in blank_run["all_forms"]:
        rows = calamine_rows(path)
        assert as_decimals(rows, [f"C{r}" for r in ITEM_ROWS]) == maxima, path.name
        assert as_decimals(rows, [f"G{r}" for r in ITEM_ROWS]) == maxima, path.name
        assert as_decimals(rows, ["C19", SUBTOTAL, TOTAL]) == [CAP, CAP, CAP], path.name
        assert as_decimals(rows, [SUBTOTAL_DED, test_ded]) == [0, 0], path.name
    # openpyxl's data_only view of the same cached values (a second, independent reader)
    for path in blank_run["sample"][:2]:
        ws = openpyxl.load_workbook(path, data_only=True)[FORM]
        assert [D(ws[f"G{r}"].value) for r in ITEM_ROWS] == maxima
        assert D(ws[SUBTOTAL].value) == D(ws[TOTAL].value) == CAP


def test_blank_forms_after_libreoffice_recalculation(plan, blank_run):
    maxima = [D(it.max) for it in plan.rubric.items]
    _, test_ded = knowledge_rows(plan)
    for src in blank_run["sample"]:
        out = blank_run["lo"][src.name]
        rows = calamine_rows(out)
        assert as_decimals(rows, [f"G{r}" for r in ITEM_ROWS]) == maxima, src.name
        assert as_decimals(rows, [SUBTOTAL, TOTAL, SUBTOTAL_DED, test_ded]) == [CAP, CAP, 0, 0], src.name
        unit = src.name.removesuffix("-评分细则.xlsx")
        assert cell(rows, "B2") == unit
        # and the library reads LibreOffice's file as the same blank form: 98; only "not filled in" warnings
        form = read_form(open_book(out.read_bytes(), ".xlsx", Limits()))
        scored = score_form(form, plan, plan.unit(unit), out.name)
        assert scored.score == CAP
        assert sorted(f.code for f in scored.findings) == ["date-missing", "test-incomplete"]


def _assert_sheet_shows(rows, exp: Expected, test_ded_ref: str, what: str) -> None:
    refs = [f"G{r}" for r in ITEM_ROWS] + [SUBTOTAL, TOTAL, SUBTOTAL_DED, test_ded_ref]
    want = exp.items + [exp.subtotal, exp.total, sum(exp.deductions.values(), Decimal(0)), exp.test_deduction]
    assert dict(zip(refs, as_decimals(rows, refs))) == dict(zip(refs, want)), what


def test_prefilled_cached_values_agree_with_libreoffice(plan, blank_run):
    """build_form's cached values for pre-filled forms equal what LibreOffice computes, and both equal ours."""
    _, test_ded = knowledge_rows(plan)
    for key in ("prefilled", "prefilled_rect"):
        src, out, exp = blank_run[key]
        _assert_sheet_shows(calamine_rows(src), exp, test_ded, f"{key} as written")
        _assert_sheet_shows(calamine_rows(out), exp, test_ded, f"{key} recalculated by LibreOffice")
    # the checklist: item 3's 扣分 is a formula, 2 of 3 problems not marked 已整改
    rows = calamine_rows(blank_run["prefilled_rect"][1])
    assert num(cell(rows, f"F{3 + plan.rules.rectification_item}")) == blank_run["prefilled_rect"][2].deductions[
        plan.rules.rectification_item]
    # a text deduction: the spreadsheet cannot subtract it, in both; the 扣分 cell stays text
    src_t, out_t = blank_run["prefilled_text"]
    for path in (src_t, out_t):
        rows = calamine_rows(path)
        assert cell(rows, "F5") == "2分"
        assert num(cell(rows, "G5")) is None and num(cell(rows, SUBTOTAL)) is None and num(cell(rows, TOTAL)) is None
        assert num(cell(rows, "G4")) == D(plan.rubric.items[0].max)


# --------------------------------------------------------------------------- what LibreOffice keeps

def _check_kept(plan, unit, path: Path, original: bytes, problems: list[str] | None = None) -> None:
    before = openpyxl.load_workbook(io.BytesIO(original))
    after = openpyxl.load_workbook(path)
    assert after.sheetnames[:3] == [FORM, "填表说明", IDENT]
    ws, ws0 = after[FORM], before[FORM]

    def dvs(sheet):
        out = {}
        for dv in sheet.data_validations.dataValidation:
            for rng in str(dv.sqref).split():
                out[rng] = dv
        return out

    got, want = dvs(ws), dvs(ws0)
    # with last quarter's checklist, item 3's 扣分 is a formula, not an input
    ded_inputs = [f"F{3 + it.seq}" for it in plan.rubric.items
                  if not (problems and it.seq == plan.rules.rectification_item)]
    assert {"F2", *ded_inputs} <= set(want)
    assert set(got) == set(want), (sorted(got), sorted(want))
    for ref, w in want.items():
        g = got[ref]
        assert g.type == w.type, ref
        assert (g.promptTitle, g.prompt, g.errorTitle, g.error) == (w.promptTitle, w.prompt, w.errorTitle, w.error), ref
        assert g.showErrorMessage and g.showInputMessage, ref
        assert re.search(r"[\u4e00-\u9fff]", g.prompt) and re.search(r"[\u4e00-\u9fff]", g.error), ref
        assert (g.formula1 or "").replace(" ", "").upper() == (w.formula1 or "").replace(" ", "").upper(), ref
    assert got["F2"].type == "date" and "核查时间" in got["F2"].promptTitle
    assert got["F4"].type == "custom" and got["F4"].promptTitle.startswith("第1项扣分")

    assert ws.protection.sheet, "评分细则 is no longer protected"
    assert after["填表说明"].protection.sheet
    test_rows, test_ded = knowledge_rows(plan)
    inputs = ["F2", *ded_inputs] + [f"{c}{r}" for r in ITEM_ROWS for c in "DE"] + [
        f"{c}{r}" for r in test_rows for c in "BC"]
    if problems:
        first = rectify_first_row(plan)
        inputs += [f"{c}{first + k}" for k in range(len(problems)) for c in "DE"]
        assert ws[f"F{3 + plan.rules.rectification_item}"].protection.locked is not False
    for ref in inputs:
        assert ws[ref].protection.locked is False, f"{ref} became locked"
    for ref in ["A1", "B2", "C4", "G4", "G18", SUBTOTAL, TOTAL, SUBTOTAL_DED, "B10", test_ded, f"D{test_rows[0]}"]:
        assert ws[ref].protection.locked is not False, f"{ref} became unlocked"
    assert {str(r) for r in ws.merged_cells.ranges} == {str(r) for r in ws0.merged_cells.ranges}

    ident = after[IDENT]
    assert ident.sheet_state == "hidden"
    assert ident["A1"].value == L.IDENTITY_MARK
    values = identity_values(plan, unit)
    for i, (key, label) in enumerate(L.IDENTITY_KEYS, 2):
        assert ident[f"A{i}"].value == label
        assert str(ident[f"B{i}"].value) == values[key], key


def test_validation_protection_identity_survive_xlsx_resave(plan, blank_run):
    for src in blank_run["sample"][:3]:
        unit = plan.unit(src.name.removesuffix("-评分细则.xlsx"))
        _check_kept(plan, unit, blank_run["lo"][src.name], src.read_bytes())


def test_validation_protection_identity_survive_uno_fill(plan, uno_run):
    """The same after a person typed into the form in LibreOffice and saved it as .xlsx."""
    for f in uno_run["fills"][:4]:
        _check_kept(plan, f.unit, f.outputs["xlsx"], build_form(plan, f.unit, None, f.problems), f.problems)


# --------------------------------------------------------------------------- filled in LibreOffice

def test_typed_values_land_as_a_person_would_type_them(uno_run):
    """"2" became a number, "2分" stayed text, the date is a date serial, texts are texts."""
    for f, rep in zip(uno_run["fills"], uno_run["report"]):
        cells = rep["cells"]
        assert cells[f"{FORM}!F2"][0] == "VALUE"
        assert (dt.date(1899, 12, 30) + dt.timedelta(days=cells[f"{FORM}!F2"][1])) == f.date
        for seq, text in f.typed.items():
            kind, value, shown = cells[f"{FORM}!F{3 + seq}"][:3]
            if seq in f.text_items:
                assert (kind, shown) == ("TEXT", text)
            else:
                assert kind == "VALUE" and D(value) == D(text), (seq, text, cells[f"{FORM}!F{3 + seq}"])
        for seq, text in f.reasons.items():
            assert cells[f"{FORM}!E{3 + seq}"][:3:2] == ["TEXT", text]


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_recalculated_scores_read_back(plan, uno_run, fmt):
    test_rows, test_ded = knowledge_rows(plan)
    for f in uno_run["fills"]:
        rows = calamine_rows(f.outputs[fmt])
        exp = f.expected(plan)
        got = as_decimals(rows, [f"G{r}" for r in ITEM_ROWS])
        for it, g, e in zip(plan.rubric.items, got, exp.items):
            if it.seq in f.text_items:
                assert g is None, f"{f.unit.name} item {it.seq}: MAX(0,C-\"2分\") is an error in a spreadsheet"
            else:
                assert g == e, (fmt, f.unit.name, it.seq)
        assert num(cell(rows, test_ded)) == exp.test_deduction, (fmt, f.unit.name)
        if f.text_items:
            assert num(cell(rows, SUBTOTAL)) is None and num(cell(rows, TOTAL)) is None
        else:
            assert as_decimals(rows, [SUBTOTAL, TOTAL, SUBTOTAL_DED]) == [
                exp.subtotal, exp.total, sum(exp.deductions.values(), Decimal(0))], (fmt, f.unit.name)
        # the inputs as typed
        for seq, text in f.typed.items():
            v = cell(rows, f"F{3 + seq}")
            assert (v == text) if seq in f.text_items else (num(v) == D(text)), (fmt, seq, v)
        for seq, text in f.reasons.items():
            assert cell(rows, f"E{3 + seq}") == text
        for seq, text in f.highlights.items():
            assert cell(rows, f"D{3 + seq}") == text
        for row, (name, score) in zip(test_rows, f.test):
            assert cell(rows, f"B{row}") == name and num(cell(rows, f"C{row}")) == D(score)
            assert cell(rows, f"D{row}") == ("及格" if D(score) >= D(plan.rules.test_pass_mark) else "不及格")
        d = cell(rows, "F2")
        assert (d.date() if isinstance(d, dt.datetime) else d) == f.date, (fmt, d)
        assert cell(rows, "B2") == f.unit.name
        # the hidden identity sheet came through every format
        wb = CalamineWorkbook.from_path(str(f.outputs[fmt]))
        meta = {m.name: str(m.visible) for m in wb.sheets_metadata}
        assert meta[IDENT].endswith("Hidden"), (fmt, meta)
        ident = {r[0]: r[1] for r in wb.get_sheet_by_name(IDENT).to_python()[1:]}
        assert ident["被核查单位"] == f.unit.name and ident["汇总单位"] == f.unit.summary


def test_merge_libreoffice_returns(plan, uno_run, tmp_path):
    """Renamed LibreOffice-saved returns (.xlsx/.xls/.ods mixed) merge to the independently computed scores."""
    collected = tmp_path / "收回"
    fills = uno_run["fills"]
    names = {}
    for i, f in enumerate(fills):
        fmt = ("xlsx", "xls", "ods")[i % 3]
        # names people give: none of them is the generated file name, some do not even name the unit
        name = [f"{f.unit.name}评分表(1).{fmt}", f"回复：评分细则({i}).{fmt}", f"新建文件夹/扫描件{i}.{fmt}"][i % 3]
        dest = collected / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f.outputs[fmt], dest)
        names[f.unit.name] = name
    assert not any(form_filename(f.unit) in n for n, f in zip(names.values(), fills))

    result = merge(plan, collected, today=dt.date(2017, 11, 1), workers=1)

    by_name = {r.name: r for r in result.files}
    assert set(by_name) == set(names.values())
    for f in fills:
        rec = by_name[names[f.unit.name]]
        assert rec.status == COUNTED, (rec.name, rec.status, rec.reason)
        assert (rec.unit, rec.summary) == (f.unit.name, f.unit.summary)
        codes = [x.code for x in rec.findings]
        assert not [c for c in codes if c.startswith("identity-")], codes
        # .xls and .ods keep no formulas: the merge says it could not check them, nothing more
        assert ("file-formulas-unknown" in codes) == rec.name.endswith(".xls"), codes
        codes = [c for c in codes if c != "file-formulas-unknown"]
        if f.text_items:
            # "2分" is read as 2 (a note), and the sheet's own 得分 could not be computed (#VALUE!)
            assert "deduction-text-number" in codes
            assert set(codes) <= {"deduction-text-number", "cached-mismatch"}, codes
        else:
            # LibreOffice's recalculated values agree with the reader's recomputation: nothing to report
            assert codes == [], (rec.name, [x.message for x in rec.findings])

    assert not [x for x in result.findings if x.code == "identity-missing"]
    assert result.count("错误") == 0, [x.message for x in result.findings if x.severity == "错误"]

    expected = {f.unit.name: f.expected(plan).total for f in fills}
    assert {r.unit.name: r.scored.score for r in result.ranking} == expected
    assert {r.unit.name: r.rank_all for r in result.ranking} == competition_ranks(expected)
    for s in result.summaries:
        mine = {f.unit.name: expected[f.unit.name] for f in fills if f.unit.summary == s.summary.name}
        assert {r.unit.name: r.scored.score for r in s.rows} == mine
        assert {r.unit.name: r.rank for r in s.rows} == competition_ranks(mine)
        assert {r.unit.name: r.file for r in s.rows} == {u: names[u] for u in mine}
    # item by item, too
    for row in result.ranking:
        f = next(x for x in fills if x.unit.name == row.unit.name)
        exp = f.expected(plan)
        assert [i.score for i in row.scored.items] == exp.items, f.unit.name
        assert {i.seq: i.deduction for i in row.scored.items} == exp.deductions, f.unit.name
    # the twins share a rank; the untouched form has full marks
    ranks = {r.unit.name: r.rank for r in result.summaries[0].rows}
    assert ranks[fills[1].unit.name] == ranks[fills[2].unit.name]
    assert expected[fills[0].unit.name] == CAP and ranks[fills[0].unit.name] == 1


def test_item9_cap_keeps_the_form_consistent(plan, uno_run):
    """Item 9: 9.5 typed for the study sessions plus 1.0 from two failed tests is capped at the item's 10.
    The form's 小计扣分 (F19) must then be the deduction actually applied (98 - 小计得分), and the reader
    must have nothing to report about a correctly filled form."""
    f = uno_run["capped"]
    exp = f.expected(plan)
    seq = plan.rules.test_item
    assert exp.deductions[seq] == D(plan.item(seq).limit) and exp.items[seq - 1] == 0
    for fmt, path in f.outputs.items():
        rows = calamine_rows(path)
        assert as_decimals(rows, [f"G{3 + seq}", SUBTOTAL, TOTAL]) == [0, exp.subtotal, exp.total], fmt
        form = read_form(open_book(path.read_bytes(), f".{fmt}", Limits()))
        scored = score_form(form, plan, f.unit, path.name)
        assert scored.score == exp.total, fmt
        assert as_decimals(rows, [SUBTOTAL_DED]) == [sum(exp.deductions.values(), Decimal(0))], (
            fmt, "小计扣分 should be the applied deduction", cell(rows, SUBTOTAL_DED))
        assert [x.code for x in scored.findings] == [], (fmt, [x.message for x in scored.findings])


def test_error_in_a_deduction_cell_is_reported_in_every_format(plan, uno_run):
    """A 扣分 cell holding an error value (here =1/0 -> #DIV/0!) is not a number: whatever the format,
    the reader must say so (as it does for .xlsx), not read it as an empty cell (no deduction)."""
    unit, outputs, rep = uno_run["error_cell"]
    assert rep["cells"][f"{FORM}!F4"][2] == "#DIV/0!"
    found = {}
    for fmt, path in outputs.items():
        form = read_form(open_book(path.read_bytes(), f".{fmt}", Limits()))
        scored = score_form(form, plan, unit, path.name)
        found[fmt] = sorted(x.code for x in scored.findings if x.cell == "F4")
    assert found == {fmt: ["deduction-not-number"] for fmt in outputs}, found


# --------------------------------------------------------------------------- printing

def test_pdf_export_a4_landscape_with_unit_and_headers(plan, blank_run):
    pdftotext, pdfinfo = shutil.which("pdftotext"), shutil.which("pdfinfo")
    if not (pdftotext and pdfinfo):
        pytest.fail("pdftotext/pdfinfo not found: `apt-get install poppler-utils` (or run `bash .ci/run`)",
                    pytrace=False)
    src = max(blank_run["sample"], key=lambda p: len(p.name))  # the longest unit name
    unit = src.name.removesuffix("-评分细则.xlsx")
    pdf, = lo.convert([src], "pdf", blank_run["base"] / "pdf")
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"Page size:\s*([\d.]+) x ([\d.]+) pts", info)
    assert m, info
    w, h = float(m.group(1)), float(m.group(2))
    assert (round(w), round(h)) == (842, 595), f"not A4 landscape: {w} x {h} pt"

    def text(*pages):
        out = subprocess.run([pdftotext, *pages, str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
        return re.sub(r"\s+", "", out)

    first = text("-f", "1", "-l", "1")
    assert unit in first, first[:300]
    for head in HEADERS:
        assert head in first, (head, first[:400])
    whole = text()
    assert "评分细则" in whole and "核定得分" in whole and "党的基本知识测试" in whole
