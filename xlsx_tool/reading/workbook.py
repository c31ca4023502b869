"""Read a returned workbook into plain cells, safely and fast.

.xlsx/.xlsm are read by a small reader of their own (zipfile + regular
expressions over the XML): it sees formulas (to notice a 得分 overwritten by a
number), never expands an entity or fetches anything, and checks sizes before
inflating anything.  .xls
and .ods go through python-calamine, which gives values but not formulas.

Errors are `BookError(code, why)`: the caller turns them into findings.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from xlsx_tool.errors_zh import describe
from xlsx_tool.forms.layout import col_index
from xlsx_tool.reading.limits import MB, Limits, sniff

try:  # zlib-ng inflates a return's parts about twice as fast as zlib (32 µs a file instead of 61)
    from zlib_ng import zlib_ng as _inflater
except ImportError:  # the same API, only slower
    _inflater = zlib
_ZLIB_ERRORS = (zlib.error, _inflater.error)


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
    _rows: dict[int, dict[int, object]] | None = field(default=None, repr=False, compare=False)

    def get(self, row: int, col: int):
        return self.cells.get((row, col))

    def _by_row(self) -> dict[int, dict[int, object]]:
        """row -> {col: value}, built once for all rows: readers ask row by row."""
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


@dataclass
class Book:
    kind: str  # "xlsx", "xls", "ods"
    sheet_names: list[str]
    hidden: set[str] = field(default_factory=set)
    date1904: bool = False
    has_macros: bool = False
    _loader: object = None
    _cache: dict = field(default_factory=dict)

    def sheet(self, name: str) -> Sheet:
        if name not in self._cache:
            self._cache[name] = self._loader(name)
        return self._cache[name]


_PASSWORD = ("文件", "请对方取消打开密码，另存为 .xlsx 后重新发送")
SAVE_AS_XLSX = "请对方用 WPS 或 Excel 打开后“另存为”Excel 工作簿（*.xlsx）再发来"


def open_book(data: bytes, suffix: str, limits: Limits = Limits()) -> Book:
    """Open workbook bytes; `suffix` is the file's extension, used only to pick among readers."""
    if len(data) == 0:
        raise BookError("file-unreadable", "文件是空的（0 字节）", "请对方重新发送")
    if len(data) > limits.max_file_bytes:
        raise BookError("file-too-large", f"文件 {len(data) / MB:.1f} MB，超过 {limits.max_file_bytes / MB:.0f} MB", "--max-file-mb")
    kind = sniff(data[:8])
    if kind == "ole":
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            raise BookError("file-encrypted", *_PASSWORD)
        return _open_xls(data, limits)
    if kind != "zip":
        if data[:5] == b"<?xml" or data.lstrip()[:1] == b"<":
            raise BookError("file-unsupported", "是网页或 XML 文本，不是 Excel 工作簿", SAVE_AS_XLSX)
        raise BookError("file-unsupported", "不是 Excel 工作簿（内容不是 xlsx/xls/ods 格式）", SAVE_AS_XLSX)
    members = _directory(data)
    if members is None:  # not the plain kind of zip: zipfile reads it, or says what is wrong
        try:
            infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            raise BookError("file-unreadable", describe(e), "请对方重新保存后再发送") from None
        members = {i.filename: i for i in infos}
        count = len(infos)
    else:
        count = len(members)
    total = sum(i.file_size for i in members.values())
    if total > limits.max_unzipped_bytes or count > 10_000:
        raise BookError("file-too-large", f"解压后 {total / MB:.0f} MB，超过 {limits.max_unzipped_bytes / MB:.0f} MB（疑似压缩炸弹）",
                        "--max-unzipped-mb")
    names = set(members)
    book = _XlsxBook(members, names, limits, data)
    if "mimetype" in names and book.raw("mimetype", "文件类型标记（mimetype）").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return _open_calamine(data, "ods", limits)
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        if "word/document.xml" in names:
            raise BookError("file-unsupported", "这是 Word 文档，不是 Excel 工作簿", "请对方发送评分表的 .xlsx 文件")
        if "mimetype" in names:
            raise BookError("file-unsupported", "这是其他 OpenDocument 文档，不是表格", "请对方发送评分表的 .xlsx 文件")
        raise BookError("file-unsupported", "压缩文件中没有 Excel 工作簿", SAVE_AS_XLSX)
    return book.book()


