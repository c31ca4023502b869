"""A summary unit's own 评分汇总表 sent up the chain: made by this tool, or typed by hand.

A summary made by `xlsx-tool merge` carries a hidden 汇总表信息 sheet (plan, period, which summary
units it covers, the tool's version) and its 扣分明细: every score is recomputed from those
deductions, as if the forms had come.  A hand-made 附件3 (Excel, WPS, Word) proves less: its scores
are taken as reported and marked so, after every check it allows — the cap, the ranks, the amounts
its 扣分情况 states, units that belong to the plan and to that summary unit.  Either way the result
is one `Scored` per unit in `rec.scores`, for `decide` to weigh against the forms.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_text
from xlsx_tool.judging.records import FileRecord
from xlsx_tool.judging.scoring import HAND_SUMMARY, TOOL_SUMMARY, ZERO, ItemResult, Scored
from xlsx_tool.plan import Plan
from xlsx_tool.reading.annex3 import ReportedTable, match_summary, stated_deductions
from xlsx_tool.textnorm import norm_text

# The tool-made summary's identity sheet: hidden, label in column A, value in column B (as the forms').
IDENTITY_SHEET = "汇总表信息"
IDENTITY_MARK = "xlsx-tool 汇总表信息（请勿修改本表）"
IDENTITY_KEYS = (("plan_id", "方案编号"), ("period", "核查期间"), ("summaries", "汇总单位"), ("version", "工具版本"),
                 ("merged_on", "汇总时间"), ("taken", "照录手工汇总表的单位"))
DETAIL_SHEET = "扣分明细"
DETAIL_HEADERS = ("被核查单位", "汇总单位", "项目", "扣分", "扣分情况")


def identity_rows(plan: Plan, summaries: list[str], merged_on, taken: list[str]) -> list[tuple[str, str]]:
    """What the summary writer puts in the identity sheet, below the mark.  `taken`: the units whose scores
    it took from hand-made tables (no 扣分明细 to recompute them from, when this summary is read back)."""
    from xlsx_tool import __version__

    values = {"plan_id": plan.id, "period": plan.period, "summaries": "、".join(summaries), "version": __version__,
              "merged_on": merged_on.isoformat(), "taken": "、".join(taken)}
    return [(label, values[key]) for key, label in IDENTITY_KEYS]


def _identity(book) -> dict[str, str] | None:
    if IDENTITY_SHEET not in book.sheet_names:
        return None
    cells = book.sheet(IDENTITY_SHEET).cells
    if str(cells.get((0, 0), "")).strip() != IDENTITY_MARK:
        return None
    labels = {label: key for key, label in IDENTITY_KEYS}
    return {labels[str(v).strip()]: str(cells.get((r, 1), "")).strip()
            for (r, c), v in cells.items() if c == 0 and str(v).strip() in labels}


# --------------------------------------------------------------------------- made by this tool


def read_tool_summary(book, tables: list[ReportedTable], plan: Plan, rec: FileRecord) -> bool:
    """Fill `rec` from a summary made by this tool; False when the workbook is not one."""
    ident = _identity(book)
    if ident is None:
        return False
    rec.kind = TOOL_SUMMARY
    if ident.get("plan_id") != plan.id:
        rec.findings.append(FX.make("identity-other-plan", file=rec.name, found=ident.get("period") or "未知",
                                    expected=plan.period))
        return True
    covers = [s for s in (plan.summary_units) if s.name in ident.get("summaries", "").split("、")]
    rec.covers = [s.name for s in covers]
    deductions = _detail(book)
    taken = set(ident.get("taken", "").split("、"))
    shown = {}
    for table in tables:
        for row in table.rows:
            unit = plan.find_unit(row.unit_text)
            if unit is not None:
                shown[unit.name] = (row, table.where)
    for s in covers:
        for unit in s.units:
            if unit.name not in shown:
                continue  # not returned to that summary unit: missing, as it is there
            row, where = shown[unit.name]
            if unit.name in taken and row.score is not None:  # taken as reported there: so it stays
                rec.scores[unit.name] = Scored(unit, [], row.score, row.score, None, source=HAND_SUMMARY,
                                               reported=(row.highlights, row.deductions))
                continue
            scored = _recompute(plan, unit, deductions.get(unit.name, {}), row.highlights)
            if row.score is not None and row.score != scored.score:
                rec.findings.append(FX.make("tool-summary-recomputed", file=rec.name, sheet=where, cell=row.where,
                                            unit=unit.name, summary=s.name, shown=row.score_text,
                                            expected=as_text(scored.score)))
            rec.scores[unit.name] = scored
    return True


class DetailRow(NamedTuple):
    row: int  # 0-based
    unit: str
    seq: int | None  # None: not a number
    deduction: Decimal | None
    reason: str


def detail_rows(book) -> list[DetailRow] | None:
    """The rows of a summary's 扣分明细 sheet, one deduction each; None when the sheet or its header is not
    there.  Read here for a summary sent up the chain, and by next quarter's `generate --previous`."""
    if DETAIL_SHEET not in book.sheet_names:
        return None
    sheet = book.sheet(DETAIL_SHEET)
    header = next((r for r in sheet.row_numbers()
                   if tuple(norm_text(str(sheet.get(r, c) or "")) for c in range(5)) == DETAIL_HEADERS), None)
    if header is None:
        return None
    rows = []
    for r in sheet.row_numbers():
        unit, seq, amount, reason = (sheet.get(r, c) for c in (0, 2, 3, 4))
        if r <= header or not unit:
            continue
        try:
            number, deduction = int(float(seq)), Decimal(str(amount)).normalize()
        except (InvalidOperation, ValueError, TypeError):
            number = deduction = None
        rows.append(DetailRow(r, str(unit).strip(), number, deduction, str(reason or "")))
    return rows


