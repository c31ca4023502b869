"""Issue 6, the whole inspection cycle, through the command line (click's CliRunner).

Quarter 1: `generate`, fill some units (openpyxl typing into the generated blank forms, and
`build_form` entries), `merge --date`.  Quarter 2: `generate --previous <Q1>/评分汇总表.xlsx`,
every form lists exactly its unit's Q1 deductions as a checklist under item 3; fill (openpyxl, and
three forms typed in ONE LibreOffice session) with some problems 已整改, some 未整改, some left
blank, knowledge-test scores (some below 60) and item 9 study deductions; `merge` again.

Every expected number is computed here, independently of the library, from the source document's
rubric (附件2: the maxima below) and the issue's rules:
    item 3 = min(10, 1 x lines not marked 已整改)        (with a checklist; else what was typed)
    item 9 = min(10, typed + 0.5 x members scoring < 60)
    item score = max(0, max - deduction), total = min(98, sum)
Plus: every finding code of the test table and the checklist; `status` on a folder with missing,
faulty and unusable returns (it writes nothing); the correction lists (退回修改清单) shrinking as
corrected returns arrive.  Nothing is mocked; LibreOffice missing is a failure, never a skip.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/lo.py and tests/returns.py
import lo  # noqa: E402
from returns import PASSING_EXAM, delete_item_row, fill_with_openpyxl, retype_form, set_mtime  # noqa: E402

from xlsx_tool.reading.workbook import Limits, open_book  # noqa: E402
from xlsx_tool.interfaces.cli import cli  # noqa: E402
from xlsx_tool.reading.form import read_form  # noqa: E402
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form  # noqa: E402
from xlsx_tool.judging.scoring import score_form  # noqa: E402

# --------------------------------------------------------------------------- the source document's numbers

FORM = "评分细则"
# 附件2: each item's 分值, its step (每档) and the most it may lose
MAXIMA = {1: 5, 2: 5, 3: 10, 4: 5, 5: 8, 6: 5, 7: 5, 8: 6, 9: 10, 10: 8, 11: 6, 12: 10, 13: 3, 14: 5, 15: 7}
STEPS = {1: 2, 2: 2, 3: 1, 4: 2, 5: 1, 6: 2, 7: 1, 8: 0.5, 9: 0.5, 10: 2, 11: 1, 12: 2, 13: 1, 14: 1, 15: 2}
CAP = Decimal(98)
LIMIT3 = LIMIT9 = Decimal(10)  # item 3: 每缺一项扣1分 (10 分); item 9: 10 分
PER_OPEN_PROBLEM = Decimal(1)
PER_FAILURE = Decimal("0.5")
PASS_MARK = Decimal(60)
RECTIFIED, NOT_RECTIFIED = "已整改", "未整改"
STRAY = " 已整改"  # pasted with a leading space: not one of the two words the list offers

# The form's cells (Excel names), pinned: 15 items in rows 4..18, 小计 19, 核定得分 20; the test's five
# members in rows 24..28 (name B, score C), its deduction F29; the checklist from row 33 (text B, status D).
DATE = "F2"
SUBTOTAL_DED, SUBTOTAL, TOTAL = "F19", "G19", "G20"
TEST_FIRST, TEST_DED = 24, "F29"
RECT_TITLE_ROW, RECT_FIRST = 31, 33


def ded_cell(seq: int) -> str:
    return f"F{3 + seq}"


def reason_cell(seq: int) -> str:
    return f"E{3 + seq}"


def D(x) -> Decimal:
    return Decimal(str(x))


def fmt(d: Decimal) -> str:
    return f"{D(d).normalize():f}"


def d17(month: int, day: int) -> dt.date:
    return dt.date(2017, month, day)


@dataclass
class Fill:
    """What an inspector typed into one unit's form."""

    unit: str
    how: str  # "openpyxl" (typed into the generated form), "entries" (build_form), "uno" (LibreOffice)
    date: dt.date
    items: dict[int, tuple[object, str]] = field(default_factory=dict)  # seq -> (deduction, reason)
    test: list[tuple[str, object]] = field(default_factory=lambda: list(PASSING_EXAM))
    statuses: list[str | None] | None = None  # per checklist line (None: left blank); None: no checklist
    over: dict[str, object] = field(default_factory=dict)  # numbers typed over formula cells

    def typed(self, seq: int) -> Decimal:
        return D(self.items.get(seq, (0, ""))[0])

    @property
    def failures(self) -> int:
        return sum(1 for _n, s in self.test if isinstance(s, (int, float)) and D(s) < PASS_MARK)


def expected_deductions(f: Fill) -> dict[int, Decimal]:
    out = {seq: f.typed(seq) for seq in MAXIMA}
    out[9] = min(LIMIT9, out[9] + PER_FAILURE * f.failures)
    if f.statuses is not None:
        open_ = sum(1 for s in f.statuses if s != RECTIFIED)
        out[3] = min(LIMIT3, PER_OPEN_PROBLEM * open_)
    return out


def expected_scores(f: Fill) -> tuple[dict[int, Decimal], Decimal]:
    ded = expected_deductions(f)
    items = {seq: max(Decimal(0), D(MAXIMA[seq]) - ded[seq]) for seq in MAXIMA}
    return items, min(CAP, sum(items.values(), Decimal(0)))


