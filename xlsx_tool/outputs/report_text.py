"""简要核查报告: the wording, as plain data (`Block`s) built from a `MergeResult`.

Every sentence is built from the plan and the returned forms: what was inspected and when, the
overall numbers, the strengths typed in 特色亮点, the deductions with their reasons, the
one-third check, the ranking and the units still missing.  What the data cannot tell (how the
inspection was done, the next steps) is a placeholder "……（待补充）。" for a person to write;
nothing is invented.  Every sentence ends with "。": text typed in a form loses its own final
punctuation where the report adds its own, so no "。。" or "，。" appears.

Reasons and strengths are taken as the 评分汇总表 gives them (`summary.deduction_reason`, the
amounts of `summary.deductions_text`), so the report never says other than the spreadsheet.
The overall report keeps to tables for its lists of units, so it stays short.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_text
from xlsx_tool.judging.merge import MergeResult, Row, SummaryResult
from xlsx_tool.outputs.stats import item_label, item_stats, overall_average, score_distribution
from xlsx_tool.outputs.summary import deduction_reason

TODO = "（待补充）"
OVERALL = "汇总"
NO_DATE = "未填写"  # a ranking-table cell where a form gave no date
_NUM = "一二三四五六七八九十"
_END_PUNCT = "。；，、：;,.:！!？? \t"


def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 21 -> 二十一 (enough for section numbers)."""
    if n <= 10:
        return _NUM[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUM[tens - 1]) + "十" + (_NUM[ones - 1] if ones else "")


def fmt_avg(d: Decimal) -> str:
    """Two decimals, rounded half up as Excel shows "0.00" (95.125 -> 95.13)."""
    return f"{d.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"


def fmt_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_pct(part: int, whole: int) -> str:
    return f"{(Decimal(part * 100) / Decimal(whole)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}%"


def todo(what: str) -> str:
    """A sentence left for a person to write: "核查方式和过程（待补充）。"."""
    return f"{what}{TODO}。"


def one_line(text: str) -> str:
    """Text typed over several lines in a cell, as one clause: lines joined with "；", no final punctuation."""
    return re.sub(r"\s*[\r\n]+\s*", "；", text.strip()).rstrip(_END_PUNCT)


def reason_of(item) -> str:
    """An item's deduction reason exactly as the 评分汇总表 gives it, as one clause."""
    return one_line(deduction_reason(item))


# --------------------------------------------------------------------------- titles


def _em(text: str) -> float:
    """Width in ems: CJK and full-width punctuation 1, Latin letters and digits about half."""
    return sum(0.55 if ord(c) < 0x2000 else 1.0 for c in text)


# Phrase ends in the plan's title after which a title line may end, so that no line ends inside a
# word ("…书记履/行…" was what LibreOffice's own wrapping gave).
_PHRASE_END = re.compile(r"(?<=季度)|(?<=单位)|(?<=书记)|(?<=责任)|(?<=核查)|(?<=情况的)|(?<=[；，、])")


def phrases(text: str) -> list[str]:
    return [p for p in _PHRASE_END.split(text) if p]


def break_lines(parts: list[str], capacity: float) -> list[str]:
    """Group consecutive phrases into the fewest lines of at most `capacity` ems, as evenly as
    possible (least sum of squared slack: a centred title reads best with lines of similar length).
    A phrase wider than a line is cut into characters (the only case a line may end inside a word)."""
    units: list[str] = []
    for p in parts:
        units.extend(list(p) if _em(p) > capacity else [p])
    n = len(units)
    best: list[tuple[int, float, int] | None] = [None] * (n + 1)  # (lines, cost, start of last line)
    best[0] = (0, 0.0, 0)
    for end in range(1, n + 1):
        for start in range(end - 1, -1, -1):
            width = _em("".join(units[start:end]))
            if width > capacity:
                break
            prev = best[start]
            if prev is None:
                continue
            cand = (prev[0] + 1, prev[1] + (capacity - width) ** 2, start)
            if best[end] is None or cand[:2] < best[end][:2]:
                best[end] = cand
    lines, end = [], n
    while end:
        start = best[end][2]
        lines.append("".join(units[start:end]))
        end = start
    return lines[::-1]


