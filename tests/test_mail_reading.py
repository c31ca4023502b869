"""Saved e-mails (.eml) as the clients save them: the returns they carry are read like files.

Mails are built with the standard library's `email` package, attachment names encoded the ways
Foxmail, Outlook, QQ Mail and Thunderbird write them (RFC 2047 GBK, RFC 2231 UTF-8, raw GBK bytes);
the attached forms are real workbooks from the generator.  Nothing is mocked.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from email import encoders
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

from returns import build_form

from xlsx_tool.judging.merge import COUNTED, IGNORED, REFUSED, merge
from xlsx_tool.reading.collect import Source, sources_of
from xlsx_tool.reading.limits import Limits
from xlsx_tool.reading.mail import read_eml, sent_text

SENT = "Fri, 03 Nov 2017 14:20:00 +0800"


def gbk_word(text: str) -> str:
    """An RFC 2047 encoded word in GBK, as Foxmail and Outlook on Chinese Windows write names."""
    return "=?GBK?B?" + base64.b64encode(text.encode("gbk")).decode("ascii") + "?="


def mail_gbk(attachments: list[tuple[str, bytes]]) -> bytes:
    """Sender and attachment names as GBK RFC 2047 words, written by hand in the headers (the email
    package keeps a hand-written compat32 header as it is)."""
    m = MIMEMultipart()
    m["From"] = f"{gbk_word('州委办直属机关党委')} <jgdw@example.com>"
    m["Subject"] = gbk_word("三季度核查评分表")
    m["Date"] = SENT
    m.attach(MIMEText("评分表见附件。", "plain", "utf-8"))
    for name, data in attachments:
        part = MIMEBase("application", "octet-stream")
        part.set_payload(data)
        encoders.encode_base64(part)
        part.add_header("Content-Disposition", f'attachment; filename="{gbk_word(name)}"')
        m.attach(part)
    return m.as_bytes()


def mail_utf8(attachments: list[tuple[str, bytes]], sender: str = "第一核查组 <zu1@example.com>",
              date: str | None = SENT) -> bytes:
    """An EmailMessage with RFC 2231 names (filename*=utf-8''…), as Thunderbird writes them."""
    m = EmailMessage()
    m["From"] = sender
    m["Subject"] = "评分表"
    if date:
        m["Date"] = date
    m.set_content("见附件")
    for name, data in attachments:
        m.add_attachment(data, maintype="application", subtype="octet-stream", filename=("utf-8", "", name))
    return m.as_bytes()


def zipped(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def test_gbk_rfc2047_names_and_sender_are_decoded(plan):
    form = build_form(plan, "州委办")
    got = read_eml(mail_gbk([("州委办评分表.xlsx", form)]))
    assert got.sender == "州委办直属机关党委 <jgdw@example.com>"
    assert got.subject == "三季度核查评分表"
    assert got.sent == dt.datetime(2017, 11, 3, 14, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert sent_text(got) == "2017-11-03 14:20"
    assert got.attachments == [("州委办评分表.xlsx", form)]


def test_rfc2231_names_are_decoded_and_a_missing_date_is_none():
    got = read_eml(mail_utf8([("州委宣传部 评分表.xlsx", b"abc")], date=None))
    assert got.attachments == [("州委宣传部 评分表.xlsx", b"abc")]
    assert got.sent is None and sent_text(got) == ""
    assert got.sender == "第一核查组 <zu1@example.com>"


def test_name_only_in_content_type_and_raw_gbk_bytes_in_the_header():
    """Older clients give the name only as name= of Content-Type, or write GBK bytes unencoded."""
    raw = ("From: a@example.com\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
           "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           '--b\r\nContent-Type: application/vnd.ms-excel; name="only-type.xls"\r\n'
           "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"xyz").decode() + "\r\n"
           "--b\r\nContent-Type: application/octet-stream\r\n"
           'Content-Disposition: attachment; filename="').encode("ascii") + "州科技局.xlsx".encode("gbk") + (
           '"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64.b64encode(b"123").decode() + "\r\n--b--\r\n"
           ).encode("ascii")
    got = read_eml(raw)
    assert got.attachments == [("only-type.xls", b"xyz"), ("州科技局.xlsx", b"123")]


def test_every_source_from_a_mail_carries_sender_and_time(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    path = folder / "来信.eml"
    path.write_bytes(mail_utf8([("a.xlsx", build_form(plan, "州委宣传部")), ("说明.docx", b"PK\x03\x04")]))
    sources = list(sources_of(folder, path, Limits()))
    assert [s.name for s in sources] == ["来信.eml/a.xlsx", "来信.eml/说明.docx"]
    assert all(s.mail == ("第一核查组 <zu1@example.com>", "2017-11-03 14:20") for s in sources)
    assert sources[0].data is not None and sources[1].data == b"PK\x03\x04"  # a document: the merge looks at it
    # the time a return was sent is the mail's, whatever the .eml file's own date
    assert sources[0].mtime == dt.datetime(2017, 11, 3, 6, 20, tzinfo=dt.timezone.utc).timestamp()
    assert Source("x.xlsx").mail is None  # files from disk carry no mail


def test_merge_counts_the_forms_in_saved_mails(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    (folder / "州委办.eml").write_bytes(mail_gbk([("州委办评分表.xlsx", build_form(plan, "州委办")),
                                                 ("简要核查报告.docx", b"PK\x03\x04not read")]))
    (folder / "宣传部.eml").write_bytes(mail_utf8([("州委宣传部评分表.xlsx", build_form(plan, "州委宣传部"))]))
    (folder / "打包.eml").write_bytes(mail_utf8([("两个单位.zip", zipped([
        ("州委统战部.xlsx", build_form(plan, "州委统战部")), ("州委政法委.xlsx", build_form(plan, "州委政法委"))]))]))
    (folder / "空信.eml").write_bytes(mail_utf8([]))
    result = merge(plan, folder, workers=1)
    by_name = {f.name: f for f in result.files}
    assert {n: (f.status, f.unit) for n, f in by_name.items() if f.status == COUNTED} == {
        "州委办.eml/州委办评分表.xlsx": (COUNTED, "州委办"),
        "宣传部.eml/州委宣传部评分表.xlsx": (COUNTED, "州委宣传部"),
        "打包.eml/两个单位.zip/州委统战部.xlsx": (COUNTED, "州委统战部"),
        "打包.eml/两个单位.zip/州委政法委.xlsx": (COUNTED, "州委政法委"),
    }
    assert by_name["州委办.eml/简要核查报告.docx"].status == IGNORED
    empty = by_name["空信.eml"]
    assert empty.status == IGNORED and "邮件中没有附件" in empty.reason
    assert len(result.files) == 6


def test_an_attachment_over_the_limit_is_refused_as_too_large(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    form = build_form(plan, "州科技局")
    limits = Limits(max_file_bytes=len(form) + 4096)
    big = bytes(range(256)) * ((len(form) + 8192) // 256)
    (folder / "表.eml").write_bytes(mail_utf8([("州科技局.xlsx", form)]))
    (folder / "大附件.eml").write_bytes(mail_utf8([("大.xlsx", big)]))  # the mail itself is within its own limit
    result = merge(plan, folder, limits=limits, workers=1)
    by_name = {f.name: f for f in result.files}
    assert by_name["表.eml/州科技局.xlsx"].status == COUNTED
    refused = by_name["大附件.eml/大.xlsx"]
    assert refused.status == REFUSED and [f.code for f in refused.findings] == ["file-too-large"]


def test_a_mail_saved_inside_a_zip_is_opened_too(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    eml = mail_utf8([("州民政局.xlsx", build_form(plan, "州民政局"))])
    Path(folder / "邮件.zip").write_bytes(zipped([("信.eml", eml)]))
    result = merge(plan, folder, workers=1)
    assert [(f.name, f.status) for f in result.files] == [("邮件.zip/信.eml/州民政局.xlsx", COUNTED)]


def test_outlook_bodies_are_not_attachments_and_forwarded_mails_give_theirs(plan):
    """Outlook sends text and HTML bodies side by side; a mail forwarded "as attachment" is a
    message/rfc822 part whose own attachments are the returns."""
    inner = EmailMessage()
    inner["From"] = "州农业委 <nyw@example.com>"
    inner.set_content("评分表")
    inner.add_alternative("<p>评分表</p>", subtype="html")
    inner.add_attachment(b"inner", maintype="application", subtype="octet-stream", filename="州农业委.xlsx")
    outer = EmailMessage()
    outer["From"] = "第二核查组 <zu2@example.com>"
    outer.set_content("转发")
    outer.add_alternative("<p>转发</p>", subtype="html")
    outer.add_attachment(inner)
    got = read_eml(outer.as_bytes())
    assert got.attachments == [("州农业委.xlsx", b"inner")]


def test_a_damaged_mail_is_accounted_for(plan, tmp_path):
    """Bytes that are no mail, a date no one can read: an ignored source with the reason, never a crash."""
    folder = tmp_path / "collected"
    folder.mkdir()
    (folder / "坏.eml").write_bytes(bytes(range(256)) * 8)
    (folder / "日期.eml").write_bytes(mail_utf8([("州水利局.xlsx", build_form(plan, "州水利局"))], date="下周五"))
    assert read_eml((folder / "日期.eml").read_bytes()).sent is None
    result = merge(plan, folder, workers=1)
    by_name = {f.name: (f.status, f.reason) for f in result.files}
    assert by_name["坏.eml"][0] == IGNORED and "邮件中没有附件" in by_name["坏.eml"][1]
    assert by_name["日期.eml/州水利局.xlsx"][0] == COUNTED
