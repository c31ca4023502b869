"""Read a returned workbook into plain cells, safely and fast.

.xlsx/.xlsm are read by a small parser of their own (zipfile + expat): it sees
formulas (to notice a 得分 overwritten by a number), refuses DTDs (no entity
expansion, nothing fetched) and checks sizes before inflating anything.  .xls
and .ods go through python-calamine, which gives values but not formulas.

Errors are `BookError(code, why)`: the caller turns them into findings.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MB  # a real form is 10-30 KB
    max_unzipped_bytes: int = 50 * MB
    max_cells: int = 200_000


class BookError(Exception):
    def __init__(self, code: str, why: str = "", todo: str = ""):
        self.code, self.why, self.todo = code, why, todo
        super().__init__(f"{code}: {why}")


@dataclass(frozen=True)
class CellError:
    """An error value such as #DIV/0! or #REF!."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Sheet:
    name: str
    visible: bool
    cells: dict[tuple[int, int], object] = field(default_factory=dict)  # (row, col) 0-based
    formulas: dict[tuple[int, int], str] | None = None  # None: the format does not tell

    def get(self, row: int, col: int):
        return self.cells.get((row, col))


@dataclass
class Book:
    kind: str  # "xlsx", "xls", "ods"
    sheet_names: list[str]
    date1904: bool = False
    has_macros: bool = False
    _loader: object = None
    _cache: dict = field(default_factory=dict)

    def sheet(self, name: str) -> Sheet:
        if name not in self._cache:
            self._cache[name] = self._loader(name)
        return self._cache[name]


SAVE_AS_XLSX = "请对方用 WPS 或 Excel 打开后“另存为”Excel 工作簿（*.xlsx）再发来"