# --------------------------------------------------------------------------- xlsx
#
# OOXML parts are read with regular expressions over the raw XML rather than an XML
# parser: it is several times faster (the merge reads thousands of files), and it
# cannot expand an entity or fetch anything, because it never interprets a DTD.
# A part that declares a DTD is refused anyway: real workbooks never have one.

def _upto(tag: str) -> str:
    """An element's content, lazily, but never past the start of another element of the same kind:
    without this bound, a part full of tags that never close takes quadratic time (hours for 20 KB)."""
    return r"(?:(?!<%s[\s>/]).)*?" % tag


_ATTR = re.compile(r'([\w:]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_ROW = re.compile(r"<(?:\w+:)?row\b([^>]*?)(?:/>|>(%s)</(?:\w+:)?row>)" % _upto(r"(?:\w+:)?row"), re.S)
_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*?)(?:/>|>(%s)</(?:\w+:)?c>)" % _upto(r"(?:\w+:)?c"), re.S)
_ROW_REF = re.compile(r"""\br\s*=\s*["']([0-9]{1,7})["']""")
# The usual cell, <c r="F4" s="3" t="s"><f>…</f><v>…</v></c>: name, type, <f>, formula, <f/>, value.
# Possessive (?+, *+): no part, once matched, can be given back to make a match, so the engine keeps
# no backtracking points (the same matches, a sixth faster).
_PLAIN = (r'<c r="([A-Za-z]{1,3}[0-9]{1,7})"(?: s="[0-9]++")?+(?: t="(\w++)")?+(?: s="[0-9]++")?+>'
          r"(?:(<f>)([^<]*+)</f>|(<f/>))?+<v>([^<]*+)</v></c>")
_CELL_PLAIN = re.compile(_PLAIN)
# Every other closed cell (other attributes such as Excel 365's cm="1", inline strings, shared
# formulas, extra children): col, row, attributes, content.  Not a plain one: that is the findall's.
_CELL_ODD = re.compile(
    r'(?!%s)<c r="([A-Za-z]{1,3})([0-9]{1,7})"([^>]*?)(?<!/)>(%s)</c>' % (re.sub(r"\((?!\?)", "(?:", _PLAIN), _upto("c")),
    re.S)
_CELL_PLAIN_B = re.compile(_CELL_PLAIN.pattern.encode())
_CELL_KEYS: dict[bytes, tuple[int, int]] = {}  # b"F4" -> (3, 5): forms use the same few hundred names
_CELL_REF_B = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})")


def _cell_key(ref: bytes) -> tuple[int, int]:
    """(row, col), 0-based, of a cell name that the fast path's pattern matched."""
    key = _CELL_KEYS.get(ref)
    if key is None:
        m = _CELL_REF_B.fullmatch(ref)
        key = (int(m.group(2)) - 1, col_index(m.group(1).decode().upper()))
        if len(_CELL_KEYS) < 100_000:
            _CELL_KEYS[ref] = key
    return key


_FORMULAS: dict[bytes, str] = {}  # a form's formulas are the same few dozen in every return


def _formula(f: bytes) -> str:
    text = _unescape(f.decode("utf-8", "replace"))
    if len(_FORMULAS) < 10_000:
        _FORMULAS[f] = text
    return text


