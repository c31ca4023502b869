"""What python-calamine does not tell, read with a real XML parser (expat).

calamine gives every cell's value, but not which cells hold a formula, and an error cell
(#DIV/0!) comes back as "" like a blank one.  So, for .xlsx and .ods, one pass over the sheet's XML
finds the formulas (to notice a 得分 overwritten by a number) and the error values (a deduction
showing #VALUE! must not count as blank); for .xlsx it also reads the workbook's sheet list and
1904 date system, and for .ods it counts the cells a sheet declares, which readers expand in memory.

expat is the standard library's parser: it never fetches anything; a document type declaration
(where entities, the stuff of XML bombs, are declared) is refused, since a workbook never has one.
Names are compared by their local part, so prefixes and the Strict OOXML namespaces read alike.
"""

from __future__ import annotations

import posixpath
import xml.parsers.expat as expat
from functools import lru_cache
from typing import NamedTuple

from xlsx_tool.forms.layout import col_index

_SEP = "\x01"  # between a namespace and a local name in expat's names


class XmlProblem(Exception):
    """A part that is not well-formed XML, declares a DTD, or declares more cells than allowed."""


class _Stop(Exception):
    """Raised by a handler once it has what it needs: the rest of the part is not parsed."""


def _local(name: str) -> str:
    return name.rpartition(_SEP)[2]


def _parser() -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator=_SEP)
    p.buffer_text = True

    def refuse(*_args):
        raise XmlProblem("工作簿内含实体声明，可能是恶意构造的文件")

    p.StartDoctypeDeclHandler = refuse
    p.EntityDeclHandler = refuse
    return p


def _parse(p: expat.XMLParserType, data: bytes) -> None:
    try:
        p.Parse(data, True)
    except _Stop:
        pass
    except expat.ExpatError as e:
        raise XmlProblem(f"工作簿内部数据格式错误（第 {e.lineno} 行）") from None


def _attr(attrs: dict, local: str) -> str | None:
    """An attribute by its local name, with or without a namespace."""
    if local in attrs:
        return attrs[local]
    for k, v in attrs.items():
        if _local(k) == local:
            return v
    return None


# --------------------------------------------------------------------------- .xlsx


def main_part(rels: bytes) -> str | None:
    """The workbook part named by the package's _rels/.rels (usually xl/workbook.xml)."""
    found: list[str] = []

    def start(name, attrs):
        if _local(name) == "Relationship" and attrs.get("Type", "").endswith("/officeDocument"):
            found.append(attrs.get("Target", "").lstrip("/"))
            raise _Stop

    p = _parser()
    p.StartElementHandler = start
    _parse(p, rels)
    return found[0] if found else None


class WorkbookParts(NamedTuple):
    sheets: dict[str, str]  # sheet name -> part path in the zip
    date1904: bool
    strings: str | None  # the shared strings part, if any


def workbook_parts(workbook_path: str, workbook: bytes, rels: bytes) -> WorkbookParts:
    """Which part holds each sheet, from the workbook and its relationships."""
    ids: dict[str, str] = {}
    sheets: list[tuple[str, str]] = []
    flags: dict[str, bool] = {}
    strings: list[str] = []

    def wb_start(name, attrs):
        local = _local(name)
        if local == "sheet":
            sheets.append((attrs.get("name", ""), _attr(attrs, "id") or ""))
        elif local == "workbookPr":
            flags["1904"] = attrs.get("date1904", "").strip().lower() in ("1", "true")

    def rel_start(name, attrs):
        if _local(name) == "Relationship":
            ids[attrs.get("Id", "")] = attrs.get("Target", "")
            if attrs.get("Type", "").endswith("/sharedStrings"):
                strings.append(attrs.get("Target", ""))

    for data, handler in ((workbook, wb_start), (rels, rel_start)):
        p = _parser()
        p.StartElementHandler = handler
        _parse(p, data)
    base = posixpath.dirname(workbook_path)

    def resolve(target: str) -> str:
        return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))

    parts = {name: resolve(ids[rid]) for name, rid in sheets if ids.get(rid)}
    return WorkbookParts(parts, flags.get("1904", False), resolve(strings[0]) if strings else None)


