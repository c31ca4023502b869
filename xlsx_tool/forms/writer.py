"""Write one 评分细则 workbook (bytes) for one unit, laid out by `layout`.

Every formula is written with its correct cached value, so a blank form shows
the maxima in clients that do not recalculate on open (LibreOffice, Excel's
Protected View, some WPS versions).  `entries` pre-fills the input cells as an
inspector would (used by `demo`, tests and benchmarks).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter

from xlsx_tool.forms import layout as L
from xlsx_tool.decimals import as_cell
from xlsx_tool.forms.layout import FONT_PROPS  # noqa: F401  (re-exported)
from xlsx_tool.plan import Item, Plan, Unit

DATE_FORMAT = "yyyy\"年\"m\"月\"d\"日\""
CJK_CHARS_PER_WIDTH = 0.5  # one CJK glyph takes about two column-width units at 10.5pt


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


def _rows_needed(text: str, width: float) -> int:
    per_line = max(1, int(width * CJK_CHARS_PER_WIDTH) - 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


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
    created = dt.datetime.combine(plan.issued, dt.time())
    wb.set_properties(
        {
            "title": f"{plan.form_title}（{unit.name}）",
            "subject": plan.period,
            "author": plan.issuer,
            "company": plan.issuer,
            "created": created,
            "comments": "由 xlsx-tool 生成",
        }
    )
    summary = plan.summary(unit.summary)
    F = _Formats(wb)
    ws = wb.add_worksheet(L.FORM_SHEET)
    _write_form_sheet(ws, F, plan, unit, summary, entries or FormEntries(), problems or [])
    _write_guide_sheet(wb.add_worksheet(L.GUIDE_SHEET), F, plan, unit, summary, bool(problems))
    _write_identity_sheet(wb.add_worksheet(L.IDENTITY_SHEET), F, plan, unit)
    ws.activate()
    wb.close()
    return buf.getvalue()


class _Formats:
    def __init__(self, wb):
        border = {"border": 1, "valign": "vcenter", "text_wrap": True}
        self.title = wb.add_format({**FONT_PROPS, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.label = wb.add_format({**FONT_PROPS, "align": "right", "valign": "vcenter"})
        self.value = wb.add_format({**FONT_PROPS, "bold": True, "valign": "vcenter"})
        self.value_fit = wb.add_format({**FONT_PROPS, "bold": True, "valign": "vcenter", "shrink": True})
        self.date = wb.add_format({**FONT_PROPS, "num_format": DATE_FORMAT, "locked": False, "bottom": 1,
                                   "bg_color": "#FFF9E5", "align": "center", "valign": "vcenter"})
        self.header = wb.add_format({**FONT_PROPS, **border, "bold": True, "align": "center", "bg_color": "#F2F2F2"})
        self.category = wb.add_format({**FONT_PROPS, **border, "bold": True, "align": "center"})
        self.text = wb.add_format({**FONT_PROPS, **border})
        self.number = wb.add_format({**FONT_PROPS, **border, "align": "center", "num_format": "0.##"})
        self.input_text = wb.add_format({**FONT_PROPS, **border, "locked": False, "bg_color": "#FFF9E5"})
        self.input_number = wb.add_format({**FONT_PROPS, **border, "locked": False, "bg_color": "#FFF9E5",
                                           "align": "center", "num_format": "0.##"})
        self.total_label = wb.add_format({**FONT_PROPS, **border, "bold": True, "align": "center"})
        self.total = wb.add_format({**FONT_PROPS, **border, "bold": True, "align": "center", "num_format": "0.##"})
        self.blank = wb.add_format({**FONT_PROPS, **border})
        self.bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.warn = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.center = wb.add_format({**FONT_PROPS, **border, "align": "center"})
        self.input_center = wb.add_format({**FONT_PROPS, **border, "locked": False, "bg_color": "#FFF9E5", "align": "center"})
        self.block_title = wb.add_format({**FONT_PROPS, "bold": True, "valign": "vcenter"})
        self.guide = wb.add_format({**FONT_PROPS, "text_wrap": True, "valign": "top", "font_size": 11})
        self.guide_head = wb.add_format({**FONT_PROPS, "bold": True, "font_size": 14})


def _write_form_sheet(ws, F: _Formats, plan: Plan, unit: Unit, summary, entries: FormEntries,
                      problems: list[str]) -> None:
    items = plan.rubric.items
    n = len(items)
    rules = plan.rules
    test_item = plan.item(rules.test_item)
    rect_item = plan.item(rules.rectification_item) if problems else None
    test_cell, test_ded = (_write_test_block(ws, F, plan, entries) if test_item else (None, None))
    rect_formula, rect_ded = (_write_rectify_block(ws, F, plan, rect_item, problems, entries) if rect_item
                              else (None, None))
    for col, w in enumerate(L.WIDTHS):
        ws.set_column(col, col, w)

    ws.set_row(L.ROW_TITLE, 36)
    ws.merge_range(L.ROW_TITLE, 0, L.ROW_TITLE, L.LAST_COL, plan.form_title, F.title)

    r = L.ROW_INFO
    ws.set_row(r, 24)
    ws.write_string(r, L.COL_CATEGORY, L.UNIT_LABEL, F.label)
    ws.write_string(*L.INFO_UNIT, unit.name, F.value)
    ws.merge_range(*L.INFO_SUMMARY, r, L.COL_HIGHLIGHT, f"{L.SUMMARY_LABEL}{summary.name}", F.value_fit)
    ws.write_string(*L.INFO_DATE_LABEL, L.DATE_LABEL, F.label)
    dr, dc = L.DATE_CELL
    ws.merge_range(dr, dc, dr, L.LAST_COL, "", F.date)
    if isinstance(entries.date, dt.date):
        ws.write_datetime(dr, dc, dt.datetime.combine(entries.date, dt.time()), F.date)
    elif entries.date not in (None, ""):
        ws.write_string(dr, dc, str(entries.date), F.date)
    start, end = summary.window
    date_cell = L.a1(dr, dc)
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
        "criteria": f'=AND({date_cell}<>"",OR(NOT(ISNUMBER({date_cell})),{date_cell}<DATE({start.year},{start.month},{start.day}),'
                    f"{date_cell}>DATE({end.year},{end.month},{end.day})))",
        "format": F.bad,
    })

    ws.set_row(L.ROW_HEADER, 30)
    for col, h in enumerate(L.HEADERS):
        ws.write_string(L.ROW_HEADER, col, h, F.header)

    first = L.item_row(0)
    scores: list = []
    for i, item in enumerate(items):
        row = L.item_row(i)
        entry = entries.items.get(item.seq, ItemEntry())
        alone = len(next(c for c in plan.rubric.categories if c[0] == item.category)[1]) == 1
        lines = max(_rows_needed(item.text, L.WIDTHS[L.COL_TEXT]),
                    _rows_needed(item.category, L.WIDTHS[L.COL_CATEGORY]) if alone else 1,
                    _rows_needed(entry.highlight, L.WIDTHS[L.COL_HIGHLIGHT]),
                    _rows_needed(entry.reason, L.WIDTHS[L.COL_REASON]))
        ws.set_row(row, 14.5 * lines + 6)
        ws.write_string(row, L.COL_TEXT, item.text, F.text)
        ws.write_number(row, L.COL_MAX, as_cell(item.max), F.number)
        for col, text in ((L.COL_HIGHLIGHT, entry.highlight), (L.COL_REASON, entry.reason)):
            if text:
                ws.write_string(row, col, text, F.input_text)
            else:
                ws.write_blank(row, col, None, F.input_text)
        d = entry.deduction
        c_max, c_ded = L.a1(row, L.COL_MAX), L.a1(row, L.COL_DEDUCTION)
        if item is rect_item:
            # follows from the checklist below: one step per problem not marked 已整改
            ws.write_formula(row, L.COL_DEDUCTION, rect_formula, F.number, as_cell(rect_ded))
            ws.write_formula(row, L.COL_SCORE, f"=MAX(0,{c_max}-{c_ded})", F.number,
                             _cached_item_score(item, rect_ded))
            scores.append(_cached_item_score(item, rect_ded))
            continue
        if d is None or d == "":
            ws.write_blank(row, L.COL_DEDUCTION, None, F.input_number)
        elif isinstance(d, str):
            ws.write_string(row, L.COL_DEDUCTION, d, F.input_number)
        elif isinstance(d, bool):
            ws.write_boolean(row, L.COL_DEDUCTION, d, F.input_number)
        else:
            ws.write_number(row, L.COL_DEDUCTION, d, F.input_number)
        if item is test_item:
            # the inspector's deduction for study sessions plus the test's, capped at the item's limit
            cached = _cached_item_score(item, d, test_ded)
            ws.write_formula(row, L.COL_SCORE, f"=MAX(0,{c_max}-MIN({as_cell(item.limit)},{c_ded}+{test_cell}))",
                             F.number, cached)
        else:
            cached = _cached_item_score(item, d)
            ws.write_formula(row, L.COL_SCORE, f"=MAX(0,{c_max}-{c_ded})", F.number, cached)
        scores.append(cached)

        lim, step = as_cell(item.limit), as_cell(item.step)
        rule = f"0～{lim}分" + ("" if item.limit == item.step else f"，每档{step}分")
        ws.data_validation(row, L.COL_DEDUCTION, row, L.COL_DEDUCTION, {
            "validate": "custom",
            "value": "=" + valid_deduction_formula(item, c_ded),
            "input_title": f"第{item.seq}项扣分（{rule}）",
            "input_message": _fit((f"只填学习方面的扣分（如 {step}），测试扣分由下方测试表自动计算。" if item is test_item else
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

    last = L.item_row(n - 1)
    # A deduction without a reason: the reason cell lights up, live.
    ws.conditional_format(first, L.COL_REASON, last, L.COL_REASON, {
        "type": "formula",
        "criteria": f"=AND(ISNUMBER({L.a1(first, L.COL_DEDUCTION)}),{L.a1(first, L.COL_DEDUCTION)}>0,"
                    f"LEN(TRIM({L.a1(first, L.COL_REASON)}))=0)",
        "format": F.warn,
    })

    # categories merged down column A
    for cat, cat_items in plan.rubric.categories:
        r0 = L.item_row(items.index(cat_items[0]))
        r1 = r0 + len(cat_items) - 1
        if r1 > r0:
            ws.merge_range(r0, L.COL_CATEGORY, r1, L.COL_CATEGORY, cat, F.category)
        else:
            ws.write_string(r0, L.COL_CATEGORY, cat, F.category)

    # 小计 and 核定得分, with their cached values
    ok = all(isinstance(s, (int, float)) for s in scores)
    raw_total = sum(Decimal(str(s)) for s in scores) if ok else None
    sr, tr = L.subtotal_row(n), L.total_row(n)
    rng = lambda col: f"{L.a1(first, col)}:{L.a1(last, col)}"  # noqa: E731
    ws.set_row(sr, 22)
    ws.set_row(tr, 22)
    ws.merge_range(sr, L.COL_CATEGORY, sr, L.COL_TEXT, L.SUBTOTAL_LABEL, F.total_label)
    ws.write_formula(sr, L.COL_MAX, f"=SUM({rng(L.COL_MAX)})", F.total, as_cell(plan.rubric.total))
    ws.write_blank(sr, L.COL_HIGHLIGHT, None, F.blank)
    ws.write_blank(sr, L.COL_REASON, None, F.blank)
    # the points actually lost (分值 − 得分): the test's part and every cap included
    ws.write_formula(sr, L.COL_DEDUCTION, f"={L.a1(sr, L.COL_MAX)}-{L.a1(sr, L.COL_SCORE)}", F.total,
                     as_cell(plan.rubric.total - raw_total) if ok else "#VALUE!")
    ws.write_formula(sr, L.COL_SCORE, f"=SUM({rng(L.COL_SCORE)})", F.total,
                     as_cell(raw_total) if ok else "#VALUE!")
    cap = as_cell(plan.rules.max_score)
    ws.merge_range(tr, L.COL_CATEGORY, tr, L.COL_DEDUCTION, L.TOTAL_LABEL.format(max=cap), F.total_label)
    ws.write_formula(tr, L.COL_SCORE, f"=MIN({cap},{L.a1(sr, L.COL_SCORE)})", F.total,
                     as_cell(min(raw_total, plan.rules.max_score)) if ok else "#VALUE!")

    # print: A4 landscape, one page wide, unit line and headers on every page
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(L.ROW_INFO, L.ROW_HEADER)
    last_row = tr
    if test_cell:
        last_row = L.test_rows(n, rules.test_people)[3]
    if rect_item:
        last_row = L.rectify_rows(n, rules.test_people if test_item else None)[2] + len(problems) - 1
    ws.print_area(0, 0, last_row, L.LAST_COL)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(L.ROW_FIRST_ITEM, 0)
    ws.protect("", {"format_rows": True, "format_columns": True})
    ws.set_first_sheet()
    ws.set_selection(dr, dc, dr, dc)


def _write_test_block(ws, F: _Formats, plan: Plan, entries: FormEntries) -> tuple[str, Decimal]:
    """The knowledge-test table; returns the cell of its deduction and that deduction's cached value."""
    rules, n = plan.rules, len(plan.rubric.items)
    item = plan.item(rules.test_item)
    title, head, first, ded_row = L.test_rows(n, rules.test_people)
    pass_mark, step = as_cell(rules.test_pass_mark), as_cell(rules.test_step)
    ws.merge_range(title, 0, title, L.LAST_COL,
                   f"{L.TEST_TITLE}（第{item.seq}项：随机抽选{rules.test_people}名党员，{pass_mark}分及格，"
                   f"每不及格1人扣{step}分）", F.block_title)
    for col, h in enumerate(L.TEST_HEADERS):
        ws.write_string(head, col, h, F.header)
    last = first + rules.test_people - 1
    failures = 0
    for i in range(rules.test_people):
        r = first + i
        name, score = entries.test[i] if i < len(entries.test) else ("", None)
        ws.write_number(r, L.COL_CATEGORY, i + 1, F.number)
        if name:
            ws.write_string(r, L.COL_TEXT, name, F.input_text)
        else:
            ws.write_blank(r, L.COL_TEXT, None, F.input_text)
        if isinstance(score, (int, float)) and not isinstance(score, bool):
            ws.write_number(r, L.COL_MAX, score, F.input_number)
            failures += score < rules.test_pass_mark
        elif score not in (None, ""):
            ws.write_string(r, L.COL_MAX, str(score), F.input_number)
        else:
            ws.write_blank(r, L.COL_MAX, None, F.input_number)
        c = L.a1(r, L.COL_MAX)
        result = "" if not isinstance(score, (int, float)) or isinstance(score, bool) else (
            "及格" if score >= rules.test_pass_mark else "不及格")
        ws.write_formula(r, L.COL_HIGHLIGHT, f'=IF({c}="","",IF({c}>={pass_mark},"及格","不及格"))', F.center, result)
    rng = f"{L.a1(first, L.COL_MAX)}:{L.a1(last, L.COL_MAX)}"
    ws.data_validation(first, L.COL_MAX, last, L.COL_MAX, {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
        "input_title": "测试成绩", "input_message": f"填 0～100 的分数；低于 {pass_mark} 分为不及格。",
        "error_title": "成绩应为 0～100 的数字", "error_message": "请填写 0 到 100 之间的分数（只填数字）。",
    })
    ws.conditional_format(first, L.COL_MAX, last, L.COL_MAX, {
        "type": "formula", "format": F.bad,
        "criteria": f'=AND({L.a1(first, L.COL_MAX)}<>"",OR(NOT(ISNUMBER({L.a1(first, L.COL_MAX)})),'
                    f"{L.a1(first, L.COL_MAX)}<0,{L.a1(first, L.COL_MAX)}>100))",
    })
    ws.merge_range(ded_row, 0, ded_row, L.COL_REASON, L.TEST_DEDUCTION_LABEL.format(seq=item.seq), F.total_label)
    ded = Decimal(failures) * rules.test_step
    ws.write_formula(ded_row, L.COL_DEDUCTION, f'=COUNTIF({rng},"<{pass_mark}")*{step}', F.total, as_cell(ded))
    return L.a1(ded_row, L.COL_DEDUCTION), ded