def _core_title(result: MergeResult) -> str:
    """"2017年第三季度…实地核查工作方案" -> "2017年第三季度…实地核查"."""
    t = result.plan.title
    for suffix in ("工作方案", "实施方案", "方案"):
        if t.endswith(suffix):
            return t[: -len(suffix)]
    return t


def title_parts(result: MergeResult, summary_name: str | None) -> list[str]:
    """The title as phrases: [汇总单位] [关于 + first phrase of the plan's title] … [情况的] [简要报告]."""
    core = phrases(_core_title(result))
    core[0] = "关于" + core[0]
    head = [summary_name] if summary_name else []
    return [*head, *core, "情况的", "简要报告"]


def report_title(result: MergeResult, summary_name: str | None) -> str:
    return "".join(title_parts(result, summary_name))


# --------------------------------------------------------------------------- content as data


@dataclass
class Block:
    """One piece of the report.  kind: title (lines: its lines), subtitle, note (lines), salutation,
    heading (一、), subheading ((一)), para, table (rows[0] = header), signature."""
    kind: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)  # cm, for tables
    lines: list[str] = field(default_factory=list)  # explicit lines (title, note)


TITLE_EM = 20.0  # 二号 (22 pt) characters on a 15.6 cm line
NOTE_EM = 31.0  # 四号 (14 pt)


class _Doc:
    def __init__(self):
        self.blocks: list[Block] = []
        self.sections = 0

    def add(self, kind: str, text: str = "", **kw) -> None:
        self.blocks.append(Block(kind, text, **kw))

    def para(self, text: str) -> None:
        assert text.endswith("。") or text.endswith("："), text  # every paragraph is whole sentences
        self.add("para", text)

    def table(self, header: list[str], body: list[list[str]], widths: list[float]) -> None:
        self.add("table", rows=[header, *body], widths=widths)

    def section(self, title: str) -> None:
        self.sections += 1
        self.add("heading", f"{cn_number(self.sections)}、{title}")


def _head(doc: _Doc, result: MergeResult, summary_name: str | None) -> None:
    parts = title_parts(result, summary_name)
    doc.add("title", "".join(parts), lines=break_lines(parts, TITLE_EM))
    if summary_name is None:
        doc.add("subtitle", f"（{OVERALL}）")
    note = (f"（初稿：由评分汇总表数据生成，汇总时间{fmt_date(result.merged_on)}；"
            "标有“待补充”处请核实补充，定稿时删除本行）")
    doc.add("note", note, lines=break_lines(phrases(note), NOTE_EM))


def _window(s) -> str:
    a, b = s.window
    return fmt_date(a) if a == b else f"{fmt_date(a)}至{fmt_date(b)}"


def _when_done(rows: list[Row]) -> str:
    dates = [r.scored.date for r in rows if r.scored.date]
    undated = len(rows) - len(dates)
    if not dates:
        return "交回的评分表均未填写核查时间。" + todo("实际核查时间")
    lo, hi = min(dates), max(dates)
    text = f"据交回的评分表，实地核查于{fmt_date(lo) if lo == hi else f'{fmt_date(lo)}至{fmt_date(hi)}'}进行"
    if undated:
        text += f"，另有{undated}份评分表未填写核查时间"
    return text + "。"


def _names(rows: list[Row]) -> str:
    return "、".join(r.unit.name for r in rows)


