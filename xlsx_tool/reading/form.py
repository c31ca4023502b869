"""Find the 评分细则 form inside a `Book` and pull out its raw cells, wherever they moved.

The header row is found by its labels and items by their numbers ("3、…"), so
an inserted row or column, or a renamed sheet, still reads; what cannot be found
is a `BookError("file-not-form", why)`.  Nothing is judged here: `scoring` does that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xlsx_tool.forms import layout as L
from xlsx_tool.reading.workbook import Book, BookError, Sheet
from xlsx_tool.textnorm import norm_text

_ITEM_NO = re.compile(r"^\s*(\d{1,3})\s*[、.．，,]")
HEADER_SEARCH_ROWS = 30
ITEM_SEARCH_ROWS = 120


@dataclass(slots=True)
class Cell:
    ref: str  # "F7"
    value: object = None
    formula: str | None = None  # None: no formula, or the format does not tell (see formulas_known)


@dataclass(slots=True)
class RawItem:
    seq: int
    row: int
    text: str
    text_ref: str
    max: Cell
    highlight: Cell
    reason: Cell
    deduction: Cell
    score: Cell


@dataclass(slots=True)
class RawTestRow:
    name: Cell
    score: Cell


@dataclass(slots=True)
class RawProblem:
    text: str
    status: Cell
    note: Cell


@dataclass(slots=True)
class RawForm:
    sheet: str
    formulas_known: bool
    date1904: bool
    title: str
    identity: dict[str, str] | None
    unit_text: str | None
    unit_cell: str | None
    date: Cell
    items: dict[int, RawItem] = field(default_factory=dict)
    subtotal: Cell | None = None
    total: Cell | None = None
    subtotal_deduction: Cell | None = None
    test: list[RawTestRow] | None = None  # None: the form has no knowledge-test table
    test_deduction: Cell | None = None
    problems: list[RawProblem] | None = None  # None: no checklist of last quarter's problems
    other_sheets: list[str] = field(default_factory=list)  # further sheets holding a form (copies)


def _text(v) -> str:
    return "" if v is None else str(v)


def _cell(sheet: Sheet, row: int, col: int) -> Cell:
    key = (row, col)
    f = sheet.formulas.get(key) if sheet.formulas is not None else None
    return Cell(L.a1(row, col), sheet.cells.get(key), f)


_HEADER_KEYS = {norm_text(h): h for h in L.HEADERS}


def _header_row(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    wanted = _HEADER_KEYS
    for r in range(HEADER_SEARCH_ROWS):
        found: dict[str, int] = {}
        for c, v in sorted(sheet.row(r).items()):
            if isinstance(v, str) and len(v) <= 16:
                key = norm_text(v)
                if key in wanted:
                    found.setdefault(wanted[key], c)
        if "核实项目" in found and "得分" in found:
            return r, found
    return None


def find_form_sheet(book: Book) -> tuple[Sheet, int, dict[str, int], list[str]]:
    """The sheet holding the form, its header row and columns, and the names of other sheets that hold
    one too.  A copy beside the original (Excel's "评分细则 (2)") is common: the one with the most
    cells filled in is used, so a filled copy wins over the blank original; the caller warns."""
    found = []
    for i, name in enumerate(book.sheet_names):
        if name in (L.IDENTITY_SHEET, L.GUIDE_SHEET):
            continue
        sheet = book.sheet(name)
        header = _header_row(sheet)
        if header:
            found.append((len(sheet.cells), name == L.FORM_SHEET, -i, sheet, header))
    if not found:
        raise BookError("file-not-form", "没有哪个工作表有“核实项目……得分”的表头")
    *_, sheet, (row, cols) = max(found, key=lambda f: f[:3])
    return sheet, row, cols, [f[3].name for f in found if f[3] is not sheet]


_IDENTITY_LABELS = {label: key for key, label in L.IDENTITY_KEYS}


def find_identity(book: Book) -> dict[str, str] | None:
    candidates = [n for n in book.sheet_names if n == L.IDENTITY_SHEET] + [
        n for n in book.sheet_names if n != L.IDENTITY_SHEET and n in book.hidden
    ]
    for name in candidates:
        sheet = book.sheet(name)
        if _text(sheet.get(0, 0)).strip() != L.IDENTITY_MARK:
            continue
        labels = _IDENTITY_LABELS
        out = {}
        for (r, c), v in sheet.cells.items():
            if c == 0 and isinstance(v, str) and v.strip() in labels:
                val = sheet.get(r, 1)
                if isinstance(val, float) and val.is_integer():
                    val = int(val)  # a client that turned "1" into a number
                out[labels[v.strip()]] = _text(val).strip()
        return out
    return None


_UNIT_KEY = norm_text(L.UNIT_LABEL).rstrip(":")
_DATE_KEY = norm_text(L.DATE_LABEL).rstrip(":")
_PLACEHOLDERS = {"", "年月日", "×××"}


def _labelled(sheet: Sheet, row: dict, r: int, c: int, key: str) -> Cell:
    """The value of "label：value" typed in one cell, else the cell right of the label (blank or not)."""
    rest = norm_text(_text(row[c]))[len(key):].lstrip(":")
    if rest not in _PLACEHOLDERS:
        return Cell(L.a1(r, c), rest)
    nxt = next((cc for cc in sorted(row) if cc > c and _text(row[cc]).strip()), None)
    if nxt is not None and nxt <= c + 2:
        return _cell(sheet, r, nxt)
    return _cell(sheet, r, c + 1)


def read_form(book: Book) -> RawForm:
    sheet, hr, cols, others = find_form_sheet(book)
    for need in ("核查内容及评分标准", "分值", "扣分情况", "扣分", "得分"):
        if need not in cols:
            raise BookError("file-not-form", f"表头中缺少“{need}”列")
    c_text, c_max, c_reason, c_ded, c_score = (cols[k] for k in ("核查内容及评分标准", "分值", "扣分情况", "扣分", "得分"))
    c_high = cols.get("特色亮点")

    # The lines above the header: the title and "label：value" pairs, value in the same cell or just right of it.
    title = ""
    unit = date = None
    for r in range(hr):
        row = sheet.row(r)
        for c in sorted(row):
            text = norm_text(_text(row[c]))
            if not title and len(text) > 10 and "评分细则" in text:
                title = _text(row[c])
            elif unit is None and text.startswith(_UNIT_KEY):
                unit = _labelled(sheet, row, r, c, _UNIT_KEY)
            elif date is None and text.startswith(_DATE_KEY):
                date = _labelled(sheet, row, r, c, _DATE_KEY)
    if date is None:
        date = Cell(L.a1(max(hr - 1, 0), c_ded))
    unit_text = _text(unit.value).strip() or None if unit else None
    unit_cell = unit.ref if unit else None

    form = RawForm(
        sheet=sheet.name,
        formulas_known=sheet.formulas is not None,
        date1904=book.date1904,
        title=title,
        identity=find_identity(book),
        unit_text=unit_text,
        unit_cell=unit_cell,
        date=date,
        other_sheets=others,
    )

    values, a1 = sheet.cells, L.a1
    for r in range(hr + 1, hr + 1 + ITEM_SEARCH_ROWS):
        text = _text(values.get((r, c_text)))
        label = norm_text(_text(values.get((r, 0))))
        if label.startswith(L.SUBTOTAL_LABEL):
            form.subtotal = _cell(sheet, r, c_score)
            form.subtotal_deduction = _cell(sheet, r, c_ded)
            continue
        if label.startswith("核定得分"):
            form.total = _cell(sheet, r, c_score)
            _read_blocks(sheet, r + 1, form, c_ded)
            break
        m = _ITEM_NO.match(text)
        if not m:
            continue
        seq = int(m.group(1))
        if seq in form.items:
            continue
        form.items[seq] = RawItem(seq, r, text, a1(r, c_text), _cell(sheet, r, c_max),
                                  _cell(sheet, r, c_high) if c_high is not None else Cell(""),
                                  _cell(sheet, r, c_reason), _cell(sheet, r, c_ded), _cell(sheet, r, c_score))
    return form


BLOCK_SEARCH_ROWS = 200
_TEST_LABEL = norm_text(L.TEST_DEDUCTION_LABEL.split("（")[0])


def _read_blocks(sheet: Sheet, start: int, form: RawForm, c_ded: int) -> None:
    """The knowledge-test table and the checklist of last quarter's problems, below the totals."""
    test_label = _TEST_LABEL
    end = start + BLOCK_SEARCH_ROWS
    titles = [r for r in sheet.row_numbers() if start <= r < end and isinstance(sheet.get(r, 0), str)]
    for r in titles:
        title = norm_text(sheet.get(r, 0))
        if form.test is None and title.startswith(L.TEST_TITLE):
            form.test = []
            for row in range(r + 2, end):  # after the title and the headers
                label = norm_text(_text(sheet.get(row, 0)))
                if label.startswith(test_label):
                    form.test_deduction = _cell(sheet, row, c_ded)
                    break
                if not label and not _text(sheet.get(row, 1)).strip():
                    break
                form.test.append(RawTestRow(_cell(sheet, row, L.COL_TEXT), _cell(sheet, row, L.COL_MAX)))
        elif form.problems is None and title.startswith(L.RECTIFY_TITLE):
            form.problems = []
            for row in range(r + 2, end):
                text = _text(sheet.get(row, L.COL_TEXT)).strip()
                if not text:
                    break
                form.problems.append(RawProblem(text, _cell(sheet, row, L.COL_HIGHLIGHT), _cell(sheet, row, L.COL_REASON)))
