"""A saved e-mail (.eml from Foxmail, Outlook, QQ Mail, Thunderbird) as sender, time, subject, attachments.

The standard library's `email` package (policy.default) decodes headers and attachment names,
RFC 2047 ("=?GBK?B?…?=") and RFC 2231 ("filename*=utf-8''…") alike.  What it cannot decode is a
name written as raw 8-bit bytes (older Chinese clients write GBK straight into the header): those
bytes arrive as surrogate escapes and are tried as UTF-8, then GB18030, before being made safe.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import dataclass, field

from xlsx_tool.textnorm import safe_text


@dataclass
class Mail:
    sender: str  # "名字 <addr>", decoded
    sent: dt.datetime | None  # as the Date header says (the sender's local time, with its offset)
    subject: str
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, bytes)


def _raw_bytes_text(s: str) -> str:
    """Undo surrogate escapes of raw 8-bit header bytes: UTF-8 if they are, else GB18030."""
    if not any("\udc80" <= ch <= "\udcff" for ch in s):
        return s
    raw = s.encode("utf-8", "surrogateescape")
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return s


def _header(msg, name: str) -> str:
    try:
        value = msg[name]
    except Exception:  # noqa: BLE001 — a malformed header reads as absent
        return ""
    return safe_text(_raw_bytes_text(" ".join(str(value).split()))) if value is not None else ""


def _sent(msg) -> dt.datetime | None:
    try:
        value = msg["Date"]
        return getattr(value, "datetime", None) if value is not None else None
    except Exception:  # noqa: BLE001
        return None


def _given_name(part) -> str | None:
    try:
        name = part.get_filename()
        if name and "\ufffd" in name:
            name = _raw_header_name(part) or name
        return name
    except Exception:  # noqa: BLE001 — a malformed parameter: an attachment without a name
        return None


def _raw_header_name(part) -> str | None:
    """The name in a header written as raw 8-bit bytes: policy.default has already replaced those
    bytes by "�" in the parsed parameter (measured, Python 3.11/3.12), but the raw header keeps
    them as surrogate escapes; decoded first, the header is then parsed by the email package."""
    import email.message

    for header in ("Content-Disposition", "Content-Type"):
        raw = next((v for k, v in part.raw_items() if k.lower() == header.lower()), None)
        if raw is None:
            continue
        plain = email.message.Message()
        plain[header] = _raw_bytes_text(raw)
        name = plain.get_filename()
        if name and "\ufffd" not in name:
            return name
    return None


def _file_name(part, index: int) -> str:
    name = _raw_bytes_text(_given_name(part) or "").replace("\\", "/").rpartition("/")[2].strip()  # "C:\\表\\a.xlsx" -> "a.xlsx"
    return safe_text(name) or f"附件{index}"


def read_eml(data: bytes) -> Mail:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    mail = Mail(_header(msg, "From"), _sent(msg), _header(msg, "Subject"))
    for part in msg.walk():
        if part.is_multipart():
            continue
        has_name = _given_name(part) is not None
        if not has_name and part.get_content_disposition() != "attachment":
            continue  # the body text, inline pictures without a name
        payload = part.get_payload(decode=True)
        mail.attachments.append((_file_name(part, len(mail.attachments) + 1), payload or b""))
    return mail


def sent_text(mail: Mail) -> str:
    """"2017-11-03 14:20" or ""."""
    return f"{mail.sent:%Y-%m-%d %H:%M}" if mail.sent else ""
