"""简要核查报告: a draft .docx per summary unit and one overall, assembled from a `MergeResult`.

Every sentence is built from the plan and the returned forms: what was inspected and
when, the overall numbers, the strengths typed in 特色亮点, the most common deductions
with the units concerned, the one-third check, the ranking and the units still
missing.  What the data cannot tell (how the inspection was done, the next steps, the
date of the report) is left as "（待补充）" for a person to write; nothing is invented.

`report_blocks(result, summary)` gives the content as plain data (so tests can check
it); `build_report` lays it out in the official-document style (GB/T 9704: A4, title
in 方正小标宋简体 二号, body in 仿宋 三号 with fixed 28 pt lines, headings 一、二、…
in 黑体, page numbers "— 1 —"); `write_reports` writes them all atomically.
The output is deterministic: fixed core-property dates and zip timestamps.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_text
from xlsx_tool.files import safe_filename, write_atomic
from xlsx_tool.judging.merge import MergeResult, Row, SummaryResult
from xlsx_tool.outputs.stats import item_label, item_stats, overall_average, score_distribution

TODO = "（待补充）"
REPORT_PREFIX = "简要核查报告"
OVERALL = "汇总"

TITLE_FONT = "方正小标宋简体"  # the official title face; the font table names 宋体 as its substitute
TITLE_FALLBACK = "宋体"
BODY_FONT = "仿宋"  # 仿宋_GB2312 is the traditional name, but only 仿宋 (simfang) ships with Windows
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体"
LATIN_FONT = "Times New Roman"
BODY_PT, TITLE_PT, TABLE_PT, NOTE_PT = 16, 22, 12, 14  # 三号, 二号, 小四, 四号
LINE_PT = 28  # fixed line pitch: 22 lines a page

MAX_PROBLEMS_OVERALL = 8  # items described in detail in the overall report; the rest are counted
_NUM = "一二三四五六七八九十"


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
    if not whole:
        return TODO
    return f"{(Decimal(part * 100) / Decimal(whole)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}%"


def report_filename(summary_name: str | None) -> str:
    return f"{REPORT_PREFIX}-{safe_filename(summary_name or OVERALL)}.docx"


# --------------------------------------------------------------------------- content as data


@dataclass
class Block:
    """One piece of the report.  kind: title, subtitle, note, salutation, heading (一、), subheading ((一)),
    para, table (rows[0] = header), signature."""
    kind: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)  # cm, for tables


class _Doc:
    def __init__(self):
        self.blocks: list[Block] = []
        self.sections = 0

    def add(self, kind: str, text: str = "", **kw) -> None:
        self.blocks.append(Block(kind, text, **kw))

    def section(self, title: str) -> None:
        self.sections += 1
        self.add("heading", f"{cn_number(self.sections)}、{title}")


def _core_title(result: MergeResult) -> str:
    """"2017年第三季度…实地核查工作方案" -> "2017年第三季度…实地核查"."""
    t = result.plan.title
    for suffix in ("工作方案", "实施方案", "方案"):
        if t.endswith(suffix):
            return t[: -len(suffix)]
    return t


def report_title(result: MergeResult, summary_name: str | None) -> str:
    core = _core_title(result)
    return f"{summary_name}关于{core}情况的简要报告" if summary_name else f"关于{core}情况的简要报告"


def _date_span(dates: list[dt.date]) -> str:
    lo, hi = min(dates), max(dates)
    return fmt_date(lo) if lo == hi else f"{fmt_date(lo)}至{fmt_date(hi)}"


def _window(s) -> str:
    a, b = s.window
    return fmt_date(a) if a == b else f"{fmt_date(a)}至{fmt_date(b)}"


def _when_done(rows: list[Row]) -> str:
    dates = [r.scored.date for r in rows if r.scored.date]
    undated = len(rows) - len(dates)
    if not dates:
        return f"交回的评分表均未填写核查时间，实际核查时间{TODO}"
    text = f"据交回的评分表，实地核查于{_date_span(dates)}进行"
    if undated:
        text += f"，另有{undated}份评分表未填写核查时间{TODO}"
    return text


def one_line(text: str) -> str:
    """Text typed over several lines in a cell, as one sentence: the lines joined with "；"."""
    return re.sub(r"\s*[\r\n]+\s*", "；", text.strip())


def _names(rows: list[Row], with_score: bool = True) -> str:
    return "、".join(f"{r.unit.name}（{as_text(r.scored.score)}分）" if with_score else r.unit.name for r in rows)


def _intro_numbers(doc: _Doc, result: MergeResult, rows: list[Row], expected: int, findings: list) -> None:
    n = len(rows)
    missing = expected - n
    text = f"应核查{expected}个单位，已收到并采用评分表{n}份"
    text += f"，尚有{missing}个单位未交" if missing else "，全部交齐"
    avg = overall_average(result, rows)
    best = max(r.scored.score for r in rows)
    worst = min(r.scored.score for r in rows)
    tops = [r for r in rows if r.scored.score == best]
    lows = [r for r in rows if r.scored.score == worst]
    text += (f"。平均分{fmt_avg(avg)}分；最高分{as_text(best)}分（{_names(tops, False)}），"
             f"最低分{as_text(worst)}分（{_names(lows, False)}）。")
    doc.add("para", text)
    bands = [b for b in score_distribution(result, rows) if b.count]
    doc.add("para", "得分分布：" + "，".join(f"{b.label}{b.count}个" for b in reversed(bands))
            + "（各分数段含下限、不含上限）。")
    errors = FX.count(findings, FX.ERROR)
    warnings = FX.count(findings, FX.WARNING)
    if errors:
        doc.add("para", f"汇总时发现错误{errors}条、警告{warnings}条，详见评分汇总表“问题清单”，"
                        f"其中的错误须改正后重新报送。")
    elif warnings:
        doc.add("para", f"汇总时未发现评分表有错误，有警告{warnings}条，详见评分汇总表“问题清单”。")
    else:
        doc.add("para", "汇总时未发现评分表有错误或警告。")


def _highlights(doc: _Doc, result: MergeResult, groups: list[tuple[str | None, list[Row]]]) -> None:
    labels = {it.seq: item_label(it.text, width=40) for it in result.plan.rubric.items}
    any_text = False
    sub = 0
    for title, rows in groups:
        lines = []
        for r in rows:
            parts = [f"{one_line(i.highlight)}（第{i.seq}项，{labels[i.seq]}）" for i in r.scored.items if i.highlight]
            if parts:
                lines.append(f"{r.unit.name}：{'；'.join(parts)}。")
        if not lines:
            continue
        if not any_text:
            doc.add("para", "据评分表“特色亮点”栏，各单位的特色做法主要有（文字照录评分表，请提炼）：")
            any_text = True
        if title:
            sub += 1
            doc.add("subheading", f"（{cn_number(sub)}）{title}")
        for i, line in enumerate(lines, 1):
            doc.add("para", f"{i}. {line}")
    if not any_text:
        doc.add("para", f"交回的评分表“特色亮点”栏均未填写。特色亮点{TODO}")


def _problems(doc: _Doc, result: MergeResult, rows: list[Row], with_reasons: bool, limit: int | None) -> None:
    stats = [s for s in item_stats(result, rows) if s.deducted]
    labels = {it.seq: item_label(it.text, width=40) for it in result.plan.rubric.items}
    if not stats:
        doc.add("para", "交回的评分表各项均未扣分。存在的问题" + TODO)
        return
    stats.sort(key=lambda s: (-s.deducted, -s.lost, s.seq))
    shown = stats if limit is None else stats[:limit]
    doc.add("para", f"据评分表“扣分”和“扣分情况”栏，{len(stats)}个评分项目有扣分，按扣分单位数从多到少依次为：")
    for i, s in enumerate(shown, 1):
        head = (f"{i}. 第{s.seq}项（{labels[s.seq]}）：{s.deducted}个单位扣分（占{fmt_pct(s.deducted, s.units)}），"
                f"共扣{as_text(s.lost)}分。")
        if with_reasons:
            units = "；".join(f"{u}扣{as_text(p)}分，{one_line(reason) if reason else '扣分原因' + TODO}"
                              for u, p, reason in s.by_unit)
        else:
            units = "、".join(f"{u}（{as_text(p)}分）" for u, p, _ in s.by_unit)
        doc.add("para", f"{head}涉及单位：{units}。")
    rest = stats[len(shown):]
    if rest:
        doc.add("para", "此外，" + "、".join(f"第{s.seq}项（{s.deducted}个单位）" for s in rest)
                + "也有扣分，详见评分汇总表。")
    doc.add("para", f"问题产生的原因分析{TODO}")


def _quota_sentence(result: MergeResult, s: SummaryResult) -> str:
    rules = result.plan.rules
    high = as_text(rules.high_score)
    n = len(s.summary.units)
    text = f"{s.summary.name}核查{n}个单位，{high}分及以上上限为{s.quota}个；实际{len(s.high)}个"
    if s.high:
        text += "：" + "、".join(f"{r.unit.name}{as_text(r.scored.score)}分" for r in s.high)
    if s.breach:
        text += f"，超出上限{len(s.high) - s.quota}个，不符合规定，须复核评分"
    else:
        text += "，符合规定"
    if s.missing:
        text += f"（尚有{len(s.missing)}个单位未交，交齐后需再核对）"
    return text + "。"


def _rules_intro(result: MergeResult) -> str:
    r = result.plan.rules
    share = "三分之一" if (r.high_share.numerator, r.high_share.denominator) == (1, 3) else \
        f"{r.high_share.numerator}/{r.high_share.denominator}"
    return (f"按方案要求，评分最高分为{as_text(r.max_score)}分，{as_text(r.high_score)}分及以上单位"
            f"不超过所核查对象的{share}。")


def _capped(result: MergeResult, findings: list) -> str:
    n = sum(1 for f in findings if f.code == "score-capped")
    top = as_text(result.plan.rules.max_score)
    return f"另有{n}份评分表各项得分合计超过{top}分，已按{top}分计。" if n else ""


def _missing_sentence(result: MergeResult, s: SummaryResult) -> str:
    when = fmt_date(result.merged_on)
    if not s.missing:
        text = f"{s.summary.name}所核查的{len(s.summary.units)}个单位的评分表均已收到。"
    else:
        text = (f"截至{when}，以下{len(s.missing)}个单位的评分表尚未收到："
                f"{'、'.join(u.name for u in s.missing)}。")
    if s.refused:
        text += f"另有{s.refused}个文件被拒收，原因见评分汇总表“文件清单”和“问题清单”。"
    return text


def _ranking_table(rows: list[Row], overall: bool) -> Block:
    if overall:
        body = [[str(r.rank_all), r.unit.name, r.unit.summary, as_text(r.scored.score)] for r in rows]
        return Block("table", rows=[["排名", "被核查单位", "汇总单位", "得分"], *body], widths=[1.6, 6.0, 6.0, 2.0])
    body = [[str(r.rank), r.unit.name, as_text(r.scored.score),
             r.scored.date.isoformat() if r.scored.date else TODO] for r in rows]
    return Block("table", rows=[["排名", "被核查单位", "得分", "核查时间"], *body], widths=[1.6, 7.4, 2.4, 4.2])


def _head(doc: _Doc, result: MergeResult, summary_name: str | None) -> None:
    doc.add("title", report_title(result, summary_name))
    if summary_name is None:
        doc.add("subtitle", "（汇总）")
    doc.add("note", f"（初稿：由评分汇总表数据生成，汇总时间{fmt_date(result.merged_on)}；"
                    f"“{TODO}”处请核实补充，定稿时删除本行）")


def summary_blocks(result: MergeResult, s: SummaryResult) -> list[Block]:
    """The report of one summary unit."""
    plan = result.plan
    su = s.summary
    doc = _Doc()
    _head(doc, result, su.name)
    doc.add("salutation", f"{plan.issuer}：")
    n = len(su.units)
    rows = s.rows
    findings = [f for f in result.findings if f.summary == su.name]

    intro = (f"按照《{plan.title}》安排，{su.name}负责对{n}个单位党组织书记履行党建工作责任情况进行实地核查，"
             f"方案规定的核查时间为{_window(su)}。")
    if rows:
        doc.add("para", intro + "现将核查情况简要报告如下。")
    else:
        doc.add("para", intro)

    doc.section("核查基本情况")
    doc.add("para", f"核查对象（{n}个）：{'、'.join(u.display for u in su.units)}。")
    people = []
    if su.leader:
        people.append(f"组长{su.leader.name}" + (f"（{su.leader.title}）" if su.leader.title else ""))
    if su.liaison:
        people.append(f"联络员{su.liaison.name}" + (f"（{su.liaison.title}）" if su.liaison.title else ""))
    if people:
        doc.add("para", f"{su.kind}{'，'.join(people)}；其他参加人员{TODO}")
    else:
        doc.add("para", f"参加核查人员{TODO}")
    if rows:
        doc.add("para", f"{_when_done(rows)}。核查方式和过程{TODO}")

    if not rows:
        doc.section("评分表报送情况")
        text = f"截至{fmt_date(result.merged_on)}，尚未收到{su.name}报送的评分表（应交{n}份，已采用0份）"
        if s.refused:
            text += f"；收到的{s.refused}个文件均未能采用，原因见评分汇总表“文件清单”和“问题清单”"
        doc.add("para", text + "。")
        doc.add("para", f"因此本单位的得分、特色亮点、存在问题、评分标准执行情况和排名均无法汇总，{TODO}")
        doc.section("未交评分表的单位")
        doc.add("para", _missing_sentence(result, s))
        doc.add("signature", su.name)
        doc.add("signature", f"日期{TODO}")
        return doc.blocks

    doc.section("总体情况")
    _intro_numbers(doc, result, rows, n, findings)

    doc.section("特色亮点")
    _highlights(doc, result, [(None, rows)])

    doc.section("存在的主要问题")
    _problems(doc, result, rows, with_reasons=True, limit=None)

    doc.section("评分标准执行情况")
    doc.add("para", _rules_intro(result) + _quota_sentence(result, s)
            + _capped(result, findings))

    doc.section("评分排名")
    doc.add("para", "各单位得分及排名如下（得分按扣分重新计算，同分同名次）：")
    doc.blocks.append(_ranking_table(rows, overall=False))

    doc.section("未交评分表的单位")
    doc.add("para", _missing_sentence(result, s))

    doc.section("下一步工作打算")
    doc.add("para", TODO)
    doc.add("signature", su.name)
    doc.add("signature", f"日期{TODO}")
    return doc.blocks


def overall_blocks(result: MergeResult) -> list[Block]:
    """The overall report, over every summary unit."""
    plan = result.plan
    doc = _Doc()
    _head(doc, result, None)
    rows = result.ranking
    total = result.expected
    doc.add("para", f"按照《{plan.title}》安排，本次共有{len(plan.summary_units)}个汇总单位对{total}个单位"
                    f"党组织书记履行党建工作责任情况进行实地核查。" + ("现将核查情况简要报告如下。" if rows else ""))

    doc.section("核查基本情况")
    kinds: dict[str, list] = {}
    for su in plan.summary_units:
        kinds.setdefault(su.kind, []).append(su)
    for kind, sus in kinds.items():
        windows = []
        for su in sus:
            w = _window(su)
            if w not in windows:
                windows.append(w)
        doc.add("para", f"{len(sus)}个{kind}（{'、'.join(su.name for su in sus)}）核查"
                        f"{sum(len(su.units) for su in sus)}个单位，方案规定的核查时间为{'；'.join(windows)}。")
    if rows:
        doc.add("para", f"{_when_done(rows)}。核查方式和过程{TODO}")

    doc.section("总体情况")
    if not rows:
        doc.add("para", f"截至{fmt_date(result.merged_on)}，尚未收到任何可采用的评分表（应交{total}份），"
                        f"得分、特色亮点、存在问题和排名均无法汇总，{TODO}")
    else:
        _intro_numbers(doc, result, rows, total, result.findings)
        doc.add("para", "各汇总单位报送和得分情况如下：")
        table = [["汇总单位", "应交", "已交", "平均分", f"{as_text(plan.rules.high_score)}分及以上/上限"]]
        for s in result.summaries:
            avg = overall_average(result, s.rows)
            table.append([s.summary.name, str(len(s.summary.units)), str(len(s.rows)),
                          fmt_avg(avg) if avg is not None else "—",
                          f"{len(s.high)}/{s.quota}" if s.rows else "—"])
        doc.blocks.append(Block("table", rows=table, widths=[6.2, 1.6, 1.6, 2.4, 3.8]))

        doc.section("特色亮点")
        _highlights(doc, result, [(s.summary.name, s.rows) for s in result.summaries if s.rows])

        doc.section("存在的主要问题")
        _problems(doc, result, rows, with_reasons=False, limit=MAX_PROBLEMS_OVERALL)

        doc.section("评分标准执行情况")
        breaches = result.quota_breaches
        text = _rules_intro(result)
        if breaches:
            text += f"{len(breaches)}个汇总单位超出上限："
            doc.add("para", text)
            for i, s in enumerate(breaches, 1):
                doc.add("para", f"{i}. {_quota_sentence(result, s)}")
        else:
            checked = [s for s in result.summaries if s.rows]
            doc.add("para", text + f"已报送的{len(checked)}个汇总单位{as_text(plan.rules.high_score)}分及以上"
                                   f"单位数均未超过上限。")
        capped = _capped(result, result.findings)
        if capped:
            doc.add("para", capped)

        doc.section("评分排名")
        doc.add("para", "全部单位得分及排名如下（得分按扣分重新计算，同分同名次）：")
        doc.blocks.append(_ranking_table(rows, overall=True))

    doc.section("未交评分表的情况")
    silent = [s for s in result.summaries if not s.rows]
    partial = [s for s in result.summaries if s.rows and s.missing]
    if not silent and not partial:
        doc.add("para", f"{total}个单位的评分表均已收到。")
    else:
        doc.add("para", f"截至{fmt_date(result.merged_on)}，共有{total - result.received}个单位的评分表尚未收到。")
    if silent:
        doc.add("para", f"以下{len(silent)}个汇总单位尚未报送任何可采用的评分表："
                        + "、".join(f"{s.summary.name}（应交{len(s.summary.units)}份）" for s in silent) + "。")
    for i, s in enumerate(partial, 1):
        doc.add("para", f"{i}. {s.summary.name}：{'、'.join(u.name for u in s.missing)}。")
    refused = sum(1 for f in result.files if f.status == "拒收")
    if refused:
        doc.add("para", f"另有{refused}个文件被拒收，原因见评分汇总表“文件清单”和“问题清单”。")

    doc.section("下一步工作打算")
    doc.add("para", TODO)
    doc.add("signature", f"落款单位{TODO}")
    doc.add("signature", f"日期{TODO}")
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


# --------------------------------------------------------------------------- layout (.docx)

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RPR_CACHE: dict = {}


def _rpr(east_asian: str, size_pt: float, bold: bool = False):
    """A w:rPr naming the Latin and the East Asian font (w:rFonts w:eastAsia), size and weight (cached, copied)."""
    import copy

    from docx.oxml import parse_xml

    key = (east_asian, size_pt, bold)
    if key not in _RPR_CACHE:
        half = int(round(size_pt * 2))
        _RPR_CACHE[key] = parse_xml(
            f'<w:rPr xmlns:w="{_W}"><w:rFonts w:ascii="{LATIN_FONT}" w:hAnsi="{LATIN_FONT}" '
            f'w:eastAsia="{east_asian}" w:cs="{LATIN_FONT}"/>' + ("<w:b/><w:bCs/>" if bold else "")
            + f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr>')
    return copy.deepcopy(_RPR_CACHE[key])


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _run(paragraph, text: str, east_asian: str, size_pt: float, bold: bool = False):
    """A run of `text` (characters XML cannot hold, e.g. a pasted \\x07, are dropped) in the given fonts."""
    run = paragraph.add_run(_NOT_XML.sub("", text))
    run._r.insert(0, _rpr(east_asian, size_pt, bold))
    return run


def _style_fonts(style, east_asian: str, size_pt: float) -> None:
    """Set a style's fonts (Latin and East Asian, no theme fonts) and size."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.name = LATIN_FONT
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), east_asian)
    style.font.size = Pt(size_pt)


