"""Blank forms at the speed of a file copy: build one form per summary unit, then stamp each unit in.

A blank form differs between two units of one summary unit only in a few
strings (the unit's name, its "含…" display and its code), all in the shared
strings part and the document title.  So each summary unit's form is built
once by `build_form` with placeholders, and every unit's form is that
template with those two parts rewritten; the other parts' compressed bytes
are reused as they are.  The result reads exactly like `build_form(plan, unit)`.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

from xlsx_tool.forms.writer import build_form
from xlsx_tool.plan import Plan, SummaryUnit, Unit


def escape(text: str) -> str:
    """XML text escaping (xml.sax.saxutils would import urllib: 50 ms for three replaces)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")


def escape_shared(text: str) -> str:
    """As xlsxwriter writes a shared string: a literal "_x0041_" must not read back as "A"."""
    return escape(_EXCEL_ESCAPE.sub(r"_x005F\1", text))


P_NAME = "\ue000UNIT\ue001"  # private-use characters: never in a real name
P_CODE = "\ue000CODE\ue001"
PATCHED = ("xl/sharedStrings.xml", "docProps/core.xml")


class _Member:
    __slots__ = ("name", "date_time", "external_attr", "crc", "size", "raw", "text")

    def __init__(self, info: zipfile.ZipInfo, raw: bytes, text: str | None):
        self.name = info.filename.encode("ascii")
        self.date_time = info.date_time
        self.external_attr = info.external_attr
        self.crc, self.size, self.raw, self.text = info.CRC, info.file_size, raw, text


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of one member, as stored."""
    off = info.header_offset
    name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
    start = off + 30 + name_len + extra_len
    return data[start : start + info.compress_size]


class FormTemplate:
    def __init__(self, plan: Plan, summary: SummaryUnit):
        self.summary = summary.name
        blank = build_form(plan, Unit(name=P_NAME, summary=summary.name, code=P_CODE))
        zf = zipfile.ZipFile(io.BytesIO(blank))
        self.members = []
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_DEFLATED:
                raise ValueError(f"unexpected compression in template member {info.filename}")
            text = zf.read(info).decode("utf-8") if info.filename in PATCHED else None
            self.members.append(_Member(info, _raw_member(blank, info), text))
        self.guide_line = f"被核查单位：{P_NAME}"

    def render(self, unit: Unit) -> bytes:
        if unit.summary != self.summary:
            raise ValueError(f"{unit.name} belongs to {unit.summary}, not {self.summary}")
        out = io.BytesIO()
        central = []
        for m in self.members:
            crc, size, raw = m.crc, m.size, m.raw
            if m.text is not None:
                esc = escape_shared if m.name == b"xl/sharedStrings.xml" else escape
                text = m.text
                if unit.display != unit.name:
                    text = text.replace(self.guide_line, esc(f"被核查单位：{unit.display}"))
                body = text.replace(P_NAME, esc(unit.name)).replace(P_CODE, esc(unit.code)).encode("utf-8")
                crc, size = zlib.crc32(body), len(body)
                co = zlib.compressobj(6, zlib.DEFLATED, -15)
                raw = co.compress(body) + co.flush()
            offset = out.tell()
            dostime, dosdate = _dos(m.date_time)
            out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, dostime, dosdate, crc, len(raw), size,
                                  len(m.name), 0))
            out.write(m.name)
            out.write(raw)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, dostime, dosdate, crc,
                                       len(raw), size, len(m.name), 0, 0, 0, 0, m.external_attr, offset) + m.name)
        cd_start = out.tell()
        for c in central:
            out.write(c)
        cd_size = out.tell() - cd_start
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), cd_size, cd_start, 0))
        return out.getvalue()


def _dos(date_time) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d
