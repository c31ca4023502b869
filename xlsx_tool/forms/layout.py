"""The 评分细则 form's layout: the one place the writer and the reader agree on.

Rows and columns are 0-based here (xlsxwriter's convention); `a1()` gives the
cell names used in messages and formulas.

    row 0  title (merged A:G)
    row 1  被核查单位：| unit | 核查组：<summary unit> (C:D merged) | 核查时间：| date (F:G merged, input)
    row 2  核实项目 | 核查内容及评分标准 | 分值 | 特色亮点 | 扣分情况 | 扣分 | 得分
    row 3… one row per rubric item; 特色亮点, 扣分情况 and 扣分 are the inputs
    then   小计 row (sums) and 核定得分 row (capped at the plan's maximum)

The six official columns of 附件2 keep their order; the numeric 扣分 column sits
beside 扣分情况 because a reason is text and a score needs a number.
"""

from __future__ import annotations

from functools import lru_cache

FORM_VERSION = "1"

# Chinese Excel's own way of naming 宋体 (charset 134 = GB2312); named explicitly because
# WPS and LibreOffice pick East Asian theme fonts differently.
FONT_PROPS = {"font_name": "宋体", "font_size": 10.5, "font_charset": 134, "font_family": 3, "font_scheme": "none"}

FORM_SHEET = "评分细则"
GUIDE_SHEET = "填表说明"
IDENTITY_SHEET = "表单信息"
IDENTITY_MARK = "xlsx-tool 表单信息（请勿修改本表）"

# columns
COL_CATEGORY, COL_TEXT, COL_MAX, COL_HIGHLIGHT, COL_REASON, COL_DEDUCTION, COL_SCORE = range(7)
HEADERS = ("核实项目", "核查内容及评分标准", "分值", "特色亮点", "扣分情况", "扣分", "得分")
WIDTHS = (13, 56, 6, 22, 24, 7.5, 7.5)
LAST_COL = COL_SCORE

# rows
ROW_TITLE = 0
ROW_INFO = 1
ROW_HEADER = 2
ROW_FIRST_ITEM = 3

# the info line: labels and value cells
UNIT_LABEL = "被核查单位："
SUMMARY_LABEL = "核查组："
DATE_LABEL = "核查时间："
INFO_UNIT = (ROW_INFO, COL_TEXT)  # label in column A
INFO_SUMMARY = (ROW_INFO, COL_MAX)  # "核查组：…", merged over 分值 and 特色亮点
INFO_DATE_LABEL = (ROW_INFO, COL_REASON)
DATE_CELL = (ROW_INFO, COL_DEDUCTION)  # merged with the 得分 column; an input

SUBTOTAL_LABEL = "小计"
SUMMARY_TEXT_KEEP = 300  # characters of one item's reason or highlight shown in the summary's 附件3
TOTAL_LABEL = "核定得分（最高{max}分）"

# identity sheet: key labels in column A, values in column B, from row 1
IDENTITY_KEYS = (
    ("plan_id", "方案编号"),
    ("period", "核查期间"),
    ("unit", "被核查单位"),
    ("unit_code", "单位编号"),
    ("summary", "汇总单位"),
    ("form_version", "表单版本"),
    ("rubric", "评分细则指纹"),
)


@lru_cache(maxsize=4096)
def col_letters(col: int) -> str:
    """0 -> "A", 26 -> "AA"."""
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    """"A" -> 0, "AA" -> 26 (upper case)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


@lru_cache(maxsize=65536)  # the reader names the same few hundred cells in every file
def a1(row: int, col: int) -> str:
    """(3, 5) -> "F4"."""
    return f"{col_letters(col)}{row + 1}"


def item_row(index: int) -> int:
    """Row of the index-th (0-based) rubric item."""
    return ROW_FIRST_ITEM + index


def subtotal_row(n_items: int) -> int:
    return ROW_FIRST_ITEM + n_items


def total_row(n_items: int) -> int:
    return ROW_FIRST_ITEM + n_items + 1


# ---- blocks below the table (rows counted from the 核定得分 row)
#
#   +2  TEST_TITLE                                   (merged A:G)
#   +3  序号 | 姓名 | 成绩 | 结果
#   +4… one row per tested member: name (B) and score (C) are inputs, 结果 (D) a formula
#   next TEST_DEDUCTION_LABEL (A:E merged) | test deduction (F, formula)
#   +2  RECTIFY_TITLE, only when last quarter's problems were given (--previous)
#   +1  序号 | 上季度反馈的问题 | | 整改情况 | 说明
#   +1… one row per problem: status (D, 已整改/未整改) and a note (E) are inputs

TEST_TITLE = "党的基本知识测试"
TEST_HEADERS = ("序号", "姓名", "成绩", "结果")
TEST_DEDUCTION_LABEL = "测试扣分（自动计算，已计入第{seq}项得分）"
RECTIFY_TITLE = "上季度问题整改情况"
RECTIFY_HEADERS = {COL_CATEGORY: "序号", COL_TEXT: "上季度反馈的问题", COL_HIGHLIGHT: "整改情况", COL_REASON: "说明"}
RECTIFIED, NOT_RECTIFIED = "已整改", "未整改"


def test_rows(n_items: int, people: int) -> tuple[int, int, int, int]:
    """(title row, header row, first person row, deduction row)."""
    title = total_row(n_items) + 2
    return title, title + 1, title + 2, title + 2 + people


def rectify_rows(n_items: int, people: int | None) -> tuple[int, int, int]:
    """(title row, header row, first problem row); after the test block when there is one."""
    title = (test_rows(n_items, people)[3] if people else total_row(n_items)) + 2
    return title, title + 1, title + 2