def _line(pf, line_pt: float, indent_pt: float = 0, before: float = 0, after: float = 0) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(line_pt)
    pf.first_line_indent = Pt(indent_pt)
    pf.space_before, pf.space_after = Pt(before), Pt(after)


def _styles(doc):
    """Normal = body (仿宋 三号, 28 pt lines, two-character indent, justified); 报告表格 = table text."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    normal = doc.styles["Normal"]
    _style_fonts(normal, BODY_FONT, BODY_PT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    _line(normal.paragraph_format, LINE_PT, BODY_PT * 2)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    table = doc.styles.add_style("报告表格", WD_STYLE_TYPE.PARAGRAPH)
    table.base_style = normal
    _style_fonts(table, BODY_FONT, TABLE_PT)
    _line(table.paragraph_format, TABLE_PT + 6)
    table.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return table


def _para(doc, align=None, indent: bool = True, line_pt: float = LINE_PT, before: float = 0, after: float = 0):
    p = doc.add_paragraph()
    if not indent or line_pt != LINE_PT or before or after:
        _line(p.paragraph_format, line_pt, BODY_PT * 2 if indent else 0, before, after)
    if align is not None:
        p.alignment = align
    return p


def _page_number_footer(section) -> None:
    """"— 1 —" centred at the foot of every page (a PAGE field)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(p.paragraph_format, NOTE_PT + 4)
    _run(p, "— ", "宋体", NOTE_PT)
    run = _run(p, "", "宋体", NOTE_PT)
    ns = f'xmlns:w="{_W}"'
    for xml in (f'<w:fldChar {ns} w:fldCharType="begin"/>',
                f'<w:instrText {ns} xml:space="preserve"> PAGE </w:instrText>',
                f'<w:fldChar {ns} w:fldCharType="separate"/>', f"<w:t {ns}>1</w:t>",
                f'<w:fldChar {ns} w:fldCharType="end"/>'):
        run._r.append(parse_xml(xml))
    _run(p, " —", "宋体", NOTE_PT)


