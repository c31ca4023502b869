"""One test per finding the aggregator can produce, each on the smallest folder that triggers it.

Every test asserts the code, the severity, the file (and sheet/cell where the rule
points at one) and the consequence: whether the file was counted and the score used.
Forms are real workbooks built by the generator and changed the way people change them
(tests/returns.py); nothing is mocked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import struct
from decimal import Decimal

import openpyxl
import pytest
from returns import (
    DATE_CELL,
    PASSING_EXAM,
    UNIT_CELL,
    FormEntries,
    ItemEntry,
    build_form,
    cell,
    delete_item_row,
    exam_values,
    fill_with_openpyxl,
    insert_row_above_items,
    make_xlsm,
    overwrite_formula,
    rename_sheet,
    retype_form,
    set_cached_value,
    set_identity,
    set_item_text,
    set_max,
    set_mtime,
    total_cell,
    write_blank,
    write_form,
    entries,
)

from xlsx_tool import findings as FX
from xlsx_tool.reading.workbook import Limits
from xlsx_tool.files import write_zip
from xlsx_tool.judging.merge import COPY, COUNTED, DUPLICATE, IGNORED, REFUSED, merge
from xlsx_tool.plan import load_plan

TODAY = dt.date(2017, 11, 6)
D = Decimal
ERROR, WARNING, INFO = FX.ERROR, FX.WARNING, FX.INFO
BASE = dt.datetime(2017, 10, 26, 9, 0).timestamp()


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "collected"
    d.mkdir()
    return d


def run(plan, folder, **kw):
    return merge(plan, folder, today=TODAY, workers=1, **kw)


def found(result, code):
    return [f for f in result.findings if f.code == code]


def one(result, code, **where):
    """The single finding `code` (optionally with matching fields); checks its severity against RULES."""
    fs = [f for f in found(result, code) if all(getattr(f, k) == v for k, v in where.items())]
    assert len(fs) == 1, f"expected one {code} {where}, got {fs}; all: {[str(f) for f in result.findings]}"
    f = fs[0]
    assert f.severity == FX.RULES[code].severity
    return f


def rec(result, name):
    return next(r for r in result.files if r.name == name)


def row(result, unit):
    return next(r for r in result.ranking if r.unit.name == unit)


def summary_of(result, name):
    return next(s for s in result.summaries if s.summary.name == name)


def clean(plan, unit, date=None, **items) -> FormEntries:
    """Entries with a valid date in the unit's window and a complete, passed knowledge test;
    items as i<seq>=(deduction, reason[, highlight])."""
    u = plan.unit(unit) if isinstance(unit, str) else unit
    e = FormEntries(date=date or plan.summary(u.summary).window[0], test=list(PASSING_EXAM))
    for key, value in items.items():
        ded, reason, *rest = value
        e.items[int(key[1:])] = ItemEntry(highlight=rest[0] if rest else "", reason=reason, deduction=ded)
    return e


def blank_dated(plan, folder, name, unit, mtime=None):
    """A generated blank form, dated and its knowledge test filled with openpyxl (as a client re-saving it would)."""
    p = write_blank(folder, name, plan, unit)
    u = plan.unit(unit)
    fill_with_openpyxl(p, {DATE_CELL: plan.summary(u.summary).window[0], **exam_values(plan)})
    if mtime is not None:
        set_mtime(p, mtime)
    return p


def file_codes(result, name):
    return [f.code for f in rec(result, name).findings]


# --------------------------------------------------------------------------- files


def test_file_ignored_lock_files_and_other_documents(plan, folder):
    (folder / "~$州财政局评分表.xlsx").write_bytes(b"\x00" * 165)
    (folder / "Thumbs.db").write_bytes(b"\x00" * 64)
    (folder / "核查报告.docx").write_bytes(b"PK\x03\x04 not a document")
    r = run(plan, folder)
    for name in ("~$州财政局评分表.xlsx", "Thumbs.db", "核查报告.docx"):
        f = one(r, "file-ignored", file=name)
        assert f.severity == INFO
        assert rec(r, name).status == IGNORED
    assert r.received == 0 and r.count(ERROR) == 0
    # ignored debris is not a return: every committee still has none
    assert len(found(r, "summary-no-returns")) == len(plan.summary_units)


def test_file_unsupported_wps_et_and_web_page(plan, folder):
    (folder / "州财政局.et").write_bytes(b"\xd0\xcf\x11\xe0 wps")
    (folder / "州民政局.xls").write_bytes(b"<html><body><table><tr><td>1</td></tr></table></body></html>")
    r = run(plan, folder)
    for name in ("州财政局.et", "州民政局.xls"):
        f = one(r, "file-unsupported", file=name)
        assert f.severity == ERROR
        assert rec(r, name).status == REFUSED
        assert rec(r, name).reason == f.message
    assert ".xlsx" in one(r, "file-unsupported", file="州财政局.et").message
    assert r.received == 0


def test_file_unreadable_truncated(plan, folder):
    data = build_form(plan, "州财政局", clean(plan, "州财政局"))
    (folder / "截断.xlsx").write_bytes(data[: len(data) // 2])
    r = run(plan, folder)
    assert one(r, "file-unreadable", file="截断.xlsx").severity == ERROR
    assert rec(r, "截断.xlsx").status == REFUSED and r.received == 0


def test_file_empty_each_refused_never_copies_of_one_another(plan, folder):
    names = ["空.xlsx", "空(1).xlsx", "sub/空.xls", "空.ods"]
    for name in names:
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(b"")
    r = run(plan, folder)
    for name in names:
        f = one(r, "file-empty", file=name)
        assert f.severity == ERROR and "0 字节" in f.message
        assert rec(r, name).status == REFUSED
    assert not found(r, "file-duplicate-copy")


def _encrypted_ole() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE compound file holding EncryptedPackage."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entry = "EncryptedPackage".encode("utf-16-le") + b"\x00\x00"
    return head + entry.ljust(128, b"\x00") + b"\x00" * 3000


def _encrypt_flag(zip_bytes: bytes) -> bytes:
    """Set the 'encrypted' flag of every member (local and central headers), as a password zip has."""
    import io
    import zipfile

    b = bytearray(zip_bytes)
    zf = zipfile.ZipFile(io.BytesIO(zip_bytes))
    for info in zf.infolist():
        assert b[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
        struct.pack_into("<H", b, info.header_offset + 6, info.flag_bits | 0x1)
    i = zf.start_dir
    for _ in zf.infolist():
        assert b[i:i + 4] == b"PK\x01\x02"
        flags = struct.unpack_from("<H", b, i + 8)[0]
        struct.pack_into("<H", b, i + 8, flags | 0x1)
        n, m, k = struct.unpack_from("<HHH", b, i + 28)
        i += 46 + n + m + k
    return bytes(b)


def test_file_encrypted_password_workbook_and_password_zip(plan, folder, tmp_path):
    (folder / "州财政局.xlsx").write_bytes(_encrypted_ole())
    z = tmp_path / "z.zip"
    write_zip(z, [("州民政局评分表.xlsx", build_form(plan, "州民政局", clean(plan, "州民政局")))])
    (folder / "第二核查组.zip").write_bytes(_encrypt_flag(z.read_bytes()))
    r = run(plan, folder)
    for name in ("州财政局.xlsx", "第二核查组.zip/州民政局评分表.xlsx"):
        f = one(r, "file-encrypted", file=name)
        assert f.severity == ERROR
        assert rec(r, name).status == REFUSED
    assert r.received == 0


def test_file_too_large(plan, folder):
    write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局"))
    size = (folder / "州财政局.xlsx").stat().st_size
    r = run(plan, folder, limits=Limits(max_file_bytes=size - 1))
    f = one(r, "file-too-large", file="州财政局.xlsx")
    assert f.severity == ERROR
    assert rec(r, "州财政局.xlsx").status == REFUSED
    assert r.received == 0
    # exactly at the limit it is read
    r = run(plan, folder, limits=Limits(max_file_bytes=size))
    assert not found(r, "file-too-large") and r.received == 1


def test_file_outside_symlink_is_not_followed(plan, folder, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = write_form(outside, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局"))
    (folder / "州财政局.xlsx").symlink_to(target)
    r = run(plan, folder)
    f = one(r, "file-outside", file="州财政局.xlsx")
    assert f.severity == ERROR and str(target.resolve()) in f.message
    assert rec(r, "州财政局.xlsx").status == REFUSED
    assert r.received == 0


def test_file_not_form_other_workbook_and_deleted_item_row(plan, folder):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "通讯录"
    wb.save(folder / "通讯录.xlsx")
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局"))
    delete_item_row(plan, p, 5)
    r = run(plan, folder)
    for name in ("通讯录.xlsx", "州财政局.xlsx"):
        f = one(r, "file-not-form", file=name)
        assert f.severity == ERROR
        assert rec(r, name).status == REFUSED
    assert "第5项" in one(r, "file-not-form", file="州财政局.xlsx").message
    assert r.received == 0


def test_file_macro_is_read_but_never_run(plan, folder):
    e = clean(plan, "州财政局", i3=(2, "未整改"))
    (folder / "州财政局.xlsm").write_bytes(make_xlsm(build_form(plan, "州财政局", e)))
    r = run(plan, folder)
    f = one(r, "file-macro", file="州财政局.xlsm")
    assert f.severity == INFO
    assert rec(r, "州财政局.xlsm").status == COUNTED
    assert row(r, "州财政局").scored.score == D(96)


def test_file_duplicate_copy_counted_once(plan, folder):
    data = build_form(plan, "州财政局", clean(plan, "州财政局", i3=(2, "未整改")))
    (folder / "a").mkdir()
    (folder / "a" / "州财政局评分表.xlsx").write_bytes(data)
    (folder / "州财政局评分表(1).xlsx").write_bytes(data)
    write_zip(folder / "第二核查组.zip", [("州财政局.xlsx", data)])
    r = run(plan, folder)
    first = "a/州财政局评分表.xlsx"  # paths are read in sorted order
    copies = found(r, "file-duplicate-copy")
    assert {f.file for f in copies} == {"州财政局评分表(1).xlsx", "第二核查组.zip/州财政局.xlsx"}
    for f in copies:
        assert f.severity == INFO and first in f.message
        assert rec(r, f.file).status == COPY
        assert rec(r, f.file).sha256 == rec(r, first).sha256
    assert rec(r, first).status == COUNTED
    assert r.received == 1 and not found(r, "unit-duplicate")
    assert row(r, "州财政局").file == first and row(r, "州财政局").scored.score == D(96)


# --------------------------------------------------------------------------- identity


def test_identity_missing_retyped_form_matched_by_typed_name(plan, folder):
    typed = {
        "州财政局": " 州 财政局 ",  # spaces
        "州政府办": "州政府办（含州机关事务服务中心、长沙办事处、上海联络处、深圳办事处）",
        "州发改委": "州发改委(含州重点建设项目办)",  # half-width brackets
        "州委610办": "州委６１０办",  # full-width digits
        "州委统战部": "州委统战部直",  # the plan's recorded alias
        "州食品药品监督管理局": "州酒类产销管理局",  # another recorded alias
    }
    for unit, text in typed.items():
        p = write_form(folder, f"{unit}-录入.xlsx", plan, unit, clean(plan, unit, i3=(2, "未整改")))
        retype_form(p, unit_text=text)
    r = run(plan, folder)
    for unit, text in typed.items():
        name = f"{unit}-录入.xlsx"
        f = one(r, "identity-missing", file=name)
        assert f.severity == WARNING
        assert f.unit == unit and f.summary == plan.unit(unit).summary
        assert f.sheet == "Sheet1" and f.cell == UNIT_CELL
        assert rec(r, name).status == COUNTED
        assert row(r, unit).scored.score == D(96)
    assert r.received == len(typed)


def test_identity_other_plan_refused(plan, folder):
    q2 = dataclasses.replace(plan, id="xiangxi-zhizhi-2017q2", period="2017年第二季度")
    q2._exact.update(plan._exact)
    (folder / "州财政局（二季度）.xlsx").write_bytes(build_form(q2, "州财政局", clean(plan, "州财政局")))
    # a retyped form (no identity) whose title names another quarter
    p = write_form(folder, "州民政局.xlsx", plan, "州民政局", clean(plan, "州民政局"))
    retype_form(p, title="2017年二季度州直单位党组织书记履行党建工作责任实地核查评分细则")
    r = run(plan, folder)
    f = one(r, "identity-other-plan", file="州财政局（二季度）.xlsx")
    assert f.severity == ERROR and "2017年第二季度" in f.message and plan.period in f.message
    f = one(r, "identity-other-plan", file="州民政局.xlsx")
    assert "二季度" in f.message
    for name in ("州财政局（二季度）.xlsx", "州民政局.xlsx"):
        assert rec(r, name).status == REFUSED
    assert r.received == 0


def test_identity_unknown_unit_refused(plan, folder):
    p = write_form(folder, "改过表单信息.xlsx", plan, "州财政局", clean(plan, "州财政局"))
    set_identity(p, "unit", "州不存在局")
    p = write_form(folder, "录入.xlsx", plan, "州民政局", clean(plan, "州民政局"))
    retype_form(p, unit_text="州某某事务中心")
    r = run(plan, folder)
    f = one(r, "identity-unknown-unit", file="改过表单信息.xlsx")
    assert f.severity == ERROR and "州不存在局" in f.message
    f = one(r, "identity-unknown-unit", file="录入.xlsx")
    assert "州某某事务中心" in f.message and f.cell == UNIT_CELL
    assert rec(r, "改过表单信息.xlsx").status == REFUSED and rec(r, "录入.xlsx").status == REFUSED
    assert r.received == 0


def test_identity_text_mismatch_counts_for_the_identity_unit(plan, folder):
    p = write_form(folder, "州纪委监察局.xlsx", plan, "州纪委监察局", clean(plan, "州纪委监察局", i3=(2, "未整改")))
    fill_with_openpyxl(p, {UNIT_CELL: "州委组织部"})
    r = run(plan, folder)
    f = one(r, "identity-text-mismatch", file="州纪委监察局.xlsx")
    assert f.severity == WARNING and f.cell == UNIT_CELL and f.sheet == "评分细则"
    assert f.unit == "州纪委监察局" and "州委组织部" in f.message
    assert row(r, "州纪委监察局").scored.score == D(96)
    assert "州委组织部" in {u.name for u in summary_of(r, "第一核查组").missing}


def test_identity_summary_mismatch_counts_under_the_plan(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局"))
    set_identity(p, "summary", "第一核查组")
    r = run(plan, folder)
    f = one(r, "identity-summary-mismatch", file="州财政局.xlsx")
    assert f.severity == WARNING and f.summary == "第二核查组" and "第一核查组" in f.message
    assert [x.unit.name for x in summary_of(r, "第二核查组").rows] == ["州财政局"]
    assert not summary_of(r, "第一核查组").rows


def test_identity_rubric_changed_scored_by_this_plan(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i4=(4, "两项未落实")))
    set_identity(p, "rubric", "0123456789abcdef")
    r = run(plan, folder)
    f = one(r, "identity-rubric-changed", file="州财政局.xlsx")
    assert f.severity == WARNING and "0123456789abcdef" in f.message and plan.rubric.fingerprint in f.message
    assert rec(r, "州财政局.xlsx").status == COUNTED
    assert row(r, "州财政局").scored.score == D(94)


# --------------------------------------------------------------------------- form content


def test_rubric_max_changed_scored_with_plan_max(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(4, "四项未整改")))
    set_max(plan, p, 1, 3)
    r = run(plan, folder)
    f = one(r, "rubric-max-changed", file="州财政局.xlsx")
    assert f.severity == WARNING and f.cell == cell(plan, 1, "max") == "C4"
    scored = row(r, "州财政局").scored
    assert scored.items[0].max == D(5) and scored.items[0].score == D(5)
    assert scored.score == D(94)  # 98 - 4, not 92 as the changed sheet would compute


def test_rubric_text_changed(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i7=(1, "未推进争创")))
    set_item_text(plan, p, 7, "7、深化争创活动情况。各扣1分。")
    r = run(plan, folder)
    f = one(r, "rubric-text-changed", file="州财政局.xlsx")
    assert f.severity == WARNING and f.cell == cell(plan, 7, "text") == "B10"
    assert row(r, "州财政局").scored.score == D(97)


def test_formula_overwritten_item_and_total(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(2, "两项未整改")))
    overwrite_formula(p, cell(plan, 3, "score"), 10)
    overwrite_formula(p, total_cell(plan), 98)
    r = run(plan, folder)
    f = one(r, "formula-overwritten", file="州财政局.xlsx", cell="G6")
    assert f.severity == WARNING and "第3项得分" in f.message and "8" in f.message
    f = one(r, "formula-overwritten", file="州财政局.xlsx", cell="G20")
    assert "核定得分" in f.message and "96" in f.message
    assert row(r, "州财政局").scored.items[2].score == D(8)
    assert row(r, "州财政局").scored.score == D(96)


def test_cached_mismatch_recomputed_wins(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(2, "两项未整改")))
    set_cached_value(p, "G6", 3)
    # a text deduction: the file shows #VALUE!, the recomputation reads 2
    write_form(folder, "州民政局.xlsx", plan, "州民政局", clean(plan, "州民政局", i3=("2分", "两项未整改")))
    r = run(plan, folder)
    f = one(r, "cached-mismatch", file="州财政局.xlsx")
    assert f.severity == INFO and f.cell == "G6" and "3" in f.message and "8" in f.message
    assert row(r, "州财政局").scored.score == D(96)
    fs = {x.cell: x for x in found(r, "cached-mismatch") if x.file == "州民政局.xlsx"}
    assert {"G6", "G19", "G20"} <= set(fs) <= {"G6", "G19", "G20", "F19"}  # F19: SUM skips the text
    assert all("#VALUE!" in fs[c].message for c in ("G6", "G19", "G20"))
    assert row(r, "州民政局").scored.score == D(96)


def test_no_cached_mismatch_on_a_correct_form_with_the_test_item_at_its_limit(plan, folder):
    """A form filled correctly in Excel must not be reported: when the inspector's deduction on the
    test item plus the knowledge test's exceeds the item's limit, the item is capped — and the
    form's 小计扣分 must agree with the 小计得分 (98 - deductions)."""
    item = plan.item(plan.rules.test_item)
    e = clean(plan, "州财政局", **{f"i{item.seq}": (int(item.limit), "未组织学习")})
    e.test = [("张三", 50), ("李四", 40), ("王五", 90), ("赵六", 90), ("钱七", 90)]
    write_form(folder, "州财政局.xlsx", plan, "州财政局", e)
    r = run(plan, folder)
    scored = row(r, "州财政局").scored
    assert scored.items[item.seq - 1].score == 0 and scored.score == D(98) - item.limit
    assert not found(r, "cached-mismatch"), [str(f) for f in found(r, "cached-mismatch")]