def q1_problems(f: Fill) -> list[str]:
    """The lines the next quarter's form must list: '第N项扣X分：reason', in item order."""
    out = []
    ded = expected_deductions(f)
    for seq in sorted(MAXIMA):
        if ded[seq] <= 0:
            continue
        parts = [f.items[seq][1]] if seq in f.items and f.items[seq][1] else []
        if seq == 9 and f.failures:
            parts.append(f"测试不及格{f.failures}人（扣{fmt(PER_FAILURE * f.failures)}分）")
        out.append(f"第{seq}项扣{fmt(ded[seq])}分：{'；'.join(parts) or '（未写原因）'}")
    return out


# --------------------------------------------------------------------------- the two quarters' inputs

DZJ = "州委政策研究室"  # first unit of 州委办直属机关党委 (inspected 10-25..10-31)
ONE_FAIL = [("张华", 88), ("李明", 45), ("王芳", 72), ("赵强", 60), ("刘洋", 91)]
TWO_FAIL = [("陈一", 50), ("陈二", 58), ("陈三", 60), ("陈四", 77), ("陈五", 99)]

Q1 = [
    Fill("州纪委监察局", "openpyxl", d17(10, 23),
         {3: (2, "二季度反馈的2个问题未整改"), 5: (1, "9月未召开支委会"), 12: (2, "党员信息未及时更新")}),
    Fill("州委组织部", "openpyxl", d17(10, 24), {7: (1, ""), 9: (1, "未按时开展集中学习")}, ONE_FAIL),
    Fill("州委宣传部", "entries", d17(10, 23), {seq: (STEPS[seq], f"问题{seq}：未按要求落实") for seq in MAXIMA}),
    Fill("州委统战部", "entries", d17(10, 24)),  # full marks: no problems next quarter
    Fill("州委政法委", "openpyxl", d17(10, 23), {15: (2, "=未开展廉政教育")}, TWO_FAIL),
    Fill("州委办", "entries", d17(10, 23), {4: (2, "主题党日计划不全"), 10: (4, "结对帮扶不到位")}),
    Fill("州教育和体育局", "openpyxl", d17(10, 24), {6: (2, "未召开专题组织生活会")}),
    Fill(DZJ, "entries", d17(10, 26), {1: (2, "牵头职责不清"), 3: (1, "整改台账不全")}),
]
Q1_BY_UNIT = {f.unit: f for f in Q1}

Q2 = [
    # openpyxl: some rectified, one not, one left blank; two test failures (59.5 fails, 60 passes)
    Fill("州纪委监察局", "openpyxl", d17(10, 23), {5: (1, "10月未召开支委会"), 9: (2, "学习记录不全")},
         [("甲", 80), ("乙", 59.5), ("丙", 60), ("丁", 30), ("戊", 100)],
         statuses=[RECTIFIED, NOT_RECTIFIED, None]),
    # 15 lines, 12 not rectified (10 未整改, 1 blank, 1 neither word): item 3 capped at 10;
    # study 9 + 3 failures x 0.5 = 10.5: item 9 capped at 10
    Fill("州委宣传部", "openpyxl", d17(10, 24), {9: (9, "全年未开展集中学习")},
         [("孙一", 20), ("孙二", 40), ("孙三", 59), ("孙四", 60), ("孙五", 95)],
         statuses=[RECTIFIED] * 3 + [NOT_RECTIFIED] * 10 + [None, "部分整改"]),
    # all rectified, but someone typed 3 over item 3's formula: the checklist decides (0)
    Fill("州委政法委", "openpyxl", d17(10, 23), statuses=[RECTIFIED, RECTIFIED], over={"F6": 3}),
    # no deductions last quarter: no checklist, item 3 typed as usual; study 10 + a failure: capped;
    # the test's deduction cell overwritten with 0: the tool recomputes 0.5
    Fill("州人社局", "openpyxl", d17(10, 24), {3: (2, "整改不到位"), 9: (10, "未开展学习")}, ONE_FAIL,
         over={TEST_DED: 0}),
    Fill("州委统战部", "openpyxl", d17(10, 24)),
    # LibreOffice: study 8.5 + 4 failures = 10.5, capped
    Fill("州委组织部", "uno", d17(10, 23), {9: (8.5, "学习制度未落实")},
         [("周一", 10), ("周二", 20), ("周三", 30), ("周四", 40), ("周五", 90)], statuses=[RECTIFIED, NOT_RECTIFIED]),
    Fill("州教育和体育局", "uno", d17(10, 24), {9: (0.5, "学习笔记不全")}, statuses=[NOT_RECTIFIED]),
    Fill(DZJ, "uno", d17(10, 27), {}, [("吴一", 59), ("吴二", 61), ("吴三", 70), ("吴四", 80), ("吴五", 90)],
         statuses=[RECTIFIED, RECTIFIED]),
]


def checklist_for(f: Fill) -> list[str]:
    """Q2's checklist for a unit: its Q1 problems (none if it did not return a form)."""
    return q1_problems(Q1_BY_UNIT[f.unit]) if f.unit in Q1_BY_UNIT else []


# --------------------------------------------------------------------------- helpers

