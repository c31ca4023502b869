"""The reader reads exactly what LibreOffice shows: a differential test over a corpus of OOXML variants.

Every variant of a real returned form (tests/sheet_variants.py: comments, CDATA, character
references, prefixes, Strict namespaces, inline and rich strings, shared formulas, a cell written
twice, rows out of order, 1904 dates, error values, cells without positions, deductions typed as
text…) is converted by LibreOffice in ONE soffice start; LibreOffice's own output is read back with
openpyxl (data_only) and taken as what a person sees.  For every input cell (核查时间, each item's
特色亮点 / 扣分情况 / 扣分) the tool's reader must give the same value, compared as the spreadsheet
shows it: numbers numerically, dates as dates, errors as errors, text as text.  Where LibreOffice
cannot open a variant, the tool must refuse it with a finding, never crash.  End to end, the
merged score is the one recomputed here, independently of the library, from LibreOffice's values:
score_i = max(0, max_i - d_i), total = min(98, sum), where d_i is the deduction as shown (a text
number such as "２" or "1.5分" read as that number; anything else that is not a number counts 0; a
negative one 0; above the item's limit, the limit).
A missing LibreOffice is a failure (tests/lo.py), never a skip.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/lo.py, however pytest imports this file
import lo  # noqa: E402
from sheet_variants import (  # noqa: E402
    COLS,
    DATE_REF,
    INPUT_REFS,
    ITEM_ROWS,
    UNIT,
    VARIANTS,
    Variant,
    build_variant,
    ref_key,
)

from xlsx_tool import findings as FX  # noqa: E402
from xlsx_tool.judging.merge import COUNTED, REFUSED, merge  # noqa: E402
from xlsx_tool.reading.limits import Limits  # noqa: E402
from xlsx_tool.reading.workbook import BookError, CellError, open_book  # noqa: E402

pytestmark = pytest.mark.libreoffice

FORM = "评分细则"
TODAY = dt.date(2017, 11, 6)
CAP = Decimal(98)
# the variants LibreOffice cannot open (checked below, so that a LibreOffice hiccup never turns a
# comparison into a refusal check)
LO_CANNOT_OPEN = {"no_workbook_part", "workbook_not_xml", "no_content_types", "no_package_rels"}
IDS = [v.name for v in VARIANTS]


# --------------------------------------------------------------------------- values as the spreadsheet shows them


def _number(x) -> tuple[str, float]:
    return ("number", round(float(x), 9))


def _shown(v) -> tuple | None:
    """(kind, value) of a plain value, as both sides give them; None for anything else."""
    if v is None or v == "":
        return ("blank", None)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, dt.datetime):
        return ("date", v)
    if isinstance(v, dt.date):
        return ("date", dt.datetime.combine(v, dt.time()))
    if isinstance(v, (int, float)):
        return _number(v)
    if isinstance(v, str):
        return ("text", v)
    return None


def lo_shown(c) -> tuple:
    """(kind, value) of an openpyxl cell read from LibreOffice's own output (data_only)."""
    if c.data_type == "e":
        return ("error", str(c.value))
    return _shown(c.value) or ("text", str(c.value))


def tool_shown(v, date1904: bool, lo_kind: str) -> tuple:
    """(kind, value) of a value from the tool's reader.  A serial number where LibreOffice shows a date
    is the date it denotes in the book's own date system (the reader may leave the conversion to the
    scorer, but it must say which system the book uses)."""
    if isinstance(v, CellError):
        return ("error", v.text)
    if isinstance(v, (int, float)) and not isinstance(v, bool) and lo_kind == "date":
        base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
        return ("date", base + dt.timedelta(days=float(v)))
    return _shown(v) or ("unexpected type " + type(v).__name__, repr(v))


# --------------------------------------------------------------------------- the corpus, one soffice start