# --------------------------------------------------------------------------- deductions


def test_deduction_text_number_read_with_a_note(plan, folder):
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    typed = {3: "２", 5: " 2 ", 8: "2分", 9: "扣1.5分"}
    values = {}
    for seq, v in typed.items():
        values[cell(plan, seq, "deduction")] = v
        values[cell(plan, seq, "reason")] = "有问题"
    fill_with_openpyxl(p, values)
    r = run(plan, folder)
    fs = found(r, "deduction-text-number")
    assert {f.cell: f.severity for f in fs} == {cell(plan, s, "deduction"): INFO for s in typed}
    assert all(f.file == "州财政局.xlsx" for f in fs)
    assert "已按数字 2 读取" in one(r, "deduction-text-number", cell=cell(plan, 3, "deduction")).message
    items = {i.seq: i for i in row(r, "州财政局").scored.items}
    assert [items[s].deduction for s in typed] == [D(2), D(2), D(2), D("1.5")]
    assert row(r, "州财政局").scored.score == D("90.5")
    assert r.count(ERROR) == 0


def test_deduction_not_number_is_an_error_and_scores_nothing(plan, folder):
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    values = {cell(plan, 3, "deduction"): "两分", cell(plan, 5, "deduction"): True,
              cell(plan, 8, "deduction"): "#N/A"}
    for s in (3, 5, 8, 9):
        values[cell(plan, s, "reason")] = "有问题"
    fill_with_openpyxl(p, values)
    # a date typed by a program that writes ISO date cells
    fill_with_openpyxl(p, {cell(plan, 9, "deduction"): dt.datetime(2017, 10, 23)}, iso_dates=True)
    r = run(plan, folder)
    fs = found(r, "deduction-not-number")
    assert {f.cell for f in fs} == {cell(plan, s, "deduction") for s in (3, 5, 8, 9)}
    assert all(f.severity == ERROR and f.file == "州财政局.xlsx" for f in fs)
    assert "两分" in one(r, "deduction-not-number", cell="F6").message
    scored = row(r, "州财政局").scored
    assert all(i.deduction == 0 for i in scored.items)
    assert scored.score == D(98)  # 暂按不扣分
    assert rec(r, "州财政局.xlsx").status == COUNTED