def run(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def form_path(folder: Path, unit: str) -> Path:
    found = list(Path(folder).glob(f"*/{unit}-评分细则.xlsx"))
    assert len(found) == 1, (unit, found)
    return found[0]


def openpyxl_values(f: Fill) -> dict[str, object]:
    values: dict[str, object] = {DATE: f.date}
    for seq, (ded, reason) in f.items.items():
        values[ded_cell(seq)] = ded
        if reason:
            values[reason_cell(seq)] = reason
    for i, (name, score) in enumerate(f.test):
        values[f"B{TEST_FIRST + i}"], values[f"C{TEST_FIRST + i}"] = name, score
    for i, status in enumerate(f.statuses or []):
        if status is not None:
            values[f"D{RECT_FIRST + i}"] = status
    values.update(f.over)
    return values


def entries_of(f: Fill) -> FormEntries:
    return FormEntries(date=f.date, test=list(f.test),
                       items={seq: ItemEntry(reason=r, deduction=d) for seq, (d, r) in f.items.items()})


def summary_rows(path: Path, sheet: str, header_row: int = 3) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [r for r in ws.iter_rows(min_row=header_row + 1, values_only=True) if any(v is not None for v in r)]


def ranking_of(path: Path) -> dict[str, Decimal]:
    return {r[1]: D(r[3]) for r in summary_rows(path, "全部单位排名") if r[0] is not None}


def has_cjk(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text or ""))


# --------------------------------------------------------------------------- quarter 1

@pytest.fixture(scope="module")
def q1(plan, tmp_path_factory):
    base = tmp_path_factory.mktemp("q1")
    res = run("generate", "--out", base / "blank")
    assert res.exit_code == 0, res.output
    collected = base / "collected"
    for f in Q1:
        target = collected / form_path(base / "blank", f.unit).relative_to(base / "blank")
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.how == "openpyxl":
            fill_with_openpyxl(form_path(base / "blank", f.unit), openpyxl_values(f), out=target)
        else:
            target.write_bytes(build_form(plan, plan.unit(f.unit), entries_of(f)))
    merged = run("merge", collected, "--out", base / "output", "--date", "2017-11-06")
    return {"base": base, "merge": merged, "summary": base / "output" / "评分汇总表.xlsx"}


def test_q1_merge_and_its_deduction_details(q1):
    res = q1["merge"]
    assert res.exit_code == 0, res.output
    assert f"收到评分表 {len(Q1)}/137 份" in res.output and "错误 0 条" in res.output
    assert ranking_of(q1["summary"]) == {f.unit: expected_scores(f)[1] for f in Q1}
    # 扣分明细: one row per deduction, what next quarter's checklist is made of
    rows = summary_rows(q1["summary"], "扣分明细")
    got: dict[str, list[str]] = {}
    for unit, _summary, seq, ded, reason in rows:
        got.setdefault(unit, []).append(f"第{int(seq)}项扣{fmt(D(ded))}分：{reason}")
    assert got == {f.unit: q1_problems(f) for f in Q1 if q1_problems(f)}


# --------------------------------------------------------------------------- quarter 2: the forms

@pytest.fixture(scope="module")
def q2_blank(q1):
    out = q1["base"].parent / (q1["base"].name + "-q2") / "blank"
    res = run("generate", "--previous", q1["summary"], "--out", out)
    return {"generate": res, "blank": out}


def test_q2_generate_reports_last_quarters_problems(q2_blank):
    res = q2_blank["generate"]
    assert res.exit_code == 0, res.output
    with_problems = [f for f in Q1 if q1_problems(f)]
    lines = sum(len(q1_problems(f)) for f in with_problems)
    assert f"{len(with_problems)} 个单位有上季度问题，共 {lines} 条" in res.output
    assert "已生成 137 份评分细则表" in res.output


def test_q2_only_units_with_q1_deductions_get_a_checklist(plan, q2_blank):
    """All 137 forms (and the zips that are emailed): a checklist exactly where Q1 found problems."""
    blank = q2_blank["blank"]
    want = {f.unit for f in Q1 if q1_problems(f)}
    have = set()
    for path in blank.glob("*/*.xlsx"):
        with zipfile.ZipFile(path) as z:
            strings = z.read("xl/sharedStrings.xml").decode("utf-8")
        if "上季度问题整改情况" in strings:
            have.add(path.name.removesuffix("-评分细则.xlsx"))
    assert len(list(blank.glob("*/*.xlsx"))) == len(plan.units)
    assert have == want
    for unit in want:
        path = form_path(blank, unit)
        with zipfile.ZipFile(path.parent.with_suffix(".zip")) as z:
            member = next(i for i in z.infolist() if _member_name(i) == path.name)
            assert z.read(member) == path.read_bytes(), unit


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as Chinese Windows shows it: UTF-8 when flagged, else the GBK bytes."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except UnicodeError:  # already decoded from the Unicode Path extra field
        return info.filename


def _checklist(ws) -> list[str]:
    out, r = [], RECT_FIRST
    while ws[f"B{r}"].value not in (None, ""):
        assert ws[f"A{r}"].value == r - RECT_FIRST + 1  # 序号
        out.append(ws[f"B{r}"].value)
        r += 1
    return out


