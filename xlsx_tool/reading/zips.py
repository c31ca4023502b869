"""Zip archives as they arrive (workbooks are zips too), opened with zipfile and never trusted.

`read_member` is the one way the tool inflates a member: it stops at the limit whatever the
member's header claims, so a file whose size header lies cannot make a merge take gigabytes.
Names stored in GBK by Chinese Windows are decoded by `files.zip_member_name`.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from xlsx_tool.errors_zh import describe
from xlsx_tool.reading.limits import MB

# What zipfile raises for a damaged, truncated or unsupported archive or member.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, NotImplementedError,
              RuntimeError, zlib.error, KeyError)


class ZipProblem(Exception):
    """Why an archive or one of its members cannot be read: `kind` is "damaged", "too-large" or "encrypted"."""

    def __init__(self, kind: str, why: str):
        self.kind, self.why = kind, why
        super().__init__(why)


def open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as e:
        raise ZipProblem("damaged", describe(e)) from None


def check_declared(zf: zipfile.ZipFile, max_bytes: int, max_members: int = 10_000) -> None:
    """Refuse an archive whose members say they unpack to more than `max_bytes` (a zip bomb) before
    anything is inflated; a member that lies about its size is caught by `read_member`."""
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if total > max_bytes or len(infos) > max_members:
        raise ZipProblem("too-large", f"解压后 {total / MB:.0f} MB、{len(infos)} 个文件，超过 {max_bytes / MB:.0f} MB（疑似压缩炸弹）")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo | str, limit: int) -> bytes:
    """A member's bytes, inflating at most `limit` + 1 bytes whatever its header says."""
    try:
        info = info if isinstance(info, zipfile.ZipInfo) else zf.getinfo(info)
        if info.flag_bits & 0x1:
            raise ZipProblem("encrypted", "压缩包设置了密码")
        with zf.open(info) as f:
            data = f.read(limit + 1)  # zipfile inflates in bounded steps up to this many bytes
    except ZipProblem:
        raise
    except ZIP_ERRORS as e:
        raise ZipProblem("damaged", describe(e)) from None
    if len(data) > limit:
        raise ZipProblem("too-large", f"“{info.filename}”解压后超过 {limit / MB:.0f} MB")
    return data


class Package:
    """A workbook's zip by part name.  Names are as the format writes them ("xl/workbook.xml"); some
    Windows tools store them with backslashes, which Excel and calamine accept, so the tool does too."""

    def __init__(self, data: bytes):
        self.zf = open_zip(data)
        self.parts = {i.filename.replace("\\", "/"): i for i in self.zf.infolist()}

    def read(self, name: str, limit: int) -> bytes:
        if name not in self.parts:  # named by another part, but not there
            raise ZipProblem("damaged", f"缺少部件“{name}”")
        return read_member(self.zf, self.parts[name], limit)
