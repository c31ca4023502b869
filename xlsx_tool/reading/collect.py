"""Walk the collected folder: every file becomes a `Source` to read, or an accounted-for refusal.

Whatever is in the folder, each entry ends as a source or a refusal with a reason: a folder that
cannot be opened, a link that leads outside or round in a circle, a named pipe, a name that is not
valid UTF-8 (shown with "�", still read).  Zip archives (as e-mailed, member names possibly GBK) are
opened in memory and each member becomes a source named "archive.zip/member"; a saved e-mail (.eml)
gives one source per attachment, "信.eml/附件名.xlsx", tagged with its sender and time.  A file's kind is told
from its content, not its name.  Nothing under the folder is ever written to.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from xlsx_tool.errors_zh import describe
from xlsx_tool.files import zip_member_name
from xlsx_tool.reading.limits import MB, Limits, sniff
from xlsx_tool.reading.zips import ZipProblem, check_declared, open_zip, read_member
from xlsx_tool.textnorm import safe_text

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db"}
# Word documents and the like: a summary unit's 简要核查报告 or a 附件3 typed in Word; passed on whole for
# the merge to look at (never read as workbooks, whatever their content).
DOCUMENTS = {".docx", ".doc", ".pdf", ".wps"}
# Other documents people attach beside the forms: ignored, with the reason.
OTHER_DOCUMENTS = {".docm", ".dotx", ".txt", ".rtf", ".pptx", ".ppt", ".csv",
                   ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".htm", ".html", ".msg", ".xml"}
ARCHIVES_UNREAD = {".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz"}
MAX_ZIP_DEPTH = 2
ZIP_FACTOR = 4  # an archive may unpack to this many times the limit for one workbook
MAIL_FACTOR = 2  # a saved e-mail may be this many times the limit: base64 makes an attachment 4/3 its size,
#                  so a mail holding one workbook at the limit is still read (and each attachment checked)


class Source(NamedTuple):
    name: str  # shown to people: relative path, "a.zip/b.xlsx" for archive members
    data: bytes | None = None
    mtime: float = 0.0
    # when data is None the source is refused or ignored:
    code: str = ""
    params: dict | None = None
    mail: tuple[str, str] | None = None  # (sender, sent "2017-11-03 14:20" or "") for what came in an e-mail

    @property
    def suffix(self) -> str:
        return suffix_of(self.name)


def base_of(name: str) -> str:
    return name.rpartition("/")[2]


def suffix_of(name: str) -> str:
    """".xlsx" (lower case); "" for ".xlsx" alone (a hidden file) or "a."."""
    base = base_of(name)
    i = base.rfind(".")
    return base[i:].lower() if 0 < i < len(base) - 1 else ""


def display_name(rel: str) -> str:
    """A path as people see it: "/" between folders, bytes that are not UTF-8 (a name made on Chinese
    Windows, copied in raw) shown as "�"."""
    return safe_text(os.fsencode(rel).decode("utf-8", "replace").replace(os.sep, "/"))


def _refuse(name: str, code: str, mtime: float = 0.0, **params) -> Source:
    return Source(name, None, mtime, code, params)


def _classify(name: str) -> Source | None:
    """An early verdict from the name alone, or None to read the file."""
    base = base_of(name)
    low = base.lower()
    if base.startswith("~$"):
        return _refuse(name, "file-ignored", why="Excel/WPS 打开文件时留下的临时锁文件")
    if low in IGNORED_NAMES or base.startswith("._") or "__MACOSX/" in name:
        return _refuse(name, "file-ignored", why="操作系统生成的文件")
    if low.endswith((".et", ".ett")):
        return _refuse(name, "file-unsupported", why="WPS 专用的 .et 格式无法读取",
                       todo="请对方在 WPS 中“另存为”Excel 工作簿（*.xlsx）再发来")
    return None


def walk(root: Path, skip: tuple[Path, ...] = ()) -> tuple[list[Path], list[Source]]:
    """Every entry under root that is not a folder (files, links, pipes…), in a stable order (what
    sorted(rglob) gives), links listed and not followed; and a refusal for each folder that could not
    be opened (no permission, a path too long), so that nothing in it goes missing silently.
    Folders in `skip` (the merge's own output folder, when it lies inside) are not entered."""
    found: list[str] = []
    problems: list[Source] = []
    top = os.fspath(root)
    skipped = {os.path.realpath(s) for s in skip}
    folders = [top]
    while folders:
        folder = folders.pop()
        if skipped and folder != top and os.path.realpath(folder) in skipped:
            continue
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    try:
                        is_dir = e.is_dir(follow_symlinks=False)
                    except OSError:
                        is_dir = False
                    (folders if is_dir else found).append(e.path)
        except OSError as e:
            if folder == top and not os.path.isdir(top):
                continue  # no collected folder at all: the caller says so
            rel = os.path.relpath(folder, top)
            problems.append(_refuse(display_name(rel) + "/", "file-unreadable", why=f"文件夹无法打开：{describe(e)}",
                                    todo="请检查文件夹的权限和路径长度，或把其中的文件移到收表文件夹的上一层"))
    found.sort(key=lambda path: path.split(os.sep))  # Path's order: part by part
    return [Path(f) for f in found], problems


def list_files(root: Path) -> list[Path]:
    return walk(root)[0]


def sources_of(root: Path, path: Path, limits: Limits) -> Iterator[Source]:
    """The source(s) one entry on disk gives: itself, its zip members, or a refusal."""
    name = display_name(os.path.relpath(path, root))
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            target = path.resolve(strict=True)
            if Path(root).resolve() not in target.parents:
                yield _refuse(name, "file-outside", target=display_name(os.fspath(target)))
                return
            st = os.stat(path)
    except RuntimeError:  # Path.resolve on a link that leads back to itself
        yield _refuse(name, "file-unreadable", why="这是一个循环链接（指向自身）", todo="删除这个链接，把文件本身复制进来")
        return
    except OSError as e:
        yield _refuse(name, "file-unreadable", why=describe(e), todo="请检查文件是否存在、路径是否过长、是否被占用")
        return
    early = _classify(name)
    if early:
        yield early._replace(mtime=st.st_mtime)
        return
    if not stat.S_ISREG(st.st_mode):
        yield _refuse(name, "file-unsupported", st.st_mtime, why="不是普通文件（命名管道、设备等）",
                      todo="把评分表文件本身复制到收表文件夹")
        return
    cap = limits.max_file_bytes * (MAIL_FACTOR if suffix_of(name) == ".eml" else 1)
    if st.st_size > cap:
        yield _refuse(name, "file-too-large", st.st_mtime,
                      why=f"文件 {st.st_size / MB:.1f} MB，超过 {cap / MB:.0f} MB", option="--max-file-mb")
        return
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except OSError as e:
        yield _refuse(name, "file-unreadable", st.st_mtime, why=describe(e), todo="请检查文件权限或是否被占用")
        return
    yield from _sources(name, data, st.st_mtime, limits, 0)


def _sources(name: str, data: bytes, mtime: float, limits: Limits, depth: int) -> Iterator[Source]:
    """A file's bytes as sources: a workbook (told from its content), the members of an archive, or a refusal."""
    kind, suffix = sniff(data[:8]), suffix_of(name)
    if suffix == ".eml":
        if depth >= MAX_ZIP_DEPTH:
            yield _refuse(name, "file-unsupported", mtime, why="邮件或压缩包嵌套过深", todo="请对方直接发送 .xlsx 文件")
        else:
            yield from _mail_sources(name, data, mtime, limits, depth + 1)
        return
    if suffix in ARCHIVES_UNREAD:
        yield _refuse(name, "file-unsupported", mtime, why=f"{suffix} 压缩包无法读取",
                      todo="请对方改用 .zip 打包，或直接发送 .xlsx 文件")
        return
    if suffix in DOCUMENTS:
        yield Source(name, data, mtime)
        return
    if suffix not in WORKBOOK_SUFFIXES | {".zip"} and (suffix in OTHER_DOCUMENTS or kind == "other"):
        yield _refuse(name, "file-ignored", mtime, why=f"不是表格文件（{suffix or '无扩展名'}）")
        return
    if kind == "zip" and not _is_workbook_zip(data):
        if depth >= MAX_ZIP_DEPTH:
            yield _refuse(name, "file-unsupported", mtime, why="压缩包嵌套过深", todo="请对方直接发送 .xlsx 文件")
        else:
            yield from _expand_zip(name, data, mtime, limits, depth + 1)
        return
    yield Source(name, data, mtime)


def _mail_sources(name: str, data: bytes, mtime: float, limits: Limits, depth: int) -> Iterator[Source]:
    """A saved e-mail: one source per attachment, "信.eml/附件名.xlsx", each read like a file (a zip
    expands, a .docx is ignored); every one carries (sender, sent).  A mail sent at a known time
    gives its attachments that time: it is when the return was sent, whatever the .eml file's date."""
    from xlsx_tool.reading.mail import read_eml, sent_text  # only when there is an e-mail: `email` is slow to load

    try:
        mail = read_eml(data)
    except Exception as e:  # noqa: BLE001 — the email package rarely fails; if it does, say so for this file
        yield _refuse(name, "file-unreadable", mtime, why=f"邮件无法解析：{type(e).__name__}", todo="请重新保存这封邮件")
        return
    tag = (mail.sender, sent_text(mail))
    if mail.sent is not None:
        try:
            mtime = mail.sent.timestamp()
        except (OverflowError, OSError, ValueError):
            pass
    if not mail.attachments:
        yield _refuse(name, "file-ignored", mtime, why="邮件中没有附件")._replace(mail=tag)
        return
    for att_name, att in mail.attachments:
        full = f"{name}/{att_name}"
        early = _classify(full)
        if early:
            yield early._replace(mtime=mtime, mail=tag)
        elif len(att) > limits.max_file_bytes:
            yield _refuse(full, "file-too-large", mtime,
                          why=f"附件 {len(att) / MB:.1f} MB，超过 {limits.max_file_bytes / MB:.0f} MB",
                          option="--max-file-mb")._replace(mail=tag)
        else:
            for src in _sources(full, att, mtime, limits, depth):
                yield src._replace(mail=src.mail or tag)


def _is_workbook_zip(data: bytes) -> bool:
    try:
        names = set(open_zip(data).namelist())
    except ZipProblem:
        return True  # damaged: let the workbook reader say what is wrong
    # an archive of workbooks, or a workbook (possibly damaged: the reader then says what is missing)
    return bool(names & {"[Content_Types].xml", "mimetype", "xl/workbook.xml", "_rels/.rels"})


def _expand_zip(name: str, data: bytes, mtime: float, limits: Limits, depth: int) -> Iterator[Source]:
    budget = limits.max_unzipped_bytes * ZIP_FACTOR
    try:
        zf = open_zip(data)
        check_declared(zf, budget, 20_000)
    except ZipProblem as e:
        code = "file-too-large" if e.kind == "too-large" else "file-unreadable"
        yield _refuse(name, code, mtime, why=f"压缩包{e.why}", todo="请对方重新打包发送", option="--max-unzipped-mb")
        return
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        full = f"{name}/{safe_text(zip_member_name(info))}"
        mt = _zip_mtime(info, mtime)
        early = _classify(full)
        if early:
            yield early._replace(mtime=mt)
            continue
        try:
            inner = read_member(zf, info, min(limits.max_file_bytes, budget))
        except ZipProblem as e:
            if e.kind == "encrypted":
                yield _refuse(full, "file-encrypted", mt, why="压缩包", todo="请对方不加密码重新打包，或直接发送 .xlsx 文件")
            elif e.kind == "too-large":
                yield _refuse(full, "file-too-large", mt, why=e.why, option="--max-file-mb")
            else:
                yield _refuse(full, "file-unreadable", mt, why=f"压缩包中的这个文件{e.why}", todo="请对方重新打包发送")
            continue
        budget -= len(inner)  # what members really inflate to, whatever their headers said
        yield from _sources(full, inner, mt, limits, depth)


def _zip_mtime(info, default: float) -> float:
    try:
        return dt.datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return default
