"""`xlsx-tool demo`: the whole cycle on the embedded plan with simulated, seeded returns.

The returns contain the mistakes real offices make (text in number cells, a
missing reason, a wrong date, a renamed or re-sent file, a zip from Chinese
Windows, a lock file, a form of another quarter, missing units) so that a
newcomer sees every kind of output from one command.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import shutil
from decimal import Decimal
from pathlib import Path

from xlsx_tool.outputs.corrections import write_lists
from xlsx_tool.decimals import as_cell
from xlsx_tool.files import write_zip
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form
from xlsx_tool.forms.generate import form_filename, generate, summary_folder
from xlsx_tool.judging.merge import MergeResult, merge
from xlsx_tool.plan import Item, Plan
from xlsx_tool.outputs.report import write_reports
from xlsx_tool.outputs.summary import SUMMARY_FILE, write_summary

REASONS = ["7月未召开支委会", "台账资料不全", "未见会议记录", "活动无图片资料", "学习笔记不全", "未按时整改",
           "测试1人不及格", "未开展社区服务活动", "党费收缴台账不规范", "廉政教育无记录"]
SURNAMES = "王李张刘陈杨黄赵吴周彭向田龙石"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"]
HIGHLIGHTS = ["“主题党日+”形式新颖", "党建阵地建设规范", "学习台账详实", "结对帮扶成效明显", "红星云使用率高"]



def random_deduction(item: Item, rng: random.Random) -> Decimal:
    steps = int(item.limit / item.step)
    choices = [item.step * k for k in range(1, steps + 1)] + ([item.limit] if item.limit % item.step else [])
    return rng.choice(choices)


def simulated_entries(plan: Plan, rng: random.Random, harsh: float = 0.25) -> dict[str, FormEntries]:
    out = {}
    for unit in plan.units:
        s = plan.summary(unit.summary)
        days = (s.window[1] - s.window[0]).days
        e = FormEntries(date=s.window[0] + dt.timedelta(days=rng.randint(0, days)))
        for item in plan.rubric.items:
            ie = ItemEntry()
            if rng.random() < harsh:
                ie.deduction = as_cell(random_deduction(item, rng))
                ie.reason = rng.choice(REASONS)
            if rng.random() < 0.12:
                ie.highlight = rng.choice(HIGHLIGHTS)
            e.items[item.seq] = ie
        if plan.rules.test_item:
            e.test = [(f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}", rng.choice(range(50, 101, 5)))
                      for _ in range(plan.rules.test_people)]
        out[unit.name] = e
    return out


def run_demo(plan: Plan, directory: Path, seed: int = 2017) -> MergeResult:
    rng = random.Random(seed)
    directory = Path(directory)
    blank, collected, output = directory / "blank_forms", directory / "collected", directory / "output"
    generate(plan, blank)
    if collected.exists():
        shutil.rmtree(collected)
    collected.mkdir(parents=True)

    entries = simulated_entries(plan, rng)
    units = plan.units
    # mistakes, each on a different unit
    u = iter(units[3:])
    mistakes = {
        next(u).name: lambda e: setattr(e.items[5], "deduction", "1分") or setattr(e.items[5], "reason", "8月未开支委会"),
        next(u).name: lambda e: setattr(e.items[8], "deduction", 1.5) or setattr(e.items[8], "reason", ""),
        next(u).name: lambda e: setattr(e.items[1], "deduction", 1) or setattr(e.items[1], "reason", "部署不及时"),
        next(u).name: lambda e: setattr(e.items[13], "deduction", 3) or setattr(e.items[13], "reason", "未开展工作"),
        next(u).name: lambda e: setattr(e, "date", None),
        next(u).name: lambda e: setattr(e, "date", dt.date(2017, 11, 2)),
        next(u).name: lambda e: setattr(e.items[6], "reason", "=HYPERLINK(\"http://x\",\"点这里\")")
        or setattr(e.items[6], "deduction", 2),
    }
    for name, apply in mistakes.items():
        apply(entries[name])
    # one group where everyone scores high: breaks the one-third rule
    for unit in plan.summary_units[2].units:
        for item in plan.rubric.items:
            entries[unit.name].items[item.seq] = ItemEntry()
        entries[unit.name].items[3] = ItemEntry(deduction=1, reason="1项问题未整改")
        entries[unit.name].test = [(name, max(60, score)) for name, score in entries[unit.name].test]

    missing = {units[10].name, units[40].name, units[77].name}
    silent_summary = plan.summary_units[-1].name  # no return at all from this committee
    base = dt.datetime(2017, 11, 1, 9, 0).timestamp()
    zipped_group = plan.summary_units[1]
    zip_members = []
    for i, unit in enumerate(units):
        if unit.name in missing or unit.summary == silent_summary:
            continue
        data = build_form(plan, unit, entries[unit.name])
        if unit.summary == zipped_group.name:
            zip_members.append((f"{unit.name}评分表.xlsx", data))
            continue
        folder = collected / summary_folder(plan, unit.summary)
        folder.mkdir(exist_ok=True)
        name = f"{unit.name}评分表(1).xlsx" if i % 7 == 0 else form_filename(unit)
        path = folder / name
        path.write_bytes(data)
        os.utime(path, (base + i * 60, base + i * 60))
    write_zip(collected / f"{zipped_group.name}交回.zip", zip_members)

    # the same file sent twice; an early faulty return later replaced by a fixed one
    first = units[0]
    f0 = collected / summary_folder(plan, first.summary)
    src = next(f0.glob(f"{first.name}*.xlsx"))
    shutil.copyfile(src, f0 / f"转发-{src.name}")
    second = units[1]
    faulty = dataclasses.replace(entries[second.name], items=dict(entries[second.name].items))
    faulty.items[2] = ItemEntry(deduction="两分", reason="支部作用发挥不够")
    old = f0 / f"{second.name}（初稿）.xlsx"
    old.write_bytes(build_form(plan, second, faulty))
    os.utime(old, (base - 86400, base - 86400))
    # debris of real folders
    (f0 / f"~${first.name}-评分细则.xlsx").write_bytes(b"\x00" * 165)
    (collected / "Thumbs.db").write_bytes(b"\x00" * 64)
    (collected / "核查报告（第一核查组）.docx").write_bytes(b"PK\x03\x04 not really a document")
    # a form of last quarter, by mistake
    q2 = dataclasses.replace(plan, id=plan.id.replace("2017q3", "2017q2"), period="2017年第二季度")
    q2._exact.update(plan._exact)
    (collected / f"{units[5].name}（二季度）.xlsx").write_bytes(build_form(q2, units[5], entries[units[5].name]))
    # a score formula overwritten by a number, saved by another program
    _overwrite_score(next((collected / summary_folder(plan, units[2].summary)).glob(f"{units[2].name}*.xlsx")), plan)

    result = merge(plan, collected, today=plan.deadline - dt.timedelta(days=1))
    output.mkdir(parents=True, exist_ok=True)
    write_summary(result, output / SUMMARY_FILE)
    write_lists(result, output)
    write_reports(result, output)
    return result


def _overwrite_score(path: Path, plan: Plan) -> None:
    """Item 3's 得分 typed over its formula, and saved by another program (openpyxl keeps no cached values)."""
    import openpyxl

    from xlsx_tool.forms import layout as L

    row = L.item_row(next(i for i, it in enumerate(plan.rubric.items) if it.seq == 3))
    wb = openpyxl.load_workbook(path)
    wb[L.FORM_SHEET][L.a1(row, L.COL_SCORE)] = 10
    wb.save(path)
