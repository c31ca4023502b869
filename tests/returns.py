"""Helpers that make realistic returned files for the aggregator's tests.

Two ways a return comes back:

* filled at generation time: `build_form(plan, unit, FormEntries(...))` — every formula
  carries a correct cached value, as if Excel had saved it;
* filled by another program: `fill_with_openpyxl(path, {cell: value})` opens a generated
  blank form, types values into cells and saves.  openpyxl drops every cached formula
  value, which is what real re-saved files look like.

And the things people do to forms: retype them into a new workbook (no identity sheet),
rename the sheet, type a number over a formula, change a 分值 or an item's text, insert a
row above the items, edit the hidden identity sheet, re-send old files (mtimes).

Cells are named as in Excel ("F7"); `cell(plan, seq, "deduction")` gives an item's cell.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from xlsx_tool.forms import layout as L
from xlsx_tool.forms.writer import FormEntries, ItemEntry
from xlsx_tool.forms.writer import build_form as _build_form
from xlsx_tool.plan import Plan, Unit

__all__ = [
    "FormEntries", "ItemEntry", "build_form", "entries", "write_form", "write_blank", "cell", "DATE_CELL",
    "UNIT_CELL", "subtotal_cell", "total_cell", "fill_with_openpyxl", "retype_form", "rename_sheet",
    "overwrite_formula", "set_max", "set_item_text", "insert_row_above_items", "delete_item_row",
    "set_identity", "set_cached_value", "set_mtime", "make_xlsm", "full_marks", "score_of", "write_explorer_zip",
    "PASSING_EXAM", "exam_cells", "exam_values",
]

DATE_CELL = L.a1(*L.DATE_CELL)  # "F2"
UNIT_CELL = L.a1(*L.INFO_UNIT)  # "B2"

_COLS = {
    "category": L.COL_CATEGORY,
    "text": L.COL_TEXT,
    "max": L.COL_MAX,
    "highlight": L.COL_HIGHLIGHT,
    "reason": L.COL_REASON,
    "deduction": L.COL_DEDUCTION,
    "score": L.COL_SCORE,
}


def _unit(plan: Plan, unit: Unit | str) -> Unit:
    if isinstance(unit, Unit):
        return unit
    u = plan.unit(unit)
    if u is None:
        raise KeyError(unit)
    return u


def _index(plan: Plan, seq: int) -> int:
    return next(i for i, it in enumerate(plan.rubric.items) if it.seq == seq)


def cell(plan: Plan, seq: int, what: str) -> str:
    """Excel name of item `seq`'s cell in the generated layout: what = deduction/reason/highlight/score/max/text."""
    return L.a1(L.item_row(_index(plan, seq)), _COLS[what])


PASSING_EXAM = [("张三", 92), ("李四", 85), ("王五", 78), ("赵六", 66), ("钱七", 60)]


def exam_cells(plan: Plan, n: int) -> tuple[str, str]:
    """(name cell, score cell) of the n-th (1-based) member in the knowledge-test table below the totals."""
    _title, _head, first, _ded = L.test_rows(len(plan.rubric.items), plan.rules.test_people)
    r = first + n - 1
    return L.a1(r, L.COL_TEXT), L.a1(r, L.COL_MAX)


def exam_values(plan: Plan, people=PASSING_EXAM) -> dict[str, object]:
    """Cells to type for a knowledge test: {name cell: name, score cell: score}."""
    out: dict[str, object] = {}
    for n, (name, score) in enumerate(people, 1):
        c_name, c_score = exam_cells(plan, n)
        out[c_name], out[c_score] = name, score
    return out


def subtotal_cell(plan: Plan) -> str:
    return L.a1(L.subtotal_row(len(plan.rubric.items)), L.COL_SCORE)


def total_cell(plan: Plan) -> str:
    return L.a1(L.total_row(len(plan.rubric.items)), L.COL_SCORE)


# --------------------------------------------------------------------------- filled at generation time