def _detail(book) -> dict[str, dict[int, tuple[Decimal, str]]]:
    """unit -> item -> (deduction, reason), from the 扣分明细 (incomplete rows left out)."""
    out: dict[str, dict[int, tuple[Decimal, str]]] = {}
    for row in detail_rows(book) or ():
        if row.seq is not None and row.deduction is not None:
            out.setdefault(row.unit, {})[row.seq] = (row.deduction, row.reason)
    return out


def _recompute(plan: Plan, unit, deductions: dict[int, tuple[Decimal, str]], highlights: str) -> Scored:
    """A unit's Scored from the deductions a tool-made summary lists, as its forms would give it."""
    said = _highlights_by_item(highlights)
    items = []
    for item in plan.rubric.items:
        used, reason = deductions.get(item.seq, (ZERO, ""))
        used = min(max(used, ZERO), item.limit)
        items.append(ItemResult(item.seq, item.max, used, max(ZERO, item.max - used), None, reason,
                                said.get(item.seq, "")))
    raw = sum((i.score for i in items), ZERO)
    return Scored(unit, items, raw, min(raw, plan.rules.max_score), None, source=TOOL_SUMMARY)


def _highlights_by_item(text: str) -> dict[int, str]:
    """"第3项：…" lines of a 特色亮点 cell, as the summary writer puts them, by item."""
    out = {}
    for line in text.splitlines():
        head, sep, rest = line.partition("：")
        if sep and head.startswith("第") and head.endswith("项") and head[1:-1].isdigit():
            out[int(head[1:-1])] = rest
    return out


# --------------------------------------------------------------------------- typed by hand


def read_hand_tables(tables: list[ReportedTable], plan: Plan, rec: FileRecord) -> None:
    """Fill `rec` from hand-made 附件3 tables, checking each as far as it can be checked."""
    rec.kind = HAND_SUMMARY
    for table in tables:
        _hand_table(table, plan, rec)


def _hand_table(table: ReportedTable, plan: Plan, rec: FileRecord) -> None:
    def add(code, row=None, unit="", summary_name="", **kw):
        rec.findings.append(FX.make(code, file=rec.name, sheet=table.where, cell=row.where if row else "",
                                    unit=unit, summary=summary_name, **kw))

    rows = [(row, plan.find_unit(row.unit_text)) for row in table.rows if row.unit_text]
    summary = match_summary(table.summary_text, plan)
    if summary is None:  # no 汇总单位 line, or one the plan does not know: the one its units belong to
        owners = {u.summary for _, u in rows if u is not None}
        summary = plan.summary(owners.pop()) if len(owners) == 1 else None
        add("hand-summary-unnamed", text=table.summary_text or "（未写）",
            found=summary.name if summary else "无法确定", summary_name=summary.name if summary else "")
    if summary is None:
        return
    if summary.name not in rec.covers:
        rec.covers.append(summary.name)
    cap = plan.rules.max_score
    scored_rows = []
    for row, unit in rows:
        if unit is None:
            add("hand-unit-unknown", row, summary_name=summary.name, text=row.unit_text)
            continue
        if unit.summary != summary.name:
            add("hand-unit-elsewhere", row, unit.name, unit.summary, listed=summary.name, expected=unit.summary)
        if row.score is None:
            add("hand-score-not-number", row, unit.name, unit.summary, raw=row.score_text or "（空）")
            continue
        if row.score > cap or row.score < 0:
            add("hand-score-out-of-range", row, unit.name, unit.summary, score=as_text(row.score), cap=as_text(cap))
            continue
        stated = stated_deductions(row.deductions)
        if stated and sum(stated) != cap - row.score:
            add("hand-deductions-sum", row, unit.name, unit.summary, stated=as_text(sum(stated)),
                score=as_text(row.score), cap=as_text(cap), lost=as_text(cap - row.score))
        scored_rows.append((row, unit))
        rec.scores[unit.name] = Scored(unit, [], row.score, row.score, None, source=HAND_SUMMARY,
                                       reported=(row.highlights, row.deductions))
    _check_ranks(scored_rows, add)
    if scored_rows:
        add("hand-scores-taken", summary_name=summary.name, count=len(scored_rows))


def _check_ranks(rows, add) -> None:
    """Each 排名 must be the competition rank of its score among the table's (1, 2, 2, 4)."""
    scores = [row.score for row, _ in rows]
    for row, unit in rows:
        expected = 1 + sum(s > row.score for s in scores)
        if row.rank != expected:
            add("hand-rank-wrong", row, unit.name, unit.summary, found=row.rank_text or "（空）", expected=expected)