class SheetMarks(NamedTuple):
    formulas: dict[tuple[int, int], str] | None  # (row, col) 0-based -> formula ("" for a shared formula's copy);
    # None where the format does not tell (.xls)
    errors: dict[tuple[int, int], str]  # (row, col) -> "#DIV/0!"
    extent: list[int]  # [first row, last row, first col, last col] of the cells with content; [] for none
    values: dict[tuple[int, int], tuple[str, str]] | None = None  # (row, col) -> (type, text of <v>), .xlsx only

    def cells_spanned(self) -> int:
        """How many cells a reader lays out for this sheet: the rectangle around every cell with content."""
        if not self.extent:
            return 0
        r0, r1, c0, c1 = self.extent
        return (r1 - r0 + 1) * (c1 - c0 + 1)


def stretch(extent: list[int], row: int, col: int, rows: int = 1, cols: int = 1) -> None:
    if not extent:
        extent.extend((row, row + rows - 1, col, col + cols - 1))
    else:
        extent[0], extent[1] = min(extent[0], row), max(extent[1], row + rows - 1)
        extent[2], extent[3] = min(extent[2], col), max(extent[3], col + cols - 1)


# SpreadsheetML's element names as expat gives them (namespace, separator, local name), in the usual
# namespace and in Strict OOXML's: compared whole, a set lookup per element instead of splitting every name
# (the sheet pass is most of the time spent on a return).
_SHEET_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")


def _names(local: str) -> frozenset[str]:
    return frozenset(f"{ns}{_SEP}{local}" for ns in _SHEET_NS)


_C, _ROW, _F, _V, _IS = map(_names, ("c", "row", "f", "v", "is"))
_CONTENT = _F | _V | _IS


@lru_cache(maxsize=8192)  # forms name the same few hundred cells in every return
def _ref(ref: str) -> tuple[int, int] | None:
    """"F4" -> (3, 5); None for anything else."""
    i = 0
    while i < len(ref) and ref[i].isascii() and ref[i].isalpha():
        i += 1
    letters, digits = ref[:i].upper(), ref[i:]
    if not (1 <= len(letters) <= 3 and digits.isdigit() and digits.isascii()):
        return None
    return int(digits) - 1, col_index(letters)


def sheet_marks(data: bytes) -> SheetMarks:
    """The formula and error cells of one worksheet part, and the extent of its cells with content (a reader
    lays out that whole rectangle: one value at XFD1048576 would ask for 549 GB).  Cells without a
    position follow the one before, as the format says.

    Only the part up to the last "sheetData>" is fed to the parser: the cells are all inside <sheetData>,
    and what follows it (formatting, validations) is most of a form's bytes.  (The cut only shortens the
    input; a comment that mentions the tag after the real one merely makes it longer.)  The handlers run
    for every element, so they do as little as they can: this pass is a large part of reading a return."""
    formulas: dict[tuple[int, int], str] = {}
    errors: dict[tuple[int, int], str] = {}
    values: dict[tuple[int, int], tuple[str, str]] = {}
    filled: list[tuple[int, int]] = []  # cells with content, for the extent
    row = col = -1
    key: tuple[int, int] | None = None
    kind = "n"
    text: list[str] = []
    p = _parser()

    def start(name, attrs):
        nonlocal row, col, key, kind
        if name in _C:
            pos = _ref(attrs.get("r", "")) or (row, col + 1)
            row, col = pos
            key, kind = pos, attrs.get("t", "n")
        elif name in _CONTENT:
            if key is None:
                return
            filled.append(key)
            if name not in _IS:  # an inline string's text is calamine's to read
                text.clear()
                p.CharacterDataHandler = text.append
                p.EndElementHandler = end_text
        elif name in _ROW:
            r = attrs.get("r", "")
            row = int(r) - 1 if r.isdigit() and r.isascii() else row + 1
            col = -1

    def end_text(name):  # the end of the <f> or <v> being read
        p.CharacterDataHandler = p.EndElementHandler = None
        if name in _F:
            formulas[key] = "".join(text)
        elif kind == "e":
            errors[key] = "".join(text).strip() or "#N/A"
        else:
            values[key] = (kind, "".join(text))

    p.StartElementHandler = start
    end = data.rfind(b"sheetData>")
    try:
        p.Parse(data[:end] if end > 0 else data, end <= 0)
    except expat.ExpatError as e:
        raise XmlProblem(f"工作簿内部数据格式错误（第 {e.lineno} 行）") from None
    extent = []
    if filled:
        rows, cols = [k[0] for k in filled], [k[1] for k in filled]
        extent = [min(rows), max(rows), min(cols), max(cols)]
    return SheetMarks(formulas, errors, extent, values)


