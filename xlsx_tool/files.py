"""File-system helpers: Windows-safe names, atomic writes, zips that unpack right on Chinese Windows."""

from __future__ import annotations

import os
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0o22)
os.umask(_UMASK)
_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, max_bytes: int = 180) -> str:
    """A file or folder name valid on Windows: no reserved characters or names, no trailing dot/space,
    and short enough (in UTF-8 bytes, Linux's limit is 255) to take a suffix."""
    s = _BAD.sub("_", name).strip().rstrip(". ")
    if s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    while len(s.encode("utf-8")) > max_bytes:
        s = s[:-1]
    return s.rstrip(". ") or "_"


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers see old or new, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".~tmp-", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_dir(out_dir: Path):
    """A staging folder inside out_dir; on success its entries replace those of the same name.

    Either every new entry is in place or, if the work failed before commit, nothing changed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".xlsx-tool-staging-", dir=out_dir))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    trash = Path(tempfile.mkdtemp(prefix=".xlsx-tool-old-", dir=out_dir))
    try:
        for entry in sorted(stage.iterdir()):
            target = out_dir / entry.name
            if target.exists() or target.is_symlink():
                os.replace(target, trash / entry.name)
            os.replace(entry, target)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)


class _GbkZipInfo(zipfile.ZipInfo):
    """A member name stored in GBK (what Windows Explorer on Chinese Windows reads) plus the
    Info-ZIP Unicode Path extra field (0x7075) in UTF-8, which 7-Zip, WinRAR and Linux unzip prefer."""

    def _encodeFilenameFlags(self):  # noqa: N802 (zipfile's private hook)
        try:
            return self.filename.encode("gbk"), self.flag_bits & ~0x800
        except UnicodeEncodeError:
            return super()._encodeFilenameFlags()


def _unicode_path_extra(name: str) -> bytes:
    try:
        raw = name.encode("gbk")
    except UnicodeEncodeError:
        return b""
    utf8 = name.encode("utf-8")
    body = struct.pack("<BI", 1, zlib.crc32(raw)) + utf8
    return struct.pack("<HH", 0x7075, len(body)) + body


def zip_bytes(members: Iterable[tuple[str, bytes]], date_time=(1980, 1, 1, 0, 0, 0)) -> bytes:
    """A deterministic zip (fixed timestamps, given order) in memory; names as `_GbkZipInfo` stores them.

    Workbooks and zips are stored, not deflated again: they are zips already; everything else
    (e.g. the XML parts of a .docx being re-packed) is deflated.
    """
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = _GbkZipInfo(name, date_time=date_time)
            stored = name.lower().endswith((".xlsx", ".xlsm", ".zip"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0  # MS-DOS: names are in the OEM code page (GBK on Chinese Windows)
            info.extra = _unicode_path_extra(name)
            zf.writestr(info, data)
    return buf.getvalue()


def write_zip(path: Path, members: Iterable[tuple[str, bytes]], date_time=(1980, 1, 1, 0, 0, 0)) -> None:
    """A deterministic zip (`zip_bytes`), written atomically."""
    write_atomic(path, zip_bytes(members, date_time))


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """The real name of a zip member: UTF-8 flag, else the Unicode Path extra field, else GBK."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.orig_filename.encode("cp437", errors="replace")  # zipfile decoded it as cp437
    extra = info.extra
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        if tag == 0x7075 and size >= 5 and body[0] == 1 and struct.unpack_from("<I", body, 1)[0] == zlib.crc32(raw):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                break
        i += 4 + size
    for enc in ("utf-8", "gbk"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename
