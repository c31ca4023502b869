"""The returns the statistics and report tests share: typed values and an independent computation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form
from xlsx_tool.forms.generate import form_filename
from xlsx_tool.plan import summary_folder

MERGED_ON = dt.date(2017, 11, 6)
CAP = Decimal(98)
D = lambda x: Decimal(str(x))  # noqa: E731

# unit -> (date, {seq: (deduction, reason, highlight)})
RETURNS: dict[str, tuple[dt.date | None, dict[int, tuple]]] = {
    # 第一核查组: 8 of 10 returned (州委宣传部, 州人社局 missing); five at 95 or more, quota 3
    "州纪委监察局": (dt.date(2017, 10, 23), {15: (0, "", "廉政教育常态化")}),
    "州委组织部": (dt.date(2017, 10, 23), {5: (1, "支委会记录不全", ""), 8: (0.5, "学习记录缺1次", ""),
                                       4: (0, "", "主题党日与脱贫攻坚结合")}),
    "州委统战部": (dt.date(2017, 10, 23), {4: (2, "未开展主题党日", ""), 5: (2, "党小组会缺2次", "")}),
    "州委政法委": (dt.date(2017, 10, 24), {3: (3, "整改缺3项", ""), 9: (1.5, "", "")}),
    "州政府办": (dt.date(2017, 10, 24), {5: (1, "党员大会未开", ""), 10: (2, "未结对帮扶", "")}),
    "州发改委": (dt.date(2017, 10, 24), {5: (2, "支委会缺2次", "")}),
    "州经信委": (None, {1: (2, "未定期研究部署", ""), 2: (2, "支部作用发挥不够", ""), 5: (1, "缺1次", "")}),
    "州国土资源局": (dt.date(2017, 10, 24), {5: (3, "三会一课缺3次", "")}),
    # 州委办直属机关党委: all 4 returned, one at 95 or more (quota 1)
    "州委政策研究室": (dt.date(2017, 10, 26), {3: (8, "整改缺8项", "")}),
    "州接待处": (dt.date(2017, 10, 26), {3: (6, "整改缺6项", "")}),
    "州档案局": (dt.date(2017, 10, 27), {3: (4, "整改缺4项", "")}),
    "州委党史研究室": (dt.date(2017, 10, 27), {5: (3, "三会一课缺3次", ""), 12: (0, "", "")}),
}


def expected_score(plan, typed: dict[int, tuple]) -> Decimal:
    items = [max(Decimal(0), D(it.max) - D(typed.get(it.seq, (0,))[0])) for it in plan.rubric.items]
    return min(CAP, sum(items, Decimal(0)))


def lost(plan, typed: dict[int, tuple], seq: int) -> Decimal:
    it = next(i for i in plan.rubric.items if i.seq == seq)
    return min(D(it.max), D(typed.get(seq, (0,))[0]))


def merged_returns(plan, folder: Path):
    """RETURNS written as forms into folder and merged, every one counted."""
    from xlsx_tool.judging.merge import merge

    write_returns(plan, folder, RETURNS)
    result = merge(plan, folder, today=MERGED_ON)
    assert result.received == len(RETURNS)
    return result


def write_returns(plan, folder: Path, returns: dict) -> None:
    for name, (date, typed) in returns.items():
        unit = plan.unit(name)
        items = {seq: ItemEntry(highlight=h, reason=r, deduction=d if d else None) for seq, (d, r, h) in typed.items()}
        target = folder / summary_folder(plan, unit.summary) / form_filename(unit)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(build_form(plan, unit, FormEntries(date, items)))
