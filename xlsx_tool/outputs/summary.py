"""Write a `MergeResult` as 评分汇总表.xlsx (附件3 per summary unit, plus overview sheets) and as JSON.

Every text that came from a returned file is written as text: a reason starting with "=" stays
text, never a formula (this writer writes no formulas).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_cell, as_text
from xlsx_tool.files import write_atomic
from xlsx_tool.forms.layout import FONT_PROPS, SUMMARY_TEXT_KEEP
from xlsx_tool.judging.merge import MergeResult, Row, SummaryResult
from xlsx_tool.outputs.table_body import Body, row_xml
from xlsx_tool.outputs.xlsx_book import PAGE_FOOTER, Book, row_px

SUMMARY_FILE = "评分汇总表.xlsx"
DETAIL_SHEET = "扣分明细"
DETAIL_HEADERS = ("被核查单位", "汇总单位", "项目", "扣分", "扣分情况")
SEVERITY_ORDER = {FX.ERROR: 0, FX.WARNING: 1, FX.INFO: 2}
_SHEET_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _short(text: str) -> str:
    """One item's text in a cell shared by all items: a 32,767-character reason must not push the others out."""
    if len(text) <= SUMMARY_TEXT_KEEP:
        return text
    return f"{text[:SUMMARY_TEXT_KEEP]}……（共{len(text)}字，全文见“扣分明细”）"


def highlights_text(row: Row) -> str:
    return "\n".join(f"第{i.seq}项：{_short(i.highlight)}" for i in row.scored.items if i.highlight)


def deduction_reason(i) -> str:
    """The reason for one item's deduction: the inspector's words and what the tool computed."""
    return "；".join(x for x in (i.reason, i.note) if x) or "（未写原因）"


def deductions_text(row: Row) -> str:
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


LINE_PT, PAD_PT, MAX_ROW_PT = 14, 4, 409  # a wrapped line of 宋体 10.5; Excel's tallest row


def _plain(v) -> str | int | float | None:
    """A value of any type but str, int, float and Decimal as a table cell shows it: blank (None), text
    or a number.  A bool is text ("True"), as in any other cell."""
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return str(v)
    if isinstance(v, Decimal):
        return as_cell(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v) if isinstance(v, int) else float(v)
    return str(v)


