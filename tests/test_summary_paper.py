"""The demo's 评分汇总表 and a correction list printed by LibreOffice (its PDF export): how many
pages, every 附件3 of up to 14 units on one page (the demo's, and the plan's biggest summary unit
with all 14 returns full of text), the charts printed, and no word of the PDF
(`pdftotext -bbox`) outside its page or on top of another word.

The demo (`xlsx_tool.interfaces.demo.run_demo`) is a full quarter: 137 units over 22 summary
units, returns with the usual mistakes.  One soffice start converts both files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import lo
from pdf import page_count as pages_in
from pdf import Page, pdf_info, pdf_pages
from returns import entries, write_form
from xlsx_tool.interfaces.demo import run_demo
from xlsx_tool.judging.merge import merge
from xlsx_tool.outputs.corrections import FOLDER
from xlsx_tool.outputs.summary import ANNEX3_ONE_PAGE, SUMMARY_FILE, write_summary

# The demo's summary printed as 79 pages before (rows far taller than their text); now 41.
MAX_SUMMARY_PAGES = 42


def page_count(pdf: Path) -> int:
    assert "(A4)" in pdf_info(pdf), pdf_info(pdf)
    return pages_in(pdf)


# Two lines of one wrapped cell: their word boxes (the font's full height, 7.5 pt at the printed
# scale) touch by up to about 0.7 pt, as the font's ascent and descent exceed the line pitch.  A word
# printed over another overlaps by most of its height.
OVERLAP_PT = 2.0


def overlaps(page: Page) -> list[tuple[str, str]]:
    found = []
    words = sorted(page.words, key=lambda w: w.y0)
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            if b.y0 >= a.y1 - OVERLAP_PT:
                break  # sorted by top: nothing further down can overlap a by more than the margin
            if min(a.x1, b.x1) - max(a.x0, b.x0) > OVERLAP_PT and min(a.y1, b.y1) - max(a.y0, b.y0) > OVERLAP_PT:
                found.append((a.text, b.text))
    return found


def full_group(plan, folder: Path):
    """Every unit of the plan's biggest summary unit returned, each with seven deductions whose
    reasons run to two or three lines, and highlights: the fullest 附件3 a quarter can have."""
    group = max(plan.summary_units, key=lambda s: len(s.units))
    reason = "经查阅会议记录和台账资料，{}月份未按要求召开支委会，学习笔记不全，整改措施未落实到位"
    for k, unit in enumerate(group.units):
        items = {f"i{seq}": (1, reason.format(7 + (k + seq) % 3), "“主题党日+”形式新颖，党建阵地建设规范" if seq % 3 == 0 else "")
                 for seq in (1, 2, 3, 5, 6, 8, 10)}
        write_form(folder / group.name, f"{unit.name}.xlsx", plan, unit, entries(**items))
    result = merge(plan, folder, today=dt.date(2017, 11, 6))
    (annex,) = [s for s in result.summaries if s.rows]
    assert len(annex.rows) == len(group.units) == ANNEX3_ONE_PAGE
    return result


@pytest.fixture(scope="module")
def demo(plan, tmp_path_factory):
    work = tmp_path_factory.mktemp("paper")
    result = run_demo(plan, work / "demo")
    out = work / "demo" / "output"
    lists = sorted((out / FOLDER).glob("*.xlsx"))
    assert lists
    full = full_group(plan, work / "full")
    write_summary(full, work / "full.xlsx")
    summary_pdf, list_pdf, full_pdf = lo.convert([out / SUMMARY_FILE, lists[0], work / "full.xlsx"], "pdf", work / "pdf")
    return result, pdf_pages(summary_pdf), summary_pdf, list_pdf, (full, pdf_pages(full_pdf))


def test_summary_prints_in_about_half_the_pages(demo):
    _result, pages, summary_pdf, list_pdf, _full = demo
    assert len(pages) == page_count(summary_pdf) <= MAX_SUMMARY_PAGES
    assert page_count(list_pdf) == 1


def test_every_annex3_of_up_to_14_units_on_one_page(demo):
    result, pages, _pdf, _list, full = demo
    annexes = [(s, pages) for s in result.summaries if s.has_returns]
    assert max(len(s.rows) for s, _ in annexes) >= ANNEX3_ONE_PAGE - 1
    full_result, full_pages = full
    annexes += [(s, full_pages) for s in full_result.summaries if s.rows]  # 14 units, long texts
    for s, pages in annexes:
        label = f"汇总单位：{s.summary.name}"
        on = [i for i, p in enumerate(pages) if label in p.text]
        assert len(on) == 1, (s.summary.name, on)
        page = pages[on[0]]
        for r in s.rows:  # every unit of it, and the note under the table, on that page
            assert r.unit.name in page.text, (s.summary.name, r.unit.name)
        assert "上限" in page.text


def test_charts_are_printed(demo):
    _result, pages, _pdf, _list, _full = demo
    text = "".join(p.text for p in pages)
    for title in ("各评分项目扣分单位占比", "各评分项目平均扣分", "各类别扣分单位占比", "各类别平均扣分", "各汇总单位平均分",
                  "各汇总单位95分及以上占比"):
        assert title in text, title


def test_no_word_outside_its_page_or_on_another(demo):
    _result, pages, _pdf, list_pdf, (_, full_pages) = demo
    for name, doc in (("summary", pages), ("list", pdf_pages(list_pdf)), ("14 units", full_pages)):
        for n, page in enumerate(doc, 1):
            outside = page.outside()
            assert outside == [], (name, n, outside[:5])
            assert overlaps(page) == [], (name, n, overlaps(page)[:5])
