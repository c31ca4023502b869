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
from xlsx_tool.outputs.stats import item_label, overall_average, score_distribution
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


class Doc:
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


def head(doc: Doc, result: MergeResult, summary_name: str | None) -> None:
    parts = title_parts(result, summary_name)
    doc.add("title", "".join(parts), lines=break_lines(parts, TITLE_EM))
    if summary_name is None:
        doc.add("subtitle", f"（{OVERALL}）")
    note = (f"（初稿：由评分汇总表数据生成，汇总时间{fmt_date(result.merged_on)}；"
            "标有“待补充”处请核实补充，定稿时删除本行）")
    doc.add("note", note, lines=break_lines(phrases(note), NOTE_EM))


def window(s) -> str:
    a, b = s.window
    return fmt_date(a) if a == b else f"{fmt_date(a)}至{fmt_date(b)}"


def when_done(rows: list[Row]) -> str:
    dates = [r.scored.date for r in rows if r.scored.date]
    undated = len(rows) - len(dates)
    if not dates:
        return "交回的评分表均未填写核查时间。" + todo("实际核查时间")
    lo, hi = min(dates), max(dates)
    text = f"据交回的评分表，实地核查于{fmt_date(lo) if lo == hi else f'{fmt_date(lo)}至{fmt_date(hi)}'}进行"
    if undated:
        text += f"，另有{undated}份评分表未填写核查时间"
    return text + "。"


def unit_names(rows: list[Row]) -> str:
    return "、".join(r.unit.name for r in rows)


def numbers(doc: Doc, result: MergeResult, rows: list[Row], expected: int, findings: list) -> None:
    n = len(rows)
    missing = expected - n
    routes: dict[str, int] = {}
    for r in rows:
        routes[r.scored.source] = routes.get(r.scored.source, 0) + 1
    if set(routes) <= {"评分表"}:
        text = f"应核查{expected}个单位，已收到并采用评分表{n}份"
    else:  # some scores came in summaries sent up: say how many by which route
        text = (f"应核查{expected}个单位，已采用{n}个单位的得分（"
                + "、".join(f"取自{k}{v}个" for k, v in routes.items()) + "）")
    text += f"，尚有{missing}个单位未交" if missing else "，全部交齐"
    best = max(r.scored.score for r in rows)
    worst = min(r.scored.score for r in rows)
    text += (f"。平均分{fmt_avg(overall_average(result, rows))}分；"
             f"最高分{as_text(best)}分（{unit_names([r for r in rows if r.scored.score == best])}），"
             f"最低分{as_text(worst)}分（{unit_names([r for r in rows if r.scored.score == worst])}）。")
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


def item_labels(result: MergeResult, width: int = 40) -> dict[int, str]:
    return {it.seq: item_label(it.text, width=width) for it in result.plan.rubric.items}


def rules_intro(result: MergeResult) -> str:
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


def capped_sentence(result: MergeResult, findings: list) -> str:
    n = sum(1 for f in findings if f.code == "score-capped")
    top = as_text(result.plan.rules.max_score)
    return f"另有{n}份评分表各项得分合计超过{top}分，已按{top}分计。" if n else ""


def refused_sentence(n: int) -> str:
    return f"另有{n}个文件被拒收，原因见评分汇总表“文件清单”和“问题清单”。" if n else ""


def signature(doc: Doc, result: MergeResult, who: str) -> None:
    doc.add("signature", who)
    doc.add("signature", f"{result.merged_on.year}年×月×日")  # the date a person fills in when signing


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


def ordered_items(rows: list[Row]) -> list[tuple[int, list]]:
    """Items with deductions, most units first, then most points, then the item's number."""
    by = _by_item(rows)
    return sorted(by.items(), key=lambda kv: (-len(kv[1]), -sum(i.deduction for _, i in kv[1]), kv[0]))


def block_text(blocks: list[Block]) -> str:
    """All the text of a report, tables row by row (tab-separated)."""
    out = []
    for b in blocks:
        if b.kind == "table":
            out.extend("\t".join(r) for r in b.rows)
        else:
            out.append(b.text)
    return "\n".join(out)
