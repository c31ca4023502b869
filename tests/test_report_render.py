"""简要核查报告 of the demo, checked against the 评分汇总表 and as LibreOffice prints them.

The demo (`run_demo`) gives 133 returns over 22 summary units, with every kind of mistake.  Its
评分汇总表 (`build_summary`, read back with openpyxl) is the reference: every score, rank, deduction
amount, reason and strength a report states must be the one its 附件3 sheet (or 全部单位排名,
回收情况) gives.  All 23 reports are converted to PDF in one LibreOffice start (tests/lo.py); the
page counts come from `pdfinfo`, the word boxes from `pdftotext -bbox` (inside the page, none over
another), the title lines from `pdftotext -layout`.  A missing LibreOffice or poppler fails.
"""

from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal

import openpyxl
import pytest

import lo
from pdf import page_count, pdf_pages, tool
from insight_returns import merged_returns
from xlsx_tool.decimals import as_text
from xlsx_tool.interfaces.demo import run_demo
from xlsx_tool.outputs.report import build_report, report_blocks, write_reports
from xlsx_tool.outputs.report_text import TITLE_EM, TODO, _em, one_line
from xlsx_tool.outputs.summary import build_summary

pytestmark = pytest.mark.libreoffice

OVERALL = "汇总"
PUNCT = "。，；、：！？"


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(plan, tmp_path_factory):
    return run_demo(plan, tmp_path_factory.mktemp("demo"), seed=2017)


@pytest.fixture(scope="module")
def book(demo):
    return openpyxl.load_workbook(io.BytesIO(build_summary(demo)))


@pytest.fixture(scope="module")
def blocks(demo):
    """{summary name or 汇总: blocks}."""
    out = {s.summary.name: report_blocks(demo, s) for s in demo.summaries}
    out[OVERALL] = report_blocks(demo, None)
    return out


@pytest.fixture(scope="module")
def pdfs(demo, tmp_path_factory):
    """{summary name or 汇总: PDF path} for all 23 reports, converted in one LibreOffice start."""
    docx = write_reports(demo, tmp_path_factory.mktemp("reports"))
    out = lo.convert(docx, "pdf", tmp_path_factory.mktemp("report-pdf") / "pdf")
    return {p.stem.removeprefix("简要核查报告-"): p for p in out}


def _table(ws, first: str) -> tuple[list[str], list[tuple]]:
    """The header and body rows of a titled table: from the row starting with `first` to the first blank."""
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == first)
    body = []
    for r in rows[head + 1:]:
        if r[0] is None or (isinstance(r[0], str) and not r[0].isdigit()):
            break
        body.append(r)
    return list(rows[head]), body


def annex3(book) -> dict[str, list[dict]]:
    """{summary unit: [{rank, unit, score, highlights: [(seq, text)], deductions: [(seq, amount, reason)]}]}."""
    out = {}
    for ws in book.worksheets:
        info = [c for r in ws.iter_rows(max_row=3, values_only=True) for c in r if isinstance(c, str)]
        name = next((re.match(r"汇总单位：(\S+)", c).group(1) for c in info if c.startswith("汇总单位：")), None)
        if name is None:
            continue
        head, body = _table(ws, "排名")
        col = {h: i for i, h in enumerate(head)}
        units = []
        for r in body:
            deductions = []
            for line in (r[col["扣分情况"]] or "").split("\n"):
                m = re.match(r"第(\d+)项扣([\d.]+)分：(.*)", line)
                if m:
                    deductions.append([int(m.group(1)), Decimal(m.group(2)), m.group(3)])
                elif line:  # a reason typed over several lines
                    deductions[-1][2] += "\n" + line
            highlights = [(int(m.group(1)), m.group(2)) for m in
                          re.finditer(r"^第(\d+)项：(.*)$", r[col["特色亮点"]] or "", re.M)]
            units.append({"rank": int(r[col["排名"]]), "unit": r[col["被核查单位"]],
                          "score": Decimal(str(r[col["得分"]])), "highlights": highlights,
                          "deductions": [tuple(d) for d in deductions]})
        out[name] = units
    return out


def text_of(bs) -> str:
    return "\n".join(b.text for b in bs if b.kind != "table")


def tables(bs) -> list[list[list[str]]]:
    return [b.rows for b in bs if b.kind == "table"]


# --------------------------------------------------------------------------- the figures are the spreadsheet's


