"""Open a returned workbook and give its cells as the spreadsheet shows them.

python-calamine reads every format that comes back (.xlsx, .xlsm, .xlsb, .xls, .ods): values,
shared and inline strings, rich text, dates (1904 system included).  What it does not give, which
cells hold formulas and which show an error value, comes from one real XML pass (`xmlscan`) over
the sheet, for .xlsx and .ods; .xls and .xlsb keep that to themselves (the merge says so).

Nothing here trusts the file: sizes are checked before anything is inflated (`zips`), a sheet's
extent before its cells are laid out, and every text is made safe (`textnorm.safe_text`).
Problems are `BookError(code, why, todo)`; the caller turns them into findings.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from xlsx_tool.reading import xmlscan
from xlsx_tool.reading.limits import MB, Limits, sniff
from xlsx_tool.reading.zips import Package, ZipProblem, check_declared
from xlsx_tool.textnorm import safe_text

SAVE_AS_XLSX = "请对方用 WPS 或 Excel 打开后“另存为”Excel 工作簿（*.xlsx）再发来"
_PASSWORD = ("文件", "请对方取消打开密码，另存为 .xlsx 后重新发送")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


class BookError(Exception):
    def __init__(self, code: str, why: str = "", todo: str = ""):
        self.code, self.why, self.todo = code, why, todo
        super().__init__(f"{code}: {why}")


@dataclass(frozen=True)
class CellError:
    """An error value such as #DIV/0! or #REF!, as the cell shows it."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Sheet:
    name: str
    visible: bool
    cells: dict[tuple[int, int], object] = field(default_factory=dict)  # (row, col) 0-based -> value
    formulas: dict[tuple[int, int], str] | None = None  # None: the format does not tell
    _rows: dict[int, dict[int, object]] | None = field(default=None, repr=False, compare=False)

    def get(self, row: int, col: int):
        return self.cells.get((row, col))

    def _by_row(self) -> dict[int, dict[int, object]]:
        if self._rows is None:
            rows: dict[int, dict[int, object]] = {}
            for (r, c), v in self.cells.items():
                rows.setdefault(r, {})[c] = v
            self._rows = rows
        return self._rows

    def row(self, row: int) -> dict[int, object]:
        """The cells of one row, col -> value."""
        return self._by_row().get(row, {})

    def row_numbers(self) -> list[int]:
        """The rows that have a cell, in order."""
        return sorted(self._by_row())