def test_date_typed_into_a_deduction_cell_is_an_error(plan, folder):
    """Excel stores a typed date as a serial number with a date format: it must not pass as a deduction."""
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    ref = cell(plan, 9, "deduction")
    fill_with_openpyxl(p, {ref: dt.date(2017, 10, 23), cell(plan, 9, "reason"): "有问题"})
    r = run(plan, folder)
    errs = [f for f in r.findings if f.cell == ref]
    assert errs and all(f.severity == ERROR for f in errs)


def test_formula_without_result_in_a_deduction_cell_is_not_silently_zero(plan, folder):
    """A deduction typed as a formula (=1+1) and saved by a program that stores no result: the tool cannot
    know the deduction, so it must say so on that cell rather than score the item as if nothing was deducted."""
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    wb = openpyxl.load_workbook(p)
    ws = wb["评分细则"]
    ws[cell(plan, 3, "deduction")] = "=1+1"
    ws[cell(plan, 3, "reason")] = "两项未整改"
    wb.save(p)
    r = run(plan, folder)
    f = one(r, "deduction-formula-empty", cell=cell(plan, 3, "deduction"))
    assert f.severity == ERROR and "1+1" in f.message


def test_formula_with_result_in_a_deduction_cell_counts_its_result(plan, folder):
    """Excel and LibreOffice store a formula's result: it is used, with a note asking for a plain number."""
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", entries(i3=(1, "一项未整改")))
    import io
    import zipfile

    zin = zipfile.ZipFile(p)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                ref = cell(plan, 3, "deduction")
                text, n = re.subn(rf'(<c r="{ref}"[^>]*?)>\s*<v>1</v>', r"\1><f>1+1</f><v>2</v>", body.decode())
                assert n == 1
                body = text.encode()
            zout.writestr(info, body)
    p.write_bytes(buf.getvalue())
    r = run(plan, folder)
    f = one(r, "deduction-formula", cell=cell(plan, 3, "deduction"))
    assert f.severity == INFO and "1+1" in f.message
    assert row(r, "州财政局").scored.items[2].deduction == D(2)


