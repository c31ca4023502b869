"""The reporting chain, on real files: committees send up their own 评分汇总表 (made by this tool, or typed
by hand in a workbook or a Word table) and their 简要核查报告, by e-mail or as files, beside the forms the
office received directly; the office's merge combines them all.

Scenario (one collected/ folder):
- 第一核查组: its 10 forms, directly;
- 州委办直属机关党委: merged its own 4 forms with `xlsx-tool merge --summary-unit`, and e-mailed the summary (.eml)
  with its report (.docx);
- 州委统战部直属机关党委: a hand-made 附件3 in .xlsx (openpyxl), with every rule broken once;
- 州科技局 / 州民政局直属机关党委: hand-made 附件3 re-saved by LibreOffice as .xls / .ods;
- 州住建局直属机关党委: its 附件3 as a Word table; its report as a .pdf (tracked by name);
- 州委台办's form also came directly, with a score other than the hand-made table's.
The combined ranking is compared with an independent computation: forms from their deductions, the tool-made
summary from its committee's forms, hand-made tables as typed.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import json
import os
import subprocess
import sys
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl
import pytest
from lo import convert
from returns import entries, write_form

from xlsx_tool.judging.merge import COUNTED, REFUSED, merge
from xlsx_tool.outputs.summary import build_summary, to_json, write_summary

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2017, 11, 6)
D = Decimal
CAP = D(98)
FIRST_GROUP = "第一核查组"
OWN = "州委办直属机关党委"

# forms: unit -> {item: deduction}
FIRST_GROUP_FORMS = {"州纪委监察局": {5: 1}, "州委组织部": {}, "州委宣传部": {1: 2, 8: 0.5}, "州委统战部": {3: 2},
                     "州委政法委": {}, "州政府办": {4: 2}, "州发改委": {12: 2, 13: 1}, "州人社局": {},
                     "州经信委": {15: 2}, "州国土资源局": {6: 2}}
OWN_FORMS = {"州委政策研究室": {5: 2, 1: 2}, "州接待处": {}, "州档案局": {1: 2, 10: 2}, "州委党史研究室": {7: 1, 12: 2, 14: 1}}


def score(deductions: dict[int, float]) -> Decimal:
    return CAP - sum((D(str(v)) for v in deductions.values()), D(0))


def form_entries(deductions: dict[int, float]):
    return entries(**{f"i{seq}": (v, f"第{seq}项未按要求落实") for seq, v in deductions.items()})


def hand_annex3(path: Path, summary_text: str, rows: list[tuple]) -> None:
    """A 附件3 as a clerk types it in Excel or WPS: 附件3, the title, the 汇总单位 line, the header, a row per unit."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "附件3："
    ws["A2"] = "2017年三季度州直单位党组织书记履行党建工作责任实地核查评分汇总表"
    ws.merge_cells("A2:E2")
    ws["A3"] = f"汇总单位：{summary_text}（盖章）"
    ws["D3"] = "汇总时间：2017年11月2日"
    for c, h in enumerate(("排名", "被核查单位", "特色亮点", "扣分情况", "得 分"), 1):
        ws.cell(4, c, h)
    for r, row in enumerate(rows, 5):
        for c, v in enumerate(row, 1):
            ws.cell(r, c, v)
    wb.save(path)


def word_annex3(path: Path, summary_text: str, rows: list[tuple]) -> None:
    d = docx.Document()
    d.add_paragraph("附件3")
    d.add_paragraph("2017年三季度州直单位党组织书记履行党建工作责任实地核查评分汇总表")
    d.add_paragraph(f"汇总单位：{summary_text}        汇总时间：2017年11月3日")
    t = d.add_table(rows=1 + len(rows), cols=5)
    for c, h in enumerate(("排名", "被核查单位", "特色亮点", "扣分情况", "得分")):
        t.cell(0, c).text = h
    for r, row in enumerate(rows, 1):
        for c, v in enumerate(row):
            t.cell(r, c).text = str(v)
    d.save(path)


def report_docx(path: Path, title: str) -> None:
    d = docx.Document()
    d.add_paragraph(title)
    d.add_paragraph("州直工委：")
    d.add_paragraph("现将我委三季度核查情况报告如下。")
    d.save(path)


