"""The form's two other sheets: 填表说明 (how to fill in and return the form) and the hidden 表单信息
(the identity the reader checks a returned form against)."""

from __future__ import annotations

from xlsx_tool.decimals import as_cell
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.formats import FormFormats
from xlsx_tool.forms.paper import TEXT_PAGE, Rows, page_breaks, set_page
from xlsx_tool.plan import Plan, Unit

GUIDE_WIDTH = 72  # units: LibreOffice never shrinks a single column wider than the page (measured), and
# 72 units (479pt in LibreOffice, 378pt in Excel) fit A4 portrait between 0.7in margins in both
IDENTITY_WIDTH = 30


def guide_lines(plan: Plan, unit: Unit, summary, has_problems: bool = False) -> list[str]:
    """The guide's lines; "" separates sections, a line starting with 一、二、三、 heads one."""
    start, end = summary.window
    rules = plan.rules
    lines = [
        f"被核查单位：{unit.display}",
        f"核查组：{summary.name}（{summary.contacts}）",
        f"核查时间：{start:%Y年%m月%d日} 至 {end:%Y年%m月%d日}",
        "",
        "一、要填写的内容（“评分细则”表中浅黄色、虚线框的格子，其余格子已锁定）",
        "1. 核查时间：填实地核查的日期，如 " + f"{start:%Y-%m-%d}。",
        "2. 扣分：每项只填一个数字，不扣分留空或填 0。鼠标停在格子上会提示本项的扣分标准；"
        "填写不符合标准的数字会被拒绝，粘贴进来的错误数字会标成红色。",
        "3. 扣分情况：凡扣分必须写明原因（如“9月未召开支委会”），没写原因的格子会标成黄色。",
        "4. 特色亮点：写本项值得推广的做法，没有可不填。",
        "5. “得分”“小计”“核定得分”由公式自动计算，不要改动。",
    ]
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
        f"1. 评分最高分为 {as_cell(rules.max_score)} 分。",
        f"2. 每个核查组（直属机关党委）评分 {as_cell(rules.high_score)} 分及以上的单位不超过所核查单位的{rules.share_text}。",
        "",
        "三、交回",
        "1. 请直接保存为 .xlsx 格式（WPS 请选择“Excel 文件(*.xlsx)”，不要存为 .et）；文件名可以随意，表内已记录单位信息。",
        "2. 不要增删行列、不要改工作表名称，不要把内容复制到新建的表格里。",
        f"3. 请于 {plan.deadline:%Y年%m月%d日} 前交回" + (f"（{plan.report_to}）。" if plan.report_to else "。"),
    ]
    return lines


def write_guide_sheet(ws, F: FormFormats, plan: Plan, unit: Unit, summary, has_problems: bool = False) -> None:
    """One wrapped line a row, each row as tall as its text: A4 portrait, one page wide."""
    rows = Rows(ws)
    ws.set_column(0, 0, GUIDE_WIDTH)
    head = f"填表说明 —— {plan.form_title}"
    rows.fit(0, [(head, GUIDE_WIDTH)], font_size=14, minimum=24)
    ws.write_string(0, 0, head, F.guide_head)
    rows.set(1, 8)
    sections = ("一、", "二、", "三、")
    keep, first = [], 2  # each section, heading to last line, printed on one page
    lines = guide_lines(plan, unit, summary, has_problems)
    for row, line in enumerate(lines, 2):
        if line:
            rows.fit(row, [(line, GUIDE_WIDTH)], font_size=11)
            ws.write_string(row, 0, line, F.guide_section if line.startswith(sections) else F.guide)
        else:
            rows.set(row, 8)
            keep.append((first, row - 1))
            first = row + 1
    last = 1 + len(lines)
    keep.append((first, last))
    set_page(ws, TEXT_PAGE, last, 0, repeat=(0, 0),
             breaks=page_breaks(rows, last, keep, TEXT_PAGE, repeat=(0, 0)))
    ws.protect()


def write_identity_sheet(ws, plan: Plan, unit: Unit) -> None:
    values = identity_values(plan, unit)
    ws.write_string(0, 0, L.IDENTITY_MARK)
    for i, (key, label) in enumerate(L.IDENTITY_KEYS, 1):
        ws.write_string(i, 0, label)
        ws.write_string(i, 1, values[key])
    ws.set_column(0, 1, IDENTITY_WIDTH)
    set_page(ws, TEXT_PAGE, None, 1)  # no print area: LibreOffice prints a hidden sheet that has one
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