def test_deduction_negative(plan, folder):
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    fill_with_openpyxl(p, {cell(plan, 3, "deduction"): -2, cell(plan, 3, "reason"): "加分"})
    r = run(plan, folder)
    f = one(r, "deduction-negative", file="州财政局.xlsx")
    assert f.severity == ERROR and f.cell == "F6" and "-2" in f.message
    assert row(r, "州财政局").scored.score == D(98)  # never a bonus


def test_deduction_over_limit(plan, folder):
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    fill_with_openpyxl(p, {cell(plan, 4, "deduction"): 6, cell(plan, 4, "reason"): "四项未落实",
                           cell(plan, 1, "deduction"): 3, cell(plan, 1, "reason"): "未落实"})
    r = run(plan, folder)
    f = one(r, "deduction-over-limit", cell=cell(plan, 4, "deduction"))
    assert f.severity == ERROR and f.file == "州财政局.xlsx" and "5" in f.message
    f = one(r, "deduction-over-limit", cell=cell(plan, 1, "deduction"))
    assert "2" in f.message
    items = {i.seq: i for i in row(r, "州财政局").scored.items}
    # an over-limit deduction counts as the item's limit (the most the rubric allows), flagged as an error
    assert items[4].deduction == D(5) and items[4].score == D(0)
    assert items[1].deduction == D(2) and items[1].score == D(3)
    assert not found(r, "deduction-step")


