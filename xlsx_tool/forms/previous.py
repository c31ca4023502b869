"""Last quarter's problems, read from the 扣分明细 sheet of the 评分汇总表 that `merge` wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xlsx_tool.reading.workbook import BookError, Limits, open_book
from xlsx_tool.plan import Plan
from xlsx_tool.outputs.summary import DETAIL_HEADERS, DETAIL_SHEET
from xlsx_tool.textnorm import norm_text


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
    sheet = book.sheet(DETAIL_SHEET)
    want = [norm_text(h) for h in DETAIL_HEADERS]
    header = None
    for r in range(10):
        row = [norm_text(str(sheet.get(r, c) or "")) for c in range(len(want))]
        if row == want:
            header = r
            break
    if header is None:
        raise PreviousError(f"{path} 的“{DETAIL_SHEET}”表头不是 {'、'.join(DETAIL_HEADERS)}")
    out = Previous(str(path))
    last = max((r for r, _c in sheet.cells), default=header)
    for r in range(header + 1, last + 1):
        name, _summary, seq, ded, reason = (sheet.get(r, c) for c in range(5))
        if not name:
            continue
        unit = plan.find_unit(str(name))
        if unit is None:
            if str(name) not in out.unknown:
                out.unknown.append(str(name))
            continue
        try:
            points = f"{Decimal(str(ded)).normalize():f}"
            seq_no = int(float(seq))
        except (InvalidOperation, ValueError, TypeError):
            raise PreviousError(f"{path} 的“{DETAIL_SHEET}”第{r + 1}行不完整（项目或扣分不是数字）") from None
        out.problems.setdefault(unit.name, []).append(f"第{seq_no}项扣{points}分：{reason or '（未写原因）'}")
    return out
