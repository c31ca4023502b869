"""简要核查报告: the python-docx layout of a report's `Block`s in the official-document style.

GB/T 9704: A4 with its margins, title in 方正小标宋简体 二号 on explicit lines (broken at phrase
ends by `report_text.break_lines`), body in 仿宋 三号 with fixed 28 pt lines, headings 一、二、… in
黑体, tables in 小四 with the header row repeated on every page, page numbers "— 1 —".
The output is deterministic: fixed core-property dates, and the package re-packed by
`files.zip_bytes` with fixed member timestamps (python-docx stamps the time of saving).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from xlsx_tool.files import zip_bytes
from xlsx_tool.outputs.report_text import Block

TITLE_FONT = "方正小标宋简体"  # the official title face; the font table names 宋体 as its substitute
TITLE_FALLBACK = "宋体"
BODY_FONT = "仿宋"  # 仿宋_GB2312 is the traditional name, but only 仿宋 (simfang) ships with Windows
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体"
LATIN_FONT = "Times New Roman"
BODY_PT, TITLE_PT, TABLE_PT, NOTE_PT = 16, 22, 12, 14  # 三号, 二号, 小四, 四号
LINE_PT = 28  # fixed line pitch: 22 lines a page
TABLE_LINE_PT = TABLE_PT + 4

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RPR_CACHE: dict = {}


def _rpr(east_asian: str, size_pt: float, bold: bool = False):
    """A w:rPr naming the Latin and the East Asian font (w:rFonts w:eastAsia), size and weight (cached, copied)."""
    import copy

    from docx.oxml import parse_xml

    key = (east_asian, size_pt, bold)
    if key not in _RPR_CACHE:
        half = int(round(size_pt * 2))
        _RPR_CACHE[key] = parse_xml(
            f'<w:rPr xmlns:w="{_W}"><w:rFonts w:ascii="{LATIN_FONT}" w:hAnsi="{LATIN_FONT}" '
            f'w:eastAsia="{east_asian}" w:cs="{LATIN_FONT}"/>' + ("<w:b/><w:bCs/>" if bold else "")
            + f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr>')
    return copy.deepcopy(_RPR_CACHE[key])


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _run(paragraph, text: str, east_asian: str, size_pt: float, bold: bool = False):
    """A run of `text` (characters XML cannot hold, e.g. a pasted \\x07, are dropped) in the given fonts."""
    run = paragraph.add_run(_NOT_XML.sub("", text))
    run._r.insert(0, _rpr(east_asian, size_pt, bold))
    return run


def _style_fonts(style, east_asian: str, size_pt: float) -> None:
    """Set a style's fonts (Latin and East Asian, no theme fonts) and size."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.name = LATIN_FONT
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), east_asian)
    style.font.size = Pt(size_pt)


def _line(pf, line_pt: float, indent_pt: float = 0, before: float = 0, after: float = 0) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(line_pt)
    pf.first_line_indent = Pt(indent_pt)
    pf.space_before, pf.space_after = Pt(before), Pt(after)


def _styles(doc):
    """Normal = body (仿宋 三号, 28 pt lines, two-character indent, justified); 报告表格 = table text."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    normal = doc.styles["Normal"]
    _style_fonts(normal, BODY_FONT, BODY_PT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    _line(normal.paragraph_format, LINE_PT, BODY_PT * 2)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    table = doc.styles.add_style("报告表格", WD_STYLE_TYPE.PARAGRAPH)
    table.base_style = normal
    _style_fonts(table, BODY_FONT, TABLE_PT)
    _line(table.paragraph_format, TABLE_LINE_PT)
    table.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return table


def _para(doc, align=None, indent: bool = True, line_pt: float = LINE_PT, before: float = 0, after: float = 0):
    p = doc.add_paragraph()
    if not indent or line_pt != LINE_PT or before or after:
        _line(p.paragraph_format, line_pt, BODY_PT * 2 if indent else 0, before, after)
    if align is not None:
        p.alignment = align
    return p


def _page_number_footer(section) -> None:
    """"— 1 —" centred at the foot of every page (a PAGE field)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(p.paragraph_format, NOTE_PT + 4)
    _run(p, "— ", "宋体", NOTE_PT)
    run = _run(p, "", "宋体", NOTE_PT)
    ns = f'xmlns:w="{_W}"'
    for xml in (f'<w:fldChar {ns} w:fldCharType="begin"/>',
                f'<w:instrText {ns} xml:space="preserve"> PAGE </w:instrText>',
                f'<w:fldChar {ns} w:fldCharType="separate"/>', f"<w:t {ns}>1</w:t>",
                f'<w:fldChar {ns} w:fldCharType="end"/>'):
        run._r.append(parse_xml(xml))
    _run(p, " —", "宋体", NOTE_PT)


_NUMERIC = re.compile(r"[\d./—%-]+|第\d+项|未填写")