def eml(path: Path, sender: str, attachments: list[Path]) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "983014926@qq.com", "三季度核查评分汇总表和简要核查报告"
    msg["Date"] = "Fri, 03 Nov 2017 09:30:00 +0800"
    msg.set_content("请查收。")
    for a in attachments:
        msg.add_attachment(a.read_bytes(), maintype="application", subtype="octet-stream", filename=a.name)
    path.write_bytes(msg.as_bytes(policy=email.policy.SMTP))


# 州委统战部直属机关党委's hand-made table: every check broken once
UNITED_FRONT = [
    (1, "州 委 台 办", "党建带群建有特色", "第13项扣1分：关建工作未推进", 96),  # 97 vs stated 1: sum mismatch (98-96=2)
    (3, "州工商联", "", "第5项扣1分", 97),  # rank 3 where its score ranks 1st… (97 beats 96): wrong rank
    (2, "州侨联", "", "", "95分"),  # text score, fine; with 97 and 96 this breaches 1/3 (quota 1 of 4)
    (4, "州民宗委", "", "", 99),  # over the cap
    (5, "州不存在局", "", "", 90),  # not in the plan
    (6, "州公路局", "", "第1项扣2分", 96),  # belongs to 州交通运输局直属机关党委
]
SCIENCE = [(1, "州科协", "科普进社区", "", 98), (2, "州地震局", "", "第8项扣0.5分", 97.5)]
CIVIL = [(1, "州肿瘤医院", "", "第3项扣1分", 97), (2, "州残联", "", "第9项扣2分", 96)]  # 州残联 second
HOUSING = [(1, "州城乡规划管理处", "", "", 98), (2, "州建筑规划勘察设计院", "", "第14项扣1分", 97)]


@pytest.fixture(scope="module")
def chain(plan, tmp_path_factory):
    base = tmp_path_factory.mktemp("chain")
    collected = base / "collected"
    collected.mkdir()
    for unit, deds in FIRST_GROUP_FORMS.items():
        write_form(collected / "第一核查组", f"{unit}.xlsx", plan, unit, form_entries(deds))
    # the committee's own merge, with the tool
    own = base / "committee"
    for unit, deds in OWN_FORMS.items():
        write_form(own / "collected", f"{unit}.xlsx", plan, unit, form_entries(deds))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "xlsx_tool", "merge", str(own / "collected"), "--out", str(own / "out"),
                          "--summary-unit", OWN, "--date", "2017-11-02"], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    sent = own / "州委办直属机关党委-评分汇总表.xlsx"
    sent.write_bytes((own / "out" / "评分汇总表.xlsx").read_bytes())
    report_docx(own / "简要报告.docx", "州委办直属机关党委关于2017年三季度党建工作责任实地核查情况的简要核查报告")
    eml(collected / "州委办机关党委来信.eml", "州委办机关党委 <wb@example.com>", [sent, own / "简要报告.docx"])
    # hand-made tables
    hand_annex3(collected / "统战部汇总.xlsx", "州委统战部直属机关党委", UNITED_FRONT)
    lo_dir = base / "lo"
    lo_dir.mkdir()
    hand_annex3(lo_dir / "科技局汇总.xlsx", "州科技局机关党委", SCIENCE)
    hand_annex3(lo_dir / "民政局汇总.xlsx", "州民政局直属机关党委", CIVIL)
    convert([lo_dir / "科技局汇总.xlsx"], "xls", collected)
    convert([lo_dir / "民政局汇总.xlsx"], "ods", collected)
    word_annex3(collected / "住建局评分汇总表.docx", "州住建局直属机关党委", HOUSING)
    (collected / "州住建局直属机关党委简要核查报告.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\n")
    # 州委台办's own form came too, scoring 97 where the hand-made table says 96
    write_form(collected, "州委台办.xlsx", plan, "州委台办", form_entries({13: 1}))
    result = merge(plan, collected, today=TODAY, workers=1)
    return result, collected


def found(result, code, **where):
    return [f for f in result.findings if f.code == code and all(getattr(f, k) == v for k, v in where.items())]


