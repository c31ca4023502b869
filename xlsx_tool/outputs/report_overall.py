"""The overall 简要核查报告, over every summary unit: its wording, as `Block`s (see report_text).

Lists of units are tables, so the report stays short (9 pages for the demo's 133 returns).
"""

from __future__ import annotations

from decimal import Decimal

from xlsx_tool.decimals import as_text
from xlsx_tool.judging.merge import MergeResult, Row
from xlsx_tool.outputs.report_text import (Block, Doc, capped_sentence, fmt_avg, fmt_date, fmt_pct, head,
                                           item_labels, numbers, one_line, ordered_items, quota_sentence,
                                           refused_sentence, rules_intro, signature, todo, when_done, window)
from xlsx_tool.outputs.stats import overall_average


def _overall_highlights(doc: Doc, rows: list[Row]) -> None:
    """One table row per strength as typed (the same words from several units share a row)."""
    by_text: dict[str, list[str]] = {}
    for r in rows:
        for i in r.scored.items:
            if i.highlight:
                units = by_text.setdefault(one_line(i.highlight), [])
                if r.unit.name not in units:
                    units.append(r.unit.name)
    if not by_text:
        doc.para("交回的评分表“特色亮点”栏均未填写。" + todo("特色亮点"))
        return
    units = {u for us in by_text.values() for u in us}
    doc.para(f"据评分表“特色亮点”栏，{len(units)}个单位填写了特色做法（文字照录评分表，请提炼；"
             f"各单位的具体做法见各汇总单位的简要核查报告）：")
    order = sorted(by_text.items(), key=lambda kv: -len(kv[1]))  # stable: first typed first among equals
    doc.table(["序号", "特色亮点", "单位数", "填写单位"],
              [[str(n), text, str(len(us)), "、".join(us)] for n, (text, us) in enumerate(order, 1)],
              [1.3, 4.6, 1.9, 7.8])


def _overall_problems(doc: Doc, result: MergeResult, rows: list[Row]) -> None:
    items = ordered_items(rows)
    if not items:
        doc.para("交回的评分表各项均未扣分。" + todo("存在的问题"))
        return
    label = item_labels(result, width=15)  # one line of its column
    doc.para(f"据评分表“扣分”和“扣分情况”栏，{len(items)}个评分项目有扣分，按扣分单位数从多到少排列如下"
             f"（各单位的扣分和原因见各汇总单位的简要核查报告和评分汇总表“扣分明细”）：")
    body = []
    for seq, hits in items:
        lost = sum((i.deduction for _, i in hits), Decimal(0))
        body.append([f"第{seq}项", label[seq], str(len(hits)), fmt_pct(len(hits), len(rows)), as_text(lost)])
    doc.table(["项目", "评分内容", "扣分单位数", "占比", "共扣分"], body, [2.0, 7.0, 2.6, 1.9, 2.1])
    doc.para(todo("问题产生的原因分析"))


def ranking_pairs(rows: list[Row]) -> tuple[list[str], list[list[str]], list[float]]:
    """The whole ranking two units to a table row (ranks 1 and 2, then 3 and 4 …): half the pages of one
    unit a row.  Each summary unit's own report and the 评分汇总表 give the summary unit of each."""
    cells = [[str(r.rank_all), r.unit.name, as_text(r.scored.score)] for r in rows]
    if len(cells) % 2:
        cells.append(["", "", ""])
    body = [cells[i] + cells[i + 1] for i in range(0, len(cells), 2)]
    return ["排名", "被核查单位", "得分"] * 2, body, [1.3, 4.8, 1.4] * 2


def overall_blocks(result: MergeResult) -> list[Block]:
    """The overall report, over every summary unit."""
    plan = result.plan
    doc = Doc()
    head(doc, result, None)
    rows, total = result.ranking, result.expected
    doc.para(f"按照《{plan.title}》安排，本次共有{len(plan.summary_units)}个汇总单位对{total}个单位"
             f"党组织书记履行党建工作责任情况进行实地核查。" + ("现将核查情况简要报告如下。" if rows else ""))

    doc.section("核查基本情况")
    kinds: dict[str, list] = {}
    for su in plan.summary_units:
        kinds.setdefault(su.kind, []).append(su)
    for kind, sus in kinds.items():
        windows = list(dict.fromkeys(window(su) for su in sus))
        names = f"（{'、'.join(su.name for su in sus)}）" if len(sus) <= 5 else ""  # a long list is in the table below
        doc.para(f"{len(sus)}个{kind}{names}核查{sum(len(su.units) for su in sus)}个单位，"
                 f"方案规定的核查时间为{'；'.join(windows)}。")
    if rows:
        doc.para(when_done(rows) + todo("核查方式和过程"))

    doc.section("总体情况")
    if not rows:
        doc.para(f"截至{fmt_date(result.merged_on)}，尚未收到任何可采用的评分表（应交{total}份），"
                 f"得分、特色亮点、存在问题和排名均无法汇总。" + todo("核查情况"))
    else:
        numbers(doc, result, rows, total, result.findings)
        doc.para("各汇总单位报送和得分情况如下：")
        high = as_text(plan.rules.high_score)
        body = []
        for s in result.summaries:
            avg = overall_average(result, s.rows)
            body.append([s.summary.name, str(len(s.summary.units)), str(len(s.rows)),
                         fmt_avg(avg) if avg is not None else "—", f"{len(s.high)}/{s.quota}" if s.rows else "—"])
        doc.table(["汇总单位", "应交", "已交", "平均分", f"{high}分及以上/上限"], body, [5.9, 1.3, 1.3, 1.8, 5.3])

        doc.section("特色亮点")
        _overall_highlights(doc, rows)
        doc.section("存在的主要问题")
        _overall_problems(doc, result, rows)

        doc.section("评分标准执行情况")
        breaches = result.quota_breaches
        if breaches:
            doc.para(rules_intro(result) + f"{len(breaches)}个汇总单位超出上限：")
            for i, s in enumerate(breaches, 1):
                doc.para(f"{i}. {quota_sentence(result, s)}")
        else:
            checked = sum(1 for s in result.summaries if s.rows)
            doc.para(rules_intro(result) + f"已报送的{checked}个汇总单位{as_text(plan.rules.high_score)}分及以上"
                                            f"单位数均未超过上限。")
        capped = capped_sentence(result, result.findings)
        if capped:
            doc.para(capped)

        doc.section("评分排名")
        doc.para("全部单位得分及排名如下（得分按扣分重新计算，同分同名次）：")
        doc.table(*ranking_pairs(rows))

    doc.section("未交评分表的情况")
    late = [s for s in result.summaries if s.missing]
    if not late:
        doc.para(f"{total}个单位的评分表均已收到。")
    else:
        silent = sum(1 for s in late if not s.rows)
        doc.para(f"截至{fmt_date(result.merged_on)}，共有{total - result.received}个单位的评分表尚未收到"
                 + (f"，其中{silent}个汇总单位尚未报送任何可采用的评分表" if silent else "") + "，详见下表：")
        doc.table(["汇总单位", "未交", "未交单位"],
                  [[s.summary.name, str(len(s.missing)),
                    "全部未交" if not s.rows else "、".join(u.name for u in s.missing)] for s in late],
                  [6.2, 1.4, 8.0])
    refused = sum(1 for f in result.files if f.status == "拒收")
    if refused:
        doc.para(refused_sentence(refused))

    doc.section("下一步工作打算")
    doc.para(todo("针对存在问题拟采取的措施"))
    signature(doc, result, "（落款单位）")
    return doc.blocks


