"""Variants of a real returned form, each written the way some valid (or nearly valid) OOXML writer could.

The corpus starts from a form built by the generator with some deductions filled in (`base_form`) and
rewrites its parts with lxml: the parts are parsed and changed as trees, and every unusual construct
(an XML comment holding a cell, CDATA, character references, prefixes, Strict namespaces, inline
strings, shared formulas, rich text, a cell written twice, rows out of order, 1904 dates, error
values, cells without positions, deductions typed as text) is built as a node, never by editing
text (one cell that declares a prefix again is written from a template: lxml drops that declaration).  The differential tests convert every variant with LibreOffice and require the tool's reader
to see the same value in every input cell as LibreOffice shows.

`VARIANTS` is the corpus; `build_variant(plan, variant)` gives its bytes; `INPUT_REFS` the cells
that people type into (核查时间, and each item's 特色亮点 / 扣分情况 / 扣分).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from returns import build_form, entries

from xlsx_tool.forms import layout as L

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TYPES = REL + "/"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
# ISO/IEC 29500 Strict: the transitional namespaces and the ones that replace them
STRICT_NAMESPACES = {
    MAIN: STRICT_MAIN,
    REL: STRICT_REL,
    "http://schemas.openxmlformats.org/drawingml/2006/main": "http://purl.oclc.org/ooxml/drawingml/main",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties":
        "http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes":
        "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
}

SHEET = "xl/worksheets/sheet1.xml"  # the form sheet (评分细则), as the generator writes it
SST = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"

UNIT = "州纪委监察局"  # 第一核查组: 核查时间 2017-10-23 to 2017-10-24
DATE = dt.date(2017, 10, 23)
BASE_ITEMS = {
    "i1": (2, "原因一", "亮点一"),
    "i4": (2, "原因四"),
    "i10": (2, "原因十", "亮点十"),
}

N_ITEMS = 15
ITEM_ROWS = [L.item_row(i) + 1 for i in range(N_ITEMS)]  # Excel rows 4..18
DATE_REF = L.a1(*L.DATE_CELL)  # F2
COLS = {"highlight": "D", "reason": "E", "deduction": "F"}
INPUT_REFS = [DATE_REF] + [f"{col}{row}" for row in ITEM_ROWS for col in COLS.values()]


def q(tag: str, ns: str = MAIN) -> str:
    return f"{{{ns}}}{tag}"


def ref_key(ref: str) -> tuple[int, int]:
    """"F4" -> (3, 5), the reader's 0-based (row, col)."""
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):]) - 1, L.col_index(letters)


def base_form(plan) -> bytes:
    """A real form for UNIT, dated DATE, with BASE_ITEMS filled in (cached values correct)."""
    return build_form(plan, UNIT, entries(date=DATE, **BASE_ITEMS))


# --------------------------------------------------------------------------- the parts of one workbook


