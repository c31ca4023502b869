"""Titled, bordered tables written with XlsxWriter, each on a sheet that prints on A4.

The summary (评分汇总表.xlsx) and the correction lists (退回修改清单) are made of such tables: a
title row, an information row, a header row (repeated on every printed page, frozen on screen,
with an autofilter) and the body.  Every text from a returned file is written as text: the
workbook is opened with strings_to_formulas/numbers/urls off and texts go through write_string.

Row heights: Excel does not fit a row to wrapped text when it opens a file, so a body row gets the
height of its tallest cell, estimated from the column width (a CJK glyph of 10.5 pt 宋体 takes about
two width units, a Latin character one).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from decimal import Decimal
from fractions import Fraction

import xlsxwriter

from xlsx_tool.decimals import as_cell
from xlsx_tool.forms.layout import FONT_PROPS

PAGE_FOOTER = "&C第 &P 页，共 &N 页"  # page numbers, centred
A4 = 9  # the paper size code of A4
MARGINS = dict(left=0.4, right=0.4, top=0.6, bottom=0.6)  # inches
# One wrapped line of 10.5 pt 宋体, and the room above and below the text (points): Excel's row of one
# line is 14.25 pt; LibreOffice with the substitute CJK font puts wrapped lines 12.3 pt apart
# (measured in its PDF), so a row of n lines at 13.5 n + 3.5 pt holds its text in both.
LINE_PT, PAD_PT, MAX_ROW_PT = 13.5, 3.5, 409  # 409: Excel's tallest row
ONE_LINE_PT = 14.25  # a row of one line: Excel's own height for 10.5 pt 宋体
MAX_CELL_CHARS = 32767  # what a cell holds; more and Excel "repairs" the file
# What an A4 page (842 x 595 pt) prints inside MARGINS, across and down (points)
LANDSCAPE, PORTRAIT = (784, 509), (537, 756)


def col_px(width: float) -> int:
    """A column `width` units wide in pixels, as Excel draws it (7 px a unit, 5 px of padding)."""
    return int(width * 7 + 0.5) + 5


def new_book(title: str, created: dt.date) -> tuple[xlsxwriter.Workbook, io.BytesIO]:
    """An XlsxWriter workbook writing into memory, dated by `created` (the same data, the same bytes),
    with 10.5 pt 宋体 as its default font and every string written as text.

    Not constant_memory.  Measured on a merge of 10,000 returns (bench/run.py's synthetic plan; the
    summary has 55,600 rows): peak 197 MB in memory mode, 100 MB with constant_memory, against a
    budget of 300 MB.  Memory mode keeps what constant_memory gives up: the charts' cached values
    (what a viewer that does not recalculate draws) and no temporary files outside the output folder
    (left behind in the system's temporary folder when a merge is killed)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
        "default_format_properties": dict(FONT_PROPS)})  # a copy: xlsxwriter changes the dict it is given
    when = dt.datetime.combine(created, dt.time())
    wb.set_properties({"title": title, "author": "xlsx-tool", "created": when})
    return wb, buf


# Characters 宋体 draws two units wide: CJK ideographs, kana, hangul, full-width forms and CJK
# punctuation (East Asian width W and F), and the quotes, dashes and ellipsis that Chinese text uses
# (width "ambiguous": full width in 宋体).  One regular expression instead of unicodedata per
# character: 0.9 s less for the 55,000 rows of a summary of 10,000 units.
_WIDE = re.compile("[\u1100-\u115f\u2014\u2018\u2019\u201c\u201d\u2026\u2e80-\u303e\u3041-\u33ff"
                   "\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f"
                   "\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]")


def text_width(s: str) -> int:
    """Width units a line of text takes: two for a wide (CJK) character, one for the others."""
    if s.isascii():
        return len(s)
    return len(s) + len(_WIDE.findall(s))


def text_lines(s: str, width: float) -> int:
    """Lines a wrapped text takes in a column `width` units wide (at least one)."""
    room = max(1.0, width - 1)  # the cell's inner margins take about one unit
    return sum(max(1, math.ceil(text_width(p) / room)) for p in s.split("\n"))


def row_points(lines: int) -> float:
    return min(MAX_ROW_PT, LINE_PT * lines + PAD_PT)


