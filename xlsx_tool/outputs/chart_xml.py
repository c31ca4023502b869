"""Column-chart and drawing parts of an .xlsx, byte-for-byte as xlsxwriter 3.3.1 writes them.

Only what the 统计分析 sheet (`stats_sheet._Sheet.chart`) uses: a clustered column chart of one or
two series, each with a cell for its name and a range each for categories and values (with the
cells' cached values), a solid fill, no border, gap 60 and optional value labels; a rich-text title;
a value axis with title, number format, min/max and coloured major gridlines; a category axis with
an optional label rotation and every label shown; no legend or one at the top; blanks as gaps.
The drawing places each chart with a two-cell anchor that moves but does not resize with the
cells (xlsxwriter's `object_position` 2).

    part = chart_part(ColumnChart(...), index)          # -> xl/charts/chart{index}.xml
    a = anchor(row, col, x_off, y_off, w, h, col_px, row_px)
    drawing_part([a, ...]); drawing_rels(len(anchors))  # -> xl/drawings/drawing1.xml (+ _rels)

Cached values are given as the cells hold them: str, int, float (or Decimal/Fraction), None for a
cell without a record, "" for a formatted blank cell.  They are cached the way xlsxwriter does:
numbers as `format(v, ".16g")`; in a value range None is left out and anything that is not a number
(including "") is cached as 0; a category range whose cached values all read as numbers is written
as a number reference (and then the category axis gets a "General" number format).

Deliberately without xlsxwriter (and anything heavy): this is what replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from numbers import Rational

from xlsx_tool.outputs.table_body import text_xml
from xlsx_tool.outputs.xlsx_book import NS_PKG_REL, NS_REL, XML_HEAD, absolute, quote_sheetname

__all__ = ["Font", "Series", "ColumnChart", "chart_part", "anchor", "drawing_part", "drawing_rels"]

GAP = 60  # the bars' gap width, per cent of a bar
_EMU_PER_PX = 9525

_NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"


# --------------------------------------------------------------------------- the chart, as data


@dataclass(frozen=True)
class Font:
    """A chart font (always charset 134, GB2312).  `rotation` in degrees, e.g. -45."""
    name: str
    size: float
    bold: bool = False
    rotation: int | None = None


@dataclass(frozen=True)
class Series:
    """One series.  References are 0-based: name_ref (sheet, row, col); cat_ref and val_ref
    (sheet, first_row, col, last_row, col).  `name`, `categories` and `values` are the cells'
    values (see the module docstring), one per cell of the reference."""
    name: object
    name_ref: tuple[str, int, int]
    categories: list
    cat_ref: tuple[str, int, int, int, int]
    values: list
    val_ref: tuple[str, int, int, int, int]
    color: str  # "#4472C4"
    labels: Font | None = None  # value labels in this font; None: no labels
    label_format: str = "0.##"


@dataclass(frozen=True)
class ColumnChart:
    """A clustered column chart.  y_min / y_max are written with str(), as xlsxwriter does
    (so 80 gives "80" but 80.0 gives "80.0"); None leaves the bound automatic.  An empty title
    or y_title leaves the element out.  gridline_color None: default gridlines."""
    title: str
    title_font: Font
    series: tuple[Series, ...]
    y_title: str
    y_title_font: Font
    y_num_font: Font
    y_num_format: str
    y_min: float | None
    y_max: float | None
    gridline_color: str | None
    x_num_font: Font
    legend_font: Font | None  # None: no legend; else a legend at the top in this font
    width: int  # pixels
    height: int


# --------------------------------------------------------------------------- XML, as xlsxwriter writes it

_NEEDS_ESCAPE = re.compile('["&<>\n]')


def _attr(v) -> str:
    # Attributes: & " < > and newline; non-strings via str() (xlsxwriter's f-string).
    if isinstance(v, str) and _NEEDS_ESCAPE.search(v):
        return (v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
                .replace(">", "&gt;").replace("\n", "&#xA;"))
    return str(v)


def _text(v) -> str:
    # Element text: & < > (not quotes), and control characters as Excel's _xHHHH_.
    return text_xml(v) if isinstance(v, str) else str(v)


class _Xml:
    def __init__(self):
        self.out = [XML_HEAD]

    def start(self, tag, *attrs):
        self.out.append(f"<{tag}{''.join(f' {k}={_q(v)}' for k, v in attrs)}>")

    def empty(self, tag, *attrs):
        self.out.append(f"<{tag}{''.join(f' {k}={_q(v)}' for k, v in attrs)}/>")

    def end(self, tag):
        self.out.append(f"</{tag}>")

    def data(self, tag, text):
        self.out.append(f"<{tag}>{_text(text)}</{tag}>")

    def bytes(self) -> bytes:
        return "".join(self.out).encode("utf-8")


def _q(v) -> str:
    return f'"{_attr(v)}"'


# --------------------------------------------------------------------------- references and cached values

def _ref(sheet: str, r1: int, c1: int, r2: int | None = None, c2: int | None = None) -> str:
    a = absolute(r1, c1)
    if r2 is not None and (r2, c2) != (r1, c1):
        a += ":" + absolute(r2, c2)
    return f"{quote_sheetname(sheet)}!{a}"


def _cached(v):
    # What xlsxwriter reads back from a cell for the cache: numbers at Excel's 16 digits.
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        raise TypeError("boolean cells are not supported in chart data")
    if isinstance(v, Rational) and not isinstance(v, int):  # a Fraction: xlsxwriter writes it as a float
        v = float(v)
    return format(v, ".16g")


def _is_num(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _cat_is_num(tokens: list) -> bool:
    # xlsxwriter's _get_data_type: all-number categories (None ignored) make a numRef.
    for t in tokens:
        if t is None:
            continue
        if re.search("[_ ]", t) or not _is_num(t):
            return False
    return True


def _range_values(values: list, ref: tuple) -> list:
    sheet, r1, c1, r2, c2 = ref
    if c1 != c2 or r2 < r1:
        raise ValueError(f"not a one-column range: {ref!r}")
    if len(values) != r2 - r1 + 1:
        raise ValueError(f"{len(values)} values for the {r2 - r1 + 1} cells of {ref!r}")
    return [_cached(v) for v in values]


# --------------------------------------------------------------------------- chart part


def _color(c: str) -> str:
    v = int(c.lstrip("#"), 16)
    if not 0 <= v <= 0xFFFFFF:
        raise ValueError(f"not an RGB colour: {c!r}")
    return f"{v:06X}"


def _rotation(f: Font):
    # xlsxwriter: 60000ths of a degree, except that 0 stays the (falsy) value given.
    return 60000 * int(f.rotation) if f.rotation else f.rotation


def _body_pr(x: _Xml, rotation) -> None:
    if rotation is None:
        x.empty("a:bodyPr")
    elif rotation == 16200000:  # 270: stacked
        x.empty("a:bodyPr", ("rot", 0), ("vert", "wordArtVert"))
    elif rotation == 16260000:  # 271: East Asian vertical
        x.empty("a:bodyPr", ("rot", 0), ("vert", "eaVert"))
    else:
        x.empty("a:bodyPr", ("rot", rotation), ("vert", "horz"))


def _style(f: Font) -> list:
    sz = int(f.size * 100) if f.size else 0
    return ([("sz", sz)] if sz else []) + [("b", 0 + f.bold), ("baseline", 0)]


def _def_rpr(x: _Xml, f: Font) -> None:
    x.start("a:pPr")
    x.start("a:defRPr", *_style(f))
    x.empty("a:latin", ("typeface", f.name), ("charset", 134))
    x.end("a:defRPr")
    x.end("a:pPr")


def _tx_pr(x: _Xml, f: Font) -> None:
    # Font of axis numbers, data labels and the legend.
    x.start("c:txPr")
    _body_pr(x, _rotation(f))
    x.empty("a:lstStyle")
    x.start("a:p")
    _def_rpr(x, f)
    x.empty("a:endParaRPr", ("lang", "en-US"))
    x.end("a:p")
    x.end("c:txPr")


def _title(x: _Xml, text: str, f: Font) -> None:
    if not text:
        return
    x.start("c:title")
    x.start("c:tx")
    x.start("c:rich")
    _body_pr(x, _rotation(f))
    x.empty("a:lstStyle")
    x.start("a:p")
    _def_rpr(x, f)
    x.start("a:r")
    x.start("a:rPr", ("lang", "en-US"), *_style(f))
    x.empty("a:latin", ("typeface", f.name), ("charset", 134))
    x.end("a:rPr")
    x.data("a:t", text)
    x.end("a:r")
    x.end("a:p")
    x.end("c:rich")
    x.end("c:tx")
    x.empty("c:layout")
    x.end("c:title")


def _str_cache(x: _Xml, tokens: list) -> None:
    x.start("c:strCache")
    x.empty("c:ptCount", ("val", len(tokens)))
    for i, t in enumerate(tokens):
        if t is not None:
            x.start("c:pt", ("idx", i))
            x.data("c:v", t)
            x.end("c:pt")
    x.end("c:strCache")


def _num_cache(x: _Xml, tokens: list) -> None:
    x.start("c:numCache")
    x.data("c:formatCode", "General")
    x.empty("c:ptCount", ("val", len(tokens)))
    for i, t in enumerate(tokens):
        if t is not None:  # no record: no point, so a gap
            x.start("c:pt", ("idx", i))
            x.data("c:v", t if _is_num(t) else 0)  # text, or "" of a formatted blank, caches as 0
            x.end("c:pt")
    x.end("c:numCache")


def _series(x: _Xml, i: int, s: Series) -> bool:
    """Writes <c:ser>; returns whether its categories are numbers."""
    x.start("c:ser")
    x.empty("c:idx", ("val", i))
    x.empty("c:order", ("val", i))
    x.start("c:tx")
    x.start("c:strRef")
    x.data("c:f", _ref(*s.name_ref))
    _str_cache(x, [_cached(s.name)])
    x.end("c:strRef")
    x.end("c:tx")
    x.start("c:spPr")
    x.start("a:solidFill")
    x.empty("a:srgbClr", ("val", _color(s.color)))
    x.end("a:solidFill")
    x.start("a:ln")
    x.empty("a:noFill")
    x.end("a:ln")
    x.end("c:spPr")
    if s.labels is not None:
        x.start("c:dLbls")
        if s.label_format:
            x.empty("c:numFmt", ("formatCode", s.label_format), ("sourceLinked", 0))
        _tx_pr(x, s.labels)
        x.empty("c:showVal", ("val", 1))
        x.end("c:dLbls")
    cats = _range_values(s.categories, s.cat_ref)
    cat_num = _cat_is_num(cats)
    x.start("c:cat")
    tag = "c:numRef" if cat_num else "c:strRef"
    x.start(tag)
    x.data("c:f", _ref(*s.cat_ref))
    (_num_cache if cat_num else _str_cache)(x, cats)
    x.end(tag)
    x.end("c:cat")
    x.start("c:val")
    x.start("c:numRef")
    x.data("c:f", _ref(*s.val_ref))
    _num_cache(x, _range_values(s.values, s.val_ref))
    x.end("c:numRef")
    x.end("c:val")
    x.end("c:ser")
    return cat_num


def chart_part(chart: ColumnChart, index: int) -> bytes:
    """xl/charts/chart{index}.xml.  `index` is the chart's 1-based number in the workbook, in the
    order the charts are inserted (sheet by sheet); the axis ids derive from it as in xlsxwriter:
    "{5000 + index:04d}0001" and "...0002"."""
    if not chart.series:
        raise ValueError("a chart needs a series")
    ax_cat, ax_val = f"{5000 + index:04d}0001", f"{5000 + index:04d}0002"
    x = _Xml()
    x.start("c:chartSpace", ("xmlns:c", _NS_C), ("xmlns:a", _NS_A), ("xmlns:r", NS_REL))
    x.empty("c:lang", ("val", "en-US"))
    x.start("c:chart")
    _title(x, chart.title, chart.title_font)
    x.start("c:plotArea")
    x.empty("c:layout")
    x.start("c:barChart")
    x.empty("c:barDir", ("val", "col"))
    x.empty("c:grouping", ("val", "clustered"))
    cat_num = False
    for i, s in enumerate(chart.series):
        cat_num = _series(x, i, s)  # the last series decides, as in xlsxwriter
    x.empty("c:gapWidth", ("val", GAP))
    x.empty("c:axId", ("val", ax_cat))
    x.empty("c:axId", ("val", ax_val))
    x.end("c:barChart")

    x.start("c:catAx")
    x.empty("c:axId", ("val", ax_cat))
    x.start("c:scaling")
    x.empty("c:orientation", ("val", "minMax"))
    x.end("c:scaling")
    x.empty("c:axPos", ("val", "b"))
    if cat_num:
        x.empty("c:numFmt", ("formatCode", "General"), ("sourceLinked", 1))
    x.empty("c:tickLblPos", ("val", "nextTo"))
    _tx_pr(x, chart.x_num_font)
    x.empty("c:crossAx", ("val", ax_val))
    x.empty("c:crosses", ("val", "autoZero"))
    x.empty("c:auto", ("val", 1))
    x.empty("c:lblAlgn", ("val", "ctr"))
    x.empty("c:lblOffset", ("val", 100))
    x.empty("c:tickLblSkip", ("val", 1))
    x.end("c:catAx")

    x.start("c:valAx")
    x.empty("c:axId", ("val", ax_val))
    x.start("c:scaling")
    x.empty("c:orientation", ("val", "minMax"))
    if chart.y_max is not None:
        x.empty("c:max", ("val", chart.y_max))
    if chart.y_min is not None:
        x.empty("c:min", ("val", chart.y_min))
    x.end("c:scaling")
    x.empty("c:axPos", ("val", "l"))
    if chart.gridline_color is None:
        x.empty("c:majorGridlines")
    else:
        x.start("c:majorGridlines")
        x.start("c:spPr")
        x.start("a:ln")
        x.start("a:solidFill")
        x.empty("a:srgbClr", ("val", _color(chart.gridline_color)))
        x.end("a:solidFill")
        x.end("a:ln")
        x.end("c:spPr")
        x.end("c:majorGridlines")
    _title(x, chart.y_title, chart.y_title_font)
    # sourceLinked only for the default format, which is then the cells' own.
    x.empty("c:numFmt", ("formatCode", chart.y_num_format),
            ("sourceLinked", 1 if chart.y_num_format == "General" else 0))
    x.empty("c:tickLblPos", ("val", "nextTo"))
    _tx_pr(x, chart.y_num_font)
    x.empty("c:crossAx", ("val", ax_cat))
    x.empty("c:crosses", ("val", "autoZero"))
    x.empty("c:crossBetween", ("val", "between"))
    x.end("c:valAx")
    x.end("c:plotArea")

    if chart.legend_font is not None:
        x.start("c:legend")
        x.empty("c:legendPos", ("val", "t"))
        x.empty("c:layout")
        _tx_pr(x, chart.legend_font)
        x.end("c:legend")
    x.empty("c:plotVisOnly", ("val", 1))
    # Blanks as gaps is the default: xlsxwriter writes no c:dispBlanksAs for it.
    x.end("c:chart")
    x.start("c:printSettings")
    x.empty("c:headerFooter")
    x.empty("c:pageMargins", ("b", 0.75), ("l", 0.7), ("r", 0.7), ("t", 0.75), ("header", 0.3),
            ("footer", 0.3))
    x.empty("c:pageSetup")
    x.end("c:printSettings")
    x.end("c:chartSpace")
    return x.bytes()


# --------------------------------------------------------------------------- placement and drawing part


def anchor(row: int, col: int, x_offset: int, y_offset: int, width: int, height: int,
           col_px, row_px) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """Where a chart inserted at (row, col) with these pixel offsets and size sits, as xlsxwriter's
    `_position_object_emus` computes it: ((col, col_off, row, row_off) of its top-left corner,
    the same of its bottom-right), offsets in EMUs.  col_px(c) / row_px(r) give the pixel size of a
    column / row (0 when hidden); see xlsx_book's col_px, row_px and their defaults."""
    col, x1 = _settle(col, x_offset, col_px)
    row, y1 = _settle(row, y_offset, row_px)
    # the far corner: the size counted from the near corner's offset (not in a hidden column or row)
    col_end, x2 = _settle(col, int(0.5 + width) + (x1 if col_px(col) > 0 else 0), col_px)
    row_end, y2 = _settle(row, int(0.5 + height) + (y1 if row_px(row) > 0 else 0), row_px)

    def emu(px):
        return int(0.5 + _EMU_PER_PX * px)

    return (col, emu(x1), row, emu(y1)), (col_end, emu(x2), row_end, emu(y2))