def _write_rectify_block(ws, F: _Formats, plan: Plan, item: Item, problems: list[str],
                         entries: FormEntries) -> tuple[str, Decimal]:
    """Last quarter's problems, each to be marked 已整改 / 未整改; returns the item's deduction formula and value."""
    rules, n = plan.rules, len(plan.rubric.items)
    title, head, first = L.rectify_rows(n, rules.test_people if rules.test_item else None)
    step, lim = as_cell(item.step), as_cell(item.limit)
    ws.merge_range(title, 0, title, L.LAST_COL,
                   f"{L.RECTIFY_TITLE}（第{item.seq}项：每个未整改的问题扣{step}分，最多扣{lim}分；"
                   f"请逐条选择“{L.RECTIFIED}”或“{L.NOT_RECTIFIED}”）", F.block_title)
    for col, h in L.RECTIFY_HEADERS.items():
        ws.write_string(head, col, h, F.header)
    ws.write_blank(head, L.COL_MAX, None, F.header)
    done = 0
    for i, problem in enumerate(problems):
        r = first + i
        status, note = entries.rectified[i] if i < len(entries.rectified) else (None, "")
        ws.set_row(r, 14.5 * _rows_needed(problem, L.WIDTHS[L.COL_TEXT] + L.WIDTHS[L.COL_MAX]) + 6)
        ws.write_number(r, L.COL_CATEGORY, i + 1, F.number)
        ws.merge_range(r, L.COL_TEXT, r, L.COL_MAX, problem, F.text)
        if status:
            ws.write_string(r, L.COL_HIGHLIGHT, str(status), F.input_center)
        else:
            ws.write_blank(r, L.COL_HIGHLIGHT, None, F.input_center)
        done += str(status) == L.RECTIFIED  # exactly as COUNTIF matches it
        if note:
            ws.write_string(r, L.COL_REASON, note, F.input_text)
        else:
            ws.write_blank(r, L.COL_REASON, None, F.input_text)
    last = first + len(problems) - 1
    ws.data_validation(first, L.COL_HIGHLIGHT, last, L.COL_HIGHLIGHT, {
        "validate": "list", "source": [L.RECTIFIED, L.NOT_RECTIFIED],
        "input_title": "整改情况", "input_message": f"选择“{L.RECTIFIED}”或“{L.NOT_RECTIFIED}”；未选择的按未整改计。",
        "error_title": "请从下拉列表中选择", "error_message": f"只能填“{L.RECTIFIED}”或“{L.NOT_RECTIFIED}”。",
    })
    ws.conditional_format(first, L.COL_HIGHLIGHT, last, L.COL_HIGHLIGHT, {
        "type": "formula", "format": F.warn,
        "criteria": f'=AND({L.a1(first, L.COL_HIGHLIGHT)}<>"{L.RECTIFIED}",{L.a1(first, L.COL_HIGHLIGHT)}<>"{L.NOT_RECTIFIED}")',
    })
    rng = f"{L.a1(first, L.COL_HIGHLIGHT)}:{L.a1(last, L.COL_HIGHLIGHT)}"
    formula = f'=MIN({lim},({len(problems)}-COUNTIF({rng},"{L.RECTIFIED}"))*{step})'
    return formula, min(item.limit, (len(problems) - done) * item.step)