def convert_all(files: list[Path], outdir: Path) -> dict[Path, Path | None]:
    """--convert-to xlsx for every file in one soffice start; None where LibreOffice could not load a file.

    Not lo.convert: that one treats a file LibreOffice cannot open as a failure, and here it is a result.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    profile = lo.make_profile(outdir.parent)
    cmd = [lo.soffice_path(), lo.profile_arg(profile), "--headless", "--invisible", "--nologo", "--norestore",
           "--nolockcheck", "--convert-to", lo.FILTERS["xlsx"], "--outdir", str(outdir), *map(str, files)]
    r = lo._run(cmd, 300, lo._env())
    if r.returncode != 0:
        raise lo.LibreOfficeError(f"soffice exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    out = {}
    for f in files:
        o = outdir / f"{f.stem}.xlsx"
        out[f] = o if o.is_file() and o.stat().st_size > 0 else None
    return out


@pytest.fixture(scope="module")
def corpus(plan, tmp_path_factory):
    """name -> {"data": bytes, "lo": {ref: shown} or None where LibreOffice cannot open it}."""
    base = tmp_path_factory.mktemp("variants")
    files = {}
    for v in VARIANTS:
        p = base / "in" / f"{v.name}.xlsx"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(build_variant(plan, v))
        files[v.name] = p
    outputs = convert_all(list(files.values()), base / "out")
    result = {}
    for name, p in files.items():
        shown = None
        if outputs[p] is not None:
            ws = openpyxl.load_workbook(outputs[p], data_only=True)[FORM]
            shown = {ref: lo_shown(ws[ref]) for ref in INPUT_REFS}
        result[name] = {"data": p.read_bytes(), "lo": shown}
    return result


def tool_view(data: bytes) -> dict[str, tuple] | BookError | str:
    """{ref: value} of the input cells as the tool's reader gives them, or the BookError it refused with,
    or what else it did (a text)."""
    try:
        book = open_book(data, ".xlsx", Limits())
        if FORM not in book.sheet_names:
            return f"opened the workbook and found the sheets {book.sheet_names}, not {FORM}"
        sheet = book.sheet(FORM)
    except BookError as e:
        return e
    return {"_date1904": book.date1904, **{ref: sheet.cells.get(ref_key(ref)) for ref in INPUT_REFS}}


def test_libreoffice_opened_what_it_should(corpus):
    refused = {name for name, c in corpus.items() if c["lo"] is None}
    assert refused == LO_CANNOT_OPEN


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_reader_reads_what_libreoffice_shows(corpus, variant: Variant):
    c = corpus[variant.name]
    got = tool_view(c["data"])
    if c["lo"] is None:
        assert isinstance(got, BookError), f"{variant.name}: LibreOffice cannot open it, the reader did not refuse it: {got}"
        assert got.why, "a refusal says why"
        return
    assert isinstance(got, dict), f"{variant.name}: LibreOffice opens it, the reader: {got}"
    date1904 = got["_date1904"]
    wrong = []
    for ref in INPUT_REFS:
        want = c["lo"][ref]
        have = tool_shown(got[ref], date1904, want[0])
        if have != want:
            wrong.append(f"{ref}: LibreOffice {want}, reader {have} (raw {got[ref]!r})")
    assert not wrong, f"{variant.name} ({variant.what}):\n" + "\n".join(wrong)


# --------------------------------------------------------------------------- end to end


_TEXT_NUMBER = re.compile(r"(?:扣)?([+-]?\d+(?:\.\d+)?)(?:分)?")


def deduction_shown(shown: tuple) -> Decimal | None:
    """The deduction a person reads in the cell; None when it is not a number (blank is 0)."""
    kind, v = shown
    if kind == "blank":
        return Decimal(0)
    if kind == "number":
        return Decimal(repr(v)).normalize()
    if kind == "text":
        m = _TEXT_NUMBER.fullmatch(re.sub(r"\s", "", unicodedata.normalize("NFKC", v)))
        return Decimal(m.group(1)).normalize() if m else None
    return None


def recompute(plan, shown: dict[str, tuple]) -> tuple[dict[int, Decimal], Decimal]:
    """Each item's deduction as counted and the score, from the values LibreOffice shows."""
    used = {}
    for item, row in zip(plan.rubric.items, ITEM_ROWS):
        d = deduction_shown(shown[f"{COLS['deduction']}{row}"])
        if d is None or d < 0:
            d = Decimal(0)
        used[item.seq] = min(d, item.limit)
    total = sum((max(Decimal(0), it.max - used[it.seq]) for it in plan.rubric.items), Decimal(0))
    return used, min(total, CAP)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_merged_score_is_recomputed_from_what_libreoffice_shows(plan, corpus, variant: Variant, tmp_path):
    c = corpus[variant.name]
    name = f"{UNIT}.xlsx"
    (tmp_path / name).write_bytes(c["data"])
    result = merge(plan, tmp_path, today=TODAY, workers=1)
    [rec] = result.files
    if c["lo"] is None:
        assert rec.status == REFUSED and not result.ranking
        [f] = [f for f in rec.findings if f.severity == FX.ERROR]
        assert "意外错误" not in f.message, f"a crash, not a refusal: {f.message}"
        return
    assert rec.status == COUNTED, f"{variant.name}: {rec.reason}; {[str(f) for f in rec.findings]}"
    [row] = result.ranking
    assert row.unit.name == UNIT
    used, score = recompute(plan, c["lo"])
    got = {it.seq: it.deduction for it in row.scored.items}
    assert got == used, f"{variant.name}: deductions {got}, LibreOffice shows {used}"
    assert row.scored.score == score
    kind, when = c["lo"][DATE_REF]
    assert kind == "date" and row.scored.date == when.date()
    # what a person typed as a text number is read as that number, and said so; an error is an error
    for item, r in zip(plan.rubric.items, ITEM_ROWS):
        ref = f"{COLS['deduction']}{r}"
        shown = c["lo"][ref]
        codes = {f.code for f in rec.findings if f.cell == ref}
        if shown[0] == "text" and deduction_shown(shown) is not None:
            assert "deduction-text-number" in codes, f"{ref} {shown}: {codes}"
        if shown[0] == "error":
            assert "deduction-not-number" in codes, f"{ref} {shown}: {codes}"