class _Book:
    """A workbook of titled tables (xlsx_book), whose long bodies are generated row by row (table_body)."""

    def __init__(self, **properties):
        wb = self.wb = Book(FONT_PROPS, **properties)
        f = {**FONT_PROPS}
        self.title = wb.add_format({**f, "bold": True, "font_size": 15, "align": "center", "valign": "vcenter"})
        self.info = wb.add_format({**f, "valign": "vcenter"})
        self.head = wb.add_format({**f, "bold": True, "border": 1, "align": "center", "valign": "vcenter",
                                   "text_wrap": True, "bg_color": "#F2F2F2"})
        self.text = wb.add_format({**f, "border": 1, "valign": "vcenter", "text_wrap": True})
        self.center = wb.add_format({**f, "border": 1, "valign": "vcenter", "align": "center", "text_wrap": True})
        self.num = wb.add_format({**f, "border": 1, "valign": "vcenter", "align": "center", "num_format": "0.##"})
        self.error = wb.add_format({**f, "border": 1, "valign": "vcenter", "align": "center", "font_color": "#C00000", "bold": True})
        self.warn = wb.add_format({**f, "border": 1, "valign": "vcenter", "align": "center", "font_color": "#9C5700"})

    def table(self, ws, headers, widths, rows, count=None, landscape=True, title=None, info=None):
        """A titled, bordered table that prints on A4 one page wide with its header on every page.

        `rows` are lists of values (str, Decimal, int, float, None; or (value, format)); an iterable
        that is not a list is read once, while the workbook is finished, and needs `count`.
        Returns the table's last row."""
        last = len(headers) - 1
        r = 0
        if title:
            ws.merge_range(r, 0, r, last, title, self.title)
            ws.set_row(r, 30)
            r += 1
        if info:
            ws.merge_range(r, 0, r, last, info, self.info)
            ws.set_row(r, 22)
            r += 1
        for c, (h, w) in enumerate(zip(headers, widths)):
            ws.set_column(c, c, w)
            ws.write_string(r, c, h, self.head)
        header_row = r
        n = len(rows) if count is None else count
        if n:
            per_line = [max(1, int(w / 2) - 1) for w in widths]  # CJK characters a line holds
            ws.body = Body(header_row, header_row + n, last, lambda: self._rows(rows, header_row + 1, per_line))
        r = header_row + n
        ws.landscape = landscape
        ws.fit_width = True
        ws.title_rows = header_row
        ws.center = True
        ws.footer = PAGE_FOOTER
        ws.frozen_rows = header_row + 1
        if n:
            ws.filter = (header_row, 0, r, last)
        return r

    def _rows(self, rows, first: int, per_line: list[int]):
        s_text, s_num = self.text, self.num
        for r, values in enumerate(rows, first):
            lines = 1
            cells = []
            for c, v in enumerate(values):
                s = None
                if type(v) is tuple:
                    v, s = v
                t = type(v)  # the usual types by identity, the rest through _plain
                if t is Decimal:
                    v, t = as_cell(v), float
                elif t is not str and t is not int and t is not float:
                    v = _plain(v)
                    t = type(v)
                if t is str and v:
                    cells.append((v, s or s_text))
                    if "\n" in v:
                        k = per_line[c]
                        lines = max(lines, sum(-(-len(p) // k) or 1 for p in v.split("\n")))
                    elif len(v) > per_line[c]:  # one paragraph: the same sum, without splitting
                        lines = max(lines, -(-len(v) // per_line[c]))
                elif t is str or v is None:
                    cells.append((None, s or s_text))
                else:
                    cells.append((v, s or s_num))
            # whole pixels, as Excel stores a height
            yield row_xml(r, cells, row_px(min(MAX_ROW_PT, LINE_PT * lines + PAD_PT)) * 0.75 if lines > 1 else None)

    def close(self) -> bytes:
        return self.wb.close()


def build_summary(result: MergeResult) -> bytes:
    plan = result.plan
    B = _Book(title=plan.summary_title, author="xlsx-tool", created=dt.datetime.combine(result.merged_on, dt.time()))
    wb = B.wb
    used: set[str] = set()
    when = f"{result.merged_on:%Y年%m月%d日}"

    # 回收情况
    ws = wb.add_worksheet(sheet_name("回收情况", used))
    rows = []
    for i, s in enumerate(result.summaries, 1):
        su = s.summary
        state = "" if s.has_returns else "未收到（本次未汇总）"
        rows.append([i, su.name, len(su.units), len(s.rows), len(s.missing), s.refused,
                     (f"{len(s.high)}/{s.quota}", B.error if s.breach else B.center),
                     str(su.leader or ""), str(su.liaison or ""),
                     state or "、".join(u.name for u in s.missing)])
    total = [("合计", B.center), "", result.expected, result.received, result.expected - result.received,
             sum(s.refused for s in result.summaries), "", "", "", ""]
    B.table(ws, ["序号", "汇总单位", "应交", "已交", "未交", "拒收", "95分及以上/上限", "组长", "联络员", "未交单位"],
            [5, 24, 6, 6, 6, 6, 9, 26, 26, 40], rows + [total],
            title=f"{plan.period}评分表回收情况",
            info=f"汇总时间：{when}    收到 {len(result.files)} 个文件，采用 {result.received} 份，"
                 f"错误 {result.count(FX.ERROR)} 条，警告 {result.count(FX.WARNING)} 条（详见“问题清单”）")

    # 问题清单
    ws = wb.add_worksheet(sheet_name("问题清单", used))
    order = {u.name: i for i, u in enumerate(plan.units)}
    fs = sorted(result.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.summary, order.get(f.unit, 1 << 30), f.file))
    sev_fmt = {FX.ERROR: B.error, FX.WARNING: B.warn, FX.INFO: B.center}
    B.table(ws, ["序号", "级别", "汇总单位", "被核查单位", "文件", "工作表", "单元格", "问题说明", "代码"],
            [5, 6, 18, 16, 30, 9, 7, 60, 12],
            ([i, (f.severity, sev_fmt[f.severity]), f.summary, f.unit, f.file, f.sheet, (f.cell, B.center), f.message, f.code]
             for i, f in enumerate(fs, 1)), count=len(fs),
            title="问题清单", info=f"汇总时间：{when}    “错误”须改正后重新交回；“警告”请核实；“提示”供参考。")

    # 全部单位排名
    ws = wb.add_worksheet(sheet_name("全部单位排名", used))
    B.table(ws, ["排名", "被核查单位", "汇总单位", "得分", "核查时间", "文件"],
            [6, 26, 24, 8, 12, 40],
            ([r.rank_all, r.unit.name, r.unit.summary, r.scored.score,
              r.scored.date.isoformat() if r.scored.date else "", r.file] for r in result.ranking),
            count=len(result.ranking),
            landscape=False, title=f"{plan.summary_title}（全部单位）",
            info=f"汇总时间：{when}    共 {result.received} 个单位（应 {result.expected} 个），按得分从高到低排列，同分同名次。")

    from xlsx_tool.outputs.stats import STATS_SHEET, add_stats_sheet

    add_stats_sheet(wb, result, sheet_name=sheet_name(STATS_SHEET, used))

    # 扣分明细: one row per deduction; next quarter's `generate --previous` reads it back
    ws = wb.add_worksheet(sheet_name(DETAIL_SHEET, used))
    deducted = [(r, i) for r in result.ranking for i in r.scored.items if i.deduction > 0]  # walked once
    B.table(ws, list(DETAIL_HEADERS), [24, 22, 6, 8, 60],
            ([r.unit.name, r.unit.summary, i.seq, i.deduction, deduction_reason(i)] for r, i in deducted),
            count=len(deducted),
            title=f"{plan.period}扣分明细", info=f"汇总时间：{when}    下一季度生成评分表时可用 --previous 读取本表，作为第{plan.rules.rectification_item or '×'}项整改核查清单。")

    # 附件3, one sheet per summary unit that has returns
    for s in result.summaries:
        if s.has_returns:
            _annex3(B, wb.add_worksheet(sheet_name(s.summary.name, used)), result, s, when)

    # 文件清单
    ws = wb.add_worksheet(sheet_name("文件清单", used))
    B.table(ws, ["序号", "文件", "状态", "被核查单位", "汇总单位", "原因或说明", "大小（字节）", "SHA-256"],
            [5, 36, 12, 16, 18, 50, 10, 22],
            ([i, f.name, (f.status, B.error if f.status == "拒收" else B.center), f.unit, f.summary, f.reason, f.size or "",
              f.sha256] for i, f in enumerate(result.files, 1)), count=len(result.files),
            title="文件清单", info=f"汇总时间：{when}    读取文件夹：{result.collected}    共 {len(result.files)} 个文件")
    return B.close()


def _annex3(B: _Book, ws, result: MergeResult, s: SummaryResult, when: str) -> None:
    rows = ([r.rank, r.unit.name, highlights_text(r), deductions_text(r), r.scored.score] for r in s.rows)
    last = B.table(ws, ["排名", "被核查单位", "特色亮点", "扣分情况", "得分"], [6, 22, 45, 55, 8], rows, count=len(s.rows),
                   title=result.plan.summary_title, info=f"汇总单位：{s.summary.name}        汇总时间：{when}")
    notes = []
    if s.missing:
        notes.append(f"未交（{len(s.missing)}个）：{'、'.join(u.name for u in s.missing)}")
    rules = result.plan.rules
    notes.append(f"{as_text(rules.high_score)}分及以上 {len(s.high)} 个，上限 {s.quota} 个（核查 {len(s.summary.units)} 个单位的{rules.share_text}）"
                 + ("，超出规定！" if s.breach else "。"))
    for i, n in enumerate(notes, 1):
        ws.merge_range(last + i, 0, last + i, 4, n, B.info)


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
                "items": [{"seq": i.seq, "max": as_cell(i.max), "deduction": as_cell(i.deduction), "score": as_cell(i.score),
                           "reason": i.reason, "note": i.note, "highlight": i.highlight} for i in r.scored.items],
            }
            for r in result.ranking
        ],
        "summaries": [
            {"summary": s.summary.name, "expected": len(s.summary.units), "returned": len(s.rows),
             "missing": [u.name for u in s.missing], "refused": s.refused, "high": len(s.high), "quota": s.quota,
             "quota_exceeded": s.breach, "has_returns": s.has_returns}
            for s in result.summaries
        ],
        "findings": [f.to_dict() for f in result.findings],
        "files": [{"file": f.name, "status": f.status, "unit": f.unit, "summary": f.summary, "reason": f.reason,
                   "size": f.size, "sha256": f.sha256} for f in result.files],
    }
