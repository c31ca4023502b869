"""A corpus of hostile and broken returns, made by code.

Each `case_*` function writes its file(s) into `folder` (the collected folder of a merge)
and returns a `Case`: the names the merge will show for them (relative to the folder, as in
文件清单) and, for each, the status it must get and the finding code that must explain it.

Forms that the merge is meant to count belong to units outside the baseline (see
`BASELINE`) and score low (`low_entries`), so that adding any case to a folder of
baseline returns leaves the baseline units' scores and ranks exactly as they were.

    cases = build_corpus(folder, plan)          # every case into one folder
    case = case_encrypted(folder, plan)         # or one case
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from xlsx_tool.forms import layout as L
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form
from xlsx_tool.plan import Plan

COUNTED, DUPLICATE, COPY, REFUSED, IGNORED = "采用", "未采用（同一单位另有采用的文件）", "重复发送（只计一次）", "拒收", "忽略"
MB = 1024 * 1024

# --------------------------------------------------------------------------- baseline returns

# unit -> {seq: deduction}; every deduction valid, with a reason, dated inside the window: no errors.
BASELINE: dict[str, dict[int, float]] = {
    "州纪委监察局": {},  # 98
    "州委组织部": {3: 2},  # 96
    "州委宣传部": {5: 3, 9: 1.5},  # 93.5
    "州委统战部": {3: 4, 4: 2, 12: 2},  # 90
    "州委办": {8: 1},  # 97, 第二核查组
}


def baseline_name(unit: str) -> str:
    return f"{unit}-评分细则.xlsx"


def window_start(plan: Plan, unit: str) -> dt.date:
    return plan.summary(plan.unit(unit).summary).window[0]


def form_entries(plan: Plan, unit: str, deductions: dict[int, object], reason: str = "台账资料不全",
                 highlight: str = "") -> FormEntries:
    e = FormEntries(date=window_start(plan, unit))
    for seq, d in deductions.items():
        e.items[seq] = ItemEntry(highlight=highlight, reason=reason, deduction=d)
    return e


def build_baseline(folder: Path, plan: Plan, mtime: float | None = None) -> list[str]:
    """The valid returns every hostile case is compared against; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for unit, deds in BASELINE.items():
        path = folder / baseline_name(unit)
        path.write_bytes(build_form(plan, plan.unit(unit), form_entries(plan, unit, deds)))
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        names.append(path.name)
    return names


# Units a hostile case may use for a form that gets counted: none is in a baseline summary unit.
HOSTILE_UNITS = [
    "州商务局", "州卫生和计生委", "州审计局", "州环保局", "州人大常委会机关", "州政协机关", "州国资委",
    "湘西民族职业技术学院", "湘西长行村镇银行", "州旅游港澳外事侨务局", "国家统计局湘西调查队",
    "州委政策研究室", "州接待处", "州档案局", "州委党史研究室",
    "州委党校", "州委老干部局", "州总工会", "团州委", "州妇联", "州老干活动中心", "州编办",
    "州委讲师团", "团结报社",
]
LOW_DEDUCTIONS = {3: 10, 9: 10, 12: 10}  # 98 - 30 = 68: below every baseline score
LOW_SCORE = 68


def low_entries(plan: Plan, unit: str, **kw) -> FormEntries:
    return form_entries(plan, unit, LOW_DEDUCTIONS, **kw)


def low_form(plan: Plan, unit: str, **kw) -> bytes:
    """A valid, low-scoring form of a hostile unit."""
    return build_form(plan, plan.unit(unit), low_entries(plan, unit, **kw))


# --------------------------------------------------------------------------- cases


@dataclass
class Expect:
    status: str | frozenset[str]  # one status, or the set of acceptable ones
    code: str | None = None  # a finding code the file must carry (None: no particular one)
    unit: str | None = None  # the unit a counted file must be matched to
    score: float | None = None  # the score a counted file must get

    def allows(self, status: str) -> bool:
        return status == self.status if isinstance(self.status, str) else status in self.status