class Book:
    """A workbook's sheets, each read when first asked for."""

    def __init__(self, kind: str, workbook, limits: Limits, zf=None, main: str = "", marks=None,
                 has_macros: bool = False):
        import python_calamine as pc

        self.kind, self.limits, self.has_macros = kind, limits, has_macros
        self._wb, self._zf, self._main = workbook, zf, main
        self._given_marks = marks  # .ods and .xls: every sheet's marks, read when the book was opened
        self._parts = self._xlsx_parts() if kind in ("xlsx", "xlsm") else None
        self._strings: list[str] | None = None  # the tool's own reading of the shared strings, if it needed one
        self._strings_looked_at = False
        self._sheets: dict[str, Sheet] = {}
        meta = [m for m in workbook.sheets_metadata if m.typ == pc.SheetTypeEnum.WorkSheet]
        self.sheet_names = [safe_text(m.name) for m in meta]
        self._raw_names = {safe_text(m.name): m.name for m in meta}
        self.hidden = {safe_text(m.name) for m in meta if m.visible != pc.SheetVisibleEnum.Visible}

    @property
    def date1904(self) -> bool:
        return self._parts.date1904 if self._parts else False

    def sheet(self, name: str) -> Sheet:
        if name not in self._sheets:
            self._sheets[name] = self._load(name)
        return self._sheets[name]

    def _load(self, name: str) -> Sheet:
        marks = self._marks(name)
        if marks is not None and marks.cells_spanned() > self.limits.max_cells:
            # checked before calamine sees the sheet: it lays out the whole rectangle, and a failed
            # allocation there aborts the process
            raise BookError("file-too-large", f"工作表“{name}”的单元格分布在 {marks.cells_spanned()} 个单元格的范围内，"
                            f"超过 {self.limits.max_cells} 个", "--max-cells")
        try:
            s = self._wb.get_sheet_by_name(self._raw_names[name])
            if s.height * s.width > self.limits.max_cells:
                raise BookError("file-too-large", f"工作表“{name}”的范围有 {s.height} 行 × {s.width} 列，超过 "
                                f"{self.limits.max_cells} 个单元格", "--max-cells")
            rows = s.to_python(skip_empty_area=True)
            r0, c0 = s.start or (0, 0)
        except BookError:
            raise
        except Exception as e:  # noqa: BLE001 — calamine raises several types for a damaged sheet
            if _password(e):
                raise BookError("file-encrypted", *_PASSWORD) from None
            raise BookError("file-unreadable", f"工作表“{name}”{_describe(e)}", SAVE_AS_XLSX) from None
        cells: dict[tuple[int, int], object] = {}
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v != "" and v is not None:
                    cells[(r0 + i, c0 + j)] = _value(v)
        if marks is None:
            return Sheet(name, name not in self.hidden, cells, None)
        values = marks.values or {}
        if any(kind == "s" and key not in cells for key, (kind, _) in values.items()):
            self._own_strings()  # a shared string calamine left blank: perhaps it misread them all (CDATA)
        for key, (kind, text) in values.items():
            # what calamine left blank or misread: a <v> in CDATA or as a character reference, and every
            # shared string when the tool had to read them itself
            if key not in cells or (kind == "s" and self._strings is not None):
                value = _xml_value(kind, text, self._strings)
                if value is None:
                    cells.pop(key, None)
                else:
                    cells[key] = value
        for key, text in marks.errors.items():
            cells[key] = CellError(safe_text(text))
        return Sheet(name, name not in self.hidden, cells, marks.formulas)

    def _marks(self, name: str) -> xmlscan.SheetMarks | None:
        """Formula and error cells of a sheet (and, for .xlsx, its raw values), where the format tells them."""
        if self._given_marks is not None:
            return self._given_marks.get(self._raw_names[name], xmlscan.SheetMarks({}, {}, []))
        part = self._parts.sheets.get(self._raw_names[name]) if self._parts else None
        if part is None:
            return None
        return _scan(xmlscan.sheet_marks, self._member(part))

    def _xlsx_parts(self) -> xmlscan.WorkbookParts:
        folder, _, leaf = self._main.rpartition("/")
        rels = f"{folder}/_rels/{leaf}.rels" if folder else f"_rels/{leaf}.rels"
        if rels not in self._zf.parts:
            raise BookError("file-unreadable", "工作簿缺少工作表目录（关系部分），文件已损坏", SAVE_AS_XLSX)
        return _scan(xmlscan.workbook_parts, self._main, self._member(self._main), self._member(rels))

    def _own_strings(self) -> None:
        """Read the shared strings with the tool's own pass (once), where calamine misreads them: CDATA
        sections (no writer of returns uses them, but a spreadsheet shows their text).  Leaves `_strings`
        None when calamine read them right."""
        if self._strings_looked_at:
            return
        self._strings_looked_at = True
        path = self._parts.strings if self._parts else None
        if path is None or path not in self._zf.parts:
            return
        data = self._member(path)
        if b"<![CDATA[" in data:
            self._strings = [safe_text(s) for s in _scan(xmlscan.shared_strings, data)]

    def _member(self, path: str) -> bytes:
        return _member(self._zf, path, self.limits)


def _member(zf: Package, path: str, limits: Limits) -> bytes:
    try:
        return zf.read(path, limits.max_unzipped_bytes)
    except ZipProblem as e:
        raise _zip_error(e) from None