def test_combined_ranking_equals_an_independent_computation(chain):
    result, _ = chain
    expected = {u: score(d) for u, d in {**FIRST_GROUP_FORMS, **OWN_FORMS}.items()}
    expected["州委台办"] = score({13: 1})  # its form beats the hand-made table
    expected.update({"州工商联": D(97), "州侨联": D(95), "州公路局": D(96)})
    expected.update({u: D(str(s)) for _, u, _, _, s in SCIENCE + CIVIL + HOUSING})
    got = {r.unit.name: r.scored.score for r in result.ranking}
    assert got == expected
    # competition ranks over all, ties sharing a rank
    ordered = sorted(expected.values(), reverse=True)
    assert all(r.rank_all == 1 + sum(s > r.scored.score for s in ordered) for r in result.ranking)


def test_each_score_is_marked_with_its_route(chain):
    result, _ = chain
    source = {r.unit.name: r.scored.source for r in result.ranking}
    assert {source[u] for u in FIRST_GROUP_FORMS} == {"评分表"}
    assert {source[u] for u in OWN_FORMS} == {"本工具汇总表"}
    assert source["州委台办"] == "评分表" and source["州工商联"] == "手工汇总表"
    assert result.routes() == {"评分表": 11, "本工具汇总表": 4, "手工汇总表": 9}
    data = to_json(result)
    assert {u["unit"]: u["source"] for u in data["units"]} == source
    wb = openpyxl.load_workbook(__import__("io").BytesIO(build_summary(result)))
    ranking = wb["全部单位排名"]
    header = [c.value for c in ranking[3]]
    rows = {r[1]: r[header.index("来源")] for r in ranking.iter_rows(min_row=4, values_only=True) if r[0]}
    assert rows == source
    notes = " ".join(str(c.value) for row in wb["州委统战部直属机关党委"].iter_rows() for c in row if c.value)
    assert "得分取自上报的汇总表" in notes and "州工商联（手工汇总表）" in notes


def test_tool_made_summary_is_recomputed_from_its_deductions(chain):
    result, _ = chain
    rows = {r.unit.name: r for r in result.ranking}
    for unit, deds in OWN_FORMS.items():
        items = {i.seq: i.deduction for i in rows[unit].scored.items if i.deduction}
        assert items == {k: D(str(v)) for k, v in deds.items()}
    mail = [f for f in result.files if f.name.startswith("州委办机关党委来信.eml/")]
    assert {f.kind for f in mail} == {"本工具汇总表", "简要核查报告"}
    assert all(f.sender == "州委办机关党委 <wb@example.com>" and f.sent == "2017-11-03 09:30" for f in mail)
    assert not found(result, "tool-summary-recomputed")


def test_hand_made_table_checks(chain, plan):
    result, _ = chain
    file = "统战部汇总.xlsx"
    mismatch, = found(result, "hand-deductions-sum", file=file)
    assert mismatch.unit == "州委台办" and mismatch.cell == "B5" and mismatch.sheet == "Sheet1"
    rank, = [f for f in found(result, "hand-rank-wrong", file=file) if f.unit == "州工商联"]
    assert "第 1 名" in rank.message
    over, = found(result, "hand-score-out-of-range", file=file)
    assert over.unit == "州民宗委" and over.severity == "错误"
    unknown, = found(result, "hand-unit-unknown", file=file)
    assert "州不存在局" in unknown.message
    elsewhere, = found(result, "hand-unit-elsewhere", file=file)
    assert elsewhere.unit == "州公路局" and elsewhere.summary == "州交通运输局直属机关党委"
    breach, = found(result, "quota-exceeded", summary="州委统战部直属机关党委")
    assert "州工商联" in breach.message and "州侨联" in breach.message
    assert found(result, "unit-missing", unit="州民宗委")  # its score was refused: missing for its committee
    assert found(result, "hand-scores-taken", summary="州委统战部直属机关党委")


def test_a_form_beats_a_summary_and_the_disagreement_is_named(chain):
    result, _ = chain
    f, = found(result, "source-score-mismatch", unit="州委台办")
    assert f.file == "州委台办.xlsx" and "统战部汇总.xlsx" in f.message and "97" in f.message and "96" in f.message


