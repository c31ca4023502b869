"""The whole cycle on the embedded plan: generate 137 forms, fill them the ways offices do, merge.

Every expected score, rank, missing list and quota verdict below is computed in this file
from the values typed into the forms — never with the library's scoring — and compared with
`merge` and with the workbook written by `write_summary`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from returns import DATE_CELL, cell, exam_values, fill_with_openpyxl, set_mtime, write_explorer_zip

from xlsx_tool.files import write_zip
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form
from xlsx_tool.forms.generate import form_filename, generate, summary_folder
from xlsx_tool.judging.merge import COPY, COUNTED, DUPLICATE, merge
from xlsx_tool.outputs.summary import to_json, write_summary

TODAY = dt.date(2017, 11, 6)
BASE = dt.datetime(2017, 10, 30, 9, 0).timestamp()
D = Decimal
REASONS = ["7月未召开支委会", "台账资料不全", "未见会议记录", "活动无图片资料", "学习笔记不全", "未按时整改",
           "测试1人不及格", "党费收缴台账不规范"]
HIGHLIGHTS = ["“主题党日+”形式新颖", "党建阵地建设规范", "结对帮扶成效明显"]
FORMULA_REASON = '=HYPERLINK("http://example.com","点这里")'
FORMULA_FILE = "=SUM(1,1)州科技局.xlsx"

LENIENT = "第三核查组"  # 11 units, quota 3: made to score high, breaches
AT_QUOTA = "州人社局直属机关党委"  # 6 units, exactly 2 at 95+: allowed
SILENT = ("州科技局直属机关党委", "州国资委直属机关党委")  # nothing returned (plan order)
OLD_VERSION = "州人民医院"  # also sent an earlier, different version


@dataclass
class Expected:
    unit: str
    summary: str
    deductions: dict = field(default_factory=dict)  # seq -> Decimal
    reasons: dict = field(default_factory=dict)
    highlights: dict = field(default_factory=dict)
    date: dt.date | None = None
    file: str = ""
    text_typed: int = 0  # deductions typed as text ("2分", "２")
    exam: list = field(default_factory=list)  # knowledge test: (name, score); [] = not filled in

    def failed(self, plan) -> int:
        return sum(1 for _, score in self.exam if score < plan.rules.test_pass_mark)

    def used(self, plan, seq) -> Decimal:
        """The deduction that counts: as typed, plus the test's failures on the test item, within its limit."""
        item = next(it for it in plan.rubric.items if it.seq == seq)
        d = self.deductions.get(seq, D(0))
        if seq == plan.rules.test_item:
            d = min(item.limit, d + self.failed(plan) * plan.rules.test_step)
        return min(d, item.max)

    def score(self, plan) -> Decimal:
        total = sum((it.max - self.used(plan, it.seq) for it in plan.rubric.items), D(0))
        return min(total, plan.rules.max_score)


def _valid_deductions(item):
    out = []
    k = 1
    while item.step * k <= item.limit:
        out.append(item.step * k)
        k += 1
    if item.limit not in out:
        out.append(item.limit)
    return out


def _typed(d: Decimal):
    return int(d) if d == d.to_integral_value() else float(d)


def _ranks(rows: list[tuple[str, Decimal]]) -> dict[str, int]:
    """Competition ranking: 1 + how many scored strictly higher."""
    return {u: 1 + sum(1 for _, t in rows if t > s) for u, s in rows}


@dataclass
class Scenario:
    plan: object
    collected: Path
    blank: Path
    expected: dict  # unit -> Expected
    missing: set
    file_bytes: dict  # file name as merge reports it -> bytes
    copies: set
    old_versions: set
    result: object = None
    out: Path = None


