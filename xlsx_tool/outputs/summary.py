"""Write a `MergeResult` as 评分汇总表.xlsx (附件3 per summary unit, plus overview sheets) and as JSON.

Written with XlsxWriter (outputs/tables.py): every text that came from a returned file is written
as text, a reason starting with "=" stays text, never a formula (this workbook has no formulas).
"""

from __future__ import annotations

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_cell, as_text
from xlsx_tool.files import write_atomic
from xlsx_tool.forms.layout import SUMMARY_TEXT_KEEP
from xlsx_tool.judging.merge import MergeResult, Row, SummaryResult
from xlsx_tool.judging.scoring import FORM
from xlsx_tool.outputs.progress import report_state, summary_state
from xlsx_tool.judging.summaries import DETAIL_HEADERS, DETAIL_SHEET, IDENTITY_MARK, IDENTITY_SHEET, identity_rows
from xlsx_tool.outputs.tables import Tables, new_book

SUMMARY_FILE = "评分汇总表.xlsx"
SEVERITY_ORDER = {FX.ERROR: 0, FX.WARNING: 1, FX.INFO: 2}
_SHEET_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _short(text: str) -> str:
    """One item's text in a cell shared by all items: a 32,767-character reason must not push the others out."""
    if len(text) <= SUMMARY_TEXT_KEEP:
        return text
    return f"{text[:SUMMARY_TEXT_KEEP]}……（共{len(text)}字，全文见“扣分明细”）"


def highlights_text(row: Row) -> str:
    if row.scored.reported:  # a hand-made 附件3's own words
        return row.scored.reported[0]
    return "\n".join(f"第{i.seq}项：{_short(i.highlight)}" for i in row.scored.items if i.highlight)


def deduction_reason(i) -> str:
    """The reason for one item's deduction: the inspector's words and what the tool computed."""
    return "；".join(x for x in (i.reason, i.note) if x) or "（未写原因）"


def deductions_text(row: Row) -> str:
    if row.scored.reported:
        return row.scored.reported[1]
    return "\n".join(f"第{i.seq}项扣{as_text(i.deduction)}分：{_short(deduction_reason(i))}"
                     for i in row.scored.items if i.deduction > 0)


def sheet_name(name: str, used: set[str]) -> str:
    base = name.translate(_SHEET_BAD)[:31]
    out, n = base, 2
    while out in used:
        out = f"{base[:28]}({n})"
        n += 1
    used.add(out)
    return out