def _numbers(doc: _Doc, result: MergeResult, rows: list[Row], expected: int, findings: list) -> None:
    n = len(rows)
    missing = expected - n
    text = f"应核查{expected}个单位，已收到并采用评分表{n}份"
    text += f"，尚有{missing}个单位未交" if missing else "，全部交齐"
    best = max(r.scored.score for r in rows)
    worst = min(r.scored.score for r in rows)
    text += (f"。平均分{fmt_avg(overall_average(result, rows))}分；"
             f"最高分{as_text(best)}分（{_names([r for r in rows if r.scored.score == best])}），"
             f"最低分{as_text(worst)}分（{_names([r for r in rows if r.scored.score == worst])}）。")
    bands = [b for b in score_distribution(result, rows) if b.count]
    text += "得分分布：" + "，".join(f"{b.label}{b.count}个" for b in reversed(bands)) + "（各分数段含下限、不含上限）。"
    doc.para(text)
    errors, warnings = FX.count(findings, FX.ERROR), FX.count(findings, FX.WARNING)
    if errors:
        doc.para(f"汇总时发现错误{errors}条、警告{warnings}条，详见评分汇总表“问题清单”，其中的错误须改正后重新报送。")
    elif warnings:
        doc.para(f"汇总时未发现评分表有错误，有警告{warnings}条，详见评分汇总表“问题清单”。")
    else:
        doc.para("汇总时未发现评分表有错误或警告。")


def _labels(result: MergeResult, width: int = 40) -> dict[int, str]:
    return {it.seq: item_label(it.text, width=width) for it in result.plan.rubric.items}


def _rules_intro(result: MergeResult) -> str:
    r = result.plan.rules
    return (f"按方案要求，评分最高分为{as_text(r.max_score)}分，{as_text(r.high_score)}分及以上单位"
            f"不超过所核查对象的{r.share_text}。")


def quota_sentence(result: MergeResult, s: SummaryResult) -> str:
    high = as_text(result.plan.rules.high_score)
    text = f"{s.summary.name}核查{len(s.summary.units)}个单位，{high}分及以上上限为{s.quota}个；实际{len(s.high)}个"
    if s.high:
        text += "：" + "、".join(f"{r.unit.name}{as_text(r.scored.score)}分" for r in s.high)
    if s.breach:
        text += f"，超出上限{len(s.high) - s.quota}个，不符合规定，须复核评分"
    else:
        text += "，符合规定"
    if s.missing:
        text += f"（尚有{len(s.missing)}个单位未交，交齐后需再核对）"
    return text + "。"


def _capped(result: MergeResult, findings: list) -> str:
    n = sum(1 for f in findings if f.code == "score-capped")
    top = as_text(result.plan.rules.max_score)
    return f"另有{n}份评分表各项得分合计超过{top}分，已按{top}分计。" if n else ""


def _refused_sentence(n: int) -> str:
    return f"另有{n}个文件被拒收，原因见评分汇总表“文件清单”和“问题清单”。" if n else ""


def _signature(doc: _Doc, result: MergeResult, who: str) -> None:
    doc.add("signature", who)
    doc.add("signature", f"{result.merged_on.year}年×月×日")  # the date a person fills in when signing


# --------------------------------------------------------------------------- one summary unit's report


def _unit_highlights(doc: _Doc, result: MergeResult, rows: list[Row]) -> None:
    labels = _labels(result)
    lines = []
    for r in rows:
        parts = [f"{one_line(i.highlight)}（第{i.seq}项，{labels[i.seq]}）" for i in r.scored.items if i.highlight]
        if parts:
            lines.append(f"{r.unit.name}：{'；'.join(parts)}。")
    if not lines:
        doc.para("交回的评分表“特色亮点”栏均未填写。" + todo("特色亮点"))
        return
    doc.para("据评分表“特色亮点”栏，各单位的特色做法主要有（文字照录评分表，请提炼）：")
    for i, line in enumerate(lines, 1):
        doc.para(f"{i}. {line}")


def deduction_statement(unit: str, item) -> str:
    """"州审计局扣2分，台账不全" — the amount and reason as the 评分汇总表's 附件3 gives them."""
    reason = reason_of(item)
    sep = "" if reason.startswith("（") else "，"
    return f"{unit}扣{as_text(item.deduction)}分{sep}{reason}"


def _by_item(rows: list[Row]) -> dict[int, list[tuple[Row, object]]]:
    """Per item seq: (row, item result) of each unit with a deduction on it, as 附件3 lists them."""
    out: dict[int, list] = {}
    for r in rows:
        for i in r.scored.items:
            if i.deduction > 0:
                out.setdefault(i.seq, []).append((r, i))
    return out