def sniff(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return "other"


def open_book(data: bytes, suffix: str, limits: Limits = Limits()) -> Book:
    """Open workbook bytes; `suffix` is the file's extension, used only to pick among readers."""
    if len(data) == 0:
        raise BookError("file-unreadable", "文件是空的（0 字节）", "请对方重新发送")
    if len(data) > limits.max_file_bytes:
        raise BookError("file-too-large", f"文件 {len(data) / MB:.1f} MB，超过 {limits.max_file_bytes / MB:.0f} MB")
    kind = sniff(data[:8])
    if kind == "ole":
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            raise BookError("file-encrypted")
        return _open_calamine(data, "xls")
    if kind != "zip":
        if data[:5] == b"<?xml" or data.lstrip()[:1] == b"<":
            raise BookError("file-unsupported", "是网页或 XML 文本，不是 Excel 工作簿", SAVE_AS_XLSX)
        raise BookError("file-unsupported", "不是 Excel 工作簿（内容不是 xlsx/xls/ods 格式）", SAVE_AS_XLSX)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as e:
        raise BookError("file-unreadable", f"文件已损坏或不完整（{e}）", "请对方重新保存后再发送") from None
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes or len(infos) > 10_000:
        raise BookError("file-too-large", f"解压后 {total / MB:.0f} MB，超过 {limits.max_unzipped_bytes / MB:.0f} MB（疑似压缩炸弹）")
    names = {i.filename for i in infos}
    if "mimetype" in names and zf.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return _open_calamine(data, "ods")
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        if "word/document.xml" in names:
            raise BookError("file-unsupported", "这是 Word 文档，不是 Excel 工作簿", "请对方发送评分表的 .xlsx 文件")
        if "mimetype" in names:
            raise BookError("file-unsupported", "这是其他 OpenDocument 文档，不是表格", "请对方发送评分表的 .xlsx 文件")
        raise BookError("file-unsupported", "压缩文件中没有 Excel 工作簿", SAVE_AS_XLSX)
    return _XlsxBook(zf, names, limits).book()


# --------------------------------------------------------------------------- xlsx


def _parser(start, end=None, chars=None):
    """An expat parser that refuses any DTD: xlsx never has one; a DTD can only be an attack."""
    import xml.parsers.expat as expat

    p = expat.ParserCreate()
    p.buffer_text = True

    def no_dtd(*_a):
        raise BookError("file-unreadable", "文件内含 XML 实体声明（DTD），可能是恶意文件", "请对方重新保存为 .xlsx 后再发送")

    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    p.ExternalEntityRefHandler = lambda *a: 0  # fetch nothing
    p.StartElementHandler = start
    if end:
        p.EndElementHandler = end
    if chars:
        p.CharacterDataHandler = chars
    return p


def _local(tag: str) -> str:
    return tag.rsplit(":", 1)[-1]


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def split_ref(ref: str) -> tuple[int, int]:
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    return int(ref[i:]) - 1, col_index(ref[:i].upper())


class _XlsxBook:
    def __init__(self, zf: zipfile.ZipFile, names: set[str], limits: Limits):
        self.zf, self.names, self.limits = zf, names, limits
        self._strings: list[str] | None = None

    def read(self, name: str) -> bytes:
        try:
            return self.zf.read(name)
        except KeyError:
            raise BookError("file-unreadable", f"缺少文件部件 {name}", SAVE_AS_XLSX) from None
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            raise BookError("file-unreadable", f"文件已损坏（{name}：{e}）", "请对方重新保存后再发送") from None

    def parse(self, data: bytes, start, end=None, chars=None, what=""):
        import xml.parsers.expat as expat

        p = _parser(start, end, chars)
        try:
            p.Parse(data, True)
        except expat.ExpatError as e:
            raise BookError("file-unreadable", f"{what or '文件'}内容格式错误（{e}）", "请对方重新保存后再发送") from None

    def book(self) -> Book:
        wb_path = "xl/workbook.xml" if "xl/workbook.xml" in self.names else next(n for n in self.names if n.endswith("workbook.xml"))
        base = posixpath.dirname(wb_path)
        rels: dict[str, str] = {}
        rels_path = posixpath.join(base, "_rels", posixpath.basename(wb_path) + ".rels")
        if rels_path in self.names:
            def rel(tag, a):
                if _local(tag) == "Relationship":
                    target = a.get("Target", "")
                    rels[a.get("Id", "")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            self.parse(self.read(rels_path), rel, what="工作簿关系")
        sheets: list[tuple[str, str, bool]] = []
        flags = {"date1904": False}

        def wb(tag, a):
            t = _local(tag)
            if t == "sheet":
                rid = next((v for k, v in a.items() if _local(k) == "id"), "")
                sheets.append((a.get("name", ""), rels.get(rid, ""), a.get("state", "visible") == "visible"))
            elif t == "workbookPr":
                flags["date1904"] = a.get("date1904", "0") in ("1", "true")

        self.parse(self.read(wb_path), wb, what="工作簿")
        self.paths = {name: (path, vis) for name, path, vis in sheets}
        self.cells_left = self.limits.max_cells
        return Book(
            kind="xlsx",
            sheet_names=[s[0] for s in sheets],
            date1904=flags["date1904"],
            has_macros=any(n.endswith("vbaProject.bin") for n in self.names),
            _loader=self.sheet,
        )

    def strings(self) -> list[str]:
        if self._strings is None:
            out: list[str] = []
            path = next((n for n in ("xl/sharedStrings.xml", "xl/SharedStrings.xml") if n in self.names), None)
            if path:
                state = {"in_t": False, "skip": 0, "buf": []}

                def start(tag, a):
                    t = _local(tag)
                    if t == "si":
                        state["buf"] = []
                    elif t in ("rPh", "phoneticPr"):
                        state["skip"] += 1
                    elif t == "t" and not state["skip"]:
                        state["in_t"] = True

                def end(tag):
                    t = _local(tag)
                    if t == "si":
                        out.append("".join(state["buf"]))
                    elif t in ("rPh", "phoneticPr"):
                        state["skip"] -= 1
                    elif t == "t":
                        state["in_t"] = False

                def chars(s):
                    if state["in_t"]:
                        state["buf"].append(s)

                self.parse(self.read(path), start, end, chars, what="共享字符串")
            self._strings = out
        return self._strings

    def sheet(self, name: str) -> Sheet:
        path, visible = self.paths[name]
        sheet = Sheet(name, visible, {}, {})
        cells, formulas = sheet.cells, sheet.formulas
        strings = self.strings()
        st = {"ref": None, "t": "n", "field": None, "v": [], "f": None, "has_f": False}
        limits = self

        def start(tag, a):
            t = _local(tag)
            if t == "c":
                st["ref"], st["t"], st["v"], st["has_f"], st["f"] = a.get("r"), a.get("t", "n"), [], False, None
                limits.cells_left -= 1
                if limits.cells_left < 0:
                    raise BookError("file-too-large", f"单元格超过 {limits.limits.max_cells} 个")
            elif t in ("v", "t") and st["ref"] is not None:
                st["field"] = "v"
            elif t == "f" and st["ref"] is not None:
                st["has_f"], st["field"], st["f"] = True, "f", []

        def chars(s):
            if st["field"] == "v":
                st["v"].append(s)
            elif st["field"] == "f":
                st["f"].append(s)

        def end(tag):
            t = _local(tag)
            if t in ("v", "t", "f"):
                st["field"] = None
            elif t == "c":
                ref = st["ref"]
                if ref:
                    key = split_ref(ref)
                    text = "".join(st["v"])
                    val = _value(st["t"], text, strings)
                    if val is not None:
                        cells[key] = val
                    if st["has_f"]:
                        formulas[key] = "".join(st["f"] or [])
                st["ref"] = None

        self.parse(self.read(path), start, end, chars, what=f"工作表“{name}”")
        return sheet


def _value(t: str, text: str, strings: list[str]):
    if t == "s":
        try:
            return strings[int(text)]
        except (ValueError, IndexError):
            return None
    if t in ("str", "inlineStr"):
        return text
    if text == "":
        return None
    if t == "b":
        return text.strip() in ("1", "true")
    if t == "e":
        return CellError(text)
    if t == "d":
        try:
            return dt.datetime.fromisoformat(text.strip())
        except ValueError:
            return text
    try:
        f = float(text)
    except ValueError:
        return text
    return f


# --------------------------------------------------------------------------- xls, ods


def _open_calamine(data: bytes, kind: str) -> Book:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        meta = wb.sheets_metadata
    except pc.PasswordError:
        raise BookError("file-encrypted") from None
    except Exception as e:  # calamine raises several types for a bad file
        raise BookError("file-unreadable", f"无法读取的 {kind} 文件（{str(e)[:80]}）", SAVE_AS_XLSX) from None

    def load(name: str) -> Sheet:
        m = next(x for x in meta if x.name == name)
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as e:
            raise BookError("file-unreadable", f"工作表“{name}”无法读取（{str(e)[:80]}）", SAVE_AS_XLSX) from None
        cells = {}
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v != "" and v is not None:
                    cells[(r, c)] = _calamine_value(v)
        return Sheet(name, str(m.visible).endswith("Visible"), cells, None)

    return Book(kind=kind, sheet_names=[m.name for m in meta], _loader=load)


_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA"}


def _calamine_value(v):
    if isinstance(v, str) and v in _ERRORS:
        return CellError(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime.combine(v, dt.time())
    return v


def read_file_bytes(path: Path, limits: Limits) -> bytes:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise BookError("file-too-large", f"文件 {size / MB:.1f} MB，超过 {limits.max_file_bytes / MB:.0f} MB")
    return path.read_bytes()