def _fill_entries(plan, unit, rng: random.Random, harsh: float) -> Expected:
    s = plan.summary(unit.summary)
    exp = Expected(unit.name, s.name)
    days = (s.window[1] - s.window[0]).days
    exp.date = s.window[0] + dt.timedelta(days=rng.randint(0, days))
    for item in plan.rubric.items:
        if unit.summary == LENIENT:
            if item.seq == 3 and rng.random() < 0.7:
                exp.deductions[3] = D(rng.randint(1, 5))
        elif rng.random() < harsh:
            choices = _valid_deductions(item)
            if item.seq == plan.rules.test_item:
                # leave room for the test's deduction: the cap on this item is tested (and known to be
                # inconsistent in the generated form's 小计扣分) in test_merge_rules
                choices = [d for d in choices if d <= item.limit - plan.rules.test_step * plan.rules.test_people]
            exp.deductions[item.seq] = rng.choice(choices)
        if item.seq in exp.deductions:
            exp.reasons[item.seq] = rng.choice(REASONS)
        if rng.random() < 0.1:
            exp.highlights[item.seq] = rng.choice(HIGHLIGHTS)
    if rng.random() < 0.9:  # a few forms come back without the knowledge test
        names = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九"]
        low = 60 if unit.summary in (LENIENT, AT_QUOTA) else 45
        exp.exam = [(names[k], rng.randint(low, 100)) for k in range(plan.rules.test_people)]
    return exp


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, plan) -> Scenario:
    root = tmp_path_factory.mktemp("e2e")
    blank, collected, out = root / "blank_forms", root / "collected", root / "output"
    generate(plan, blank, workers=1)
    collected.mkdir()
    rng = random.Random(20171106)
    units = plan.units

    missing = {u.name for u in units if u.summary in SILENT}
    keep = {"州财政局", "州科技局", OLD_VERSION, "州公安局"}
    candidates = [u.name for u in units if u.summary not in SILENT + (LENIENT, AT_QUOTA) and u.name not in keep]
    missing |= set(rng.sample(candidates, 9))

    expected: dict[str, Expected] = {}
    for u in units:
        if u.name not in missing:
            expected[u.name] = _fill_entries(plan, u, rng, harsh=0.25)
    # AT_QUOTA: exactly a third at 95 or above (98, 95), the rest below
    at = [u.name for u in plan.summary(AT_QUOTA).units]
    for name, deds in zip(at, [{}, {3: D(3)}, {3: D(3), 8: D("0.5")}, {5: D(4)}, {9: D(6)}, {12: D(4)}]):
        e = expected[name]
        e.deductions, e.reasons = dict(deds), {s: rng.choice(REASONS) for s in deds}
        e.exam = [("张三", 90)] * plan.rules.test_people
    # special values
    e = expected["州财政局"]
    e.deductions[6], e.reasons[6] = D(2), FORMULA_REASON
    e.highlights[4] = "=1+1 亮点"

    # fill: about half by openpyxl on the generated blank form, the rest as generated with entries
    file_bytes: dict[str, bytes] = {}
    zip_members: dict[str, list] = {}
    explorer_members: list = []
    stage = root / "stage"
    stage.mkdir()
    placed = []
    for i, u in enumerate(units):
        if u.name not in expected:
            continue
        exp = expected[u.name]
        blank_path = blank / summary_folder(plan, u.summary) / form_filename(u)
        if rng.random() < 0.5 and u.name != "州财政局":
            tmp = stage / f"{i}.xlsx"
            shutil.copyfile(blank_path, tmp)
            values = {DATE_CELL: exp.date}
            for seq, d in exp.deductions.items():
                typed = _typed(d)
                if d == 2 and rng.random() < 0.5:
                    typed = rng.choice(["2分", "２", " 2 "])
                    exp.text_typed += 1
                values[cell(plan, seq, "deduction")] = typed
                values[cell(plan, seq, "reason")] = exp.reasons[seq]
            for seq, h in exp.highlights.items():
                values[cell(plan, seq, "highlight")] = h
            values.update(exam_values(plan, exp.exam))
            fill_with_openpyxl(tmp, values)
            data = tmp.read_bytes()
        else:
            entries = FormEntries(date=exp.date, test=list(exp.exam), items={
                it.seq: ItemEntry(highlight=exp.highlights.get(it.seq, ""), reason=exp.reasons.get(it.seq, ""),
                                  deduction=_typed(exp.deductions[it.seq]) if it.seq in exp.deductions else None)
                for it in plan.rubric.items})
            data = build_form(plan, u, entries)
        placed.append((i, u, data))

    zipped = plan.summary_units[1].name  # 第二核查组: one zip via write_zip (GBK + unicode path field)
    explorer = "州委宣传部直属机关党委"  # one zip as Windows Explorer makes it (GBK names only)
    for i, u, data in placed:
        exp = expected[u.name]
        if u.summary == zipped and u.name != "州财政局":
            member = f"{u.name}评分表.xlsx"
            zip_members.setdefault(f"{zipped}交回.zip", []).append((member, data))
            exp.file = f"{zipped}交回.zip/{member}"
        elif u.summary == explorer:
            member = f"{u.name}.xlsx"
            explorer_members.append((member, data))
            exp.file = f"{explorer}/评分表.zip/{member}"
        else:
            style = i % 4
            if style == 0:
                rel = f"{u.name}评分表(1).xlsx"
            elif style == 1:
                rel = f"{summary_folder(plan, u.summary)}/{form_filename(u)}"
            elif style == 2:
                rel = f"邮件附件/2017-10-3{i % 2}/{u.name}.xlsx"
            else:
                rel = f"{u.summary}/回复：{u.name} 评分.xlsx"
            path = collected / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            set_mtime(path, BASE + i * 60)
            exp.file = rel
        file_bytes[exp.file] = data
    for zname, members in zip_members.items():
        write_zip(collected / zname, members)
        for m, data in members:
            file_bytes[f"{zname}/{m}"] = data
    (collected / explorer).mkdir(exist_ok=True)
    write_explorer_zip(collected / explorer / "评分表.zip", explorer_members)
    for m, data in explorer_members:
        file_bytes[f"{explorer}/评分表.zip/{m}"] = data

    # 州科技局's return (a zip member) is also saved under a name starting with "=": the same bytes.
    # That name sorts first, so it is the one counted and the zip member is the copy.
    e = expected["州科技局"]
    copies = {e.file}
    (collected / FORMULA_FILE).write_bytes(file_bytes[e.file])
    file_bytes[FORMULA_FILE] = file_bytes[e.file]
    e.file = FORMULA_FILE

    # an earlier, different version of one unit's return: the newer one counts
    e = expected[OLD_VERSION]
    old = build_form(plan, plan.unit(OLD_VERSION), FormEntries(date=e.date, items={3: ItemEntry(reason="初稿", deduction=9)}))
    old_name = f"初稿/{OLD_VERSION}评分表.xlsx"
    (collected / "初稿").mkdir()
    (collected / old_name).write_bytes(old)
    set_mtime(collected / old_name, BASE - 86400)
    file_bytes[old_name] = old

    # one return sent twice (exact copy, later path)
    first = expected["州公安局"].file
    copy_name = "重发/" + Path(first).name  # sorts after every other path: the copy
    (collected / "重发").mkdir()
    shutil.copyfile(collected / first, collected / copy_name)
    copies.add(copy_name)
    file_bytes[copy_name] = file_bytes[first]

    result = merge(plan, collected, today=TODAY, workers=1)
    out.mkdir()
    write_summary(result, out / "评分汇总表.xlsx")
    return Scenario(plan, collected, blank, expected, missing, file_bytes, copies, {old_name}, result, out)


