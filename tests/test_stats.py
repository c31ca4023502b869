"""统计分析: the statistics against independent arithmetic, the native charts read back from the xlsx XML
(type, series ranges on 统计分析 cells, the cells' values and caches) and with openpyxl (inside the
print area), print setup, and LibreOffice drawing them.

Returns are real forms (build_form + FormEntries) merged from a folder.  The expected numbers are
computed here from what was typed: item score = max(0, max - deduction), total = min(98, sum).
One soffice start for the module; a missing LibreOffice fails (tests/lo.py), never skips.
"""

from __future__ import annotations

import io
import posixpath
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest

import lo
from insight_returns import MERGED_ON, RETURNS, D, expected_score, lost, merged_returns
from xlsx_tool.judging.merge import merge
from xlsx_tool.outputs.stats import (STATS_SHEET, add_stats_sheet, category_stats, item_stats, overall_average,
                                     score_distribution, summary_stats)
from xlsx_tool.outputs.stats_sheet import CHART_COL, CHART_COLS, PRINT_SCALE
from xlsx_tool.outputs.tables import new_book

SHEET = "统计分析"  # written out: the tests pin the name people see
NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
}



def stats_book(result, path: Path) -> Path:
    """A workbook as build_summary makes one: a sheet before, 统计分析, a sheet after."""
    wb, buf = new_book("统计", result.merged_on)
    wb.add_worksheet("全部单位排名").write_string(0, 0, "排名")
    add_stats_sheet(wb, result)
    wb.add_worksheet("文件清单").write_string(0, 0, "文件")
    wb.close()
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def merged(plan, tmp_path_factory):
    return merged_returns(plan, tmp_path_factory.mktemp("stats-returns"))


@pytest.fixture(scope="module")
def empty(plan, tmp_path_factory):
    return merge(plan, tmp_path_factory.mktemp("stats-empty"), today=MERGED_ON)


# --------------------------------------------------------------------------- the numbers


def test_scores_as_merged_match_independent_arithmetic(plan, merged):
    got = {r.unit.name: r.scored.score for r in merged.ranking}
    assert got == {u: expected_score(plan, typed) for u, (_, typed) in RETURNS.items()}


def test_score_distribution(plan, merged):
    scores = {u: expected_score(plan, typed) for u, (_, typed) in RETURNS.items()}
    bands = score_distribution(merged)
    assert [b.label for b in bands] == ["60分以下", "60～70分", "70～80分", "80～90分", "90～95分", "95分及以上"]
    edges = [None, D(60), D(70), D(80), D(90), D(95), None]
    for b, lo_, hi in zip(bands, edges[:-1], edges[1:]):
        inside = sorted(u for u, s in scores.items() if (lo_ is None or s >= lo_) and (hi is None or s < hi))
        assert sorted(b.units) == inside and b.count == len(inside), b.label
        assert b.share == Fraction(len(inside), len(scores))
    assert sum(b.count for b in bands) == len(scores)
    assert bands[-1].count == 6  # 98, 96.5, 96, 95, 95 in 第一核查组 and 95.5 in 州委办直属机关党委
    assert overall_average(merged) == sum(scores.values(), Decimal(0)) / len(scores)


def test_item_and_category_stats(plan, merged):
    n = len(RETURNS)
    items = {s.seq: s for s in item_stats(merged)}
    assert sorted(items) == [it.seq for it in plan.rubric.items]
    for it in plan.rubric.items:
        losses = {u: lost(plan, typed, it.seq) for u, (_, typed) in RETURNS.items()}
        hit = {u: v for u, v in losses.items() if v > 0}
        s = items[it.seq]
        assert (s.units, s.deducted, s.share) == (n, len(hit), Fraction(len(hit), n)), it.seq
        assert s.lost == sum(losses.values(), Decimal(0)) and s.average == s.lost / n, it.seq
        assert {u: p for u, p, _ in s.by_unit} == hit, it.seq
    assert items[5].deducted == 7 and items[5].lost == D(13)
    assert items[5].share == Fraction(7, 12)
    reasons = {u: r for u, _, r in items[9].by_unit}
    assert reasons == {"州委政法委": ""}  # a deduction without a reason stays blank here (the report says 待补充)

    cats = category_stats(merged)
    assert [c.name for c in cats] == [name for name, _ in plan.rubric.categories]
    for c, (_, cat_items) in zip(cats, plan.rubric.categories):
        seqs = [it.seq for it in cat_items]
        per_unit = {u: sum((lost(plan, typed, q) for q in seqs), Decimal(0)) for u, (_, typed) in RETURNS.items()}
        hit = [u for u, v in per_unit.items() if v > 0]
        assert c.max == sum((D(it.max) for it in cat_items), Decimal(0))
        assert (c.deducted, c.share) == (len(hit), Fraction(len(hit), n)), c.name
        assert c.lost == sum(per_unit.values(), Decimal(0)) and c.average == c.lost / n, c.name
        assert not re.match(r"^[一二三四五六七八九十]+、", c.label) and " " not in c.label