def test_deduction_step(plan, folder):
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    fill_with_openpyxl(p, {cell(plan, 4, "deduction"): 3, cell(plan, 4, "reason"): "未落实",
                           cell(plan, 8, "deduction"): 1.25, cell(plan, 8, "reason"): "未学习"})
    r = run(plan, folder)
    f = one(r, "deduction-step", cell=cell(plan, 4, "deduction"))
    assert f.severity == ERROR and f.file == "州财政局.xlsx" and "每档 2 分" in f.message
    one(r, "deduction-step", cell=cell(plan, 8, "deduction"))
    assert row(r, "州财政局").scored.score == D("93.75")  # used as typed, flagged


@pytest.mark.parametrize(
    "seq, typed, code",
    [
        (4, 5, None),  # the capped limit: 各扣2分, 分值5 -> 5 allowed
        (4, 4, None),
        (4, 2, None),
        (4, 3, "deduction-step"),
        (4, 6, "deduction-over-limit"),
        (1, 2, None),  # limit == step
        (1, 1, "deduction-step"),
        (3, 10, None),  # exactly the limit (= 分值)
        (3, 11, "deduction-over-limit"),
        (8, 1.5, None),  # half-point steps
        (8, 6, None),
        (8, 6.5, "deduction-over-limit"),
        (13, 1, None),
        (13, 2, "deduction-over-limit"),
        (7, 3, None),  # limit 3 below 分值 5
        (7, 4, "deduction-over-limit"),
        (15, 4, None),
        (15, 3, "deduction-step"),
    ],
)
def test_deduction_limits_boundaries(plan, folder, seq, typed, code):
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    fill_with_openpyxl(p, {cell(plan, seq, "deduction"): typed, cell(plan, seq, "reason"): "有问题"})
    r = run(plan, folder)
    codes = [f.code for f in r.findings if f.cell == cell(plan, seq, "deduction")]
    assert codes == ([code] if code else [])
    item = plan.rubric.items[seq - 1]
    assert row(r, "州财政局").scored.score == D(98) - min(D(str(typed)), item.limit)