class Parts:
    """A workbook's zip members; XML parts parsed on demand (lxml trees), written back by `to_bytes`."""

    def __init__(self, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.order = [i.filename for i in z.infolist()]
            self.raw = {n: z.read(n) for n in self.order}
        self.trees: dict[str, etree._Element] = {}
        self.verbatim: dict[str, bytes] = {}  # placeholder comment -> the XML written in its place

    def verbatim_node(self, xml: str) -> etree._Element:
        """A node that is written as `xml`, exactly: for the few constructs lxml normalises when a node
        is inserted (a prefix declared again on one element)."""
        mark = f"verbatim-{len(self.verbatim)}"
        self.verbatim[f"<!--{mark}-->"] = xml.encode("utf-8")
        return etree.Comment(mark)

    def xml(self, name: str) -> etree._Element:
        if name not in self.trees:
            self.trees[name] = etree.fromstring(self.raw[name], etree.XMLParser(resolve_entities=False))
        return self.trees[name]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name in self.order:
                body = self.raw[name]
                if name in self.trees:
                    body = etree.tostring(self.trees[name], xml_declaration=True, encoding="UTF-8", standalone=True)
                    for mark, xml in self.verbatim.items():
                        body = body.replace(mark.encode(), xml)
                z.writestr(name, body)
        return buf.getvalue()

    # ---- the form sheet

    @property
    def sheet(self) -> etree._Element:
        return self.xml(SHEET)

    def sheet_data(self) -> etree._Element:
        return self.sheet.find(q("sheetData"))

    def row(self, r: int) -> etree._Element:
        found = self.sheet_data().find(f"{q('row')}[@r='{r}']")
        assert found is not None, f"row {r} not in the sheet"
        return found

    def cell(self, ref: str) -> etree._Element:
        row = self.row(ref_key(ref)[0] + 1)
        found = row.find(f"{q('c')}[@r='{ref}']")
        assert found is not None, f"cell {ref} not in the sheet"
        return found

    def put(self, ref: str, new: etree._Element) -> etree._Element:
        """Replace cell `ref` by `new`, keeping the old cell's style (number format, borders)."""
        old = self.cell(ref)
        if "s" in old.attrib and "s" not in new.attrib:
            new.set("s", old.get("s"))
        old.getparent().replace(old, new)
        return new

    # ---- shared strings

    def add_string(self, si: etree._Element | str) -> int:
        """Append a shared string (an <si> element, or a plain text) and return its index."""
        if isinstance(si, str):
            text, si = si, etree.Element(q("si"))
            text_el(si, text)
        sst = self.xml(SST)
        sst.append(si)
        n = len(sst.findall(q("si")))
        sst.set("uniqueCount", str(n))
        sst.set("count", str(int(sst.get("count", "0")) + 1))
        return n - 1

    def shared(self, ref: str, si: etree._Element | str) -> None:
        """Cell `ref` holds a shared string (text, or an <si> built by the caller), as Excel writes typed text."""
        self.put(ref, cell(ref, "s", str(self.add_string(si))))

    def inline(self, ref: str) -> etree._Element:
        """Cell `ref` becomes an inline string; returns its empty <is> to fill."""
        return etree.SubElement(self.put(ref, cell(ref, "inlineStr")), q("is"))

    def number(self, ref: str, value) -> None:
        self.put(ref, cell(ref, None, str(value)))


def cell(ref: str | None, t: str | None = None, v: str | None = None) -> etree._Element:
    """<c r=ref t=t><v>v</v></c>."""
    c = etree.Element(q("c"))
    if ref is not None:
        c.set("r", ref)
    if t is not None:
        c.set("t", t)
    if v is not None:
        etree.SubElement(c, q("v")).text = v
    return c


def text_el(parent: etree._Element, *pieces, tag: str = "t", preserve: bool = False) -> etree._Element:
    """A <t> (or `tag`) child holding `pieces` in order: texts, CDATA sections, entity references, comments."""
    el = etree.SubElement(parent, q(tag))
    if preserve:
        el.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    last = None
    for piece in pieces:
        if isinstance(piece, (str, etree.CDATA)) and last is None:
            el.text = piece
        elif isinstance(piece, str):
            last.tail = piece
        else:
            el.append(piece)
            last = piece
    return el


def rich(*runs: tuple[str, bool], phonetic: str | None = None, tag: str = "si") -> etree._Element:
    """An <si> of runs (text, bold?), with a phonetic run over the first two characters when given."""
    si = etree.Element(q(tag))
    for text, bold in runs:
        run = etree.SubElement(si, q("r"))
        if bold:
            etree.SubElement(etree.SubElement(run, q("rPr")), q("b"))
        text_el(run, text, preserve=text != text.strip())
    if phonetic:
        text_el(etree.SubElement(si, q("rPh"), sb="0", eb="2"), phonetic)
    return si


def rebuilt(el: etree._Element, namespaces: dict[str, str], nsmap: dict | None = None) -> etree._Element:
    """A copy of the tree `el` with the namespaces of its tags and attributes mapped by `namespaces`;
    the root declares `nsmap` (default: its own declarations, mapped), the rest reuse them."""

    def name(n: str) -> str:
        if not n.startswith("{"):
            return n
        uri, local = n[1:].split("}", 1)
        return f"{{{namespaces.get(uri, uri)}}}{local}"

    def copy_into(parent: etree._Element, src: etree._Element) -> None:
        for child in src:
            if isinstance(child.tag, str):
                new = etree.SubElement(parent, name(child.tag), {name(k): v for k, v in child.attrib.items()})
                new.text = child.text
                copy_into(new, child)
            else:  # a comment: as it is
                new = etree.Comment(child.text)
                parent.append(new)
            new.tail = child.tail

    if nsmap is None:
        nsmap = {p: namespaces.get(u, u) for p, u in el.nsmap.items()}
    root = etree.Element(name(el.tag), {name(k): v for k, v in el.attrib.items()}, nsmap=nsmap)
    root.text = el.text
    copy_into(root, el)
    return root


# --------------------------------------------------------------------------- the variants


@dataclass(frozen=True)
class Variant:
    name: str  # ASCII: a file stem
    what: str  # what the variant does, for the report
    change: Callable[[Parts], None]


def _base(p: Parts) -> None:
    """Nothing changed: the form as the generator wrote it (the control)."""


def _reason_and_two(p: Parts) -> None:
    """Item 6 (row 9) deducts 2, with a reason: what most variants then write in their own way."""
    p.shared("E9", "原因六")
    p.number("F9", 2)


def _comment_cell(p: Parts) -> None:
    # F8 (item 5) stays blank; a comment right after it holds a cell that says 8
    p.cell("F8").addnext(etree.Comment(' <c r="F8"><v>8</v></c> '))


def _comment_sst(p: Parts) -> None:
    # a comment before the first <si> that looks like one: a reader that counts it shifts every string
    p.xml(SST).insert(0, etree.Comment(" <si><t>9</t></si> "))
    _reason_and_two(p)


def _comment_in_text(p: Parts) -> None:
    # comments inside a shared string's <t>, an inline string's <t> and a number's <v>
    si = etree.Element(q("si"))
    text_el(si, "原因", etree.Comment("备注"), "六")
    p.shared("E9", si)
    text_el(p.inline("D9"), "亮点", etree.Comment("备注"), "六")
    text_el(p.put("F9", cell("F9")), "2", etree.Comment("备注"), tag="v")


def _cdata_value(p: Parts) -> None:
    text_el(p.put("F9", cell("F9")), etree.CDATA("2"), tag="v")
    p.shared("E9", "原因六")


def _cdata_strings(p: Parts) -> None:
    si = etree.Element(q("si"))
    text_el(si, etree.CDATA("原因<六>&说明"))
    p.shared("E9", si)
    p.number("F9", 2)
    si = etree.Element(q("si"))
    text_el(si, etree.CDATA("1.5"))  # a deduction typed as text, in CDATA
    p.shared("F11", si)
    p.shared("E11", "原因八")


def _char_refs(p: Parts) -> None:
    text_el(p.put("F9", cell("F9")), etree.Entity("#50"), tag="v")  # <v>&#50;</v>: 2
    si = etree.Element(q("si"))
    text_el(si, "原因", etree.Entity("#x516D"), "&说明<六>")  # 六, then &amp;说明&lt;六&gt;
    p.shared("E9", si)
    text_el(p.inline("D9"), etree.Entity("#20142"), etree.Entity("#28857"))  # 亮点


def _prefix_all(p: Parts) -> None:
    _reason_and_two(p)
    for part in (SHEET, SST):
        p.trees[part] = rebuilt(p.xml(part), {}, {"x": MAIN, "r": REL})


def _prefix_one_cell(p: Parts) -> None:
    # one cell declares its own prefix for the main namespace (lxml would drop the declaration as
    # redundant on insertion, so the cell is written verbatim from this template)
    old = p.cell("F9")
    old.addprevious(p.verbatim_node(f'<y:c xmlns:y="{MAIN}" r="F9" s="{old.get("s")}"><y:v>2</y:v></y:c>'))
    old.getparent().remove(old)
    p.shared("E9", "原因六")


def _strict(p: Parts) -> None:
    _reason_and_two(p)
    for name in p.order:
        if not name.endswith((".xml", ".rels")):
            continue
        root = rebuilt(p.xml(name), STRICT_NAMESPACES)
        for rel in root.iter("{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"):
            kind = rel.get("Type")
            if kind.startswith(REL_TYPES):
                rel.set("Type", STRICT_REL + "/" + kind[len(REL_TYPES):])
        if name == WORKBOOK:
            root.set("conformance", "strict")
        p.trees[name] = root


def _inline_strings(p: Parts) -> None:
    body = p.inline("E9")
    for run in rich(("原因", False), ("六", True), phonetic="げんいん"):
        body.append(run)
    text_el(p.inline("F9"), "2")  # a deduction typed as text
    text_el(p.inline("D9"), " 亮点六 ", preserve=True)


def _shared_formula(p: Parts) -> None:
    # F9 = C9-3 (5-3 = 2), shared down to F10 (C10-3 = 2), as Excel writes a filled-down formula
    c = p.put("F9", cell("F9"))
    etree.SubElement(c, q("f"), t="shared", ref="F9:F10", si="0").text = "C9-3"
    etree.SubElement(c, q("v")).text = "2"
    c = p.put("F10", cell("F10"))
    etree.SubElement(c, q("f"), t="shared", si="0")
    etree.SubElement(c, q("v")).text = "2"
    p.shared("E9", "原因六")
    p.shared("E10", "原因七")


def _rich_strings(p: Parts) -> None:
    si = rich(("原因", True), (" 一（补充）", False), phonetic="ゲンイン")
    etree.SubElement(si, q("phoneticPr"), fontId="1")
    p.shared("E4", si)


def _duplicate_cell(p: Parts) -> None:
    # F10 written twice in its row: 1, then 2
    first = p.put("F10", cell("F10", None, "1"))
    second = cell("F10", None, "2")
    second.set("s", first.get("s"))
    first.addnext(second)
    p.shared("E10", "原因七")


def _rows_out_of_order(p: Parts) -> None:
    _reason_and_two(p)
    data = p.sheet_data()
    rows = list(data)
    for row in rows:
        data.remove(row)
        if row.get("r") in {str(r) for r in ITEM_ROWS}:  # the items' cells from G back to A
            cells = list(row)
            for c in cells:
                row.remove(c)
            row.extend(reversed(cells))
    data.extend(reversed(rows))


def _date1904(p: Parts) -> None:
    p.xml(WORKBOOK).find(q("workbookPr")).set("date1904", "1")
    p.number(DATE_REF, (DATE - dt.date(1904, 1, 1)).days)  # the same day, counted from 1904-01-01


def _iso_date(p: Parts) -> None:
    # 核查时间 as an ISO 8601 date cell (t="d"), as some programs other than Excel write dates
    p.put(DATE_REF, cell(DATE_REF, "d", DATE.isoformat() + "T00:00:00"))


def _pretty_printed(p: Parts) -> None:
    _reason_and_two(p)
    etree.indent(p.sheet, space="  ")  # line breaks and indentation between elements, never inside a value
    etree.indent(p.xml(SST), space="  ")


def _errors(p: Parts) -> None:
    p.put("F9", cell("F9", "e", "#DIV/0!"))
    p.put("E9", cell("E9", "e", "#N/A"))
    c = p.put("F10", cell("F10", "e"))
    etree.SubElement(c, q("f")).text = "1/0"
    etree.SubElement(c, q("v")).text = "#DIV/0!"


def _no_positions(p: Parts) -> None:
    # items 1 to 9 (rows 4-12): cells without r, in column order from A; row 9 without r too
    _reason_and_two(p)
    for r in ITEM_ROWS[:9]:
        row = p.row(r)
        for c in row:
            del c.attrib["r"]
        if r == 9:
            del row.attrib["r"]


def _text_deductions(p: Parts) -> None:
    for ref, text in (("F9", "２"), ("E9", "原因六"), ("F11", "1.5分"), ("E11", "原因八"),
                      ("F12", "１．５"), ("E12", "原因九")):  # full-width digits, a full-width full stop
        p.shared(ref, text)


def _no_workbook_part(p: Parts) -> None:
    p.order.remove(WORKBOOK)


def _workbook_not_xml(p: Parts) -> None:
    p.raw[WORKBOOK] = "这不是 XML".encode("utf-8")


def _no_content_types(p: Parts) -> None:
    p.order.remove("[Content_Types].xml")


def _no_package_rels(p: Parts) -> None:
    p.order.remove("_rels/.rels")  # nothing says where the workbook is


VARIANTS: list[Variant] = [
    Variant("base", "生成器原样（对照）", _base),
    Variant("comment_cell", "F8 空，其后 XML 注释中有 <c r=\"F8\"><v>8</v></c>", _comment_cell),
    Variant("comment_sst", "共享字符串开头有一段像 <si> 的注释；F9=2", _comment_sst),
    Variant("comment_in_text", "注释在 E9 共享字符串 <t>、D9 内联 <t>、F9 <v> 之内（原因<!---->六、2<!---->）", _comment_in_text),
    Variant("cdata_value", "F9 为 <v><![CDATA[2]]></v>", _cdata_value),
    Variant("cdata_strings", "E9 共享字符串 CDATA“原因<六>&说明”；F11 文字 CDATA“1.5”", _cdata_strings),
    Variant("char_refs", "F9 为 <v>&#50;</v>；E9 含 &#x516D; &amp; &lt;；D9 内联 &#20142;&#28857;", _char_refs),
    Variant("prefix_all", "表和共享字符串都写作 x: 前缀（xmlns:x）；F9=2", _prefix_all),
    Variant("prefix_one_cell", "F9 为 <y:c xmlns:y=…><y:v>2</y:v></y:c>", _prefix_one_cell),
    Variant("strict", "Strict OOXML 命名空间（purl.oclc.org）；F9=2", _strict),
    Variant("inline_strings", "E9 内联富文本（含注音），F9 内联文字“2”，D9 内联“ 亮点六 ”", _inline_strings),
    Variant("shared_formula", "F9 共享公式 C9-3，F10 同一共享公式（<f t=\"shared\" si=\"0\"/>）", _shared_formula),
    Variant("rich_strings", "E4 为富文本共享字符串（两段、注音、phoneticPr）", _rich_strings),
    Variant("duplicate_cell", "F10 在同一行中出现两次：1，然后 2", _duplicate_cell),
    Variant("rows_out_of_order", "行倒序，各项行中单元格倒序；F9=2", _rows_out_of_order),
    Variant("date1904", "workbookPr date1904=\"1\"，核查时间按 1904 日期系统存为 41569", _date1904),
    Variant("iso_date", "核查时间为 ISO 日期单元格（t=\"d\"，2017-10-23T00:00:00）", _iso_date),
    Variant("pretty_printed", "表和共享字符串按层缩进换行（元素之间有空白）；F9=2", _pretty_printed),
    Variant("errors", "F9 错误值 #DIV/0!（t=\"e\"），E9 #N/A，F10 公式 1/0", _errors),
    Variant("no_positions", "第4-12行单元格不带 r，第9行也不带 r；F9=2", _no_positions),
    Variant("text_deductions", "F9 文字“２”，F11 文字“1.5分”，F12 文字“１．５”", _text_deductions),
    # parts LibreOffice (and Excel) cannot open a workbook without
    Variant("no_workbook_part", "缺少 xl/workbook.xml（LibreOffice 打不开）", _no_workbook_part),
    Variant("workbook_not_xml", "xl/workbook.xml 不是 XML（LibreOffice 打不开）", _workbook_not_xml),
    Variant("no_content_types", "缺少 [Content_Types].xml（LibreOffice 打不开）", _no_content_types),
    Variant("no_package_rels", "缺少 _rels/.rels（LibreOffice 打不开）", _no_package_rels),
]


def build_variant(plan, variant: Variant) -> bytes:
    parts = Parts(base_form(plan))
    variant.change(parts)
    return parts.to_bytes()