def _write_guide_sheet(ws, F: _Formats, plan: Plan, unit: Unit, summary, has_problems: bool = False) -> None:
    start, end = summary.window
    lines = [
        f"被核查单位：{unit.display}",
        f"核查组：{summary.name}（{summary.contacts}）",
        f"核查时间：{start:%Y年%m月%d日} 至 {end:%Y年%m月%d日}",
        "",
        "一、要填写的内容（“评分细则”表中浅黄色的格子，其余格子已锁定）",
        "1. 核查时间：填实地核查的日期，如 " + f"{start:%Y-%m-%d}。",
        "2. 扣分：每项只填一个数字，不扣分留空或填 0。鼠标停在格子上会提示本项的扣分标准；"
        "填写不符合标准的数字会被拒绝，粘贴进来的错误数字会标成红色。",
        "3. 扣分情况：凡扣分必须写明原因（如“9月未召开支委会”），没写原因的格子会标成黄色。",
        "4. 特色亮点：写本项值得推广的做法，没有可不填。",
        "5. “得分”“小计”“核定得分”由公式自动计算，不要改动。",
    ]
    rules = plan.rules
    test_item = plan.item(rules.test_item)
    if test_item:
        lines.append(f"6. 党的基本知识测试：在表格下方“{L.TEST_TITLE}”中填写抽测的 {rules.test_people} 名党员的姓名和成绩，"
                     f"低于 {as_cell(rules.test_pass_mark)} 分的每人扣 {as_cell(rules.test_step)} 分，自动计入第{test_item.seq}项；"
                     f"第{test_item.seq}项的“扣分”格只填学习方面的扣分。")
    if has_problems:
        rect = plan.item(rules.rectification_item)
        lines.append(f"7. 上季度问题整改：在表格下方“{L.RECTIFY_TITLE}”中逐条选择“{L.RECTIFIED}”或“{L.NOT_RECTIFIED}”，"
                     f"第{rect.seq}项的扣分按未整改的条数自动计算（未选择的按未整改计）。")
    lines += [
        "",
        "二、评分规则（摘自核查方案）",
        f"1. 评分最高分为 {as_cell(plan.rules.max_score)} 分。",
        f"2. 每个核查组（直属机关党委）评分 {as_cell(plan.rules.high_score)} 分及以上的单位不超过所核查单位的{plan.rules.share_text}。",
        "",
        "三、交回",
        "1. 请直接保存为 .xlsx 格式（WPS 请选择“Excel 文件(*.xlsx)”，不要存为 .et）；文件名可以随意，表内已记录单位信息。",
        "2. 不要增删行列、不要改工作表名称，不要把内容复制到新建的表格里。",
        f"3. 请于 {plan.deadline:%Y年%m月%d日} 前交回" + (f"（{plan.report_to}）。" if plan.report_to else "。"),
    ]
    ws.set_column(0, 0, 100)
    ws.write_string(0, 0, f"填表说明 —— {plan.form_title}", F.guide_head)
    for i, line in enumerate(lines, 2):
        ws.write_string(i, 0, line, F.guide)
    ws.protect()


def _write_identity_sheet(ws, F: _Formats, plan: Plan, unit: Unit) -> None:
    values = identity_values(plan, unit)
    ws.write_string(0, 0, L.IDENTITY_MARK)
    for i, (key, label) in enumerate(L.IDENTITY_KEYS, 1):
        ws.write_string(i, 0, label)
        ws.write_string(i, 1, values[key])
    ws.set_column(0, 1, 30)
    ws.protect()
    ws.hide()


def identity_values(plan: Plan, unit: Unit) -> dict[str, str]:
    return {
        "plan_id": plan.id,
        "period": plan.period,
        "unit": unit.name,
        "unit_code": unit.code,
        "summary": unit.summary,
        "form_version": L.FORM_VERSION,
        "rubric": plan.rubric.fingerprint,
    }
