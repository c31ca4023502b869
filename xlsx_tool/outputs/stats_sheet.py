"""The 统计分析 worksheet: the statistics of `outputs.stats` as tables, each with native Excel column
charts beside it.

Every number is written as a cell and every chart series refers to those cells (no literal data in
the charts), so Excel, WPS and LibreOffice all draw them from the sheet and anyone can check the
figures.  Only column charts are used: they render the same in all three.
"""

from __future__ import annotations

from typing import NamedTuple

from xlsxwriter.utility import xl_rowcol_to_cell

from xlsx_tool.decimals import as_text
from xlsx_tool.judging.merge import MergeResult
from xlsx_tool.outputs.stats import (STATS_SHEET, category_stats, item_stats, overall_average, score_distribution,
                                     summary_stats)
from xlsx_tool.outputs.tables import page_setup, plain

TABLE_COLS = 9  # the tables use columns A..I; J is a gap
CHART_COL = 10  # charts start at column K
CHART_COLS = 8  # …and span K..R: 8 columns of 68 px hold a chart 520 px wide, so the print area holds it
CHART_COL_WIDTH = 9  # 9 width units = 68 px
CHART_W = 520  # pixels
COL_WIDTHS = (6, 26, 7, 7, 7, 7, 7, 7, 7, 1)  # A..J, in width units (a CJK glyph of 宋体 10.5 takes two)
# Tables (624 px) and charts (544 px) side by side: 876 pt in Excel, a part at most about 560 pt tall;
# an A4 page in landscape prints 784 x 509 pt inside its margins.  LibreOffice with a substitute for
# 宋体 (fonts-wqy-zenhei) draws the same columns 1.26 times as wide (measured in its PDF): 1,100 pt,
# so 68 % holds a part a page in both.  A fixed scale, not "fit to page": Excel ignores manual page
# breaks when it fits.
PRINT_SCALE = 68
ROW_PX = 20  # a row of the default height
GAP_PX = 12  # between stacked charts
_CN = "一二三四五六七八九十"


class _Series(NamedTuple):
    name: str  # the legend text; also written as the column's header cell
    col: int  # the column of its values
    percent: bool = False
    color: str = "#4472C4"