# --------------------------------------------------------------------------- scores, ranks, missing, quota


def test_every_file_accounted_for(scenario):
    r = scenario.result
    assert {f.name for f in r.files} == set(scenario.file_bytes)
    for f in r.files:
        if f.name in scenario.copies:
            assert f.status == COPY
        elif f.name in scenario.old_versions:
            assert f.status == DUPLICATE
        else:
            assert f.status == COUNTED, (f.name, f.reason)
        assert f.sha256 == hashlib.sha256(scenario.file_bytes[f.name]).hexdigest()
    assert r.received == len(scenario.expected) == 137 - len(scenario.missing)


def test_every_score_and_file(scenario):
    plan, r = scenario.plan, scenario.result
    got = {row.unit.name: row for row in r.ranking}
    assert set(got) == set(scenario.expected)
    for name, exp in scenario.expected.items():
        row = got[name]
        assert row.scored.score == exp.score(plan), name
        assert row.file == exp.file
        assert row.scored.date == exp.date
        for it in row.scored.items:
            assert it.deduction == exp.used(plan, it.seq), (name, it.seq)
            assert it.score == it.max - exp.used(plan, it.seq)
            assert it.reason == exp.reasons.get(it.seq, "")
            assert it.highlight == exp.highlights.get(it.seq, "")