def build_summary(result: MergeResult) -> bytes:
    plan = result.plan
    wb, buf = new_book(plan.summary_title, result.merged_on)
    B = Tables(wb)
    used: set[str] = set()
    when = f"{result.merged_on:%Y年%m月%d日}"
    high = as_text(plan.rules.high_score)
    # a summary unit's own summary (merge --summary-unit) begins with its 附件3, what it sends up
    own = len(result.summaries) == 1
    if own:
        _annexes(B, wb, result, used, when)

    # 回收情况: per summary unit, the units' scores, its 评分汇总表 and its 简要核查报告
    ws = wb.add_worksheet(sheet_name("回收情况", used))
    rows = []
    for i, s in enumerate(result.summaries, 1):
        su = s.summary
        state = "" if s.has_returns else "未收到（本次未汇总）"
        rows.append([i, su.name, len(su.units), len(s.rows), len(s.missing), s.refused,
                     (f"{len(s.high)}/{s.quota}", B.error if s.breach else B.center),
                     (summary_state(s), B.center), (report_state(s), B.center),
                     str(su.leader or ""), str(su.liaison or ""),
                     state or "、".join(u.name for u in s.missing)])
    total = [("合计", B.center), "", result.expected, result.received, result.expected - result.received,
             sum(s.refused for s in result.summaries), "", "", "", "", "", ""]
    B.table(ws, ["序号", "汇总单位", "应交", "已交", "未交", "拒收", f"{high}分及以上/上限", "汇总表", "简要核查报告",
                 "组长", "联络员", "未交单位"],
            [5, 24, 6, 6, 6, 6, 11, 9, 9, 22, 22, 36], rows + [total],
            title=f"{plan.period}评分表回收情况",
            info=f"汇总时间：{when}    收到 {len(result.files)} 个文件，采用 {result.received} 份（{routes_text(result)}），"
                 f"错误 {result.count(FX.ERROR)} 条，警告 {result.count(FX.WARNING)} 条（详见“问题清单”）")

    # 问题清单: errors first; the finding's code is in --json, its Chinese category here
    ws = wb.add_worksheet(sheet_name("问题清单", used))
    order = {u.name: i for i, u in enumerate(plan.units)}
    fs = sorted(result.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.summary, order.get(f.unit, 1 << 30), f.file))
    sev_fmt = {FX.ERROR: B.error, FX.WARNING: B.warn, FX.INFO: B.center}
    last = B.table(ws, ["序号", "级别", "类别", "汇总单位", "被核查单位", "文件", "工作表", "单元格", "问题说明", "代码"],
                   [5, 6, 10, 18, 16, 28, 9, 7, 60, 12],
                   ([i, (f.severity, sev_fmt[f.severity]), (FX.category(f.code), B.center), f.summary, f.unit, f.file,
                     f.sheet, (f.cell, B.center), f.message, f.code] for i, f in enumerate(fs, 1)),
                   title="问题清单", info=f"汇总时间：{when}    “错误”须改正后重新交回；“警告”请核实；“提示”供参考。")
    ws.set_column(9, 9, 12, None, {"hidden": True})  # the code, for a filter or a script: not shown,
    ws.print_area(0, 0, last, 8)  # and not printed, even once shown

    # 全部单位排名
    ws = wb.add_worksheet(sheet_name("全部单位排名", used))
    B.table(ws, ["排名", "被核查单位", "汇总单位", "得分", "来源", "核查时间", "文件"],
            [6, 28, 26, 8, 12, 12, 50],
            ([r.rank_all, r.unit.name, r.unit.summary, r.scored.score, (r.scored.source, B.center),
              r.scored.date.isoformat() if r.scored.date else "", r.file] for r in result.ranking),
            landscape=False, title=f"{plan.summary_title}（全部单位）",
            info=f"汇总时间：{when}    共 {result.received} 个单位（应 {result.expected} 个），按得分从高到低排列，同分同名次。")

    from xlsx_tool.outputs.stats import STATS_SHEET, add_stats_sheet

    add_stats_sheet(wb, result, sheet_name=sheet_name(STATS_SHEET, used))

    # 扣分明细: one row per deduction; next quarter's `generate --previous` reads it back
    ws = wb.add_worksheet(sheet_name(DETAIL_SHEET, used))
    B.table(ws, list(DETAIL_HEADERS), [28, 26, 5, 6, 66],
            ([r.unit.name, r.unit.summary, i.seq, i.deduction, deduction_reason(i)]
             for r in result.ranking for i in r.scored.items if i.deduction > 0),
            landscape=False, title=f"{plan.period}扣分明细",
            info=f"汇总时间：{when}    下一季度生成评分表时可用 --previous 读取本表，"
                 f"作为第{plan.rules.rectification_item or '×'}项整改核查清单。")

    if not own:
        _annexes(B, wb, result, used, when)

    # 文件清单
    ws = wb.add_worksheet(sheet_name("文件清单", used))
    B.table(ws, ["序号", "文件", "类型", "状态", "被核查单位", "汇总单位", "原因或说明", "发件人、发送时间", "大小（字节）",
                 "SHA-256"],
            [5, 46, 10, 8, 16, 24, 30, 22, 8, 66],
            ([i, f.name, f.kind, (f.status, B.error if f.status == "拒收" else B.center), f.unit,
              f.summary or "、".join(f.covers), f.reason, " ".join(x for x in (f.sender, f.sent) if x), f.size or "",
              f.sha256] for i, f in enumerate(result.files, 1)),
            title="文件清单", info=f"汇总时间：{when}    读取文件夹：{result.collected}    共 {len(result.files)} 个文件")

    # 汇总表信息: hidden; who made this summary, for which summary units, so that it can be sent up the chain
    ws = wb.add_worksheet(IDENTITY_SHEET)
    ws.write_string(0, 0, IDENTITY_MARK)
    covered = [s.summary.name for s in result.summaries if s.rows]
    taken = [r.unit.name for r in result.ranking if r.scored.reported]
    for r, (label, value) in enumerate(identity_rows(plan, covered, result.merged_on, taken), 1):
        ws.write_string(r, 0, label)
        ws.write_string(r, 1, value)
    ws.hide()
    wb.close()
    return buf.getvalue()


