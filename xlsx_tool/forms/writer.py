"""Write one 评分细则 workbook (bytes) for one unit, laid out by `layout`.

Every formula is written with its correct cached value, so a blank form shows
the maxima in clients that do not recalculate on open (LibreOffice, Excel's
Protected View, some WPS versions).  `entries` pre-fills the input cells as an
inspector would (used by `demo`, tests and benchmarks).

The form sheet is written piece by piece, top to bottom: title and info line,
header, the item rows (with each deduction's validation), the categories down
column A, the totals, the blocks below (`blocks`), then the paper (`paper`).
The 填表说明 and 表单信息 sheets are in `guide`.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter

from xlsx_tool.decimals import as_cell
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.blocks import write_rectify_block, write_test_block
from xlsx_tool.forms.formats import FormFormats
from xlsx_tool.forms.guide import identity_values, write_guide_sheet, write_identity_sheet  # noqa: F401  (identity_values re-exported)
from xlsx_tool.forms.layout import FONT_PROPS  # noqa: F401  (re-exported)
from xlsx_tool.forms.paper import FORM_PAGE, Rows, height_for, lines_needed, page_breaks, set_page
from xlsx_tool.forms.worksheet import FormWorksheet
from xlsx_tool.plan import Item, Plan, Unit

TITLE_PT, INFO_PT, HEADER_PT, TOTAL_PT = 36, 24, 30, 22


@dataclass
class ItemEntry:
    highlight: str = ""
    reason: str = ""
    deduction: object = None  # as typed: a number, a text, or None for blank


@dataclass
class FormEntries:
    date: object = None  # dt.date, or whatever text was typed
    items: dict[int, ItemEntry] = field(default_factory=dict)  # by item seq
    test: list[tuple[str, object]] = field(default_factory=list)  # knowledge test: (name, score as typed)
    rectified: list[tuple[object, str]] = field(default_factory=list)  # per previous problem: (status, note)


def _excel_number(raw) -> Decimal | None:
    """How Excel's arithmetic reads a cell: blank is 0, "2" is 2, "2分" is #VALUE! (None)."""
    if raw is None or raw == "":
        return Decimal(0)
    if isinstance(raw, bool):
        return Decimal(int(raw))
    try:
        return Decimal(str(raw).strip())
    except Exception:
        return None


def _cached_item_score(item: Item, raw, extra: Decimal | None = None) -> object:
    """What Excel shows for =MAX(0,C-F), or =MAX(0,C-MIN(limit,F+extra)) when `extra` is given."""
    d = _excel_number(raw)
    if d is None:
        return "#VALUE!"
    if extra is not None:
        d = min(item.limit, d + extra)
    return as_cell(max(Decimal(0), item.max - d))


def _fit(text: str, limit: int) -> str:
    """Excel refuses (and xlsxwriter drops) a validation whose prompt exceeds its limit: cut instead."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def valid_deduction_formula(item: Item, cell: str) -> str:
    """Spreadsheet test of one deduction cell: a number, 0..limit, in whole steps or the cap."""
    lim, step = as_cell(item.limit), as_cell(item.step)
    return (
        f"AND(ISNUMBER({cell}),{cell}>=0,{cell}<={lim},"
        f"OR({cell}={lim},ROUND({cell}/{step},6)=INT(ROUND({cell}/{step},6))))"
    )


def build_form(plan: Plan, unit: Unit, entries: FormEntries | None = None, problems: list[str] | None = None) -> bytes:
    """The workbook for one unit.  `problems`: last quarter's problems, checked off under the rectification item."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_format_properties": dict(FONT_PROPS),  # xlsxwriter mutates it
        },
    )
    # Fixed metadata: the same plan gives byte-identical files.
    wb.set_properties(
        {
            "title": f"{plan.form_title}（{unit.name}）",
            "subject": plan.period,
            "author": plan.issuer,
            "company": plan.issuer,
            "created": dt.datetime.combine(plan.issued, dt.time()),
            "comments": "由 xlsx-tool 生成",
        }
    )
    summary = plan.summary(unit.summary)
    F = FormFormats(wb)
    ws = wb.add_worksheet(L.FORM_SHEET, worksheet_class=FormWorksheet)
    _write_form_sheet(ws, F, plan, unit, summary, entries or FormEntries(), problems or [])
    write_guide_sheet(wb.add_worksheet(L.GUIDE_SHEET), F, plan, unit, summary, bool(problems))
    write_identity_sheet(wb.add_worksheet(L.IDENTITY_SHEET), plan, unit)
    ws.activate()
    wb.close()
    return buf.getvalue()


