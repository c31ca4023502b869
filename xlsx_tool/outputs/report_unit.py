"""简要核查报告 of one summary unit: its wording, as `Block`s (see report_text)."""

from __future__ import annotations

from decimal import Decimal

from xlsx_tool.decimals import as_text
from xlsx_tool.judging.merge import MergeResult, Row, SummaryResult
from xlsx_tool.outputs.report_text import (NO_DATE, Block, Doc, capped_sentence, deduction_statement, fmt_date,
                                           fmt_pct, head, item_labels, numbers, one_line, ordered_items,
                                           quota_sentence, refused_sentence, rules_intro, signature, todo, when_done,
                                           window)


def _unit_highlights(doc: Doc, result: MergeResult, rows: list[Row]) -> None:
    label = item_labels(result)
    lines = []
    for r in rows:
        parts = [f"{one_line(i.highlight)}（第{i.seq}项，{label[i.seq]}）" for i in r.scored.items if i.highlight]
        if parts:
            lines.append(f"{r.unit.name}：{'；'.join(parts)}。")
    if not lines:
        doc.para("交回的评分表“特色亮点”栏均未填写。" + todo("特色亮点"))
        return
    doc.para("据评分表“特色亮点”栏，各单位的特色做法主要有（文字照录评分表，请提炼）：")
    for i, line in enumerate(lines, 1):
        doc.para(f"{i}. {line}")


def _unit_problems(doc: Doc, result: MergeResult, rows: list[Row]) -> None:
    items = ordered_items(rows)
    if not items:
        doc.para("交回的评分表各项均未扣分。" + todo("存在的问题"))
        return
    label = item_labels(result)
    doc.para(f"据评分表“扣分”和“扣分情况”栏，{len(items)}个评分项目有扣分，按扣分单位数从多到少依次为：")
    for n, (seq, hits) in enumerate(items, 1):
        lost = sum((i.deduction for _, i in hits), Decimal(0))
        doc.para(f"{n}. 第{seq}项（{label[seq]}）：{len(hits)}个单位扣分（占{fmt_pct(len(hits), len(rows))}），"
                 f"共扣{as_text(lost)}分。涉及单位：{'；'.join(deduction_statement(r.unit.name, i) for r, i in hits)}。")
    doc.para(todo("问题产生的原因分析"))


def _missing_sentence(result: MergeResult, s: SummaryResult) -> str:
    if not s.missing:
        text = f"{s.summary.name}所核查的{len(s.summary.units)}个单位的评分表均已收到。"
    else:
        text = (f"截至{fmt_date(result.merged_on)}，以下{len(s.missing)}个单位的评分表尚未收到："
                f"{'、'.join(u.name for u in s.missing)}。")
    return text + refused_sentence(s.refused)


def summary_blocks(result: MergeResult, s: SummaryResult) -> list[Block]:
    """The report of one summary unit."""
    plan, su, rows = result.plan, s.summary, s.rows
    doc = Doc()
    head(doc, result, su.name)
    doc.add("salutation", f"{plan.issuer}：")
    n = len(su.units)
    findings = [f for f in result.findings if f.summary == su.name]
    intro = (f"按照《{plan.title}》安排，{su.name}负责对{n}个单位党组织书记履行党建工作责任情况进行实地核查，"
             f"方案规定的核查时间为{window(su)}。")
    doc.para(intro + ("现将核查情况简要报告如下。" if rows else ""))

    doc.section("核查基本情况")
    doc.para(f"核查对象（{n}个）：{'、'.join(u.display for u in su.units)}。")
    people = [f"{role}{p.name}" + (f"（{p.title}）" if p.title else "")
              for role, p in (("组长", su.leader), ("联络员", su.liaison)) if p]
    doc.para(f"{su.kind}{'，'.join(people)}；" + todo("其他参加人员") if people else todo("参加核查人员"))
    if rows:
        doc.para(when_done(rows) + todo("核查方式和过程"))

    if not rows:
        doc.section("评分表报送情况")
        text = f"截至{fmt_date(result.merged_on)}，尚未收到{su.name}报送的评分表（应交{n}份，已采用0份）"
        if s.refused:
            text += f"；收到的{s.refused}个文件均未能采用，原因见评分汇总表“文件清单”和“问题清单”"
        doc.para(text + "。被核查单位的得分、特色亮点、存在问题、评分标准执行情况和排名均无法汇总。" + todo("核查情况"))
        doc.section("未交评分表的单位")
        doc.para(_missing_sentence(result, s))
        signature(doc, result, su.name)
        return doc.blocks

    doc.section("总体情况")
    numbers(doc, result, rows, n, findings)
    doc.section("特色亮点")
    _unit_highlights(doc, result, rows)
    doc.section("存在的主要问题")
    _unit_problems(doc, result, rows)
    doc.section("评分标准执行情况")
    doc.para(rules_intro(result) + quota_sentence(result, s) + capped_sentence(result, findings))
    doc.section("评分排名")
    doc.para("各单位得分及排名如下（得分按扣分重新计算，同分同名次）：")
    doc.table(["排名", "被核查单位", "得分", "核查时间"],
              [[str(r.rank), r.unit.name, as_text(r.scored.score),
                r.scored.date.isoformat() if r.scored.date else NO_DATE] for r in rows],
              [1.6, 7.4, 2.4, 4.2])
    doc.section("未交评分表的单位")
    doc.para(_missing_sentence(result, s))
    doc.section("下一步工作打算")
    doc.para(todo("针对存在问题拟采取的措施"))
    signature(doc, result, su.name)
    return doc.blocks


