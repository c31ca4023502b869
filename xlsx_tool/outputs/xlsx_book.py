"""A small .xlsx writer for the summary and the correction lists, written straight as SpreadsheetML.

It has only what those workbooks use: cell formats, text and numbers, merged cells, column widths
and row heights, a frozen header, an autofilter, A4 print setup (fit to width or a fixed scale,
titles repeated on each page, a footer, page breaks, a print area), one conditional format that
borders blank cells, and column charts (drawn by `chart_xml`, only when there are any).

Why not xlsxwriter, which wrote these before: importing it and packing even an empty summary cost
about 40 ms, more than a merge of an empty folder may take in all; and it holds each cell as an
object, several microseconds a cell.  The parts follow xlsxwriter's output element for element
(same styles, same print and view settings, same defined names), so Excel, WPS and LibreOffice
read them as they read its files.  Text is written inline (<is>), as its constant_memory mode does.

Long tables are a `Body`: rows generated while the sheet is compressed, never held (table_body).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from pathlib import Path

from xlsx_tool.forms.layout import a1, col_letters
from xlsx_tool.outputs.table_body import FLUSH_ROWS, MAX_CELL_CHARS, Body, pack, text_xml

XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument."
MAX_DIGIT_PX, PADDING_PX = 7, 5  # xlsxwriter's column-width arithmetic (Calibri 11 digits)
DEFAULT_COL_PX, DEFAULT_ROW_PX = 64, 20
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "@": 49}
PAGE_FOOTER = "&C第 &P 页，共 &N 页"  # page numbers, centred
_THIN = '<left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>' \
        '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom>'
_RULE1 = re.compile(r"[^\w.]")
_RULE2 = re.compile(r"^[\d.]")
_RULE3 = re.compile(r"^([A-Z]{1,3})(\d+)$")
_RULE4_ROW = re.compile(r"^R(\d+)")
_RULE4_COL = re.compile(r"^R?C(\d+)")
_ROW_MAX, _COL_MAX = 1048576, 16384


def quote_sheetname(name: str) -> str:
    """A sheet name as a reference needs it (xlsxwriter's `quote_sheetname`): quoted, with
    apostrophes doubled, when it has characters other than word characters and ".", starts with a
    digit or ".", or reads as an A1 or R1C1 reference.  One divergence: xlsxwriter also leaves
    emoji unquoted; we quote them (still a valid reference; our sheet names have none)."""
    if name.startswith("'"):  # already quoted by the caller
        return name
    up = name.upper()
    if _RULE1.search(name) or _RULE2.search(name):
        quote = True
    elif m := _RULE3.match(up):
        col = 0
        for i, ch in enumerate(reversed(m.group(1))):
            col += (ord(ch) - ord("A") + 1) * 26 ** i
        quote = 0 <= int(m.group(2)) - 1 < _ROW_MAX and 0 <= col - 1 < _COL_MAX
    elif m := _RULE4_ROW.match(up):
        quote = 0 < int(m.group(1)) <= _ROW_MAX
    elif m := _RULE4_COL.match(up):
        quote = 0 < int(m.group(1)) <= _COL_MAX
    else:
        quote = up in ("R", "C", "RC")
    return "'" + name.replace("'", "''") + "'" if quote else name


def col_px(width: float) -> int:
    """A column width in characters as pixels, as Excel (and xlsxwriter) convert it (0: hidden)."""
    return int(width * (MAX_DIGIT_PX + PADDING_PX) + 0.5) if width < 1 else int(width * MAX_DIGIT_PX + 0.5) + PADDING_PX


def row_px(points: float) -> int:
    """A row height in points as whole pixels, as Excel stores it (0: hidden)."""
    return int(points * 4 / 3 + 0.5)


def _attr(s: str) -> str:
    return text_xml(s).replace('"', "&quot;")


def _num(v) -> str:
    """As xlsxwriter writes a number (and as the charts cache it: the two must agree)."""
    return f"{v:.16G}"


# --------------------------------------------------------------------------- formats


_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_ALLOWED = {  # the values this writer can write (thin borders, #RRGGBB colours, format codes as text)
    "border": lambda v: v in (0, 1),
    "align": lambda v: v in ("left", "center", "right"),
    "valign": lambda v: v in ("top", "vcenter", "bottom"),
    "font_color": lambda v: isinstance(v, str) and bool(_COLOR.fullmatch(v)),
    "bg_color": lambda v: isinstance(v, str) and bool(_COLOR.fullmatch(v)),
    "num_format": lambda v: isinstance(v, str),
    "font_size": lambda v: isinstance(v, (int, float)) and 1 <= v <= 409,
}


class Styles:
    """Cell formats by their properties (xlsxwriter's names: bold, font_size, font_color, align,
    valign, text_wrap, border, bg_color, num_format) -> the index of their <xf> in styles.xml."""

    _KEYS = ("num_format", "bold", "font_size", "font_color", "bg_color", "border", "align", "valign", "text_wrap")

    def __init__(self, font: dict):
        self.font = font  # the default font: font_name, font_size, font_charset, font_family
        self.xfs: list[tuple] = [(None,) * len(self._KEYS)]
        self.index: dict[tuple, int] = {self.xfs[0]: 0}

    def add(self, props: dict) -> int:
        # Refuse rather than write a cell that silently looks different, or XML Excel must repair.
        unknown = {k for k in props if k not in self._KEYS and (k not in self.font or props[k] != self.font[k])}
        bad = [k for k, ok in _ALLOWED.items() if k in props and props[k] is not None and not ok(props[k])]
        if unknown or bad:
            raise ValueError(f"unsupported format properties: {sorted(unknown) + [f'{k}={props[k]!r}' for k in bad]}")
        key = tuple(props.get(k) for k in self._KEYS)
        if key not in self.index:
            self.index[key] = len(self.xfs)
            self.xfs.append(key)
        return self.index[key]

    def xml(self, dxf_border: bool) -> bytes:
        f = self.font
        fonts: dict[tuple, int] = {}
        fills: dict[str, int] = {}
        borders: dict[int, int] = {}
        formats: dict[str, int] = {}
        xfs = []
        for num, bold, size, color, bg, border, align, valign, wrap in self.xfs:
            fk = (bool(bold), size or f["font_size"], color)
            font_id = fonts.setdefault(fk, len(fonts))
            fill_id = fills.setdefault(bg, len(fills) + 2) if bg else 0
            border_id = borders.setdefault(border, len(borders) + 1) if border else 0
            num_id = 0
            if num:
                num_id = _BUILTIN_FORMATS.get(num) or formats.setdefault(num, 164 + len(formats))
            attrs = f'numFmtId="{num_id}" fontId="{font_id}" fillId="{fill_id}" borderId="{border_id}" xfId="0"'
            attrs += ' applyNumberFormat="1"' * bool(num_id) + ' applyFont="1"' * bool(font_id)
            attrs += ' applyFill="1"' * bool(fill_id) + ' applyBorder="1"' * bool(border_id)
            h = f' horizontal="{align}"' if align else ""
            v = f' vertical="{"center" if valign == "vcenter" else valign}"' if valign else ""
            w = ' wrapText="1"' if wrap else ""
            if h or v or w:
                xfs.append(f'<xf {attrs} applyAlignment="1"><alignment{h}{v}{w}/></xf>')
            else:
                xfs.append(f"<xf {attrs}/>")
        out = [XML_HEAD, f'<styleSheet xmlns="{_MAIN}">']
        if formats:
            out.append(f'<numFmts count="{len(formats)}">'
                       + "".join(f'<numFmt numFmtId="{i}" formatCode="{_attr(code)}"/>' for code, i in formats.items())
                       + "</numFmts>")
        out.append(f'<fonts count="{len(fonts)}">'
                   + "".join(f"<font>{self._font(*k)}</font>" for k in fonts) + "</fonts>")
        out.append(f'<fills count="{len(fills) + 2}"><fill><patternFill patternType="none"/></fill>'
                   '<fill><patternFill patternType="gray125"/></fill>'
                   + "".join(f'<fill><patternFill patternType="solid"><fgColor rgb="FF{bg.lstrip("#").upper()}"/>'
                             f'<bgColor indexed="64"/></patternFill></fill>' for bg in fills)
                   + "</fills>")
        out.append(f'<borders count="{len(borders) + 1}"><border><left/><right/><top/><bottom/><diagonal/></border>'
                   + f"<border>{_THIN}<diagonal/></border>" * len(borders) + "</borders>")
        out.append('<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>')
        out.append(f'<cellXfs count="{len(xfs)}">' + "".join(xfs) + "</cellXfs>")
        out.append('<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>')
        out.append(f'<dxfs count="1"><dxf><border>{_THIN}<vertical/><horizontal/></border></dxf></dxfs>' if dxf_border
                   else '<dxfs count="0"/>')
        out.append('<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/>'
                   "</styleSheet>")
        return "".join(out).encode("utf-8")

    def _font(self, bold: bool, size: float, color: str | None) -> str:
        f = self.font
        return (("<b/>" if bold else "") + f'<sz val="{size:g}"/>'
                + (f'<color rgb="FF{color.lstrip("#").upper()}"/>' if color else '<color theme="1"/>')
                + f'<name val="{_attr(f["font_name"])}"/><family val="{f["font_family"]}"/>'
                + f'<charset val="{f["font_charset"]}"/>')


# --------------------------------------------------------------------------- a worksheet


class Sheet:
    """One worksheet.  Rows and columns are 0-based, as in xlsxwriter (whose method names it keeps)."""

    def __init__(self, name: str, index: int):
        self.name, self.index = name, index
        self.cells: dict[int, dict[int, tuple[object, int]]] = {}
        self.heights: dict[int, float] = {}  # row -> points
        self.widths: dict[int, float] = {}  # col -> characters
        self.merges: list[tuple[int, int, int, int]] = []
        self.body: Body | None = None
        self.frozen_rows = 0
        self.filter: tuple[int, int, int, int] | None = None
        self.landscape = False
        self.fit_width = False  # fit to one page wide, any number of pages tall
        self.scale = 100
        self.title_rows: int | None = None
        self.center = False
        self.footer = ""
        self.breaks: list[int] = []
        self.area: tuple[int, int, int, int] | None = None
        self.blank_borders: list[str] = []  # cells bordered by the conditional format for blanks
        self.charts: list[tuple[int, int, int, int, object]] = []  # (row, col, x offset, y offset, ColumnChart)

    # cells
    def write(self, r: int, c: int, value, style: int = 0) -> None:
        """A str, int or float (a bool is written as text), or None for a formatted blank."""
        if value is not None and not isinstance(value, (str, int, float)) or isinstance(value, bool):
            value = str(value)
        elif type(value) is float and not math.isfinite(value):  # <v>NAN</v> is a file Excel cannot open
            raise ValueError(f"{self.name}!{a1(r, c)}: {value} is not a number a cell can hold")
        self.cells.setdefault(r, {})[c] = (value, style)

    write_string = write_number = write

    def merge_range(self, r1: int, c1: int, r2: int, c2: int, value, style: int) -> None:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                self.write(r, c, None, style)
        self.write(r1, c1, value, style)
        self.merges.append((r1, c1, r2, c2))

    def set_row(self, r: int, points: float) -> None:
        self.heights[r] = points

    def set_column(self, c1: int, c2: int, width: float) -> None:
        for c in range(c1, c2 + 1):
            self.widths[c] = width

    def row_px(self, r: int) -> int:
        return row_px(self.heights[r]) if r in self.heights else DEFAULT_ROW_PX

    def col_px(self, c: int) -> int:
        return col_px(self.widths[c]) if c in self.widths else DEFAULT_COL_PX

    # the XML
    def _extent(self) -> tuple[int, int]:
        """(last row, last column) used, 0-based; (-1, -1) when empty."""
        last_r = max(self.cells, default=-1)
        last_c = max((max(cs) for cs in self.cells.values() if cs), default=-1)
        if self.body:
            last_r, last_c = max(last_r, self.body.last), max(last_c, self.body.last_col)
        return last_r, last_c

    def _row(self, r: int, cells: dict[int, tuple[object, int]]) -> str:
        n = r + 1
        if r in self.heights:
            px = row_px(self.heights[r])
            custom = ' customHeight="1"' if px != DEFAULT_ROW_PX else ""
            parts = [f'<row r="{n}" ht="{px * 0.75:g}"{custom}>']
        else:
            parts = [f'<row r="{n}">']
        for c in sorted(cells):
            v, s = cells[c]
            ref = f"{col_letters(c)}{n}"
            st = f' s="{s}"' if s else ""
            if v is None:
                parts.append(f'<c r="{ref}"{st}/>')
            elif type(v) is str:
                v = v[:MAX_CELL_CHARS]
                space = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
                parts.append(f'<c r="{ref}"{st} t="inlineStr"><is><t{space}>{text_xml(v)}</t></is></c>')
            else:
                parts.append(f'<c r="{ref}"{st}><v>{_num(v)}</v></c>')
        parts.append("</row>")
        return "".join(parts)

    def _rows_xml(self, rows: list[int]) -> str:
        cells = self.cells
        return "".join(self._row(r, cells.get(r, {})) for r in rows)

    def chunks(self, drawing_rel: str | None) -> Iterator[bytes]:
        """The sheet part, in pieces: the rows of a Body are generated as it is compressed."""
        last_r, last_c = self._extent()
        rows = sorted(set(self.cells) | set(self.heights))
        out = [XML_HEAD, f'<worksheet xmlns="{_MAIN}" xmlns:r="{NS_REL}">']
        if self.fit_width:
            out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        out.append(f'<dimension ref="{"A1" if last_r < 0 else f"A1:{a1(last_r, last_c)}"}"/>')
        selected = ' tabSelected="1"' if self.index == 0 else ""
        if self.frozen_rows:
            top = a1(self.frozen_rows, 0)
            out.append(f'<sheetViews><sheetView{selected} workbookViewId="0"><pane ySplit="{self.frozen_rows}" '
                       f'topLeftCell="{top}" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
                       "</sheetView></sheetViews>")
        else:
            out.append(f'<sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>')
        out.append('<sheetFormatPr defaultRowHeight="15"/>')
        out.append(self._cols())
        out.append("<sheetData>")
        body = self.body
        if body:
            if any(body.after < r <= body.last for r in rows):  # rows must come in order, each once
                raise ValueError(f"{self.name}: cells written in the rows of its table body")
            out.append(self._rows_xml([r for r in rows if r <= body.after]))
            yield "".join(out).encode("utf-8")
            buf: list[str] = []
            for row in body.rows():
                buf.append(row)
                if len(buf) >= FLUSH_ROWS:
                    yield "".join(buf).encode("utf-8")
                    buf.clear()
            out = buf
            out.append(self._rows_xml([r for r in rows if r > body.after]))
        else:
            out.append(self._rows_xml(rows))
        out.append("</sheetData>")
        out.append(self._tail(drawing_rel))
        yield "".join(out).encode("utf-8")

    def _cols(self) -> str:
        if not self.widths:
            return ""
        spans: list[list] = []
        for c in sorted(self.widths):
            px = col_px(self.widths[c])
            if spans and spans[-1][1] == c - 1 and spans[-1][2] == px:
                spans[-1][1] = c
            else:
                spans.append([c, c, px])
        out = ["<cols>"]
        for c1, c2, px in spans:
            custom = ' customWidth="1"' if px != DEFAULT_COL_PX else ""
            out.append(f'<col min="{c1 + 1}" max="{c2 + 1}" width="{(px * 256 // MAX_DIGIT_PX) / 256:.16g}"{custom}/>')
        out.append("</cols>")
        return "".join(out)

    def _tail(self, drawing_rel: str | None) -> str:
        out = []
        if self.filter:
            out.append(f'<autoFilter ref="{a1(*self.filter[:2])}:{a1(*self.filter[2:])}"/>')
        if self.merges:
            out.append(f'<mergeCells count="{len(self.merges)}">'
                       + "".join(f'<mergeCell ref="{a1(r1, c1)}:{a1(r2, c2)}"/>' for r1, c1, r2, c2 in self.merges)
                       + "</mergeCells>")
        if self.blank_borders:
            out.append(f'<conditionalFormatting sqref="{" ".join(self.blank_borders)}"><cfRule type="containsBlanks" '
                       f'dxfId="0" priority="1"><formula>LEN(TRIM({self.blank_borders[0]}))=0</formula></cfRule>'
                       "</conditionalFormatting>")
        out.append('<printOptions horizontalCentered="1"/>' if self.center else "")
        # every sheet prints on A4 with these margins (inches): the only ones the workbooks use
        out.append('<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>')
        setup = '<pageSetup paperSize="9"'
        if self.scale != 100:
            setup += f' scale="{self.scale}"'
        if self.fit_width:
            setup += ' fitToHeight="0"'
        out.append(setup + f' orientation="{"landscape" if self.landscape else "portrait"}"/>')
        if self.footer:
            out.append(f"<headerFooter><oddFooter>{text_xml(self.footer)}</oddFooter></headerFooter>")
        if self.breaks:
            n = len(self.breaks)
            out.append(f'<rowBreaks count="{n}" manualBreakCount="{n}">'
                       + "".join(f'<brk id="{b}" max="16383" man="1"/>' for b in self.breaks) + "</rowBreaks>")
        if drawing_rel:
            out.append(f'<drawing r:id="{drawing_rel}"/>')
        out.append("</worksheet>")
        return "".join(out)


# --------------------------------------------------------------------------- the workbook


class Book:
    """Sheets, formats and document properties; `close()` gives the .xlsx bytes."""

    def __init__(self, font: dict, title: str = "", author: str = "", created: dt.datetime | None = None):
        self.styles = Styles(font)
        self.sheets: list[Sheet] = []
        self.title, self.author = title, author
        self.created = created or dt.datetime(1980, 1, 1)

    def add_format(self, props: dict) -> int:
        return self.styles.add(props)

    def add_worksheet(self, name: str) -> Sheet:
        sheet = Sheet(name, len(self.sheets))
        self.sheets.append(sheet)
        return sheet

    def _defined_names(self) -> list[tuple[str, Sheet, str, bool]]:
        """(name, sheet, reference, hidden), sorted as Excel and xlsxwriter list them."""
        out = []
        for s in self.sheets:
            q = quote_sheetname(s.name)
            if s.filter:
                r1, c1, r2, c2 = s.filter
                out.append(("_FilterDatabase", s, f"{q}!{absolute(r1, c1)}:{absolute(r2, c2)}", True))
            if s.area:
                r1, c1, r2, c2 = s.area
                out.append(("Print_Area", s, f"{q}!{absolute(r1, c1)}:{absolute(r2, c2)}", False))
            if s.title_rows is not None:
                out.append(("Print_Titles", s, f"{q}!${s.title_rows + 1}:${s.title_rows + 1}", False))
        # xlsxwriter's key: the closing quote of a quoted sheet name takes part in the order
        return sorted(out, key=lambda d: f"{d[0].lower()}::{quote_sheetname(d[1].name).lstrip(chr(39)).lower()}")

    def close(self) -> bytes:
        charts = [(s, ch) for s in self.sheets for ch in s.charts]
        drawn = [s for s in self.sheets if s.charts]
        names = self._defined_names()
        members: list[tuple[str, object]] = []
        overrides = [("/docProps/app.xml", "application/vnd.openxmlformats-officedocument.extended-properties+xml"),
                     ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
                     ("/xl/styles.xml", _CT + "spreadsheetml.styles+xml"),
                     ("/xl/theme/theme1.xml", _CT + "theme+xml"),
                     ("/xl/workbook.xml", _CT + "spreadsheetml.sheet.main+xml")]
        overrides += [(f"/xl/worksheets/sheet{i}.xml", _CT + "spreadsheetml.worksheet+xml")
                      for i in range(1, len(self.sheets) + 1)]
        overrides += [(f"/xl/charts/chart{i}.xml", _CT + "drawingml.chart+xml") for i in range(1, len(charts) + 1)]
        overrides += [(f"/xl/drawings/drawing{i}.xml", _CT + "drawing+xml") for i in range(1, len(drawn) + 1)]
        members.append(("[Content_Types].xml", (
            XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides) + "</Types>").encode()))
        members.append(("_rels/.rels", _rels([
            ("officeDocument/2006/relationships/officeDocument", "xl/workbook.xml"),
            ("package/2006/relationships/metadata/core-properties", "docProps/core.xml"),
            ("officeDocument/2006/relationships/extended-properties", "docProps/app.xml")])))
        members.append(("docProps/app.xml", self._app(names)))
        members.append(("docProps/core.xml", self._core()))
        members.append(("xl/_rels/workbook.xml.rels", _rels(
            [("officeDocument/2006/relationships/worksheet", f"worksheets/sheet{i}.xml")
             for i in range(1, len(self.sheets) + 1)]
            + [("officeDocument/2006/relationships/theme", "theme/theme1.xml"),
               ("officeDocument/2006/relationships/styles", "styles.xml")])))
        members.append(("xl/workbook.xml", self._workbook(names)))
        members.append(("xl/styles.xml", self.styles.xml(any(s.blank_borders for s in self.sheets))))
        members.append(("xl/theme/theme1.xml", (Path(__file__).parent / "parts" / "theme1.xml").read_bytes()))
        bodies: dict[str, Body] = {}
        for i, s in enumerate(self.sheets, 1):
            name = f"xl/worksheets/sheet{i}.xml"
            drawing = s in drawn
            members.append((name, lambda s=s, d=drawing: s.chunks("rId1" if d else None)))
            if s.body:
                bodies[name] = s.body
            if drawing:
                members.append((f"xl/worksheets/_rels/sheet{i}.xml.rels", _rels(
                    [("officeDocument/2006/relationships/drawing", f"../drawings/drawing{drawn.index(s) + 1}.xml")])))
        if charts:
            members += self._chart_parts(drawn)
        return pack(members, bodies)

    def _chart_parts(self, drawn: list[Sheet]) -> list[tuple[str, bytes]]:
        from xlsx_tool.outputs import chart_xml as CX

        out = []
        n = 0
        for d, s in enumerate(drawn, 1):
            anchors = []
            first = n + 1
            for row, col, x, y, chart in s.charts:
                n += 1
                out.append((f"xl/charts/chart{n}.xml", CX.chart_part(chart, n)))
                anchors.append(CX.anchor(row, col, x, y, chart.width, chart.height, s.col_px, s.row_px))
            out.append((f"xl/drawings/drawing{d}.xml", CX.drawing_part(anchors)))
            out.append((f"xl/drawings/_rels/drawing{d}.xml.rels", CX.drawing_rels(len(anchors), first)))
        return out

    def _workbook(self, names) -> bytes:
        out = [XML_HEAD, f'<workbook xmlns="{_MAIN}" xmlns:r="{NS_REL}">',
               '<fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>',
               '<workbookPr defaultThemeVersion="124226"/>',
               '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>',
               "<sheets>"]
        out += [f'<sheet name="{_attr(s.name)}" sheetId="{s.index + 1}" r:id="rId{s.index + 1}"/>' for s in self.sheets]
        out.append("</sheets>")
        if names:
            out.append("<definedNames>")
            for name, s, ref, hidden in names:
                out.append(f'<definedName name="_xlnm.{name}" localSheetId="{s.index}"'
                           + (' hidden="1"' if hidden else "") + f">{text_xml(ref)}</definedName>")
            out.append("</definedNames>")
        out.append('<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
        return "".join(out).encode("utf-8")

    def _app(self, names) -> bytes:
        titles = [s.name for s in self.sheets] + [f"{quote_sheetname(s.name)}!{n}" for n, s, _r, _h in names
                                                   if n != "_FilterDatabase"]
        n_named = len(titles) - len(self.sheets)
        pairs = '<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>' \
                f'<vt:variant><vt:i4>{len(self.sheets)}</vt:i4></vt:variant>'
        if n_named:
            pairs += f'<vt:variant><vt:lpstr>Named Ranges</vt:lpstr></vt:variant><vt:variant><vt:i4>{n_named}</vt:i4></vt:variant>'
        return (XML_HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
                'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
                "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
                f'<HeadingPairs><vt:vector size="{4 if n_named else 2}" baseType="variant">{pairs}</vt:vector></HeadingPairs>'
                f'<TitlesOfParts><vt:vector size="{len(titles)}" baseType="lpstr">'
                + "".join(f"<vt:lpstr>{text_xml(t)}</vt:lpstr>" for t in titles)
                + "</vt:vector></TitlesOfParts><Company></Company><LinksUpToDate>false</LinksUpToDate>"
                "<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion>"
                "</Properties>").encode("utf-8")

    def _core(self) -> bytes:
        when = f"{self.created:%Y-%m-%dT%H:%M:%SZ}"
        who = text_xml(self.author)
        title = f"<dc:title>{text_xml(self.title)}</dc:title>" if self.title else ""
        return (XML_HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"{title}<dc:creator>{who}</dc:creator><cp:lastModifiedBy>{who}</cp:lastModifiedBy>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified></cp:coreProperties>').encode("utf-8")


def absolute(r: int, c: int) -> str:
    """(0, 0) -> "$A$1"."""
    return f"${col_letters(c)}${r + 1}"


def _rels(targets: list[tuple[str, str]]) -> bytes:
    return (XML_HEAD + f'<Relationships xmlns="{NS_PKG_REL}">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/{t}" Target="{target}"/>'
                      for i, (t, target) in enumerate(targets, 1))
            + "</Relationships>").encode("utf-8")