def entries(date=dt.date(2017, 10, 23), test=PASSING_EXAM, **items) -> FormEntries:
    """entries(date, i3=(2, "原因"), i5=("1分", "原因", "亮点")) -> FormEntries.

    Each item is (deduction, reason[, highlight]); keys are "i<seq>".  `test`: the knowledge test's
    (name, score) rows, all passing by default.
    """
    out = FormEntries(date=date, test=list(test))
    for key, value in items.items():
        seq = int(key.lstrip("i"))
        ded, reason, *rest = value
        out.items[seq] = ItemEntry(highlight=rest[0] if rest else "", reason=reason, deduction=ded)
    return out


def build_form(plan: Plan, unit: Unit | str, form_entries: FormEntries | None = None) -> bytes:
    """A form as filled at generation time (cached values correct)."""
    return _build_form(plan, _unit(plan, unit), form_entries)


def write_form(folder: Path, name: str, plan: Plan, unit: Unit | str, form_entries: FormEntries | None = None,
               mtime: float | None = None) -> Path:
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_form(plan, unit, form_entries))
    if mtime is not None:
        set_mtime(path, mtime)
    return path


def write_blank(folder: Path, name: str, plan: Plan, unit: Unit | str) -> Path:
    return write_form(folder, name, plan, unit, None)


def set_mtime(path: Path, when: float | dt.datetime) -> None:
    ts = when.timestamp() if isinstance(when, dt.datetime) else float(when)
    os.utime(path, (ts, ts))


def full_marks(plan: Plan):
    return plan.rubric.total


def score_of(plan: Plan, deductions: dict[int, object]):
    """The score a form with these (valid, numeric) deductions must get: sum(max - d), capped."""
    from decimal import Decimal

    total = sum((it.max - Decimal(str(deductions.get(it.seq, 0) or 0)) for it in plan.rubric.items), Decimal(0))
    return min(total, plan.rules.max_score)


# --------------------------------------------------------------------------- changed by other programs


def _load(path: Path, **kw):
    return openpyxl.load_workbook(path, **kw)


def fill_with_openpyxl(path: Path, values: dict[str, object], sheet: str = L.FORM_SHEET, out: Path | None = None,
                       iso_dates: bool = False) -> Path:
    """Open a generated form with openpyxl, type `values` ({"F7": 2, "E7": "原因"}) and save.

    A date/datetime is stored as Excel does (a serial number with a date format) unless
    `iso_dates`, which writes an ISO date cell (t="d", as some other programs do).
    A text starting with "=" is typed as text (as a value pasted into a text cell), not as a formula.
    Cached formula values are lost, as with any openpyxl save.
    """
    wb = _load(path)
    wb.iso_dates = iso_dates
    ws = wb[sheet]
    for ref, value in values.items():
        c = ws[ref]
        c.value = value
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"
        if isinstance(value, (dt.date, dt.datetime)):
            c.number_format = "yyyy-mm-dd"
    target = Path(out or path)
    wb.save(target)
    return target


def retype_form(path: Path, out: Path | None = None, unit_text: str | None = None, title: str | None = None,
                sheet_title: str = "Sheet1") -> Path:
    """Copy the visible cells of the form sheet into a new workbook: no identity sheet, no guide.

    `unit_text` replaces what was typed for 被核查单位, `title` the title line.
    """
    src = _load(path)
    ws = src[L.FORM_SHEET]
    wb = openpyxl.Workbook()
    new = wb.active
    new.title = sheet_title
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and not isinstance(c, openpyxl.cell.cell.MergedCell):
                new.cell(row=c.row, column=c.column, value=c.value)
    if unit_text is not None:
        new[UNIT_CELL] = unit_text
    if title is not None:
        new["A1"] = title
    target = Path(out or path)
    wb.save(target)
    return target


def rename_sheet(path: Path, new_name: str, out: Path | None = None) -> Path:
    wb = _load(path)
    wb[L.FORM_SHEET].title = new_name
    target = Path(out or path)
    wb.save(target)
    return target


def overwrite_formula(path: Path, ref: str, number, out: Path | None = None) -> Path:
    """Type a number over a formula cell (e.g. an item's 得分)."""
    return fill_with_openpyxl(path, {ref: number}, out=out)


def set_max(plan: Plan, path: Path, seq: int, value, out: Path | None = None) -> Path:
    return fill_with_openpyxl(path, {cell(plan, seq, "max"): value}, out=out)