def test_xls_ods_and_word_tables_are_read_like_the_workbook(chain):
    result, _ = chain
    kinds = {f.name: (f.kind, f.status, f.covers) for f in result.files}
    assert kinds["科技局汇总.xls"] == ("手工汇总表", COUNTED, ["州科技局直属机关党委"])
    assert kinds["民政局汇总.ods"] == ("手工汇总表", COUNTED, ["州民政局直属机关党委"])
    assert kinds["住建局评分汇总表.docx"] == ("手工汇总表", COUNTED, ["州住建局直属机关党委"])
    civil = next(s for s in result.summaries if s.summary.name == "州民政局直属机关党委")
    assert [(r.rank, r.unit.name) for r in civil.rows] == [(1, "州肿瘤医院"), (2, "州残联")]


def test_reports_and_summaries_are_tracked_per_summary_unit(chain):
    result, _ = chain
    by = {s.summary.name: s for s in result.summaries}
    assert by[OWN].report_files == ["州委办机关党委来信.eml/简要报告.docx"]
    assert by["州住建局直属机关党委"].report_files == ["州住建局直属机关党委简要核查报告.pdf"]
    assert by[OWN].summary_files == ["州委办机关党委来信.eml/州委办直属机关党委-评分汇总表.xlsx"]
    assert not by[FIRST_GROUP].summary_files and by[FIRST_GROUP].summary_in  # every form in: the office makes it
    assert not by["州委统战部直属机关党委"].report_files
    wb = openpyxl.load_workbook(__import__("io").BytesIO(build_summary(result)))
    ws = wb["回收情况"]
    header = [c.value for c in ws[3]]
    states = {r[1]: (r[header.index("汇总表")], r[header.index("简要核查报告")])
              for r in ws.iter_rows(min_row=4, values_only=True) if r[1]}
    assert states[OWN] == ("已交", "已交") and states[FIRST_GROUP] == ("不需要", "未交")
    assert states["州委组织部直属机关党委"] == ("未交", "未交")


def test_status_says_who_still_owes_what(chain, tmp_path):
    _, collected = chain
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "gbk:strict"}
    run = subprocess.run([sys.executable, "-m", "xlsx_tool", "status", str(collected), "--date", "2017-11-05"],
                         capture_output=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr.decode("gbk", "replace")
    out = run.stdout.decode("gbk")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "州委统战部直属机关党委" in line)
    block = "\n".join([lines[at]] + [x for x in lines[at + 1:at + 4] if x.startswith("       ")])
    assert "还应上报：简要核查报告" in block and "联系：" in block
    assert "州委办直属机关党委  4/4  汇总表 已交  简要核查报告 已交" in out


def test_the_combined_summary_can_be_sent_up_again(chain, plan, tmp_path):
    """A summary of summaries is itself a tool-made summary: read back, it gives the same scores."""
    result, _ = chain
    (tmp_path / "up").mkdir()
    write_summary(result, tmp_path / "up" / "评分汇总表.xlsx")
    again = merge(plan, tmp_path / "up", today=TODAY, workers=1)
    [rec] = again.files
    assert rec.kind == "本工具汇总表" and rec.status == COUNTED
    assert {r.unit.name: r.scored.score for r in again.ranking} == {r.unit.name: r.scored.score for r in result.ranking}
    # what was recomputed before is recomputed again; what was taken as reported stays so
    assert {r.unit.name: r.scored.source == "手工汇总表" for r in again.ranking} == {
        r.unit.name: r.scored.source == "手工汇总表" for r in result.ranking}
    assert not found(again, "tool-summary-recomputed")


def test_a_summary_of_another_period_is_refused(plan, tmp_path):
    own = tmp_path / "own"
    write_form(own, "州科协.xlsx", plan, "州科协", form_entries({}))
    r = merge(plan, own, today=TODAY, workers=1).only("州科技局直属机关党委")
    data = build_summary(r)
    import io
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            body = z.read(info)
            w.writestr(info, body.replace(plan.id.encode(), b"xiangxi-zhizhi-2017q2"))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "二季度汇总.xlsx").write_bytes(out.getvalue())
    again = merge(plan, tmp_path / "c", today=TODAY, workers=1)
    [rec] = again.files
    assert rec.status == REFUSED and rec.findings[0].code == "identity-other-plan"
    assert json.dumps(to_json(again), ensure_ascii=False)