@pytest.mark.parametrize("unit", [f.unit for f in Q1] + ["州人社局", "州林业局"])
def test_q2_form_lists_exactly_the_units_q1_deductions(plan, q2_blank, unit):
    path = form_path(q2_blank["blank"], unit)
    wb = openpyxl.load_workbook(path)
    ws = wb[FORM]
    cached = openpyxl.load_workbook(path, data_only=True)[FORM]
    problems = q1_problems(Q1_BY_UNIT[unit]) if unit in Q1_BY_UNIT else []
    if not problems:  # no checklist at all: item 3 is an ordinary input
        assert all("上季度问题整改情况" not in str(c.value or "") for row in ws.iter_rows() for c in row)
        assert ws["F6"].value is None and cached["G6"].value == 10
        return
    assert str(ws[f"A{RECT_TITLE_ROW}"].value).startswith("上季度问题整改情况")
    assert _checklist(ws) == problems
    assert all(ws[f"D{RECT_FIRST + i}"].value is None for i in range(len(problems)))  # for the inspector
    n = len(problems)
    formula = ws["F6"].value
    assert isinstance(formula, str) and formula.startswith("="), formula
    assert f'COUNTIF(D{RECT_FIRST}:D{RECT_FIRST + n - 1},"已整改")' in formula.replace("$", "")
    want = min(LIMIT3, PER_OPEN_PROBLEM * n)  # nothing marked yet: every line counts
    assert D(cached["F6"].value) == want
    assert D(cached["G6"].value) == D(10) - want
    assert D(cached[SUBTOTAL].value) == D(98) - want and D(cached[TOTAL].value) == D(98) - want
    assert D(cached[SUBTOTAL_DED].value) == want


# --------------------------------------------------------------------------- quarter 2: filled and merged

@pytest.fixture(scope="module")
def q2(plan, q2_blank):
    base = q2_blank["blank"].parent
    collected = base / "collected"
    jobs, uno_fills = [], []
    for f in Q2:
        src = form_path(q2_blank["blank"], f.unit)
        target = collected / src.relative_to(q2_blank["blank"])
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.how == "openpyxl":
            fill_with_openpyxl(src, openpyxl_values(f), out=target)
            continue
        cells = [{"sheet": FORM, "cell": DATE, "value": f.date.isoformat(), "kind": "date"}]
        for seq, (ded, reason) in f.items.items():
            cells.append({"sheet": FORM, "cell": ded_cell(seq), "value": ded, "kind": "number"})
            cells.append({"sheet": FORM, "cell": reason_cell(seq), "value": reason, "kind": "text"})
        for i, (name, score) in enumerate(f.test):
            cells.append({"sheet": FORM, "cell": f"B{TEST_FIRST + i}", "value": name, "kind": "text"})
            cells.append({"sheet": FORM, "cell": f"C{TEST_FIRST + i}", "value": score, "kind": "number"})
        for i, status in enumerate(f.statuses or []):
            if status is not None:
                cells.append({"sheet": FORM, "cell": f"D{RECT_FIRST + i}", "value": status, "kind": "text"})
        jobs.append({"input": src, "outputs": [{"path": target, "format": "xlsx"}], "cells": cells,
                     "read_back": [f"{FORM}!{c}" for c in ("F6", "G6", "F12", "G12", TEST_DED, SUBTOTAL_DED,
                                                           SUBTOTAL, TOTAL)]})
        uno_fills.append((f, target))
    # one more form in the same session, kept out of the collected folder: a status pasted with a stray space
    stray_out = base / "stray" / "州委办-空格.xlsx"
    jobs.append({"input": form_path(q2_blank["blank"], "州委办"), "outputs": [{"path": stray_out, "format": "xlsx"}],
                 "cells": [{"sheet": FORM, "cell": DATE, "value": "2017-10-23", "kind": "date"},
                           {"sheet": FORM, "cell": f"D{RECT_FIRST}", "value": STRAY, "kind": "text"},
                           {"sheet": FORM, "cell": f"D{RECT_FIRST + 1}", "value": RECTIFIED, "kind": "text"}],
                 "read_back": [f"{FORM}!F6", f"{FORM}!G6"]})
    report = lo.fill_with_uno(jobs, workdir=base / "uno")
    assert len(report) == len(jobs)
    merged = run("merge", collected, "--out", base / "output", "--date", "2017-11-06", "--json")
    return {"base": base, "merge": merged, "summary": base / "output" / "评分汇总表.xlsx",
            "uno": list(zip(uno_fills, report[:len(uno_fills)])), "stray": (stray_out, report[-1])}


def test_q2_merge_equals_the_independent_computation(q2):
    res = q2["merge"]
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["received"] == len(Q2) and data["errors"] == 0
    units = {u["unit"]: u for u in data["units"]}
    assert set(units) == {f.unit for f in Q2}
    for f in Q2:
        items, total = expected_scores(f)
        ded = expected_deductions(f)
        got = {i["seq"]: i for i in units[f.unit]["items"]}
        assert D(got[3]["deduction"]) == ded[3], (f.unit, "item 3")
        assert D(got[9]["deduction"]) == ded[9], (f.unit, "item 9")
        assert {s: D(i["deduction"]) for s, i in got.items()} == ded, f.unit
        assert {s: D(i["score"]) for s, i in got.items()} == items, f.unit
        assert D(units[f.unit]["score"]) == total, f.unit
    assert ranking_of(q2["summary"]) == {f.unit: expected_scores(f)[1] for f in Q2}
    # the cases the issue names, pinned
    by = {f.unit: f for f in Q2}
    assert expected_deductions(by["州委宣传部"])[3] == 10 and expected_deductions(by["州委宣传部"])[9] == 10
    assert D(units["州委宣传部"]["items"][2]["deduction"]) == 10
    assert D(units["州人社局"]["items"][8]["deduction"]) == 10
    assert D(units["州委组织部"]["items"][8]["deduction"]) == 10


