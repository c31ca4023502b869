"""Property-based: valid returns mutated at byte, part and cell level (issue 4.5).

Whatever the mutation, reading the file never crashes (no exception escapes to the
merge's last-resort handler, whose message says 意外错误), the summary can be written
with no text of the file turned into a formula, and the other files' results are exactly
as without it.  Deterministic (derandomize=True), modest example counts.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import struct
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/hostile.py, however pytest imports this file
import hostile as H  # noqa: E402
from xlsx_tool.forms import layout as L  # noqa: E402
from xlsx_tool.reading.workbook import Limits  # noqa: E402
from xlsx_tool.reading.collect import Source  # noqa: E402
from xlsx_tool.judging.merge import merge, read_source  # noqa: E402
from xlsx_tool.outputs.summary import build_summary, to_json  # noqa: E402

TODAY = dt.date(2017, 11, 6)
SETTINGS = dict(derandomize=True, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
MUTANT = "变异-评分细则.xlsx"
VICTIM_UNIT = H.HOSTILE_UNITS[0]


# --------------------------------------------------------------------------- fixtures


def _victim(plan) -> bytes:
    """A return with something in every kind of input: deductions, reasons, highlights, a date."""
    e = H.form_entries(plan, VICTIM_UNIT, {3: 2, 5: 1, 9: 1.5}, reason="会议记录不全", highlight="台账规范")
    return H.build_form(plan, plan.unit(VICTIM_UNIT), e)


@pytest.fixture(scope="module")
def world(plan, tmp_path_factory):
    """A folder of baseline returns (newer than any mutant), their snapshot, and the victim form."""
    folder = tmp_path_factory.mktemp("props") / "collected"
    names = H.build_baseline(folder, plan, mtime=dt.datetime(2017, 10, 26, 10, 0).timestamp())
    result = merge(plan, folder, workers=1, today=TODAY)
    assert all(r.status == H.COUNTED and r.errors == 0 for r in result.files)
    return folder, names, snapshot(result, names), _victim(plan)


def snapshot(result, names) -> dict:
    out = {}
    for rec in result.files:
        if rec.name in names:
            out[rec.name] = (rec.status, rec.reason, rec.unit, rec.sha256,
                             sorted((f.code, f.message, f.cell) for f in rec.findings),
                             str(rec.scored.score) if rec.scored else None,
                             [(i.seq, str(i.deduction), i.reason, i.highlight) for i in rec.scored.items] if rec.scored else None)
    return out


def check(plan, world, data: bytes) -> None:
    """The properties every mutant must satisfy."""
    folder, names, before, _victim_bytes = world
    # 1. reading never crashes: every problem is a finding, never the last-resort handler
    rec = read_source(Source(MUTANT, data, 0.0), plan, Limits())
    crashes = [f.message for f in rec.findings if "意外错误" in f.message]
    assert crashes == [], crashes
    # 2. the other files' results are exactly as without it
    path = folder / MUTANT
    path.write_bytes(data)
    old = dt.datetime(2017, 10, 20).timestamp()
    os.utime(path, (old, old))
    try:
        result = merge(plan, folder, workers=1, today=TODAY)
    finally:
        path.unlink()
    assert snapshot(result, names) == before
    mine = [r for r in result.files if r.name == MUTANT]
    assert len(mine) == 1 and mine[0].status in (H.COUNTED, H.REFUSED, H.DUPLICATE, H.IGNORED)
    assert "意外错误" not in mine[0].reason
    # 3. the summary and the JSON can be written; nothing from the file became a formula
    summary = build_summary(result)
    json.dumps(to_json(result), ensure_ascii=False)
    with zipfile.ZipFile(io.BytesIO(summary)) as z:
        for n in z.namelist():
            if n.startswith("xl/worksheets/"):
                for f in re.findall(r"<f\b[^>]*>(.*?)</f>", z.read(n).decode("utf-8"), re.S):
                    assert "cmd" not in f and "PWN" not in f, (n, f)


# --------------------------------------------------------------------------- byte level


HEADER_FIELDS = {
    b"PK\x03\x04": [(6, "<H"), (8, "<H"), (14, "<I"), (18, "<I"), (22, "<I"), (26, "<H"), (28, "<H")],
    b"PK\x01\x02": [(8, "<H"), (10, "<H"), (16, "<I"), (20, "<I"), (24, "<I"), (28, "<H"), (30, "<H"), (42, "<I")],
    b"PK\x05\x06": [(8, "<H"), (10, "<H"), (12, "<I"), (16, "<I")],
}


@st.composite
def byte_mutation(draw, size: int):
    """A description of a byte-level change (kept small so that a failure prints readably)."""
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "header"]))
    if kind == "flip":
        return kind, draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), min_size=1, max_size=6))
    if kind == "truncate":
        return kind, draw(st.integers(0, size - 1))
    if kind == "insert":
        return kind, (draw(st.integers(0, size)), draw(st.binary(min_size=1, max_size=64)))
    sig = draw(st.sampled_from(sorted(HEADER_FIELDS)))
    off, fmt = draw(st.sampled_from(HEADER_FIELDS[sig]))
    bits = 8 * struct.calcsize(fmt)
    value = draw(st.one_of(st.sampled_from([0, 1, 2, 8, 9, 12, 14, 99, 0x800, (1 << bits) - 1, 1 << (bits - 1)]),
                           st.integers(0, (1 << bits) - 1)))
    return kind, (sig, draw(st.integers(0, 20)), off, fmt, value)


def apply_bytes(data: bytes, mutation) -> bytes:
    kind, arg = mutation
    buf = bytearray(data)
    if kind == "flip":
        for pos, val in arg:
            buf[pos] = val
    elif kind == "truncate":
        del buf[arg:]
    elif kind == "insert":
        buf[arg[0]:arg[0]] = arg[1]
    else:  # a field of the n-th local header, central directory record or end record
        sig, nth, off, fmt, value = arg
        starts = [m.start() for m in re.finditer(re.escape(sig), bytes(buf))]
        struct.pack_into(fmt, buf, starts[nth % len(starts)] + off, value)
    return bytes(buf)


@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_byte_mutations(plan, world, data):
    mutation = data.draw(byte_mutation(len(world[3])), label="mutation")
    check(plan, world, apply_bytes(world[3], mutation))


# --------------------------------------------------------------------------- part level

PARTS = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
         "xl/worksheets/sheet3.xml", "[Content_Types].xml"]
TOKENS = ["<", ">", "/>", "</row>", "<row>", '<row r="0">', '<row r="9999999">', '<c r="F4">', '<c r="XFD1048576">',
          '<c r="A0"/>', "</c>", "<v>", "</v>", "<v>1e309</v>", "<v>nan</v>", "<f>", "</f>", '<c t="e"><v>#REF!</v></c>',
          '<c r="F6" t="s"><v>-1</v></c>', '<c r="F6" t="s"><v>99999</v></c>', "<si>", "</si>", "<t>", "</t>",
          "&", "&amp;", "&#0;", "&#x110000;", "&#99999999999;", "&lol;", "\"", "'", "\x00", "\ufeff", "]]>",
          "<![CDATA[", '<sheet name="评分细则" r:id="rId9"/>', '<sheet name="" r:id=""/>', 'state="hidden"',
          '<Relationship Id="rId1" Target="../../../../etc/passwd"/>', 'Target="/xl/worksheets/sheet9.xml"',
          '<workbookPr date1904="1"/>', "<!-- -->", "=cmd|' /C calc'!A0", "PWN()"]


@st.composite
def part_mutation(draw, data: bytes):
    """(part, [edits], drop): edits are (kind, position, argument) on the part's bytes."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    part = draw(st.sampled_from(PARTS))
    size = zin.getinfo(part).file_size
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "insert", "replace-number"]))
        at = draw(st.integers(0, size))
        if kind in ("delete", "duplicate"):
            edits.append((kind, at, draw(st.integers(1, 200))))
        elif kind == "insert":
            edits.append((kind, at, draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=20)))))
        else:
            edits.append((kind, at, draw(st.integers(-10, 10**12))))
    drop = draw(st.integers(0, 9)) == 0  # now and then the part goes missing instead
    return part, edits, drop