def test_summary_stats(plan, merged):
    by = {s.name: s for s in summary_stats(merged)}
    assert list(by) == [s.name for s in plan.summary_units]
    first = by["第一核查组"]
    scores = [expected_score(plan, RETURNS[u.name][1]) for u in plan.summary("第一核查组").units if u.name in RETURNS]
    assert (first.expected, first.returned) == (10, 8)
    assert first.average == sum(scores, Decimal(0)) / 8
    assert (first.best, first.worst) == (max(scores), min(scores))
    assert (first.high, first.quota, first.breach) == (5, 3, True)
    assert first.high_share == Fraction(5, 10) and first.quota_share == Fraction(3, 10)
    office = by["州委办直属机关党委"]
    assert (office.expected, office.returned, office.high, office.quota, office.breach) == (4, 4, 1, 1, False)
    assert office.high_share == Fraction(1, 4)
    none = by["第二核查组"]
    assert (none.returned, none.average, none.best, none.high_share) == (0, None, None, None)
    assert none.quota_share == Fraction(3, 10)


# --------------------------------------------------------------------------- the charts, read back from the XML


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _rels(parts: dict[str, bytes], part: str) -> dict[str, tuple[str, str]]:
    """rId -> (type, absolute part name) for one part."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    if rels_name not in parts:
        return {}
    out = {}
    for rel in ET.fromstring(parts[rels_name]).findall("pr:Relationship", NS):
        target = posixpath.normpath(posixpath.join(folder, rel.get("Target")))
        out[rel.get("Id")] = (rel.get("Type").rsplit("/", 1)[-1], target)
    return out


def _sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    wb = ET.fromstring(parts["xl/workbook.xml"])
    rels = _rels(parts, "xl/workbook.xml")
    for s in wb.find("m:sheets", NS):
        if s.get("name") == sheet:
            return rels[s.get(f"{{{NS['r']}}}id")][1]
    raise AssertionError(f"no sheet {sheet}")


def _range(ref: str) -> tuple[str, str, int, int]:
    """"统计分析!$E$25:$E$39" (quoted or not) -> (sheet, column, first row, last row), one column only."""
    m = re.fullmatch(r"'?(.+?)'?!\$([A-Z]+)\$(\d+)(?::\$([A-Z]+)\$(\d+))?", ref)
    assert m, ref
    sheet, col, r1, col2, r2 = m.groups()
    assert col2 in (None, col), ref
    return sheet.replace("''", "'"), col, int(r1), int(r2 or r1)


def charts_of(path: Path, sheet: str = SHEET) -> list[dict]:
    """Every chart drawn on `sheet`: its type, title and series (name/categories/values refs and caches)."""
    parts = _parts(path.read_bytes())
    sheet_part = _sheet_part(parts, sheet)
    out = []
    for _, (kind, drawing) in sorted(_rels(parts, sheet_part).items()):
        if kind != "drawing":
            continue
        for _, (ckind, chart_part) in sorted(_rels(parts, drawing).items()):
            if ckind != "chart":
                continue
            root = ET.fromstring(parts[chart_part])
            plot = root.find("c:chart/c:plotArea", NS)
            kinds = [el.tag.split("}")[1] for el in plot if el.tag.endswith("Chart")]
            bar = plot.find("c:barChart", NS)
            title = "".join(t.text or "" for t in root.findall("c:chart/c:title//a:t", NS))
            series = []
            for ser in (bar.findall("c:ser", NS) if bar is not None else []):
                def ref(path_):
                    f = ser.find(path_ + "/c:f", NS)
                    return f.text if f is not None else None

                def cache(path_):  # idx -> cached text; a gap has no point
                    return {int(pt.get("idx")): pt.find("c:v", NS).text for pt in ser.findall(path_ + "//c:pt", NS)}

                series.append({"name": ref("c:tx/c:strRef"), "cat": ref("c:cat/c:strRef") or ref("c:cat/c:numRef"),
                               "val": ref("c:val/c:numRef"), "cat_cache": cache("c:cat"),
                               "val_cache": cache("c:val")})
            out.append({"part": chart_part, "kinds": kinds, "title": title,
                        "dir": bar.find("c:barDir", NS).get("val") if bar is not None else None, "series": series})
    return out


def cells(path: Path, sheet: str, col: str, r1: int, r2: int) -> list:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    return [ws[f"{col}{r}"].value for r in range(r1, r2 + 1)]


def _as_float(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, (Fraction, Decimal)):
        return float(v)
    return v


EXPECTED_CHARTS = ["得分分布", "各评分项目扣分单位占比", "各评分项目平均扣分", "各类别扣分单位占比", "各类别平均扣分",
                   "各汇总单位平均分", "各汇总单位95分及以上占比"]


@pytest.fixture(scope="module")
def book(merged, tmp_path_factory):
    return stats_book(merged, tmp_path_factory.mktemp("stats-book") / "统计.xlsx")


def test_sheet_is_added_between_the_others(book):
    assert openpyxl.load_workbook(book).sheetnames == ["全部单位排名", SHEET, "文件清单"]
    assert STATS_SHEET == SHEET


def test_native_column_charts_reference_the_sheets_cells(merged, book):
    charts = charts_of(book)
    assert [c["title"] for c in charts] == EXPECTED_CHARTS
    wb = openpyxl.load_workbook(book, data_only=True)
    ws = wb[SHEET]
    for c in charts:
        assert c["kinds"] == ["barChart"] and c["dir"] == "col", c["title"]  # a column chart, nothing else
        assert c["series"], c["title"]
        for s in c["series"]:
            for key in ("name", "cat", "val"):
                assert s[key] and _range(s[key])[0] == SHEET, (c["title"], key, s[key])
            _, ccol, c1, c2 = _range(s["cat"])
            _, vcol, v1, v2 = _range(s["val"])
            _, ncol, n1, _ = _range(s["name"])
            assert (c1, c2) == (v1, v2) and (ncol, n1) == (vcol, v1 - 1), c["title"]  # the header names the series
            cats = [ws[f"{ccol}{r}"].value for r in range(c1, c2 + 1)]
            vals = [ws[f"{vcol}{r}"].value for r in range(v1, v2 + 1)]
            # what Excel/WPS show before any recalculation: the caches equal the cells
            assert s["cat_cache"] == {i: str(x) for i, x in enumerate(cats)}, c["title"]
            assert {i: float(x) for i, x in s["val_cache"].items()} == \
                {i: float(v) for i, v in enumerate(vals) if v is not None}, c["title"]
            assert all(isinstance(v, (int, float)) or v is None for v in vals), c["title"]

    def series(title, i=0):
        s = next(c for c in charts if c["title"] == title)["series"][i]
        _, ccol, r1, r2 = _range(s["cat"])
        _, vcol, _, _ = _range(s["val"])
        _, ncol, nrow, _ = _range(s["name"])
        return (ws[f"{ncol}{nrow}"].value, [ws[f"{ccol}{r}"].value for r in range(r1, r2 + 1)],
                [ws[f"{vcol}{r}"].value for r in range(r1, r2 + 1)])

    dist = score_distribution(merged)
    assert series("得分分布") == ("单位数", [b.label for b in dist], [b.count for b in dist])
    items = item_stats(merged)
    name, cats, vals = series("各评分项目扣分单位占比")
    assert name == "扣分单位占比" and cats == [f"第{i.seq}项" for i in items]
    assert vals == pytest.approx([float(i.share) for i in items])
    name, cats, vals = series("各评分项目平均扣分")
    assert name == "平均扣分" and vals == pytest.approx([float(i.average) for i in items])
    cats_ = category_stats(merged)
    name, cats, vals = series("各类别扣分单位占比")
    assert cats == [c.label for c in cats_] and vals == pytest.approx([float(c.share) for c in cats_])
    name, cats, vals = series("各类别平均扣分")
    assert vals == pytest.approx([float(c.average) for c in cats_])
    sums = summary_stats(merged)
    name, cats, vals = series("各汇总单位平均分")
    assert name == "平均分" and cats == [s.name for s in sums]
    assert vals == [_as_float(s.average) for s in sums]  # blank cells (gaps) for summary units without returns
    assert vals.count(None) == len(sums) - 2
    name, cats, vals = series("各汇总单位95分及以上占比", 0)
    assert name == "95分及以上占比" and vals == [_as_float(s.high_share) for s in sums]
    name, cats, vals = series("各汇总单位95分及以上占比", 1)
    assert name == "上限占比" and vals == pytest.approx([float(s.quota_share) for s in sums])


def test_chart_titles_are_chinese_in_a_named_chinese_font(book):
    parts = _parts(book.read_bytes())
    charts = [n for n in parts if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == len(EXPECTED_CHARTS)
    for n in charts:
        xml = parts[n].decode("utf-8")
        assert 'typeface="宋体"' in xml and 'charset="134"' in xml, n
        assert "<c:numLit>" not in xml and "<c:strLit>" not in xml, n  # no literal data: everything is cells


def test_tables_hold_the_numbers_beside_the_charts(merged, book):
    ws = openpyxl.load_workbook(book, data_only=True)[SHEET]
    rows = {r[1]: r for r in ws.iter_rows(values_only=True) if len(r) > 1 and isinstance(r[1], str)}
    first = rows["第一核查组"]
    assert first[2:8] == (10, 8, pytest.approx(float(summary_stats(merged)[0].average)), 5, 3, 0.5)
    assert rows["第二核查组"][2:5] == (10, 0, None)
    assert rows["合计（全部单位）"][2:4] == (137, len(RETURNS))
    assert any(isinstance(v, str) and "统计对象：已采用的 12 个单位的得分（应 137 个；评分表 12 个）" in v
               for r in ws.iter_rows(values_only=True) for v in r)


def test_prints_on_a4_landscape_one_part_a_page(book):
    ws = openpyxl.load_workbook(book)[SHEET]
    setup = ws.page_setup
    assert (setup.paperSize, setup.orientation, setup.scale) == (9, "landscape", PRINT_SCALE)
    assert len(ws.row_breaks.brk) == 3  # four parts, a page each
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    (area,) = ws.print_area if isinstance(ws.print_area, list) else [ws.print_area]
    last_col = openpyxl.utils.column_index_from_string(re.search(r":\$?([A-Z]+)\$?\d+$", area).group(1)) - 1
    assert last_col == CHART_COL + CHART_COLS - 1
    # every chart lies inside the print area: its right edge in a column of the area
    charts = ws._charts
    assert len(charts) == len(EXPECTED_CHARTS)
    for chart in charts:
        anchor = chart.anchor
        assert anchor._from.col >= CHART_COL and anchor.to.col <= last_col, (anchor._from.col, anchor.to.col)


def test_no_returns_no_charts(empty, tmp_path):
    path = stats_book(empty, tmp_path / "empty.xlsx")
    assert charts_of(path) == []
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    text = [v for r in ws.iter_rows(values_only=True) for v in r if isinstance(v, str)]
    assert any("尚未收到可采用的评分表" in t and "未绘制图表" in t for t in text)
    assert all(b.count == 0 and b.share is None for b in score_distribution(empty))
    assert all(i.average is None and i.share is None for i in item_stats(empty))


def test_libreoffice_draws_the_charts(book, tmp_path):
    """LibreOffice loads the workbook and prints the charts (their titles are text in the PDF)."""
    (pdf,) = lo.convert([book], "pdf", tmp_path / "pdf")
    exe = shutil.which("pdftotext")
    if not exe:
        pytest.fail("pdftotext not found: apt-get install -y poppler-utils", pytrace=False)
    text = re.sub(r"\s+", "", subprocess.run([exe, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                                             text=True, check=True).stdout)
    for title in EXPECTED_CHARTS[1:]:
        assert title in text, title  # only the charts carry these titles
    assert text.count("得分分布") >= 2  # the part's heading and the chart's title
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    # 统计分析 prints as four pages (a part a page); the two other sheets one page each
    assert re.search(r"Pages:\s+6\b", info) and "(A4)" in info