_CELL_REF = re.compile(r"""\br\s*=\s*["']([A-Za-z]{1,3})([0-9]{1,7})["']""")
_CELL_TYPE = re.compile(r"""\bt\s*=\s*["'](\w+)["']""")
_V = re.compile(r"<(?:\w+:)?v\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?v>)")
_F = re.compile(r"<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)")
_T = re.compile(r"<(?:\w+:)?t\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?t>)")
# <si><t>plain</t></si> (group 1), or any other <si> body (group 2)
_SI_PLAIN = re.compile(r"<si>(?:<t(?: xml:space=\"preserve\")?+>([^<]*+)</t></si>|(%s)</si>)|<si/>" % _upto("si"), re.S)
_SI = re.compile(r"<(?:\w+:)?si\b[^>]*?(?:/>|>(%s)</(?:\w+:)?si>)" % _upto(r"(?:\w+:)?si"), re.S)
_PHONETIC = re.compile(r"<(?:\w+:)?(rPh|phoneticPr)\b[^>]*?(?:/>|>%s</(?:\w+:)?\1>)" % _upto(r"(?:\w+:)?(?:rPh|phoneticPr)"), re.S)
_SHEET = re.compile(r"<(?:\w+:)?sheet\b([^>]*?)/?>", re.S)
_WBPR = re.compile(r"<(?:\w+:)?workbookPr\b([^>]*?)/?>", re.S)
_REL = re.compile(r"<(?:\w+:)?Relationship\b([^>]*?)/?>", re.S)
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|\w+);")
_XML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape(text: str) -> str:
    if "&" not in text:
        return text

    def one(m):
        e = m.group(1)
        if e[0] == "#":
            try:
                return chr(int(e[2:], 16) if e[1] in "xX" else int(e[1:]))
            except (ValueError, OverflowError):
                return m.group(0)
        return _XML_ENTITIES.get(e, m.group(0))  # an unknown entity stays as written: never expanded

    return _ENTITY.sub(one, text)


_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _excel_text(text: str) -> str:
    """Excel's own escapes in stored text: "_x000D_" is a carriage return, "_x005F_x0041_" a literal "_x0041_"."""
    text = _unescape(text)
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _attrs(text: str) -> dict[str, str]:
    return {k.rsplit(":", 1)[-1]: _unescape(a if a or not b else b) for k, a, b in _ATTR.findall(text)}


@dataclass(slots=True)
class _Member:
    """What _inflate needs of a zip member (the attributes zipfile.ZipInfo has under the same names)."""

    filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int


_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # a central directory record (zipfile.structCentralDir)


def _directory(data: bytes) -> dict[str, _Member] | None:
    """The members of a plain zip, as Excel, WPS and LibreOffice write one: the central directory
    read directly, because zipfile's ZipInfo objects cost more than a form's cells.  None for
    anything else (a comment, zip64, data before the archive, a name twice, any inconsistency):
    zipfile then reads it, or explains what is wrong."""
    end = len(data) - 22
    if end < 0 or data[end:end + 4] != b"PK\x05\x06":
        return None
    disk, cd_disk, here, count, size, offset, comment = struct.unpack_from("<4H2LH", data, end + 4)
    if disk or cd_disk or here != count or comment or offset + size != end:
        return None
    members: dict[str, _Member] = {}
    p = offset
    for _ in range(count):
        if p + 46 > end or data[p:p + 4] != b"PK\x01\x02":
            return None
        (_sig, _v, _s, _xv, _xs, flags, method, _time, _date, crc, csize, usize, n, extra, note,
         _disk, _int, _ext, local) = _CENTRAL.unpack_from(data, p)
        raw = data[p + 46:p + 46 + n]
        if 0xFFFFFFFF in (csize, usize, local) or b"\x00" in raw or len(raw) != n:
            return None
        try:
            # ASCII, as the parts of a workbook are named, reads the same either way (cp437 goes through a
            # character map, several times slower)
            name = raw.decode("ascii") if raw.isascii() else raw.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            return None
        if name in members:
            return None
        members[name] = _Member(name, flags, method, crc, csize, usize, local)
        p += 46 + n + extra + note
    return members if p == end else None