def set_item_text(plan: Plan, path: Path, seq: int, text: str, out: Path | None = None) -> Path:
    return fill_with_openpyxl(path, {cell(plan, seq, "text"): text}, out=out)


def insert_row_above_items(path: Path, excel_row: int = L.ROW_HEADER + 1, text: str | None = "（单位自行插入的说明行）",
                           out: Path | None = None) -> Path:
    """Insert one row at `excel_row` (1-based; default: above the header, so header and items move down).

    Merged ranges at or below the row move down with it, as in Excel.
    """
    wb = _load(path)
    ws = wb[L.FORM_SHEET]
    merged = [m.coord for m in ws.merged_cells.ranges]
    for coord in merged:
        ws.unmerge_cells(coord)
    ws.insert_rows(excel_row)
    for coord in merged:
        m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", coord)
        c1, r1, c2, r2 = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
        if r1 >= excel_row:
            r1, r2 = r1 + 1, r2 + 1
        ws.merge_cells(f"{c1}{r1}:{c2}{r2}")
    if text is not None:
        ws.cell(row=excel_row, column=1, value=text)
    target = Path(out or path)
    wb.save(target)
    return target


def delete_item_row(plan: Plan, path: Path, seq: int, out: Path | None = None) -> Path:
    """Delete one item's row (values only shift; enough for the reader, which finds items by number)."""
    wb = _load(path)
    ws = wb[L.FORM_SHEET]
    for coord in [m.coord for m in ws.merged_cells.ranges]:
        ws.unmerge_cells(coord)
    ws.delete_rows(L.item_row(_index(plan, seq)) + 1)
    target = Path(out or path)
    wb.save(target)
    return target


def set_identity(path: Path, key: str, value: str, out: Path | None = None) -> Path:
    """Edit one value of the hidden 表单信息 sheet (key as in layout.IDENTITY_KEYS: plan_id, unit, summary, rubric…)."""
    wb = _load(path)
    ws = wb[L.IDENTITY_SHEET]
    label = dict(L.IDENTITY_KEYS)[key]
    for row in ws.iter_rows(min_col=1, max_col=2):
        if row[0].value == label:
            row[1].value = value
            break
    else:
        raise KeyError(key)
    target = Path(out or path)
    wb.save(target)
    return target


def set_cached_value(path: Path, ref: str, value, out: Path | None = None) -> Path:
    """Change the cached (shown) value of formula cell `ref` in the form sheet's XML, keeping the formula.

    What a file looks like after a client wrote new inputs without recalculating.
    """
    data = Path(path).read_bytes()
    zin = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    done = False
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = body.decode("utf-8")
                pat = re.compile(rf'(<c r="{ref}"[^>]*?)(?: t="[a-z]+")?(>\s*<f>[^<]*</f>\s*<v>)[^<]*(</v>)')
                text, n = pat.subn(lambda m: f"{m.group(1)}{m.group(2)}{value}{m.group(3)}", text)
                done = n == 1
                body = text.encode("utf-8")
            zout.writestr(info, body)
    if not done:
        raise ValueError(f"no formula cell {ref} with a cached value")
    target = Path(out or path)
    target.write_bytes(buf.getvalue())
    return target


def make_xlsm(data: bytes) -> bytes:
    """The same workbook with a (never executed) VBA project part, as saved from a macro-enabled workbook."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return buf.getvalue()


def column_letter(col0: int) -> str:
    return get_column_letter(col0 + 1)


class _GbkNameOnly(zipfile.ZipInfo):
    """A member name in GBK without the UTF-8 flag or a Unicode Path field: Windows Explorer's 'send to zip'."""

    def _encodeFilenameFlags(self):  # noqa: N802 — zipfile's hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def write_explorer_zip(path: Path, members: list[tuple[str, bytes]], date_time=(2017, 10, 30, 17, 5, 0)) -> Path:
    """A zip as made by Explorer on Chinese Windows: GBK names only (no 0x7075 extra field)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = _GbkNameOnly(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            zf.writestr(info, data)
    Path(path).write_bytes(buf.getvalue())
    return Path(path)