_NUMERIC = re.compile(r"[\d./—-]+|（待补充）")


def _table(doc, block: Block, style) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.shared import Cm

    rows = block.rows
    style_id = style.style_id
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    if block.widths:
        for c, w in enumerate(block.widths):
            t.columns[c].width = Cm(w)
    for r, (row, values) in enumerate(zip(t.rows, rows)):
        if r == 0:  # the header row repeats on every page
            row._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader xmlns:w="{_W}" w:val="true"/>'))
        for c, (cell, v) in enumerate(zip(row.cells, values)):
            if block.widths:
                cell.width = Cm(block.widths[c])
            p = cell.paragraphs[0]
            p._p.style = style_id  # (assigning the style object looks it up among 260 styles each time)
            if r > 0 and c > 0 and not _NUMERIC.fullmatch(v or ""):
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            _run(p, v, HEADING_FONT if r == 0 else BODY_FONT, TABLE_PT)


def _font_table_alt(doc) -> None:
    """Name 宋体 as the substitute of 方正小标宋简体 in word/fontTable.xml (where it is not installed)."""
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/word/fontTable.xml" and hasattr(part, "_blob"):
            xml = part._blob.decode("utf-8")
            if f'w:name="{TITLE_FONT}"' in xml:
                return
            entry = (f'<w:font w:name="{TITLE_FONT}"><w:altName w:val="{TITLE_FALLBACK}"/>'
                     f'<w:charset w:val="86"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
                     f'<w:font w:name="{BODY_FONT}"><w:charset w:val="86"/><w:family w:val="modern"/>'
                     f'<w:pitch w:val="fixed"/></w:font>')
            part._blob = xml.replace("</w:fonts>", entry + "</w:fonts>").encode("utf-8")
            return