def routes_text(result: MergeResult) -> str:
    """"评分表 130 份、手工汇总表 7 份": how many counted units came by which route."""
    return "、".join(f"{k} {n} 份" for k, n in result.routes().items()) or "无"


def _annexes(B: Tables, wb, result: MergeResult, used: set[str], when: str) -> None:
    """附件3, one sheet per summary unit that has returns."""
    for s in result.summaries:
        if s.has_returns:
            _annex3(B, wb.add_worksheet(sheet_name(s.summary.name, used)), result, s, when)


ANNEX3_ONE_PAGE = 14  # the biggest summary unit inspects 14 units: its 附件3 prints on one page


def _annex3(B: Tables, ws, result: MergeResult, s: SummaryResult, when: str) -> None:
    notes = []
    if s.missing:
        notes.append(f"未交（{len(s.missing)}个）：{'、'.join(u.name for u in s.missing)}")
    rules = result.plan.rules
    notes.append(f"{as_text(rules.high_score)}分及以上 {len(s.high)} 个，上限 {s.quota} 个（核查 {len(s.summary.units)} 个单位的{rules.share_text}）"
                 + ("，超出规定！" if s.breach else "。"))
    taken = [f"{r.unit.name}（{r.scored.source}）" for r in s.rows if r.scored.source != FORM]
    if taken:
        notes.append(f"以下单位未收到评分表，得分取自上报的汇总表：{'、'.join(taken)}。")
    rows = ([r.rank, r.unit.name, highlights_text(r), deductions_text(r), r.scored.score] for r in s.rows)
    B.table(ws, ["排名", "被核查单位", "特色亮点", "扣分情况", "得分"], [6, 20, 40, 60, 7], rows,
            title=result.plan.summary_title, info=f"汇总单位：{s.summary.name}        汇总时间：{when}", notes=notes)
    if len(s.rows) <= ANNEX3_ONE_PAGE:
        B.one_page(ws)  # one page, however long the texts


def write_summary(result: MergeResult, path) -> None:
    write_atomic(path, build_summary(result))


def to_json(result: MergeResult) -> dict:
    plan = result.plan
    return {
        "plan": {"id": plan.id, "period": plan.period},
        "merged_on": result.merged_on.isoformat(),
        "collected": result.collected,
        "expected": result.expected,
        "received": result.received,
        "errors": result.count(FX.ERROR),
        "warnings": result.count(FX.WARNING),
        "units": [
            {
                "unit": r.unit.name,
                "summary": r.unit.summary,
                "score": as_cell(r.scored.score),
                "raw_total": as_cell(r.scored.raw_total),
                "rank": r.rank,
                "rank_all": r.rank_all,
                "date": r.scored.date.isoformat() if r.scored.date else None,
                "file": r.file,
                "source": r.scored.source,
                "items": [{"seq": i.seq, "max": as_cell(i.max), "deduction": as_cell(i.deduction), "score": as_cell(i.score),
                           "reason": i.reason, "note": i.note, "highlight": i.highlight} for i in r.scored.items],
            }
            for r in result.ranking
        ],
        "summaries": [
            {"summary": s.summary.name, "expected": len(s.summary.units), "returned": len(s.rows),
             "missing": [u.name for u in s.missing], "refused": s.refused, "high": len(s.high), "quota": s.quota,
             "quota_exceeded": s.breach, "has_returns": s.has_returns, "summary_files": s.summary_files,
             "report_files": s.report_files}
            for s in result.summaries
        ],
        "findings": [f.to_dict() for f in result.findings],
        "files": [{"file": f.name, "kind": f.kind, "status": f.status, "unit": f.unit, "summary": f.summary,
                   "covers": f.covers, "reason": f.reason, "sender": f.sender, "sent": f.sent, "size": f.size,
                   "sha256": f.sha256} for f in result.files],
        "routes": result.routes(),
    }