def _settle(index: int, offset: int, size) -> tuple[int, int]:
    """(column or row, offset in it) where an offset from the start of `index` lands: a negative one
    reaches back into earlier cells (not before the first), one past the cell's size into later ones."""
    while offset < 0 and index > 0:
        index -= 1
        offset += size(index)
    offset = max(0, offset)
    while offset >= size(index):
        offset -= size(index)
        index += 1
    return index, offset


def drawing_part(anchors: list) -> bytes:
    """xl/drawings/drawingN.xml for a sheet whose drawings are these charts only, in insertion
    order: the k-th (1-based) is "Chart k", shape id k + 1, relationship rIdk."""
    x = _Xml()
    x.start("xdr:wsDr", ("xmlns:xdr", _NS_XDR), ("xmlns:a", _NS_A))
    for k, (top_left, bottom_right) in enumerate(anchors, 1):
        x.start("xdr:twoCellAnchor", ("editAs", "oneCell"))
        for tag, (c, c_off, r, r_off) in (("xdr:from", top_left), ("xdr:to", bottom_right)):
            x.start(tag)
            x.data("xdr:col", c)
            x.data("xdr:colOff", c_off)
            x.data("xdr:row", r)
            x.data("xdr:rowOff", r_off)
            x.end(tag)
        x.start("xdr:graphicFrame", ("macro", ""))
        x.start("xdr:nvGraphicFramePr")
        x.empty("xdr:cNvPr", ("id", k + 1), ("name", f"Chart {k}"))
        x.empty("xdr:cNvGraphicFramePr")
        x.end("xdr:nvGraphicFramePr")
        x.start("xdr:xfrm")
        x.empty("a:off", ("x", 0), ("y", 0))
        x.empty("a:ext", ("cx", 0), ("cy", 0))
        x.end("xdr:xfrm")
        x.start("a:graphic")
        x.start("a:graphicData", ("uri", _NS_C))
        x.empty("c:chart", ("xmlns:c", _NS_C), ("xmlns:r", NS_REL), ("r:id", f"rId{k}"))
        x.end("a:graphicData")
        x.end("a:graphic")
        x.end("xdr:graphicFrame")
        x.empty("xdr:clientData")
        x.end("xdr:twoCellAnchor")
    x.end("xdr:wsDr")
    return x.bytes()


def drawing_rels(count: int, first: int = 1) -> bytes:
    """xl/drawings/_rels/drawingN.xml.rels: rId1..rId{count} -> ../charts/chart{first}.xml and on
    (`first` is the workbook number of the sheet's first chart)."""
    x = _Xml()
    x.start("Relationships", ("xmlns", NS_PKG_REL))
    for k in range(1, count + 1):
        x.empty("Relationship", ("Id", f"rId{k}"), ("Type", NS_REL + "/chart"),
                ("Target", f"../charts/chart{first + k - 1}.xml"))
    x.end("Relationships")
    return x.bytes()