@dataclass
class _Below:
    """What the item rows need from the blocks below the table, and the rows those blocks take."""
    test_item: Item | None = None
    test_cell: str | None = None
    test_ded: Decimal | None = None
    rect_item: Item | None = None
    rect_formula: str | None = None
    rect_ded: Decimal | None = None
    keep: list[tuple[int, int]] = field(default_factory=list)
    last_row: int | None = None


def _write_form_sheet(ws, F: FormFormats, plan: Plan, unit: Unit, summary, entries: FormEntries,
                      problems: list[str]) -> None:
    rows = Rows(ws)
    for col, w in enumerate(L.WIDTHS):
        ws.set_column(col, col, w)
    _write_title(ws, F, rows, plan)
    _write_info_line(ws, F, rows, unit, summary, entries.date)
    _write_header(ws, F, rows)
    below = _write_blocks_below(ws, F, rows, plan, entries, problems)
    scores = [_write_item_row(ws, F, rows, i, item, entries.items.get(item.seq, ItemEntry()), below)
              for i, item in enumerate(plan.rubric.items)]
    _write_reason_warning(ws, F, len(scores))
    keep = _write_categories(ws, F, rows, plan)
    _write_totals(ws, F, rows, plan, scores)
    _set_form_paper(ws, rows, plan, keep + below.keep, below.last_row)
    ws.freeze_panes(L.ROW_FIRST_ITEM, 0)
    ws.protect("", {"format_rows": True, "format_columns": True})
    ws.set_first_sheet()
    ws.set_selection(*L.DATE_CELL, *L.DATE_CELL)


def _write_title(ws, F: FormFormats, rows: Rows, plan: Plan) -> None:
    rows.set(L.ROW_TITLE, TITLE_PT)
    ws.merge_range(L.ROW_TITLE, 0, L.ROW_TITLE, L.LAST_COL, plan.form_title, F.title)


def _write_info_line(ws, F: FormFormats, rows: Rows, unit: Unit, summary, date) -> None:
    """被核查单位 | unit | 核查组 | 核查时间 | the date (an input, checked against the summary unit's window)."""
    r = L.ROW_INFO
    rows.set(r, INFO_PT)
    ws.write_string(r, L.COL_CATEGORY, L.UNIT_LABEL, F.label)
    ws.write_string(*L.INFO_UNIT, unit.name, F.value)
    ws.merge_range(*L.INFO_SUMMARY, r, L.COL_HIGHLIGHT, f"{L.SUMMARY_LABEL}{summary.name}", F.value_fit)
    ws.write_string(*L.INFO_DATE_LABEL, L.DATE_LABEL, F.label)
    dr, dc = L.DATE_CELL
    ws.merge_range(dr, dc, dr, L.LAST_COL, "", F.date)
    if isinstance(date, dt.date):
        ws.write_datetime(dr, dc, dt.datetime.combine(date, dt.time()), F.date)
    elif date not in (None, ""):
        ws.write_string(dr, dc, str(date), F.date)
    start, end = summary.window
    cell = L.a1(dr, dc)
    ws.data_validation(dr, dc, dr, dc, {
        "validate": "date", "criteria": "between",
        "minimum": dt.datetime.combine(start, dt.time()), "maximum": dt.datetime.combine(end, dt.time()),
        "input_title": "核查时间",
        "input_message": f"请填写实地核查的日期，应在 {start:%Y-%m-%d} 至 {end:%Y-%m-%d} 之间，如 {start:%Y-%m-%d}。",
        "error_title": "核查时间不在规定时间内",
        "error_message": _fit(f"{summary.name} 的核查时间为 {start:%Y年%m月%d日} 至 {end:%Y年%m月%d日}，"
                              f"请填写其间的日期（如 {start:%Y-%m-%d}）。", 255),
    })
    ws.conditional_format(dr, dc, dr, dc, {
        "type": "formula",
        "criteria": f'=AND({cell}<>"",OR(NOT(ISNUMBER({cell})),{cell}<DATE({start.year},{start.month},{start.day}),'
                    f"{cell}>DATE({end.year},{end.month},{end.day})))",
        "format": F.bad,
    })


def _write_header(ws, F: FormFormats, rows: Rows) -> None:
    rows.set(L.ROW_HEADER, HEADER_PT)
    for col, h in enumerate(L.HEADERS):
        ws.write_string(L.ROW_HEADER, col, h, F.header)