def test_ranks_within_summary_and_overall(scenario):
    plan, r = scenario.plan, scenario.result
    order = {u.name: i for i, u in enumerate(plan.units)}
    all_rows = [(n, e.score(plan)) for n, e in scenario.expected.items()]
    overall = _ranks(all_rows)
    assert [(x.unit.name, x.rank_all) for x in r.ranking] == sorted(
        ((n, overall[n]) for n, _ in all_rows), key=lambda p: (p[1], order[p[0]]))
    for s in r.summaries:
        mine = [(n, e.score(plan)) for n, e in scenario.expected.items() if e.summary == s.summary.name]
        ranks = _ranks(mine)
        assert [(x.unit.name, x.rank) for x in s.rows] == sorted(
            ((n, ranks[n]) for n, _ in mine), key=lambda p: (p[1], order[p[0]]))
    # the scenario does contain ties
    scores = [s for _, s in all_rows]
    assert len(set(scores)) < len(scores)


def test_missing_and_no_returns(scenario):
    plan, r = scenario.plan, scenario.result
    missing_findings = [f.unit for f in r.findings if f.code == "unit-missing"]
    no_returns = [f.summary for f in r.findings if f.code == "summary-no-returns"]
    expect_missing, expect_silent = [], []
    for s in plan.summary_units:
        gone = [u.name for u in s.units if u.name in scenario.missing]
        res = next(x for x in r.summaries if x.summary.name == s.name)
        assert [u.name for u in res.missing] == gone
        if len(gone) == len(s.units):
            expect_silent.append(s.name)
            assert not res.has_returns
        else:
            expect_missing += gone
            assert res.has_returns
    assert no_returns == expect_silent == list(SILENT)
    assert missing_findings == expect_missing
    assert len(expect_missing) == len(scenario.missing) - 3


def test_quota(scenario):
    plan, r = scenario.plan, scenario.result
    breaches = []
    for s in plan.summary_units:
        n = len(s.units)
        high = [name for name, e in scenario.expected.items() if e.summary == s.name and e.score(plan) >= 95]
        res = next(x for x in r.summaries if x.summary.name == s.name)
        assert sorted(x.unit.name for x in res.high) == sorted(high)
        assert res.quota == n // 3
        assert res.breach == (len(high) * 3 > n)
        if len(high) * 3 > n:
            breaches.append(s.name)
    assert LENIENT in breaches and AT_QUOTA not in breaches
    assert len([1 for n, e in scenario.expected.items() if e.summary == AT_QUOTA and e.score(plan) >= 95]) == 2
    assert [f.summary for f in r.findings if f.code == "quota-exceeded"] == breaches


def test_findings_are_exactly_the_expected_ones(scenario):
    r = scenario.result
    codes = {}
    for f in r.findings:
        codes[f.code] = codes.get(f.code, 0) + 1
    typed_text = sum(e.text_typed for e in scenario.expected.values())
    no_exam = sum(1 for e in scenario.expected.values() if not e.exam)
    assert typed_text > 0 and no_exam > 0
    expected = {
        "test-incomplete": no_exam,
        "deduction-text-number": typed_text,
        "file-duplicate-copy": 2,
        "unit-duplicate": 1,
        "unit-missing": len(scenario.missing) - 3,
        "summary-no-returns": 2,
        "quota-exceeded": len([s for s in r.summaries if s.breach]),
    }
    assert codes == expected
    dup = next(f for f in r.findings if f.code == "unit-duplicate")
    assert dup.unit == OLD_VERSION and dup.file == scenario.expected[OLD_VERSION].file


# --------------------------------------------------------------------------- the summary workbook


def _rows(ws, first=4):
    return [row for row in ws.iter_rows(min_row=first, values_only=True)]


