"""Hand-made 附件3 评分汇总表 (the summary units' own tables) read back into plain data.

Tables are typed with openpyxl the way a clerk lays them out in Excel or WPS (merged title, "附件3"
above it, the 汇总单位 line in one cell or several, labels with spaces and line breaks, text
scores, Sheet1), re-saved by LibreOffice as .xls and .ods, and read through `open_book`; a Word
table is written with python-docx.  Reports are recognised by name or title.  Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from lo import convert

from xlsx_tool.reading.annex3 import (ReportedRow, ReportedTable, match_summary, stated_deductions,
                                      tables_in_book, tables_in_docx)
from xlsx_tool.reading.reports import report_of
from xlsx_tool.reading.workbook import open_book

TITLE = "2017年三季度州直单位党组织书记履行党建工作责任实地核查评分汇总表"
HEADER = ["排 名", "被核查\n单位", "特色亮点", "扣分情况", "得　分"]  # a space, a line break, a full-width space


def rows_of(ws, top: int, rows: list[list]) -> None:
    for i, values in enumerate(rows):
        for j, v in enumerate(values, 1):
            if v is not None:
                ws.cell(top + i, j, v)


def clerk_workbook(path: Path) -> None:
    """Two summary units, one per sheet: the 汇总单位 line in one merged cell on Sheet1, in separate
    label and value cells on the second sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "附件3"
    ws["A2"] = TITLE
    ws.merge_cells("A2:E2")
    ws["A3"] = "汇总单位：州委办直属机关党委（盖章）"
    ws.merge_cells("A3:C3")
    ws["D3"] = "汇总时间：2017年11月3日"
    rows_of(ws, 4, [HEADER,
                    [1, "州委政策研究室", "调研成果转化好", "", 97],
                    ["第2名", " 州接待处 ", "", "第5项扣1分；第8项扣0.5分", "93.5分"],
                    ["3", "州档案局", "", "扣 2 分", "９３"],
                    [None, "州委党史研究室", "", "未核查", "未核查"],
                    [],
                    ["核查组长签字："]])
    ws2 = wb.create_sheet("第一组")
    ws2["A1"] = TITLE
    ws2.merge_cells("A1:E1")
    rows_of(ws2, 2, [["汇总单位：", "州直工委第一核查组", None, "汇总时间：", dt.datetime(2017, 11, 2)],
                     ["排名", "被核查单位", "特色亮点", "扣分情况", "得分"],
                     [1, "州委宣传部（含州社科联）", "“红色宣讲”", "", 96.5],
                     [2, "州纪委监察局", "", "扣0.5分", 95]])
    wb.save(path)


def stacked_workbook(path: Path) -> None:
    """Two blocks one under another in Sheet1, each with its own lines above and header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    rows_of(ws, 1, [["附件3"], [TITLE],
                    ["汇总单位：州委组织部机关党委    汇总时间：2017年11月1日"],
                    ["排名", "被核查单位", "特色亮点", "扣分情况", "得分"],
                    [1, "州委党校", "", "", 98],
                    [2, "团州委", "", "扣2分", 90],
                    [],
                    ["附件3"], [TITLE],
                    ["汇总单位：第二核查组", None, None, "汇总时间：2017.11.4"],
                    ["排名", "被核查单位", "特色亮点", "扣分情况", "得分"],
                    [1, "州委办（含州国家保密局、州委督查室、州委机要局）", "", "", "95"]])
    ws.merge_cells("A2:E2")
    ws.merge_cells("A9:E9")
    wb.save(path)


def R(where, rank_text, rank, unit, hl, ded, score_text, score):
    return ReportedRow(where, rank_text, rank, unit, hl, ded, score_text, None if score is None else Decimal(score))


CLERK = [
    ReportedTable("Sheet1", "州委办直属机关党委", "2017年11月3日", TITLE, [
        R("B5", "1", 1, "州委政策研究室", "调研成果转化好", "", "97", "97"),
        R("B6", "第2名", 2, "州接待处", "", "第5项扣1分；第8项扣0.5分", "93.5分", "93.5"),
        R("B7", "3", 3, "州档案局", "", "扣 2 分", "９３", "93"),
        R("B8", "", None, "州委党史研究室", "", "未核查", "未核查", None),
    ]),
    ReportedTable("第一组", "州直工委第一核查组", "2017年11月2日", TITLE, [
        R("B4", "1", 1, "州委宣传部（含州社科联）", "“红色宣讲”", "", "96.5", "96.5"),
        R("B5", "2", 2, "州纪委监察局", "", "扣0.5分", "95", "95"),
    ]),
]
STACKED = [
    ReportedTable("Sheet1", "州委组织部机关党委", "2017年11月1日", TITLE, [
        R("B5", "1", 1, "州委党校", "", "", "98", "98"),
        R("B6", "2", 2, "团州委", "", "扣2分", "90", "90"),
    ]),
    ReportedTable("Sheet1", "第二核查组", "2017.11.4", TITLE, [
        R("B12", "1", 1, "州委办（含州国家保密局、州委督查室、州委机要局）", "", "", "95", "95"),
    ]),
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The two workbooks as openpyxl wrote them and as LibreOffice re-saved them (.xls, .ods)."""
    folder = tmp_path_factory.mktemp("annex3")
    clerk, stacked = folder / "clerk.xlsx", folder / "stacked.xlsx"
    clerk_workbook(clerk)
    stacked_workbook(stacked)
    out = {"xlsx": [clerk, stacked]}
    for fmt in ("xls", "ods"):
        out[fmt] = convert([clerk, stacked], fmt, folder / fmt)
    return out