def _scan(fn, *args):
    try:
        return fn(*args)
    except xmlscan.XmlProblem as e:
        raise BookError("file-unreadable", str(e), SAVE_AS_XLSX) from None


def _xml_value(kind: str, text: str, strings: list[str] | None):
    """A cell's value from its type and the text of its <v>, as a spreadsheet shows it."""
    text = text.strip() if kind != "str" else text
    try:
        if kind == "s":
            return (strings[int(text)] or None) if strings is not None else None
        if kind == "str":
            return safe_text(text) or None
        if kind == "b":
            return text in ("1", "true")
        if kind == "d":
            return dt.datetime.fromisoformat(text)
        return float(text) if text else None
    except (ValueError, IndexError):
        return None


def _value(v):
    """A calamine value as the tool uses it: text made safe, numbers as float, a date as a datetime."""
    if isinstance(v, str):
        return safe_text(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime.combine(v, dt.time())
    return v


def _password(e: Exception) -> bool:
    import python_calamine as pc

    return isinstance(e, pc.PasswordError) or "password" in str(e).lower()


def _describe(e: Exception) -> str:
    from xlsx_tool.errors_zh import describe

    return describe(e)


def _zip_error(e: ZipProblem) -> BookError:
    if e.kind == "too-large":
        return BookError("file-too-large", e.why, "--max-unzipped-mb")
    if e.kind == "encrypted":
        return BookError("file-encrypted", *_PASSWORD)
    return BookError("file-unreadable", e.why, "请对方重新保存后再发送")


def open_book(data: bytes, suffix: str = "", limits: Limits = Limits()) -> Book:
    """Open workbook bytes, whatever the file is called: the kind is told from the content."""
    if not data:
        raise BookError("file-empty", "文件是空的（0 字节）", "请对方重新发送")
    if len(data) > limits.max_file_bytes:
        raise BookError("file-too-large", f"文件 {len(data) / MB:.1f} MB，超过 {limits.max_file_bytes / MB:.0f} MB",
                        "--max-file-mb")
    kind = sniff(data[:8])
    if kind == "ole":
        # an encrypted .xlsx is an OLE container holding an "EncryptedPackage" stream (name in UTF-16)
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise BookError("file-encrypted", *_PASSWORD)
        return _calamine(data, "xls", limits, marks=_xls_errors(data))
    if kind != "zip":
        if data.lstrip()[:1] == b"<":
            raise BookError("file-unsupported", "是网页或 XML 文本，不是 Excel 工作簿", SAVE_AS_XLSX)
        raise BookError("file-unsupported", "不是 Excel 工作簿（内容不是 xlsx/xls/ods 格式）", SAVE_AS_XLSX)
    try:
        zf = Package(data)
        check_declared(zf.zf, limits.max_unzipped_bytes)
    except ZipProblem as e:
        raise _zip_error(e) from None
    names = set(zf.parts)
    if any(i.flag_bits & 0x1 for i in zf.parts.values()):  # a zip made with a password
        raise BookError("file-encrypted", *_PASSWORD)
    if "mimetype" in names:
        return _open_odf(data, zf, names, limits)
    if "[Content_Types].xml" not in names:
        raise BookError("file-unreadable", "文件已损坏（缺少内容类型部分），Excel 和 WPS 也打不开", SAVE_AS_XLSX)
    if "_rels/.rels" not in names:
        raise BookError("file-unreadable", "文件已损坏（缺少包关系部分），Excel 和 WPS 也打不开", SAVE_AS_XLSX)
    # the workbook part is where every writer puts it; only another place needs the package's relationships read
    main = "xl/workbook.xml" if "xl/workbook.xml" in names else _scan(xmlscan.main_part, _member(zf, "_rels/.rels", limits))
    if main not in names or not main.endswith(("workbook.xml", "workbook.bin")):
        main = None
    if main is None:
        if "word/document.xml" in names:
            raise BookError("file-unsupported", "这是 Word 文档，不是 Excel 工作簿", "请对方发送评分表的 .xlsx 文件")
        raise BookError("file-unsupported", "压缩文件中没有 Excel 工作簿", SAVE_AS_XLSX)
    kind = "xlsb" if main.endswith(".bin") else "xlsm" if "xl/vbaProject.bin" in names else "xlsx"
    return _calamine(data, kind, limits, zf=zf, main=main, has_macros="xl/vbaProject.bin" in names)


def _open_odf(data: bytes, zf, names: set[str], limits: Limits) -> Book:
    if not _member(zf, "mimetype", limits).strip().startswith(_ODS_MIME):
        raise BookError("file-unsupported", "这是其他 OpenDocument 文档，不是表格", "请对方发送评分表的 .xlsx 文件")
    if "META-INF/manifest.xml" in names and _scan(xmlscan.ods_encrypted, _member(zf, "META-INF/manifest.xml", limits)):
        raise BookError("file-encrypted", *_PASSWORD)
    if "content.xml" not in names:
        raise BookError("file-unreadable", ".ods 文件中缺少内容部分（content.xml）", SAVE_AS_XLSX)
    try:
        marks = xmlscan.ods_marks(_member(zf, "content.xml", limits), limits.max_cells)
    except xmlscan.XmlProblem as e:
        code = "file-too-large" if "单元格超过" in str(e) else "file-unreadable"
        raise BookError(code, f".ods 文件{e}", "--max-cells" if code == "file-too-large" else SAVE_AS_XLSX) from None
    return _calamine(data, "ods", limits, marks=marks)


def _xls_errors(data: bytes) -> dict[str, xmlscan.SheetMarks] | None:
    """The error cells of an .xls (#DIV/0!…), which calamine reads as blank, through xlrd: a kept reader of
    the old binary format that keeps them.  None when xlrd cannot read the file (then errors read blank;
    the merge already says that .xls keeps no formula information).  xlrd's warnings go to a null log,
    never to standard output (where `merge --json` writes)."""
    import os

    import xlrd

    try:
        with open(os.devnull, "w") as quiet:
            # ragged rows: a far-away cell costs one short row, not a padded grid
            wb = xlrd.open_workbook(file_contents=data, on_demand=True, ragged_rows=True, logfile=quiet, verbosity=0)
            out = {}
            for name in wb.sheet_names():
                sh = wb.sheet_by_name(name)
                errors, extent = {}, []
                for r in range(sh.nrows):
                    for c, cell in enumerate(sh.row(r)):
                        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                            continue
                        xmlscan.stretch(extent, r, c)
                        if cell.ctype == xlrd.XL_CELL_ERROR:
                            errors[(r, c)] = xlrd.error_text_from_code.get(cell.value, "#N/A")
                out[name] = xmlscan.SheetMarks(None, errors, extent)  # formulas: .xls does not tell
            return out
    except Exception as e:  # noqa: BLE001 — xlrd refuses files calamine reads: then only the errors are unknown
        if "encrypt" in str(e).lower():  # a password on open (calamine only says it cannot tell the format)
            raise BookError("file-encrypted", *_PASSWORD) from None
        return None


def _calamine(data: bytes, kind: str, limits: Limits, **book) -> Book:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        return Book(kind, wb, limits, **book)
    except Exception as e:  # noqa: BLE001 — calamine raises several types for a file it cannot read
        if _password(e):
            raise BookError("file-encrypted", *_PASSWORD) from None
        if kind == "ods":
            raise BookError("file-unreadable", "这个 .ods 文件的结构本工具读不了（Gnumeric 等软件保存的 .ods 常见这种情况）",
                            "请用 WPS、Excel 或 LibreOffice 打开后“另存为”Excel 工作簿（*.xlsx）再发来") from None
        raise BookError("file-unreadable", f"工作簿{_describe(e)}", SAVE_AS_XLSX) from None