def _ordered_items(rows: list[Row]) -> list[tuple[int, list]]:
    """Items with deductions, most units first, then most points, then the item's number."""
    by = _by_item(rows)
    return sorted(by.items(), key=lambda kv: (-len(kv[1]), -sum(i.deduction for _, i in kv[1]), kv[0]))


def _unit_problems(doc: _Doc, result: MergeResult, rows: list[Row]) -> None:
    items = _ordered_items(rows)
    if not items:
        doc.para("交回的评分表各项均未扣分。" + todo("存在的问题"))
        return
    labels = _labels(result)
    doc.para(f"据评分表“扣分”和“扣分情况”栏，{len(items)}个评分项目有扣分，按扣分单位数从多到少依次为：")
    for n, (seq, hits) in enumerate(items, 1):
        lost = sum((i.deduction for _, i in hits), Decimal(0))
        doc.para(f"{n}. 第{seq}项（{labels[seq]}）：{len(hits)}个单位扣分（占{fmt_pct(len(hits), len(rows))}），"
                 f"共扣{as_text(lost)}分。涉及单位：{'；'.join(deduction_statement(r.unit.name, i) for r, i in hits)}。")
    doc.para(todo("问题产生的原因分析"))


def _missing_sentence(result: MergeResult, s: SummaryResult) -> str:
    if not s.missing:
        text = f"{s.summary.name}所核查的{len(s.summary.units)}个单位的评分表均已收到。"
    else:
        text = (f"截至{fmt_date(result.merged_on)}，以下{len(s.missing)}个单位的评分表尚未收到："
                f"{'、'.join(u.name for u in s.missing)}。")
    return text + _refused_sentence(s.refused)


def summary_blocks(result: MergeResult, s: SummaryResult) -> list[Block]:
    """The report of one summary unit."""
    plan, su, rows = result.plan, s.summary, s.rows
    doc = _Doc()
    _head(doc, result, su.name)
    doc.add("salutation", f"{plan.issuer}：")
    n = len(su.units)
    findings = [f for f in result.findings if f.summary == su.name]
    intro = (f"按照《{plan.title}》安排，{su.name}负责对{n}个单位党组织书记履行党建工作责任情况进行实地核查，"
             f"方案规定的核查时间为{_window(su)}。")
    doc.para(intro + ("现将核查情况简要报告如下。" if rows else ""))

    doc.section("核查基本情况")
    doc.para(f"核查对象（{n}个）：{'、'.join(u.display for u in su.units)}。")
    people = [f"{role}{p.name}" + (f"（{p.title}）" if p.title else "")
              for role, p in (("组长", su.leader), ("联络员", su.liaison)) if p]
    doc.para(f"{su.kind}{'，'.join(people)}；" + todo("其他参加人员") if people else todo("参加核查人员"))
    if rows:
        doc.para(_when_done(rows) + todo("核查方式和过程"))

    if not rows:
        doc.section("评分表报送情况")
        text = f"截至{fmt_date(result.merged_on)}，尚未收到{su.name}报送的评分表（应交{n}份，已采用0份）"
        if s.refused:
            text += f"；收到的{s.refused}个文件均未能采用，原因见评分汇总表“文件清单”和“问题清单”"
        doc.para(text + "。本单位的得分、特色亮点、存在问题、评分标准执行情况和排名均无法汇总。" + todo("核查情况"))
        doc.section("未交评分表的单位")
        doc.para(_missing_sentence(result, s))
        _signature(doc, result, su.name)
        return doc.blocks

    doc.section("总体情况")
    _numbers(doc, result, rows, n, findings)
    doc.section("特色亮点")
    _unit_highlights(doc, result, rows)
    doc.section("存在的主要问题")
    _unit_problems(doc, result, rows)
    doc.section("评分标准执行情况")
    doc.para(_rules_intro(result) + quota_sentence(result, s) + _capped(result, findings))
    doc.section("评分排名")
    doc.para("各单位得分及排名如下（得分按扣分重新计算，同分同名次）：")
    doc.table(["排名", "被核查单位", "得分", "核查时间"],
              [[str(r.rank), r.unit.name, as_text(r.scored.score), r.scored.date.isoformat() if r.scored.date else NO_DATE]
               for r in rows], [1.6, 7.4, 2.4, 4.2])
    doc.section("未交评分表的单位")
    doc.para(_missing_sentence(result, s))
    doc.section("下一步工作打算")
    doc.para(todo("针对存在问题拟采取的措施"))
    _signature(doc, result, su.name)
    return doc.blocks