def plain(v):
    """A value as a cell holds it: None (blank), str, int or float.  Decimal and Fraction become
    numbers; anything else (a bool, a date) is written as its text."""
    if v is None or v == "":
        return None
    t = type(v)
    if t is str or t is int or t is float:
        return v
    if t is Decimal:
        return as_cell(v)
    if t is Fraction:
        return float(v)
    return str(v)


def page_setup(ws, landscape: bool, header_row: int | None = None, fit_width: bool = True) -> None:
    """A4, the given orientation, centred, page numbers in the footer; fit to one page wide and the
    header row repeated on every page when given."""
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(**MARGINS)
    ws.center_horizontally()
    ws.set_footer(PAGE_FOOTER)
    if fit_width:
        ws.fit_to_pages(1, 0)
    if header_row is not None:
        ws.repeat_rows(header_row)


class Tables:
    """The formats of a workbook of tables, and `table()` that writes one."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        cell = {"border": 1, "valign": "vcenter"}
        add = wb.add_format
        self.title = add({"bold": True, "font_size": 15, "align": "center", "valign": "vcenter"})
        self.info = add({"valign": "vcenter", "text_wrap": True})
        self.head = add({**cell, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"})
        self.text = add({**cell, "text_wrap": True})
        self.center = add({**cell, "align": "center", "text_wrap": True})
        self.num = add({**cell, "align": "center", "num_format": "0.##"})
        self.error = add({**cell, "align": "center", "font_color": "#C00000", "bold": True})
        self.warn = add({**cell, "align": "center", "font_color": "#9C5700"})

    def banner(self, ws, r: int, last_col: int, text: str, fmt, widths) -> None:
        """A text merged across the table's width, its row as tall as the text needs."""
        ws.merge_range(r, 0, r, last_col, text, fmt)
        self.set_row(ws, r, 30 if fmt is self.title else max(18.0, row_points(text_lines(text, sum(widths)))))

    def set_row(self, ws, r: int, points: float) -> None:
        ws.set_row(r, points)
        self.height_pt += points - ONE_LINE_PT

    def table(self, ws, headers, widths, rows, landscape: bool = True, title: str | None = None,
              info: str | None = None, notes=()) -> int:
        """A titled, bordered table that prints on A4 one page wide with its header on every page.

        `rows`: lists of values (str, Decimal, int, float, None; or (value, format)), read once, in
        order.  `notes`: texts merged across the table under it.  Returns the table's last row."""
        last = len(headers) - 1
        ws.set_default_row(ONE_LINE_PT)
        self.height_pt = 0.0  # the table's height in points, less ONE_LINE_PT a row (added at the end)
        r = 0
        if title:
            self.banner(ws, r, last, title, self.title, widths)
            r += 1
        if info:
            self.banner(ws, r, last, info, self.info, widths)
            r += 1
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        header_row = r
        self.set_row(ws, r, row_points(max(text_lines(h, w) for h, w in zip(headers, widths))))
        for c, h in enumerate(headers):
            ws.write_string(r, c, h, self.head)
        s_text, s_num = self.text, self.num
        for values in rows:
            r += 1
            lines = 1
            for c, v in enumerate(values):
                fmt = None
                if type(v) is tuple:
                    v, fmt = v
                v = plain(v)
                if v is None:
                    ws.write_blank(r, c, None, fmt or s_text)
                elif type(v) is str:
                    ws.write_string(r, c, v[:MAX_CELL_CHARS], fmt or s_text)
                    if len(v) * 2 > widths[c] - 1 or "\n" in v:  # it may wrap: count its lines
                        lines = max(lines, text_lines(v, widths[c]))
                else:
                    ws.write_number(r, c, v, fmt or s_num)
            if lines > 1:
                self.set_row(ws, r, row_points(lines))
        for note in notes:
            r += 1
            self.banner(ws, r, last, note, self.info, widths)
        page_setup(ws, landscape, header_row)
        ws.freeze_panes(header_row + 1, 0)
        if r > header_row:
            ws.autofilter(header_row, 0, r - len(notes), last)
        self.height_pt += ONE_LINE_PT * (r + 1)
        self.width_pt = sum(col_px(w) for w in widths) * 0.75
        return r - len(notes)

    def one_page(self, ws) -> None:
        """Print the table just written on one page, turned the way that prints it larger."""
        w, h = self.width_pt, self.height_pt
        scale = {page: min(1, page[0] / w, page[1] / h) for page in (LANDSCAPE, PORTRAIT)}
        if scale[LANDSCAPE] >= scale[PORTRAIT]:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(1, 1)
