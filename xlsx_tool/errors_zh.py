"""Exceptions from the OS, zipfile, zlib and the readers, described in Chinese for office staff."""

from __future__ import annotations

import errno

_OS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限，或文件正被其他程序（如 Excel、WPS）打开",
    errno.EPERM: "没有权限，或文件正被其他程序（如 Excel、WPS）打开",
    errno.EISDIR: "该位置是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一部分是文件而不是文件夹",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "磁盘是只读的",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EBUSY: "文件正被其他程序占用",
}


def describe(e: BaseException) -> str:
    """One short Chinese phrase for what went wrong; never the English text of the exception."""
    if isinstance(e, OSError) and e.errno in _OS:
        return _OS[e.errno]
    if isinstance(e, OSError):
        return f"系统错误（代码 {e.errno}）" if e.errno else "读写出错"
    text = str(e).lower()
    if "crc" in text:
        return "内容校验失败，文件已损坏"
    if "not a zip file" in text or "truncated" in text or "end-of-central-directory" in text:
        return "文件不完整或不是有效的压缩格式（可能传输中断）"
    if "encrypt" in text or "password" in text:
        return "文件设置了密码"
    if "decompress" in text or "invalid" in text or "bad" in text:
        return "压缩数据已损坏"
    return "文件结构已损坏"