def read(path: Path) -> list[ReportedTable]:
    return tables_in_book(open_book(path.read_bytes(), path.suffix))


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_hand_made_tables_read_back_from_every_format(saved, fmt):
    clerk, stacked = saved[fmt]
    assert read(clerk) == CLERK
    assert read(stacked) == STACKED


def test_the_tables_name_their_summary_units(plan):
    names = [match_summary(t.summary_text, plan) for t in CLERK + STACKED]
    assert [s.name for s in names] == ["州委办直属机关党委", "第一核查组", "州委组织部直属机关党委", "第二核查组"]


def test_a_sheet_without_a_table_gives_nothing(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "说明：本表为空"
    buf = io.BytesIO()
    wb.save(buf)
    assert tables_in_book(open_book(buf.getvalue(), ".xlsx")) == []


def word_annex3() -> bytes:
    """The seed's 附件3 as a Word table: "附件3：", the title and the 汇总单位 line as paragraphs before
    it, a trailing empty row; then a second table with its 汇总单位 line in its merged first row."""
    d = docx.Document()
    d.add_paragraph("附件3：")
    d.add_paragraph(TITLE)
    d.add_paragraph("汇总单位：州委统战部直属机关党委（盖章）\t\t汇总时间：2017年11月1日")
    t = d.add_table(rows=5, cols=5)
    for r, values in enumerate([["排名", "被核查单位", "特色亮点", "扣分情况", "得分"],
                                ["1", "州工商联", "非公党建有特色", "", "96"],
                                ["2", "州 侨 联", "", "第12项扣2分", "92.5分"],
                                ["第3名", "州委台办", "", "扣1分、扣0.5分", "９１．５"],
                                ["", "", "", "", ""]]):
        for c, v in enumerate(values):
            t.cell(r, c).text = v
    d.add_paragraph("")
    t2 = d.add_table(rows=3, cols=5)
    top = t2.cell(0, 0).merge(t2.cell(0, 4))
    top.text = "汇总单位：第三核查组    汇总时间：2017年11月5日"
    for c, v in enumerate(["排名", "被核查单位", "特色亮点", "扣分情况", "得分"]):
        t2.cell(1, c).text = v
    for c, v in enumerate(["1", "州商务局", "", "", "94"]):
        t2.cell(2, c).text = v
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_a_word_table_with_the_lines_before_it():
    assert tables_in_docx(word_annex3()) == [
        ReportedTable("表格1", "州委统战部直属机关党委", "2017年11月1日", TITLE, [
            R("表格1第2行", "1", 1, "州工商联", "非公党建有特色", "", "96", "96"),
            R("表格1第3行", "2", 2, "州 侨 联", "", "第12项扣2分", "92.5分", "92.5"),
            R("表格1第4行", "第3名", 3, "州委台办", "", "扣1分、扣0.5分", "９１．５", "91.5"),
        ]),
        ReportedTable("表格2", "第三核查组", "2017年11月5日", "", [
            R("表格2第3行", "1", 1, "州商务局", "", "", "94", "94"),
        ]),
    ]


def test_a_file_that_is_not_a_docx_gives_no_table():
    assert tables_in_docx(b"not a document") == []


@pytest.mark.parametrize("text, amounts", [
    ("扣2分", ["2"]),
    ("第8项扣0.5分；第9项扣 1 分", ["0.5", "1"]),
    ("各扣２分", ["2"]),
    ("扣一分，扣半分", ["1", "0.5"]),
    ("扣分", []),
    ("扣分情况：无", []),
    ("", []),
])
def test_stated_deductions(text, amounts):
    assert stated_deductions(text) == [Decimal(a) for a in amounts]


@pytest.mark.parametrize("text, name", [
    ("州委办直属机关党委", "州委办直属机关党委"),
    ("州委办机关党委", "州委办直属机关党委"),
    ("中共州委办直属机关党委（盖章）", "州委办直属机关党委"),
    ("第一组", "第一核查组"),
    ("第一核查组", "第一核查组"),
    ("州直工委第一核查组", "第一核查组"),
    ("第3组", "第三核查组"),
    ("×××直属机关党委（或第×核查组）", None),
    ("第四组", None),
    ("", None),
])
def test_match_summary(plan, text, name):
    found = match_summary(text, plan)
    assert (found.name if found else None) == name


def report_docx(title: str, body: str = "根据州直工委的安排，现将核查情况报告如下。") -> bytes:
    d = docx.Document()
    d.add_paragraph("")
    d.add_paragraph(title)
    d.add_paragraph("州直工委：")
    d.add_paragraph(body)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_reports_are_told_by_name_or_title(plan):
    def name_of(name, data=b""):
        found = report_of(name, data, plan)
        return found.name if found else None

    assert name_of("州委办直属机关党委简要核查报告.pdf") == "州委办直属机关党委"
    assert name_of("第一组核查报告.doc") == "第一核查组"
    assert name_of("来信/州委组织部机关党委关于核查情况的报告.wps") == "州委组织部直属机关党委"
    assert name_of("报告.docx", report_docx("州委统战部直属机关党委关于三季度党建工作责任实地核查情况的报告")) \
        == "州委统战部直属机关党委"
    assert name_of("报告.docx", report_docx("第二核查组简要核查报告")) == "第二核查组"
    # a unit without the word 报告, the word without a unit, a table, anything unreadable: not a report
    assert name_of("州委办直属机关党委评分汇总表.docx", word_annex3()) is None
    assert name_of("简要核查报告.docx", report_docx("简要核查报告")) is None
    assert name_of("报告.docx", b"PK\x03\x04 damaged") is None
    assert name_of("州委办直属机关党委简要核查报告.xlsx") is None