def _compressed(data: bytes, info: _Member | zipfile.ZipInfo) -> bytes | None:
    """A member's stored bytes, found through its local header; None for anything unusual."""
    off = info.header_offset
    if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED) or data[off:off + 4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
    start = off + 30 + name_len + extra_len
    return data[start:start + info.compress_size]


def _inflate(data: bytes, info: _Member | zipfile.ZipInfo) -> bytes | None:
    """A member's bytes straight from the archive in memory: what ZipFile.read does (local header,
    inflate, size and CRC-32 checked), without its file objects, which cost more than inflating a
    small part.  Anything unusual goes to zipfile itself."""
    comp = _compressed(data, info)
    if comp is None:
        return None  # let zipfile decide (and explain)
    if info.compress_type == zipfile.ZIP_STORED:
        out = comp
    else:
        out = _inflater.decompressobj(-15).decompress(comp, info.file_size + 1)  # never more than it claims, +1 to notice
    if len(out) != info.file_size or _inflater.crc32(out) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {info.filename!r}")
    return out


def _decode(data: bytes, what: str) -> str:
    try:
        # not the "utf-8-sig" codec: it is written in Python, several times slower than utf-8's
        return (data[3:] if data.startswith(b"\xef\xbb\xbf") else data).decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BookError("file-unreadable", f"{what}的编码无法识别", SAVE_AS_XLSX) from None


def _declares_dtd(data: bytes) -> bool:
    """Whether the part's prolog, before its root element (the only place XML allows one), declares
    a DTD.  Looks at the prolog only: scanning a whole part costs more than reading it."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        data = data.decode("utf-16", "replace").encode("utf-8")
    i = 0
    while True:
        j = data.find(b"<", i)
        if j < 0:
            return False
        if data.startswith(b"<!--", j):
            i = data.find(b"-->", j + 4)
        elif data.startswith(b"<?", j):
            i = data.find(b"?>", j + 2)
        else:
            return data.startswith(b"<!", j)  # <!DOCTYPE or <!ENTITY before the root; else the root element
        if i < 0:
            return False
        i += 2


_WORKBOOKS: dict[tuple, tuple[dict[str, tuple[str, bool]], bool]] = {}
SMALL_SHEET = 2048  # stored bytes: the identity sheet is about 500, a form sheet 4,000 and more
_SMALL_SHEETS: dict[tuple, tuple[list, int, None]] = {}


class _XlsxBook:
    def __init__(self, members: dict, names: set[str], limits: Limits, data: bytes):
        self.members, self.names, self.limits, self.data = members, names, limits, data
        self._strings: list[str] | None = None
        self.cells_left = limits.max_cells

    def raw(self, name: str, what: str) -> bytes:
        """A part's bytes, refused if it declares a DTD (checked on the bytes, in UTF-8 or UTF-16)."""
        try:
            info = self.members[name]
        except KeyError:
            raise BookError("file-unreadable", f"缺少文件部件 {name}", SAVE_AS_XLSX) from None
        if info.flag_bits & 0x1:  # a password set with an archiver, not with Excel
            raise BookError("file-encrypted", *_PASSWORD)
        try:
            data = _inflate(self.data, info)
            if data is None:
                data = zipfile.ZipFile(io.BytesIO(self.data)).read(name)  # an unusual member: zipfile's way
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError, RuntimeError, struct.error,
                *_ZLIB_ERRORS) as e:
            raise BookError("file-unreadable", f"{what}：{describe(e)}", "请对方重新保存后再发送") from None
        if _declares_dtd(data):
            raise BookError("file-unreadable", f"{what}内含 XML 实体声明（DTD），可能是恶意文件，未读取",
                            "请对方重新保存为 .xlsx 后再发送")
        return data

    def text(self, name: str, what: str) -> str:
        return _decode(self.raw(name, what), what)

    def book(self) -> Book:
        wb_path = "xl/workbook.xml" if "xl/workbook.xml" in self.names else next(n for n in self.names if n.endswith("workbook.xml"))
        base = posixpath.dirname(wb_path)
        rels_path = posixpath.join(base, "_rels", posixpath.basename(wb_path) + ".rels")
        if rels_path not in self.names:
            rels_path = ""
        # Forms saved by one program have the same workbook.xml and its .rels: the sheets they
        # list are looked up by those members' exact stored bytes (and CRC and sizes), which give
        # the same answer however often they are read.  Anything odd is simply read.
        key = (wb_path, rels_path, self._stored(wb_path), self._stored(rels_path) if rels_path else b"")
        plain = None not in key
        found = _WORKBOOKS.get(key) if plain else None
        if found is None:
            found = self._workbook(base, wb_path, rels_path)
            if plain:
                if len(_WORKBOOKS) >= 64:
                    _WORKBOOKS.clear()
                _WORKBOOKS[key] = found
        self.paths, date1904 = found
        return Book(
            kind="xlsx",
            sheet_names=list(self.paths),
            hidden={n for n, (_p, vis) in self.paths.items() if not vis},
            date1904=date1904,
            has_macros=any(n.endswith("vbaProject.bin") for n in self.names),
            _loader=self.sheet,
        )

    def _stored(self, name: str) -> tuple | None:
        """A member as stored (compressed bytes, CRC, sizes), or None if it is not plainly stored."""
        info = self.members[name]
        if info.flag_bits & 0x1:
            return None
        comp = _compressed(self.data, info)
        return None if comp is None else (comp, info.CRC, info.file_size, info.compress_type)

    def _workbook(self, base: str, wb_path: str, rels_path: str) -> tuple[dict[str, tuple[str, bool]], bool]:
        """Sheet name -> (part, visible) in the workbook's order, and whether dates count from 1904."""
        rels: dict[str, str] = {}
        if rels_path:
            for m in _REL.finditer(self.text(rels_path, "工作簿关系")):
                a = _attrs(m.group(1))
                target = a.get("Target", "")
                rels[a.get("Id", "")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        wb_xml = self.text(wb_path, "工作簿")
        paths: dict[str, tuple[str, bool]] = {}
        for m in _SHEET.finditer(wb_xml):
            a = _attrs(m.group(1))
            paths.setdefault(a.get("name", ""), (rels.get(a.get("id", ""), ""), a.get("state", "visible") == "visible"))
        pr = _WBPR.search(wb_xml)
        return paths, bool(pr) and _attrs(pr.group(1)).get("date1904", "0") in ("1", "true")

    def strings(self) -> list[str]:
        if self._strings is None:
            path = next((n for n in ("xl/sharedStrings.xml", "xl/SharedStrings.xml") if n in self.names), None)
            out: list[str] = []
            if path:
                xml = self.text(path, "共享字符串")
                # <si> with a namespace prefix (x:si) is valid too: the general pattern, every item a body
                items = _SI_PLAIN.findall(xml) if ":si" not in xml else [("", b or "") for b in _SI.findall(xml)]
                plains, bodies = zip(*items) if items else ((), ())
                if not any(bodies) and "&" not in xml and "_x" not in xml:
                    # the usual part: every item <si><t>text</t></si>, nothing to unescape anywhere
                    self._strings = list(plains)
                    return self._strings
                for plain, body in items:
                    if not body:  # <si><t>text</t></si>: the usual case, one findall in C
                        out.append(_excel_text(plain) if ("&" in plain or "_x" in plain) else plain)
                        continue
                    if "Ph" in body:
                        body = _PHONETIC.sub("", body)
                    out.append(_excel_text("".join(t or "" for t in _T.findall(body))))
            self._strings = out
        return self._strings

    def sheet(self, name: str) -> Sheet:
        path, visible = self.paths[name]
        if path not in self.names:
            raise BookError("file-unreadable", f"工作表“{name}”的内容缺失", SAVE_AS_XLSX)
        what = f"工作表“{name}”"
        # A small sheet, such as the identity sheet, is often stored byte for byte the same in every
        # return from one generator (its texts are in the shared strings): its cells, as the pattern
        # found them, are looked up by those stored bytes, which give the same cells however often
        # they are read.  The strings are still each file's own.
        key = self._stored(path) if self.members[path].compress_size <= SMALL_SHEET else None
        if key is not None:
            found = _SMALL_SHEETS.get((path, key))
            if found is not None:
                return self._sheet_fast(name, visible, *found)
        data = self.raw(path, what)
        # UTF-8 and every cell in the usual shape: the fast path reads the bytes
        if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            cells = _sheet_data(data)
            # every cell starts exactly <c r=" (and none is prefixed, x:c): what the fast path reads
            if cells is not None and b":c" not in cells:
                n = cells.count(b'<c r="')
                if n == cells.count(b"<c"):
                    plain = _CELL_PLAIN_B.findall(cells)
                    # not every closed cell was plain: the others are read one by one from the text
                    odd = _decode(cells, what) if cells.count(b"</c>") != len(plain) else None
                    if key is not None and odd is None:
                        if len(_SMALL_SHEETS) >= 256:
                            _SMALL_SHEETS.clear()
                        _SMALL_SHEETS[(path, key)] = (plain, n, None)
                    return self._sheet_fast(name, visible, plain, n, odd)
        return self._sheet_general(name, visible, _decode(data, what))

    def _cell_budget(self, n: int) -> None:
        self.cells_left -= n
        if self.cells_left < 0:
            raise BookError("file-too-large", f"单元格超过 {self.limits.max_cells} 个", "--max-cells")

    def _cell_value(self, t: str, inner: str):
        if t == "inlineStr":
            return _excel_text("".join(x or "" for x in _T.findall(_PHONETIC.sub("", inner))))
        vm = _V.search(inner)
        raw = _unescape(vm.group(1) or "") if vm else ""
        if t == "s" and raw:
            return _value(t, raw, self.strings())
        return _value(t, raw, ())

    def _sheet_fast(self, name: str, visible: bool, plain: list[tuple[bytes, ...]], n_cells: int, odd: str | None) -> Sheet:
        """Every cell names itself (<c r="F4" ...>), as Excel, WPS, LibreOffice and xlsxwriter write.

        The usual cell, <c r="F4" s="3" t="s"><f>…</f><v>…</v></c>, is in `plain`, found by one findall
        over the part's bytes (in C; numbers and string indices need no decoding); only cells of
        another shape (inline strings, shared formulas, extra children) go one by one, over the
        decoded <sheetData> (`odd`, None when there are none).
        """
        self._cell_budget(n_cells)
        cells: dict[tuple[int, int], object] = {}
        formulas: dict[tuple[int, int], str] = {}
        strings = None
        for ref, t, has_f, f, empty_f, v in plain:
            key = _CELL_KEYS.get(ref) or _cell_key(ref)
            if t == b"s":
                if strings is None:
                    strings = self.strings()
                try:
                    i = int(v)
                except ValueError:
                    i = -1
                val = strings[i] if 0 <= i < len(strings) else None
            elif not t or t == b"n":
                try:
                    val = float(v) if v else None
                except ValueError:
                    val = _value("n", _unescape(v.decode("utf-8", "replace")), ())
            elif t == b"str" and b"&" not in v and b"_x" not in v:  # a formula's text, nothing to unescape
                val = v.decode("utf-8", "replace")
            else:
                val = _value(t.decode(), _unescape(v.decode("utf-8", "replace")), ())
            if val is not None:
                cells[key] = val
            if has_f or empty_f:
                formulas[key] = _FORMULAS.get(f) or _formula(f)
        if odd is not None:
            for m in _CELL_ODD.finditer(odd):
                inner = m.group(4)
                if not inner:
                    continue
                key = (int(m.group(2)) - 1, col_index(m.group(1).upper()))
                tm = _CELL_TYPE.search(m.group(3))
                val = self._cell_value(tm.group(1) if tm else "n", inner)
                if val is not None:
                    cells[key] = val
                if "<f" in inner:
                    fm = _F.search(inner)
                    if fm:
                        formulas[key] = _unescape(fm.group(1) or "")
        return Sheet(name, visible, cells, formulas)

    def _sheet_general(self, name: str, visible: bool, xml: str) -> Sheet:
        """Any valid sheet: rows and cells may omit their positions, elements may carry a prefix."""
        cells: dict[tuple[int, int], object] = {}
        formulas: dict[tuple[int, int], str] = {}
        row_i = -1
        for rm in _ROW.finditer(xml):
            rr = _ROW_REF.search(rm.group(1))
            row_i = int(rr.group(1)) - 1 if rr else row_i + 1
            col_i = -1
            body = rm.group(2)
            if not body:
                continue
            for cm in _CELL.finditer(body):
                self._cell_budget(1)
                head, inner = cm.group(1), cm.group(2)
                rm_ = _CELL_REF.search(head)
                if rm_:
                    r, col_i = int(rm_.group(2)) - 1, col_index(rm_.group(1).upper())
                else:
                    r, col_i = row_i, col_i + 1
                if not inner:
                    continue
                tm = _CELL_TYPE.search(head)
                val = self._cell_value(tm.group(1) if tm else "n", inner)
                if val is not None:
                    cells[(r, col_i)] = val
                if "<f" in inner or ":f" in inner:
                    fm = _F.search(inner)
                    if fm:
                        formulas[(r, col_i)] = _unescape(fm.group(1) or "")
        return Sheet(name, visible, cells, formulas)


def _sheet_data(data: bytes) -> bytes | None:
    """The part of a sheet where its cells are, <sheetData>…</sheetData>, or more: the fast path scans only
    this (the conditional formats and validations after it are most of a form's bytes).  From the first
    "<sheetData" to the last "</sheetData>", so that a comment mentioning either only widens it.  None
    when it is not plainly there (a prefixed x:sheetData): the general path reads the sheet."""
    start = data.find(b"<sheetData")
    if start < 0 or b":sheetData" in data:
        return None
    end = data.rfind(b"</sheetData>")
    return data[start:end] if end > start else data[start:]


def _value(t: str, text: str, strings):
    if t == "s":
        try:
            i = int(text)
        except ValueError:
            return None
        return strings[i] if 0 <= i < len(strings) else None  # not strings[-1] for "-1"
    if t == "str":
        return _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text
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
        return float(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- xls, ods
#
# .xls goes through xlrd, .ods through python-calamine.  Neither reports formulas, so
# these formats cannot show a 得分 overwritten by a number (the merge says so).
# calamine (0.9) returns error cells as "": for .ods the errors are found in
# content.xml and put back, so that a #DIV/0! in a deduction is never read as blank.


def _open_xls(data: bytes, limits: Limits) -> Book:
    import xlrd

    try:
        wb = xlrd.open_workbook(file_contents=data, on_demand=True)
    except xlrd.biffh.XLRDError as e:
        if "encrypt" in str(e).lower():
            raise BookError("file-encrypted", *_PASSWORD) from None
        raise BookError("file-unreadable", f".xls 文件{describe(e)}", SAVE_AS_XLSX) from None
    except Exception as e:  # xlrd raises assorted errors on damaged files
        raise BookError("file-unreadable", f".xls 文件{describe(e)}", SAVE_AS_XLSX) from None
    names = wb.sheet_names()
    hidden = set()

    def load(name: str) -> Sheet:
        try:
            sh = wb.sheet_by_name(name)
        except Exception as e:
            raise BookError("file-unreadable", f"工作表“{name}”{describe(e)}", SAVE_AS_XLSX) from None
        if sh.nrows * sh.ncols > limits.max_cells:
            raise BookError("file-too-large", f"工作表“{name}”有 {sh.nrows} 行 {sh.ncols} 列，超过 {limits.max_cells} 个单元格",
                            "--max-cells")
        cells = {}
        for r in range(sh.nrows):
            for c, cell in enumerate(sh.row(r)):
                t, v = cell.ctype, cell.value
                if t in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) or v == "":
                    continue
                if t == xlrd.XL_CELL_DATE:
                    try:
                        v = xlrd.xldate.xldate_as_datetime(v, wb.datemode)
                    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                        pass
                elif t == xlrd.XL_CELL_BOOLEAN:
                    v = bool(v)
                elif t == xlrd.XL_CELL_ERROR:
                    v = CellError(xlrd.error_text_from_code.get(v, "#ERROR!"))
                cells[(r, c)] = v
        return Sheet(name, name not in hidden, cells, None)

    for i, name in enumerate(names):
        try:
            if wb.sheet_by_index(i).visibility:
                hidden.add(name)
        except Exception:  # noqa: BLE001 — a damaged sheet is reported when it is read
            pass
    return Book(kind="xls", sheet_names=names, hidden=hidden, _loader=load)


def _open_calamine(data: bytes, kind: str, limits: Limits) -> Book:
    import python_calamine as pc

    if kind == "ods":
        _check_ods_size(data, limits)  # calamine would expand repeated cells in memory first
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        meta = wb.sheets_metadata
    except pc.PasswordError:
        raise BookError("file-encrypted", *_PASSWORD) from None
    except Exception as e:  # calamine raises several types for a bad file
        raise BookError("file-unreadable", f".{kind} 文件{describe(e)}", SAVE_AS_XLSX) from None
    errors = _ods_errors(data) if kind == "ods" else {}

    def load(name: str) -> Sheet:
        m = next(x for x in meta if x.name == name)
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as e:
            raise BookError("file-unreadable", f"工作表“{name}”{describe(e)}", SAVE_AS_XLSX) from None
        cells = {}
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v != "" and v is not None:
                    cells[(r, c)] = _calamine_value(v)
        for key, text in errors.get(name, {}).items():
            cells[key] = CellError(text)
        return Sheet(name, str(m.visible).endswith("Visible"), cells, None)

    return Book(kind=kind, sheet_names=[m.name for m in meta],
                hidden={m.name for m in meta if not str(m.visible).endswith("Visible")}, _loader=load)


_ODS_TABLE = re.compile(r'<table:table\b[^>]*?table:name="([^"]*)"[^>]*>(%s)</table:table>' % _upto("table:table"), re.S)
_ODS_ROW = re.compile(r"<table:table-row\b([^>]*?)(?:/>|>(%s)</table:table-row>)" % _upto("table:table-row"), re.S)
_ODS_CELL = re.compile(r"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|>(%s)</table:(?:covered-)?table-cell>)"
                       % _upto("table:(?:covered-)?table-cell"), re.S)
_ODS_REPEAT_ROWS = re.compile(r'table:number-rows-repeated="(\d+)"')
_ODS_REPEAT_COLS = re.compile(r'table:number-columns-repeated="(\d+)"')
_ODS_TEXT = re.compile(r"<text:p\b[^>]*>(%s)</text:p>" % _upto("text:p"), re.S)


def _check_ods_size(data: bytes, limits: Limits) -> None:
    """Refuse an .ods whose repeated cells with content add up past the cell limit (a 1.5 KB file can
    declare ten million cells); repeated empty rows, which LibreOffice writes to the sheet's end, are free."""
    try:
        xml = zipfile.ZipFile(io.BytesIO(data)).read("content.xml").decode("utf-8")
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError, OSError, RuntimeError, zlib.error) as e:
        raise BookError("file-unreadable", f".ods 文件{describe(e)}", SAVE_AS_XLSX) from None
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise BookError("file-unreadable", ".ods 文件内含 XML 实体声明（DTD），可能是恶意文件，未读取", SAVE_AS_XLSX)
    total = 0
    for rm in _ODS_ROW.finditer(xml):
        body = rm.group(2)
        if not body or ("value-type" not in body and "<text:" not in body):
            continue
        cols = 0
        for cm in _ODS_CELL.finditer(body):
            if "value-type" in cm.group(1) or (cm.group(2) and "<text:" in cm.group(2)):
                rep = _ODS_REPEAT_COLS.search(cm.group(1))
                cols += int(rep.group(1)) if rep else 1
        rep = _ODS_REPEAT_ROWS.search(rm.group(1))
        total += cols * (int(rep.group(1)) if rep else 1)
        if total > limits.max_cells:
            raise BookError("file-too-large", f"单元格超过 {limits.max_cells} 个", "--max-cells")