def _table(doc, block: Block, style) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.shared import Cm

    rows = block.rows
    style_id = style.style_id
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    if block.widths:
        for c, w in enumerate(block.widths):
            t.columns[c].width = Cm(w)
    for r, (row, values) in enumerate(zip(t.rows, rows)):
        if r == 0:  # the header row repeats on every page
            row._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader xmlns:w="{_W}" w:val="true"/>'))
        for c, (cell, v) in enumerate(zip(row.cells, values)):
            if block.widths:
                cell.width = Cm(block.widths[c])
            p = cell.paragraphs[0]
            p._p.style = style_id  # (assigning the style object looks it up among 260 styles each time)
            if r > 0 and not _NUMERIC.fullmatch(v or ""):  # text left, numbers centred
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            _run(p, v, HEADING_FONT if r == 0 else BODY_FONT, TABLE_PT)


def _font_table_alt(doc) -> None:
    """Name 宋体 as the substitute of 方正小标宋简体 in word/fontTable.xml (where it is not installed)."""
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/word/fontTable.xml" and hasattr(part, "_blob"):
            xml = part._blob.decode("utf-8")
            if f'w:name="{TITLE_FONT}"' in xml:
                return
            entry = (f'<w:font w:name="{TITLE_FONT}"><w:altName w:val="{TITLE_FALLBACK}"/>'
                     f'<w:charset w:val="86"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
                     f'<w:font w:name="{BODY_FONT}"><w:charset w:val="86"/><w:family w:val="modern"/>'
                     f'<w:pitch w:val="fixed"/></w:font>')
            part._blob = xml.replace("</w:fonts>", entry + "</w:fonts>").encode("utf-8")
            return


def _repack(data: bytes) -> bytes:
    """python-docx's package with every member re-packed by the project's one zip writer (fixed times)."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        return zip_bytes([(info.filename, src.read(info)) for info in src.infolist()])


def _lines_run(p, lines: list[str], font: str, size_pt: float) -> None:
    """`lines` in one run, separated by explicit line breaks (w:br)."""
    run = _run(p, lines[0], font, size_pt)
    for line in lines[1:]:
        run.add_break()
        run.add_text(_NOT_XML.sub("", line))


def build_docx(blocks: list[Block], title: str, subject: str, stamp: dt.datetime, keywords: str) -> bytes:
    """The blocks laid out as a .docx (the same blocks give the same bytes)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.shared import Cm, Pt

    doc = docx.Document()
    sec = doc.sections[0]  # A4 with the GB/T 9704 margins
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
    sec.footer_distance = Cm(2.5)
    table_style = _styles(doc)
    _page_number_footer(sec)
    _font_table_alt(doc)

    first_signature = True
    for i, b in enumerate(blocks):
        if b.kind == "title":
            p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, indent=False, line_pt=35)
            p.paragraph_format.keep_together = True
            _lines_run(p, b.lines or [b.text], TITLE_FONT, TITLE_PT)
        elif b.kind == "subtitle":
            p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, indent=False)
            _run(p, b.text, SUBHEADING_FONT, BODY_PT)
        elif b.kind == "note":
            p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, indent=False, line_pt=22, after=LINE_PT)
            _lines_run(p, b.lines or [b.text], SUBHEADING_FONT, NOTE_PT)
        elif b.kind == "salutation":
            p = _para(doc, WD_ALIGN_PARAGRAPH.LEFT, indent=False)
            _run(p, b.text, BODY_FONT, BODY_PT)
        elif b.kind in ("heading", "subheading"):
            p = _para(doc, WD_ALIGN_PARAGRAPH.LEFT)
            p.paragraph_format.keep_with_next = True
            _run(p, b.text, HEADING_FONT if b.kind == "heading" else SUBHEADING_FONT, BODY_PT)
        elif b.kind == "para":
            p = _para(doc)
            if i + 1 < len(blocks) and blocks[i + 1].kind == "table":
                p.paragraph_format.keep_with_next = True  # a table's lead-in stays with it
            _run(p, b.text, BODY_FONT, BODY_PT)
        elif b.kind == "table":
            _table(doc, b, table_style)
            _para(doc, indent=False, line_pt=12)  # a little air under the table
        elif b.kind == "signature":
            p = _para(doc, WD_ALIGN_PARAGRAPH.RIGHT, indent=False, before=LINE_PT * 2 if first_signature else 0)
            p.paragraph_format.right_indent = Pt(BODY_PT * 2)
            first_signature = False
            _run(p, b.text, BODY_FONT, BODY_PT)
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")

    # fixed metadata; no thumbnail (python-docx's template carries one of its own)
    cp = doc.core_properties
    cp.title, cp.subject, cp.keywords = title, subject, keywords
    cp.author = cp.last_modified_by = "xlsx-tool"
    cp.comments = "由 xlsx-tool 根据评分汇总表生成的初稿"
    cp.category = ""
    cp.created = cp.modified = cp.last_printed = stamp
    cp.revision = 1
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del pkg.rels[rid]
    buf = io.BytesIO()
    doc.save(buf)
    return _repack(buf.getvalue())