def test_deduction_no_reason(plan, folder):
    p = blank_dated(plan, folder, "州财政局.xlsx", "州财政局")
    fill_with_openpyxl(p, {cell(plan, 3, "deduction"): 2, cell(plan, 5, "deduction"): 1,
                           cell(plan, 5, "reason"): "   ", cell(plan, 8, "deduction"): 0})
    r = run(plan, folder)
    fs = found(r, "deduction-no-reason")
    assert {f.cell for f in fs} == {cell(plan, 3, "reason"), cell(plan, 5, "reason")} == {"E6", "E8"}
    assert all(f.severity == WARNING and f.file == "州财政局.xlsx" for f in fs)
    assert row(r, "州财政局").scored.score == D(95)  # the deductions still count


# --------------------------------------------------------------------------- dates


def test_date_missing(plan, folder):
    write_form(folder, "州财政局.xlsx", plan, "州财政局", FormEntries(date=None))
    r = run(plan, folder)
    f = one(r, "date-missing", file="州财政局.xlsx")
    assert f.severity == WARNING and f.cell == DATE_CELL == "F2"
    assert row(r, "州财政局").scored.date is None and row(r, "州财政局").scored.score == D(98)


def test_date_invalid(plan, folder):
    write_form(folder, "州财政局.xlsx", plan, "州财政局", FormEntries(date="下周一"))
    write_form(folder, "州民政局.xlsx", plan, "州民政局", FormEntries(date="2017-13-45"))
    r = run(plan, folder)
    f = one(r, "date-invalid", file="州财政局.xlsx")
    assert f.severity == ERROR and f.cell == "F2" and "下周一" in f.message
    one(r, "date-invalid", file="州民政局.xlsx")
    assert row(r, "州财政局").scored.date is None
    assert rec(r, "州财政局.xlsx").status == COUNTED


def test_date_text(plan, folder):
    write_form(folder, "州财政局.xlsx", plan, "州财政局", FormEntries(date="10月24日"))
    write_form(folder, "州民政局.xlsx", plan, "州民政局", FormEntries(date="2017.10.23"))
    r = run(plan, folder)
    f = one(r, "date-text", file="州财政局.xlsx")
    assert f.severity == INFO and f.cell == "F2" and "2017-10-24" in f.message
    assert row(r, "州财政局").scored.date == dt.date(2017, 10, 24)
    assert row(r, "州民政局").scored.date == dt.date(2017, 10, 23)
    assert not found(r, "date-outside-window")


def test_date_outside_window(plan, folder):
    # 第二核查组: 2017-10-23..24; 州委办直属机关党委: 10-25..31
    write_form(folder, "州财政局.xlsx", plan, "州财政局", FormEntries(date=dt.date(2017, 10, 25)))
    write_form(folder, "州民政局.xlsx", plan, "州民政局", FormEntries(date=dt.date(2017, 10, 24)))
    write_form(folder, "州档案局.xlsx", plan, "州档案局", FormEntries(date=dt.date(2017, 10, 25)))
    write_form(folder, "州接待处.xlsx", plan, "州接待处", FormEntries(date=dt.date(2017, 11, 1)))
    r = run(plan, folder)
    assert {f.file for f in found(r, "date-outside-window")} == {"州财政局.xlsx", "州接待处.xlsx"}
    f = one(r, "date-outside-window", file="州财政局.xlsx")
    assert f.severity == WARNING and f.cell == "F2" and "2017-10-23" in f.message and "2017-10-24" in f.message
    assert row(r, "州财政局").scored.date == dt.date(2017, 10, 25)


# --------------------------------------------------------------------------- score cap (needs another plan)


def _capped_plan(tmp_path):
    from importlib import resources

    text = (resources.files("xlsx_tool.plan") / "2017q3.yaml").read_text(encoding="utf-8")
    assert "max_score: 98 " in text
    text = text.replace("max_score: 98 ", "max_score: 90 ", 1).replace("high_score: 95 ", "high_score: 88 ", 1)
    path = tmp_path / "capped.yaml"
    path.write_text(text, encoding="utf-8")
    p = load_plan(path)
    assert p.rules.max_score == 90 and p.rubric.total == 98
    return p