def _deterministic_zip(data: bytes) -> bytes:
    """The same package with fixed member timestamps (python-docx stamps the time of saving)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            out.writestr(zi, src.read(info))
    return buf.getvalue()


def build_report(result: MergeResult, summary: SummaryResult | None) -> bytes:
    """One report as .docx bytes (the same result gives the same bytes)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.shared import Cm, Pt

    blocks = report_blocks(result, summary)
    doc = docx.Document()

    # page: A4 with the GB/T 9704 margins
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
    sec.footer_distance = Cm(2.5)
    table_style = _styles(doc)
    _page_number_footer(sec)
    _font_table_alt(doc)

    first_signature = True
    for i, b in enumerate(blocks):
        if b.kind == "title":
            p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, indent=False, line_pt=35)
            _run(p, b.text, TITLE_FONT, TITLE_PT)
        elif b.kind == "subtitle":
            p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, indent=False)
            _run(p, b.text, SUBHEADING_FONT, BODY_PT)
        elif b.kind == "note":
            p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, indent=False, line_pt=22, after=LINE_PT)
            _run(p, b.text, SUBHEADING_FONT, NOTE_PT)
        elif b.kind == "salutation":
            p = _para(doc, WD_ALIGN_PARAGRAPH.LEFT, indent=False)
            _run(p, b.text, BODY_FONT, BODY_PT)
        elif b.kind in ("heading", "subheading"):
            p = _para(doc, WD_ALIGN_PARAGRAPH.LEFT)
            p.paragraph_format.keep_with_next = True
            _run(p, b.text, HEADING_FONT if b.kind == "heading" else SUBHEADING_FONT, BODY_PT)
        elif b.kind == "para":
            p = _para(doc)
            if i + 1 < len(blocks) and blocks[i + 1].kind == "table":
                p.paragraph_format.keep_with_next = True  # a table's lead-in stays with it
            _run(p, b.text, BODY_FONT, BODY_PT)
        elif b.kind == "table":
            _table(doc, b, table_style)
            _para(doc, indent=False, line_pt=12)  # a little air under the table
        elif b.kind == "signature":
            p = _para(doc, WD_ALIGN_PARAGRAPH.RIGHT, indent=False, before=LINE_PT * 2 if first_signature else 0)
            p.paragraph_format.right_indent = Pt(BODY_PT * 2)
            first_signature = False
            _run(p, b.text, BODY_FONT, BODY_PT)
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")

    # fixed metadata; no thumbnail (python-docx's template carries one of its own)
    stamp = dt.datetime.combine(result.merged_on, dt.time())
    cp = doc.core_properties
    cp.title = report_title(result, summary.summary.name if summary else None)
    cp.subject = result.plan.period
    cp.author = cp.last_modified_by = "xlsx-tool"
    cp.comments = "由 xlsx-tool 根据评分汇总表生成的初稿"
    cp.keywords = REPORT_PREFIX
    cp.category = ""
    cp.created = cp.modified = cp.last_printed = stamp
    cp.revision = 1
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del pkg.rels[rid]

    buf = io.BytesIO()
    doc.save(buf)
    return _deterministic_zip(buf.getvalue())


def write_reports(result: MergeResult, out_dir) -> list[Path]:
    """Write 简要核查报告-<汇总单位>.docx for each summary unit and 简要核查报告-汇总.docx; return their paths.

    Each file is written atomically (a reader sees the old file or the new one, never half).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for s in [*result.summaries, None]:
        path = out / report_filename(s.summary.name if s else None)
        n = 2
        while path in paths:  # two names that differ only in characters Windows forbids
            path = out / f"{path.stem.rsplit('(', 1)[0]}({n}).docx"
            n += 1
        write_atomic(path, build_report(result, s))
        paths.append(path)
    return paths