def test_q2_item3_note_names_the_problems_still_open(q2):
    units = {u["unit"]: u for u in json.loads(q2["merge"].stdout)["units"]}
    for f in Q2:
        if f.statuses is None:
            continue
        open_ = [p for p, s in zip(checklist_for(f), f.statuses) if s != RECTIFIED]
        note = units[f.unit]["items"][2]["note"]
        assert note == (f"未整改{len(open_)}项：" + "；".join(open_) if open_ else ""), f.unit
    # and the next quarter's 扣分明细 carries it
    rows = summary_rows(q2["summary"], "扣分明细")
    row = next(r for r in rows if r[0] == "州委宣传部" and int(r[2]) == 3)
    assert D(row[3]) == 10 and "未整改12项：" in row[4] and q1_problems(Q1_BY_UNIT["州委宣传部"])[3] in row[4]


def test_q2_findings_checklist_and_overwritten_formulas(q2):
    findings = json.loads(q2["merge"].stdout)["findings"]

    def at(unit, code):
        return sorted(x["cell"] for x in findings if x["unit"] == unit and x["code"] == code)

    assert at("州纪委监察局", "rectify-unmarked") == [f"D{RECT_FIRST + 2}"]
    assert at("州委宣传部", "rectify-unmarked") == [f"D{RECT_FIRST + 13}"]
    assert at("州委宣传部", "rectify-invalid") == [f"D{RECT_FIRST + 14}"]
    assert at("州委政法委", "formula-overwritten") == ["F6"]
    assert at("州人社局", "formula-overwritten") == [TEST_DED]
    for f in Q2:
        if f.how == "uno":  # LibreOffice recalculated: every cached value agrees with the tool
            assert not [x for x in findings if x["unit"] == f.unit and x["code"] in
                        ("cached-mismatch", "formula-overwritten", "rectify-unmarked", "rectify-invalid")], f.unit
    codes = {x["code"] for x in findings if x["severity"] == "错误"}
    assert not codes


def test_libreoffice_recalculates_items_3_and_9_like_the_independent_computation(q2):
    assert len(q2["uno"]) == 3
    for (f, path), rep in q2["uno"]:
        ded = expected_deductions(f)
        items, total = expected_scores(f)
        fails = f.failures
        want = {"F6": ded[3], "G6": items[3], "F12": f.typed(9), "G12": items[9],
                TEST_DED: PER_FAILURE * fails, SUBTOTAL_DED: D(98) - sum(items.values()),
                SUBTOTAL: sum(items.values()), TOTAL: total}
        seen = {ref.split("!")[1]: v for ref, v in rep["cells"].items()}
        for ref, value in want.items():
            kind, number, _text, err, _formula = seen[ref]
            assert err == 0, (f.unit, ref, seen[ref])
            assert D(round(number, 6)) == value, (f.unit, ref, seen[ref], value)
        assert seen["F6"][0] == "FORMULA" and seen["G12"][0] == "FORMULA"
        # what LibreOffice stored in the .xlsx
        cached = openpyxl.load_workbook(path, data_only=True)[FORM]
        for ref, value in want.items():
            v = cached[ref].value
            if ref == "F12" and v is None and value == 0:  # nothing typed for study
                v = 0
            assert D(v) == value, (f.unit, ref, v)
        assert openpyxl.load_workbook(path)[FORM]["F6"].value.startswith("=")
    # and merge agrees
    units = {u["unit"]: u for u in json.loads(q2["merge"].stdout)["units"]}
    for (f, _path), _rep in q2["uno"]:
        items, total = expected_scores(f)
        assert D(units[f.unit]["score"]) == total
        assert D(units[f.unit]["items"][2]["deduction"]) == expected_deductions(f)[3]
        assert D(units[f.unit]["items"][8]["deduction"]) == expected_deductions(f)[9]


def test_checklist_status_with_a_stray_space_is_not_silently_read_otherwise_than_the_form(plan, q2):
    """COUNTIF(...,"已整改") matches the word exactly: the form counts " 已整改" as not rectified.
    The aggregator must agree with the form, or at least say at that cell that it read it otherwise."""
    path, rep = q2["stray"]
    f6 = rep["cells"][f"{FORM}!F6"]
    assert f6[0] == "FORMULA" and f6[1] == 1.0  # 2 lines - 1 exact 已整改
    scored = score_form(read_form(open_book(path.read_bytes(), ".xlsx", Limits())), plan, plan.unit("州委办"),
                        path.name)
    at_cell = [(x.code, x.message) for x in scored.findings if x.cell == f"D{RECT_FIRST}"]
    assert scored.items[2].deduction == 1 or at_cell, (
        f"form shows item 3 = 1, merge uses {scored.items[2].deduction} with no finding at D{RECT_FIRST}: "
        f"{[(x.code, x.cell) for x in scored.findings]}")


def test_prefilled_checklist_cached_value_is_what_the_formula_computes(plan, q2):
    """build_form's cached F6 must be what a spreadsheet computes (here: what LibreOffice computed)."""
    _path, rep = q2["stray"]
    computed = D(rep["cells"][f"{FORM}!F6"][1])
    e = FormEntries(date=d17(10, 23), test=list(PASSING_EXAM), rectified=[(STRAY, ""), (RECTIFIED, "")])
    data = build_form(plan, plan.unit("州委办"), e, q1_problems(Q1_BY_UNIT["州委办"]))
    cached = openpyxl.load_workbook(io.BytesIO(data), data_only=True)[FORM]
    assert D(cached["F6"].value) == computed == 1
    assert D(cached["G6"].value) == D(rep["cells"][f"{FORM}!G6"][1]) == 9


