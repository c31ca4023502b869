"""The input blocks below the 评分细则 table: the knowledge test and last quarter's problems.

Each writer returns what the item rows above need (the cell or formula of its deduction and that
deduction's cached value) and the row ranges that must be printed on one page.
"""

from __future__ import annotations

from decimal import Decimal

from xlsx_tool.decimals import as_cell
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.formats import FormFormats
from xlsx_tool.forms.paper import Rows
from xlsx_tool.plan import Item, Plan

TABLE_WIDTH = sum(L.WIDTHS)
BLOCK_ROW_PT = 20
GAP_PT = 15


def _title(ws, F: FormFormats, rows: Rows, row: int, text: str) -> None:
    rows.set(row - 1, GAP_PT)  # the blank row above the block
    rows.fit(row, [(text, TABLE_WIDTH)], minimum=BLOCK_ROW_PT)
    ws.merge_range(row, 0, row, L.LAST_COL, text, F.block_title)


def write_test_block(ws, F: FormFormats, rows: Rows, plan: Plan, entries) -> tuple[str, Decimal, tuple[int, int]]:
    """The knowledge-test table; returns the cell of its deduction, that deduction's cached value and
    the block's rows."""
    rules, n = plan.rules, len(plan.rubric.items)
    item = plan.item(rules.test_item)
    title, head, first, ded_row = L.test_rows(n, rules.test_people)
    pass_mark, step = as_cell(rules.test_pass_mark), as_cell(rules.test_step)
    _title(ws, F, rows, title, f"{L.TEST_TITLE}（第{item.seq}项：随机抽选{rules.test_people}名党员，{pass_mark}分及格，"
                               f"每不及格1人扣{step}分）")
    rows.set(head, BLOCK_ROW_PT)
    for col, h in enumerate(L.TEST_HEADERS):
        ws.write_string(head, col, h, F.header)
    last = first + rules.test_people - 1
    failures = 0
    for i in range(rules.test_people):
        r = first + i
        name, score = entries.test[i] if i < len(entries.test) else ("", None)
        rows.fit(r, [(str(name or ""), L.WIDTHS[L.COL_TEXT])], minimum=BLOCK_ROW_PT)
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
    top = L.a1(first, L.COL_MAX)
    ws.data_validation(first, L.COL_MAX, last, L.COL_MAX, {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
        "input_title": "测试成绩", "input_message": f"填 0～100 的分数；低于 {pass_mark} 分为不及格。",
        "error_title": "成绩应为 0～100 的数字", "error_message": "请填写 0 到 100 之间的分数（只填数字）。",
    })
    ws.conditional_format(first, L.COL_MAX, last, L.COL_MAX, {
        "type": "formula", "format": F.bad,
        "criteria": f'=AND({top}<>"",OR(NOT(ISNUMBER({top})),{top}<0,{top}>100))',
    })
    rows.set(ded_row, BLOCK_ROW_PT + 2)
    ws.merge_range(ded_row, 0, ded_row, L.COL_REASON, L.TEST_DEDUCTION_LABEL.format(seq=item.seq), F.total_label)
    ded = Decimal(failures) * rules.test_step
    rng = f"{top}:{L.a1(last, L.COL_MAX)}"
    ws.write_formula(ded_row, L.COL_DEDUCTION, f'=COUNTIF({rng},"<{pass_mark}")*{step}', F.total, as_cell(ded))
    return L.a1(ded_row, L.COL_DEDUCTION), ded, (title, ded_row)


def write_rectify_block(ws, F: FormFormats, rows: Rows, plan: Plan, item: Item, problems: list[str],
                        entries) -> tuple[str, Decimal, list[tuple[int, int]]]:
    """Last quarter's problems, each to be marked 已整改 / 未整改; returns the item's deduction formula,
    its cached value and the row ranges to print together (the title with the first problem)."""
    rules, n = plan.rules, len(plan.rubric.items)
    title, head, first = L.rectify_rows(n, rules.test_people if rules.test_item else None)
    step, lim = as_cell(item.step), as_cell(item.limit)
    _title(ws, F, rows, title, f"{L.RECTIFY_TITLE}（第{item.seq}项：每个未整改的问题扣{step}分，最多扣{lim}分；"
                               f"请逐条选择“{L.RECTIFIED}”或“{L.NOT_RECTIFIED}”）")
    rows.set(head, BLOCK_ROW_PT)
    for col, h in L.RECTIFY_HEADERS.items():
        ws.write_string(head, col, h, F.header)
    ws.write_blank(head, L.COL_MAX, None, F.header)
    done = 0
    for i, problem in enumerate(problems):
        r = first + i
        status, note = entries.rectified[i] if i < len(entries.rectified) else (None, "")
        rows.fit(r, [(problem, L.WIDTHS[L.COL_TEXT] + L.WIDTHS[L.COL_MAX]), (note or "", L.WIDTHS[L.COL_REASON])],
                 minimum=BLOCK_ROW_PT)
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
    top = L.a1(first, L.COL_HIGHLIGHT)
    ws.conditional_format(first, L.COL_HIGHLIGHT, last, L.COL_HIGHLIGHT, {
        "type": "formula", "format": F.warn,
        "criteria": f'=AND({top}<>"{L.RECTIFIED}",{top}<>"{L.NOT_RECTIFIED}")',
    })
    rng = f"{top}:{L.a1(last, L.COL_HIGHLIGHT)}"
    formula = f'=MIN({lim},({len(problems)}-COUNTIF({rng},"{L.RECTIFIED}"))*{step})'
    return formula, min(item.limit, (len(problems) - done) * item.step), [(title, first)]