@dataclass
class Case:
    name: str
    files: dict[str, Expect]  # shown name (relative posix path) -> what the merge must say
    made: list[Path] = field(default_factory=list)  # the paths written (outside targets included)
    note: str = ""


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _one(name: str, folder: Path, fname: str, data: bytes, expect: Expect, note: str = "") -> Case:
    path = _write(folder, fname, data)
    return Case(name, {fname: expect}, [path], note)


def rezip(data: bytes, change: Callable[[str, bytes], bytes | None] | None = None,
          add: dict[str, bytes] | None = None) -> bytes:
    """Copy an xlsx zip, letting `change(name, body)` replace (bytes) or drop (None) members."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if change is not None:
                body = change(info.filename, body)
                if body is None:
                    continue
            zout.writestr(info.filename, body)
        for name, body in (add or {}).items():
            zout.writestr(name, body)
    return buf.getvalue()


def _part(name: str, part: str, fn: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda n, b: fn(b) if n == part else b


SHEET1 = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def a1(plan: Plan, seq: int, col: int) -> str:
    index = next(i for i, it in enumerate(plan.rubric.items) if it.seq == seq)
    return L.a1(L.item_row(index), col)


def _openpyxl_edit(data: bytes, edit: Callable[[openpyxl.Workbook], None]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- not a workbook at all


def case_empty(folder: Path, plan: Plan) -> Case:
    return _one("empty", folder, "州委组织部-评分细则(空).xlsx", b"", Expect(REFUSED, "file-empty"))


def case_truncated(folder: Path, plan: Plan) -> Case:
    data = low_form(plan, HOSTILE_UNITS[0])
    return _one("truncated", folder, "州商务局-评分细则(不完整).xlsx", data[: len(data) // 2],
                Expect(REFUSED, "file-unreadable"), "an email attachment cut in half")


def case_text_renamed(folder: Path, plan: Plan) -> Case:
    text = "各位领导：\r\n评分表见附件，请查收。\r\n州审计局 办公室\r\n".encode("gbk")
    return _one("text-renamed", folder, "州审计局-评分细则.xlsx", text, Expect(REFUSED, "file-unsupported"))


def case_html_renamed(folder: Path, plan: Plan) -> Case:
    html = ("<html><head><meta charset='utf-8'></head><body><table><tr><td>核实项目</td><td>得分</td></tr>"
            "</table></body></html>").encode()
    return _one("html-renamed", folder, "州审计局-评分细则(网页).xlsx", html, Expect(REFUSED, "file-unsupported"),
                "WPS/Excel 'save as web page' renamed to .xlsx")


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                   'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                   '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                   'document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                   'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>州环保局核查情况说明</w:t></w:r></w:p>'
                   '</w:body></w:document>')
    return buf.getvalue()


def case_docx_renamed(folder: Path, plan: Plan) -> Case:
    return _one("docx-renamed", folder, "州环保局-评分细则.xlsx", docx_bytes(), Expect(REFUSED, "file-unsupported"))


def case_ole_garbage(folder: Path, plan: Plan) -> Case:
    """An old-format header followed by nothing that calamine can read."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8
    return _one("ole-garbage", folder, "州环保局-评分细则.xls", data, Expect(REFUSED, "file-unreadable"))


def case_encrypted(folder: Path, plan: Plan) -> Case:
    from msoffcrypto.format.ooxml import OOXMLFile  # test dependency: msoffcrypto-tool

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(low_form(plan, HOSTILE_UNITS[1]))).encrypt("123456", out)
    return _one("encrypted", folder, "州卫生和计生委-评分细则.xlsx", out.getvalue(), Expect(REFUSED, "file-encrypted"))


def set_encrypted_flag(data: bytes) -> bytes:
    """Mark every member of a zip as encrypted (general-purpose flag bit 0), in local and central headers:
    what a zip made with a password ("ZipCrypto") looks like to a reader without the password."""
    buf = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = 0
        while (i := buf.find(sig, i)) >= 0:
            flags = struct.unpack_from("<H", buf, i + off)[0]
            struct.pack_into("<H", buf, i + off, flags | 0x1)
            i += 4
    return bytes(buf)