# --------------------------------------------------------------------------- finding codes, one each

def _score(plan, unit: str, f: Fill, problems: list[str] | None = None):
    data = build_form(plan, plan.unit(unit), entries_of(f), problems)
    form = read_form(open_book(data, ".xlsx", Limits()))
    scored = score_form(form, plan, plan.unit(unit), "x.xlsx")
    return scored, {i.seq: i.deduction for i in scored.items}


def _only(scored, code):
    found = [x for x in scored.findings if x.code == code]
    assert len(found) == 1, (code, [(x.code, x.cell) for x in scored.findings])
    return found[0]


def test_code_test_score_invalid(plan):
    f = Fill("州科技局", "entries", d17(10, 23), test=[("甲", 120), ("乙", 50), ("丙", 70), ("丁", 80), ("戊", 90)])
    scored, ded = _score(plan, f.unit, f)
    x = _only(scored, "test-score-invalid")
    assert (x.severity, x.cell) == ("错误", f"C{TEST_FIRST}")
    assert "120" in x.message and x.expected == "填 0～100 的分数"
    assert ded[9] == Decimal("0.5")  # 120 is not counted at all; 乙 (50) fails
    assert _only(scored, "test-incomplete").severity == "警告"  # four valid scores of five


def test_code_test_score_text(plan):
    f = Fill("州科技局", "entries", d17(10, 23), test=[("甲", "45分"), ("乙", 75), ("丙", 70), ("丁", 80), ("戊", 90)])
    scored, ded = _score(plan, f.unit, f)
    x = _only(scored, "test-score-text")
    assert (x.severity, x.cell) == ("提示", f"C{TEST_FIRST}")
    assert "45分" in x.message
    assert ded[9] == Decimal("0.5")  # read as 45: a failure
    assert scored.errors == 0


def test_code_test_row_incomplete(plan):
    f = Fill("州科技局", "entries", d17(10, 23),
             test=[("甲", 90), ("乙", None), ("", 40), ("丁", 80), ("戊", 90)])
    scored, ded = _score(plan, f.unit, f)
    found = sorted((x.severity, x.cell, x.message) for x in scored.findings if x.code == "test-row-incomplete")
    assert [(s, c) for s, c, _m in found] == [("警告", f"B{TEST_FIRST + 2}"), ("警告", f"C{TEST_FIRST + 1}")]
    assert "未填姓名" in found[0][2] and "未填成绩" in found[1][2]
    assert ded[9] == Decimal("0.5")  # the nameless 40 still counts; the scoreless member does not
    assert _only(scored, "test-incomplete").message.startswith("党的基本知识测试填了 4 人")


def test_code_test_incomplete(plan):
    f = Fill("州科技局", "entries", d17(10, 23), test=[("甲", 50), ("乙", 70), ("丙", 30)])
    scored, ded = _score(plan, f.unit, f)
    x = _only(scored, "test-incomplete")
    assert (x.severity, x.cell) == ("警告", f"C{TEST_FIRST}")
    assert "3 人" in x.message and "5 人" in x.message and "5 名" in x.expected
    assert ded[9] == Decimal(1)  # two failures among the three tested
    assert scored.errors == 0


def test_code_rectify_unmarked(plan):
    problems = ["第5项扣1分：未召开支委会", "第7项扣1分：（未写原因）", "第12项扣2分：党员信息未及时更新"]
    f = Fill("州科技局", "entries", d17(10, 23))
    e = entries_of(f)
    e.rectified = [(RECTIFIED, "已召开"), (None, ""), (NOT_RECTIFIED, "")]
    data = build_form(plan, plan.unit(f.unit), e, problems)
    scored = score_form(read_form(open_book(data, ".xlsx", Limits())), plan, plan.unit(f.unit), "x.xlsx")
    x = _only(scored, "rectify-unmarked")
    assert (x.severity, x.cell) == ("警告", f"D{RECT_FIRST + 1}")
    assert "未写原因" in x.message and "未整改计" in x.message and "已整改" in x.expected
    assert scored.items[2].deduction == 2  # blank counts as not rectified
    assert scored.errors == 0 and not [y for y in scored.findings if y.code == "cached-mismatch"]


def test_code_rectify_invalid(plan):
    problems = ["第5项扣1分：未召开支委会", "第12项扣2分：党员信息未及时更新"]
    e = entries_of(Fill("州科技局", "entries", d17(10, 23)))
    e.rectified = [("部分整改", ""), (RECTIFIED, "")]
    data = build_form(plan, plan.unit("州科技局"), e, problems)
    scored = score_form(read_form(open_book(data, ".xlsx", Limits())), plan, plan.unit("州科技局"), "x.xlsx")
    x = _only(scored, "rectify-invalid")
    assert (x.severity, x.cell) == ("警告", f"D{RECT_FIRST}")
    assert "部分整改" in x.message and "已整改" in x.expected
    assert scored.items[2].deduction == 1  # "部分整改" counts as not rectified


# --------------------------------------------------------------------------- status