def _write_blocks_below(ws, F: FormFormats, rows: Rows, plan: Plan, entries: FormEntries,
                        problems: list[str]) -> _Below:
    """The knowledge test and the rectification checklist, written first: the item rows refer to them."""
    rules, n = plan.rules, len(plan.rubric.items)
    below = _Below(last_row=L.total_row(n))
    below.test_item = plan.item(rules.test_item)
    if below.test_item:
        below.test_cell, below.test_ded, block = write_test_block(ws, F, rows, plan, entries)
        below.keep.append(block)
        below.last_row = block[1]
    if problems:
        below.rect_item = plan.item(rules.rectification_item)
        below.rect_formula, below.rect_ded, keep = write_rectify_block(ws, F, rows, plan, below.rect_item,
                                                                      problems, entries)
        below.keep += keep
        below.last_row = keep[0][1] + len(problems) - 1
    return below


def _write_item_row(ws, F: FormFormats, rows: Rows, index: int, item: Item, entry: ItemEntry,
                    below: _Below) -> object:
    """One rubric item: its text, maximum, the three inputs and its score; returns the cached score."""
    row = L.item_row(index)
    rows.fit(row, [(item.text, L.WIDTHS[L.COL_TEXT]), (entry.highlight, L.WIDTHS[L.COL_HIGHLIGHT]),
                   (entry.reason, L.WIDTHS[L.COL_REASON])])
    ws.write_string(row, L.COL_TEXT, item.text, F.text)
    ws.write_number(row, L.COL_MAX, as_cell(item.max), F.number)
    for col, text in ((L.COL_HIGHLIGHT, entry.highlight), (L.COL_REASON, entry.reason)):
        if text:
            ws.write_string(row, col, text, F.input_text)
        else:
            ws.write_blank(row, col, None, F.input_text)
    c_max, c_ded = L.a1(row, L.COL_MAX), L.a1(row, L.COL_DEDUCTION)
    if item is below.rect_item:
        # follows from the checklist below: one step per problem not marked 已整改
        cached = _cached_item_score(item, below.rect_ded)
        ws.write_formula(row, L.COL_DEDUCTION, below.rect_formula, F.number, as_cell(below.rect_ded))
        ws.write_formula(row, L.COL_SCORE, f"=MAX(0,{c_max}-{c_ded})", F.number, cached)
        return cached
    _write_deduction(ws, F, row, entry.deduction)
    is_test = item is below.test_item
    if is_test:
        # the inspector's deduction for study sessions plus the test's, capped at the item's limit
        cached = _cached_item_score(item, entry.deduction, below.test_ded)
        formula = f"=MAX(0,{c_max}-MIN({as_cell(item.limit)},{c_ded}+{below.test_cell}))"
    else:
        cached = _cached_item_score(item, entry.deduction)
        formula = f"=MAX(0,{c_max}-{c_ded})"
    ws.write_formula(row, L.COL_SCORE, formula, F.number, cached)
    _write_deduction_rules(ws, F, row, item, is_test)
    return cached


def _write_deduction(ws, F: FormFormats, row: int, d) -> None:
    """The deduction as typed: blank, a text, a boolean or a number."""
    if d is None or d == "":
        ws.write_blank(row, L.COL_DEDUCTION, None, F.input_number)
    elif isinstance(d, str):
        ws.write_string(row, L.COL_DEDUCTION, d, F.input_number)
    elif isinstance(d, bool):
        ws.write_boolean(row, L.COL_DEDUCTION, d, F.input_number)
    else:
        ws.write_number(row, L.COL_DEDUCTION, d, F.input_number)


def _write_deduction_rules(ws, F: FormFormats, row: int, item: Item, is_test: bool) -> None:
    """The deduction cell's validation (with the item's rule as its prompt) and its red mark when pasted wrong."""
    c_ded = L.a1(row, L.COL_DEDUCTION)
    lim, step = as_cell(item.limit), as_cell(item.step)
    rule = f"0～{lim}分" + ("" if item.limit == item.step else f"，每档{step}分")
    ws.data_validation(row, L.COL_DEDUCTION, row, L.COL_DEDUCTION, {
        "validate": "custom",
        "value": "=" + valid_deduction_formula(item, c_ded),
        "input_title": f"第{item.seq}项扣分（{rule}）",
        "input_message": _fit((f"只填学习方面的扣分（如 {step}），测试扣分由下方测试表自动计算。" if is_test else
                               f"不扣分请留空或填0。扣分时只填数字（如 {step}），并在左边“扣分情况”写明原因。") + item.basis, 255),
        "error_title": "扣分不符合评分标准",
        "error_message": f"第{item.seq}项本项分值{as_cell(item.max)}分，扣分只能是 0 到 {lim} 之间、"
                         f"按每档 {step} 分计的数字" + (f"（最多扣 {lim} 分）" if item.limit % item.step else "") + "。",
    })
    ws.conditional_format(row, L.COL_DEDUCTION, row, L.COL_DEDUCTION, {
        "type": "formula",
        "criteria": f'=AND({c_ded}<>"",NOT({valid_deduction_formula(item, c_ded)}))',
        "format": F.bad,
    })