def _ods_errors(data: bytes) -> dict[str, dict[tuple[int, int], str]]:
    """Positions and texts of error cells (calcext:value-type="error") in an .ods, by sheet."""
    try:
        xml = zipfile.ZipFile(io.BytesIO(data)).read("content.xml").decode("utf-8")
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError, OSError):
        return {}
    if 'value-type="error"' not in xml or "<!DOCTYPE" in xml[:4096]:
        return {}
    out: dict[str, dict[tuple[int, int], str]] = {}
    for tm in _ODS_TABLE.finditer(xml):
        found: dict[tuple[int, int], str] = {}
        r = 0
        for rm in _ODS_ROW.finditer(tm.group(2)):
            rep = _ODS_REPEAT_ROWS.search(rm.group(1))
            c = 0
            for cm in _ODS_CELL.finditer(rm.group(2) or ""):
                crep = _ODS_REPEAT_COLS.search(cm.group(1))
                if 'value-type="error"' in cm.group(1):
                    t = _ODS_TEXT.search(cm.group(2) or "")
                    found[(r, c)] = _unescape(re.sub(r"<[^>]+>", "", t.group(1))) if t else "#ERROR!"
                c += int(crep.group(1)) if crep else 1
            r += int(rep.group(1)) if rep else 1
        if found:
            out[_unescape(tm.group(1))] = found
    return out


def _calamine_value(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime.combine(v, dt.time())
    return v