def case_zip_password_xlsx(folder: Path, plan: Plan) -> Case:
    """An .xlsx whose parts are zip-encrypted (a password set by an archiver, not by Excel)."""
    return _one("zip-password-xlsx", folder, "州卫生和计生委-评分细则(加密).xlsx",
                set_encrypted_flag(low_form(plan, HOSTILE_UNITS[1])), Expect(REFUSED, "file-encrypted"))


def case_zip_password_archive(folder: Path, plan: Plan) -> Case:
    """A password-protected .zip of returns."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{HOSTILE_UNITS[1]}-评分细则.xlsx", low_form(plan, HOSTILE_UNITS[1]))
    name = "第三核查组(加密).zip"
    path = _write(folder, name, set_encrypted_flag(buf.getvalue()))
    return Case("zip-password-archive", {f"{name}/{HOSTILE_UNITS[1]}-评分细则.xlsx": Expect(REFUSED, "file-encrypted")},
                [path])


def case_zip_archive_bad_member(folder: Path, plan: Plan) -> Case:
    """A .zip of returns, one member damaged (its local header points 1 byte into the data), one intact."""
    bad, good = HOSTILE_UNITS[23], HOSTILE_UNITS[22]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{bad}-评分细则.xlsx", low_form(plan, bad))
        z.writestr(f"{good}-评分细则.xlsx", low_form(plan, good))
    data = bytearray(buf.getvalue())
    struct.pack_into("<H", data, 28, 1)  # the first member's local extra-field length: 0 -> 1
    name = "第三核查组(损坏).zip"
    path = _write(folder, name, bytes(data))
    return Case("zip-archive-bad-member", {f"{name}/{bad}-评分细则.xlsx": Expect(REFUSED, "file-unreadable"),
                                           f"{name}/{good}-评分细则.xlsx": Expect(COUNTED, None, good, LOW_SCORE)},
                [path])


# ---- macros, bombs, entities


def xlsm_bytes(data: bytes) -> bytes:
    ct = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

    def change(name: str, body: bytes) -> bytes:
        if name == "[Content_Types].xml":
            text = body.decode()
            text = text.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", ct)
            text = text.replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.'
                                             'vbaProject"/></Types>')
            return text.encode()
        if name == "xl/_rels/workbook.xml.rels":
            return body.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/'
                                                     b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                                     b"</Relationships>")
        return body

    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n' \
          b'Shell "cmd /c calc"\r\nEnd Sub\r\n'
    return rezip(data, change, {"xl/vbaProject.bin": vba})


def case_xlsm_macro(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[2]
    return _one("xlsm-macro", folder, f"{unit}-评分细则.xlsm", xlsm_bytes(low_form(plan, unit)),
                Expect(COUNTED, "file-macro", unit, LOW_SCORE))


def case_zip_bomb(folder: Path, plan: Plan) -> Case:
    """A form whose sheet part inflates to 64 MB (of spaces after the sheet data): far past any real form."""
    pad = b" " * (64 * MB)
    data = rezip(low_form(plan, HOSTILE_UNITS[3]), _part("", SHEET1, lambda b: b.replace(b"</sheetData>", b"</sheetData>" + pad)))
    return _one("zip-bomb", folder, "州环保局-评分细则(炸弹).xlsx", data, Expect(REFUSED, "file-too-large"))


def _lie_about_sizes(data: bytes, member: str, size: int) -> bytes:
    """Patch a zip's local and central headers so `member` claims `size` uncompressed bytes."""
    buf = bytearray(data)
    raw = member.encode()
    i = 0
    while True:
        i = buf.find(b"PK\x03\x04", i)
        if i < 0:
            break
        n, m = struct.unpack_from("<HH", buf, i + 26)
        if bytes(buf[i + 30 : i + 30 + n]) == raw:
            struct.pack_into("<I", buf, i + 22, size)
        i += 4
    i = 0
    while True:
        i = buf.find(b"PK\x01\x02", i)
        if i < 0:
            break
        n = struct.unpack_from("<H", buf, i + 28)[0]
        if bytes(buf[i + 46 : i + 46 + n]) == raw:
            struct.pack_into("<I", buf, i + 24, size)
        i += 4
    return bytes(buf)