def _write_reason_warning(ws, F: FormFormats, n: int) -> None:
    """A deduction without a reason: the reason cell lights up, live."""
    first, last = L.item_row(0), L.item_row(n - 1)
    ded, reason = L.a1(first, L.COL_DEDUCTION), L.a1(first, L.COL_REASON)
    ws.conditional_format(first, L.COL_REASON, last, L.COL_REASON, {
        "type": "formula",
        "criteria": f"=AND(ISNUMBER({ded}),{ded}>0,LEN(TRIM({reason}))=0)",
        "format": F.warn,
    })


def _write_categories(ws, F: FormFormats, rows: Rows, plan: Plan) -> list[tuple[int, int]]:
    """Each category merged down column A over its items, its rows tall enough for its name;
    returns the categories' row ranges (each printed on one page)."""
    items = plan.rubric.items
    keep = []
    for cat, cat_items in plan.rubric.categories:
        r0 = L.item_row(items.index(cat_items[0]))
        r1 = r0 + len(cat_items) - 1
        short = height_for(lines_needed(cat, L.WIDTHS[L.COL_CATEGORY])) - rows.span(r0, r1)
        if short > 0:  # the name needs more lines than the items give it: the last item's row grows
            rows.set(r1, rows.height(r1) + short)
        if r1 > r0:
            ws.merge_range(r0, L.COL_CATEGORY, r1, L.COL_CATEGORY, cat, F.category)
        else:
            ws.write_string(r0, L.COL_CATEGORY, cat, F.category)
        keep.append((r0, r1))
    return keep


def _write_totals(ws, F: FormFormats, rows: Rows, plan: Plan, scores: list) -> None:
    """小计 (sums; 扣分 is the points actually lost, 分值 − 得分) and 核定得分 (capped), with cached values."""
    n = len(scores)
    first, last = L.item_row(0), L.item_row(n - 1)
    ok = all(isinstance(s, (int, float)) for s in scores)
    raw_total = sum(Decimal(str(s)) for s in scores) if ok else None
    sr, tr = L.subtotal_row(n), L.total_row(n)
    rng = lambda col: f"{L.a1(first, col)}:{L.a1(last, col)}"  # noqa: E731
    rows.set(sr, TOTAL_PT)
    rows.set(tr, TOTAL_PT)
    ws.merge_range(sr, L.COL_CATEGORY, sr, L.COL_TEXT, L.SUBTOTAL_LABEL, F.total_label)
    ws.write_formula(sr, L.COL_MAX, f"=SUM({rng(L.COL_MAX)})", F.total, as_cell(plan.rubric.total))
    ws.write_blank(sr, L.COL_HIGHLIGHT, None, F.blank)
    ws.write_blank(sr, L.COL_REASON, None, F.blank)
    ws.write_formula(sr, L.COL_DEDUCTION, f"={L.a1(sr, L.COL_MAX)}-{L.a1(sr, L.COL_SCORE)}", F.total,
                     as_cell(plan.rubric.total - raw_total) if ok else "#VALUE!")
    ws.write_formula(sr, L.COL_SCORE, f"=SUM({rng(L.COL_SCORE)})", F.total, as_cell(raw_total) if ok else "#VALUE!")
    cap = as_cell(plan.rules.max_score)
    ws.merge_range(tr, L.COL_CATEGORY, tr, L.COL_DEDUCTION, L.TOTAL_LABEL.format(max=cap), F.total_label)
    ws.write_formula(tr, L.COL_SCORE, f"=MIN({cap},{L.a1(sr, L.COL_SCORE)})", F.total,
                     as_cell(min(raw_total, plan.rules.max_score)) if ok else "#VALUE!")


def _set_form_paper(ws, rows: Rows, plan: Plan, keep: list[tuple[int, int]], last_row: int) -> None:
    """A4 landscape, one page wide, the info line and headers on every page, and page breaks that keep
    each category and each block below on one page; the totals stay with the last category."""
    n = len(plan.rubric.items)
    keep = sorted(keep)
    last_category = max(r for r in keep if r[1] < L.subtotal_row(n))
    keep[keep.index(last_category)] = (last_category[0], L.total_row(n))
    repeat = (L.ROW_INFO, L.ROW_HEADER)
    breaks = page_breaks(rows, last_row, keep, FORM_PAGE, repeat=repeat)
    set_page(ws, FORM_PAGE, last_row, L.LAST_COL, repeat=repeat, breaks=breaks)