def test_summary_reports_state_what_annex3_says(demo, book, blocks):
    sheets = annex3(book)
    assert len(sheets) == sum(1 for s in demo.summaries if s.has_returns) >= 20
    checked_reasons = 0
    for name, units in sheets.items():
        bs = blocks[name]
        text = text_of(bs)
        names = [u["unit"] for u in units]
        # ranking table: rank, unit, score
        ranking = tables(bs)[-1]
        assert ranking[0][:3] == ["排名", "被核查单位", "得分"], name
        assert [tuple(r[:3]) for r in ranking[1:]] == [(str(u["rank"]), u["unit"], as_text(u["score"])) for u in units]
        # highest, lowest, average
        scores = [u["score"] for u in units]
        top = [u["unit"] for u in units if u["score"] == max(scores)]
        assert f"最高分{as_text(max(scores))}分（{'、'.join(top)}）" in text, name
        avg = (sum(scores) / len(scores)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert f"平均分{avg}分" in text, name
        # every deduction: in its item's paragraph, with the amount and reason of 附件3, and no other
        items = {int(m.group(1)): b.text for b in bs if b.kind == "para"
                 for m in [re.match(r"\d+\. 第(\d+)项（", b.text)] if m}
        expected: dict[int, list] = {}
        for u in units:
            for seq, amount, reason in u["deductions"]:
                expected.setdefault(seq, []).append((u["unit"], amount, reason))
        assert set(items) == set(expected), name
        stated = re.compile("(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")扣([\d.]+)分")
        for seq, hits in expected.items():
            para = items[seq]
            assert f"：{len(hits)}个单位扣分" in para
            assert f"共扣{as_text(sum(a for _, a, _ in hits))}分。" in para
            assert sorted((u, Decimal(a)) for u, a in stated.findall(para)) == sorted((u, a) for u, a, _ in hits), para
            for unit, amount, reason in hits:
                clause = one_line(reason)
                sep = "" if clause.startswith("（") else "，"
                assert f"{unit}扣{as_text(amount)}分{sep}{clause}" in para, (unit, seq)
                checked_reasons += 1
        # strengths, as typed
        for u in units:
            for seq, hl in u["highlights"]:
                assert re.search(rf"\d+\. {re.escape(u['unit'])}：.*{re.escape(one_line(hl))}（第{seq}项", text), u
    assert checked_reasons > 300
    # the reason the tool computed (the knowledge test) is stated as the 评分汇总表 states it
    assert "州政府办扣0.5分，测试不及格1人（扣0.5分）" in text_of(blocks["第一核查组"])


def test_overall_report_states_what_the_summary_says(demo, book, blocks):
    bs = blocks[OVERALL]
    summary_t, highlights_t, problems_t, ranking_t, missing_t = tables(bs)
    # ranking: two units a row, as 全部单位排名 gives them
    head, body = _table(book["全部单位排名"], "排名")
    col = {h: i for i, h in enumerate(head)}
    want = [(str(r[col["排名"]]), r[col["被核查单位"]], as_text(Decimal(str(r[col["得分"]])))) for r in body]
    got = [tuple(row[k:k + 3]) for row in ranking_t[1:] for k in (0, 3) if row[k]]
    assert got == want and len(got) == 133
    # per summary unit: expected, returned, high/quota as 回收情况 gives them
    head, body = _table(book["回收情况"], "序号")
    col = {h: i for i, h in enumerate(head)}
    rows = {r[col["汇总单位"]]: r for r in body}
    for name, expected, returned, _avg, high in summary_t[1:]:
        r = rows[name]
        assert (int(expected), int(returned)) == (r[col["应交"]], r[col["已交"]]), name
        assert high == (r[col["95分及以上/上限"]] if int(returned) else "—"), name
    # deductions per item over all 附件3 sheets
    per_item: dict[int, list] = {}
    highlights: dict[str, set] = {}
    for units in annex3(book).values():
        for u in units:
            for seq, amount, _ in u["deductions"]:
                per_item.setdefault(seq, []).append(amount)
            for _, hl in u["highlights"]:
                highlights.setdefault(one_line(hl), set()).add(u["unit"])
    assert {int(r[0][1:-1]): (int(r[2]), Decimal(r[4])) for r in problems_t[1:]} == \
        {seq: (len(a), sum(a)) for seq, a in per_item.items()}
    assert {r[1]: set(r[3].split("、")) for r in highlights_t[1:]} == highlights
    assert all(int(r[2]) == len(r[3].split("、")) for r in highlights_t[1:])
    # missing units
    assert {r[0]: int(r[1]) for r in missing_t[1:]} == {s.summary.name: len(s.missing) for s in demo.summaries
                                                        if s.missing}


def test_punctuation(plan, demo, tmp_path):
    """Every paragraph is whole sentences; every （待补充） has its stop; no doubled punctuation."""
    other = merged_returns(plan, tmp_path)
    for result in (demo, other):
        for s in [*result.summaries, None]:
            bs = report_blocks(result, s)
            for b in bs:
                if b.kind == "para":
                    assert b.text.endswith(("。", "：")), b.text
                texts = [c for row in b.rows for c in row] if b.kind == "table" else [b.text]
                for t in texts:
                    assert not re.search(f"[{PUNCT}][{PUNCT}]", t), t
                    assert t.count(TODO) == t.count(TODO + "。"), t
            assert any(TODO in b.text for b in bs)


# --------------------------------------------------------------------------- as printed


_ALLOWED_LINE_ENDS = ("季度", "单位", "书记", "责任", "核查", "情况的", "简要报告")


def test_titles_break_at_phrase_ends(demo, blocks, pdfs):
    exe = tool("pdftotext")
    assert blocks[OVERALL][0].lines == ["关于2017年第三季度州直单位党组织书记", "履行党建工作责任实地核查情况的简要报告"]
    assert blocks["第一核查组"][0].lines == ["第一核查组关于2017年第三季度", "州直单位党组织书记履行党建工作责任",
                                        "实地核查情况的简要报告"]
    for key, bs in blocks.items():
        title = bs[0]
        assert "".join(title.lines) == title.text and len(title.lines) <= 3, key
        for line in title.lines:
            assert _em(line) <= TITLE_EM, line
            assert line.endswith(_ALLOWED_LINE_ENDS) or line == key or line.endswith(key + "关于"), line
        # LibreOffice prints exactly these lines: it wrapped none of them again
        page = _run(exe, "-enc", "UTF-8", "-layout", "-f", "1", "-l", "1", str(pdfs[key]), "-")
        printed = [re.sub(r"\s+", "", ln) for ln in page.splitlines() if ln.strip()]
        assert printed[:len(title.lines)] == title.lines, key


def test_pages_and_word_boxes(pdfs):
    pages = {key: page_count(pdf) for key, pdf in pdfs.items()}
    assert 8 <= pages[OVERALL] <= 10  # the overall report of 133 returns stays short (it ran to 33)
    assert 5 <= pages["第一核查组"] <= 8
    assert pages["州国资委直属机关党委"] <= 2  # nothing returned: a short note
    for key, pdf in pdfs.items():
        for n, page in enumerate(pdf_pages(pdf), 1):
            assert page.words, (key, n)
            for w in page.words:
                assert 0 <= w.x0 < w.x1 <= page.width and 0 <= w.y0 < w.y1 <= page.height, (key, n, w.text)
            boxes = sorted((w.x0, w.y0, w.x1, w.y1, w.text) for w in page.words)
            for i, a in enumerate(boxes):  # sorted by x0: only the next boxes starting left of a's end can overlap
                for b in boxes[i + 1:]:
                    if b[0] >= a[2] - 0.5:
                        break
                    overlap_x = min(a[2], b[2]) - max(a[0], b[0])
                    overlap_y = min(a[3], b[3]) - max(a[1], b[1])
                    assert overlap_x <= 0.5 or overlap_y <= 0.5, (key, n, a, b)


def test_zip_members_have_fixed_times(demo):
    import zipfile

    with zipfile.ZipFile(io.BytesIO(build_report(demo, None))) as z:
        assert z.testzip() is None
        infos = z.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_break_lines_keeps_phrases_whole():
    from xlsx_tool.outputs.report_text import break_lines, phrases

    title = "州卫生和计生委直属机关党委关于2017年第三季度州直单位党组织书记履行党建工作责任实地核查情况的简要报告"
    parts = ["州卫生和计生委直属机关党委", *phrases("关于2017年第三季度州直单位党组织书记履行党建工作责任实地核查"),
             "情况的", "简要报告"]
    lines = break_lines(parts, TITLE_EM)
    assert lines == ["州卫生和计生委直属机关党委", "关于2017年第三季度州直单位党组织书记",
                     "履行党建工作责任实地核查情况的简要报告"]
    assert "".join(lines) == title
    # a title with no phrase end the tool knows, longer than a line: cut, but no line too wide
    odd = "某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某"
    cut = break_lines(phrases(odd), TITLE_EM)
    assert "".join(cut) == odd and all(_em(line) <= TITLE_EM for line in cut) and len(cut) == 2