def test_summary_workbook(scenario):
    plan, r = scenario.plan, scenario.result
    path = scenario.out / "评分汇总表.xlsx"
    wb = openpyxl.load_workbook(path)
    with_returns = [s.name for s in plan.summary_units if s.name not in SILENT]
    assert wb.sheetnames == ["回收情况", "问题清单", "全部单位排名", "统计分析", "扣分明细", *with_returns, "文件清单", "汇总表信息"]
    assert wb["汇总表信息"].sheet_state == "hidden"  # who made it, for whom: read back when sent up the chain

    order = {u.name: i for i, u in enumerate(plan.units)}
    for name in with_returns:
        ws = wb[name]
        assert ws["A1"].value == plan.summary_title
        info = ws["A2"].value
        assert info.startswith(f"汇总单位：{name}") and "汇总时间：2017年11月06日" in info
        assert [c.value for c in ws[3]][:5] == ["排名", "被核查单位", "特色亮点", "扣分情况", "得分"]
        mine = [(n, e.score(plan)) for n, e in scenario.expected.items() if e.summary == name]
        ranks = _ranks(mine)
        want = sorted(mine, key=lambda p: (-p[1], order[p[0]]))
        rows = _rows(ws)[: len(want)]
        assert [(x[0], x[1], D(str(x[4]))) for x in rows] == [(ranks[n], n, s) for n, s in want]
        for x in rows:
            exp = scenario.expected[x[1]]
            lines = (x[3] or "").split("\n") if x[3] else []
            deducted = [it.seq for it in plan.rubric.items if exp.used(plan, it.seq) > 0]
            assert len(lines) == len(deducted)
            for seq, line in zip(deducted, lines):
                assert line.startswith(f"第{seq}项扣{exp.used(plan, seq).normalize():f}分：")
                if seq in exp.reasons:
                    assert exp.reasons[seq] in line
                if seq == plan.rules.test_item and exp.failed(plan):
                    assert f"不及格{exp.failed(plan)}人" in line
            for seq, h in exp.highlights.items():
                assert f"第{seq}项：{h}" in (x[2] or "")
        after = _rows(ws)[len(want):]
        notes = [x[0] for x in after if x[0]]
        gone = [u.name for u in plan.summary(name).units if u.name in scenario.missing]
        if gone:
            assert notes[0] == f"未交（{len(gone)}个）：{'、'.join(gone)}"
        assert notes[-1].startswith("95分及以上")
        n_high = len([1 for n, sc in mine if sc >= 95])
        assert f"95分及以上 {n_high} 个，上限 {len(plan.summary(name).units) // 3} 个" in notes[-1]
        assert ("超出规定" in notes[-1]) == (n_high * 3 > len(plan.summary(name).units))

    ws = wb["全部单位排名"]
    rows = [x for x in _rows(ws) if x[0] is not None]
    assert [(x[0], x[1], D(str(x[3])), x[4], x[6]) for x in rows] == [
        (row.rank_all, row.unit.name, scenario.expected[row.unit.name].score(plan), "评分表",
         scenario.expected[row.unit.name].file) for row in r.ranking]

    ws = wb["问题清单"]
    assert len([x for x in _rows(ws) if x[0] is not None]) == len(r.findings)

    ws = wb["扣分明细"]
    got = [(x[0], x[2], D(str(x[3]))) for x in _rows(ws) if x[0] is not None]
    assert got == [(row.unit.name, it.seq, scenario.expected[row.unit.name].used(plan, it.seq))
                   for row in r.ranking for it in plan.rubric.items
                   if scenario.expected[row.unit.name].used(plan, it.seq) > 0]

    ws = wb["文件清单"]
    rows = [x for x in _rows(ws) if x[0] is not None]
    assert len(rows) == len(r.files) == len(scenario.file_bytes)
    for x in rows:
        assert x[9] == hashlib.sha256(scenario.file_bytes[x[1]]).hexdigest()

    ws = wb["回收情况"]
    total = next(x for x in _rows(ws) if x[0] == "合计")
    assert total[2:5] == (137, len(scenario.expected), len(scenario.missing))


def test_text_starting_with_equals_stays_text(scenario):
    path = scenario.out / "评分汇总表.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["文件清单"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == FORMULA_FILE]
    assert cells and all(c.data_type == "s" for c in cells)
    z = zipfile.ZipFile(path)
    # stored as text (<t>, shared or inline), never as a formula
    texts = "".join(re.findall(r"<t[ >][^<]*</t>", "".join(z.read(n).decode("utf-8") for n in z.namelist()
                                                          if n.endswith(".xml"))))
    assert "HYPERLINK" in texts and "SUM(1,1)州科技局" in texts
    for name in z.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            xml = z.read(name).decode("utf-8")
            for f in re.findall(r"<f[ >].*?</f>", xml, re.S):
                assert "HYPERLINK" not in f and "SUM(1,1)" not in f and "1+1" not in f