def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def status_folder(plan, tmp_path_factory):
    """第一核查组: 7 forms counted (one with an error), 州人社局's refused, two missing; 州委办直属机关党委
    complete; a form of a unit not in the plan and a workbook that is no form."""
    base = tmp_path_factory.mktemp("status")
    col = base / "collected"
    g1 = plan.summary("第一核查组").units
    for u in g1[:7]:
        e = entries_of(Fill(u.name, "entries", d17(10, 23)))
        if u.name == "州委宣传部":
            e.items[5] = ItemEntry(reason="未召开支委会", deduction="两分")  # an error, still a return
        (col / "第一组").mkdir(parents=True, exist_ok=True)
        (col / "第一组" / f"{u.name}.xlsx").write_bytes(build_form(plan, u, e))
    bad = col / "第一组" / "州人社局.xlsx"
    bad.write_bytes(build_form(plan, plan.unit("州人社局"), entries_of(Fill("州人社局", "entries", d17(10, 23)))))
    delete_item_row(plan, bad, 5)
    for u in plan.summary("州委办直属机关党委").units:
        (col / "直属").mkdir(exist_ok=True)
        (col / "直属" / f"{u.name}.xlsx").write_bytes(
            build_form(plan, u, entries_of(Fill(u.name, "entries", d17(10, 26)))))
    other = col / "其他" / "外单位.xlsx"
    other.parent.mkdir()
    other.write_bytes(build_form(plan, plan.unit("州科技局"), entries_of(Fill("州科技局", "entries", d17(10, 23)))))
    retype_form(other, unit_text="州外事侨务办")
    wb = openpyxl.Workbook()
    wb.active["A1"] = "核查组通讯录"
    wb.save(col / "通讯录.xlsx")
    return base


def _status(base: Path, day: str, monkeypatch):
    cwd = base / "cwd"
    cwd.mkdir(exist_ok=True)
    monkeypatch.chdir(cwd)
    before = _tree(base)
    res = run("status", base / "collected", "--date", day)
    assert _tree(base) == before  # nothing written, touched or removed: folder and cwd
    assert not any(cwd.iterdir())
    return res


def _block(output: str, summary: str) -> str:
    """The lines of one summary unit in status' output."""
    lines = output.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.search(rf"\d+\. {summary}\s", ln))
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^.\s*\d+\. ", lines[i]) or not lines[i].strip()),
               len(lines))
    return "\n".join(lines[start:end])


def test_status_before_the_deadline(plan, status_folder, monkeypatch):
    res = _status(status_folder, "2017-11-03", monkeypatch)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "已收 11/137 份" in out
    assert "还有 4 天" in out
    g1 = _block(out, "第一核查组")
    assert re.search(r"第一核查组\s+7/10", g1) and "拒收 1" in g1
    missing = re.search(r"未交：(.*)", g1).group(1).split("、")
    assert missing == ["州人社局", "州经信委", "州国土资源局"]
    for text in ("吴超", "13974352972", "罗文竹", "15207431222"):
        assert text in g1, g1
    done = _block(out, "州委办直属机关党委")
    assert re.search(r"州委办直属机关党委\s+4/4", done) and "未交：" not in done and done.startswith("√")
    assert "还应上报：简要核查报告" in done  # every form is in; the committee's report is still owed
    g2 = _block(out, "第二核查组")
    assert re.search(r"第二核查组\s+0/10", g2) and "全东成" in g2 and "13574317828" in g2 and "15080862266" in g2
    # the files that cannot be used, each with its reason
    assert "无法采用的文件（3 个）" in out
    assert re.search(r"其他/外单位\.xlsx：.*州外事侨务办.*不在本期方案中", out)
    assert re.search(r"通讯录\.xlsx：找不到评分细则表", out)
    assert re.search(r"第一组/州人社局\.xlsx：.*第5项", out)
    assert "州委宣传部.xlsx" not in out  # a form with an error is a return, not an unusable file


def test_status_on_and_after_the_deadline(status_folder, monkeypatch):
    on = _status(status_folder, "2017-11-07", monkeypatch)
    assert "今天是上报截止日" in on.output and "还有" not in on.output
    late = _status(status_folder, "2017-11-10", monkeypatch)
    assert late.exit_code == 0
    assert "已超过上报截止日期（11月07日）3 天" in late.output and "还有" not in late.output


# --------------------------------------------------------------------------- correction lists

LISTS = "退回修改清单"


def _lists(out: Path) -> dict[str, list[dict]]:
    folder = out / LISTS
    result = {}
    for p in sorted(folder.glob("*.xlsx")) if folder.is_dir() else []:
        ws = openpyxl.load_workbook(p).active
        assert ws["A1"].value.endswith("评分表退回修改清单")
        header = [c.value for c in ws[3]]
        assert header == ["序号", "被核查单位", "文件", "单元格", "问题", "应当", "级别"]
        rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]
        result[p.name] = rows
    return result