def apply_part(data: bytes, mutation) -> bytes:
    part, edits, drop = mutation
    text = bytearray(zipfile.ZipFile(io.BytesIO(data)).read(part))
    for kind, at, arg in edits:
        at = min(at, len(text))
        if kind == "delete":
            del text[at:at + arg]
        elif kind == "duplicate":
            text[at:at] = text[at:at + arg]
        elif kind == "insert":
            text[at:at] = arg.encode("utf-8", "surrogatepass")
        else:  # the first number at or after `at`
            m = re.compile(rb"\d+").search(bytes(text), at)
            if m:
                text[m.start():m.end()] = str(arg).encode()
    return H.rezip(data, lambda n, b: (None if drop else bytes(text)) if n == part else b)


@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_part_mutations(plan, world, data):
    mutation = data.draw(part_mutation(world[3]), label="mutation")
    check(plan, world, apply_part(world[3], mutation))


# --------------------------------------------------------------------------- cell level

ERRORS = ["#DIV/0!", "#REF!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#BOGUS"]
FORMULA_TEXTS = H.FORMULA_TEXTS + ["=PWN()", "+PWN()", "-PWN()", "@PWN()"]
texts = st.one_of(st.text(max_size=40), st.sampled_from(FORMULA_TEXTS),
                  st.sampled_from(["２", " 2 ", "2分", "扣2分", "-1", "1e3", "0x10", "NaN", "Infinity", "1,5", "十",
                                   "2017年10月23日", "10月23日", "2017-02-30", "0000-00-00", "长" * 32767]))