# --------------------------------------------------------------------------- one committee merging its own returns


def test_committee_merging_only_its_own_returns(plan, tmp_path):
    own = plan.summary("第三核查组")
    collected = tmp_path / "collected"
    collected.mkdir()
    rng = random.Random(3)
    expected = {}
    for u in own.units[1:]:  # the first one has not come back yet
        e = _fill_entries(plan, u, rng, harsh=0.3)
        entries = FormEntries(date=e.date, test=list(e.exam), items={s: ItemEntry(reason=e.reasons[s], deduction=_typed(d))
                                                  for s, d in e.deductions.items()})
        (collected / f"{u.name}.xlsx").write_bytes(build_form(plan, u, entries))
        expected[u.name] = e.score(plan)
    r = merge(plan, collected, today=TODAY, workers=1)
    no_returns = [f.summary for f in r.findings if f.code == "summary-no-returns"]
    assert no_returns == [s.name for s in plan.summary_units if s.name != own.name]
    assert len(set(no_returns)) == len(no_returns)
    assert [f.unit for f in r.findings if f.code == "unit-missing"] == [own.units[0].name]
    assert all(f.summary == own.name for f in r.findings if f.code != "summary-no-returns")
    assert {row.unit.name: row.scored.score for row in r.ranking} == expected
    write_summary(r, tmp_path / "out.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert wb.sheetnames == ["回收情况", "问题清单", "全部单位排名", "统计分析", "扣分明细", own.name, "文件清单", "汇总表信息"]
    # what this committee sends up: --summary-unit gives its own 附件3 first, and nothing of the 21 others
    own_view = r.only(own.name)
    assert [s.summary.name for s in own_view.summaries] == [own.name] and own_view.expected == len(own.units)
    assert not [f for f in own_view.findings if f.code == "summary-no-returns"]
    write_summary(own_view, tmp_path / "own.xlsx")
    assert openpyxl.load_workbook(tmp_path / "own.xlsx").sheetnames == [
        own.name, "回收情况", "问题清单", "全部单位排名", "统计分析", "扣分明细", "文件清单", "汇总表信息"]


def test_worker_processes_give_the_same_result(scenario, monkeypatch):
    """Records come back from the worker processes pickled in their own compact form (items as
    tuples, Decimals as text, values shared): the merge must not be able to tell."""
    import xlsx_tool.judging.merge as M

    monkeypatch.setattr(M, "PARALLEL_FROM", 1)  # the pool even for this small folder
    pooled = merge(scenario.plan, scenario.collected, today=TODAY, workers=2)
    assert to_json(pooled) == to_json(scenario.result)
    for a, b in zip(pooled.ranking, scenario.result.ranking):
        assert a.scored.unit is scenario.plan.unit(a.unit.name)  # the plan's own unit, not a copy's twin
        fields = lambda s: [(i.seq, i.max, i.deduction, i.score, i.raw, i.reason, i.highlight, i.cell, i.note)  # noqa: E731
                            for i in s.items] + [s.raw_total, s.score, s.date, s.findings]
        assert fields(a.scored) == fields(b.scored)


def _package(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        return {i.filename: z.read(i) for i in z.infolist()}


def test_outputs_written_on_two_cores_are_the_same_bytes(scenario, tmp_path, monkeypatch):
    """Two merges of the same returns give the same bytes (the correction lists too: dated by the
    merge, not the clock), and so does a merge whose returns are read by a pool of processes."""
    import xlsx_tool.judging.merge as M
    from xlsx_tool.interfaces.cli import cli

    def run(out):
        res = CliRunner().invoke(cli, ["merge", str(scenario.collected), "--out", str(out),
                                       "--date", TODAY.isoformat()])  # the embedded plan, as scenario's
        assert res.exit_code in (0, 1), res.output
        return {p.relative_to(out).as_posix(): _package(p) for p in sorted(out.rglob("*.xlsx"))}

    alone = run(tmp_path / "alone")
    assert run(tmp_path / "again") == alone
    monkeypatch.setattr(M, "PARALLEL_FROM", 1)
    assert run(tmp_path / "shared") == alone
    assert any(name.startswith("退回修改清单/") for name in alone)
