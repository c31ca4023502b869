"""Last quarter's problems, read from the 扣分明细 sheet of the 评分汇总表 that `merge` wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool.reading.workbook import BookError, Limits, open_book
from xlsx_tool.plan import Plan
from xlsx_tool.judging.summaries import DETAIL_HEADERS, DETAIL_SHEET, detail_rows


class PreviousError(Exception):
    pass


@dataclass
class Previous:
    source: str
    problems: dict[str, list[str]] = field(default_factory=dict)  # by unit name in the current plan
    unknown: list[str] = field(default_factory=list)  # units of last quarter not in this plan


def read_previous(path: str | Path, plan: Plan) -> Previous:
    path = Path(path)
    try:
        book = open_book(path.read_bytes(), path.suffix.lower(), Limits())
    except OSError as e:
        raise PreviousError(f"无法读取上季度汇总表 {path}：{e.strerror or e}") from None
    except BookError as e:
        raise PreviousError(f"上季度汇总表 {path} 无法读取：{e.why}") from None
    if DETAIL_SHEET not in book.sheet_names:
        raise PreviousError(f"{path} 中没有“{DETAIL_SHEET}”工作表：请使用 xlsx-tool merge 生成的评分汇总表")
    rows = detail_rows(book)
    if rows is None:
        raise PreviousError(f"{path} 的“{DETAIL_SHEET}”表头不是 {'、'.join(DETAIL_HEADERS)}")
    out = Previous(str(path))
    for row in rows:
        unit = plan.find_unit(row.unit)
        if unit is None:
            if row.unit not in out.unknown:
                out.unknown.append(row.unit)
            continue
        if row.seq is None or row.deduction is None:
            raise PreviousError(f"{path} 的“{DETAIL_SHEET}”第{row.row + 1}行不完整（项目或扣分不是数字）")
        out.problems.setdefault(unit.name, []).append(
            f"第{row.seq}项扣{row.deduction:f}分：{row.reason or '（未写原因）'}")
    return out