def test_score_capped(tmp_path, folder):
    plan = _capped_plan(tmp_path)
    write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局"))
    write_form(folder, "州民政局.xlsx", plan, "州民政局", clean(plan, "州民政局", i3=(7, "七项未整改")))
    write_form(folder, "州科技局.xlsx", plan, "州科技局", clean(plan, "州科技局", i3=(8, "八项未整改")))
    r = run(plan, folder)
    f = one(r, "score-capped", file="州财政局.xlsx")
    assert f.severity == INFO and "98" in f.message and "90" in f.message
    one(r, "score-capped", file="州民政局.xlsx")  # 91 -> 90
    assert not [x for x in found(r, "score-capped") if x.file == "州科技局.xlsx"]  # exactly 90
    assert row(r, "州财政局").scored.raw_total == D(98) and row(r, "州财政局").scored.score == D(90)
    assert row(r, "州民政局").scored.score == D(90) and row(r, "州科技局").scored.score == D(90)
    assert [x.rank for x in summary_of(r, "第二核查组").rows] == [1, 1, 1]


# --------------------------------------------------------------------------- merge rules


def test_unit_duplicate_newer_error_free_wins(plan, folder):
    old = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(2, "未整改")), mtime=BASE)
    new = write_form(folder, "州财政局（修改）.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(4, "未整改")),
                     mtime=BASE + 3600)
    r = run(plan, folder)
    f = one(r, "unit-duplicate", unit="州财政局")
    assert f.severity == WARNING and f.file == new.name and f.summary == "第二核查组"
    assert old.name in f.message and new.name in f.message
    assert rec(r, new.name).status == COUNTED and rec(r, old.name).status == DUPLICATE
    assert row(r, "州财政局").scored.score == D(94) and row(r, "州财政局").file == new.name
    assert r.received == 1


def test_duplicate_rule_error_free_beats_newer_with_errors(plan, folder):
    good = write_form(folder, "州财政局-初稿.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(2, "未整改")),
                      mtime=BASE)
    bad = write_form(folder, "州财政局-终稿.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=("两分", "未整改")),
                     mtime=BASE + 86400)
    r = run(plan, folder)
    one(r, "unit-duplicate", unit="州财政局", file=good.name)
    assert rec(r, good.name).status == COUNTED and rec(r, bad.name).status == DUPLICATE
    assert row(r, "州财政局").scored.score == D(96)
    # the set-aside file's errors are not the merge's errors
    assert not found(r, "deduction-not-number") and r.count(ERROR) == 0


def test_duplicate_rule_both_with_errors_newer_wins(plan, folder):
    old = write_form(folder, "b.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=("两分", "x")), mtime=BASE + 60)
    new = write_form(folder, "a.xlsx", plan, "州财政局", clean(plan, "州财政局", i4=(3, "x")), mtime=BASE + 120)
    r = run(plan, folder)
    one(r, "unit-duplicate", unit="州财政局", file=new.name)
    assert rec(r, new.name).status == COUNTED and rec(r, old.name).status == DUPLICATE
    assert [f.code for f in r.findings if f.severity == ERROR] == ["deduction-step"]


def test_duplicate_rule_same_mtime_last_path_wins(plan, folder):
    a = write_form(folder, "a/州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(1, "x")), mtime=BASE)
    b = write_form(folder, "b/州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(3, "x")), mtime=BASE)
    r = run(plan, folder)
    one(r, "unit-duplicate", unit="州财政局", file="b/州财政局.xlsx")
    assert rec(r, "b/州财政局.xlsx").status == COUNTED and rec(r, "a/州财政局.xlsx").status == DUPLICATE
    assert row(r, "州财政局").scored.score == D(95)
    assert a.exists() and b.exists()


def test_unit_missing_only_in_committees_with_returns(plan, folder):
    write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(4, "x")))
    r = run(plan, folder)
    s = plan.summary("第二核查组")
    fs = found(r, "unit-missing")
    assert [f.unit for f in fs] == [u.name for u in s.units if u.name != "州财政局"]
    for f in fs:
        assert f.severity == WARNING and f.summary == "第二核查组" and f.file == ""
        assert "全东成" in f.message and "黄曦" in f.message  # who to chase
    assert [u.name for u in summary_of(r, "第二核查组").missing] == [f.unit for f in fs]


def test_summary_no_returns(plan, folder):
    write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(4, "x")))
    r = run(plan, folder)
    fs = found(r, "summary-no-returns")
    assert [f.summary for f in fs] == [s.name for s in plan.summary_units if s.name != "第二核查组"]
    f = one(r, "summary-no-returns", summary="第一核查组")
    assert f.severity == INFO and "10 个单位" in f.message
    assert not summary_of(r, "第一核查组").has_returns and summary_of(r, "第二核查组").has_returns


def _scores(plan, folder, scores: dict[str, object]):
    """One return per unit whose score is 98 - deduction on item 3 (step 1, limit 10) and item 8 (step 0.5)."""
    for unit, score in scores.items():
        ded = D(98) - D(str(score))
        d3 = int(ded)
        e = clean(plan, unit, i3=(d3, "未整改") if d3 else (None, ""))
        if ded - d3:
            e.items[8] = ItemEntry(reason="未学习", deduction=float(ded - d3))
        write_form(folder, f"{unit}.xlsx", plan, unit, e)