def case_zip_bomb_lying(folder: Path, plan: Plan) -> Case:
    """The same bomb, but the zip's directory claims the sheet is 20 KB: the size check alone is fooled."""
    pad = b" " * (64 * MB)
    data = rezip(low_form(plan, HOSTILE_UNITS[3]), _part("", SHEET1, lambda b: b.replace(b"</sheetData>", b"</sheetData>" + pad)))
    data = _lie_about_sizes(data, SHEET1, 20_000)
    return _one("zip-bomb-lying", folder, "州环保局-评分细则(炸弹2).xlsx", data,
                Expect(frozenset({REFUSED}), None))


def cells_bomb(plan: Plan, unit: str, cells: int = 250_000) -> bytes:
    """A valid form plus, below its data, zeros in the first and last of 50 columns down enough rows that a
    reader lays out `cells` cells (the rectangle around them), past the default cell limit."""
    extra = "".join(f'<row r="{100 + r}">' + "".join(f'<c r="{L.col_letters(c)}{100 + r}"><v>0</v></c>' for c in (0, 49)) + "</row>"
                    for r in range(cells // 50))
    return rezip(low_form(plan, unit), _part("", SHEET1, lambda b: b.replace(b"</sheetData>", extra.encode() + b"</sheetData>")))


def case_cells_bomb(folder: Path, plan: Plan) -> Case:
    return _one("cells-bomb", folder, "州人大常委会机关-评分细则(单元格).xlsx", cells_bomb(plan, HOSTILE_UNITS[4]),
                Expect(REFUSED, "file-too-large"))


def ods_bytes(content_body: str) -> bytes:
    """A minimal OpenDocument spreadsheet whose content.xml body is `content_body`."""
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f"<office:body><office:spreadsheet>{content_body}</office:spreadsheet></office:body>"
               "</office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return buf.getvalue()


def case_ods_repeat_bomb(folder: Path, plan: Plan) -> Case:
    """1.5 KB of .ods whose repeated rows and columns make 1,000,000 cells (5 times the default cell limit;
    a file of the same size can ask for 10^9, which no machine holds)."""
    body = ('<table:table table:name="评分细则"><table:table-row><table:table-cell office:value-type="string">'
            "<text:p>核实项目</text:p></table:table-cell></table:table-row>"
            '<table:table-row table:number-rows-repeated="10000"><table:table-cell table:number-columns-repeated="100" '
            'office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
            "</table:table>")
    return _one("ods-repeat-bomb", folder, "州人大常委会机关-评分细则.ods", ods_bytes(body), Expect(REFUSED, "file-too-large"))


def case_unclosed_rows(folder: Path, plan: Plan) -> Case:
    """200,000 `<row>` tags that never close (2 MB inflated, a few KB on disk): a reader that scans
    ahead for each one's end does quadratic work.  The merge must still finish."""
    junk = b'<row r="30">' * 200_000
    data = rezip(low_form(plan, HOSTILE_UNITS[5]), _part("", SHEET1, lambda b: b.replace(b"</sheetData>", junk + b"</sheetData>")))
    return _one("unclosed-rows", folder, "州政协机关-评分细则(坏行).xlsx", data,
                Expect(frozenset({REFUSED, COUNTED, DUPLICATE})))


def case_unclosed_strings(folder: Path, plan: Plan) -> Case:
    """The same with 200,000 unclosed `<si>` in the shared strings."""
    junk = b"<si><t>x</t>" * 200_000
    data = rezip(low_form(plan, HOSTILE_UNITS[5]), _part("", STRINGS, lambda b: b.replace(b"</sst>", junk + b"</sst>")))
    return _one("unclosed-strings", folder, "州政协机关-评分细则(坏字符串).xlsx", data,
                Expect(frozenset({REFUSED, COUNTED, DUPLICATE})))


LAUGHS = ('<!DOCTYPE sst [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10))
          + "]>")


def case_billion_laughs(folder: Path, plan: Plan) -> Case:
    def fn(b: bytes) -> bytes:
        head, rest = b.split(b"?>", 1)
        rest = rest.replace(b"<t>", b"<t>&lol9;", 1)
        return head + b"?>" + LAUGHS.encode() + rest

    data = rezip(low_form(plan, HOSTILE_UNITS[6]), _part("", STRINGS, fn))
    return _one("billion-laughs", folder, "州国资委-评分细则.xlsx", data, Expect(REFUSED, "file-unreadable"))


def xxe_bytes(plan: Plan, unit: str, url: str, pad: int = 0) -> bytes:
    """A form whose sheet declares an external entity (`url`) and uses it in the 扣分情况 of item 3,
    and a parameter entity fetched from the same place.  `pad` characters of comment before the DTD."""
    dtd = (f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{url}"><!ENTITY % ext SYSTEM "{url}.dtd"> %ext;]>').encode()
    ref = a1(plan, 3, L.COL_REASON)

    def fn(b: bytes) -> bytes:
        head, rest = b.split(b"?>", 1)
        cell_start = rest.index(f'<c r="{ref}"'.encode())
        cell_end = rest.index(b"</c>", cell_start) + 4
        rest = rest[:cell_start] + f'<c r="{ref}" t="inlineStr"><is><t>&xxe;</t></is></c>'.encode() + rest[cell_end:]
        return head + b"?>" + (b"<!--" + b"x" * pad + b"-->" if pad else b"") + dtd + rest

    return rezip(low_form(plan, unit), _part("", SHEET1, fn))


def case_external_entity(folder: Path, plan: Plan, url: str = "file:///etc/passwd") -> Case:
    return _one("external-entity", folder, "湘西民族职业技术学院-评分细则.xlsx", xxe_bytes(plan, HOSTILE_UNITS[7], url),
                Expect(REFUSED, "file-unreadable"))


def case_dtd_after_padding(folder: Path, plan: Plan, url: str = "file:///etc/passwd") -> Case:
    """The external entity again, its DTD after a 5,000-character comment."""
    return _one("dtd-after-padding", folder, "湘西民族职业技术学院-评分细则(2).xlsx",
                xxe_bytes(plan, HOSTILE_UNITS[7], url, pad=5000), Expect(REFUSED, "file-unreadable"))


# ---- left by programs


def case_lock_file(folder: Path, plan: Plan) -> Case:
    owner = "Administrator".encode("utf-16-le")
    data = bytes([len("Administrator")]) + b"\x00" + owner + b"\x20" * (54 - len(owner)) + b"\x00" * 109
    return _one("lock-file", folder, "~$州委组织部-评分细则.xlsx", data, Expect(IGNORED, "file-ignored"))


def case_os_junk(folder: Path, plan: Plan) -> Case:
    made = [_write(folder, ".DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 2000),
            _write(folder, "Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000),
            _write(folder, "desktop.ini", "[.ShellClassInfo]\r\n".encode("utf-16")),
            _write(folder, "__MACOSX/._州委组织部-评分细则.xlsx", b"\x00\x05\x16\x07" + b"\x00" * 100)]
    return Case("os-junk", {p.relative_to(folder).as_posix(): Expect(IGNORED, "file-ignored") for p in made}, made)


def case_wps_et(folder: Path, plan: Plan) -> Case:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"WPS" + b"\x00" * 509
    return _one("wps-et", folder, "湘西长行村镇银行-评分细则.et", data, Expect(REFUSED, "file-unsupported"))


def case_symlink_outside(folder: Path, plan: Plan) -> Case:
    """A link to a valid form outside the folder: it must not be read, even though it would count."""
    outside = folder.parent / (folder.name + "-outside")
    outside.mkdir(parents=True, exist_ok=True)
    target = _write(outside, "secret.xlsx", low_form(plan, HOSTILE_UNITS[8]))
    link = folder / "湘西长行村镇银行-评分细则.xlsx"
    os.symlink(target, link)
    return Case("symlink-outside", {link.name: Expect(REFUSED, "file-outside")}, [link, target])


# ---- forms people changed


def case_max_edited(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[9]
    data = _openpyxl_edit(low_form(plan, unit), lambda wb: wb[L.FORM_SHEET].__setitem__(a1(plan, 1, L.COL_MAX), 50))
    return _one("max-edited", folder, f"{unit}-评分细则.xlsx", data, Expect(COUNTED, "rubric-max-changed", unit, LOW_SCORE))


def case_text_edited(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[10]
    data = _openpyxl_edit(low_form(plan, unit),
                          lambda wb: wb[L.FORM_SHEET].__setitem__(a1(plan, 2, L.COL_TEXT), "2、（本项不适用本单位）"))
    return _one("text-edited", folder, f"{unit}-评分细则.xlsx", data, Expect(COUNTED, "rubric-text-changed", unit, LOW_SCORE))


def case_formula_overwritten(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[11]
    # item 3 lost 10 of 10; the office typed its old score over the formula
    data = _openpyxl_edit(low_form(plan, unit), lambda wb: wb[L.FORM_SHEET].__setitem__(a1(plan, 3, L.COL_SCORE), 10))
    return _one("formula-overwritten", folder, f"{unit}-评分细则.xlsx", data,
                Expect(COUNTED, "formula-overwritten", unit, LOW_SCORE))


def case_row_inserted(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[12]

    def edit(wb):
        ws = wb[L.FORM_SHEET]
        for coord in [m.coord for m in ws.merged_cells.ranges]:
            ws.unmerge_cells(coord)
        ws.insert_rows(L.ROW_FIRST_ITEM + 1)  # above the first item, below the header
        ws.cell(row=L.ROW_FIRST_ITEM + 1, column=1, value="（说明：本单位2017年7月机构调整）")

    data = _openpyxl_edit(low_form(plan, unit), edit)
    return _one("row-inserted", folder, f"{unit}-评分细则.xlsx", data, Expect(COUNTED, None, unit, LOW_SCORE))


def case_sheet_renamed(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[13]

    def edit(wb):
        wb[L.FORM_SHEET].title = "Sheet1"

    data = _openpyxl_edit(low_form(plan, unit), edit)
    return _one("sheet-renamed", folder, f"{unit}-评分细则.xlsx", data, Expect(COUNTED, None, unit, LOW_SCORE))


def case_identity_removed(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[14]

    def edit(wb):
        del wb[L.IDENTITY_SHEET]

    data = _openpyxl_edit(low_form(plan, unit), edit)
    return _one("identity-removed", folder, f"{unit}-评分细则.xlsx", data,
                Expect(COUNTED, "identity-missing", unit, LOW_SCORE))


def case_identity_unknown(folder: Path, plan: Plan) -> Case:
    def edit(wb):
        ws = wb[L.IDENTITY_SHEET]
        for row in ws.iter_rows(min_col=1, max_col=2):
            if row[0].value == "被核查单位":
                row[1].value = "州外事办（已撤销）"

    data = _openpyxl_edit(low_form(plan, HOSTILE_UNITS[15]), edit)
    return _one("identity-unknown", folder, "州外事办-评分细则.xlsx", data, Expect(REFUSED, "identity-unknown-unit"))


def case_bad_values(folder: Path, plan: Plan) -> Case:
    """Error values, a boolean and dates where numbers belong (deductions of items 1, 2, 4, 6, 7; 分值 of 5)."""
    unit = HOSTILE_UNITS[16]

    def edit(wb):
        wb.iso_dates = True
        ws = wb[L.FORM_SHEET]
        ws[a1(plan, 1, L.COL_DEDUCTION)] = "#DIV/0!"
        ws[a1(plan, 2, L.COL_DEDUCTION)] = "#REF!"
        ws[a1(plan, 4, L.COL_DEDUCTION)] = True
        ws[a1(plan, 6, L.COL_DEDUCTION)] = dt.datetime(2017, 10, 23)
        ws[a1(plan, 7, L.COL_DEDUCTION)] = dt.time(2, 0)
        ws[a1(plan, 5, L.COL_MAX)] = "#REF!"
        for seq in (1, 2, 4, 6, 7):
            ws[a1(plan, seq, L.COL_REASON)] = "材料不全"

    data = _openpyxl_edit(low_form(plan, unit), edit)
    return _one("bad-values", folder, f"{unit}-评分细则.xlsx", data,
                Expect(COUNTED, "deduction-not-number", unit, LOW_SCORE))


LONG_TEXT = ("会议记录不全，" * 5000)[:32767]


def case_long_text(folder: Path, plan: Plan) -> Case:
    """32,767 characters (Excel's cell maximum) in a reason and in a highlight."""
    unit = HOSTILE_UNITS[17]
    e = low_entries(plan, unit, reason=LONG_TEXT, highlight=LONG_TEXT)
    return _one("long-text", folder, f"{unit}-评分细则.xlsx", build_form(plan, plan.unit(unit), e),
                Expect(COUNTED, None, unit, LOW_SCORE))


FORMULA_TEXTS = ["=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
                 "=HYPERLINK(\"http://127.0.0.1/x\",\"点这里\")", "\t=1+1", "\r=1+1"]
FORMULA_FILE = "=1+1-评分细则.xlsx"


def case_formula_texts(folder: Path, plan: Plan) -> Case:
    """Texts that look like formulas in every text input, the deduction and the date; the file name too."""
    unit = HOSTILE_UNITS[18]
    e = low_entries(plan, unit)
    for i, item in enumerate(plan.rubric.items):
        t = FORMULA_TEXTS[i % len(FORMULA_TEXTS)]
        old = e.items.get(item.seq)
        e.items[item.seq] = ItemEntry(highlight=t, reason=t, deduction=old.deduction if old else None)
    e.items[1] = ItemEntry(highlight=FORMULA_TEXTS[0], reason=FORMULA_TEXTS[0], deduction=FORMULA_TEXTS[0])
    e.date = FORMULA_TEXTS[1]
    return _one("formula-texts", folder, FORMULA_FILE, build_form(plan, plan.unit(unit), e),
                Expect(COUNTED, "deduction-not-number", unit, LOW_SCORE))


# ---- files and units


def case_same_file_twice(folder: Path, plan: Plan) -> Case:
    """The same bytes under two names: counted once (the first in path order), the other a copy."""
    unit = HOSTILE_UNITS[19]
    data = low_form(plan, unit)
    a = _write(folder, f"{unit}-评分细则.xlsx", data)
    b = _write(folder, f"{unit}-评分细则（再次发送）.xlsx", data)
    first, second = sorted([a, b])
    return Case("same-file-twice", {first.name: Expect(COUNTED, None, unit, LOW_SCORE),
                                    second.name: Expect(COPY, "file-duplicate-copy", unit)}, [a, b])


def case_two_files_one_unit(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[20]
    old = _write(folder, f"{unit}-评分细则(初稿).xlsx", build_form(plan, plan.unit(unit), form_entries(plan, unit, {3: 8})))
    new = _write(folder, f"{unit}-评分细则(终稿).xlsx", low_form(plan, unit))
    t = dt.datetime(2017, 10, 25, 9, 0).timestamp()
    os.utime(old, (t, t))
    os.utime(new, (t + 3600, t + 3600))
    return Case("two-files-one-unit", {new.name: Expect(COUNTED, "unit-duplicate", unit, LOW_SCORE),
                                       old.name: Expect(DUPLICATE, None, unit)}, [old, new])


class _GbkName(zipfile.ZipInfo):
    """A member name in GBK without the UTF-8 flag or a Unicode extra field: what Explorer on Chinese Windows writes."""

    def _encodeFilenameFlags(self):  # noqa: N802
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def gbk_zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = _GbkName(name, date_time=(2017, 10, 24, 18, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            z.writestr(info, data)
    return buf.getvalue()


def case_gbk_zip(folder: Path, plan: Plan) -> Case:
    unit = HOSTILE_UNITS[21]
    member = f"州委组织部直属机关党委/{unit}-评分细则.xlsx"
    data = gbk_zip([(member, low_form(plan, unit)), ("州委组织部直属机关党委/Thumbs.db", b"\x00" * 64)])
    name = "州委组织部直属机关党委（评分表）.zip"
    path = _write(folder, name, data)
    return Case("gbk-zip", {f"{name}/{member}": Expect(COUNTED, None, unit, LOW_SCORE),
                            f"{name}/州委组织部直属机关党委/Thumbs.db": Expect(IGNORED, "file-ignored")}, [path])


def other_period_bytes(plan: Plan, unit: str) -> bytes:
    def edit(wb):
        ws = wb[L.IDENTITY_SHEET]
        for row in ws.iter_rows(min_col=1, max_col=2):
            if row[0].value == "方案编号":
                row[1].value = "xiangxi-zhizhi-2017q2"
            elif row[0].value == "核查期间":
                row[1].value = "2017年第二季度"
        form = wb[L.FORM_SHEET]
        form["A1"] = str(form["A1"].value).replace("三季度", "二季度")

    return _openpyxl_edit(low_form(plan, unit), edit)


def case_other_period(folder: Path, plan: Plan) -> Case:
    return _one("other-period", folder, "州委组织部-评分细则(二季度).xlsx", other_period_bytes(plan, "州委组织部"),
                Expect(REFUSED, "identity-other-plan"), "a baseline unit's old form: must not replace its return")


def case_other_period_retyped(folder: Path, plan: Plan) -> Case:
    """Another period's form retyped into a new workbook: no identity, only the title tells."""
    src = openpyxl.load_workbook(io.BytesIO(low_form(plan, "州纪委监察局")))
    ws = src[L.FORM_SHEET]
    wb = openpyxl.Workbook()
    new = wb.active
    new.title = "Sheet1"
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and not isinstance(c, openpyxl.cell.cell.MergedCell):
                new.cell(row=c.row, column=c.column, value=c.value)
    new["A1"] = str(ws["A1"].value).replace("三季度", "二季度")
    buf = io.BytesIO()
    wb.save(buf)
    return _one("other-period-retyped", folder, "州纪委监察局-评分细则(二季度).xlsx", buf.getvalue(),
                Expect(REFUSED, "identity-other-plan"))


CASES: list[Callable[[Path, Plan], Case]] = [
    case_empty, case_truncated, case_text_renamed, case_html_renamed, case_docx_renamed,
    case_ole_garbage, case_encrypted, case_zip_password_xlsx, case_zip_password_archive,
    case_zip_archive_bad_member, case_xlsm_macro, case_zip_bomb, case_zip_bomb_lying, case_cells_bomb,
    case_ods_repeat_bomb, case_unclosed_rows, case_unclosed_strings, case_billion_laughs, case_external_entity, case_dtd_after_padding, case_lock_file,
    case_os_junk, case_wps_et, case_symlink_outside, case_max_edited, case_text_edited, case_formula_overwritten,
    case_row_inserted, case_sheet_renamed, case_identity_removed, case_identity_unknown, case_bad_values,
    case_long_text, case_formula_texts, case_same_file_twice, case_two_files_one_unit, case_gbk_zip,
    case_other_period, case_other_period_retyped,
]


def build_corpus(folder: Path, plan: Plan, cases=None) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make(folder, plan) for make in (cases or CASES)]


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True)