def shared_strings(data: bytes) -> list[str]:
    """The shared strings as a spreadsheet shows them: the text of each item's runs, without phonetic
    guides (rPh).  calamine reads these itself; this is for a part it misreads (CDATA sections)."""
    items: list[str] = []
    state = {"skip": 0}
    text: list[str] = []
    p = _parser()

    def collect(s):
        text.append(s)

    def start(name, _attrs):
        local = _local(name)
        if local == "si":
            text.clear()
        elif local == "rPh":
            state["skip"] += 1
        elif local == "t" and not state["skip"]:
            p.CharacterDataHandler = collect

    def end(name):
        local = _local(name)
        if local == "si":
            items.append("".join(text))
        elif local == "rPh":
            state["skip"] -= 1
        elif local == "t":
            p.CharacterDataHandler = None

    p.StartElementHandler = start
    p.EndElementHandler = end
    _parse(p, data)
    return items


# --------------------------------------------------------------------------- .ods


def ods_encrypted(manifest: bytes) -> bool:
    """Whether META-INF/manifest.xml says the content is encrypted (a password on open)."""
    found: list[bool] = []

    def start(name, _attrs):
        if _local(name) == "encryption-data":
            found.append(True)
            raise _Stop

    p = _parser()
    p.StartElementHandler = start
    _parse(p, manifest)
    return bool(found)


def ods_marks(content: bytes, max_cells: int) -> dict[str, SheetMarks]:
    """Formula and error cells of each table in an .ods content.xml, by table name.  Raises XmlProblem
    when the cells that hold something, repeats counted, exceed `max_cells`: readers expand repeated
    cells in memory, and a file of 2 KB can declare ten million.  Repeated empty cells and rows
    (LibreOffice writes them to the sheet's end) are not counted."""
    out: dict[str, SheetMarks] = {}
    state = {"row": 0, "col": 0, "rows_rep": 1, "cell": None, "depth": 0, "table": None, "filled": 0}
    text: list[str] = []
    p = _parser()
    budget = [max_cells]

    def collect(s):
        text.append(s)

    def start(name, attrs):
        local = _local(name)
        if local == "table" and state["table"] is None:
            state["table"] = _attr(attrs, "name") or ""
            state["row"], state["depth"] = 0, 0
            out[state["table"]] = SheetMarks({}, {}, [])
        elif local == "table":
            state["depth"] += 1  # a table inside a cell (rare): its rows are not the sheet's
        elif state["table"] is None or state["depth"]:
            return
        elif local == "table-row":
            state["col"] = 0
            state["rows_rep"] = int(_attr(attrs, "number-rows-repeated") or 1)
            state["filled"] = 0
        elif local in ("table-cell", "covered-table-cell"):
            reps = int(_attr(attrs, "number-columns-repeated") or 1)
            key = (state["row"], state["col"])
            marks = out[state["table"]]
            kinds = [v for k, v in attrs.items() if _local(k) == "value-type"]  # office: and calcext:
            kind = "error" if "error" in kinds else kinds[0] if kinds else None
            formula = _attr(attrs, "formula")
            if formula is not None:
                marks.formulas[key] = formula
            if kind is not None or formula is not None:
                state["filled"] += reps
                stretch(marks.extent, key[0], key[1], state["rows_rep"], reps)
            if kind == "error":
                state["cell"] = key
                text.clear()
                p.CharacterDataHandler = collect
            state["col"] += reps

    def end(name):
        local = _local(name)
        if local == "table":
            if state["depth"]:
                state["depth"] -= 1
            else:
                state["table"] = None
        elif state["table"] is None or state["depth"]:
            return
        elif local == "table-row":
            budget[0] -= state["filled"] * state["rows_rep"]
            if budget[0] < 0:
                raise XmlProblem(f"单元格超过 {max_cells} 个")
            state["row"] += state["rows_rep"]
        elif local in ("table-cell", "covered-table-cell") and state["cell"] is not None:
            out[state["table"]].errors[state["cell"]] = "".join(text).strip() or "#N/A"
            state["cell"] = None
            p.CharacterDataHandler = None

    p.StartElementHandler = start
    p.EndElementHandler = end
    _parse(p, content)
    return out