class _Sheet:
    def __init__(self, wb, ws, name: str, draw: bool):
        self.wb, self.ws, self.name, self.draw = wb, ws, name, draw
        self.font_base = {"name": "宋体", "charset": 134}  # charset 134: GB2312, as the cells' font
        cell = {"border": 1, "valign": "vcenter"}
        add = wb.add_format
        self.f_title = add({"bold": True, "font_size": 15, "align": "center", "valign": "vcenter"})
        self.f_info = add({"valign": "top", "text_wrap": True})
        self.f_heading = add({"bold": True, "font_size": 12, "valign": "vcenter"})
        self.f_head = add({**cell, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"})
        self.f_text = add({**cell, "text_wrap": True})
        self.f_center = add({**cell, "align": "center"})
        self.f_int = add({**cell, "align": "center", "num_format": "0"})
        self.f_num = add({**cell, "align": "center", "num_format": "0.##"})
        self.f_avg = add({**cell, "align": "center", "num_format": "0.00"})
        self.f_pct = add({**cell, "align": "center", "num_format": "0.0%"})
        self.f_bad = add({**cell, "align": "center", "num_format": "0", "bold": True, "font_color": "#C00000"})
        self.f_border = add({"border": 1})
        self.row = 0
        self.breaks: list[int] = []
        self.heights: dict[int, float] = {}  # row -> points, where not the default
        self.blanks: list[str] = []  # table cells left without a record (see put)

    def set_row(self, r: int, points: float) -> None:
        self.ws.set_row(r, points)
        self.heights[r] = points

    def row_px(self, r: int) -> int:
        return int(self.heights[r] * 4 / 3 + 0.5) if r in self.heights else ROW_PX

    def font(self, size: float, bold: bool = False, rotation: int | None = None) -> dict:
        return {**self.font_base, "size": size, "bold": bold, **({"rotation": rotation} if rotation else {})}

    def heading(self, text: str) -> None:
        if self.breaks or self.row > 3:
            self.breaks.append(self.row)
        self.ws.merge_range(self.row, 0, self.row, TABLE_COLS - 1, text, self.f_heading)
        self.set_row(self.row, 24)
        self.row += 1

    def put(self, r: int, c: int, v, fmt) -> None:
        if type(v) is tuple:  # (value, format)
            v, fmt = v
        v = plain(v)
        if v is None:
            # No cell record: a formatted blank is cached as 0 in the charts' data, and a viewer that
            # draws from the cache would show a bar of 0 for "no data".  Its border comes from one
            # conditional format for all of them.
            self.blanks.append(xl_rowcol_to_cell(r, c))
        elif type(v) is str:
            self.ws.write_string(r, c, v, fmt)
        else:
            self.ws.write_number(r, c, v, fmt)

    def table(self, headers: list[str], rows: list[list], fmts: list, height: float | None = None) -> tuple[int, int]:
        """A bordered table at the current row; returns (first data row, last data row)."""
        for c, h in enumerate(headers):
            self.ws.write_string(self.row, c, h, self.f_head)
        self.set_row(self.row, 30)
        first = self.row + 1
        for values in rows:
            self.row += 1
            if height:
                self.set_row(self.row, height)
            for c, (v, fmt) in enumerate(zip(values, fmts)):
                self.put(self.row, c, v, fmt)
        self.row += 1
        return first, first + len(rows) - 1

    def chart(self, top: int, y: int, title: str, cat_col: int, first: int, last: int, series: list[_Series],
              y_title: str, height: int, rotate: bool = False, labels: bool = True,
              y_min: float | None = None) -> int:
        """A column chart anchored at row `top`, `y` pixels down, beside the tables; returns the pixel under it."""
        if not self.draw or last < first:
            return y
        name = self.name
        chart = self.wb.add_chart({"type": "column"})
        for s in series:
            spec = {"name": [name, first - 1, s.col], "categories": [name, first, cat_col, last, cat_col],
                    "values": [name, first, s.col, last, s.col], "fill": {"color": s.color}, "gap": 80}
            if labels:
                spec["data_labels"] = {"value": True, "num_format": "0%" if s.percent else "0.##",
                                       "font": self.font(8)}
            chart.add_series(spec)
        pct = any(s.percent for s in series)
        chart.set_title({"name": title, "name_font": self.font(12, bold=True)})
        chart.set_x_axis({"num_font": self.font(9, rotation=-45 if rotate else None)})
        y_axis = {"name": y_title, "name_font": self.font(9), "num_font": self.font(9),
                  "num_format": "0%" if pct else "0.##", "min": 0 if y_min is None else y_min,
                  "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
        if pct:
            y_axis["max"] = 1
        chart.set_y_axis(y_axis)
        if len(series) > 1:
            chart.set_legend({"position": "bottom", "font": self.font(9)})
        else:
            chart.set_legend({"none": True})
        chart.set_size({"width": CHART_W, "height": height})
        self.ws.insert_chart(top, CHART_COL, chart, {"x_offset": 2, "y_offset": y + 4, "object_position": 1})
        return y + 4 + height + GAP_PX

    def deduction_charts(self, top: int, what: str, cat_col: int, first: int, last: int, height: int) -> int:
        """The two charts of a deductions table (share of units deducted in column E, average lost in
        F), stacked beside it; returns the pixel under them."""
        y = self.chart(top, 0, f"{what}扣分单位占比", cat_col, first, last, [_Series("扣分单位占比", 4, percent=True)],
                       "占统计单位的比例", height, rotate=True)
        return self.chart(top, y, f"{what}平均扣分", cat_col, first, last, [_Series("平均扣分", 5, color="#ED7D31")],
                          "每单位平均扣分（分）", height, rotate=True)

    def end_block(self, top: int, bottom_px: int) -> None:
        """Move below both the table and the charts that start at row `top`."""
        r, y = top, 0
        while y < bottom_px:
            y += self.row_px(r)
            r += 1
        self.row = max(self.row, r) + 1


def _axis_floor(values) -> int:
    """Where a value axis of averages starts: 10 below the lowest, in tens (0 for none)."""
    known = [v for v in values if v is not None]
    return 0 if not known else max(0, int(min(known) // 10) * 10 - 10)


def add_stats_sheet(wb, result: MergeResult, sheet_name: str = STATS_SHEET):
    """Add the 统计分析 worksheet to an open XlsxWriter workbook and return it.

    Four parts, each a table (columns A..I) with its column charts beside it (from column K):
    得分分布; 各评分项目 and 各类别 扣分单位占比 and 平均扣分; 各汇总单位 平均分 and 95分及以上占比
    (with the one-third quota beside it).  With no returns at all the tables are written and the
    charts are left out, with a note saying why.  Prints on A4 landscape at 68 %, a part a page,
    the charts inside the print area.
    """
    plan = result.plan
    ws = wb.add_worksheet(sheet_name)
    S = _Sheet(wb, ws, sheet_name, draw=result.received > 0)
    for c, w in enumerate(COL_WIDTHS):
        ws.set_column(c, c, w)
    ws.set_column(CHART_COL, CHART_COL + CHART_COLS - 1, CHART_COL_WIDTH)
    last_col = CHART_COL + CHART_COLS - 1
    high = as_text(plan.rules.high_score)
    share = f"{plan.rules.high_share.numerator}/{plan.rules.high_share.denominator}"

    ws.merge_range(0, 0, 0, last_col, f"{plan.period}实地核查统计分析", S.f_title)
    S.set_row(0, 30)
    when = f"{result.merged_on:%Y年%m月%d日}"
    if result.received:
        routes = result.routes()
        hand = routes.get("手工汇总表", 0)
        info = (f"汇总时间：{when}    统计对象：已采用的 {result.received} 个单位的得分（应 {result.expected} 个；"
                + "、".join(f"{k} {n} 个" for k, n in routes.items()) + "）。"
                + (f"手工汇总表的 {hand} 个单位没有逐项扣分，只计入得分分布，不计入各项、各类的统计。" if hand else "")
                + "得分为按扣分重新计算的核定得分；分数段含下限、不含上限；“平均扣分”为扣分合计除以统计单位数；"
                "“扣分单位占比”为被扣分单位数除以统计单位数。")
    else:
        info = f"汇总时间：{when}    尚未收到可采用的评分表（应交 {result.expected} 份），暂无统计数据，未绘制图表。"
    ws.merge_range(1, 0, 1, last_col, info, S.f_info)
    S.set_row(1, 32)
    S.row = 3

    # 一、得分分布
    S.heading("一、得分分布")
    top = S.row
    dist = score_distribution(result)
    first, last = S.table(["序号", "分数段", "单位数", "占比"],
                          [[i, b.label, b.count, b.share] for i, b in enumerate(dist, 1)],
                          [S.f_center, S.f_text, S.f_int, S.f_pct])
    avg = overall_average(result)
    S.put(S.row, 1, "平均分", S.f_text)
    S.put(S.row, 2, avg, S.f_avg)
    S.row += 1
    S.end_block(top, S.chart(top, 0, "得分分布", 1, first, last, [_Series("单位数", 2)], "单位数（个）", 280))

    # 二、各评分项目扣分情况
    S.heading("二、各评分项目扣分情况")
    top = S.row
    items = item_stats(result)
    first, last = S.table(["项目", "核实内容（摘要）", "分值", "扣分单位数", "扣分单位占比", "平均扣分", "扣分合计"],
                          [[f"第{i.seq}项", i.label, i.max, i.deducted, i.share, i.average, i.lost] for i in items],
                          [S.f_center, S.f_text, S.f_num, S.f_int, S.f_pct, S.f_avg, S.f_num])
    S.end_block(top, S.deduction_charts(top, "各评分项目", 0, first, last, 300))

    # 三、各类别扣分情况
    S.heading("三、各类别扣分情况")
    top = S.row
    cats = category_stats(result, items=items)
    first, last = S.table(["类别", "核实项目", "分值", "扣分单位数", "扣分单位占比", "平均扣分", "扣分合计", "所含项目"],
                          [[_CN[i] if i < len(_CN) else i + 1, c.label, c.max, c.deducted, c.share, c.average, c.lost,
                            "、".join(map(str, c.seqs))] for i, c in enumerate(cats)],
                          [S.f_center, S.f_text, S.f_num, S.f_int, S.f_pct, S.f_avg, S.f_num, S.f_center], height=30)
    S.end_block(top, S.deduction_charts(top, "各类别", 1, first, last, 340))

    # 四、各汇总单位
    S.heading(f"四、各汇总单位平均分与{high}分及以上占比")
    top = S.row
    sums = summary_stats(result)
    first, last = S.table(["序号", "汇总单位", "应交", "已交", "平均分", f"{high}分及以上", "上限",
                           f"{high}分及以上占比", "上限占比"],
                          [[i, s.name, s.expected, s.returned, s.average, (s.high, S.f_bad if s.breach else S.f_int),
                            s.quota, s.high_share, s.quota_share] for i, s in enumerate(sums, 1)],
                          [S.f_center, S.f_text, S.f_int, S.f_int, S.f_avg, S.f_int, S.f_int, S.f_pct, S.f_pct])
    S.put(S.row, 1, "合计（全部单位）", S.f_text)
    S.put(S.row, 2, result.expected, S.f_int)
    S.put(S.row, 3, result.received, S.f_int)
    S.put(S.row, 4, avg, S.f_avg)
    S.put(S.row, 5, sum(s.high for s in sums), S.f_int)
    S.row += 1
    ws.merge_range(S.row, 0, S.row + 2, TABLE_COLS - 1,
                   f"按方案，各汇总单位{high}分及以上的单位不超过所核查单位的{share}（“上限”，向下取整）；"
                   f"红色为超出上限。占比均以应核查单位数为分母；未交回评分表的汇总单位，平均分和占比留空。",
                   S.f_info)
    S.row += 3
    h = 360
    y = S.chart(top, 0, "各汇总单位平均分", 1, first, last, [_Series("平均分", 4)], "平均分（分）", h, rotate=True,
                labels=False, y_min=_axis_floor([s.average for s in sums]))
    y = S.chart(top, y, f"各汇总单位{high}分及以上占比", 1, first, last,
                [_Series(f"{high}分及以上占比", 7, percent=True), _Series("上限占比", 8, percent=True, color="#A5A5A5")],
                "占应核查单位的比例", h, rotate=True, labels=False)
    S.end_block(top, y)

    if S.blanks:
        ws.conditional_format(S.blanks[0], {"type": "blanks", "format": S.f_border, "multi_range": " ".join(S.blanks)})
    # printing: A4 landscape, each part on its own page
    page_setup(ws, landscape=True, fit_width=False)
    ws.set_print_scale(PRINT_SCALE)
    ws.set_h_pagebreaks(S.breaks)
    ws.print_area(0, 0, S.row, last_col)
    return ws