def test_correction_lists_shrink_as_fixed_returns_arrive(plan, tmp_path):
    col, out = tmp_path / "collected", tmp_path / "output"
    old = dt.datetime(2017, 10, 25, 9, 0).timestamp()
    later = dt.datetime(2017, 10, 30, 15, 0).timestamp()

    def put(rel: str, f: Fill, when: float, edit=None) -> Path:
        e = entries_of(f)
        if edit:
            edit(e)
        path = col / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build_form(plan, plan.unit(f.unit), e))
        set_mtime(path, when)
        return path

    def bad_jw(e):  # two errors and a warning
        e.items[5] = ItemEntry(reason="未召开支委会", deduction="两分")
        e.items[4] = ItemEntry(reason="主题党日不规范", deduction=3)
        e.items[6] = ItemEntry(reason="", deduction=2)

    put("一组/州纪委监察局.xlsx", Fill("州纪委监察局", "entries", d17(10, 23)), old, bad_jw)
    put("一组/州委组织部.xlsx", Fill("州委组织部", "entries", d17(10, 23)), old, lambda e: setattr(e, "date", "10月40日"))
    put("一组/州委宣传部.xlsx", Fill("州委宣传部", "entries", d17(10, 23), {5: (1, "9月未召开支委会")}), old)
    put("二组/州委办.xlsx", Fill("州委办", "entries", d17(10, 23),
                                 test=[("甲", 120), ("乙", 70), ("丙", 70), ("丁", 80), ("戊", 90)]), old)
    put("二组/州教育和体育局.xlsx", Fill("州教育和体育局", "entries", d17(10, 24)), old)
    for i, u in enumerate(plan.summary("州委办直属机关党委").units):  # complete, below 95 (quota 1); a warning
        items = {12: (4, "未按期换届")} | ({7: (1, "")} if i == 0 else {})
        put(f"直属/{u.name}.xlsx", Fill(u.name, "entries", d17(10, 26), items), old)

    res = run("merge", col, "--out", out, "--date", "2017-11-06")
    assert res.exit_code == 1, res.output
    assert "退回修改清单 2 份" in res.output
    lists = _lists(out)
    assert set(lists) == {"01-第一核查组-退回修改清单.xlsx", "02-第二核查组-退回修改清单.xlsx"}
    g1 = lists["01-第一核查组-退回修改清单.xlsx"]
    errors = sorted((r["被核查单位"], r["文件"], r["单元格"]) for r in g1 if r["级别"] == "错误")
    assert errors == [("州委组织部", "一组/州委组织部.xlsx", "F2"),
                      ("州纪委监察局", "一组/州纪委监察局.xlsx", "F7"),
                      ("州纪委监察局", "一组/州纪委监察局.xlsx", "F8")]
    for r in g1:
        if r["级别"] == "错误":
            assert has_cjk(r["问题"]) and has_cjk(r["应当"]), r
    row = {(r["被核查单位"], r["单元格"]): r for r in g1}
    assert "两分" in row[("州纪委监察局", "F8")]["问题"]
    assert row[("州纪委监察局", "F8")]["应当"] == "只填数字：0～8 分，每档 1 分（不扣分留空）"
    assert row[("州纪委监察局", "F7")]["应当"] == "按每档 2 分扣分，最多 5 分"
    assert "10月40日" in row[("州委组织部", "F2")]["问题"]
    assert row[("州委组织部", "F2")]["应当"] == "填写核查日期，如 2017-10-23"
    assert row[("州纪委监察局", "E9")]["级别"] == "警告" and "扣分原因" in row[("州纪委监察局", "E9")]["应当"]
    assert "州委宣传部" not in {r["被核查单位"] for r in g1}  # a clean return has nothing to fix
    g2 = lists["02-第二核查组-退回修改清单.xlsx"]
    e2 = [(r["被核查单位"], r["文件"], r["单元格"]) for r in g2 if r["级别"] == "错误"]
    assert e2 == [("州委办", "二组/州委办.xlsx", f"C{TEST_FIRST}")]
    assert "120" in next(r for r in g2 if r["级别"] == "错误")["问题"]

    # 州纪委监察局 sends a corrected form (newer); the faulty one stays in the folder
    put("一组/州纪委监察局（修改后）.xlsx", Fill("州纪委监察局", "entries", d17(10, 23), {5: (2, "未召开支委会")}), later)
    res = run("merge", col, "--out", out, "--date", "2017-11-06")
    assert res.exit_code == 1
    lists2 = _lists(out)
    assert set(lists2) == set(lists)
    g1b = lists2["01-第一核查组-退回修改清单.xlsx"]
    assert "州纪委监察局" not in {r["被核查单位"] for r in g1b}
    assert not any("州纪委监察局" in str(r["文件"]) for r in g1b)
    assert len(g1b) == len(g1) - 3
    assert [(r["被核查单位"], r["单元格"]) for r in g1b if r["级别"] == "错误"] == [("州委组织部", "F2")]

    # 州委办 fixed too: 第二核查组 has nothing left to fix, its list disappears (missing units are warnings)
    put("二组/州委办-改.xlsx", Fill("州委办", "entries", d17(10, 23)), later)
    res = run("merge", col, "--out", out, "--date", "2017-11-06")
    assert res.exit_code == 1  # 州委组织部 still wrong
    assert set(_lists(out)) == {"01-第一核查组-退回修改清单.xlsx"}

    put("一组/州委组织部(2).xlsx", Fill("州委组织部", "entries", d17(10, 24)), later)
    res = run("merge", col, "--out", out, "--date", "2017-11-06")
    assert res.exit_code == 0, res.output
    assert _lists(out) == {}
    assert (out / "评分汇总表.xlsx").is_file()
    assert ranking_of(out / "评分汇总表.xlsx")["州纪委监察局"] == Decimal(96)
