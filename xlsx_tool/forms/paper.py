"""Paper: A4 page setup, row heights fitted to wrapped text, and page breaks that keep blocks together.

Measured with LibreOffice 7 (PDF export, fonts-wqy-zenhei) on a test sheet, against Excel's documented
units (a column unit is the width of one digit, 7 px at 96 dpi, for 宋体 10.5pt):

- a CJK glyph at 10.5pt takes 2 column units in Excel (14 px) and 1.55 in LibreOffice, whose column
  units are 27% wider; a digit or Latin letter takes about 1 unit in both.  Lines are counted with
  Excel's 2 units, so a row is never too short in either client (a little roomy in LibreOffice).
- one wrapped line at 10.5pt needs 13.2pt in LibreOffice and about 14.25pt in Excel: LINE_PT, in
  proportion for other sizes.
- a page's printable height is the paper minus the top and bottom margins; the footer sits inside the
  bottom margin in both clients.  The form's 7 columns (136 units, 740pt in Excel) fit the width of
  A4 landscape at 100%, so "fit to one page wide" does not shrink them in Excel and the row heights
  below are the printed ones; LibreOffice shrinks the table to about 82%, which only leaves room.

Because there is no layout engine to ask, page breaks are computed from the row heights set here:
every row of the form gets an explicit height (`Rows`), and `page_breaks` starts a new page before
any block of rows that would not fit on the current one.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

A4 = 9  # xlsxwriter's paper index
PT_PER_PX = 0.75  # Excel stores heights in points but draws whole pixels at 96 dpi
LINE_PT = 14.5  # one wrapped line at 10.5pt, with the leading Excel and LibreOffice use
CELL_PAD_PT = 4.5  # above and below the text of a wrapped cell
WRAP_SLACK_UNITS = 3  # the cell's inner margins, and a glyph pushed down by line-breaking rules
FOOTER = "&C第 &P 页，共 &N 页"


def text_units(text: str, font_size: float = 10.5) -> float:
    """Width of `text` in column units: 2 for a full-width (CJK) glyph, 1 for others, at 10.5pt.

    East Asian "ambiguous" characters (“ ” · × ～ ①) count as wide: 宋体 draws them full-width."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WFA")
    return (2 * wide + (len(text) - wide)) * font_size / 10.5


def lines_needed(text: str, width: float, font_size: float = 10.5) -> int:
    """Lines a wrapped cell `width` units wide needs to show `text` whole (at least 1)."""
    per_line = max(1.0, width - WRAP_SLACK_UNITS)
    return sum(max(1, math.ceil(text_units(part, font_size) / per_line)) for part in str(text or "").split("\n"))


def height_for(lines: int, font_size: float = 10.5) -> float:
    """A row height in points for `lines` wrapped lines, rounded up to whole pixels."""
    return whole_px(lines * LINE_PT * font_size / 10.5 + CELL_PAD_PT)


def whole_px(points: float) -> float:
    return math.ceil(points / PT_PER_PX - 1e-9) * PT_PER_PX


class Rows:
    """Sets row heights on a worksheet and remembers them, for the page breaks."""

    def __init__(self, ws, default: float = 15.0):
        self.ws, self.default, self.pt = ws, default, {}

    def set(self, row: int, points: float) -> float:
        points = whole_px(min(points, 409.5))  # Excel's largest row
        self.ws.set_row(row, points)
        self.pt[row] = points
        return points

    def fit(self, row: int, cells: Iterable[tuple[str, float]], font_size: float = 10.5, minimum: float = 0) -> float:
        """Set the row tall enough for every (text, width in units) of it, wrapped."""
        lines = max((lines_needed(text, width, font_size) for text, width in cells), default=1)
        return self.set(row, max(minimum, height_for(lines, font_size)))

    def height(self, row: int) -> float:
        return self.pt.get(row, self.default)

    def span(self, first: int, last: int) -> float:
        return sum(self.height(r) for r in range(first, last + 1))


@dataclass(frozen=True)
class Page:
    landscape: bool
    side_in: float  # left and right margins, inches
    top_in: float
    bottom_in: float

    @property
    def body_pt(self) -> float:
        """Printable height: the A4 paper (210 x 297 mm) less the top and bottom margins."""
        paper = (210 if self.landscape else 297) / 25.4 * 72
        return paper - 72 * (self.top_in + self.bottom_in)


FORM_PAGE = Page(landscape=True, side_in=0.5, top_in=0.6, bottom_in=0.6)
TEXT_PAGE = Page(landscape=False, side_in=0.7, top_in=0.75, bottom_in=0.75)
SAFETY_PT = 12  # rounding in either client, and a border drawn below the last row


def set_page(ws, page: Page, last_row: int | None, last_col: int, repeat: tuple[int, int] | None = None,
             breaks: list[int] | None = None) -> None:
    """A4, fit to one page wide (as many pages tall as needed), centred, page numbers in the footer."""
    ws.set_paper(A4)
    if page.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=page.side_in, right=page.side_in, top=page.top_in, bottom=page.bottom_in)
    ws.set_footer(FOOTER)
    ws.center_horizontally()
    if last_row is not None:
        ws.print_area(0, 0, last_row, last_col)
    if repeat:
        ws.repeat_rows(*repeat)
    if breaks:
        ws.set_h_pagebreaks(breaks)


def page_breaks(rows: Rows, last_row: int, keep: list[tuple[int, int]], page: Page,
                repeat: tuple[int, int] | None = None) -> list[int]:
    """Rows before which a new page starts, so that no (first, last) range of `keep` is split.

    Later pages lose the height of the repeated rows.  A range taller than a page cannot be kept
    whole: it follows on the current page and the client's automatic breaks split it.
    """
    body = page.body_pt - SAFETY_PT
    later = body - (rows.span(*repeat) if repeat else 0)
    starts = {first: last for first, last in keep}
    breaks: list[int] = []
    used, room = 0.0, body
    row = 0
    while row <= last_row:
        last = starts.get(row, row)
        need = rows.span(row, last)
        if used and used + need > room and need <= later:
            breaks.append(row)
            used, room = 0.0, later
        used += need
        while used > room:  # taller than a page: the client breaks inside it
            used -= room
            room = later
        row = last + 1
    return breaks