def _xml_text(s: str) -> str:
    return escape(s, {'"': "&quot;"})


@st.composite
def cell_xml(draw, ref: str) -> str:
    kind = draw(st.sampled_from(["n", "inline", "str", "s", "b", "e", "d", "f", "empty"]))
    if kind == "n":
        v = draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                           st.sampled_from(["1e309", "-0", "nan", "inf", "0x1p3", "", " 2 ", "2,5"])))
        return f'<c r="{ref}"><v>{_xml_text(str(v))}</v></c>'
    if kind == "inline":
        return f'<c r="{ref}" t="inlineStr"><is><t>{_xml_text(draw(texts))}</t></is></c>'
    if kind == "str":
        return f'<c r="{ref}" t="str"><v>{_xml_text(draw(texts))}</v></c>'
    if kind == "s":
        return f'<c r="{ref}" t="s"><v>{draw(st.one_of(st.integers(-5, 200), st.just("x")))}</v></c>'
    if kind == "b":
        return f'<c r="{ref}" t="b"><v>{draw(st.sampled_from(["0", "1", "true", "2", ""]))}</v></c>'
    if kind == "e":
        return f'<c r="{ref}" t="e"><v>{_xml_text(draw(st.sampled_from(ERRORS)))}</v></c>'
    if kind == "d":
        v = draw(st.one_of(st.datetimes(min_value=dt.datetime(1, 1, 1)).map(dt.datetime.isoformat), st.text(max_size=20)))
        return f'<c r="{ref}" t="d"><v>{_xml_text(v)}</v></c>'
    if kind == "f":
        cached = draw(st.one_of(st.none(), st.floats(allow_nan=False), st.sampled_from(ERRORS)))
        f = _xml_text(draw(st.sampled_from(["SUM(1,2)", "1/0", "F4*2", "PWN()", "cmd|' /C calc'!A0", "C4-F4", ""])))
        v = "" if cached is None else f"<v>{_xml_text(str(cached))}</v>"
        t = ' t="e"' if isinstance(cached, str) else ""
        return f'<c r="{ref}"{t}><f>{f}</f>{v}</c>'
    return f'<c r="{ref}"/>'


def _input_refs(plan) -> list[str]:
    refs = [L.a1(*L.DATE_CELL), L.a1(*L.INFO_UNIT), "A1", "A3", "G3"]
    for seq in (1, 3, 5, 9, 15):
        for col in (L.COL_TEXT, L.COL_MAX, L.COL_HIGHLIGHT, L.COL_REASON, L.COL_DEDUCTION, L.COL_SCORE):
            refs.append(H.a1(plan, seq, col))
    n = len(plan.rubric.items)
    refs += [L.a1(L.subtotal_row(n), L.COL_SCORE), L.a1(L.total_row(n), L.COL_SCORE), L.a1(L.subtotal_row(n), 0)]
    return refs


def set_cells(data: bytes, cells: dict[str, str]) -> bytes:
    def fn(b: bytes) -> bytes:
        x = b.decode("utf-8")
        for ref, new in cells.items():
            pat = re.compile(rf'<c r="{ref}"(?:\s[^>]*?)?(?:/>|>.*?</c>)', re.S)
            x, n = pat.subn(lambda m: new, x, count=1)
            if n == 0:  # no such cell: add it to the end of its row (enough for this reader)
                row = re.sub(r"[A-Z]+", "", ref)
                x = re.sub(rf'(<row r="{row}"[^>]*>.*?)(</row>)', lambda m: m.group(1) + new + m.group(2), x, count=1,
                           flags=re.S)
        return x.encode("utf-8")

    return H.rezip(data, H._part("", H.SHEET1, fn))


@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_cell_mutations(plan, world, data):
    refs = _input_refs(plan)
    chosen = data.draw(st.lists(st.sampled_from(refs), min_size=1, max_size=8, unique=True), label="cells")
    cells = {ref: data.draw(cell_xml(ref), label=ref) for ref in chosen}
    check(plan, world, set_cells(world[3], cells))


def test_cell_mutation_helper_really_changes_cells(plan, world):
    """The helper above writes what it says: a deduction of #DIV/0! is read as an error value."""
    ref = H.a1(plan, 3, L.COL_DEDUCTION)
    data = set_cells(world[3], {ref: f'<c r="{ref}" t="e"><v>#DIV/0!</v></c>'})
    rec = read_source(Source(MUTANT, data, 0.0), plan, Limits())
    assert any(f.code == "deduction-not-number" and f.cell == ref for f in rec.findings), [f.code for f in rec.findings]