def test_quota_exceeded_one_more_than_a_third(plan, folder):
    s = plan.summary("州人社局直属机关党委")  # 6 units: at most 2 at 95 or above
    u = [x.name for x in s.units]
    _scores(plan, folder, {u[0]: 98, u[1]: 95, u[2]: 94.5, u[3]: 90})
    r = run(plan, folder)
    assert not found(r, "quota-exceeded")  # 2 * 3 == 6: allowed
    res = summary_of(r, s.name)
    assert res.quota == 2 and len(res.high) == 2 and not res.breach
    _scores(plan, folder, {u[4]: 95})
    r = run(plan, folder)
    f = one(r, "quota-exceeded", summary=s.name)
    assert f.severity == ERROR and f.file == ""
    assert "6 个单位" in f.message and "3 个" in f.message and "最多 2 个" in f.message
    for name in (u[0], u[1], u[4]):
        assert name in f.message
    assert u[2] not in f.message  # 94.5 is below 95
    assert summary_of(r, s.name).breach and r.quota_breaches == [summary_of(r, s.name)]


def test_quota_single_unit_committee_cannot_have_95(plan, folder):
    _scores(plan, folder, {"州统计局": 95, "州国有资产投资公司": 94})
    r = run(plan, folder)
    f = one(r, "quota-exceeded")
    assert f.summary == "州发改委直属机关党委" and "最多 0 个" in f.message


def test_ties_share_ranks_in_plan_order(plan, folder):
    s = plan.summary("第一核查组")
    u = [x.name for x in s.units]
    _scores(plan, folder, {u[0]: 90, u[1]: 92, u[2]: 88, u[3]: 90, u[5]: 92.5, "州财政局": 92})
    r = run(plan, folder)
    rows = summary_of(r, "第一核查组").rows
    assert [(x.unit.name, x.rank) for x in rows] == [(u[5], 1), (u[1], 2), (u[0], 3), (u[3], 3), (u[2], 5)]
    assert [(x.unit.name, x.rank_all) for x in r.ranking] == [
        (u[5], 1), (u[1], 2), ("州财政局", 2), (u[0], 4), (u[3], 4), (u[2], 6)]
    assert row(r, "州财政局").rank == 1


# --------------------------------------------------------------------------- what people do to forms


def test_renamed_sheet_still_read(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(2, "")))
    rename_sheet(p, "Sheet1")
    r = run(plan, folder)
    f = one(r, "deduction-no-reason", file="州财政局.xlsx")
    assert f.sheet == "Sheet1" and f.cell == "E6"
    assert row(r, "州财政局").scored.score == D(96)


def test_inserted_row_moves_the_cells_named_in_findings(plan, folder):
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局", i3=(2, "")))
    insert_row_above_items(p)
    fill_with_openpyxl(p, {"F8": "两分"})  # item 4's deduction, one row lower than generated
    r = run(plan, folder)
    assert one(r, "deduction-no-reason", file="州财政局.xlsx").cell == "E7"
    assert one(r, "deduction-not-number", file="州财政局.xlsx").cell == "F8"
    assert row(r, "州财政局").scored.score == D(96)


def test_refused_return_counts_for_its_committee(plan, folder):
    """A file identified as a unit's form but refused (an item row deleted) is a return of that committee:
    the 回收情况 sheet's 拒收 column and has_returns depend on it."""
    p = write_form(folder, "州财政局.xlsx", plan, "州财政局", clean(plan, "州财政局"))
    delete_item_row(plan, p, 5)
    r = run(plan, folder)
    assert rec(r, "州财政局.xlsx").status == REFUSED
    res = summary_of(r, "第二核查组")
    assert res.refused == 1 and res.has_returns
    assert "第二核查组" not in {f.summary for f in found(r, "summary-no-returns")}


MERGE_FAMILIES = ("file-", "identity-", "rubric-", "formula-", "cached-", "deduction-", "date-", "score-", "unit-",
                  "summary-", "quota-")


def test_every_merge_rule_has_a_test():
    """Every rule of the families this file covers has its own test here."""
    import inspect
    import sys

    src = inspect.getsource(sys.modules[__name__])
    merge_codes = [c for c in FX.RULES if c.startswith(MERGE_FAMILIES)]
    assert len(merge_codes) >= 34
    assert [c for c in merge_codes if f'"{c}"' not in src] == []


def test_clean_folder_has_no_findings_but_missing(plan, folder):
    _scores(plan, folder, {u.name: 90 for u in plan.summary("州委办直属机关党委").units})
    r = run(plan, folder)
    assert {f.code for f in r.findings} == {"summary-no-returns"}
    assert r.received == 4 and all(f.status == COUNTED for f in r.files)


def test_file_formulas_unknown_for_xls_but_known_for_ods(plan, tmp_path):
    """python-calamine gives no formulas: .xlsx and .ods have them read from their XML; .xls keeps them
    in binary records, so there the merge says it could not check the 得分 formulas."""
    from lo import convert

    src = write_form(tmp_path, "州财政局.xlsx", plan, "州财政局", entries(i5=(1, "缺一次支委会")))
    for fmt in ("xls", "ods"):
        folder = tmp_path / fmt
        folder.mkdir()
        convert([src], fmt, folder)
        r = run(plan, folder)
        if fmt == "xls":
            f = one(r, "file-formulas-unknown", file=f"州财政局.{fmt}")
            assert f.severity == INFO and f".{fmt}" in f.message
        else:
            assert not found(r, "file-formulas-unknown") and not found(r, "formula-overwritten")
        assert row(r, "州财政局").scored.score == D(97)