# --------------------------------------------------------------------------- the overall report


def _overall_highlights(doc: _Doc, rows: list[Row]) -> None:
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


def _overall_problems(doc: _Doc, result: MergeResult, rows: list[Row]) -> None:
    items = _ordered_items(rows)
    if not items:
        doc.para("交回的评分表各项均未扣分。" + todo("存在的问题"))
        return
    labels = _labels(result, width=15)  # one line of its column
    doc.para(f"据评分表“扣分”和“扣分情况”栏，{len(items)}个评分项目有扣分，按扣分单位数从多到少排列如下"
             f"（各单位的扣分和原因见各汇总单位的简要核查报告和评分汇总表“扣分明细”）：")
    body = []
    for seq, hits in items:
        lost = sum((i.deduction for _, i in hits), Decimal(0))
        body.append([f"第{seq}项", labels[seq], str(len(hits)), fmt_pct(len(hits), len(rows)), as_text(lost)])
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
    doc = _Doc()
    _head(doc, result, None)
    rows, total = result.ranking, result.expected
    doc.para(f"按照《{plan.title}》安排，本次共有{len(plan.summary_units)}个汇总单位对{total}个单位"
             f"党组织书记履行党建工作责任情况进行实地核查。" + ("现将核查情况简要报告如下。" if rows else ""))

    doc.section("核查基本情况")
    kinds: dict[str, list] = {}
    for su in plan.summary_units:
        kinds.setdefault(su.kind, []).append(su)
    for kind, sus in kinds.items():
        windows = list(dict.fromkeys(_window(su) for su in sus))
        names = f"（{'、'.join(su.name for su in sus)}）" if len(sus) <= 5 else ""  # a long list is in the table below
        doc.para(f"{len(sus)}个{kind}{names}核查{sum(len(su.units) for su in sus)}个单位，"
                 f"方案规定的核查时间为{'；'.join(windows)}。")
    if rows:
        doc.para(_when_done(rows) + todo("核查方式和过程"))

    doc.section("总体情况")
    if not rows:
        doc.para(f"截至{fmt_date(result.merged_on)}，尚未收到任何可采用的评分表（应交{total}份），"
                 f"得分、特色亮点、存在问题和排名均无法汇总。" + todo("核查情况"))
    else:
        _numbers(doc, result, rows, total, result.findings)
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
            doc.para(_rules_intro(result) + f"{len(breaches)}个汇总单位超出上限：")
            for i, s in enumerate(breaches, 1):
                doc.para(f"{i}. {quota_sentence(result, s)}")
        else:
            checked = sum(1 for s in result.summaries if s.rows)
            doc.para(_rules_intro(result) + f"已报送的{checked}个汇总单位{as_text(plan.rules.high_score)}分及以上"
                                            f"单位数均未超过上限。")
        capped = _capped(result, result.findings)
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
        doc.para(_refused_sentence(refused))

    doc.section("下一步工作打算")
    doc.para(todo("针对存在问题拟采取的措施"))
    _signature(doc, result, "（落款单位）")
    return doc.blocks


def report_blocks(result: MergeResult, summary: SummaryResult | None) -> list[Block]:
    """The content of one report: a summary unit's, or (None) the overall one."""
    return overall_blocks(result) if summary is None else summary_blocks(result, summary)


def block_text(blocks: list[Block]) -> str:
    """All the text of a report, tables row by row (tab-separated)."""
    out = []
    for b in blocks:
        if b.kind == "table":
            out.extend("\t".join(r) for r in b.rows)
        else:
            out.append(b.text)
    return "\n".join(out)
